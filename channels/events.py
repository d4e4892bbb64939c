"""The network's dated events, from the knowledge base, for the events API and calendars.

Records without a start date (ongoing ways to take part) are not calendar entries and
are left out. Cities are addressed by a slug of their name (`Reykjavík` ->
`reykjavik`), so feed URLs stay plain ASCII.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from knowledge.loader import load_knowledge_base
from knowledge.schema import Event

PRODUCT_ID = "-//Civic participation and EU funding assistant//Events//EN"
UID_DOMAIN = "civic-assistant.events"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def city_slug(name: str) -> str:
    """ASCII slug of a city name: `Reykjavík` -> `reykjavik`, `Den Haag` -> `den-haag`."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", plain.lower()).strip("-")


def last_day(event: Event) -> dt.date:
    """The event's last day (its start day when no end is known)."""
    assert event.start_date is not None
    return event.end_date or event.start_date


@dataclass(frozen=True)
class EventCatalogue:
    """Dated events, sorted by start date, with the cities that have any."""

    events: tuple[Event, ...]

    @classmethod
    def from_events(cls, events: list[Event]) -> EventCatalogue:
        """Keep the dated events, in calendar order."""
        dated = [e for e in events if e.start_date is not None]
        dated.sort(key=lambda e: (e.start_date or dt.date.min, e.id))
        return cls(events=tuple(dated))

    def cities(self) -> dict[str, str]:
        """Slug -> city name, for every city with a dated event."""
        return {city_slug(e.city): e.city for e in self.events if e.city}

    def select(self, city: str | None = None, since: dt.date | None = None) -> list[Event]:
        """Events in `city` (slug or name) that end on or after `since`."""
        slug = city_slug(city) if city else None
        return [
            e
            for e in self.events
            if (slug is None or (e.city is not None and city_slug(e.city) == slug))
            and (since is None or last_day(e) >= since)
        ]


class EventSource:
    """Loads the knowledge base's events once, on first use, thread-safely."""

    def __init__(self, data_dir: Path | None = None) -> None:
        """Read records from `data_dir` (default: the knowledge settings' folder)."""
        self._data_dir = data_dir
        self._catalogue: EventCatalogue | None = None
        self._lock = threading.Lock()

    def catalogue(self) -> EventCatalogue:
        """The events (blocking on first call: run it in a worker thread)."""
        with self._lock:
            if self._catalogue is None:
                kb, _ = load_knowledge_base(self._data_dir)
                self._catalogue = EventCatalogue.from_events(list(kb.events.values()))
            return self._catalogue


def to_ical(events: list[Event], name: str, language: str) -> bytes:
    """An iCalendar (RFC 5545) feed of all-day events, texts in `language`."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(_vevent(event, language))
    data: bytes = calendar.to_ical()
    return data


def _vevent(event: Event, language: str) -> CalendarEvent:
    assert event.start_date is not None
    title, _ = event.title.get(language)
    summary, _ = event.summary.get(language)
    item = CalendarEvent()
    item.add("uid", f"{event.id}@{UID_DOMAIN}")
    # DTSTAMP: when the record was last checked, so unchanged feeds stay byte-identical.
    item.add("dtstamp", dt.datetime.combine(event.last_verified, dt.time(), tzinfo=dt.UTC))
    item.add("dtstart", event.start_date)
    item.add("dtend", last_day(event) + dt.timedelta(days=1))  # all-day: end is exclusive
    item.add("summary", title)
    item.add("description", f"{summary}\n\n{event.url}")
    item.add("url", str(event.url))
    location = ", ".join(p for p in (event.place, event.city, event.country) if p)
    if location:
        item.add("location", location)
    return item
