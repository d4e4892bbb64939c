"""What the bot does with each kind of update: commands, text, button clicks, media.

Every user message becomes one `Turn` of the shared `ConversationService`, with the
sender id `telegram:<chat_id>`, the user's Telegram `language_code` as a hint,
the chat's `/language` choice, if any, as an explicit preference, and the chat's
`/city` as metadata `city`. The channel's own
texts come from `channels/telegram/i18n`; the assistant's from Rasa.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import InputFile, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from channels.conversation import (
    AssistantUnavailable,
    ConversationService,
    Turn,
    TurnRejected,
    supported_language,
)
from channels.i18n import translate as translate_shared
from channels.place import clean_city, place_metadata
from channels.telegram.i18n import translate
from channels.telegram.rendering import (
    PayloadKeys,
    parse_feedback,
    render,
    split_text,
    with_feedback,
    without_feedback,
)
from knowledge.languages import EU_LANGUAGES
from participation.errors import InvalidInputError, NotFoundError, ParticipationError
from participation.service import ParticipationService

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
# `/language auto` drops the explicit choice; otherwise `hr`, `hr-HR` or `hr_hr`.
AUTOMATIC = "auto"
LANGUAGE_TAG = re.compile(r"[a-z]{2}(?:[-_][a-z]{2})?")

# bot_data keys (shared objects, set by `build_application`).
CONVERSATION = "conversation"
PARTICIPATION = "participation"
PAYLOAD_KEYS = "payload_keys"
DEFAULT_LANGUAGE = "default_language"
# chat_data keys (per chat; persisted when APP_TELEGRAM_STATE_FILE is set).
LANGUAGE_CHOICE = "language_choice"
LAST_LANGUAGE = "last_reply_language"
CITY = "city"
# `/city -` removes the chat's city.
NO_CITY = "-"

Context = ContextTypes.DEFAULT_TYPE

EXPORT_FILENAME = "civic-assistant-my-data.json"
# What can go wrong reading or erasing a user's data (the user is told to retry).
STORE_ERRORS = (ParticipationError, SQLAlchemyError, OSError)


def _conversation(context: Context) -> ConversationService:
    service: ConversationService = context.bot_data[CONVERSATION]
    return service


def _participation(context: Context) -> ParticipationService:
    service: ParticipationService = context.bot_data[PARTICIPATION]
    return service


def _sender_id(update: Update) -> str | None:
    chat = update.effective_chat
    return f"{CHANNEL}:{chat.id}" if chat is not None else None


def _payload_keys(context: Context) -> PayloadKeys:
    keys: PayloadKeys = context.bot_data[PAYLOAD_KEYS]
    return keys


def _chat_data(context: Context) -> dict[Any, Any]:
    return context.chat_data if context.chat_data is not None else {}


def _language_code(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user is not None else None


def chat_language(update: Update, context: Context) -> str:
    """Language for the channel's own texts in this chat.

    The explicit `/language` choice, else the language of the assistant's last reply
    here (what the user actually writes in), else the Telegram app's language.
    """
    data = _chat_data(context)
    return (
        supported_language(data.get(LANGUAGE_CHOICE))
        or supported_language(data.get(LAST_LANGUAGE))
        or supported_language(_language_code(update))
        or str(context.bot_data[DEFAULT_LANGUAGE])
    )


async def _send_text(update: Update, context: Context, text: str) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    for chunk in split_text(text):
        # A city name (or any value) in a channel text is shown as typed, never as markup.
        await context.bot.send_message(chat_id=chat.id, text=chunk)


async def _say(update: Update, context: Context, key: str, **values: object) -> None:
    await _send_text(update, context, translate(key, chat_language(update, context), **values))


def _turn(update: Update, context: Context, text: str) -> Turn:
    chat = update.effective_chat
    if chat is None:
        raise ValueError("an update without a chat cannot become a turn")
    return Turn(
        channel=CHANNEL,
        user_id=str(chat.id),
        text=text,
        explicit_language=_chat_data(context).get(LANGUAGE_CHOICE),
        language_hint=_language_code(update),
        extra_metadata=place_metadata(_chat_data(context).get(CITY), None),
    )


async def converse(update: Update, context: Context, text: str) -> None:
    """Send `text` to the assistant as this chat's next message and relay the reply."""
    chat = update.effective_chat
    if chat is None:
        return
    try:
        reply = await _conversation(context).handle(_turn(update, context, text))
    except TurnRejected as exc:
        language = chat_language(update, context)
        await _send_text(
            update, context, translate_shared(f"error.{exc.code}", language, **exc.values)
        )
        return
    except AssistantUnavailable:
        language = chat_language(update, context)
        await _send_text(update, context, translate_shared("error.assistant_unavailable", language))
        return
    _chat_data(context)[LAST_LANGUAGE] = reply.language
    if reply.erased:  # "forget me" in the conversation: the city goes with the rest
        _chat_data(context).pop(CITY, None)
    keys = _payload_keys(context)
    outgoing = [
        item for message in reply.messages for item in render(message, reply.language, keys)
    ]
    # The thumbs go under the last message only: one vote per answer, not per chunk.
    for item in with_feedback(outgoing, reply.turn_id, reply.language):
        await context.bot.send_message(
            chat_id=chat.id,
            text=item.text,
            entities=list(item.entities) or None,
            reply_markup=item.keyboard,
        )


async def start(update: Update, context: Context) -> None:
    """`/start`: greet and point to /help (Telegram sends it when a chat opens)."""
    await _say(update, context, "start")


async def show_help(update: Update, context: Context) -> None:
    """`/help`: what the assistant does and which commands exist."""
    await _say(update, context, "help")


