"""Subscription targets checked against the knowledge base, and what they remind about.

A target is a theme code (``calls_theme``), a programme id (``calls_programme``) or a
city that has events (``events_city``). Each target yields subjects: calls with their
deadlines, or events with their start dates; reminders are planned before those dates.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from knowledge.base import KnowledgeBase
from knowledge.funding import effective
from knowledge.resolve import find_programmes
from knowledge.schema import THEMES, Call, Event, LocalizedText, call_status
from knowledge.text import fold
from participation.errors import UnknownTargetError
from participation.types import SubjectType, SubscriptionKind

MAX_SUGGESTIONS: Final[int] = 3
SUGGESTION_CUTOFF: Final[float] = 0.6


@dataclass(frozen=True)
class Subject:
    """A dated thing a subscription reminds about (a call deadline or an event start)."""

    subject_type: SubjectType
    subject_id: str
    deadline: dt.date


def _key(text: str) -> str:
    """Comparison key: case-folded, accent-free, spaces and hyphens as underscores."""
    return fold(text.strip().casefold()).replace("-", "_").replace(" ", "_")


def event_cities(kb: KnowledgeBase) -> dict[str, str]:
    """Cities that have events, by comparison key, spelled as in the records."""
    return {_key(e.city): e.city for e in kb.events.values() if e.city}


def _suggest(target: str, choices: dict[str, str]) -> tuple[str, ...]:
    """Close spellings of ``target`` among ``choices`` (keys compared, values shown)."""
    keys = difflib.get_close_matches(
        _key(target), list(choices), MAX_SUGGESTIONS, SUGGESTION_CUTOFF
    )
    return tuple(choices[key] for key in keys)


def _programme_suggestions(kb: KnowledgeBase, target: str) -> tuple[str, ...]:
    """Programme ids named by ``target`` (acronym or title), then close spellings of ids."""
    named = [mention.programme.id for mention in find_programmes(kb, target)]
    close = _suggest(target, {_key(pid): pid for pid in kb.programmes})
    ordered = dict.fromkeys([*named, *close])
    return tuple(ordered)[:MAX_SUGGESTIONS]


def resolve_target(kb: KnowledgeBase, kind: SubscriptionKind, target: str) -> str:
    """Canonical spelling of a valid target.

    Args:
        kb: The knowledge base.
        kind: What the user subscribes to.
        target: Theme code, programme id or city name as the user gave it.

    Returns:
        The target as stored (theme code, programme id, city as in the records).

    Raises:
        UnknownTargetError: With did-you-mean suggestions when it does not exist.
    """
    if kind == "calls_theme":
        choices = {_key(theme): theme for theme in THEMES}
    elif kind == "calls_programme":
        by_id = {pid.casefold(): pid for pid in kb.programmes}
        if target.strip().casefold() in by_id:
            return by_id[target.strip().casefold()]
        raise UnknownTargetError(kind, target, _programme_suggestions(kb, target))
    else:
        choices = event_cities(kb)
    found = choices.get(_key(target))
    if found is None:
        raise UnknownTargetError(kind, target, _suggest(target, choices))
    return found


def _call_matches(kb: KnowledgeBase, call: Call, kind: SubscriptionKind, target: str) -> bool:
    """Whether a call belongs to the theme or programme (strands count for their parent)."""
    programme = kb.programmes.get(call.programme)
    if kind == "calls_programme":
        return call.programme == target or (programme is not None and programme.parent == target)
    return programme is not None and target in effective(programme, kb).themes


def _call_subjects(
    kb: KnowledgeBase, kind: SubscriptionKind, target: str, today: dt.date
) -> Iterator[Subject]:
    for call in kb.calls.values():
        if call_status(call, today) == "closed" or not _call_matches(kb, call, kind, target):
            continue
        for deadline in call.deadlines:
            if deadline.date >= today:
                yield Subject("call", call.id, deadline.date)


def _event_subjects(kb: KnowledgeBase, city: str, today: dt.date) -> Iterator[Subject]:
    key = _key(city)
    for event in kb.events.values():
        if (
            event.city
            and _key(event.city) == key
            and event.start_date
            and event.start_date >= today
        ):
            yield Subject("event", event.id, event.start_date)


def subjects(
    kb: KnowledgeBase, kind: SubscriptionKind, target: str, today: dt.date
) -> list[Subject]:
    """Upcoming dated subjects of a subscription target, from ``today`` on."""
    if kind == "events_city":
        return list(_event_subjects(kb, target, today))
    return list(_call_subjects(kb, kind, target, today))


def subject_details(
    kb: KnowledgeBase, subject_type: str, subject_id: str
) -> tuple[dict[str, str], str | None]:
    """Titles per language and URL of a subject (empty when it left the knowledge base)."""
    record: Call | Event | None = (
        kb.calls.get(subject_id) if subject_type == "call" else kb.events.get(subject_id)
    )
    if record is None:
        return {}, None
    title: LocalizedText = record.title
    return dict(title.root), record.url
