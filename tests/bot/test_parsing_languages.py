# ruff: noqa: E501  (a table of sentences, one language a row)
"""Finder answers are read in all 24 official EU languages (bot/lexicon)."""

import pytest
import yaml

from bot.parsing import (
    LEXICON_DIR,
    applicants,
    countries,
    parse_budget,
    short_answer,
    themes,
)

# language: (a city in Croatia with a climate project, an NGO on culture, "don't know",
#            yes, no)
SENTENCES: dict[str, tuple[str, str, str, str, str]] = {
    "bg": ("Ние сме град в Хърватия, проект за климата", "Ние сме НПО, работим за култура",
           "не знам", "да", "не"),
    "cs": ("Jsme město v Chorvatsku, projekt na ochranu klimatu", "Jsme spolek, děláme kulturu",
           "nevím", "ano", "ne"),
    "da": ("Vi er en kommune i Kroatien med et klimaprojekt", "Vi er en forening inden for kultur",
           "ved ikke", "ja", "nej"),
    "de": ("Wir sind eine Stadt in Kroatien, Projekt zum Klimaschutz", "Wir sind ein Verein für Kultur",
           "weiß nicht", "ja", "nein"),
    "el": ("Είμαστε δήμος στην Κροατία, έργο για το κλίμα", "Είμαστε ΜΚΟ για τον πολιτισμό",
           "δεν ξέρω", "ναι", "όχι"),
    "en": ("We are a city in Croatia, a climate project", "We are an NGO working on culture",
           "I don't know", "yes", "no"),
    "es": ("Somos un ayuntamiento en Croacia, proyecto sobre el clima", "Somos una ONG de cultura",
           "no lo sé", "sí", "no"),
    "et": ("Oleme linn Horvaatias, kliimaprojekt", "Oleme vabaühendus, kultuur",
           "ei tea", "jah", "ei"),
    "fi": ("Olemme kaupunki Kroatiassa, ilmastohanke", "Olemme yhdistys, kulttuuri",
           "en tiedä", "kyllä", "ei"),
    "fr": ("Nous sommes une ville en Croatie, projet pour le climat", "Nous sommes une association culturelle",
           "je ne sais pas", "oui", "non"),
    "ga": ("Is cathair sa Chróit muid, tionscadal aeráide", "Is cumann muid, cultúr",
           "níl a fhios agam", "tá", "níl"),
    "hr": ("Mi smo grad u Hrvatskoj, projekt za klimu", "Mi smo udruga, bavimo se kulturom",
           "ne znam", "da", "ne"),
    "hu": ("Egy város vagyunk Horvátországban, klímaprojekt", "Civil szervezet vagyunk, kultúra",
           "nem tudom", "igen", "nem"),
    "it": ("Siamo un comune in Croazia, progetto sul clima", "Siamo un'associazione culturale",
           "non lo so", "sì", "no"),
    "lt": ("Esame miestas Kroatijoje, klimato projektas", "Esame asociacija, kultūra",
           "nežinau", "taip", "ne"),
    "lv": ("Mēs esam pilsēta Horvātijā, klimata projekts", "Mēs esam biedrība, kultūra",
           "nezinu", "jā", "nē"),
    "mt": ("Aħna belt fil-Kroazja, proġett dwar il-klima", "Aħna għaqda tal-kultura",
           "ma nafx", "iva", "le"),
    "nl": ("Wij zijn een gemeente in Kroatië, klimaatproject", "Wij zijn een vereniging voor cultuur",
           "weet niet", "ja", "nee"),
    "pl": ("Jesteśmy miastem w Chorwacji, projekt klimatyczny", "Jesteśmy stowarzyszeniem kulturalnym",
           "nie wiem", "tak", "nie"),
    "pt": ("Somos uma câmara municipal na Croácia, projeto sobre o clima", "Somos uma associação cultural",
           "não sei", "sim", "não"),
    "ro": ("Suntem un oraș din Croația, proiect pentru climă", "Suntem o asociație culturală",
           "nu știu", "da", "nu"),
    "sk": ("Sme mesto v Chorvátsku, projekt na ochranu klímy", "Sme občianske združenie, kultúra",
           "neviem", "áno", "nie"),
    "sl": ("Smo občina na Hrvaškem, projekt za podnebje in klimo", "Smo društvo, kultura",
           "ne vem", "ja", "ne"),
    "sv": ("Vi är en kommun i Kroatien, klimatprojekt", "Vi är en förening inom kultur",
           "vet inte", "ja", "nej"),
}  # fmt: skip


