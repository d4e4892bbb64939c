"""One conversation turn, the same for every channel (REST, widget, Telegram, ...).

A channel turns its input into a `Turn` (its name, its own user id, the text and
language hints); this module checks the text, namespaces the sender id, asks Rasa
and returns the assistant's messages with the turn's language. Channels only render
the `Reply`, or the translated error of `TurnRejected` / `AssistantUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from channels.i18n import translate
from channels.markup import without_duplicate_links
from channels.rasa_client import RasaClient, RasaTurn, RasaUnavailableError
from channels.schemas import Button, ChatMessage, Link
from channels.settings import ChannelSettings
from knowledge.languages import EU_LANGUAGES
from participation.errors import ParticipationError
from participation.service import ParticipationService

logger = logging.getLogger(__name__)

# Rasa reads a message that starts with this as an intent with entities, skipping NLU.
PAYLOAD_PREFIX = "/"
# Rasa's payload syntax after the slash: intent, optional JSON entities, optional @confidence.
_PAYLOAD_SYNTAX = re.compile(
    r"(?P<intent>[\w.-]+)\s*(?P<entities>\{.*\})?\s*(?P<confidence>@[0-9.]+)?", re.DOTALL
)
# A button the bot offers during a handover: the user wants the assistant back.
RETURN_TO_BOT_PAYLOAD = "/return_to_bot"
# A UTF-16 surrogate on its own (a valid pair is one character in Python).
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Turn:
    """One user message as a channel received it."""

    channel: str
    user_id: str
    text: str
    explicit_language: str | None = None
    language_hint: str | None = None
    extra_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def sender_id(self) -> str:
        """Rasa sender id, namespaced so channels never share a tracker."""
        return f"{self.channel}:{self.user_id}"


@dataclass(frozen=True)
class Reply:
    """What the assistant answered, in `language`.

    `turn_id` names the turn for feedback (thumbs up/down); None when the turn could
    not be recorded (no participation store, or it failed: the answer still counts).
    `erased` says that the assistant erased the user's data in this turn ("forget me"),
    so a channel drops what it keeps about the chat too (the city it sends along).
    """

    language: str
    messages: list[ChatMessage]
    turn_id: int | None = None
    erased: bool = False


class TurnRejected(Exception):
    """The user's input cannot be processed; `code` names an `error.*` text."""

    def __init__(self, code: str, language: str, **values: object) -> None:
        """Remember the error code, the language to explain it in, and its values."""
        super().__init__(code)
        self.code = code
        self.language = language
        self.values: dict[str, object] = dict(values)

    def message(self) -> str:
        """The polite explanation in the user's language."""
        return translate(f"error.{self.code}", self.language, **self.values)


class AssistantUnavailable(Exception):
    """Rasa (or what it depends on) is down; the channel should say so and retry later."""

    def __init__(self, language: str) -> None:
        """Remember the language to apologise in."""
        super().__init__("assistant_unavailable")
        self.language = language

    def message(self) -> str:
        """The polite explanation in the user's language."""
        return translate("error.assistant_unavailable", self.language)


def supported_language(code: str | None) -> str | None:
    """`code` reduced to a supported two-letter code (`hr-HR` -> `hr`), else None."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return base if base in EU_LANGUAGES else None


class OfferedPayloads:
    """The button payloads each sender was offered in their last few replies.

    Rasa treats a message starting with `/` as an intent plus entities, so a user could
    type `/restart` or `/inform{"country": "HR"}` and set slots no button ever offered.
    Only payloads remembered here pass to Rasa unchanged. The memory is bounded (least
    recently active senders are forgotten first) and lives in this process: after a
    restart, or on another replica, an old button is sent as plain text instead.
    """

    def __init__(self, max_senders: int, replies_per_sender: int) -> None:
        """Remember payloads of `replies_per_sender` replies for `max_senders` senders."""
        self._max_senders = max_senders
        self._replies = replies_per_sender
        self._offers: OrderedDict[str, deque[frozenset[str]]] = OrderedDict()

    def remember(self, sender_id: str, payloads: list[str]) -> None:
        """Record the payloads of the reply just sent (an empty reply still counts).

        A reply without buttons pushes older offers out, so a stale keyboard grants
        nothing for long.
        """
        offers = self._offers.pop(sender_id, None)
        if offers is None:
            offers = deque(maxlen=self._replies)
        offers.append(frozenset(payloads))
        self._offers[sender_id] = offers
        while len(self._offers) > self._max_senders:
            self._offers.popitem(last=False)

    def was_offered(self, sender_id: str, payload: str) -> bool:
        """True when `payload` was a button of one of the sender's recent replies."""
        offers = self._offers.get(sender_id)
        return offers is not None and any(payload in offer for offer in offers)


