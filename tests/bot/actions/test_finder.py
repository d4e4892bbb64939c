"""The funding finder listens: every message fills what it can, the form asks only
what is missing, skips stick, questions do not fill slots, corrections re-rank."""

import asyncio
import datetime as dt
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.narrow_down import ActionNarrowDown
from bot.actions.recommend_funding import ActionRecommendFunding
from bot.actions.restart_finder import ActionRestartFinder
from bot.actions.validate_funding_form import ValidateFundingForm, questions_asked
from bot.actions.validate_slot_mappings import ValidateSlotMappings
from bot.kb_access import get_knowledge_base
from bot.rendering import render
from tests.bot.actions.conftest import make_tracker

REAL_DAY = dt.date(2026, 12, 7)
ACTIVATED = {"event": "active_loop", "name": "funding_form"}


def asked(slot: str) -> dict[str, Any]:
    return {"event": "slot", "name": "requested_slot", "value": slot}


def extract_all(tracker, domain) -> dict[str, Any]:
    """What action_validate_slot_mappings sets for the finder from one message."""
    action = ValidateSlotMappings()
    found: dict[str, Any] = {}
    for slot in ("applicant_type", "country", "themes", "budget", "cross_border"):
        method = getattr(action, f"extract_{slot}")
        found.update(asyncio.run(method(CollectingDispatcher(), tracker, domain)))
    found.update(
        asyncio.run(action.extract_finder_skipped(CollectingDispatcher(), tracker, domain))
    )
    return found


@pytest.fixture(scope="module")
def real_kb():
    return get_knowledge_base()


def required(tracker, domain, kb) -> list[str]:
    form = ValidateFundingForm(kb=kb, clock=lambda: REAL_DAY)
    return asyncio.run(form.required_slots([], CollectingDispatcher(), tracker, domain))


def next_question(tracker, domain, kb) -> list[dict[str, Any]]:
    form = ValidateFundingForm(kb=kb, clock=lambda: REAL_DAY)
    return asyncio.run(form.run(CollectingDispatcher(), tracker, domain))


# --------------------------------------------------------------- filling slots


def test_a_rich_first_message_fills_everything_it_says(domain) -> None:
    tracker = make_tracker("we are a city in Croatia, 300,000 EUR, climate", "start_finder")
    assert extract_all(tracker, domain) == {
        "applicant_type": "municipality",
        "country": "HR",
        "themes": ["climate"],
        "budget": 300_000,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300000", 300_000),
        ("300.000", 300_000),
        ("300 000", 300_000),
        ("300k", 300_000),
        ("300 tisuća", 300_000),
        ("0,3 mil", 300_000),
    ],
)
def test_an_out_of_turn_budget_is_kept(domain, text: str, expected: float) -> None:
    tracker = make_tracker(text, "inform", slots={"requested_slot": "themes"})
    assert extract_all(tracker, domain) == {"budget": expected}


def test_themes_given_while_the_budget_is_asked_are_kept(domain) -> None:
    # The classifier took it for chitchat: inside the finder it is still an answer.
    tracker = make_tracker(
        "Tema je održivi promet i klima", "chitchat", slots={"requested_slot": "budget"}
    )
    assert extract_all(tracker, domain) == {"themes": ["mobility", "climate"]}


def test_no_to_an_open_question_skips_it(domain) -> None:
    tracker = make_tracker("no", "deny", slots={"requested_slot": "themes"})
    assert extract_all(tracker, domain) == {"finder_skipped": ["themes"]}


