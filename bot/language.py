"""The one place that decides the reply language of a turn.

Order (see docs/architecture): an explicit user choice, then a confident detection
of this message, then the conversation's previous language, then the channel's hint
(Telegram `language_code`, browser locale), then the default. Short messages are
guarded: statistical detectors are unreliable on two words, and Croatian, Serbian,
Bosnian and Slovenian are easily confused, so a short message never flips the
conversation between those.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from bot.settings import BotSettings, get_settings
from knowledge.languages import EU_LANGUAGES

# Languages that detectors confuse with each other on short texts.
RELATED_GROUPS: tuple[frozenset[str], ...] = (frozenset({"hr", "sl", "sr", "bs"}),)

_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


@dataclass(frozen=True)
class LanguageHints:
    """What is known about the user's language apart from the message itself."""

    explicit: str | None = None
    previous: str | None = None
    channel: str | None = None


class Detector(Protocol):
    """Statistical language identification: `(language, probability)` candidates."""

    def __call__(self, text: str) -> list[tuple[str, float]]:
        """Return candidate languages with probabilities, best first."""
        ...


def normalise_code(code: str | None) -> str | None:
    """Map `hr-HR`, `HR`, `pt_BR` to a supported two-letter code, else None."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if base in EU_LANGUAGES else None


def words_of(text: str) -> list[str]:
    """Lower-cased words of a message, without digits, emoji and punctuation."""
    return [w.lower() for w in _WORD_RE.findall(text)]


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")


@lru_cache(maxsize=4)
def load_markers(path: Path) -> dict[str, frozenset[str]]:
    """Load the per-language marker words, with accent-free variants added."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    markers: dict[str, frozenset[str]] = {}
    for lang, words in raw.items():
        forms = {str(w).lower() for w in words}
        markers[str(lang)] = frozenset(forms | {_strip_accents(w) for w in forms})
    return markers


def marker_candidates(words: list[str], markers: dict[str, frozenset[str]]) -> list[str]:
    """Languages whose marker words cover the message best (several on a tie)."""
    scores: Counter[str] = Counter()
    for word in words:
        for lang, forms in markers.items():
            if word in forms or _strip_accents(word) in forms:
                scores[lang] += 1
    if not scores:
        return []
    top = max(scores.values())
    return sorted(lang for lang, score in scores.items() if score == top)


def marker_hits(words: list[str], markers: dict[str, frozenset[str]], lang: str | None) -> int:
    """How many words of the message are marker words of `lang`."""
    forms = markers.get(lang or "", frozenset())
    return sum(1 for word in words if word in forms or _strip_accents(word) in forms)


def detect_by_markers(words: list[str], markers: dict[str, frozenset[str]]) -> str | None:
    """Language whose marker words cover the message best, if unambiguous."""
    candidates = marker_candidates(words, markers)
    return candidates[0] if len(candidates) == 1 else None


def langdetect_detector(text: str) -> list[tuple[str, float]]:
    """Seeded langdetect (it is random unless seeded), loaded on first use."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        return [(c.lang, float(c.prob)) for c in detect_langs(text)]
    except LangDetectException:
        return []


def _related(a: str, b: str) -> bool:
    return any(a in group and b in group for group in RELATED_GROUPS)


def detect_confidently(
    text: str,
    previous: str | None,
    settings: BotSettings,
    detector: Detector,
) -> str | None:
    """This message's language when the evidence is strong enough, else None."""
    words = words_of(text)
    if not words:
        return None
    long_enough = (
        len(text.strip()) >= settings.detection_min_chars
        and len(words) >= settings.detection_min_words
    )
    if long_enough:
        by_markers = detect_by_markers(words, load_markers(settings.language_markers_file))
        blind_hits = marker_hits(words, load_markers(settings.language_markers_file), by_markers)
        if by_markers in settings.detector_blind_languages and blind_hits >= 2:
            # langdetect knows no Irish or Maltese and reads them as pt/it with confidence.
            return by_markers
        candidates = detector(text)
        if candidates:
            lang, prob = candidates[0]
            code = normalise_code(lang)
            if code and prob >= settings.detection_min_probability:
                return _guard_related(code, previous, len(words), settings)
    tied = marker_candidates(words, load_markers(settings.language_markers_file))
    if len(tied) > 1:
        # "kada" is Croatian and Lithuanian: let the detector choose among the tied.
        odds = {lang: prob for lang, prob in detector(text) if lang in tied}
        tied = [max(odds, key=lambda lang: odds[lang])] if odds else []
    code = normalise_code(tied[0]) if len(tied) == 1 else None
    if code is None:
        return None
    return _guard_related(code, previous, len(words), settings)


def _guard_related(detected: str, previous: str | None, n_words: int, settings: BotSettings) -> str:
    """Keep the previous language when a short text only hints at a sibling one."""
    if (
        previous
        and previous != detected
        and _related(previous, detected)
        and n_words < settings.related_switch_min_words
    ):
        return previous
    return detected


def decide_language(
    text: str,
    hints: LanguageHints,
    settings: BotSettings | None = None,
    detector: Detector | None = None,
) -> str:
    """Return the reply language for this turn (a code of `EU_LANGUAGES`)."""
    settings = settings or get_settings()
    explicit = normalise_code(hints.explicit)
    if explicit:
        return explicit
    previous = normalise_code(hints.previous)
    detected = detect_confidently(text, previous, settings, detector or langdetect_detector)
    if detected:
        return detected
    return (
        previous
        or normalise_code(hints.channel)
        or normalise_code(settings.default_language)
        or "en"
    )
