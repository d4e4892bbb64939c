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
    folded = stripped.replace("đ", "d").replace("ł", "l").replace("ø", "o").replace("ß", "ss")
    return folded.replace("’", "'")


# Maltese writes the article onto the noun ("fil-Kroazja", "tal-kultura", "ix-xogħol"):
# it is dropped, in the text and in the lexicon alike, so the noun matches.
_MALTESE_ARTICLE_RE = re.compile(
    r"^(?:fil|fl|il|l|tal|ta|mill|mil|ghall|ghal|għall|għal|lill|bil|dal|sal|"
    r"[lcrstdnxz]|i[crstdnxz]|ta[crstdnxz]|fi[crstdnxz]|mi[crstdnxz]|li[crstdnxz])-(?=[^\W\d_])"
)


def _without_article(word: str) -> str:
    return _MALTESE_ARTICLE_RE.sub("", word)


def tokens(text: str) -> list[str]:
    """Folded words of a text."""
    return [_without_article(word) for word in _TOKEN_RE.findall(fold(text))]


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
        Pattern(key, tuple(_without_article(part.strip("'-")) for part in fold(str(word)).split()))
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
    more = _more_words(name)
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
        patterns.extend(_patterns(str(key), more.get(str(key), {})))
        # A label is what users see on buttons and in replies: they type it too.
        patterns.extend(_patterns(str(key), {lang: [t] for lang, t in labels[str(key)].items()}))
    return Lexicon(tuple(patterns), labels)


def _more_words(name: str) -> dict[str, dict[str, list[Any]]]:
    """Extra words of a lexicon (`bot/lexicon/more/<name>.yml`, flat layout), if any.

    Kept apart so each file stays readable: the main file has the labels and the
    first languages' words, the extra file the words of the other languages.
    """
    path = LEXICON_DIR / "more" / f"{name}.yml"
    if not path.exists():
        return {}
    raw: dict[str, dict[str, list[Any]]] = yaml.safe_load(path.read_text("utf-8")) or {}
    return {str(key): value for key, value in raw.items()}


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


def answers() -> Lexicon:
    """Short answers: "don't know" / "skip" (`unknown`), `yes`, `no`."""
    return load_lexicon("answers")


# A short answer is the whole message, give or take a few words ("hmm, no idea").
_UNKNOWN_MAX_WORDS = 6
_YES_NO_MAX_WORDS = 3


def short_answer(text: str) -> str | None:
    """'unknown', 'yes' or 'no' when the message is just that answer, else None.

    "No idea" is `unknown`, not `no`: the longest phrase wins at each spot.
    """
    words = tokens(text)
    if not words:
        return None
    found = answers().find_all(text)
    if "unknown" in found and len(words) <= _UNKNOWN_MAX_WORDS:
        return "unknown"
    if len(words) > _YES_NO_MAX_WORDS:
        return None
    if found and found[0] in ("yes", "no"):
        return found[0]
    return None


# A number as Europeans write it: 300000, 300.000, 300,000, 300 000, 0,3, 1.5.
_NUMBER_RE = re.compile(
    r"(?<![\w.,])(?P<number>\d{1,3}(?:[ .,'\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?!\d)"
)
# Up to two words right after the number: a scale ("k", "tisuća", "mil.") and/or a
# currency ("EUR", "eura", "€").
_AFTER_RE = re.compile(r"\s*(€|[^\W\d_]+\.?)(?:\s*(€|[^\W\d_]+\.?))?")
_CURRENCY_BEFORE_RE = re.compile(r"(€|\beur\w*\.?|\beuro\w*)\s*$", re.IGNORECASE)
_CURRENCY_PREFIXES = ("eur", "evr", "ευρω", "евро", "eiro", "ewro")
_CURRENCY_ENDING_MAX = 4  # "eur" + "ima" (eurima), "evr" + "ov"

# (folded word or prefix*, factor). Exact words first where a prefix would be too loose.
_THOUSANDS = ("k", "tis*", "thousand*", "tausend*", "mille", "mila", "tys*", "tukst*",
              "ezer*", "tuhat*", "tuhanne*", "tusen", "tusind*", "duizend*", "mii",
              "хиляд*", "χιλιαδ*", "mile", "elf")  # fmt: skip
