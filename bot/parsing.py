"""Read funding-finder answers out of free text, in any supported language.

The words live in `bot/lexicon/*.yml` (data, not code); this module only matches
them. Matching works on accent-free, case-folded words, so "Općina", "opcina" and
"OPĆINE" (with the lexicon entry `općin*`) all match. Values that come from button
payloads are checked against the same vocabularies, so a forged payload cannot
set a value the lexicon does not know.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


def fold(text: str) -> str:
    """Case-fold and strip accents ("Općina" -> "opcina")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("ł", "l").replace("ø", "o").replace("ß", "ss")


def tokens(text: str) -> list[str]:
    """Folded words of a text."""
    return _TOKEN_RE.findall(fold(text))


@dataclass(frozen=True)
class Pattern:
    """A lexicon entry as a token sequence; a trailing * makes a token a prefix."""

    key: str
    parts: tuple[str, ...]

    def match_at(self, words: list[str], start: int) -> bool:
        """Whether the pattern matches the words beginning at `start`."""
        if start + len(self.parts) > len(words):
            return False
        for part, word in zip(self.parts, words[start:], strict=False):
            if part.endswith("*"):
                if not word.startswith(part[:-1]):
                    return False
            elif word != part:
                return False
        return True


# Candidate lists kept per distinct word of a lexicon; user text is unbounded, so
# the memo is cleared when it grows past this many words.
_CANDIDATE_CACHE_SIZE = 4096


def _rank(entry: tuple[int, Pattern]) -> int:
    """Sort key of an index entry: its rank alone (patterns do not compare)."""
    return entry[0]


@dataclass(frozen=True)
class _Index:
    """Patterns grouped by their first token, tried only where they can start.

    Comparing every word with every pattern cost ~25-30 ms per chat turn; with
    the index a word meets only the few patterns its first token allows.

    Each pattern carries its rank in the order the matcher tries patterns in:
    longest first, and among equally long ones the lexicon's own order (that
    order decides collisions such as Slovak "Slovensko" before "slovensk*").
    """

    exact: dict[str, list[tuple[int, Pattern]]]
    prefixes: dict[str, list[tuple[int, Pattern]]]
    prefix_lengths: tuple[int, ...]
    memo: dict[str, tuple[Pattern, ...]]

    @classmethod
    def build(cls, patterns: tuple[Pattern, ...]) -> _Index:
        """Group the patterns once; lists stay in rank order."""
        # sorted() is stable: equally long patterns keep the lexicon's order. An
        # empty pattern would match everywhere without advancing: never indexed.
        usable = [p for p in patterns if p.parts]
        ranked = sorted(usable, key=lambda p: -len(p.parts))
        exact: dict[str, list[tuple[int, Pattern]]] = {}
        prefixes: dict[str, list[tuple[int, Pattern]]] = {}
        for rank, pattern in enumerate(ranked):
            first = pattern.parts[0]
            if first.endswith("*"):
                prefixes.setdefault(first[:-1], []).append((rank, pattern))
            else:
                exact.setdefault(first, []).append((rank, pattern))
        lengths = tuple(sorted({len(prefix) for prefix in prefixes}))
        return cls(exact, prefixes, lengths, {})

    def candidates(self, word: str) -> tuple[Pattern, ...]:
        """Patterns whose first token accepts the word, in rank order."""
        cached = self.memo.get(word)
        if cached is not None:
            return cached
        groups = [self.exact.get(word, [])]
        groups += [
            self.prefixes.get(word[:length], [])
            for length in self.prefix_lengths
            if length <= len(word)
        ]
        merged = sorted((entry for group in groups for entry in group), key=_rank)
        result = tuple(pattern for _, pattern in merged)
        if len(self.memo) >= _CANDIDATE_CACHE_SIZE:
            self.memo.clear()
        self.memo[word] = result
        return result


