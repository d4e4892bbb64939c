"""Handoff tickets, turn bookkeeping and proposal answers read from messages."""

import asyncio
import datetime as dt

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.best_practices import ActionBestPractices
from bot.actions.human_handoff import ActionHumanHandoff
from bot.actions.knowledge_fallback import ActionKnowledgeFallback
from bot.actions.participation import ActionParticipation
from bot.actions.validate_slot_mappings import ValidateSlotMappings
from bot.search_access import Found
from tests.bot.actions.conftest import database_locked, make_tracker, user_event, with_sender

META = {"want_meta": True}


def run(action, tracker, dispatcher, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


def extract(method, tracker, domain):
    return asyncio.run(
        getattr(ValidateSlotMappings(), method)(CollectingDispatcher(), tracker, domain)
    )


def turns(dispatcher):
    return [m["custom"]["turn"] for m in dispatcher.messages if "turn" in (m.get("custom") or {})]


class FixedSearch:
    def __init__(self, hits):
        self.hits = hits

    def __call__(self, query, language, record_type, limit):
        return self.hits[:limit]


def handoff_tracker(language="en"):
    events = [
        user_event("Can our NGO apply to CERV? write to ana@example.org", "ask_eligibility"),
        user_event("/human_handoff", "human_handoff"),
        user_event("I want to talk to a person", "human_handoff"),
    ]
    tracker = make_tracker("I want to talk to a person", "human_handoff", {"language": language})
    tracker.events = events
    return with_sender(tracker, "whatsapp:385911234567")


def test_handoff_opens_a_ticket_and_says_who_answers_by_when(
    service, kb, domain, dispatcher
) -> None:
    assert run(ActionHumanHandoff(kb, service), handoff_tracker(), dispatcher, domain) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_ticket"
    assert message["reference"] == "HT-2026-00001"
    assert message["contact"] == "Europe Direct Contact Centre"
    assert message["direct"] == (
        " You can also reach them directly: https://european-union.europa.eu/contact-eu_en."
    )
    assert message["reply_date"] == "3 March 2026"  # 8 office hours later
    assert (message["reply_time"], message["zone"]) == ("09:00", "UTC")
    assert message["hours"] == "mon,tue,wed,thu,fri 09:00-18:00 Europe/Brussels"
    [ticket] = service.list_tickets()
    assert ticket.user_id == "whatsapp:385911234567"
    # The summary keeps what was asked but not the e-mail address.
    assert "Can our NGO apply to CERV?" in ticket.summary
    assert "ana@example.org" not in ticket.summary
    assert "/human_handoff" not in ticket.summary


def test_handoff_in_croatian_formats_the_date_in_croatian(service, kb, domain, dispatcher) -> None:
    run(ActionHumanHandoff(kb, service), handoff_tracker("hr"), dispatcher, domain)
    assert dispatcher.messages[0]["reply_date"] == "3. ožujka 2026."


def test_busy_database_still_gives_the_contacts(
    service, participation_settings, kb, domain, dispatcher
) -> None:
    service.list_tickets()  # creates the schema
    with database_locked(participation_settings):
        run(ActionHumanHandoff(kb, service), handoff_tracker(), dispatcher, domain)
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_handoff_ticket_failed",
        "utter_handoff_intro",
        "utter_handoff_contact",
    ]
    assert service.list_tickets() == []


