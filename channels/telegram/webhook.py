"""`POST /telegram/webhook`: Telegram's deliveries, checked, deduplicated, queued.

Telegram posts every update with the secret given to setWebhook in the
`X-Telegram-Bot-Api-Secret-Token` header; a request without it or with another one
gets 403 and is not looked at further. Accepted updates go on the PTB
application's queue and the route answers at once, so Telegram never waits for
Rasa; PTB processes them (per chat in order) and stopping the app drains the queue.

The router carries its own lifespan: the bot starts after the app's lifespan has
built the conversation service, and stops (pending updates answered) before the
Rasa client closes. If Telegram cannot be reached at start-up the gateway starts
anyway, answers 503 on this route (Telegram retries) and keeps trying to connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from pydantic import BaseModel
from telegram import Bot, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter

from channels.conversation import ConversationService
from channels.errors import ApiError, language_from_headers
from channels.schemas import ErrorResponse
from channels.settings import ChannelSettings
from channels.telegram.application import TelegramApplication, build_application
from channels.telegram.updates import RecentUpdateIds
from participation.service import ParticipationService

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookAck(BaseModel):
    """Answer to Telegram: the update was taken (`accepted`) or was a duplicate."""

    accepted: bool


class TelegramWebhook:
    """The bot behind the webhook route: start (with retries), accept updates, stop."""

    def __init__(self, application: TelegramApplication, secret: str, retry_seconds: float) -> None:
        """Serve `application`; only requests carrying `secret` are accepted."""
        self.application = application
        self._secret = secret.encode("utf-8")
        self._retry_seconds = retry_seconds
        self._recent = RecentUpdateIds()
        self._retry_task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls,
        settings: ChannelSettings,
        conversation: ConversationService,
        participation: ParticipationService | None = None,
    ) -> TelegramWebhook:
        """Build the bot for webhook mode from the gateway settings."""
        if settings.telegram_webhook_secret is None:
            raise ValueError("APP_TELEGRAM_WEBHOOK_SECRET is not set")
        return cls(
            build_application(settings, conversation, participation=participation),
            settings.telegram_webhook_secret.get_secret_value(),
            settings.telegram_startup_retry_seconds,
        )

    @property
    def running(self) -> bool:
        """True once the bot has started and can take updates."""
        return self.application.running

    def secret_matches(self, header: str | None) -> bool:
        """Constant-time check of the secret-token header."""
        return header is not None and secrets.compare_digest(header.encode(), self._secret)

    async def accept(self, update: Update) -> bool:
        """Queue `update` for processing unless its id was seen before."""
        if not self._recent.first_time(update.update_id):
            logger.info("Duplicate Telegram update %s ignored", update.update_id)
            return False
        await self.application.update_queue.put(update)
        return True

    async def start(self) -> None:
        """Start now, or keep retrying in the background while Telegram is unreachable."""
        try:
            await self._start_once()
        except Exception as exc:
            if not _log_start_failure(exc):
                return
            self._retry_task = asyncio.create_task(self._retry_until_started())

    async def stop(self) -> None:
        """Answer queued updates, then release the bot's connections."""
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        if self.application.post_shutdown is not None:
            await self.application.post_shutdown(self.application)

    async def _start_once(self) -> None:
        # Like run_webhook, without PTB's own web server; ready to take updates
        # before post_init tells Telegram where to send them. Safe to repeat.
        await self.application.initialize()
        if not self.application.running:
            await self.application.start()
        if self.application.post_init is not None:
            await self.application.post_init(self.application)
        logger.info("Telegram bot @%s started (webhook mode)", self.application.bot.username)

    async def _retry_until_started(self) -> None:
        while True:
            await asyncio.sleep(self._retry_seconds)
            try:
                await self._start_once()
            except Exception as exc:
                if _log_start_failure(exc):
                    continue
                return
            return


def _log_start_failure(exc: Exception) -> bool:
    """Log why the bot did not start; True when trying again later can help."""
    if isinstance(exc, InvalidToken):
        # Its message contains the token: never log it.
        logger.error("Telegram rejected APP_TELEGRAM_TOKEN; the Telegram channel stays off")
        return False
    if isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    ):
        logger.warning("Telegram is unreachable (%s); will retry", exc)
        return True
    logger.error("Setting up the Telegram bot failed; check its settings", exc_info=exc)
    return False


def parse_update(data: object, bot: Bot) -> Update | None:
    """The Update in a webhook body, or None when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        return Update.de_json(data, bot)
    except (TypeError, ValueError, KeyError):
        return None


def _webhook(request: Request) -> TelegramWebhook:
    webhook: TelegramWebhook = request.app.state.telegram
    return webhook


WebhookDep = Annotated[TelegramWebhook, Depends(_webhook)]


def router_from_settings(settings: ChannelSettings) -> APIRouter | None:
    """The Telegram webhook router in webhook mode with a token, else None."""
    return build_router() if settings.telegram_webhook_enabled else None


def build_router() -> APIRouter:
    """The `/telegram` route and the lifespan that owns the bot."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        webhook = TelegramWebhook.from_settings(
            app.state.settings, app.state.conversation, app.state.participation
        )
        app.state.telegram = webhook
        await webhook.start()
        try:
            yield
        finally:
            await webhook.stop()

    router = APIRouter(prefix="/telegram", tags=["telegram"], lifespan=lifespan)
    responses: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorResponse, "description": "Body is not a Telegram update"},
        403: {"model": ErrorResponse, "description": "Missing or wrong secret token"},
        503: {"model": ErrorResponse, "description": "Bot not connected yet; retry"},
    }

    @router.post("/webhook", response_model=WebhookAck, responses=responses)
    async def telegram_webhook(
        request: Request,
        webhook: WebhookDep,
        secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
    ) -> WebhookAck:
        """Take one update from Telegram; answer before it is processed."""
        language = language_from_headers(request)
        if not webhook.secret_matches(secret):
            raise ApiError(403, "forbidden", language)
        if not webhook.running:
            settings: ChannelSettings = request.app.state.settings
            retry = {"Retry-After": str(settings.retry_after_seconds)}
            raise ApiError(503, "assistant_unavailable", language, headers=retry)
        try:
            data = await request.json()
        except ValueError as exc:
            raise ApiError(400, "invalid_json", language) from exc
        update = parse_update(data, webhook.application.bot)
        if update is None:
            details: dict[str, object] = {"details": "body: not a Telegram Update"}
            raise ApiError(400, "invalid_request", language, values=details)
        return WebhookAck(accepted=await webhook.accept(update))

    return router
