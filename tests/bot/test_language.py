import pytest

from bot.language import LanguageHints, decide_language, detect_by_markers, normalise_code
from bot.settings import BotSettings

SETTINGS = BotSettings()


def fixed(lang: str, prob: float):
    """A detector that always answers the same (for threshold tests)."""
    return lambda _text: [(lang, prob)]


@pytest.mark.parametrize(
    ("text", "hints", "expected"),
    [
        ("hello", LanguageHints(), "en"),
        ("bok", LanguageHints(), "hr"),
        ("bok", LanguageHints(previous="en"), "hr"),
        ("Dobar dan", LanguageHints(), "hr"),
        ("danke", LanguageHints(previous="en"), "de"),
        ("merci", LanguageHints(previous="hr"), "fr"),
        # Explicit choice beats everything.
        ("bok", LanguageHints(explicit="de"), "de"),
        ("hello", LanguageHints(explicit="HR-hr"), "hr"),
        # No evidence in the text: previous language, then channel hint, then English.
        ("ok", LanguageHints(previous="hr"), "hr"),
        ("12345", LanguageHints(previous="de"), "de"),
        ("👍👍", LanguageHints(channel="hr-HR"), "hr"),
        ("👍👍", LanguageHints(channel="pt_BR"), "pt"),
        ("👍👍", LanguageHints(channel="ja"), "en"),
        ("Ana Horvat", LanguageHints(previous="pl"), "pl"),
        ("", LanguageHints(), "en"),
        # Unknown explicit codes are ignored, not trusted.
        ("bok", LanguageHints(explicit="xx"), "hr"),
        # Ambiguous between Croatian and Slovenian: keep the conversation's language.
        ("zdravo", LanguageHints(previous="sl"), "sl"),
        ("hvala", LanguageHints(previous="hr"), "hr"),
        # A short Slovenian word does not flip a Croatian conversation...
        ("nasvidenje", LanguageHints(previous="hr"), "hr"),
        # ...but does start a Slovenian one.
        ("nasvidenje", LanguageHints(), "sl"),
    ],
)
def test_decide_language_table(text: str, hints: LanguageHints, expected: str) -> None:
    assert decide_language(text, hints, SETTINGS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Welche EU-Förderprogramme gibt es für Städtepartnerschaften in Deutschland?", "de"),
        ("Quels programmes européens financent la participation citoyenne dans les villes?", "fr"),
        ("Koji EU programi financiraju sudjelovanje građana u našem gradu?", "hr"),
        ("Jakie programy unijne finansują budżet obywatelski w miastach?", "pl"),
        ("Which EU programmes fund citizens' participation in our city?", "en"),
    ],
)
def test_long_texts_are_detected_statistically(text: str, expected: str) -> None:
    assert decide_language(text, LanguageHints(previous="en"), SETTINGS) == expected


def test_low_detector_probability_is_not_trusted() -> None:
    text = "this sentence is long enough to be detected"
    unsure = fixed("de", 0.5)
    assert decide_language(text, LanguageHints(previous="it"), SETTINGS, unsure) == "it"


def test_confident_detector_wins_over_previous() -> None:
    text = "this sentence is long enough to be detected"
    sure = fixed("de", 0.99)
    assert decide_language(text, LanguageHints(previous="it"), SETTINGS, sure) == "de"


def test_related_language_guard_applies_to_short_detected_texts() -> None:
    text = "Kje lahko oddam predlog?"  # 4 words: too short to switch hr -> sl
    sure_sl = fixed("sl", 0.99)
    assert decide_language(text, LanguageHints(previous="hr"), SETTINGS, sure_sl) == "hr"
    longer = "Kje lahko oddam predlog za proračun naše občine letos?"
    assert decide_language(longer, LanguageHints(previous="hr"), SETTINGS, sure_sl) == "sl"


def test_detector_answer_outside_eu_languages_is_ignored() -> None:
    text = "this sentence is long enough to be detected"
    assert decide_language(text, LanguageHints(previous="fi"), SETTINGS, fixed("ru", 0.99)) == "fi"


def test_markers_need_a_unique_winner() -> None:
    markers = {"hr": frozenset({"bok", "hvala"}), "sl": frozenset({"hvala", "živjo"})}
    assert detect_by_markers(["hvala"], markers) is None
    assert detect_by_markers(["bok", "hvala"], markers) == "hr"
    assert detect_by_markers(["zivjo"], markers) is None  # accent-free forms come from the loader


@pytest.mark.parametrize(
    ("code", "expected"),
    [("hr", "hr"), ("HR", "hr"), ("hr-HR", "hr"), ("en_GB", "en"), ("sr", None), ("", None)],
)
def test_normalise_code(code: str, expected: str | None) -> None:
    assert normalise_code(code) == expected


def test_marker_tie_is_broken_by_the_detector() -> None:
    # "kada" is a marker of Croatian and Lithuanian; the detector prefers hr here.
    unsure = lambda _text: [("sl", 0.57), ("hr", 0.43)]  # noqa: E731
    text = "Kada je rok za Mreže gradova?"
    assert decide_language(text, LanguageHints(), SETTINGS, unsure) == "hr"


def test_marker_tie_without_detector_evidence_stays_unknown() -> None:
    nothing = lambda _text: []  # noqa: E731
    assert decide_language("hvala", LanguageHints(previous="it"), SETTINGS, nothing) == "it"


def test_irish_and_maltese_questions_are_not_read_as_portuguese_or_italian() -> None:
    """langdetect knows neither language and names pt/it with confidence: markers win."""
    assert decide_language("Cén clár AE a mhaoiníonn nascadh bailte?", LanguageHints()) == "ga"
    assert (
        decide_language("Liema programm tal-UE jiffinanzja l-ġemellaġġ tal-bliet?", LanguageHints())
        == "mt"
    )
    assert (
        decide_language("Quale programma finanzia il gemellaggio delle città?", LanguageHints())
        == "it"
    )


def test_one_shared_word_does_not_make_a_message_maltese() -> None:
    """'programm' is German, Estonian and Maltese: one marker word is not enough."""
    assert (
        decide_language("Welches Programm fördert Städtepartnerschaften?", LanguageHints()) == "de"
    )
    assert (
        decide_language("Kas programm toetab kodanike osalust meie linnas?", LanguageHints())
        == "et"
    )
    assert decide_language("Kateri program EU financira pobratenje mest?", LanguageHints()) == "sl"
