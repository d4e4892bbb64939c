import pytest

from bot.parsing import applicants, countries, fold, language_names, parse_budget, themes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We are a small municipality", "municipality"),
        ("actually we are an NGO", "ngo"),
        ("Mi smo udruga iz Splita", "ngo"),
        ("prijavljuje se Općina Vrbovec", "municipality"),
        ("OPCINE", "municipality"),
        ("we're a group of citizens", "citizens_group"),
        ("Zagrebačka županija", "regional_authority"),
        ("the weather is nice", None),
    ],
)
def test_applicant_types(text: str, expected: str | None) -> None:
    assert applicants().find(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from Croatia", "HR"),
        ("iz Hrvatske", "HR"),
        ("we are in North Macedonia", "MK"),
        ("Sjeverna Makedonija", "MK"),
        ("a German city", "DE"),
        ("u Bosni i Hercegovini", "BA"),
        ("nowhere", None),
    ],
)
def test_countries(text: str, expected: str | None) -> None:
    assert countries().find(text) == expected


def test_themes_in_order_without_duplicates() -> None:
    assert themes().find_all("a cycling path and bike parking for climate") == [
        "mobility",
        "climate",
    ]
    assert themes().find_all("participativni proračun i klimatske promjene") == [
        "civic_participation",
        "climate",
    ]


def test_labels_fall_back_to_english() -> None:
    assert applicants().label("ngo", "hr") == "udruge i organizacije civilnog društva"
    assert applicants().label("ngo", "xx") == "NGOs and civil society organisations"
    assert countries().label("HR", "hr") == "Hrvatska"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("speak German", "de"),
        ("možeš li na engleskom", "en"),
        ("auf Deutsch bitte", "de"),
        ("en français", "fr"),
    ],
)
def test_language_names(text: str, expected: str) -> None:
    assert language_names().find(text) == expected


@pytest.mark.parametrize(
    ("text", "bare", "expected"),
    [
        ("about 50,000 EUR", False, 50_000),
        ("€ 40.000", False, 40_000),
        ("120 000 eura", False, 120_000),
        ("2 milijuna eura", False, 2_000_000),
        ("1.5 million euros", False, 1_500_000),
        ("50k", False, 50_000),
        ("50 mil euros", False, 50_000),
        ("1.234.567,89 €", False, 1_234_567.89),
        ("75000", True, 75_000),
        ("75000", False, None),  # a bare number is a budget only when asked for one
        ("we work with 50 European cities", False, None),
        ("no budget yet", True, None),
    ],
)
def test_budget(text: str, bare: bool, expected: float | None) -> None:
    assert parse_budget(text, bare_number_ok=bare) == expected


def test_fold_strips_accents_and_case() -> None:
    assert fold("Općina ĐAKOVO") == "opcina dakovo"
