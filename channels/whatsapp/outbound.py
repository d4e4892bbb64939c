"""Render the assistant's messages as Cloud API messages, within the API's limits.

Limits (WhatsApp Cloud API reference): text body 4096 characters; reply buttons:
at most 3, title 20, id 256, body 1024, titles unique; list: one button label of 20,
at most 10 rows, row title 24, row id 200, row description 72, body 4096. A message
over a limit is rejected by Meta, so every limit is enforced here.

The assistant's `**bold**` becomes WhatsApp's own `*bold*`; URLs are left as they are
(WhatsApp makes them clickable). A text split over several messages keeps its bold
(closed at the cut, opened again in the next piece) and never cuts inside a URL
unless the URL alone is longer than a message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channels import markup
from channels.schemas import Button, ChatMessage
from channels.whatsapp.i18n import translate
from channels.whatsapp.memory import LruDict

TEXT_MAX = 4096
BUTTONS_MAX = 3
BUTTON_BODY_MAX = 1024
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BODY_MAX = 4096
LIST_LABEL_MAX = 20
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESCRIPTION_MAX = 72
SECTION_TITLE_MAX = 24
ELLIPSIS = "…"
BOLD = "*"

# Where a long text may be cut, best first: the cut is at the returned group's start.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n"),  # paragraph
    re.compile(r"\n"),  # line
    re.compile(r"[.!?…;:][\"'»”\u2019)\]]*(\s)"),  # end of a sentence (group 1: the space)
    re.compile(r"\s"),  # word
)
# A paragraph or sentence boundary is only used if the piece is at least this full;
# otherwise a finer boundary nearer the limit gives fewer, fuller messages.
_MIN_FILL = 0.5

Payload = dict[str, Any]


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, at a word end if one is near, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    mid_word = not text[limit - 1].isspace()
    if mid_word and " " in head[limit // 2 :]:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:.-\u2013\u2014") + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, at natural boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_position(rest, limit)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_position(text: str, limit: int) -> int:
    window = text[: limit + 1]
    for index, pattern in enumerate(_BOUNDARIES):
        floor = int(limit * _MIN_FILL) if index < len(_BOUNDARIES) - 1 else 1
        cuts = [m.start(m.lastindex or 0) for m in pattern.finditer(window)]
        fitting = [cut for cut in cuts if floor <= cut <= limit]
        if fitting:
            return fitting[-1]
    return limit  # one unbroken word longer than the limit


def whatsapp_text(rich: markup.Rich) -> str:
    """`rich` in WhatsApp's formatting: each bold span between single asterisks."""
    out: list[str] = []
    position = 0
    for span in rich.of_kind("bold"):
        out.append(rich.text[position : span.start])
        out.append(f"{BOLD}{rich.text[span.start : span.end]}{BOLD}")
        position = span.end
    out.append(rich.text[position:])
    return "".join(out)