def test_every_official_language_is_covered() -> None:
    assert len(SENTENCES) == 24


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_a_city_in_croatia_with_a_climate_project(language: str) -> None:
    city = SENTENCES[language][0]
    assert applicants().find(city) == "municipality"
    assert countries().find(city) == "HR"
    assert "climate" in themes().find_all(city)


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_an_ngo_on_culture(language: str) -> None:
    ngo = SENTENCES[language][1]
    assert applicants().find(ngo) == "ngo"
    assert "culture" in themes().find_all(ngo)


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_dont_know_yes_and_no(language: str) -> None:
    _, _, unknown, yes, no = SENTENCES[language]
    assert short_answer(unknown) == "unknown"
    assert short_answer(yes) == "yes"
    assert short_answer(no) == "no"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300000", 300_000),
        ("300.000", 300_000),
        ("300 000", 300_000),
        ("300k", 300_000),
        ("300 tisuća", 300_000),
        ("0,3 mil", 300_000),
        ("300 000 €", 300_000),
        ("1,2 milijuna eura", 1_200_000),
        ("300 Tausend Euro", 300_000),
        ("300 tys. zł", 300_000),
        ("300 tisíc EUR", 300_000),
        ("300 ezer euró", 300_000),
        ("300 tuhatta euroa", 300_000),
        ("300 tūkst. eurų", 300_000),
        ("0,3 miljoner euro", 300_000),
        ("1,5 millió", 1_500_000),
        ("2 milioane euro", 2_000_000),
        ("300 хиляди евро", 300_000),
        ("300 χιλιάδες ευρώ", 300_000),
        ("50 mil euros", 50_000),
    ],
)
def test_budgets_as_people_write_them(text: str, expected: float) -> None:
    assert parse_budget(text, bare_number_ok=True) == expected


@pytest.mark.parametrize("text", ["300000", "300.000", "300 000", "1 500 000"])
def test_large_bare_numbers_count_out_of_turn(text: str) -> None:
    assert parse_budget(text) is None
    assert parse_budget(text, bare_large_ok=True) is not None


@pytest.mark.parametrize("text", ["2026", "in 2027", "50", "we work with 50 European cities"])
def test_years_and_small_numbers_do_not(text: str) -> None:
    assert parse_budget(text, bare_large_ok=True) is None


def test_no_idea_is_unknown_not_no() -> None:
    assert short_answer("no idea") == "unknown"
    assert short_answer("ne znam") == "unknown"
    assert short_answer("on climate") is None


@pytest.mark.parametrize(("name", "lexicon"), [("applicants", applicants), ("themes", themes)])
def test_every_label_reads_back_as_its_own_key(name: str, lexicon) -> None:
    """What a button or a reply shows, typed back, means the same (no collisions)."""
    raw = yaml.safe_load((LEXICON_DIR / f"{name}.yml").read_text("utf-8"))
    wrong = [
        (key, lang, text)
        for key, entry in raw.items()
        for lang, text in entry["label"].items()
        if lexicon().find(text) != key
    ]
    assert wrong == []


def test_every_country_name_reads_back_as_its_country() -> None:
    raw = yaml.safe_load((LEXICON_DIR / "countries.yml").read_text("utf-8"))
    wrong = [
        (code, lang, names[0])
        for code, by_language in raw.items()
        for lang, names in by_language.items()
        if names and countries().find(str(names[0]).rstrip("*")) != code
    ]
    assert wrong == []


def test_maltese_articles_do_not_hide_the_noun() -> None:
    text = "Aħna għaqda fil-Kroazja, proġett dwar il-klima u t-trasport"
    assert countries().find(text) == "HR"
    assert themes().find_all(text) == ["climate", "mobility"]