@pytest.mark.parametrize(
    "text", ["I don't know", "ne znam", "weiß ich nicht", "skip", "nie wiem", "nem tudom"]
)
def test_dont_know_skips_the_asked_question_once_and_for_all(domain, text: str) -> None:
    tracker = make_tracker(
        text, "nlu_fallback", slots={"requested_slot": "budget", "finder_skipped": ["country"]}
    )
    assert extract_all(tracker, domain) == {"finder_skipped": ["budget", "country"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", True), ("ja", True), ("kyllä", True), ("nie", False), ("nej", False), ("ne", False)],
)
def test_partners_yes_no_in_any_language(domain, text: str, expected: bool) -> None:
    # Whatever intent the classifier gives a short word of a language it was not trained on.
    tracker = make_tracker(text, "nlu_fallback", slots={"requested_slot": "cross_border"})
    assert extract_all(tracker, domain) == {"cross_border": expected}


def test_a_correction_at_any_time_replaces_the_answer(domain) -> None:
    tracker = make_tracker(
        "actually we're an NGO",
        "inform",
        slots={"requested_slot": "budget", "applicant_type": "municipality"},
    )
    assert extract_all(tracker, domain) == {"applicant_type": "ngo"}


def test_partners_country_is_not_the_applicants(domain) -> None:
    tracker = make_tracker(
        "cross-border with partners from Slovenia",
        "inform",
        slots={"requested_slot": "cross_border", "country": "HR"},
    )
    found = extract_all(tracker, domain)
    assert found["cross_border"] is True
    assert "country" not in found


def test_where_we_are_from_answers_the_country_inside_the_finder(domain) -> None:
    tracker = make_tracker("mi smo iz Hrvatske", "set_city", slots={"requested_slot": "country"})
    assert extract_all(tracker, domain) == {"country": "HR"}


def test_a_side_question_fills_nothing_and_is_answered(domain) -> None:
    tracker = make_tracker(
        "which programme funds town twinning in Croatia?",
        "find_funding",
        slots={"requested_slot": "themes"},
    )
    assert extract_all(tracker, domain) == {}


def test_an_old_button_payload_is_an_answer_not_words(domain) -> None:
    tracker = make_tracker(
        '/inform{"applicant_type": "ngo"}',
        "inform",
        slots={"requested_slot": "budget", "applicant_type": "municipality"},
        entities=[{"entity": "applicant_type", "value": "ngo"}],
    )
    assert extract_all(tracker, domain) == {"applicant_type": "ngo"}


def test_language_switch_in_the_middle_of_the_finder(domain) -> None:
    tracker = make_tracker(
        "Wir sind eine Gemeinde in Österreich und arbeiten zum Klimaschutz",
        "inform",
        slots={"requested_slot": "applicant_type", "language": "hr"},
    )
    action = ValidateSlotMappings()
    language = asyncio.run(action.extract_language(CollectingDispatcher(), tracker, domain))
    assert language == {"language": "de"}
    assert extract_all(tracker, domain) == {
        "applicant_type": "municipality",
        "country": "AT",
        "themes": ["climate"],
    }


# --------------------------------------------------------------- what is asked


def test_questions_asked_count_since_the_form_started() -> None:
    events = [asked("themes"), ACTIVATED, asked("country"), asked("country"), asked("budget")]
    assert questions_asked(events) == ["country", "budget"]


def test_rich_start_shows_results_after_at_most_two_questions(domain, real_kb) -> None:
    slots = {"applicant_type": "municipality", "country": "HR", "themes": ["climate"]}
    first = make_tracker("we are a city in Croatia working on climate", "start_finder", slots)
    assert next_question(first, domain, real_kb)[-1] == SlotSet("requested_slot", "budget")
    # Interreg programmes covering Croatia fund climate projects with partners abroad, so
    # the answer changes the top places: the second and last question.
    answered = make_tracker(
        "300000",
        "inform",
        {**slots, "budget": 300_000.0, "requested_slot": "budget"},
        events=[ACTIVATED, asked("budget")],
    )
    assert next_question(answered, domain, real_kb)[-1] == SlotSet("requested_slot", "cross_border")
    both = make_tracker(
        "no",
        "deny",
        {**slots, "budget": 300_000.0, "cross_border": False, "requested_slot": "cross_border"},
        events=[ACTIVATED, asked("budget"), asked("cross_border")],
    )
    assert next_question(both, domain, real_kb)[-1] == SlotSet("requested_slot", None)


def test_partners_are_asked_only_when_they_change_the_ranking(domain, real_kb) -> None:
    slots = {
        "applicant_type": "municipality",
        "country": "HR",
        "themes": ["civic_participation"],
        "budget": 40_000.0,
    }
    tracker = make_tracker("40000", "inform", slots, events=[ACTIVATED, asked("budget")])
    assert "cross_border" in required(tracker, domain, real_kb)
    assert next_question(tracker, domain, real_kb)[-1] == SlotSet("requested_slot", "cross_border")


def test_sparse_start_asks_the_core_then_shows_results(domain, real_kb) -> None:
    slots = {"applicant_type": "ngo", "country": "SI", "themes": ["culture"]}
    events = [ACTIVATED, asked("applicant_type"), asked("country"), asked("themes")]
    tracker = make_tracker(
        "culture", "inform", {**slots, "requested_slot": "themes"}, events=events
    )
    assert required(tracker, domain, real_kb) == ["applicant_type", "country", "themes"]
    assert next_question(tracker, domain, real_kb)[-1] == SlotSet("requested_slot", None)


def test_only_missing_slots_are_asked_and_skips_never_again(domain, real_kb) -> None:
    tracker = make_tracker(
        "ne znam",
        "nlu_fallback",
        {"applicant_type": "municipality", "finder_skipped": ["country"]},
        events=[ACTIVATED, asked("country")],
    )
    assert next_question(tracker, domain, real_kb)[-1] == SlotSet("requested_slot", "themes")


# --------------------------------------------------------------- results and restarts


def test_a_correction_after_the_results_changes_the_ranking(domain, real_kb) -> None:
    action = ActionRecommendFunding(kb=real_kb, clock=lambda: REAL_DAY)
    slots = {"applicant_type": "municipality", "country": "HR", "themes": ["climate"]}
    city, ngo = CollectingDispatcher(), CollectingDispatcher()
    asyncio.run(action.run(city, make_tracker("", "inform", slots), domain))
    corrected = {**slots, "applicant_type": "ngo"}
    asyncio.run(action.run(ngo, make_tracker("actually we're an NGO", "inform", corrected), domain))

    def ranked(dispatcher: CollectingDispatcher) -> list[str]:
        return [m["custom"]["records"][0] for m in dispatcher.messages if m.get("custom")]

    assert ranked(city) != ranked(ngo)
    assert ranked(city)[0] == "cities-mission"


@pytest.mark.parametrize("language", ["en", "hr", "de", "fi", "el", "mt"])
def test_real_result_cards_fit_a_phone_in_every_language(domain, real_kb, language) -> None:
    action = ActionRecommendFunding(kb=real_kb, clock=lambda: REAL_DAY)
    slots = {
        "applicant_type": "municipality",
        "country": "HR",
        "themes": ["climate", "mobility"],
        "budget": 300_000.0,
        "language": language,
    }
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, make_tracker("", "inform", slots), domain))
    cards = [m["card"] for m in dispatcher.messages if m.get("card")]
    assert len(cards) == 3
    notes = [n for p in real_kb.programmes.values() for n in p.uncertain]
    for card in cards:
        assert len(card) <= 600
        assert card.splitlines()[0].startswith("1. **") or "**" in card.splitlines()[0]
        assert "http" not in card
        assert not any(note in card for note in notes)
        if language != "en":
            assert render(domain, "utter_frag_card_other_language", "en") not in card


