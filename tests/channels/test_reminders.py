"""Reminder e-mails through a real local SMTP server (aiosmtpd), and web notices."""

import asyncio
import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from channels.i18n import translate
from channels.reminders import Mailer, ReminderDelivery, long_date
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from stack import free_port
from tests.channels.conftest import Clock
from tests.channels.participation_kb import DAY, NOW, TODAY, sample_kb

USER = "api:web-mail0000aaaa"


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_store(
    participation_settings: ParticipationSettings, clock: Clock, port: int
) -> ParticipationService:
    settings = participation_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_sender": "reminders@example.eu"}
    )
    return ParticipationService(settings, kb=sample_kb(), clock=clock)


def delivery(store: ParticipationService, clock: Clock) -> ReminderDelivery:
    mailer = Mailer(store.settings.smtp_host, store.settings.smtp_port, "reminders@example.eu", 5)
    return ReminderDelivery(store, store.settings, mailer, lambda: None, clock=clock)


def test_a_web_subscriber_with_an_address_gets_one_email(
    smtp: tuple[Inbox, int], participation_settings: ParticipationSettings, clock: Clock
) -> None:
    inbox, port = smtp
    store = mail_store(participation_settings, clock, port)
    receipt = store.subscribe(
        user_id=USER, language="de", kind="events_city", target="Rijeka", email="ana@example.org"
    )
    clock.now = NOW + 6 * DAY  # the 1-day reminder of the Rijeka forum is due
    report = asyncio.run(delivery(store, clock).run_once())
    assert (report.sent, report.failed) == (1, 0)
    [mail] = inbox.messages
    assert mail["To"] == "ana@example.org"
    assert mail["From"] == "reminders@example.eu"
    notice = translate(
        "reminder.notice.event.tomorrow",
        "de",
        title="Event rijeka-forum",
        deadline=long_date(TODAY + 7 * DAY, "de"),
    )
    assert mail["Subject"] == notice
    link = f"https://assistant.example.eu/unsubscribe/{receipt.token}?lang=de"
    assert mail["List-Unsubscribe"] == f"<{link}>"
    body = mail.get_content()
    assert translate("reminder.email.unsubscribe", "de", unsubscribe=link) in body
    # Claimed and marked: another run (or a restarted gateway) sends nothing more.
    again = asyncio.run(delivery(store, clock).run_once())
    assert (again.sent, again.failed, len(inbox.messages)) == (0, 0, 1)
    assert store.pending_notices(USER) == []


def test_a_web_subscriber_without_an_address_gets_a_notice_not_an_email(
    smtp: tuple[Inbox, int], participation_settings: ParticipationSettings, clock: Clock
) -> None:
    inbox, port = smtp
    store = mail_store(participation_settings, clock, port)
    store.subscribe(user_id=USER, language="en", kind="events_city", target="Rijeka")
    clock.now = NOW + 6 * DAY
    report = asyncio.run(delivery(store, clock).run_once())
    assert (report.sent, inbox.messages) == (0, [])
    assert [r.subject_id for r in store.pending_notices(USER)] == ["rijeka-forum"]


def test_an_unreachable_smtp_server_marks_the_reminder_failed(
    participation_settings: ParticipationSettings, clock: Clock, closed_port: int
) -> None:
    store = mail_store(participation_settings, clock, closed_port)
    store.subscribe(
        user_id=USER, language="en", kind="events_city", target="Rijeka", email="ana@example.org"
    )
    clock.now = NOW + 6 * DAY
    report = asyncio.run(delivery(store, clock).run_once())
    assert (report.sent, report.failed) == (0, 1)
    [row] = store.export_user(USER)["reminders"]
    assert row["status"] == "failed"
    assert "ana@example.org" not in (row["error"] or "")


def test_reminder_dates_are_written_as_each_language_writes_them() -> None:
    day = dt.date(2026, 5, 9)
    assert long_date(day, "en") == "May 9, 2026"
    assert long_date(day, "hr") == "9. svibnja 2026."
    assert long_date(day, "de") == "9. Mai 2026"
