"""Subscriptions, reminder planning and claiming, and web notices on both back ends."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import create_engine, select

from knowledge.base import KnowledgeBase
from knowledge.loader import load_knowledge_base
from participation.errors import InvalidInputError, NotFoundError, UnknownTargetError
from participation.models import ReminderRow
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.participation.conftest import NOW, Clock
from tests.participation.kb import call

DAY = dt.timedelta(days=1)


def at(days: int, hour: int = 9) -> dt.datetime:
    """``days`` after the test clock's day, at ``hour`` UTC."""
    return dt.datetime.combine(NOW.date() + days * DAY, dt.time(hour), dt.UTC)


def _reminder_rows(db_url: str) -> list[tuple[str, dt.date, int, str]]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                ReminderRow.subject_id,
                ReminderRow.deadline,
                ReminderRow.offset_days,
                ReminderRow.status,
            ).order_by(ReminderRow.subject_id, ReminderRow.deadline, ReminderRow.offset_days)
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kind", "target", "suggestions"),
    [
        ("calls_theme", "climat", ("climate",)),
        ("calls_theme", "nonsense-words", ()),
        ("calls_programme", "CERV towns", ("cerv",)),
        ("calls_programme", "lif", ("life",)),
        ("events_city", "Zagrb", ("Zagreb",)),
        ("events_city", "Vienna", ()),  # a city without events
    ],
)
def test_unknown_targets_come_with_suggestions(
    service: ParticipationService, kind: str, target: str, suggestions: tuple[str, ...]
) -> None:
    with pytest.raises(UnknownTargetError) as error:
        service.subscribe(user_id="telegram:1", language="en", kind=kind, target=target)  # type: ignore[arg-type]
    assert error.value.code == "unknown_target"
    assert error.value.suggestions[: len(suggestions)] == suggestions
    assert service.subscriptions("telegram:1") == []


def test_unknown_kind_is_invalid_input(service: ParticipationService) -> None:
    with pytest.raises(InvalidInputError):
        service.subscribe(user_id="telegram:1", language="en", kind="news", target="x")  # type: ignore[arg-type]


def test_real_knowledge_base_targets(settings: ParticipationSettings, clock: Clock) -> None:
    kb, _ = load_knowledge_base()
    service = ParticipationService(settings, kb=kb, clock=clock)
    city = next(event.city for event in kb.events.values() if event.city)
    programme = next(iter(kb.programmes))
    assert (
        service.subscribe(
            user_id="api:u", language="en", kind="events_city", target=city.upper()
        ).target
        == city
    )
    assert service.subscribe(
        user_id="api:u", language="en", kind="calls_programme", target=programme
    ).created
    assert (
        service.subscribe(
            user_id="api:u", language="en", kind="calls_theme", target="Civic participation"
        ).target
        == "civic_participation"
    )
    service.close()


def test_reminders_are_planned_for_future_offsets_only(
    service: ParticipationService, db_url: str
) -> None:
    receipt = service.subscribe(
        user_id="telegram:1", language="hr", kind="calls_theme", target="democracy"
    )
    assert receipt.created and receipt.target == "democracy"
    # towns-call (a strand of CERV, inheriting its themes) is 40 days away: 30, 7, 1;
    # cerv-late is 5 days away: only the 1-day reminder; cerv-closed: nothing.
    assert receipt.reminders_scheduled == 4
    deadline_far, deadline_near = NOW.date() + 40 * DAY, NOW.date() + 5 * DAY
    assert _reminder_rows(db_url) == [
        ("cerv-late", deadline_near, 1, "pending"),
        ("towns-call", deadline_far, 1, "pending"),
        ("towns-call", deadline_far, 7, "pending"),
        ("towns-call", deadline_far, 30, "pending"),
    ]


def test_programme_and_city_subscriptions(service: ParticipationService) -> None:
    by_programme = service.subscribe(
        user_id="telegram:1", language="en", kind="calls_programme", target="cerv"
    )
    by_city = service.subscribe(
        user_id="telegram:1", language="en", kind="events_city", target="zagreb"
    )
    life = service.subscribe(
        user_id="telegram:1", language="en", kind="calls_theme", target="climate"
    )
    assert by_programme.reminders_scheduled == 4  # its strand's call counts too
    assert (by_city.target, by_city.reminders_scheduled) == ("Zagreb", 2)  # 7 and 1 days
    assert life.reminders_scheduled == 5  # deadlines in 20 (7, 1) and 60 days (30, 7, 1)


def test_subscribing_twice_keeps_one_subscription(service: ParticipationService) -> None:
    first = service.subscribe(
        user_id="telegram:1", language="en", kind="calls_theme", target="climate"
    )
    again = service.subscribe(
        user_id="telegram:1",
        language="de",
        kind="calls_theme",
        target="Climate",
        email="a@b.example",
    )
    assert (again.created, again.token, again.reminders_scheduled) == (False, first.token, 0)
    [view] = service.subscriptions("telegram:1")
    assert (view.language, view.email) == ("de", "a@b.example")