def split_rich(rich: markup.Rich, limit: int) -> list[markup.Rich]:
    """`rich` in pieces whose WhatsApp text fits `limit`, at natural boundaries.

    Each bold span costs two asterisks more than its text; the few a card has are
    reserved from the limit before the text is split.
    """
    reserve = min(2 * len(rich.of_kind("bold")), limit // 4)
    pieces = markup.split(rich, lambda text: split_text(text, limit - reserve))
    return [piece for piece in pieces if piece.text]


class ButtonIds:
    """Maps Rasa payloads to button / row ids and back.

    A payload that fits the id limit is its own id, so a tap still works after a
    restart. A longer one gets a short hashed token remembered here; a token that
    was forgotten falls back to the tapped title (see `WhatsAppChannel`).
    """

    TOKEN_PREFIX = "wa:"

    def __init__(self, capacity: int = 10_000) -> None:
        """Remember at most `capacity` long payloads."""
        self._payloads: LruDict[str] = LruDict(capacity)

    def id_for(self, payload: str, limit: int) -> str:
        """The id to send for `payload` (at most `limit` characters)."""
        if len(payload) <= limit and not payload.startswith(self.TOKEN_PREFIX):
            return payload
        token = self.TOKEN_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        self._payloads.put(token, payload)
        return token

    def payload_for(self, button_id: str) -> str | None:
        """The payload a tapped id stands for; None for a forgotten token."""
        if not button_id.startswith(self.TOKEN_PREFIX):
            return button_id
        return self._payloads.get(button_id)


@dataclass(frozen=True)
class _Choice:
    title: str
    payload: str


def render_text(text: str) -> list[Payload]:
    """Plain text messages, split at the text limit."""
    return [_text(piece) for piece in split_text(text, TEXT_MAX)]


def render_message(message: ChatMessage, language: str, ids: ButtonIds) -> list[Payload]:
    """One assistant message as Cloud API messages: text, then buttons or a list."""
    body = _with_links(message, language)
    choices = _choices(message.buttons)
    rich_pieces = split_rich(body, TEXT_MAX)
    if not choices:
        return [_text(whatsapp_text(piece)) for piece in rich_pieces]
    as_buttons = len(choices) <= BUTTONS_MAX and _titles_unique(choices, BUTTON_TITLE_MAX)
    last_limit = BUTTON_BODY_MAX if as_buttons else LIST_BODY_MAX
    if rich_pieces and len(whatsapp_text(rich_pieces[-1])) > last_limit:
        rich_pieces[-1:] = split_rich(rich_pieces[-1], last_limit)
    pieces = [whatsapp_text(piece) for piece in rich_pieces]
    last = pieces.pop() if pieces else translate("buttons.prompt", language)
    payloads = [_text(piece) for piece in pieces]
    if as_buttons:
        payloads.append(_buttons(last, choices, ids))
        return payloads
    for start in range(0, len(choices), LIST_ROWS_MAX):
        group = choices[start : start + LIST_ROWS_MAX]
        group_body = last if start == 0 else translate("list.more", language)
        payloads.append(_list(group_body, group, language, ids))
    return payloads


def _with_links(message: ChatMessage, language: str) -> markup.Rich:
    """The parsed message text with one line per link (WhatsApp shows URLs as links)."""
    lines = [
        link.url
        if link.title.strip() in ("", link.url)
        else translate("link.line", language, title=link.title.strip(), url=link.url)
        for link in message.links
    ]
    text = markup.parse(message.text.strip())
    links = markup.plain("\n".join(lines))
    if text.text and links.text:
        return text + markup.Rich("\n\n") + links
    return text if text.text else links


def _choices(buttons: Sequence[Button]) -> list[_Choice]:
    """Buttons with a title, one per payload (ids must be unique within a message)."""
    choices: list[_Choice] = []
    seen: set[str] = set()
    for button in buttons:
        title = button.title.strip()
        payload = button.payload.strip() or title
        if not title or payload in seen:
            continue
        seen.add(payload)
        choices.append(_Choice(title=title, payload=payload))
    return choices


def _titles_unique(choices: Sequence[_Choice], limit: int) -> bool:
    titles = [truncate(choice.title, limit) for choice in choices]
    return len(set(titles)) == len(titles)


def _text(body: str) -> Payload:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def _buttons(body: str, choices: Sequence[_Choice], ids: ButtonIds) -> Payload:
    buttons = [
        {
            "type": "reply",
            "reply": {
                "id": ids.id_for(choice.payload, BUTTON_ID_MAX),
                "title": truncate(choice.title, BUTTON_TITLE_MAX),
            },
        }
        for choice in choices
    ]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
    }


def _list(body: str, choices: Sequence[_Choice], language: str, ids: ButtonIds) -> Payload:
    rows: list[Payload] = []
    for choice in choices:
        row: Payload = {
            "id": ids.id_for(choice.payload, ROW_ID_MAX),
            "title": truncate(choice.title, ROW_TITLE_MAX),
        }
        if len(choice.title) > ROW_TITLE_MAX:
            # The row shows its description under the title: the full title fits there.
            row["description"] = truncate(choice.title, ROW_DESCRIPTION_MAX)
        rows.append(row)
    section = {"title": truncate(translate("list.section", language), SECTION_TITLE_MAX)}
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": truncate(translate("list.button", language), LIST_LABEL_MAX),
                "sections": [{**section, "rows": rows}],
            },
        },
    }