@dataclass(frozen=True)
class Lexicon:
    """Keys (vocabulary values) with their patterns in every language."""

    patterns: tuple[Pattern, ...]
    labels: dict[str, dict[str, str]]
    # Derived once per lexicon (`load_lexicon` caches lexicons, so once per process):
    # `keys` is read for every payload value and `find_all` runs several times a turn.
    _keys: frozenset[str] = field(init=False, repr=False, compare=False)
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the key set and the first-token index (frozen: set via object)."""
        object.__setattr__(self, "_keys", frozenset(p.key for p in self.patterns))
        object.__setattr__(self, "_index", _Index.build(self.patterns))

    @property
    def keys(self) -> frozenset[str]:
        """Every value the lexicon can produce."""
        return self._keys

    def find_all(self, text: str) -> list[str]:
        """Keys mentioned in the text, in order, longest match first at each spot.

        At each word the first candidate (longest, then lexicon order) that
        matches wins and the scan jumps past it; otherwise it moves one word on.
        """
        words = tokens(text)
        found: list[str] = []
        position = 0
        while position < len(words):
            hit = next(
                (p for p in self._index.candidates(words[position]) if p.match_at(words, position)),
                None,
            )
            if hit is None:
                position += 1
                continue
            if hit.key not in found:
                found.append(hit.key)
            position += len(hit.parts)
        return found

    def find(self, text: str) -> str | None:
        """The first key mentioned in the text."""
        found = self.find_all(text)
        return found[0] if found else None

    def label(self, key: str, language: str) -> str:
        """Display label of a key in a language (English, else the key itself)."""
        by_language = self.labels.get(key, {})
        return by_language.get(language) or by_language.get("en") or key


def _patterns(key: str, words_by_language: dict[str, list[Any]]) -> list[Pattern]:
    return [
        Pattern(key, tuple(fold(str(word)).split()))
        for words in words_by_language.values()
        for word in words
        if str(word).strip()
    ]


@lru_cache(maxsize=8)
def load_lexicon(name: str) -> Lexicon:
    """Load `bot/lexicon/<name>.yml`.

    Two layouts: `{key: {label: {lang: text}, words: {lang: [...]}}}` and the flat
    `{key: {lang: [...]}}` where the first word of each language is its label.
    """
    raw: dict[str, Any] = yaml.safe_load((LEXICON_DIR / f"{name}.yml").read_text("utf-8"))
    patterns: list[Pattern] = []
    labels: dict[str, dict[str, str]] = {}
    for key, entry in raw.items():
        if "words" in entry:
            words = entry["words"]
            labels[str(key)] = {lang: str(text) for lang, text in entry.get("label", {}).items()}
        else:
            words = entry
            labels[str(key)] = {
                lang: str(values[0]).rstrip("*") for lang, values in entry.items() if values
            }
        patterns.extend(_patterns(str(key), words))
    return Lexicon(tuple(patterns), labels)


def applicants() -> Lexicon:
    """Applicant types."""
    return load_lexicon("applicants")


def themes() -> Lexicon:
    """Funding themes."""
    return load_lexicon("themes")


def countries() -> Lexicon:
    """Countries (ISO codes)."""
    return load_lexicon("countries")


def language_names() -> Lexicon:
    """Names of the official EU languages."""
    return load_lexicon("language_names")


_NUMBER_RE = re.compile(
    r"(?P<currency_before>€|eur\b|euro\b)?\s*"
    r"(?P<number>\d{1,3}(?:[ .,'\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"\s*(?P<scale>k\b|m\b|mio\b|mln\b|million\w*|millones\b|milioni?\b|milijun\w*|"
    r"tisu\w*|thousand\w*|tausend\w*|mille\b|mila\b|mil\b|tys\w*)?"
    r"\s*(?P<currency_after>€|eur(?:o|os|a|ima)?\b)?",
    re.IGNORECASE,
)

_SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "tisu": 1e3,
    "tausend": 1e3,
    "mille": 1e3,
    "mila": 1e3,
    "tys": 1e3,
    "m": 1e6,
    "mio": 1e6,
    "mln": 1e6,
    "million": 1e6,
    "milijun": 1e6,
    "millones": 1e6,
    "milion": 1e6,
    "mil": 1e3,  # Spanish/Portuguese "50 mil euros"
}


def _scale(word: str | None) -> float:
    if not word:
        return 1.0
    folded = fold(word)
    for prefix in sorted(_SCALES, key=len, reverse=True):
        if folded.startswith(prefix):
            return _SCALES[prefix]
    return 1.0


def _number(text: str) -> float:
    """Parse "50.000", "50,000", "50 000", "1.5", "2,5" as written in Europe."""
    compact = re.sub(r"[ '\u00a0\u202f]", "", text)
    groups = re.fullmatch(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*", compact)
    if groups:  # thousands separators only
        return float(re.sub(r"[.,]", "", compact))
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+[.,]\d{1,2}", compact):  # 1.234,56 / 1,234.56
        return float(re.sub(r"[.,]", "", compact[:-3]) + "." + compact[-2:])
    return float(compact.replace(",", "."))


def parse_budget(text: str, bare_number_ok: bool = False) -> float | None:
    """An amount in euros, if the text states one.

    A number counts as a budget when it carries a currency or a scale word
    ("50k", "2 milijuna", "€ 40.000"), or when the bot has just asked for the
    budget (`bare_number_ok`).
    """
    for match in _NUMBER_RE.finditer(text):
        has_unit = any(match.group(name) for name in ("currency_before", "scale", "currency_after"))
        if not (has_unit or bare_number_ok):
            continue
        try:
            value = _number(match.group("number")) * _scale(match.group("scale"))
        except ValueError:
            continue
        return round(value, 2)
    return None