def test_refresh_adds_reminders_for_new_calls_idempotently(
    service: ParticipationService, kb: KnowledgeBase, db_url: str
) -> None:
    service.subscribe(user_id="telegram:1", language="en", kind="calls_programme", target="life")
    assert service.refresh_reminders(NOW) == 0
    kb.calls["life-new"] = call("life-new", "life", NOW.date() + 50 * DAY)
    assert service.refresh_reminders(NOW) == 3
    assert service.refresh_reminders(NOW) == 0
    assert sum(1 for row in _reminder_rows(db_url) if row[0] == "life-new") == 3


def test_refresh_replaces_reminders_of_a_moved_deadline(
    service: ParticipationService, kb: KnowledgeBase, db_url: str
) -> None:
    service.subscribe(
        user_id="telegram:1", language="en", kind="calls_programme", target="cerv-towns"
    )
    kb.calls["towns-call"] = call("towns-call", "cerv-towns", NOW.date() + 45 * DAY)
    assert service.refresh_reminders(NOW) == 3
    assert {row[1] for row in _reminder_rows(db_url)} == {NOW.date() + 45 * DAY}


def test_claim_marks_and_restart_never_resends(
    service: ParticipationService, settings: ParticipationSettings, kb: KnowledgeBase
) -> None:
    receipt = service.subscribe(
        user_id="telegram:7", language="hr", kind="events_city", target="Zagreb"
    )
    assert service.claim_due(at(2)) == []  # the 7-day reminder is due on day 3 at 08:00
    [reminder] = service.claim_due(at(3))
    assert (reminder.user_id, reminder.channel, reminder.language) == (
        "telegram:7",
        "telegram",
        "hr",
    )
    assert (reminder.subject_type, reminder.subject_id, reminder.offset_days) == (
        "event",
        "zagreb-forum",
        7,
    )
    assert (reminder.deadline, reminder.days_left) == (NOW.date() + 10 * DAY, 7)
    assert reminder.title() == "Event zagreb-forum"
    assert reminder.unsubscribe_token == receipt.token
    restarted = ParticipationService(settings, kb=kb)
    assert restarted.claim_due(at(3)) == []
    restarted.mark_sent(reminder.id)
    with pytest.raises(NotFoundError):
        service.mark_sent(reminder.id)
    [last] = restarted.claim_due(at(9))
    restarted.mark_failed(last.id, "chat 123456789012 blocked the bot")
    assert restarted.claim_due(at(9)) == []
    restarted.close()


def test_two_workers_never_claim_the_same_reminder(
    service: ParticipationService, settings: ParticipationSettings, kb: KnowledgeBase, db_url: str
) -> None:
    users = 60
    for number in range(users):
        for target in ("democracy", "climate"):
            service.subscribe(
                user_id=f"telegram:{number}", language="en", kind="calls_theme", target=target
            )
    workers = [ParticipationService(settings, kb=kb) for _ in range(2)]
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(len(workers))

    def work(index: int) -> None:
        barrier.wait()
        for hours in range(0, 61 * 24, 6):
            now = NOW + dt.timedelta(hours=hours)
            claimed[index].extend(reminder.id for reminder in workers[index].claim_due(now))

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.close()
    every = claimed[0] + claimed[1]
    assert len(every) == len(set(every))
    assert len(every) == users * (4 + 5)
    assert all(row[3] == "claimed" for row in _reminder_rows(db_url))


def test_web_reminders_become_notices(service: ParticipationService, clock: Clock) -> None:
    service.subscribe(user_id="api:web-1", language="de", kind="events_city", target="Zagreb")
    clock.now = at(3)
    assert service.claim_due(at(3)) == []
    [notice] = service.pending_notices("api:web-1")
    assert (notice.subject_id, notice.offset_days, notice.language) == ("zagreb-forum", 7, "de")
    assert service.pending_notices("api:someone-else") == []
    assert service.ack_notices("api:someone-else", [notice.id]) == 0
    assert service.ack_notices("api:web-1", [notice.id]) == 1
    assert service.pending_notices("api:web-1") == []


def test_web_reminders_with_email_go_to_the_mailer_when_smtp_is_set(
    settings: ParticipationSettings, kb: KnowledgeBase, clock: Clock
) -> None:
    mailer = ParticipationService(
        settings.model_copy(update={"smtp_host": "127.0.0.1"}), kb=kb, clock=clock
    )
    mailer.subscribe(
        user_id="api:web-2", language="en", kind="events_city", target="Zagreb", email="x@y.example"
    )
    clock.now = at(3)
    assert mailer.pending_notices("api:web-2") == []
    [reminder] = mailer.claim_due(at(3))
    assert reminder.email == "x@y.example"
    mailer.close()


def test_unsubscribe_removes_pending_reminders(service: ParticipationService) -> None:
    receipt = service.subscribe(
        user_id="telegram:1", language="en", kind="events_city", target="Zagreb"
    )
    service.subscribe(user_id="telegram:1", language="en", kind="calls_theme", target="climate")
    assert service.unsubscribe(receipt.token)
    assert not service.unsubscribe(receipt.token)
    assert service.claim_due(at(3)) == []
    assert service.unsubscribe_all("telegram:1") == 1
    assert service.subscriptions("telegram:1") == []