def without_lone_surrogates(text: str) -> str:
    """`text` with unpaired UTF-16 surrogates replaced by U+FFFD.

    JSON may carry an escaped lone surrogate (U+D800), which Python decodes into a string
    that cannot be encoded as UTF-8: Rasa's client, the database and the logs fail on it.
    """
    return _SURROGATE.sub("\ufffd", text)


def defused(text: str) -> str:
    """`text` without its leading slashes, so Rasa's NLU reads it as words.

    A typed payload in Rasa's own syntax (`/inform{"budget": 9}@0.9`) keeps only its
    intent name: the entity object and confidence are values nobody offered, and read
    as words the form's parser would still take the budget from them.
    """
    while text.startswith(PAYLOAD_PREFIX):
        text = text.lstrip(PAYLOAD_PREFIX).strip()
    payload = _PAYLOAD_SYNTAX.fullmatch(text)
    if payload and (payload["entities"] or payload["confidence"]):
        return payload["intent"].replace("_", " ")
    return text


class ConversationService:
    """Checks input, talks to Rasa and shapes its answer for the channels."""

    def __init__(
        self,
        rasa: RasaClient,
        settings: ChannelSettings,
        participation: ParticipationService | None = None,
    ) -> None:
        """Use `rasa` for every turn, `settings` for the limits.

        Args:
            rasa: client of the Rasa server.
            settings: gateway settings.
            participation: where each answered turn is recorded (questions per day,
                content gaps, feedback); None records nothing.
        """
        self._rasa = rasa
        self._settings = settings
        self._participation = participation
        self._offered = OfferedPayloads(
            settings.offered_payload_senders, settings.offered_payload_replies
        )

    def fallback_language(self, turn: Turn) -> str:
        """Language to answer in before Rasa has decided (errors, outages)."""
        return (
            supported_language(turn.explicit_language)
            or supported_language(turn.language_hint)
            or self._settings.default_language
        )

    def checked_text(self, turn: Turn) -> str:
        """The text to send to Rasa, or TurnRejected for empty or oversized input."""
        language = self.fallback_language(turn)
        text = without_lone_surrogates(turn.text).strip()
        if not text:
            raise TurnRejected("message_empty", language)
        limit = self._settings.max_message_chars
        if len(text) > limit:
            raise TurnRejected("message_too_long", language, length=len(text), limit=limit)
        return text

    def unforged_text(self, turn: Turn) -> str:
        """The checked text, with a payload nobody offered this sender turned into words.

        A button click arrives as the button's payload (`/affirm`); a typed `/restart`
        or `/inform{...}` looks the same but was never offered, and goes to NLU as text.
        """
        text = self.checked_text(turn)
        if not text.startswith(PAYLOAD_PREFIX) or self._offered.was_offered(turn.sender_id, text):
            return text
        logger.info("A %s user sent a payload that was not offered; sent as text", turn.channel)
        plain = defused(text)
        if not plain:
            raise TurnRejected("message_empty", self.fallback_language(turn))
        return plain

    async def handle(self, turn: Turn) -> Reply:
        """Run one turn through Rasa; never returns an empty reply.

        The exception: while an operator holds the conversation the bot stays silent,
        the message goes to the operator, and the reply has no messages.
        """
        text = self.unforged_text(turn)
        held = await self.pass_to_operator_if_held(turn, text)
        if held is not None:
            return held
        language = self.fallback_language(turn)
        metadata: dict[str, Any] = {"want_meta": True, "channel": turn.channel}
        metadata.update(turn.extra_metadata)
        if turn.language_hint:
            metadata["lang_hint"] = turn.language_hint
        explicit = supported_language(turn.explicit_language)
        if explicit:
            metadata["lang_pref"] = explicit
        try:
            rasa_turn = await self._rasa.send(turn.sender_id, text, metadata)
        except RasaUnavailableError as exc:
            raise AssistantUnavailable(language) from exc
        if rasa_turn.language is None:
            # Every turn runs action_validate_slot_mappings, which reports the turn's
            # language; without it the action server is down and Rasa would answer
            # with its untranslated defaults. Say so politely instead.
            raise AssistantUnavailable(language)
        reply_language = rasa_turn.language
        messages = assemble_messages(rasa_turn.messages)
        if not messages:
            messages = [ChatMessage(text=translate("reply.empty", reply_language))]
        self._offered.remember(turn.sender_id, [b.payload for m in messages for b in m.buttons])
        erased = rasa_turn.info.get("erased") is True
        if erased:
            await self._erase_again(turn.sender_id)
            turn_id = None
        else:
            turn_id = await self._record(turn, text, rasa_turn, reply_language)
        return Reply(language=reply_language, messages=messages, turn_id=turn_id, erased=erased)

    async def pass_to_operator_if_held(self, turn: Turn, text: str) -> Reply | None:
        """If a person has this conversation (a claimed ticket), hand them the message.

        Returns the bot's silent reply, or None to let Rasa answer (no operator holds it,
        or the store cannot tell: then the bot answering beats the user hearing nothing).
        """
        if self._participation is None:
            return None
        store = self._participation
        try:
            if text == RETURN_TO_BOT_PAYLOAD:
                # The user asked for the assistant back: the person's tickets close and
                # Rasa answers the payload (its response says the assistant is back).
                await asyncio.to_thread(store.return_to_bot, turn.sender_id)
                return None
            reference = await asyncio.to_thread(store.held_ticket, turn.sender_id)
            if reference is None:
                return None
            await asyncio.to_thread(store.add_ticket_message, reference, text)
        except Exception:
            logger.exception("Could not pass a %s turn to its operator", turn.channel)
            return None
        return Reply(language=self.fallback_language(turn), messages=[])

    async def _erase_again(self, sender_id: str) -> None:
        """Erase once more after a "forget me" turn.

        Rasa saves the turn's tracker at its end, which writes the conversation back
        after the action server deleted it.
        """
        if self._participation is None:
            return
        try:
            await asyncio.to_thread(self._participation.forget_user, sender_id)
        except ParticipationError:
            logger.warning("Could not finish erasing a conversation; the next erasure will")

    async def _record(
        self, turn: Turn, text: str, rasa_turn: RasaTurn, language: str
    ) -> int | None:
        """Record the question for the reports; never let a storage failure cost the answer.

        The database call blocks, so it runs in a worker thread.
        """
        if self._participation is None:
            return None
        try:
            return await asyncio.to_thread(
                self._participation.record_question,
                user_id=turn.sender_id,
                language=language,
                text=text,
                intent=rasa_turn.intent,
                confidence=rasa_turn.confidence,
                answered=rasa_turn.answered,
                record_ids=rasa_turn.records,
            )
        except Exception:
            # The user still gets the answer; the log names the channel, never the user.
            logger.exception("Could not record a %s turn; answering anyway", turn.channel)
            return None


