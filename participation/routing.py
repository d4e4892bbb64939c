"""Which knowledge-base contact gets a ticket, and by when it should answer.

Ranking follows the handoff action's idea (the user's language first), refined for
tickets: a contact in the user's city beats a national or EU-wide one, which beats
one in another city; then the same for the country, then the topic.
``reply_by`` counts a fixed number of office hours from the moment the ticket is
opened, in the contact's time zone, so a ticket opened on Friday evening is due on
Monday afternoon rather than Saturday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from knowledge.schema import Contact, OfficeHours
from knowledge.text import fold
from participation.settings import ParticipationSettings

WEEKDAYS: Final[tuple[str, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Enough days to find the office open again after any holiday-free week.
MAX_DAYS_AHEAD: Final[int] = 366

SAME: Final[int] = 0
UNSPECIFIED: Final[int] = 1
OTHER: Final[int] = 2


@dataclass(frozen=True)
class Hours:
    """Office hours in a resolved form: weekday numbers, opening and closing times, zone."""

    weekdays: frozenset[int]
    opens: dt.time
    closes: dt.time
    zone: ZoneInfo


def _place_rank(wanted: str | None, offered: str | None) -> int:
    """SAME when they match, UNSPECIFIED when the contact covers everywhere, else OTHER."""
    if offered is None:
        return UNSPECIFIED
    if wanted is not None and fold(wanted.casefold()) == fold(offered.casefold()):
        return SAME
    return OTHER if wanted is not None else UNSPECIFIED


def best_contact(
    contacts: Iterable[Contact],
    *,
    language: str,
    city: str | None,
    country: str | None,
    topic: str | None,
) -> Contact | None:
    """The contact that fits best, or None when there are no contacts at all."""

    def rank(contact: Contact) -> tuple[bool, int, int, bool, str]:
        return (
            language not in contact.languages,
            _place_rank(city, contact.city),
            _place_rank(country.upper() if country else None, contact.country),
            topic not in contact.topics,
            contact.id,
        )

    return min(contacts, key=rank, default=None)


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def resolve_hours(office: OfficeHours | None, settings: ParticipationSettings) -> Hours:
    """The contact's office hours, or the configured default when the record has none."""
    if office is None:
        days: Iterable[str] = settings.default_office_days
        opens, closes = settings.default_office_from, settings.default_office_to
        zone = settings.default_office_timezone
    else:
        days, opens, closes = office.days, office.from_, office.to
        zone = office.timezone or settings.default_office_timezone
    return Hours(
        frozenset(WEEKDAYS.index(day) for day in days),
        _time(opens),
        _time(closes),
        ZoneInfo(zone),
    )


def describe_hours(office: OfficeHours | None) -> str | None:
    """Compact, language-neutral form such as ``mon,tue,wed 09:00-15:00 Europe/Zagreb``."""
    if office is None:
        return None
    text = f"{','.join(office.days)} {office.from_}-{office.to}"
    return f"{text} {office.timezone}" if office.timezone else text


def reply_by(opened_at: dt.datetime, hours: Hours, office_hours_needed: float) -> dt.datetime:
    """When ``office_hours_needed`` hours of open office time have passed since ``opened_at``.

    Args:
        opened_at: Aware time the ticket was opened.
        hours: The contact's office hours.
        office_hours_needed: Working time the contact has to reply.

    Returns:
        An aware UTC datetime inside the contact's office hours.
    """
    remaining = dt.timedelta(hours=office_hours_needed)
    local = opened_at.astimezone(hours.zone)
    day = local.date()
    for _ in range(MAX_DAYS_AHEAD):
        if day.weekday() in hours.weekdays:
            start = max(local, dt.datetime.combine(day, hours.opens, hours.zone))
            end = dt.datetime.combine(day, hours.closes, hours.zone)
            if start < end:
                if end - start >= remaining:
                    return (start + remaining).astimezone(dt.UTC)
                remaining -= end - start
        day += dt.timedelta(days=1)
    raise ValueError("office hours never open")
