"""`python -m channels.telegram`: run the bot by polling (local use, no public URL).

Reads the same `APP_*` settings as the gateway. Polling deletes any webhook of the
bot, so it refuses to run while APP_TELEGRAM_MODE=webhook: that would silently cut
off the production webhook. Due reminders of Telegram subscribers are pushed from
here (APP_REMINDERS_ENABLED, every APP_REMINDER_INTERVAL_SECONDS), as the gateway does
in webhook mode. Stop with Ctrl-C (or SIGTERM); pending updates are answered first.
"""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError
from telegram.error import InvalidToken

from channels.conversation import ConversationService
from channels.rasa_client import RasaClient
from channels.settings import ChannelSettings
from channels.telegram.application import ALLOWED_UPDATES, build_application
from channels.telegram.reminders import PollingReminders
from participation.service import ParticipationService

logger = logging.getLogger("channels.telegram")


def main() -> int:
    """Poll Telegram (or the configured Bot API base URL) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = ChannelSettings()
    except ValidationError as exc:
        logger.error("Invalid settings:\n%s", exc)
        return 2
    if settings.telegram_token is None or settings.telegram_mode != "polling":
        logger.error(
            "Polling needs APP_TELEGRAM_TOKEN and APP_TELEGRAM_MODE=polling (mode is %r).",
            settings.telegram_mode,
        )
        return 2
    rasa = RasaClient(str(settings.rasa_url), settings.rasa_timeout_seconds)
    participation = ParticipationService()
    conversation = ConversationService(rasa, settings, participation)
    # The gateway cannot push with a bot that lives in this process: deliver here.
    reminders = PollingReminders(settings, participation)
    application = build_application(
        settings,
        conversation,
        participation=participation,
        on_start=reminders.start,
        on_stop=reminders.stop,
        on_shutdown=rasa.aclose,
    )
    logger.info("Polling %s for updates; Rasa at %s", settings.telegram_base_url, settings.rasa_url)
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        # The exception's message contains the token: do not print it.
        logger.error("Telegram rejected APP_TELEGRAM_TOKEN.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
