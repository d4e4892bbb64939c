"""Answer first: the card of the best record, from a named programme or a confident hit."""

import asyncio
import datetime as dt

from bot.actions.answer_first import ActionAnswerFirst
from bot.actions.answer_programme import ActionAnswerProgramme
from bot.actions.knowledge_fallback import ActionKnowledgeFallback
from bot.actions.more_details import ActionMoreDetails
from bot.actions.open_calls import ActionOpenCalls
from bot.search_access import Found, SearchUnavailableError
from tests.bot.actions.conftest import FIXED_DAY, make_tracker

TWINNING = Found("cerv-town-twinning", "programme", 0.9, "Meetings of citizens")


class FakeSearch:
    """Deterministic searcher: fixed hits, records every call."""

    def __init__(self, hits=(), fail=False):
        self.hits = list(hits)
        self.fail = fail
        self.calls = []

    def __call__(self, query, language, record_type, limit):
        self.calls.append((query, language, record_type, limit))
        if self.fail:
            raise SearchUnavailableError("no index")
        return self.hits[:limit]


def answer(kb, domain, dispatcher, text, intent, *, hits=(), slots=None, day=FIXED_DAY, events=None,
           action=ActionAnswerFirst):  # fmt: skip
    act = action(kb=kb, searcher=FakeSearch(hits), clock=lambda: day)
    tracker = make_tracker(text, intent, slots, events=events)
    return asyncio.run(act.run(dispatcher, tracker, domain))


def only_text(dispatcher) -> str:
    [message] = dispatcher.messages
    return message["text"]


def test_named_programme_gets_its_card_with_link_and_buttons(kb, domain, dispatcher) -> None:
    events = answer(kb, domain, dispatcher, "what is CERV?", "ask_programme")
    assert events == [
        {"event": "slot", "timestamp": None, "name": "last_record", "value": "cerv"},
        {"event": "slot", "timestamp": None, "name": "programme", "value": "cerv"},
    ]
    [card] = dispatcher.messages
    assert card["text"].startswith("**Citizens, Equality, Rights and Values**\n")
    assert "Who can apply: cities and municipalities, NGOs" in card["text"]
    assert "http" not in card["text"]  # the link travels as a link, once
    assert card["custom"]["links"] == [
        {
            "title": "Citizens, Equality, Rights and Values",
            "url": "https://commission.europa.eu/cerv",
        }
    ]
    payloads = [b["payload"] for b in card["buttons"]]
    assert payloads[0] == '/more_details{"record": "cerv"}'
    assert "/start_finder" in payloads
    assert payloads[-1] == "/human_handoff"


def test_open_call_deadline_with_days_left(kb, domain, dispatcher) -> None:
    answer(
        kb, domain, dispatcher, "Town-Twinning deadline?", "ask_deadline", day=dt.date(2026, 9, 1)
    )
    assert (
        "Open call CERV-2026-CITIZENS-TOWN-TT: deadline 15 September 2026 (14 days left)"
        in only_text(dispatcher)
    )


def test_after_the_last_call_says_when_it_closed(kb, domain, dispatcher) -> None:
    answer(
        kb, domain, dispatcher, "Town-Twinning deadline?", "ask_deadline", day=dt.date(2026, 10, 1)
    )
    assert "No open call now; the last one closed on 15 September 2026." in only_text(dispatcher)


def test_rate_and_own_share_from_the_budget(kb, domain, dispatcher) -> None:
    answer(
        kb, domain, dispatcher, "Town-Twinning co-financing?", "ask_cofinancing",
        slots={"budget": 50000.0},
    )  # fmt: skip
    text = only_text(dispatcher)
    assert "up to 80% EU funding" in text
    assert "your own share is €10,000" in text


def test_editor_notes_never_reach_the_card(kb, domain, dispatcher) -> None:
    answer(kb, domain, dispatcher, "Town-Twinning?", "ask_programme")
    assert "not yet published" not in only_text(dispatcher)


def test_no_english_sentence_in_a_croatian_card(kb, domain, dispatcher) -> None:
    answer(kb, domain, dispatcher, "što je bratimljenje gradova?", "ask_programme", hits=[TWINNING],
           slots={"language": "hr"})  # fmt: skip
    text = only_text(dispatcher)
    assert text.startswith("**Bratimljenje gradova**")
    assert "Meetings of citizens" not in text
    assert "Opis na hrvatskom još nemamo" in text
    assert "Tko se može prijaviti: gradovi i općine" in text


def test_funding_question_is_answered_not_turned_into_a_form(kb, domain, dispatcher) -> None:
    answer(kb, domain, dispatcher, "money for twin towns?", "find_funding", hits=[TWINNING])
    [card] = dispatcher.messages
    assert card["text"].startswith("**Town-Twinning**")
    assert card.get("response") is None


def test_closed_call_answers_as_its_programme(kb, domain, dispatcher) -> None:
    hit = Found("cerv-2026-citizens-town-tt", "call", 0.9, "")
    answer(
        kb, domain, dispatcher, "twinning call", "find_funding", hits=[hit], day=dt.date(2027, 1, 5)
    )
    assert only_text(dispatcher).startswith("**Town-Twinning**")


def test_open_call_hit_is_shown_as_the_call(kb, domain, dispatcher) -> None:
    hit = Found("cerv-2026-citizens-town-tt", "call", 0.9, "")
    answer(
        kb, domain, dispatcher, "twinning call", "find_funding", hits=[hit], day=dt.date(2026, 9, 1)
    )
    text = only_text(dispatcher)
    assert text.startswith("**Town-twinning 2026**")  # the strand is in the title already
    assert "(14 days left)" in text
    assert "Checked on 23 November 2026." in text