async def choose_language(update: Update, context: Context) -> None:
    """`/language [code|auto]`: show, set or clear the chat's explicit reply language."""
    data = _chat_data(context)
    codes = ", ".join(EU_LANGUAGES)
    args = context.args or []
    if not args:
        choice = supported_language(data.get(LANGUAGE_CHOICE))
        key = "language.current" if choice else "language.automatic"
        await _say(update, context, key, code=choice, codes=codes)
        return
    requested = args[0].strip().lower()
    if requested == AUTOMATIC:
        data.pop(LANGUAGE_CHOICE, None)
        await _say(update, context, "language.cleared")
        return
    code = supported_language(requested) if LANGUAGE_TAG.fullmatch(requested) else None
    if code is None:
        await _say(update, context, "language.unsupported", requested=args[0][:16], codes=codes)
        return
    data[LANGUAGE_CHOICE] = code
    await _send_text(update, context, translate("language.set", code, code=code))


async def choose_city(update: Update, context: Context) -> None:
    """`/city [name|-]`: show, set or remove the chat's city (sent with each message).

    Only the name is kept, in the chat's settings; /forget removes it with the rest.
    """
    data = _chat_data(context)
    given = " ".join(context.args or [])
    if not given:
        city = data.get(CITY)
        await _say(update, context, "city.current" if city else "city.none", city=city)
        return
    if given.strip() == NO_CITY:
        data.pop(CITY, None)
        await _say(update, context, "city.cleared")
        return
    city = clean_city(given)
    if city is None:
        await _say(update, context, "city.invalid")
        return
    data[CITY] = city
    await _say(update, context, "city.set", city=city)


async def forget(update: Update, context: Context) -> None:
    """`/forget`: erase everything kept about this chat and start afresh.

    The participation store erases the chat's questions, votes, subscriptions,
    proposals and tickets and its Rasa conversation (tracker events), so the next
    message starts a new conversation. The chat's settings (`/language`) go too.
    """
    language = chat_language(update, context)
    sender_id = _sender_id(update)
    if sender_id is None:
        return
    try:
        await asyncio.to_thread(_participation(context).forget_user, sender_id)
    except STORE_ERRORS:
        logger.exception("Erasing a Telegram user's data failed")
        await _send_text(update, context, translate("forget.failed", language))
        return
    _chat_data(context).clear()
    await _send_text(update, context, translate("forget.done", language))


async def export(update: Update, context: Context) -> None:
    """`/export`: send the chat everything kept about it, as a JSON file."""
    language = chat_language(update, context)
    chat = update.effective_chat
    sender_id = _sender_id(update)
    if chat is None or sender_id is None:
        return
    try:
        data = await asyncio.to_thread(_participation(context).export_user, sender_id)
    except STORE_ERRORS:
        logger.exception("Exporting a Telegram user's data failed")
        await _send_text(update, context, translate("export.failed", language))
        return
    data["telegram_settings"] = dict(_chat_data(context))
    content = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await context.bot.send_document(
        chat_id=chat.id,
        document=InputFile(content, filename=EXPORT_FILENAME),
        caption=translate("export.caption", language),
    )


async def unknown_command(update: Update, context: Context) -> None:
    """Any other `/command`: say so instead of passing it to Rasa as an intent."""
    await _say(update, context, "unknown_command")


async def text_message(update: Update, context: Context) -> None:
    """A plain text message: one turn of the conversation."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await converse(update, context, message.text)


async def button_click(update: Update, context: Context) -> None:
    """An inline button: stop the client's spinner, then send the button's payload."""
    query = update.callback_query
    if query is None:
        return
    payload = _payload_keys(context).payload(query.data or "")
    if payload is None:
        await query.answer(text=translate("button.expired", chat_language(update, context)))
        return
    await query.answer()
    await converse(update, context, payload)


async def feedback_click(update: Update, context: Context) -> None:
    """A 👍 / 👎 tap: store the vote, thank the user, take the thumbs off the message.

    The callback data comes from the client and can be forged: malformed data or a
    turn of another chat (the store checks ownership) gets a polite toast and changes
    nothing. A storage failure is logged and the user is asked to try later; the
    thumbs stay so that they can. A repeated vote (an old client, a double tap)
    simply replaces the earlier one in the store.
    """
    query = update.callback_query
    sender_id = _sender_id(update)
    if query is None:
        return
    language = chat_language(update, context)
    vote = parse_feedback(query.data or "")
    if vote is None or sender_id is None:
        await query.answer(text=translate("feedback.invalid", language))
        return
    turn_id, up = vote
    try:
        await asyncio.to_thread(
            _participation(context).record_feedback,
            user_id=sender_id,
            turn_id=turn_id,
            rating=1 if up else -1,
        )
    except (NotFoundError, InvalidInputError):
        await query.answer(text=translate("feedback.invalid", language))
        return
    except STORE_ERRORS:
        logger.exception("Storing a Telegram user's feedback failed")
        await query.answer(text=translate("feedback.failed", language))
        return
    await query.answer(text=translate("feedback.thanks", language))
    message = query.message
    if isinstance(message, Message):
        # The vote is stored; a message that can no longer be edited is no reason to fail.
        try:
            await query.edit_message_reply_markup(
                reply_markup=without_feedback(message.reply_markup)
            )
        except TelegramError as exc:
            logger.warning("Removing the feedback buttons failed: %s", exc)


async def not_text(update: Update, context: Context) -> None:
    """Voice, photo, sticker and other media: explain that only text is understood."""
    await _say(update, context, "non_text")


async def on_error(update: object, context: Context) -> None:
    """Log every error with its traceback; tell the user something went wrong."""
    # The update id, not the update: messages are personal data and stay out of logs.
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Telegram update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    text = translate_shared("error.internal", chat_language(update, context))
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(chat_id=update.effective_chat.id, text=text)
