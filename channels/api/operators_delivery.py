"""Delivering an operator's reply on the channel the user wrote from.

Web and REST users pull replies from the live stream (`operators_live.py`); Telegram
users get them pushed by the running bot (webhook mode: the bot lives in this process),
as plain text without a parse mode, so markup an operator typed is shown as typed.
Whatever happens here, the reply is already stored: the transcript keeps it, and the
operator sees from the answer whether it reached the user.
"""

from __future__ import annotations

import logging
from typing import Final, Literal, TypeAlias

from fastapi import Request
from telegram import Bot
from telegram.error import TelegramError

from participation.types import TicketMessageView, TicketView

logger = logging.getLogger(__name__)

Delivery: TypeAlias = Literal["stream", "sent", "failed", "unsupported"]
STREAM_CHANNELS: Final[tuple[str, ...]] = ("api", "web")
TELEGRAM: Final[str] = "telegram"


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


async def deliver_reply(
    request: Request, ticket: TicketView, message: TicketMessageView
) -> Delivery:
    """Push the reply where the channel has push; say how it travels."""
    if ticket.channel in STREAM_CHANNELS:
        return "stream"
    if ticket.channel == TELEGRAM:
        return await _to_telegram(request, ticket, message.text)
    return "unsupported"
