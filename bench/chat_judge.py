"""Judging chat replies: which records they name, their language, editor notes, foreign sentences.

Independent of the bot: names come from the records' titles and acronyms, the language
from lingua (not langdetect, which the bot uses), restricted to the 24 official EU
languages. Lingua has no Maltese, so Maltese is recognised by its own letters and
function words (a list written here, not the bot's marker words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from knowledge.languages import EU_LANGUAGES
from knowledge.loader import load_knowledge_base
from knowledge.schema import LocalizedText

ROOT = Path(__file__).resolve().parent.parent
NAMED_TYPES = ("programme", "call", "practice", "event")

# A sentence is judged on its own only when it is this long (after stripping names).
SENTENCE_MIN_WORDS = 5
SENTENCE_MIN_CHARS = 30
# ... and is "in another language" only when lingua is this sure of another language
# and gives the reply's language at most this much.
FOREIGN_MIN_CONFIDENCE = 0.80
FOREIGN_MAX_OWN_CONFIDENCE = 0.05
# A whole reply needs this many words left after stripping to be judged at all.
REPLY_MIN_WORDS = 3
# Maltese: share of words with Maltese letters or function words.
MALTESE_MIN_SHARE = 0.2
# Editor notes: a reply contains one when it repeats this many consecutive words of a
# record's `note` / `uncertain` text that appear in no text meant for users.
NOTE_NGRAM = 6
# Phrases that only editors write (source bookkeeping), in English as the records are.
EDITOR_PHRASES = (
    "facts file",
    "verified facts",
    "not seen in any source",
    "was not seen",
    "reconciling",
    "official-ish",
)

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212-"
_QUOTES = "\"'`´‘’‚‛“”„‟«»‹›"
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\S+")
_BOLD = re.compile(r"\*\*[^*]+\*\*")
_QUOTED = re.compile(r"[„“”«»‘’\"][^„“”«»‘’\"\n]{1,80}[„“”«»‘’\"]")
_CODEISH = re.compile(r"\b\S*\d\S*\b")  # dates, amounts, call ids, references
_CAPS = re.compile(r"\b[A-ZÀ-Ý]{2,}[A-Za-z+]*\b")  # acronyms (CERV, ESF+, EaSI)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)

MALTESE_LETTERS = set("ħġżċ")
# Function words only Maltese has among the 24 (not "u", "li", "il", "ma": Croatian, Italian).
MALTESE_WORDS = frozenset(
    [
        "tal",
        "tad",
        "tat",
        "taż",
        "tas",
        "tan",
        "tar",
        "jew",
        "għal",
        "għall",
        "fil",
        "fl",
        "fuq",
        "minn",
        "mill",
        "huwa",
        "hija",
        "huma",
        "kif",
        "inhu",
        "liema",
        "jekk",
        "biex",
        "dwar",
        "mhux",
        "ukoll",
        "jista",
        "jistgħu",
        "tista",
        "nista",
        "tiegħek",
        "tiegħi",
        "tagħna",
        "tagħkom",
        "hemm",
        "hawn",
        "kull",
        "iva",
        "grazzi",
        "bonġu",
        "sabiex",
        "qabel",
        "bejn",
        "lill",
        "lil",
        "bħal",
        "hemmx",
    ]
)


def fold(text: str) -> str:
    """Text for matching: NFC, case-folded, dashes and quotes to spaces, single spaces."""
    text = unicodedata.normalize("NFC", text).casefold().replace("**", " ")
    text = text.translate({ord(c): " " for c in _DASHES + _QUOTES})
    return " ".join(re.sub(r"[(),.;:!?]", " ", text).split())


def _contains(haystack: str, needle: str) -> bool:
    """Folded `needle` in folded `haystack`, on word boundaries."""
    return bool(needle) and f" {needle} " in f" {haystack} "


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordNames:
    """Every way a reply can name a record: folded titles and a distinctive acronym."""

    id: str
    type: str
    titles: frozenset[str]
    acronym: str | None


@dataclass
class Catalogue:
    """Names of every answerable record, and the editors' notes to keep out of replies."""

    records: dict[str, RecordNames]
    note_ngrams: dict[tuple[str, ...], str]
    strip_names: tuple[str, ...]
    notes: dict[str, list[str]] = field(default_factory=dict)

    def names(self, record_id: str, text: str, folded: str | None = None) -> bool:
        """True when `text` names the record (a title in any language, or its acronym)."""
        names = self.records[record_id]
        haystack = fold(text) if folded is None else folded
        if any(_contains(haystack, title) for title in names.titles):
            return True
        if names.acronym:
            return re.search(rf"(?<![\w+-]){re.escape(names.acronym)}(?![\w+])", text) is not None
        return False

    def named(self, text: str, candidates: Iterable[str]) -> list[str]:
        """The candidate records that `text` names."""
        folded = fold(text)
        return [rid for rid in candidates if rid in self.records and self.names(rid, text, folded)]

    def editor_notes(self, text: str) -> list[str]:
        """Editor notes repeated in `text`: the note's start, for the report."""
        words = fold(text).split()
        found: list[str] = []
        for start in range(len(words) - NOTE_NGRAM + 1):
            note = self.note_ngrams.get(tuple(words[start : start + NOTE_NGRAM]))
            if note and note not in found:
                found.append(note)
        folded = " ".join(words)
        found += [f"phrase: {p}" for p in EDITOR_PHRASES if p in folded]
        return found


