"""Turn the assistant's channel-neutral messages into Telegram messages.

Telegram refuses texts over 4096 characters and callback data over 64 bytes. Texts
are sent without a parse mode, so nothing in them is ever read as markup; the
assistant's `**bold**` and its URLs become message entities (bold, url) computed
from the parsed text (`channels.markup`), in UTF-16 units as Telegram counts.
Everything here is pure so that these limits can be tested without a network: texts
are split at paragraph, line and sentence boundaries, each chunk keeping its bold
and links; long button payloads are replaced by a short key that `PayloadKeys` maps
back on click; links become text lines with a clickable URL.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from channels import markup
from channels.schemas import ChatMessage
from channels.telegram.i18n import translate

MAX_TEXT_UNITS = int(MessageLimit.MAX_TEXT_LENGTH)
MAX_CALLBACK_BYTES = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
# Callback data starting with this marker is a key into `PayloadKeys`, not a payload.
KEY_MARKER = "#k:"
KEY_HEX_CHARS = 24
# Callback data of a thumbs up/down button: `fb:<turn id>:+` or `fb:<turn id>:-`.
FEEDBACK_MARKER = "fb:"
FEEDBACK_UP = "+"
FEEDBACK_DOWN = "-"
_FEEDBACK_DATA = re.compile(r"fb:([1-9][0-9]{0,17}):([+-])")

# Preferred places to split a long text, best first: paragraph, line, sentence, word.
_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…])\s+"),
    re.compile(r"\s+"),
)


def text_units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji can count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """Number of characters of `text` whose UTF-16 length is at most `limit`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut_position(text: str, limit: int) -> tuple[int, int]:
    """Where to end this chunk and where the next one starts (after the separator)."""
    window = max(1, _prefix_within(text, limit))  # always progress, even on tiny limits
    # Look a little past the window so that a separator straddling it is seen whole.
    search_end = min(len(text), window + 64)
    for boundary in _BOUNDARIES:
        cuts = [m for m in boundary.finditer(text, 0, search_end) if 0 < m.start() <= window]
        if cuts:
            last = cuts[-1]
            return last.start(), last.end()
    return window, window


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Split `text` into chunks of at most `limit` UTF-16 units, in order.

    Cuts at the last paragraph break that fits, else a line break, a sentence end,
    a space, and only as a last resort inside a word. Whitespace at the cut is
    dropped (Telegram would strip it anyway); empty chunks are never returned.
    """
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if text_units(rest) <= limit:
            chunks.append(rest)
            break
        end, start = _cut_position(rest, limit)
        chunk = rest[:end].rstrip()
        if chunk:
            chunks.append(chunk)
        rest = rest[start:].lstrip()
    return chunks


class PayloadKeys:
    """Bounded map from short callback keys to button payloads too long for Telegram.

    Keys are derived from the payload, so the same payload always gets the same key;
    the oldest entries are dropped first. A click on a dropped key (very old message,
    or a restart) is answered with "this button has expired".
    """

    def __init__(self, capacity: int = 10_000) -> None:
        """Keep at most `capacity` payloads."""
        self._capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def callback_data(self, payload: str) -> str:
        """Data for a button that sends `payload`: itself if it fits, else a key."""
        fits = len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES
        # A payload that looks like a key or a vote is keyed too, so that a click on
        # it reaches the assistant instead of being taken for one of ours.
        if fits and not payload.startswith((KEY_MARKER, FEEDBACK_MARKER)):
            return payload
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:KEY_HEX_CHARS]
        key = f"{KEY_MARKER}{digest}"
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self._capacity:
            self._payloads.popitem(last=False)
        return key

    def payload(self, data: str) -> str | None:
        """The payload a button's callback data stands for; None when it expired."""
        if not data.startswith(KEY_MARKER):
            return data
        return self._payloads.get(data)


