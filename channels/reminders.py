"""Delivering deadline reminders: Telegram push, e-mail, and notices for web users.

`participation` plans the reminders (30, 7 and 1 days before a subscribed call's or
event's deadline) and hands each one out once (`claim_due` is atomic, so a restart or a
second gateway never sends it twice). This module delivers what it claimed:

- Telegram users get a message from the running bot (webhook mode in the gateway, or
  `python -m channels.telegram` in polling mode), with a one-tap unsubscribe link;
- subscribers who gave an e-mail address get an e-mail (stdlib smtplib, in a thread)
  when `PARTICIPATION_SMTP_HOST` is set;
- web and API users see reminders as notices the next time the widget asks
  (`GET /api/v1/notices`), so nothing is claimed for them here.

A scheduler (`start_scheduler`) in the app's lifespan, and in the polling process,
runs `ReminderDelivery.run_once` every `APP_REMINDER_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from babel.core import UnknownLocaleError
from babel.dates import format_date
from fastapi import APIRouter, FastAPI
from telegram import Bot
from telegram.error import TelegramError

from channels.i18n import translate
from channels.settings import ChannelSettings
from channels.telegram.i18n import translate as translate_telegram
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from participation.types import Reminder

logger = logging.getLogger(__name__)

TELEGRAM_CHANNEL = "telegram"
UNSUBSCRIBE_PATH = "/unsubscribe/"
# A reminder this many days before the deadline is worded "tomorrow".
TOMORROW = 1
JOB_ID = "deliver-reminders"
PURGE_JOB_ID = "purge-expired"
# From: address when PARTICIPATION_SMTP_SENDER is empty (set a real one in production).
DEFAULT_SENDER = "civic-assistant@localhost"

BotProvider = Callable[[], Bot | None]
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


def unsubscribe_url(settings: ParticipationSettings, token: str, language: str) -> str:
    """The one-tap unsubscribe link of a subscription; its page speaks `language`."""
    return f"{settings.public_base_url.rstrip('/')}{UNSUBSCRIBE_PATH}{token}?lang={language}"


def long_date(day: dt.date, language: str) -> str:
    """`day` written as people of `language` write dates (ISO if Babel lacks the locale)."""
    try:
        return format_date(day, format="long", locale=language)
    except (UnknownLocaleError, ValueError):
        return day.isoformat()


def _values(reminder: Reminder, language: str, link: str) -> dict[str, object]:
    return {
        "title": reminder.title(language),
        "deadline": long_date(reminder.deadline, language),
        "days": reminder.days_left,
        "url": reminder.url or "",
        "unsubscribe": link,
    }


def _key(prefix: str, reminder: Reminder) -> str:
    suffix = "tomorrow" if reminder.days_left <= TOMORROW else "days"
    return f"{prefix}.{reminder.subject_type}.{suffix}"


def notice_text(reminder: Reminder, language: str, link: str) -> str:
    """One-line reminder for the widget's notice, in `language`."""
    values = _values(reminder, language, link)
    return translate(_key("reminder.notice", reminder), language, **values)


def telegram_text(reminder: Reminder, link: str) -> str:
    """The push message for a Telegram subscriber, in the language they subscribed in."""
    language = reminder.language
    values = {**_values(reminder, language, link), "notice": notice_text(reminder, language, link)}
    lines = [translate_telegram("reminder.push", language, **values)]
    if reminder.url:
        lines.append(translate_telegram("reminder.details", language, **values))
    lines.append(translate_telegram("reminder.unsubscribe", language, **values))
    return "\n\n".join(lines)


def email_message(reminder: Reminder, sender: str, link: str) -> EmailMessage:
    """The reminder e-mail, with a List-Unsubscribe header for one-click unsubscribing."""
    if reminder.email is None:
        raise ValueError("the reminder has no e-mail address")
    language = reminder.language
    notice = notice_text(reminder, language, link)
    values = {**_values(reminder, language, link), "notice": notice}
    body = [translate("reminder.email.body", language, **values)]
    if reminder.url:
        body.append(translate("reminder.email.details", language, **values))
    body.append(translate("reminder.email.unsubscribe", language, **values))
    message = EmailMessage()
    message["From"] = sender
    message["To"] = reminder.email
    message["Subject"] = notice
    message["List-Unsubscribe"] = f"<{link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Content-Language"] = language
    message.set_content("\n\n".join(body) + "\n")
    return message