def _title_variants(record: Any) -> set[str]:
    """Folded titles in every language, also without a trailing "(ACRONYM)".

    Practices and events are also named by their own name before " – " ("Dáme na vás",
    "OmaStadi"), when it has at least two words or ten letters.
    """
    variants: set[str] = set()
    title: LocalizedText = record.title
    for text in title.root.values():
        variants.add(fold(text))
        variants.add(fold(re.sub(r"\s*\([^)]*\)\s*$", "", text)))
        head = re.split(r"\s+[–—-]\s+", text, maxsplit=1)[0]
        own_name = len(head.split()) >= 2 or len(head) >= 10
        if record.record_type in ("practice", "event") and head != text and own_name:
            variants.add(fold(head))
    return {v for v in variants if v}


def _acronyms(records: Sequence[Any]) -> dict[str, str]:
    """record id -> acronym, only where the acronym names that record alone.

    An acronym shared by a programme and its strands (CERV, CEF) names the programme
    without a parent only: "CERV" alone does not name the Town-Twinning strand.
    """
    by_acronym: dict[str, list[Any]] = {}
    for record in records:
        acronym = getattr(record, "acronym", None)
        if acronym:
            by_acronym.setdefault(acronym, []).append(record)
    chosen: dict[str, str] = {}
    for acronym, owners in by_acronym.items():
        roots = [r for r in owners if getattr(r, "parent", None) is None]
        if len(owners) == 1:
            chosen[owners[0].id] = acronym
        elif len(roots) == 1:
            chosen[roots[0].id] = acronym
    return chosen


def _record_notes(record: Any) -> list[str]:
    """Every editor text of a record: `uncertain` items and each `note` field, nested."""
    notes = [str(item) for item in record.uncertain]
    stack: list[Any] = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        fields = getattr(type(value), "model_fields", None)
        if not fields:
            continue
        for name in fields:
            child = getattr(value, name)
            if name == "note" and isinstance(child, str):
                notes.append(child)
            elif not isinstance(child, str | int | float | bool) and child is not None:
                stack.append(child)
    return notes


def _user_texts(record: Any) -> Iterator[str]:
    """Texts meant for users: every localized field and plain string other than notes."""
    stack: list[Any] = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, LocalizedText):
            yield from value.root.values()
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            yield value
        elif getattr(type(value), "model_fields", None):
            for name in type(value).model_fields:
                if name not in ("note", "uncertain", "sources"):
                    stack.append(getattr(value, name))


def _ngrams(text: str) -> Iterator[tuple[str, ...]]:
    words = fold(text).split()
    for start in range(len(words) - NOTE_NGRAM + 1):
        yield tuple(words[start : start + NOTE_NGRAM])


@cache
def catalogue(data_dir: Path | None = None) -> Catalogue:
    """Names and notes of the knowledge base (loaded once)."""
    kb, _errors = load_knowledge_base(data_dir)
    every = list(kb.records())
    named = [r for r in every if r.record_type in NAMED_TYPES]
    acronyms = _acronyms(named)
    records = {
        r.id: RecordNames(r.id, r.record_type, frozenset(_title_variants(r)), acronyms.get(r.id))
        for r in named
    }
    shown = {gram for r in every for text in _user_texts(r) for gram in _ngrams(text)}
    note_ngrams: dict[tuple[str, ...], str] = {}
    notes: dict[str, list[str]] = {}
    for record in every:
        for note in _record_notes(record):
            notes.setdefault(record.id, []).append(note)
            for gram in _ngrams(note):
                if gram not in shown:
                    note_ngrams.setdefault(gram, f"{record.id}: {note[:60]}")
    strip = {t for r in records.values() for t in r.titles if len(t) >= 4}
    strip_names = tuple(sorted(strip, key=len, reverse=True))
    return Catalogue(records, note_ngrams, strip_names, notes)