def test_narrow_down_asks_the_themes_again(domain) -> None:
    tracker = make_tracker(
        "/narrow_down",
        "narrow_down",
        {"themes": ["climate"], "finder_skipped": ["themes", "budget"]},
    )
    events = asyncio.run(ActionNarrowDown().run(CollectingDispatcher(), tracker, domain))
    assert events == [
        SlotSet("themes", None),
        SlotSet("finder_skipped", ["budget"]),
        SlotSet("results_shown", None),
    ]


def test_start_over_forgets_the_skips_too(domain) -> None:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRestartFinder().run(dispatcher, make_tracker(), domain))
    assert SlotSet("finder_skipped", None) in events
    assert dispatcher.messages[0]["response"] == "utter_finder_restarted"


@pytest.mark.parametrize(
    "response",
    [
        "utter_funding_intro",
        "utter_funding_next_steps_budget",
        "utter_finder_not_understood",
        "utter_finder_resume",
    ],
)
def test_finder_replies_exist_in_all_24_languages(domain, response: str) -> None:
    variations = domain["responses"][response]
    languages = {c["value"] for v in variations for c in v.get("condition") or []}
    defaults = [v for v in variations if not v.get("condition")]
    assert len(languages) == 23 and "en" not in languages
    assert len(defaults) == 1
    texts = {render(domain, response, lang) for lang in [*languages, "en"]}
    assert len(texts) == 24  # every language has its own words