_MILLIONS = ("m", "mn", "mio*", "mln*", "mil.", "milj*", "million*", "millon*", "milion*",
             "milijun*", "milijon*", "miljon*", "miljoen*", "miljoon*", "millio*", "milh*",
             "milioan*", "miljun*", "milliun*", "милион*", "εκατομμυρι*")  # fmt: skip
# "mil" is a thousand in Spanish and Portuguese ("50 mil euros") but a million in
# Croatian and others ("0,3 mil"): a fraction decides.
_AMBIGUOUS_MIL = "mil"
# Bare numbers given out of turn count as a budget from this size on; four-digit
# numbers in this range are years.
_BARE_BUDGET_MIN = 1000
_YEARS = range(1900, 2101)


def _matches(word: str, entries: tuple[str, ...]) -> bool:
    return any(word.startswith(e[:-1]) if e.endswith("*") else word == e for e in entries)


def _is_currency(word: str) -> bool:
    """'€', 'EUR', 'eura', 'eurów', 'evrov', 'ευρώ', ... but not 'European'."""
    folded = fold(word).rstrip(".")
    if word == "€":
        return True
    return any(
        folded.startswith(prefix) and len(folded) <= len(prefix) + _CURRENCY_ENDING_MAX
        for prefix in _CURRENCY_PREFIXES
    ) and not folded.startswith("europ")


def _scale_of(word: str, number: str) -> float | None:
    """The factor a word after a number stands for, None when it is no scale word."""
    folded = fold(word)
    bare = folded.rstrip(".")
    if bare == _AMBIGUOUS_MIL and not folded.endswith("."):
        return 1e6 if re.search(r"[.,]\d{1,2}$", number) else 1e3
    if _matches(folded, _MILLIONS) or _matches(bare, _MILLIONS):
        return 1e6
    if _matches(bare, _THOUSANDS):
        return 1e3
    return None


def _number(text: str) -> float:
    """Parse "50.000", "50,000", "50 000", "1.5", "2,5" as written in Europe."""
    compact = re.sub(r"[ '\u00a0\u202f]", "", text)
    groups = re.fullmatch(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*", compact)
    if groups:  # thousands separators only
        return float(re.sub(r"[.,]", "", compact))
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+[.,]\d{1,2}", compact):  # 1.234,56 / 1,234.56
        return float(re.sub(r"[.,]", "", compact[:-3]) + "." + compact[-2:])
    return float(compact.replace(",", "."))


@dataclass(frozen=True)
class Amount:
    """A number found in a message and whether a unit said it is money."""

    value: float
    has_unit: bool


def amounts(text: str) -> list[Amount]:
    """Every number of a message with its scale applied ("300k" -> 300000)."""
    found: list[Amount] = []
    for match in _NUMBER_RE.finditer(text):
        number = match.group("number")
        try:
            value = _number(number)
        except ValueError:
            continue
        after = _AFTER_RE.match(text, match.end())
        words = [w for w in (after.groups() if after else ()) if w]
        scale = _scale_of(words[0], number) if words else None
        unit_words = words[1:] if scale is not None else words[:1]
        currency = bool(_CURRENCY_BEFORE_RE.search(text[: match.start()])) or any(
            _is_currency(w) for w in unit_words
        )
        found.append(Amount(round(value * (scale or 1.0), 2), scale is not None or currency))
    return found


def parse_budget(
    text: str, bare_number_ok: bool = False, bare_large_ok: bool = False
) -> float | None:
    """An amount in euros, if the text states one.

    A number counts as a budget when it carries a currency or a scale word
    ("50k", "2 milijuna", "€ 40.000"); a bare number counts when the bot has just
    asked for the budget (`bare_number_ok`), or, while the finder asks something
    else, when it is large and not a year (`bare_large_ok`: "300000").
    """
    for amount in amounts(text):
        if amount.has_unit or bare_number_ok:
            return amount.value
        if bare_large_ok and _plausible_bare_budget(amount.value):
            return amount.value
    return None


def _plausible_bare_budget(value: float) -> bool:
    return value >= _BARE_BUDGET_MIN and not (value.is_integer() and int(value) in _YEARS)