@dataclass(frozen=True)
class Mailer:
    """Sends e-mail through one SMTP server; disabled when no host is configured."""

    host: str
    port: int
    sender: str
    timeout_seconds: float

    @classmethod
    def from_settings(cls, participation: ParticipationSettings, app: ChannelSettings) -> Mailer:
        """The SMTP server of `PARTICIPATION_SMTP_*`, with the gateway's timeout."""
        return cls(
            host=participation.smtp_host,
            port=participation.smtp_port,
            sender=participation.smtp_sender or DEFAULT_SENDER,
            timeout_seconds=app.smtp_timeout_seconds,
        )

    @property
    def enabled(self) -> bool:
        """True when an SMTP host is set (the participation store decides the same way)."""
        return bool(self.host)

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` (blocking: call it from a worker thread)."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            smtp.send_message(message)


@dataclass(frozen=True)
class DeliveryReport:
    """What one run did: reminders planned, sent and failed."""

    planned: int = 0
    sent: int = 0
    failed: int = 0


class ReminderDelivery:
    """Claims due reminders and delivers them on every channel the subscriber has."""

    def __init__(
        self,
        participation: ParticipationService,
        settings: ParticipationSettings,
        mailer: Mailer,
        telegram_bot: BotProvider,
        clock: Clock = utc_now,
    ) -> None:
        """Deliver through `mailer` and the bot `telegram_bot()` returns (None: not running)."""
        self._participation = participation
        self._settings = settings
        self._mailer = mailer
        self._telegram_bot = telegram_bot
        self._clock = clock
        self._lock = asyncio.Lock()

    def claimable_channels(self) -> list[str]:
        """Channels whose due reminders this process can deliver now.

        Telegram reminders are claimed only while the bot runs here. With e-mail
        configured, the other channels' reminders are claimed too; `claim_due` then
        hands out web users' reminders only when they gave an address (the others
        stay notices for the widget).
        """
        channels = [TELEGRAM_CHANNEL] if self._telegram_bot() is not None else []
        if self._mailer.enabled:
            channels += [*EMAIL_ONLY_CHANNELS, *self._settings.notice_channels]
        return channels

    async def run_once(self) -> DeliveryReport:
        """Plan new reminders, claim the due ones and deliver them (one run at a time)."""
        async with self._lock:
            now = self._clock()
            planned = await asyncio.to_thread(self._participation.refresh_reminders, now)
            sent = failed = 0
            for channel in self.claimable_channels():
                due = await asyncio.to_thread(self._participation.claim_due, now, channel)
                for reminder in due:
                    if await self._deliver(reminder):
                        sent += 1
                    else:
                        failed += 1
            return DeliveryReport(planned=planned, sent=sent, failed=failed)

    async def wait_idle(self) -> None:
        """Return once no run is in progress (called before the bot stops)."""
        async with self._lock:
            return

    async def _deliver(self, reminder: Reminder) -> bool:
        """Send one reminder on its channels; mark it sent if any of them worked."""
        link = unsubscribe_url(self._settings, reminder.unsubscribe_token, reminder.language)
        errors: list[str] = []
        delivered = False
        if reminder.channel == TELEGRAM_CHANNEL:
            delivered |= await self._push(reminder, link, errors)
        if reminder.email and self._mailer.enabled:
            delivered |= await self._email(reminder, link, errors)
        if delivered:
            await asyncio.to_thread(self._participation.mark_sent, reminder.id)
        else:
            error = "; ".join(errors) or "no delivery channel"
            logger.warning("Reminder %s not delivered: %s", reminder.id, error)
            await asyncio.to_thread(self._participation.mark_failed, reminder.id, error)
        return delivered

    async def _push(self, reminder: Reminder, link: str, errors: list[str]) -> bool:
        bot = self._telegram_bot()
        _, _, chat = reminder.user_id.partition(":")
        if bot is None or not chat.lstrip("-").isdigit():
            errors.append("telegram: bot not running or bad chat id")
            return False
        try:
            await bot.send_message(chat_id=int(chat), text=telegram_text(reminder, link))
        except TelegramError as exc:
            errors.append(f"telegram: {type(exc).__name__}")
            return False
        return True

    async def _email(self, reminder: Reminder, link: str, errors: list[str]) -> bool:
        try:
            message = email_message(reminder, self._mailer.sender, link)
            await asyncio.to_thread(self._mailer.send, message)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            errors.append(f"e-mail: {type(exc).__name__}")
            return False
        return True


# Channels without a push implementation here: their reminders go out by e-mail only.
EMAIL_ONLY_CHANNELS = ("whatsapp",)


def _running_bot(app: FastAPI) -> BotProvider:
    def provider() -> Bot | None:
        webhook = getattr(app.state, "telegram", None)
        if webhook is None or not webhook.running:
            return None
        bot: Bot = webhook.application.bot
        return bot

    return provider


def build_router() -> APIRouter:
    """A route-less router whose lifespan runs the reminder scheduler.

    Included after the Telegram router, so its lifespan starts after the bot and
    stops before it: a run never finds the bot half shut down.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings: ChannelSettings = app.state.settings
        participation_settings: ParticipationSettings = app.state.participation_settings
        delivery = ReminderDelivery(
            app.state.participation,
            participation_settings,
            Mailer.from_settings(participation_settings, settings),
            _running_bot(app),
        )
        app.state.reminders = delivery
        scheduler = start_scheduler(delivery, settings, purge=app.state.participation)
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)
            await delivery.wait_idle()

    return APIRouter(lifespan=lifespan)


def start_scheduler(
    delivery: ReminderDelivery,
    settings: ChannelSettings,
    *,
    purge: ParticipationService | None = None,
) -> AsyncIOScheduler:
    """Start the delivery job (and the retention purge of `purge`) on the running loop.

    The gateway runs both; the Telegram polling process runs only the delivery, so
    that its bot can push reminders without a second purge job.
    """
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    scheduler.add_job(
        _run_logged,
        "interval",
        args=[delivery],
        id=JOB_ID,
        seconds=settings.reminder_interval_seconds,
        next_run_time=utc_now(),
        max_instances=1,
        coalesce=True,
    )
    if purge is not None:
        scheduler.add_job(
            _purge_logged,
            "interval",
            args=[purge],
            id=PURGE_JOB_ID,
            hours=settings.purge_interval_hours,
            next_run_time=utc_now(),
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    return scheduler


async def _run_logged(delivery: ReminderDelivery) -> None:
    """One scheduled run; a failure is logged and the next run tries again."""
    try:
        report = await delivery.run_once()
    except Exception:
        logger.exception("Delivering reminders failed; retrying at the next run")
        return
    if report.sent or report.failed:
        logger.info("Reminders: %s sent, %s failed", report.sent, report.failed)


async def _purge_logged(participation: ParticipationService) -> None:
    """Delete data past its retention period (PARTICIPATION_RETENTION_DAYS)."""
    try:
        counts = await asyncio.to_thread(participation.purge_expired, utc_now())
    except Exception:
        logger.exception("Purging expired data failed; retrying at the next run")
        return
    logger.info("Expired data purged: %s", counts)
