"""Delivering an operator's reply on the channel the user wrote from.

Web and REST users pull replies from the live stream (`operators_live.py`); Telegram
users get them pushed by the running bot (webhook mode: the bot lives in this process),
as plain text without a parse mode, so markup an operator typed is shown as typed.
WhatsApp users get a plain text message (no link preview) while the Cloud API's
customer-service window is open: 24 hours after the user last wrote; after that a
business may only send approved templates, so the reply waits in the transcript.
Whatever happens here, the reply is already stored: the transcript keeps it, and the
operator sees from the answer whether it reached the user.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final, Literal, TypeAlias

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from telegram import Bot
from telegram.error import TelegramError

from channels.whatsapp.config import WhatsAppConfig, WhatsAppConfigError
from channels.whatsapp.graph import GraphApiError, GraphClient
from participation.types import TicketMessageView, TicketView

logger = logging.getLogger(__name__)

Delivery: TypeAlias = Literal["stream", "sent", "failed", "outside_window", "unsupported"]
STREAM_CHANNELS: Final[tuple[str, ...]] = ("api", "web")
TELEGRAM: Final[str] = "telegram"
WHATSAPP: Final[str] = "whatsapp"
WHATSAPP_WINDOW: Final[dt.timedelta] = dt.timedelta(hours=24)


def _telegram_bot(request: Request) -> Bot | None:
    """The bot of this process when Telegram runs in webhook mode, else None."""
    webhook = getattr(request.app.state, "telegram", None)
    if webhook is None or not getattr(webhook, "running", False):
        return None
    bot: Bot = webhook.application.bot
    return bot


async def _to_telegram(request: Request, ticket: TicketView, text: str) -> Delivery:
    bot = _telegram_bot(request)
    _, _, chat = ticket.user_id.partition(":")
    if bot is None or not chat.lstrip("-").isdigit():
        logger.warning("Telegram reply to %s not sent: bot not running here", ticket.reference)
        return "failed"
    try:
        await bot.send_message(chat_id=int(chat), text=text)
    except TelegramError as exc:
        logger.warning("Telegram reply to %s failed: %s", ticket.reference, type(exc).__name__)
        return "failed"
    return "sent"


async def _to_whatsapp(
    request: Request, ticket: TicketView, message: TicketMessageView
) -> Delivery:
    try:
        config = WhatsAppConfig.from_settings(request.app.state.settings)
    except WhatsAppConfigError:
        config = None
    _, _, wa_id = ticket.user_id.partition(":")
    if config is None or not wa_id:
        return "failed"
    store = request.app.state.participation
    last = await run_in_threadpool(store.last_user_message_at, ticket.user_id)
    if last is None or message.created_at - last > WHATSAPP_WINDOW:
        return "outside_window"
    graph = GraphClient(config)
    text = {"type": "text", "text": {"preview_url": False, "body": message.text}}
    try:
        await graph.send(wa_id, text)
    except GraphApiError as exc:
        logger.warning("WhatsApp reply to %s failed: %s", ticket.reference, exc.code)
        return "failed"
    finally:
        await graph.aclose()
    return "sent"


async def deliver_reply(
    request: Request, ticket: TicketView, message: TicketMessageView
) -> Delivery:
    """Push the reply where the channel has push; say how it travels."""
    if ticket.channel in STREAM_CHANNELS:
        return "stream"
    if ticket.channel == TELEGRAM:
        return await _to_telegram(request, ticket, message.text)
    if ticket.channel == WHATSAPP:
        return await _to_whatsapp(request, ticket, message)
    return "unsupported"
