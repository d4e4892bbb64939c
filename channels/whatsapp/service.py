"""The WhatsApp channel: accepted webhook messages in, answers out, in the background.

Meta expects the webhook to answer quickly and retries (for days) when it does not,
so the router only verifies, parses and deduplicates, then `accept` schedules one
task per message and returns. Tasks of one user run in order (one lock per user);
every failure is logged and, where it concerns the user, answered politely.

WhatsApp has no bot commands, so the channel reads one itself: `city Rijeka` (or
`/city Rijeka`, `city: Rijeka`) keeps the user's city, sent with every message as
metadata `city`; `city` shows it and `city -` removes it. The city lives in this
process only (like the last language) and goes when the assistant erases the
user's data ("forget me").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass

from channels.conversation import (
    AssistantUnavailable,
    ConversationService,
    Turn,
    TurnRejected,
    supported_language,
)
from channels.place import clean_city, place_metadata
from channels.whatsapp.config import WhatsAppConfig
from channels.whatsapp.graph import GraphApiError, GraphClient
from channels.whatsapp.i18n import translate
from channels.whatsapp.inbound import InboundMessage, Kind, WebhookPayload, inbound_messages
from channels.whatsapp.language import language_from_phone
from channels.whatsapp.memory import KeyedLocks, LruDict, SeenIds
from channels.whatsapp.outbound import ButtonIds, Payload, render_message, render_text

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
# How many message ids and user languages to remember (a few MB at most).
MEMORY_CAPACITY = 50_000
# How long shutdown waits for answers still being prepared before cancelling them.
DRAIN_SECONDS = 10.0
# `city`, `/city`, `city:` followed by a name, `-` or nothing.
_CITY_COMMAND = re.compile(r"\s*(/)?city\b\s*(:)?\s*(.*)", re.IGNORECASE | re.DOTALL)
# Without the slash or the colon, "city <name>" must be short: "city of Zagreb
# participatory budget?" is a question for the assistant, not a command.
_BARE_CITY_MAX_WORDS = 3
NO_CITY = "-"


@dataclass(frozen=True)
class CityCommand:
    """A typed `city ...` command: `name` is None to show the city, "" to remove it."""

    name: str | None


def city_command(text: str) -> CityCommand | None:
    """The city command in `text`, or None when the text is a message for the assistant."""
    match = _CITY_COMMAND.fullmatch(text)
    if match is None:
        return None
    slash, colon, rest = match.group(1), match.group(2), match.group(3).strip()
    if not rest:
        return CityCommand(name=None)
    if rest == NO_CITY:
        return CityCommand(name="")
    if not (slash or colon) and (len(rest.split()) > _BARE_CITY_MAX_WORDS or "?" in rest):
        return None
    return CityCommand(name=rest)


def user_ref(wa_id: str) -> str:
    """A stable pseudonym for logs: phone numbers are personal data."""
    return "wa-" + hashlib.sha256(wa_id.encode("utf-8")).hexdigest()[:10]


class WhatsAppChannel:
    """Turns accepted webhook messages into conversation turns and sends the replies."""

    def __init__(
        self,
        config: WhatsAppConfig,
        conversation: ConversationService,
        default_language: str,
        graph: GraphClient | None = None,
    ) -> None:
        """Use `conversation` for every turn; `graph` defaults to the configured API."""
        self._config = config
        self._conversation = conversation
        self._default_language = default_language
        self._graph = graph or GraphClient(config)
        self._seen = SeenIds(MEMORY_CAPACITY)
        self._languages: LruDict[str] = LruDict(MEMORY_CAPACITY)
        self._cities: LruDict[str] = LruDict(MEMORY_CAPACITY)
        self._button_ids = ButtonIds(MEMORY_CAPACITY)
        self._user_locks = KeyedLocks()
        self._tasks: set[asyncio.Task[None]] = set()

    def accept(self, payload: WebhookPayload) -> int:
        """Schedule every new message of `payload`; return how many were new."""
        accepted = 0
        for message in inbound_messages(payload, self._config.phone_number_id):
            if not self._seen.first_time(message.message_id):
                logger.info("Duplicate WhatsApp message %s ignored", message.message_id)
                continue
            task = asyncio.create_task(self._process(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            accepted += 1
        return accepted

    async def aclose(self) -> None:
        """Let answers in progress finish (bounded), then close the Graph client."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=DRAIN_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                logger.warning("Cancelled %d WhatsApp answers at shutdown", len(pending))
                await asyncio.gather(*pending, return_exceptions=True)
        await self._graph.aclose()

    async def _process(self, message: InboundMessage) -> None:
        """Answer one message; never raises (a background task has nobody to raise to)."""
        try:
            async with self._user_locks.hold(message.wa_id):
                if self._config.mark_read:
                    await self._mark_read(message)
                for payload in await self._answer(message):
                    await self._graph.send(message.wa_id, payload)
        except GraphApiError as exc:
            logger.error("Could not answer %s: %s", user_ref(message.wa_id), exc)
        except Exception:
            logger.exception("Failed to answer WhatsApp message from %s", user_ref(message.wa_id))

    async def _mark_read(self, message: InboundMessage) -> None:
        try:
            await self._graph.mark_read(message.message_id)
        except GraphApiError as exc:
            # Blue ticks are a courtesy: the answer matters more.
            logger.warning("Could not mark %s as read: %s", message.message_id, exc)

    def _hint(self, wa_id: str) -> str | None:
        """This user's last reply language, else their calling code's language."""
        return self._languages.get(wa_id) or language_from_phone(wa_id)

    async def _answer(self, message: InboundMessage) -> list[Payload]:
        """What to send back to one message (possibly nothing)."""
        if message.kind is Kind.SILENT:
            return []
        hint = self._hint(message.wa_id)
        if message.kind is Kind.UNSUPPORTED:
            language = supported_language(hint) or self._default_language
            return render_text(translate(message.unsupported_key, language))
        command = city_command(message.text) if message.kind is Kind.TEXT else None
        if command is not None:
            return self._city(message.wa_id, command, supported_language(hint) or "")
        turn = Turn(
            channel=CHANNEL,
            user_id=message.wa_id,
            text=self._turn_text(message),
            language_hint=hint,
            extra_metadata=place_metadata(self._cities.get(message.wa_id), None),
        )
        try:
            reply = await self._conversation.handle(turn)
        except TurnRejected as exc:
            return render_text(exc.message())
        except AssistantUnavailable as exc:
            logger.warning("Rasa unavailable; asked %s to retry", user_ref(message.wa_id))
            return render_text(exc.message())
        self._languages.put(message.wa_id, reply.language)
        if reply.erased:  # "forget me": the city goes with the rest of the user's data
            self._cities.pop(message.wa_id)
        payloads: list[Payload] = []
        for chat_message in reply.messages:
            payloads.extend(render_message(chat_message, reply.language, self._button_ids))
        return payloads

    def _city(self, wa_id: str, command: CityCommand, language: str) -> list[Payload]:
        """Show, keep or remove the user's city; the confirmation in their language."""
        language = language or self._default_language
        if command.name is None:
            city = self._cities.get(wa_id)
            return render_text(
                translate("city.current" if city else "city.none", language, city=city)
            )
        if not command.name:
            self._cities.pop(wa_id)
            return render_text(translate("city.cleared", language))
        city = clean_city(command.name)
        if city is None:
            return render_text(translate("city.invalid", language))
        self._cities.put(wa_id, city)
        return render_text(translate("city.set", language, city=city))

    def _turn_text(self, message: InboundMessage) -> str:
        """Typed text as is; a tapped choice as its payload (or its title if forgotten)."""
        if message.kind is not Kind.CHOICE:
            return message.text
        return self._button_ids.payload_for(message.text) or message.choice_title
