"""What a question about events asks for: a city, a period, a language.

"Events in Zagreb next month in English" becomes an `EventQuery`; `matches` tells
whether an event fits it. Words come from `bot/lexicon/periods.yml` and the
language names lexicon; cities are the ones the knowledge base has events in.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from bot import parsing
from bot.parsing import LEXICON_DIR, Lexicon, Pattern
from knowledge.base import KnowledgeBase
from knowledge.schema import Event

PERIODS_FILE = LEXICON_DIR / "periods.yml"
DAYS_PER_WEEK = 7
# Languages whose words are always understood, whatever the turn's language.
ALWAYS_UNDERSTOOD = ("en",)
# A city name: letters, single spaces or hyphens, at most this many words.
_CITY_NAME_RE = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+)*")
MAX_CITY_WORDS = 3


@dataclass(frozen=True)
class Window:
    """A span of days, both ends included."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class EventQuery:
    """Filters a user put into a question about events (None: not asked)."""

    city: str | None = None
    window: Window | None = None
    language: str | None = None

    @property
    def is_filtered(self) -> bool:
        """Whether the user restricted the events at all."""
        return any(value is not None for value in (self.city, self.window, self.language))

    def matches(self, event: Event) -> bool:
        """Whether the event fits every filter given."""
        if self.city is not None and parsing.fold(event.city or "") != parsing.fold(self.city):
            return False
        if self.language is not None and self.language not in event.languages:
            return False
        return self.window is None or _overlaps(event, self.window)


def _overlaps(event: Event, window: Window) -> bool:
    """Dated events overlapping the window (undated ones have no place in a period)."""
    if event.start_date is None:
        return False
    end = event.end_date or event.start_date
    return event.start_date <= window.end and end >= window.start


def city_lexicon(cities: Iterable[str]) -> Lexicon:
    """Cities as patterns; the last word is a prefix, so "u Zagrebu" finds Zagreb."""
    patterns = []
    for city in sorted(set(cities)):
        words = parsing.tokens(city)
        if words:
            patterns.append(Pattern(city, (*words[:-1], words[-1] + "*")))
    return Lexicon(tuple(patterns), {})


def event_cities(events: Iterable[Event]) -> list[str]:
    """Cities the knowledge base has events in, sorted."""
    return sorted({event.city for event in events if event.city})


def known_cities(kb: KnowledgeBase) -> list[str]:
    """Every city the knowledge base names (events, practices, contacts), sorted.

    Recognising more cities than have events lets the bot say "no events in
    Zagreb yet" instead of not understanding. Descriptions such as "EU-wide (136
    cities)" are not city names and are left out.
    """
    named = [e.city for e in kb.events.values()] + [p.city for p in kb.practices.values()]
    named += [c.city for c in kb.contacts.values()]
    return sorted(
        {
            city
            for city in named
            if city and _CITY_NAME_RE.fullmatch(city) and len(city.split()) <= MAX_CITY_WORDS
        }
    )


@lru_cache(maxsize=32)
def period_lexicon(language: str) -> Lexicon:
    """Period words of one language (plus English)."""
    raw: dict[str, Any] = yaml.safe_load(PERIODS_FILE.read_text("utf-8"))
    wanted = {language, *ALWAYS_UNDERSTOOD}
    patterns = [
        Pattern(str(key), tuple(parsing.fold(str(word)).split()))
        for key, words_by_language in raw.items()
        for lang, words in words_by_language.items()
        if lang in wanted
        for word in words
    ]
    return Lexicon(tuple(patterns), {})


def window_of(period: str, today: dt.date) -> Window:
    """The days a period key names, seen from `today` (months: the next such month)."""
    if period == "this_week":
        return Window(today, today + dt.timedelta(days=DAYS_PER_WEEK - 1 - today.weekday()))
    if period == "next_week":
        monday = today + dt.timedelta(days=DAYS_PER_WEEK - today.weekday())
        return Window(monday, monday + dt.timedelta(days=DAYS_PER_WEEK - 1))
    if period == "this_month":
        return Window(today, _month_end(today.year, today.month))
    if period == "next_month":
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return Window(dt.date(year, month, 1), _month_end(year, month))
    month = int(period)
    year = today.year if month >= today.month else today.year + 1
    return Window(dt.date(year, month, 1), _month_end(year, month))


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_event_query(
    text: str, language: str, cities: Iterable[str], today: dt.date
) -> EventQuery:
    """The city, period and language a message asks events for."""
    if text.startswith("/"):
        return EventQuery()
    period = period_lexicon(language).find(text)
    return EventQuery(
        city=city_lexicon(cities).find(text),
        window=window_of(period, today) if period else None,
        language=parsing.language_names().find(text),
    )
