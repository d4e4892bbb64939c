"""Lazy, shared access to the participation service for the custom actions.

The service is synchronous (SQLAlchemy): actions call it with `asyncio.to_thread`
so a slow or busy database never blocks the action server's event loop.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar
from urllib.parse import quote

from bot.kb_access import get_knowledge_base
from participation.service import ParticipationService
from participation.settings import ParticipationSettings, get_settings

T = TypeVar("T")

# Paths served by the gateway (channels/), below `public_base_url`. The calendar
# takes a city's slug (`Reykjavík` -> `reykjavik`), as the gateway's own links do.
CALENDAR_PATH = "/calendar/{city}.ics"
UNSUBSCRIBE_PATH = "/unsubscribe/{token}"
_NOT_SLUG_RE = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1)
def get_participation() -> ParticipationService:
    """The process-wide service, sharing the actions' knowledge base (created on first use)."""
    return ParticipationService(kb=get_knowledge_base())


async def participation(injected: ParticipationService | None = None) -> ParticipationService:
    """The injected service (tests) or the shared one, created off the event loop."""
    if injected is not None:
        return injected
    return await asyncio.to_thread(get_participation)


async def call(method: Callable[..., T], /, **kwargs: object) -> T:
    """Run one blocking service method in a worker thread."""
    return await asyncio.to_thread(method, **kwargs)


def settings() -> ParticipationSettings:
    """The participation settings (limits, reminder offsets, public links)."""
    return get_settings()


def _public(path: str, config: ParticipationSettings | None) -> str:
    return (config or settings()).public_base_url.rstrip("/") + path


def city_slug(city: str) -> str:
    """ASCII slug of a city name for URLs ("Den Haag" -> "den-haag")."""
    plain = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG_RE.sub("-", plain.lower()).strip("-")


def calendar_url(city: str, config: ParticipationSettings | None = None) -> str:
    """The subscribable calendar (iCalendar feed) of a city's events."""
    return _public(CALENDAR_PATH.format(city=city_slug(city)), config)


def unsubscribe_url(token: str, config: ParticipationSettings | None = None) -> str:
    """One-tap link that ends one subscription."""
    return _public(UNSUBSCRIBE_PATH.format(token=quote(token, safe="")), config)