# --------------------------------------------------------------------------- language


def strip_names(text: str, cat: Catalogue) -> str:
    """The reply without what is not language: URLs, titles, quoted names, codes, acronyms.

    Returns folded words (lingua ignores case), or "" when too few are left to judge.
    """
    for pattern in (_URL, _EMAIL, _BOLD, _QUOTED):
        text = pattern.sub(" ", text)
    acronyms = {w.casefold() for w in _CAPS.findall(text)}
    # Titles first: some hold numbers ("Cluster 2 – ...") that go with the codes below.
    folded = f" {fold(text)} "
    for name in cat.strip_names:
        if f" {name} " in folded:
            folded = folded.replace(f" {name} ", " . ")
    folded = _CODEISH.sub(" ", folded)
    words = [w for w in _WORD.findall(folded) if w not in acronyms]
    return " ".join(words) if len(words) >= REPLY_MIN_WORDS else ""


def sentences(text: str, cat: Catalogue) -> list[str]:
    """Sentences long enough to judge on their own, names stripped."""
    out: list[str] = []
    for raw in _SENTENCE_END.split(text):
        plain = strip_names(raw, cat)
        if len(plain.split()) >= SENTENCE_MIN_WORDS and len(plain) >= SENTENCE_MIN_CHARS:
            out.append(plain)
    return out


def maltese_share(text: str) -> float:
    """Share of Maltese words (by Maltese letters or function words); 0 without any letter.

    A text with none of ħ ġ ż ċ needs two Maltese function words, so a Croatian "li" or
    "u" never makes Maltese.
    """
    words = [w.casefold() for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]*)?", text)]
    if not words:
        return 0.0
    lettered = sum(1 for w in words if MALTESE_LETTERS & set(w))
    function = sum(1 for w in words if w in MALTESE_WORDS and not MALTESE_LETTERS & set(w))
    if not lettered and function < 2:
        return 0.0
    return (lettered + function) / len(words)


@cache
def detector() -> LanguageDetector:
    """Lingua, restricted to the official EU languages it knows (all but Maltese)."""
    languages = []
    for code in EU_LANGUAGES:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is not None:
            languages.append(Language.from_iso_code_639_1(iso))
    return (
        LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()
    )


def confidences(text: str) -> dict[str, float]:
    """Lingua's confidence per language code (Maltese by its own share)."""
    values = {
        c.language.iso_code_639_1.name.lower(): c.value
        for c in detector().compute_language_confidence_values(text)
    }
    values["mt"] = 1.0 if maltese_share(text) >= MALTESE_MIN_SHARE else 0.0
    return values


def judge_language(text: str) -> str | None:
    """The language of already stripped text, or None when too little is left."""
    if len(text.split()) < REPLY_MIN_WORDS:
        return None
    if maltese_share(text) >= MALTESE_MIN_SHARE:
        return "mt"
    found = detector().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else None


def foreign_sentences(text: str, language: str, cat: Catalogue) -> list[str]:
    """Sentences confidently in another language than `language` (proper names aside)."""
    foreign: list[str] = []
    for sentence in sentences(text, cat):
        values = confidences(sentence)
        if values.get(language, 0.0) > FOREIGN_MAX_OWN_CONFIDENCE:
            continue
        best = max((v, k) for k, v in values.items() if k != language)
        if best[0] >= FOREIGN_MIN_CONFIDENCE:
            foreign.append(f"[{best[1]}] {sentence[:90]}")
    return foreign


# --------------------------------------------------------------------------- one reply


@dataclass(frozen=True)
class Verdict:
    """What the judge found in one reply."""

    text: str
    judged_language: str | None
    editor_notes: list[str]
    foreign: list[str]
    first_bubble_chars: int
    bubbles: int


def reply_text(reply: dict[str, Any]) -> str:
    """All messages of a chat API reply, one per line."""
    return "\n".join(str(m.get("text") or "") for m in reply.get("messages") or [])


def judge_reply(reply: dict[str, Any], language: str, cat: Catalogue) -> Verdict:
    """Language, editor notes, foreign sentences and size of one chat API reply."""
    messages = reply.get("messages") or []
    text = reply_text(reply)
    return Verdict(
        text=text,
        judged_language=judge_language(strip_names(text, cat)),
        editor_notes=cat.editor_notes(text),
        foreign=foreign_sentences(text, language, cat),
        first_bubble_chars=len(str(messages[0].get("text") or "")) if messages else 0,
        bubbles=len(messages),
    )
