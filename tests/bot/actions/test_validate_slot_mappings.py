import asyncio

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.validate_slot_mappings import ValidateSlotMappings
from tests.bot.actions.conftest import make_tracker


def extract(method: str, tracker, domain) -> dict:
    action = ValidateSlotMappings()
    return asyncio.run(getattr(action, method)(CollectingDispatcher(), tracker, domain))


def test_all_answers_in_one_message(domain) -> None:
    tracker = make_tracker(
        "We are a municipality in Croatia looking for money for cycling, about 200k EUR",
        "find_funding",
    )
    assert extract("extract_applicant_type", tracker, domain) == {"applicant_type": "municipality"}
    assert extract("extract_country", tracker, domain) == {"country": "HR"}
    assert extract("extract_themes", tracker, domain) == {"themes": ["mobility"]}
    assert extract("extract_budget", tracker, domain) == {"budget": 200_000}


def test_correction_replaces_the_applicant(domain) -> None:
    tracker = make_tracker(
        "actually we are an NGO", "inform", slots={"applicant_type": "municipality"}
    )
    assert extract("extract_applicant_type", tracker, domain) == {"applicant_type": "ngo"}


def test_bare_number_is_a_budget_when_asked_or_large_inside_the_finder(domain) -> None:
    asked = make_tracker("75000", "inform", slots={"requested_slot": "budget"})
    assert extract("extract_budget", asked, domain) == {"budget": 75_000}
    small_asked = make_tracker("900", "inform", slots={"requested_slot": "budget"})
    assert extract("extract_budget", small_asked, domain) == {"budget": 900}
    out_of_turn = make_tracker("75000", "inform", slots={"requested_slot": "country"})
    assert extract("extract_budget", out_of_turn, domain) == {"budget": 75_000}
    a_year = make_tracker("2026", "inform", slots={"requested_slot": "country"})
    assert extract("extract_budget", a_year, domain) == {}
    outside_the_finder = make_tracker("75000", "inform")
    assert extract("extract_budget", outside_the_finder, domain) == {}


def test_yes_no_answers_cross_border_only_when_asked(domain) -> None:
    asked = make_tracker("yes", "affirm", slots={"requested_slot": "cross_border"})
    assert extract("extract_cross_border", asked, domain) == {"cross_border": True}
    denied = make_tracker("no", "deny", slots={"requested_slot": "cross_border"})
    assert extract("extract_cross_border", denied, domain) == {"cross_border": False}
    elsewhere = make_tracker("yes", "affirm", slots={"requested_slot": "budget"})
    assert extract("extract_cross_border", elsewhere, domain) == {}


def test_button_payload_values_are_checked(domain) -> None:
    valid = make_tracker(
        '/inform{"applicant_type": "ngo"}',
        "inform",
        entities=[{"entity": "applicant_type", "value": "ngo"}],
    )
    assert extract("extract_applicant_type", valid, domain) == {"applicant_type": "ngo"}
    forged = make_tracker(
        '/inform{"applicant_type": "admin"}',
        "inform",
        entities=[{"entity": "applicant_type", "value": "admin"}],
    )
    assert extract("extract_applicant_type", forged, domain) == {}
    forged_themes = make_tracker(
        '/inform{"themes": ["<script>", "climate"]}',
        "inform",
        entities=[{"entity": "themes", "value": ["<script>", "climate"]}],
    )
    assert extract("extract_themes", forged_themes, domain) == {"themes": ["climate"]}


def test_questions_do_not_fill_finder_slots(domain) -> None:
    tracker = make_tracker(
        "how did Croatian cities run participatory budgeting?",
        "ask_best_practice",
        slots={"requested_slot": "themes"},
    )
    assert extract("extract_themes", tracker, domain) == {}
    assert extract("extract_country", tracker, domain) == {}


def test_language_switch_request_is_sticky(domain) -> None:
    tracker = make_tracker("please answer in German", "set_language", slots={"language": "en"})
    assert extract("extract_language_pref", tracker, domain) == {"language_pref": "de"}
    assert extract("extract_language", tracker, domain) == {"language": "de"}
    later = make_tracker("thanks", "thanks", slots={"language": "de", "language_pref": "de"})
    assert extract("extract_language", later, domain) == {"language": "de"}


def test_turn_info_only_when_the_gateway_asks(domain) -> None:
    action = ValidateSlotMappings()
    asking = CollectingDispatcher()
    tracker = make_tracker("bok", "greet", metadata={"want_meta": True})
    asyncio.run(action.extract_language(asking, tracker, domain))
    assert asking.messages[0]["custom"] == {
        "turn": {"language": "hr", "intent": "greet", "confidence": 0.9}
    }
    silent = CollectingDispatcher()
    asyncio.run(action.extract_language(silent, make_tracker("bok", "greet"), domain))
    assert silent.messages == []


def test_programme_from_payload_must_exist(domain) -> None:
    real = make_tracker(
        '/ask_deadline{"programme": "cerv"}',
        "ask_deadline",
        entities=[{"entity": "programme", "value": "cerv"}],
    )
    assert extract("extract_programme", real, domain) == {"programme": "cerv"}
    forged = make_tracker(
        '/ask_deadline{"programme": "nope"}',
        "ask_deadline",
        entities=[{"entity": "programme", "value": "nope"}],
    )
    assert extract("extract_programme", forged, domain) == {}


def test_theme_answer_does_not_overwrite_the_applicant(domain) -> None:
    tracker = make_tracker(
        "young people in the city",
        "inform",
        slots={"requested_slot": "themes", "applicant_type": "ngo"},
    )
    assert extract("extract_themes", tracker, domain) == {"themes": ["youth"]}
    assert extract("extract_applicant_type", tracker, domain) == {}


def test_button_payload_keeps_the_conversation_language(domain) -> None:
    tracker = make_tracker("/find_funding", "find_funding", slots={"language": "hr"})
    assert extract("extract_language", tracker, domain) == {"language": "hr"}
