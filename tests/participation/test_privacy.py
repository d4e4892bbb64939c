"""Masking, the right of access and erasure (with Rasa's tracker store), and retention."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from participation.privacy import PersonalDataFilter, mask_personal_data, oib_is_valid
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.participation.conftest import NOW, Clock, RasaEvent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.horvat@example.hr", "write to [email]"),
        ("OIB 69435151530", "OIB [oib]"),
        ("OIB 69435151531", "OIB [id]"),  # wrong check digit: still masked, not as an OIB
        ("+385 91 234 5678", "[phone]"),
        ("+385912345678", "[phone]"),
        ("00385 1 2345 678", "[phone]"),
        ("091/234-5678", "[phone]"),
        ("(01) 234 5678", "[phone]"),
        ("0912345678", "[phone]"),
        ("IBAN HR1210010051863000160", "IBAN [iban]"),
        ("HR12 1001 0051 8630 0016 0 please", "[iban] please"),
        ("JMBG 0101990330001", "JMBG [id]"),
        ("deadline 2026-03-15, 01.02.2026", "deadline 2026-03-15, 01.02.2026"),
        ("budget 1 000 000 EUR in 2021-2027", "budget 1 000 000 EUR in 2021-2027"),
        ("call CERV-2025-CITIZENS-TOWN", "call CERV-2025-CITIZENS-TOWN"),
    ],
)
def test_masking(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


def test_oib_check_digit() -> None:
    assert oib_is_valid("69435151530")
    assert not oib_is_valid("69435151531")
    assert not oib_is_valid("6943515153")


def test_log_filter_masks_messages_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.participation.privacy")
    handler_filter = PersonalDataFilter()
    logger.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("user %s wrote from %s", "ana@example.hr", "+385 91 234 5678")
    finally:
        logger.removeFilter(handler_filter)
    assert caplog.messages == ["user [email] wrote from [phone]"]


def test_log_filter_keeps_positional_arguments_for_access_log_formatters() -> None:
    # uvicorn's access log formats (client, method, path, version, status) by position.
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/me?mail=ana@example.hr", "1.1", 200), None,
    )  # fmt: skip
    assert PersonalDataFilter().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", "/api/v1/me?mail=[email]", "1.1", 200)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/v1/me?mail=[email] HTTP/1.1" 200'


def _add_events(engine: Engine, sender_id: str, timestamps: list[float]) -> None:
    rows = [
        {
            "sender_id": sender_id,
            "type_name": "user",
            "timestamp": stamp,
            "intent_name": "greet",
            "action_name": None,
            "data": json.dumps({"event": "user", "text": "bok"}),
        }
        for stamp in timestamps
    ]
    with engine.begin() as connection:
        connection.execute(insert(RasaEvent), rows)


def _events(engine: Engine, sender_id: str) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(RasaEvent).where(RasaEvent.sender_id == sender_id)
        return connection.execute(query).scalar_one()


def _fill(service: ParticipationService, user_id: str) -> None:
    service.submit_proposal(user_id=user_id, language="hr", topic="T", text="x", contact="me")
    service.subscribe(user_id=user_id, language="hr", kind="calls_theme", target="democracy")
    service.open_ticket(user_id=user_id, language="hr", summary="help")
    turn = service.record_question(
        user_id=user_id, language="hr", text="q", answered=True, record_ids=["cerv"]
    )
    service.record_feedback(user_id=user_id, turn_id=turn, rating=1)


def test_export_and_forget_include_the_tracker_store(
    service: ParticipationService, tracker_engine: Engine
) -> None:
    _fill(service, "telegram:1")
    _fill(service, "telegram:2")
    _add_events(tracker_engine, "telegram:1", [NOW.timestamp(), NOW.timestamp() + 1])
    _add_events(tracker_engine, "telegram:2", [NOW.timestamp()])
    export = service.export_user("telegram:1")
    json.dumps(export)  # JSON-ready
    assert {name: len(export[name]) for name in ("proposals", "subscriptions", "reminders")} == {
        "proposals": 1,
        "subscriptions": 1,
        "reminders": 4,
    }
    assert export["questions"][0]["record_ids"] == ["cerv"]
    assert export["proposals"][0]["contact"] == "me"
    assert [event["data"]["text"] for event in export["conversation"]] == ["bok", "bok"]
    counts = service.forget_user("telegram:1")
    assert counts == {
        "tracker_events": 2,
        "feedback": 1,
        "questions": 1,
        "reminders": 4,
        "subscriptions": 1,
        "tickets": 1,
        "proposals": 1,
    }
    empty = service.export_user("telegram:1")
    assert all(empty[name] == [] for name in ("proposals", "tickets", "questions", "conversation"))
    assert _events(tracker_engine, "telegram:2") == 1
    assert len(service.export_user("telegram:2")["reminders"]) == 4


def test_forget_without_a_tracker_store_yet(tmp_path: Path, kb: object, clock: Clock) -> None:
    tracker_file = tmp_path / "no-rasa-yet.db"
    settings = ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'p.db'}",
        tracker_database_url=f"sqlite:///{tracker_file}",
    )
    service = ParticipationService(settings, kb=kb, clock=clock)  # type: ignore[arg-type]
    service.submit_proposal(user_id="api:x", language="en", topic="T", text="x")
    assert service.forget_user("api:x")["proposals"] == 1
    assert service.export_user("api:x")["conversation"] == []
    assert not tracker_file.exists()
    service.close()


def test_retention_purge(
    service: ParticipationService, clock: Clock, tracker_engine: Engine
) -> None:
    days = service.settings.retention_days
    old = NOW - dt.timedelta(days=days + 1)
    clock.now = old
    old_turn = service.record_question(user_id="api:a", language="en", text="old", answered=True)
    service.record_feedback(user_id="api:a", turn_id=old_turn, rating=1)
    closed = service.open_ticket(user_id="api:a", language="en", summary="old, closed")
    service.close_ticket(closed.reference)
    service.open_ticket(user_id="api:a", language="en", summary="old, still open")
    rejected = service.submit_proposal(user_id="api:a", language="en", topic="T", text="r")
    published = service.submit_proposal(
        user_id="api:a", language="en", topic="T", text="p", contact="me"
    )
    service.moderate(rejected.reference, "rejected", reason="spam")
    service.moderate(published.reference, "published")
    clock.now = NOW
    recent_turn = service.record_question(user_id="api:a", language="en", text="new", answered=True)
    service.record_feedback(user_id="api:a", turn_id=recent_turn, rating=-1)
    _add_events(tracker_engine, "api:a", [old.timestamp(), NOW.timestamp()])

    counts = service.purge_expired(NOW)

    assert counts == {
        "feedback": 1,
        "questions": 1,
        "tickets": 1,
        "reminders": 0,
        "proposals": 1,
        "proposal_contacts": 1,
        "tracker_events": 1,
    }
    assert [row[2] for row in service.table_rows("questions")[1]] == ["new"]
    assert [t.summary for t in service.list_tickets()] == ["old, still open"]
    [kept] = service.list_proposals()
    assert kept.reference == published.reference
    assert service.export_user("api:a")["proposals"][0]["contact"] is None
    assert _events(tracker_engine, "api:a") == 1
    assert service.purge_expired(NOW) == dict.fromkeys(counts, 0)


def test_record_masking_covers_child_loggers_and_every_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from participation.privacy import install_record_masking

    factory = logging.getLogRecordFactory()
    try:
        install_record_masking()
        install_record_masking()  # idempotent: masks once, wraps once
        logger = logging.getLogger("tests.participation.child.of.child")
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("call me on %s or write to ana@example.hr", "+385 91 234 5678")
        assert caplog.messages == ["call me on [phone] or write to [email]"]
    finally:
        logging.setLogRecordFactory(factory)
        import participation.privacy as privacy

        privacy._factory_installed = False
