"""Question analytics, feedback, reports and CSV tables on both back ends."""

from __future__ import annotations

import datetime as dt

import pytest

from participation.errors import InvalidInputError, NotFoundError
from participation.service import ParticipationService
from tests.participation.conftest import NOW, Clock


def _ask(
    service: ParticipationService, text: str, answered: bool, records: list[str], **kw: str
) -> int:
    return service.record_question(
        user_id=kw.get("user_id", "telegram:1"),
        language=kw.get("language", "en"),
        text=text,
        intent="ask_funding",
        confidence=0.42,
        answered=answered,
        record_ids=records,
    )


def test_questions_are_stored_masked(service: ParticipationService) -> None:
    _ask(service, "my email is ana@example.hr and OIB 69435151530", False, [])
    _, rows = service.table_rows("questions")
    assert rows[0][2] == "my email is [email] and OIB [oib]"


def test_feedback_last_vote_wins_and_is_private(service: ParticipationService) -> None:
    turn = _ask(service, "What is CERV?", True, ["cerv", "cerv-towns"])
    service.record_feedback(user_id="telegram:1", turn_id=turn, rating=1)
    service.record_feedback(user_id="telegram:1", turn_id=turn, rating=-1, comment="outdated")
    header, rows = service.table_rows("feedback")
    assert header == ("question_id", "rating", "comment", "created_at")
    assert [row[:3] for row in rows] == [(turn, -1, "outdated")]
    with pytest.raises(NotFoundError):
        service.record_feedback(user_id="telegram:2", turn_id=turn, rating=1)
    with pytest.raises(NotFoundError):
        service.record_feedback(user_id="telegram:1", turn_id=turn + 100, rating=1)
    with pytest.raises(InvalidInputError):
        service.record_feedback(user_id="telegram:1", turn_id=turn, rating=0)  # type: ignore[arg-type]


def test_content_gaps(service: ParticipationService) -> None:
    for _ in range(3):
        _ask(service, "tram tickets", False, [], language="de")
    _ask(service, "parking permit", False, [])
    bad = _ask(service, "LIFE rates", True, ["life"])
    good = _ask(service, "CERV", True, ["cerv"])
    worse = _ask(service, "LIFE again", True, ["life", "cerv"], user_id="telegram:2")
    service.record_feedback(user_id="telegram:1", turn_id=bad, rating=-1)
    service.record_feedback(user_id="telegram:1", turn_id=good, rating=1)
    service.record_feedback(user_id="telegram:2", turn_id=worse, rating=-1)
    gaps = service.content_gaps()
    assert [(q.language, q.text, q.count) for q in gaps.unanswered] == [
        ("de", "tram tickets", 3),
        ("en", "parking permit", 1),
    ]
    assert gaps.unanswered[0].last_asked == NOW
    assert [(r.record_id, r.up, r.down) for r in gaps.low_rated] == [("life", 0, 2), ("cerv", 1, 1)]
    assert [q.text for q in service.content_gaps(language="en", limit=1).unanswered] == [
        "parking permit"
    ]


def test_stats(service: ParticipationService, clock: Clock) -> None:
    clock.now = NOW - dt.timedelta(days=40)
    _ask(service, "too old to count", False, [])
    clock.now = NOW - dt.timedelta(days=1)
    _ask(service, "yesterday", True, [])
    clock.now = NOW
    _ask(service, "today 1", False, [])
    _ask(service, "danas", True, [], language="hr")
    service.submit_proposal(user_id="api:a", language="en", topic="T", text="x")
    service.subscribe(user_id="api:a", language="en", kind="calls_theme", target="climate")
    service.open_ticket(user_id="api:a", language="en", summary="help")
    stats = service.stats(days=30)
    assert [(d.day, d.language, d.questions, d.unanswered) for d in stats.questions_per_day] == [
        (NOW.date() - dt.timedelta(days=1), "en", 1, 0),
        (NOW.date(), "en", 1, 1),
        (NOW.date(), "hr", 1, 0),
    ]
    assert (stats.subscriptions, dict(stats.subscriptions_by_kind)) == (1, {"calls_theme": 1})
    assert dict(stats.proposals_by_status) == {"pending": 1}
    assert stats.open_tickets == 1


def test_table_rows_are_csv_ready(service: ParticipationService) -> None:
    service.submit_proposal(user_id="api:a", language="en", topic="T", text="x", contact="me")
    service.subscribe(user_id="api:a", language="en", kind="calls_theme", target="climate")
    service.open_ticket(user_id="api:a", language="en", summary="help")
    for name in ("proposals", "tickets", "subscriptions", "questions", "feedback"):
        header, rows = service.table_rows(name)
        assert header and all(len(row) == len(header) for row in rows)
        for row in rows:
            assert all(
                value is None or isinstance(value, str | int | float | bool) for value in row
            )
    header, rows = service.table_rows("subscriptions")
    assert "user_id" not in header and rows == [
        ("calls_theme", "climate", "en", "api", NOW.isoformat())
    ]
    with pytest.raises(InvalidInputError):
        service.table_rows("users")  # type: ignore[arg-type]