@dataclass(frozen=True)
class OutgoingMessage:
    """One Telegram message to send: plain text, its entities, an optional keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    entities: tuple[MessageEntity, ...] = ()


_ENTITY_TYPES = {"bold": MessageEntity.BOLD, "url": MessageEntity.URL}


def entities_for(rich: markup.Rich) -> tuple[MessageEntity, ...]:
    """Telegram entities for the spans of `rich` (offsets in UTF-16 units)."""
    return tuple(
        MessageEntity(
            type=_ENTITY_TYPES[span.kind],
            offset=text_units(rich.text[: span.start]),
            length=text_units(rich.text[span.start : span.end]),
        )
        for span in sorted(rich.spans, key=lambda s: (s.start, -s.end))
    )


def keyboard_for(message: ChatMessage, keys: PayloadKeys) -> InlineKeyboardMarkup | None:
    """One inline button per row for the message's buttons, or None without buttons."""
    rows = [
        [
            InlineKeyboardButton(
                text=button.title or button.payload,
                callback_data=keys.callback_data(button.payload),
            )
        ]
        for button in message.buttons
        if button.payload
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def message_rich(message: ChatMessage, language: str) -> markup.Rich:
    """The message's parsed text with its links appended as `title: url` lines.

    Link titles are shown as they are (no bold); their URLs are clickable.
    """
    lines = [translate("link", language, title=link.title, url=link.url) for link in message.links]
    text = markup.parse(message.text.strip())
    links = markup.plain("\n".join(lines))
    if text.text and links.text:
        return text + markup.Rich("\n\n") + links
    return text if text.text else links


def message_text(message: ChatMessage, language: str) -> str:
    """The message's text as Telegram shows it (bold markers gone), with its links."""
    return message_rich(message, language).text


def render(message: ChatMessage, language: str, keys: PayloadKeys) -> list[OutgoingMessage]:
    """Telegram messages for one assistant message; the keyboard goes on the last one."""
    keyboard = keyboard_for(message, keys)
    chunks = markup.split(message_rich(message, language), split_text)
    if not chunks and keyboard is not None:
        chunks = [markup.Rich(translate("buttons.prompt", language))]
    outgoing = [OutgoingMessage(text=chunk.text, entities=entities_for(chunk)) for chunk in chunks]
    if outgoing and keyboard is not None:
        outgoing[-1] = replace(outgoing[-1], keyboard=keyboard)
    return outgoing


def feedback_data(turn_id: int, up: bool) -> str:
    """Callback data for a vote on `turn_id`: short and fixed-format (under 64 bytes)."""
    return f"{FEEDBACK_MARKER}{turn_id}:{FEEDBACK_UP if up else FEEDBACK_DOWN}"


def parse_feedback(data: str) -> tuple[int, bool] | None:
    """`(turn id, up?)` for well-formed vote data; None for anything else.

    Callback data comes back from the client and can be forged, so only the exact
    format is accepted; whether the turn is the chat's own is the store's check.
    """
    match = _FEEDBACK_DATA.fullmatch(data)
    if match is None:
        return None
    return int(match.group(1)), match.group(2) == FEEDBACK_UP


def is_feedback_row(row: Sequence[InlineKeyboardButton]) -> bool:
    """Whether a keyboard row is a thumbs up/down row (ours, by its callback data)."""
    return bool(row) and all(
        isinstance(button.callback_data, str) and button.callback_data.startswith(FEEDBACK_MARKER)
        for button in row
    )


def feedback_row(turn_id: int, language: str) -> list[InlineKeyboardButton]:
    """The 👍 / 👎 buttons for one answer."""
    return [
        InlineKeyboardButton(
            text=translate("feedback.up", language), callback_data=feedback_data(turn_id, True)
        ),
        InlineKeyboardButton(
            text=translate("feedback.down", language),
            callback_data=feedback_data(turn_id, False),
        ),
    ]


def with_feedback(
    outgoing: list[OutgoingMessage], turn_id: int | None, language: str
) -> list[OutgoingMessage]:
    """The answer's messages with the thumbs row under the last one, after its buttons.

    Only answers with a turn id can be rated (the vote is stored against the turn).
    """
    if turn_id is None or not outgoing:
        return outgoing
    last = outgoing[-1]
    rows = [list(row) for row in last.keyboard.inline_keyboard] if last.keyboard else []
    rows.append(feedback_row(turn_id, language))
    return [*outgoing[:-1], replace(last, keyboard=InlineKeyboardMarkup(rows))]


def without_feedback(keyboard: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup:
    """The keyboard with its thumbs row removed (so a rated answer is not rated twice)."""
    rows = keyboard.inline_keyboard if keyboard is not None else ()
    return InlineKeyboardMarkup([list(row) for row in rows if not is_feedback_row(row)])