def assemble_messages(items: list[dict[str, Any]]) -> list[ChatMessage]:
    """Channel-neutral messages from Rasa's REST output.

    Rasa sends a response's text and its custom JSON (our source links) as two
    items; links without text belong to the message before them. A link whose URL
    the text already shows is dropped: a URL is never shown twice.
    """
    messages: list[ChatMessage] = []
    for item in items:
        message = to_chat_message(item)
        if message is None:
            continue
        if not message.text and not message.buttons and messages:
            messages[-1].links.extend(message.links)
            continue
        messages.append(message)
    return [without_duplicate_links(message) for message in messages]


def to_chat_message(item: dict[str, Any]) -> ChatMessage | None:
    """Turn one Rasa REST message into a channel-neutral message, or None."""
    text = item.get("text")
    custom = item.get("custom")
    raw_links = custom.get("links", []) if isinstance(custom, dict) else []
    links = [
        Link(title=str(link.get("title") or link["url"]), url=link["url"])
        for link in raw_links
        if isinstance(link, dict) and isinstance(link.get("url"), str)
    ]
    if not isinstance(text, str) and not links:
        return None
    buttons = [
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in item.get("buttons") or []
        if isinstance(b, dict)
    ]
    return ChatMessage(text=text if isinstance(text, str) else "", buttons=buttons, links=links)
