"""Which programme does a message name? Acronyms and titles in every language.

"when is the Networks of Towns deadline?", "može li udruga na URBACT?" and "CERV"
all name programmes. Matching is on case-folded, accent-free words; the longest
matching name wins, so "Networks of Towns" beats the bare acronym "CERV" that all
CERV strands share, and a bare shared acronym resolves to the umbrella programme.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.schema import Programme

_WORD_RE = re.compile(r"[^\W_]+(?:\+)?", re.UNICODE)
_PARENS_RE = re.compile(r"\(([^)]*)\)")
# Words too generic to name a programme on their own.
_GENERIC = frozenset({"programme", "program", "programa", "programma", "eu", "the", "of"})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")


def words(text: str) -> tuple[str, ...]:
    """Folded words; a trailing '+' stays (ESF+)."""
    return tuple(_WORD_RE.findall(_fold(text)))


@dataclass(frozen=True)
class ProgrammeMention:
    """A programme named in a text, and how many words named it."""

    programme: Programme
    length: int


def _names(programme: Programme) -> set[tuple[str, ...]]:
    names: set[tuple[str, ...]] = set()
    if programme.acronym:
        names.add(words(programme.acronym))
    for title in programme.title.root.values():
        names.add(words(_PARENS_RE.sub(" ", title)))
        for inner in _PARENS_RE.findall(title):
            names.add(words(inner))
        for part in re.split(r"\s[–—-]\s", title):  # "CERV – Networks of Towns"
            names.add(words(_PARENS_RE.sub(" ", part)))
    return {n for n in names if n and not (len(n) == 1 and n[0] in _GENERIC)}


def _index(kb: KnowledgeBase) -> tuple[tuple[tuple[str, ...], Programme], ...]:
    # Rebuilt per call: a few hundred names, cheaper than keeping it in sync.
    return tuple(
        (name, programme) for programme in kb.programmes.values() for name in _names(programme)
    )


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    span = len(needle)
    return any(haystack[i : i + span] == needle for i in range(len(haystack) - span + 1))


def find_programmes(kb: KnowledgeBase, text: str) -> list[ProgrammeMention]:
    """Programmes named in `text`, best (longest name, then umbrella) first."""
    found: dict[str, ProgrammeMention] = {}
    text_words = words(text)
    for name, programme in _index(kb):
        if _contains(text_words, name):
            best = found.get(programme.id)
            if best is None or len(name) > best.length:
                found[programme.id] = ProgrammeMention(programme, len(name))
    return sorted(
        found.values(),
        key=lambda m: (-m.length, m.programme.parent is not None, m.programme.id),
    )


def find_programme(kb: KnowledgeBase, text: str) -> Programme | None:
    """The programme a text names most specifically, if any."""
    mentions = find_programmes(kb, text)
    return mentions[0].programme if mentions else None
