"""Reminder delivery inside `python -m channels.telegram` (polling mode).

In webhook mode the bot lives in the gateway, whose scheduler pushes Telegram
reminders. In polling mode the bot is this separate process, so the gateway cannot
push with it: this process runs the same `ReminderDelivery` job with its own bot.
Claims are atomic, so a gateway delivering e-mails at the same time never sends a
reminder twice. The retention purge stays with the gateway.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot

from channels.reminders import Mailer, ReminderDelivery, start_scheduler
from channels.settings import ChannelSettings
from channels.telegram.application import TelegramApplication
from participation.service import ParticipationService

logger = logging.getLogger(__name__)


class PollingReminders:
    """Starts and stops the delivery job with the polling bot (its lifecycle hooks)."""

    def __init__(self, settings: ChannelSettings, participation: ParticipationService) -> None:
        """Deliver with `participation`'s store and SMTP settings, as the gateway does."""
        self._settings = settings
        self._participation = participation
        self._application: TelegramApplication | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._delivery: ReminderDelivery | None = None

    async def start(self, application: TelegramApplication) -> None:
        """Start the job (unless APP_REMINDERS_ENABLED=false); pushes wait for the bot."""
        if not self._settings.reminders_enabled:
            return
        self._application = application
        store_settings = self._participation.settings
        self._delivery = ReminderDelivery(
            self._participation,
            store_settings,
            Mailer.from_settings(store_settings, self._settings),
            self._running_bot,
        )
        self._scheduler = start_scheduler(self._delivery, self._settings)
        logger.info("Delivering reminders every %s s", self._settings.reminder_interval_seconds)

    async def stop(self, _: TelegramApplication) -> None:
        """Stop the job and let a run in progress finish while the bot can still send."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._delivery is not None:
            await self._delivery.wait_idle()

    def _running_bot(self) -> Bot | None:
        # Until the application runs (and after it stops), Telegram reminders stay pending.
        application = self._application
        if application is None or not application.running:
            return None
        return application.bot
