"""Meta's webhook payload, parsed leniently into the messages the channel acts on.

Shape (field `messages` of a WhatsApp Business Account):
`{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
"value": {"metadata": {"phone_number_id"}, "contacts": [...], "messages": [...],
"statuses": [...]}}]}]}`. Each message is validated on its own, so one odd message
never drops the rest of a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

WEBHOOK_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"

# Message types answered with a polite "please type" text, by translation key.
UNSUPPORTED_KEYS: dict[str, str] = {
    "audio": "unsupported.audio",
    "voice": "unsupported.audio",
    "image": "unsupported.media",
    "video": "unsupported.media",
    "sticker": "unsupported.media",
    "document": "unsupported.media",
    "location": "unsupported.location",
}
DEFAULT_UNSUPPORTED_KEY = "unsupported.other"
# Types that need no answer: a reaction to our message, a changed number, and the
# notice Meta sends when a user opens the chat (`request_welcome`).
SILENT_TYPES = frozenset({"reaction", "system", "request_welcome"})


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TextBody(_Lenient):
    """`messages[].text`."""

    body: str = ""


class ChoiceReply(_Lenient):
    """A tapped reply button or list row: the `id` we sent and its title."""

    id: str
    title: str = ""


class Interactive(_Lenient):
    """`messages[].interactive` (answers to our interactive messages)."""

    type: str = ""
    button_reply: ChoiceReply | None = None
    list_reply: ChoiceReply | None = None


class TemplateButton(_Lenient):
    """`messages[].button`: a quick-reply button of a template message."""

    payload: str | None = None
    text: str = ""


class Message(_Lenient):
    """One incoming message; only the fields the channel reads."""

    sender: str = Field(alias="from", min_length=1)
    id: str = Field(min_length=1)
    type: str = ""
    text: TextBody | None = None
    interactive: Interactive | None = None
    button: TemplateButton | None = None


class Metadata(_Lenient):
    """Which business number the change is about."""

    phone_number_id: str = ""


class ChangeValue(_Lenient):
    """`entry[].changes[].value`; messages stay raw until each is validated."""

    metadata: Metadata | None = None
    messages: list[dict[str, Any]] = Field(default_factory=list)
    statuses: list[dict[str, Any]] = Field(default_factory=list)


class Change(_Lenient):
    """`entry[].changes[]`."""

    field: str = ""
    value: ChangeValue | None = None


class Entry(_Lenient):
    """`entry[]`: one WhatsApp Business Account."""

    changes: list[Change] = Field(default_factory=list)


class WebhookPayload(_Lenient):
    """The body of Meta's POST."""

    object: str = ""
    entry: list[Entry] = Field(default_factory=list)


class Kind(StrEnum):
    """What the channel does with an incoming message."""

    TEXT = "text"  # typed text: to Rasa
    CHOICE = "choice"  # a tapped button or list row: its id (our payload) to Rasa
    UNSUPPORTED = "unsupported"  # media, location, ...: polite explanation
    SILENT = "silent"  # reactions and notices: nothing


@dataclass(frozen=True)
class InboundMessage:
    """One user message, reduced to what the channel needs."""

    message_id: str
    wa_id: str
    kind: Kind
    text: str = ""
    choice_title: str = ""
    unsupported_key: str = DEFAULT_UNSUPPORTED_KEY


def inbound_messages(payload: WebhookPayload, phone_number_id: str) -> Iterator[InboundMessage]:
    """Messages sent to our business number; status callbacks and other numbers skipped.

    One Meta app can serve several business numbers; answering a message that went to
    another number from ours would confuse the user, so those are only logged.
    """
    if payload.object != WEBHOOK_OBJECT:
        logger.info("Ignoring webhook for object %r", payload.object)
        return
    for entry in payload.entry:
        for change in entry.changes:
            value = change.value
            if change.field != MESSAGES_FIELD or value is None:
                continue
            target = value.metadata.phone_number_id if value.metadata else ""
            if target != phone_number_id:
                logger.warning("Ignoring messages for another phone number id %r", target)
                continue
            for raw in value.messages:
                message = _validated(raw)
                if message is not None:
                    yield to_inbound(message)


def _validated(raw: dict[str, Any]) -> Message | None:
    try:
        return Message.model_validate(raw)
    except ValidationError as exc:
        logger.warning("Skipping a malformed WhatsApp message: %s", exc.errors()[:3])
        return None


def to_inbound(message: Message) -> InboundMessage:
    """Classify one message and pull out the text or payload it carries."""
    ids = (message.id, message.sender)
    if message.type == "text" and message.text is not None:
        return InboundMessage(*ids, kind=Kind.TEXT, text=message.text.body)
    if message.type == "interactive" and message.interactive is not None:
        choice = message.interactive.button_reply or message.interactive.list_reply
        if choice is not None:
            return InboundMessage(*ids, kind=Kind.CHOICE, text=choice.id, choice_title=choice.title)
    if message.type == "button" and message.button is not None:
        # A template's quick reply: its payload is ours, its text is the label.
        payload = message.button.payload or message.button.text
        return InboundMessage(*ids, kind=Kind.TEXT, text=payload)
    if message.type in SILENT_TYPES:
        return InboundMessage(*ids, kind=Kind.SILENT)
    key = UNSUPPORTED_KEYS.get(message.type, DEFAULT_UNSUPPORTED_KEY)
    return InboundMessage(*ids, kind=Kind.UNSUPPORTED, unsupported_key=key)
