"""Per-language analysis: the same terms on the index and the query side."""

import Stemmer

from knowledge.languages import EU_LANGUAGES
from knowledge.text import STEMMER_ALGORITHMS, analyze, analyze_any, fold, stopwords, words


def test_every_configured_algorithm_exists_in_pystemmer() -> None:
    assert set(STEMMER_ALGORITHMS) <= set(EU_LANGUAGES)
    assert set(STEMMER_ALGORITHMS.values()) <= set(Stemmer.algorithms())


def test_inflected_forms_meet_in_croatian() -> None:
    assert analyze("proračuna", "hr") == analyze("proračun", "hr") == ["proracun"]
    assert analyze("građana", "hr") == analyze("građani", "hr")
    assert analyze("programa", "hr") == analyze("programima", "hr")


def test_german_and_english_plurals_meet() -> None:
    assert analyze("Städtepartnerschaften", "de") == analyze("Städtepartnerschaft", "de")
    assert analyze("municipalities", "en") == analyze("municipality", "en")


def test_diacritics_are_folded_after_stemming() -> None:
    assert analyze("proracun", "hr") == analyze("proračun", "hr")
    assert analyze("Łódź", "pl") == ["lodz"]
    assert fold("đ ł ß") == "d l ss"


def test_stop_words_and_one_letter_words_are_dropped_but_digits_kept() -> None:
    assert analyze("Which programme is the best for a town in 2026?", "en") == [
        "programm",
        "best",
        "town",
        "2026",
    ]
    assert analyze("Koji je grad u Istri to dobio?", "hr") == ["grad", "istr", "dobi"]


def test_short_words_are_not_stemmed_so_acronyms_survive() -> None:
    # The Serbian stemmer would turn "EU" into "e" (locative -u).
    assert analyze("EU-a", "hr") == ["eu"]
    assert "eu" in analyze("programi EU", "hr")


def test_hyphens_and_apostrophes_split_words() -> None:
    assert words("co-financing l'Union citizens'") == ["co", "financing", "l", "union", "citizens"]


def test_languages_without_a_stemmer_are_truncated() -> None:
    assert "sl" not in STEMMER_ALGORITHMS
    assert analyze("Participativni proračun", "sl") == ["parti", "prora"]
    assert analyze("pobude", "sl") == analyze("pobuda", "sl") == ["pobud"]
    assert analyze("EU mesto", "sl") == ["eu", "mesto"]


def test_unknown_language_uses_the_union_of_stems_and_drops_every_stop_word() -> None:
    terms = analyze_any("the participatory budgets of Lisbon")
    assert "the" not in terms and "of" not in terms
    assert set(analyze("participatory budgets", "en")) <= set(terms)
    assert len(terms) == len(set(terms))


def test_stopwords_include_folded_forms() -> None:
    assert {"što", "sto"} <= stopwords("hr")
    assert stopwords("mt") == frozenset()


def test_snippet_sentences_do_not_split_at_ordinal_numbers() -> None:
    from knowledge.search import _sentences

    text = "Program (2014.–2020.) financirao je projekte. Nije na snazi od 31. prosinca 2020."
    assert _sentences(text) == [
        "Program (2014.–2020.) financirao je projekte.",
        "Nije na snazi od 31. prosinca 2020.",
    ]
