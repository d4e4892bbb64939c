"""The python-telegram-bot `Application`: built once, used for webhook and polling.

`build_application` wires the shared `ConversationService` into PTB: handlers in
explicit groups, one error handler, Telegram's flood limits, per-chat ordering and
the lifecycle hooks that register the webhook and the command menu. The webhook
route (`channels.telegram.webhook`) and `python -m channels.telegram` (polling)
both start from here, so the two modes behave the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    MessageHandler,
    PersistenceInput,
    PicklePersistence,
    filters,
)

from channels.conversation import ConversationService
from channels.settings import ChannelSettings
from channels.telegram import handlers
from channels.telegram.flood import FloodLimiter
from channels.telegram.i18n import FALLBACK_LANGUAGE, available_languages, translate
from channels.telegram.rendering import FEEDBACK_MARKER, PayloadKeys
from channels.telegram.updates import PerChatUpdateProcessor
from participation.service import ParticipationService

logger = logging.getLogger(__name__)

# ExtBot[int]: the rate limiter's per-request argument is a retry count.
TelegramApplication = Application[
    ExtBot[int],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    None,
]
ShutdownHook = Callable[[], Awaitable[None]]
LifecycleHook = Callable[[TelegramApplication], Awaitable[None]]

# Only these update types are requested from Telegram; everything else is not sent.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
COMMANDS = ("start", "help", "language", "city", "forget", "export")

# Handler groups: PTB runs at most one handler per group, groups in ascending order.
GROUP_COMMANDS = 0
GROUP_CONVERSATION = 1
GROUP_OTHER = 2

_NEW_MESSAGE = filters.UpdateType.MESSAGE
# Every callback that claims to be a vote goes to the vote handler, forged ones too.
FEEDBACK_PATTERN = f"^{FEEDBACK_MARKER}"


def build_application(
    settings: ChannelSettings,
    conversation: ConversationService,
    *,
    participation: ParticipationService | None = None,
    on_start: LifecycleHook | None = None,
    on_stop: LifecycleHook | None = None,
    on_shutdown: ShutdownHook | None = None,
) -> TelegramApplication:
    """Build (not start) the bot for `settings.telegram_mode`.

    Args:
        settings: gateway settings; the Telegram token must be set.
        conversation: the service every channel uses to talk to Rasa.
        participation: the store `/export` and `/forget` read and erase (default:
            one from the `PARTICIPATION_*` settings).
        on_start: awaited once the bot is initialised, before updates are fetched
            (polling mode starts its reminder delivery here).
        on_stop: awaited once the bot stops taking updates, while it can still send
            (polling mode stops its reminder delivery here).
        on_shutdown: awaited after the bot has shut down (polling mode closes its
            own Rasa client here; in webhook mode the app's lifespan owns it).

    Raises:
        ValueError: no Telegram token is configured.
    """
    if settings.telegram_token is None:
        raise ValueError("APP_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    secret = settings.telegram_webhook_secret
    redact_secrets_in_logs(token, secret.get_secret_value() if secret is not None else "")

    async def post_init(application: TelegramApplication) -> None:
        await register_webhook(application, settings)
        await publish_commands(application)
        if on_start is not None:
            await on_start(application)

    async def post_stop(application: TelegramApplication) -> None:
        if on_stop is not None:
            await on_stop(application)

    async def post_shutdown(_: TelegramApplication) -> None:
        if on_shutdown is not None:
            await on_shutdown()

    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_base_url)
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(FloodLimiter())
        .concurrent_updates(PerChatUpdateProcessor(settings.telegram_concurrent_updates))
        .job_queue(None)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if settings.telegram_mode == "webhook":
        # Updates arrive through our FastAPI route, not through PTB's own fetcher.
        builder = builder.updater(None)
    if settings.telegram_state_file is not None:
        builder = builder.persistence(_chat_persistence(settings.telegram_state_file))
    application: TelegramApplication = builder.build()
    application.bot_data.update(
        {
            handlers.CONVERSATION: conversation,
            handlers.PARTICIPATION: participation or ParticipationService(),
            handlers.PAYLOAD_KEYS: PayloadKeys(),
            handlers.DEFAULT_LANGUAGE: settings.default_language,
        }
    )
    register_handlers(application)
    return application


def register_handlers(application: TelegramApplication) -> None:
    """Add the handlers in their groups and the single error handler."""
    # Commands: the known ones, then any other /command (never forwarded to Rasa).
    for name, callback in (
        ("start", handlers.start),
        ("help", handlers.show_help),
        ("language", handlers.choose_language),
        ("city", handlers.choose_city),
        ("forget", handlers.forget),
        ("export", handlers.export),
    ):
        application.add_handler(CommandHandler(name, callback, _NEW_MESSAGE), GROUP_COMMANDS)
    application.add_handler(
        MessageHandler(_NEW_MESSAGE & filters.COMMAND, handlers.unknown_command), GROUP_COMMANDS
    )
    # Conversation: plain text messages and inline button clicks go to the assistant.
    application.add_handler(
        MessageHandler(_NEW_MESSAGE & filters.TEXT & ~filters.COMMAND, handlers.text_message),
        GROUP_CONVERSATION,
    )
    # Votes first: within a group the first matching handler wins, and votes must
    # never reach the assistant as if they were a button's payload.
    application.add_handler(
        CallbackQueryHandler(handlers.feedback_click, pattern=FEEDBACK_PATTERN),
        GROUP_CONVERSATION,
    )
    application.add_handler(CallbackQueryHandler(handlers.button_click), GROUP_CONVERSATION)
    # Anything else a user sends (voice, photo, sticker, ...): explain that we read text.
    application.add_handler(
        MessageHandler(_NEW_MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text),
        GROUP_OTHER,
    )
    # One error handler: log with traceback, apologise to the user.
    application.add_error_handler(handlers.on_error)


async def register_webhook(application: TelegramApplication, settings: ChannelSettings) -> None:
    """In webhook mode with a public URL, tell Telegram where to post, with the secret.

    Calling setWebhook on every start is harmless (Telegram keeps one webhook per
    bot) and repairs a webhook that was deleted or pointed elsewhere.
    """
    if settings.telegram_mode != "webhook" or settings.telegram_webhook_url is None:
        return
    secret = settings.telegram_webhook_secret
    await application.bot.set_webhook(
        url=str(settings.telegram_webhook_url),
        secret_token=secret.get_secret_value() if secret is not None else None,
        allowed_updates=ALLOWED_UPDATES,
    )
    logger.info("Telegram webhook registered at %s", settings.telegram_webhook_url)


async def publish_commands(application: TelegramApplication) -> None:
    """Show the commands in Telegram's menu, described in each translated language.

    The menu is a convenience: if Telegram refuses, the bot still works, so a
    failure is logged and not raised.
    """
    try:
        for language in available_languages():
            commands = [
                BotCommand(name, translate(f"command.{name}", language)) for name in COMMANDS
            ]
            code = None if language == FALLBACK_LANGUAGE else language
            await application.bot.set_my_commands(commands, language_code=code)
    except TelegramError:
        logger.warning("Could not publish the Telegram command menu", exc_info=True)


def _chat_persistence(path: Path) -> PicklePersistence[Any, Any, Any]:
    """Keep only chat_data (/language, /city); bot_data holds live objects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return PicklePersistence(
        filepath=path,
        store_data=PersistenceInput(
            bot_data=False, chat_data=True, user_data=False, callback_data=False
        ),
    )


# Loggers that print Bot API URLs (which contain the token) or request parameters
# (setWebhook's secret_token) at INFO or DEBUG level.
_LOGGERS_WITH_SECRETS = (
    "httpx",
    "telegram.Bot",
    "telegram.ext",
    "telegram.ext.Application",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)
REDACTED = "<telegram-token>"


class _RedactSecrets(logging.Filter):
    """Replace the bot token and webhook secret in log messages and tracebacks."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = secrets

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            record.msg = self._redact(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so the redacted traceback is what gets printed.
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
        return True


def redact_secrets_in_logs(*secrets: str) -> None:
    """Keep `secrets` out of the logs of httpx and PTB (installed once per set)."""
    wanted = tuple(s for s in secrets if s)
    for name in _LOGGERS_WITH_SECRETS:
        target = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecrets) and f.secrets == wanted for f in target.filters):
            target.addFilter(_RedactSecrets(wanted))