def test_turn_message_carries_intent_and_confidence(domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("upcoming events", "ask_events", metadata=META)
    asyncio.run(ValidateSlotMappings().extract_language(dispatcher, tracker, domain))
    assert turns(dispatcher) == [{"language": "en", "intent": "ask_events", "confidence": 0.9}]


def test_no_turn_message_without_want_meta(domain) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("upcoming events", "ask_events")
    asyncio.run(ValidateSlotMappings().extract_language(dispatcher, tracker, domain))
    assert dispatcher.messages == []


def test_answers_from_records_report_them(kb, domain, dispatcher) -> None:
    practice_id = next(iter(kb.practices))
    search = FixedSearch([Found(practice_id, "practice", 0.9, "")])
    tracker = make_tracker("participatory budgeting examples", "ask_best_practice", metadata=META)
    run(ActionBestPractices(kb, search), tracker, dispatcher, domain)
    assert turns(dispatcher) == [{"records": [practice_id], "answered": True}]


def test_fallback_reports_answered_and_unanswered_turns(kb, domain) -> None:
    confident = FixedSearch([Found("cerv", "programme", 0.9, "x")])
    answered = CollectingDispatcher()
    tracker = make_tracker("money for twinning", "nlu_fallback", metadata=META)
    run(ActionKnowledgeFallback(kb, confident), tracker, answered, domain)
    assert turns(answered) == [{"records": ["cerv"], "answered": True}]
    unanswered = CollectingDispatcher()
    run(ActionKnowledgeFallback(kb, FixedSearch([])), tracker, unanswered, domain)
    assert turns(unanswered) == [{"records": [], "answered": False}]
    assert [m["response"] for m in unanswered.messages if m["response"]] == ["utter_clarify"]


def test_events_by_city_with_calendar_link_and_records(kb, domain, dispatcher) -> None:
    action = ActionParticipation(kb, clock=lambda: dt.date(2025, 9, 20))
    tracker = make_tracker("events in Helsinki in October", "ask_events", metadata=META)
    run(action, tracker, dispatcher, domain)
    assert [m["response"] for m in dispatcher.messages] == [None, "utter_events_calendar", None]
    assert dispatcher.messages[0]["custom"]["records"] == ["helsinki-omastadi-vote"]
    calendar = dispatcher.messages[1]
    assert calendar["url"].endswith("/calendar/helsinki.ics")
    assert turns(dispatcher) == [{"records": ["helsinki-omastadi-vote"], "answered": True}]


def test_events_nothing_matches_says_so_then_shows_others(kb, domain, dispatcher) -> None:
    action = ActionParticipation(kb, clock=lambda: dt.date(2025, 9, 20))
    run(action, make_tracker("events in December", "ask_events"), dispatcher, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_events_no_match", None]
    assert dispatcher.messages[1]["text"].startswith("**")


def test_events_in_a_language_nobody_speaks_there(kb, domain, dispatcher) -> None:
    action = ActionParticipation(kb, clock=lambda: dt.date(2025, 9, 20))
    run(action, make_tracker("events in Helsinki in Polish", "ask_events"), dispatcher, domain)
    assert dispatcher.messages[0]["response"] == "utter_events_no_match"


def test_proposal_answers_are_read_only_when_asked(domain) -> None:
    asked = make_tracker(
        "Bike lanes in Zagreb, Croatia", "ask_participation", {"requested_slot": "proposal_topic"}
    )
    assert extract("extract_proposal_topic", asked, domain) == {
        "proposal_topic": "Bike lanes in Zagreb, Croatia"
    }
    assert extract("extract_proposal_text", asked, domain) == {}
    # A proposal is not an answer to the funding finder.
    assert extract("extract_country", asked, domain) == {}
    contact = make_tracker("no", "deny", {"requested_slot": "proposal_contact"})
    assert extract("extract_proposal_contact", contact, domain) == {"proposal_contact": "none"}
    leaving = make_tracker("a person please", "human_handoff", {"requested_slot": "proposal_city"})
    assert extract("extract_proposal_city", leaving, domain) == {}


def test_without_office_hours_in_any_source_the_reply_names_none(domain) -> None:
    from dataclasses import replace

    from bot.actions.human_handoff import ticket_response
    from participation.types import TicketReceipt

    receipt = TicketReceipt(
        reference="HT-2026-00002",
        status="open",
        contact_id=None,
        contact_name=None,
        contact_email=None,
        contact_url=None,
        office_hours=None,
        reply_by=dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC),
        created_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
    )
    assert ticket_response(receipt) == "utter_handoff_ticket_no_hours"
    assert ticket_response(replace(receipt, office_hours="mon 09:00-17:00")) == (
        "utter_handoff_ticket"
    )
    variants = domain["responses"]["utter_handoff_ticket_no_hours"]
    languages = {c["value"] for v in variants for c in v.get("condition") or []}
    assert len(languages) == 23 and len(variants) == 24  # and the English default
    assert all("{hours}" not in v["text"] and "{reply_date}" in v["text"] for v in variants)
