"""The little markup the assistant's texts may carry, parsed once for every channel.

A bot text is plain text with two exceptions: `**bold**` (the title of a card) and bare
http(s) URLs. Each channel renders them natively (Telegram entities, WhatsApp `*bold*`,
the widget's own DOM, see `static/widget/widget.js`); the REST API returns the text
unchanged. Parsing yields the text without the bold markers plus spans over it, so a
renderer never has to interpret, or escape, anything else in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from channels.schemas import ChatMessage

# Bold: `**x**` on one line, no space just inside the markers (as in Markdown).
_BOLD = re.compile(r"\*\*(?=\S)([^\n]+?)(?<=\S)\*\*")
# A bare web address; what may end it is trimmed by `_trim_url`.
_URL = re.compile(r"https?://[^\s<>\"'`\u00a0\u200b]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than a URL ("see https://x.eu.").
_TRAILING = ".,;:!?'\"»”’…"

SpanKind = Literal["bold", "url"]


@dataclass(frozen=True)
class Span:
    """A run of `Rich.text` shown bold, or a URL to make clickable."""

    start: int
    end: int
    kind: SpanKind


@dataclass(frozen=True)
class Rich:
    """Text without markup, and the spans that say how to show parts of it."""

    text: str
    spans: tuple[Span, ...] = ()

    def of_kind(self, kind: SpanKind) -> list[Span]:
        """The spans of one kind, in order."""
        return [span for span in self.spans if span.kind == kind]

    def __add__(self, other: Rich) -> Rich:
        """Both texts one after the other, spans shifted along."""
        shift = len(self.text)
        moved = tuple(Span(s.start + shift, s.end + shift, s.kind) for s in other.spans)
        return Rich(self.text + other.text, self.spans + moved)


def _trim_url(url: str) -> str:
    """`url` without the sentence punctuation or unbalanced bracket that follows it."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))):
        url = url[:-1]
    return url


def url_spans(text: str, offset: int = 0) -> list[Span]:
    """Spans of the bare http(s) URLs in `text` (positions shifted by `offset`)."""
    spans: list[Span] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        if len(url) > len("https://") and "." in url.split("//", 1)[1]:
            spans.append(Span(offset + match.start(), offset + match.start() + len(url), "url"))
    return spans


def plain(text: str) -> Rich:
    """Text that has no bold markup (link lines, channel texts), with its URLs found."""
    return Rich(text, tuple(url_spans(text)))


def parse(text: str) -> Rich:
    """The assistant's text: bold markers removed into spans, URLs found.

    URLs are looked for within each bold or plain piece, so a URL never straddles the
    end of a bold title (the widget parses the same way).
    """
    out: list[str] = []
    spans: list[Span] = []
    length = 0
    position = 0
    for match in _BOLD.finditer(text):
        before = text[position : match.start()]
        spans.extend(url_spans(before, length))
        out.append(before)
        length += len(before)
        inner = match.group(1)
        spans.append(Span(length, length + len(inner), "bold"))
        spans.extend(url_spans(inner, length))
        out.append(inner)
        length += len(inner)
        position = match.end()
    rest = text[position:]
    spans.extend(url_spans(rest, length))
    out.append(rest)
    return Rich("".join(out), tuple(spans))


def _clip(rich: Rich, start: int, end: int) -> Rich:
    """The part `start:end` of `rich`, with the spans that overlap it cut to fit."""
    spans: list[Span] = []
    for span in rich.spans:
        low, high = max(span.start, start), min(span.end, end)
        piece = rich.text[low:high]
        # A cut at a space leaves no bold space behind (WhatsApp would show the stars).
        low += len(piece) - len(piece.lstrip())
        high -= len(piece) - len(piece.rstrip())
        if low < high:
            spans.append(Span(low - start, high - start, span.kind))
    return Rich(rich.text[start:end], tuple(spans))


def split(rich: Rich, splitter: Callable[[str], Iterable[str]]) -> list[Rich]:
    """`rich` cut where `splitter` cuts its text, each chunk keeping its bold and URLs.

    `splitter` returns pieces of the text in order, each an exact substring (the
    channels' splitters only drop whitespace at a cut), so every piece is found
    again in the text and the spans are clipped to it: a bold title split over two
    messages is bold in both.
    """
    chunks: list[Rich] = []
    position = 0
    for piece in splitter(rich.text):
        start = rich.text.find(piece, position)
        if start < 0:  # not a substring after all: keep the piece, lose its spans
            chunks.append(Rich(piece))
            continue
        end = start + len(piece)
        chunks.append(_clip(rich, start, end))
        position = end
    return chunks


def _same_url(url: str) -> str:
    """A URL as compared for duplicates: no trailing slash, scheme and host lower case."""
    scheme, _, rest = url.strip().partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def without_duplicate_links(message: ChatMessage) -> ChatMessage:
    """`message` without the links whose URL its text already shows.

    The text stays as the assistant wrote it (the sentence around the URL still reads
    right, and the URL in it is made clickable); the repeated link under it goes.
    """
    rich = parse(message.text)
    shown = {_same_url(rich.text[s.start : s.end]) for s in rich.of_kind("url")}
    if not shown:
        return message
    links = [link for link in message.links if _same_url(link.url) not in shown]
    if len(links) == len(message.links):
        return message
    return message.model_copy(update={"links": links})