def test_alternatives_are_named(kb, domain, dispatcher) -> None:
    hits = [TWINNING, Found("cerv", "programme", 0.8, "")]
    answer(kb, domain, dispatcher, "twinning", "find_funding", hits=hits)
    assert "Also relevant: Citizens, Equality, Rights and Values" in only_text(dispatcher)


def test_weak_hit_leads_to_clarifying_question(kb, domain, dispatcher) -> None:
    weak = Found("cerv-town-twinning", "programme", 0.1, "")
    answer(
        kb, domain, dispatcher, "hmm", "nlu_fallback", hits=[weak], action=ActionKnowledgeFallback
    )
    assert dispatcher.messages[0]["response"] == "utter_clarify"


def test_second_fallback_in_a_row_offers_a_person(kb, domain, dispatcher) -> None:
    previous = [{"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}}] * 2
    answer(kb, domain, dispatcher, "hmm", "nlu_fallback", events=previous)
    assert dispatcher.messages[0]["response"] == "utter_handoff_offer"


def test_out_of_scope_without_evidence_says_so(kb, domain, dispatcher) -> None:
    answer(kb, domain, dispatcher, "weather tomorrow?", "out_of_scope")
    assert dispatcher.messages[0]["response"] == "utter_out_of_scope"


def test_misread_intent_with_strong_evidence_still_answers(kb, domain, dispatcher) -> None:
    answer(kb, domain, dispatcher, "klímasemleges városok", "out_of_scope", hits=[TWINNING])
    assert only_text(dispatcher).startswith("**Town-Twinning**")


def test_missing_index_still_answers_a_named_programme(kb, domain, dispatcher) -> None:
    act = ActionAnswerProgramme(kb=kb, searcher=FakeSearch(fail=True), clock=lambda: FIXED_DAY)
    asyncio.run(act.run(dispatcher, make_tracker("what is CERV?", "ask_programme"), domain))
    assert only_text(dispatcher).startswith("**Citizens, Equality")


def test_card_fits_a_phone_screen(kb, domain, dispatcher) -> None:
    for language in ("en", "hr", "de", "lt", "ga", "el"):
        dispatcher.messages.clear()
        answer(kb, domain, dispatcher, "CERV", "ask_programme", slots={"language": language})
        assert len(only_text(dispatcher)) <= 600


def test_more_details_shows_how_to_apply(kb, domain, dispatcher) -> None:
    tracker = make_tracker(
        "/more_details",
        "more_details",
        entities=[{"entity": "record", "value": "cerv-town-twinning"}],
    )
    asyncio.run(ActionMoreDetails(kb).run(dispatcher, tracker, domain))
    assert "How to apply: Apply on the Funding & Tenders portal." in only_text(dispatcher)


def test_more_details_without_text_in_the_language_says_so(kb, domain, dispatcher) -> None:
    tracker = make_tracker("više", "more_details", slots={"language": "hr", "last_record": "cerv"})
    asyncio.run(ActionMoreDetails(kb).run(dispatcher, tracker, domain))
    assert dispatcher.messages[0]["response"] == "utter_details_none"


def test_open_calls_now(kb, domain, dispatcher) -> None:
    action = ActionOpenCalls(kb, clock=lambda: dt.date(2026, 9, 1))
    asyncio.run(action.run(dispatcher, make_tracker("open calls?", "ask_open_calls"), domain))
    text = only_text(dispatcher)
    assert text.startswith("Calls that are open or open soon:")
    assert "CERV-2026-CITIZENS-TOWN-TT: deadline 15 September 2026 (14 days left)" in text
    assert text.endswith("Checked on 23 November 2026."), "the reply says how fresh its facts are"


def test_no_open_call_says_so_with_the_date_and_the_last_one(kb, domain, dispatcher) -> None:
    action = ActionOpenCalls(kb, clock=lambda: dt.date(2026, 12, 7))
    asyncio.run(action.run(dispatcher, make_tracker("open calls?", "ask_open_calls"), domain))
    text = only_text(dispatcher)
    assert "No EU call in our sources is open today (7 December 2026)." in text
    assert "The most recent one closed on 15 September 2026: **Town-twinning 2026**." in text


def test_a_project_brief_goes_to_the_finder_with_its_answers(kb, domain, dispatcher) -> None:
    events = answer(kb, domain, dispatcher, "we are a city in Croatia, 300,000 EUR, climate",
                    "find_funding", hits=[TWINNING])  # fmt: skip
    assert events == [{"event": "followup", "timestamp": None, "name": "funding_form"}]
    assert dispatcher.messages == []


def test_the_find_funding_button_opens_the_finder(kb, domain, dispatcher) -> None:
    events = answer(kb, domain, dispatcher, "/find_funding", "find_funding")
    assert events == [{"event": "followup", "timestamp": None, "name": "funding_form"}]


def test_open_calls_in_croatian_say_when_checked_with_one_period(kb, domain, dispatcher) -> None:
    action = ActionOpenCalls(kb, clock=lambda: dt.date(2026, 9, 1))
    tracker = make_tracker("otvoreni pozivi?", "ask_open_calls", {"language": "hr"})
    asyncio.run(action.run(dispatcher, tracker, domain))
    assert only_text(dispatcher).endswith("Provjereno 23. studenoga 2026.")
