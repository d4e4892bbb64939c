"""What a reminder request is about: calls on a theme, calls of a programme, events in a city.

"Subscribe me to CERV calls" names a programme, "remind me of closing calls about
climate" a theme, "tell me about events in Zagreb and remind me" a city. Button
payloads (suggestions) carry the kind and target as entities. The participation
service checks the target; this module only reads the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot import parsing
from bot.event_query import city_lexicon
from bot.parsing import Lexicon, load_lexicon
from knowledge.base import KnowledgeBase
from knowledge.resolve import find_programme
from participation.types import SUBSCRIPTION_KINDS, SubscriptionKind

CALLS_THEME: Final = "calls_theme"
CALLS_PROGRAMME: Final = "calls_programme"
EVENTS_CITY: Final = "events_city"

KIND_ENTITY = "subscription_kind"
TARGET_ENTITY = "subscription_target"


@dataclass(frozen=True)
class SubscriptionRequest:
    """The kind of reminder, and its target when the message names one."""

    kind: SubscriptionKind
    target: str | None


def event_words() -> Lexicon:
    """Words that make a request about events ("events", "događanja", ...)."""
    return load_lexicon("event_words")


def _as_kind(value: object) -> SubscriptionKind | None:
    for kind in SUBSCRIPTION_KINDS:
        if value == kind:
            return kind  # type: ignore[return-value]
    return None


def from_payload(entities: Iterable[Mapping[str, Any]]) -> SubscriptionRequest | None:
    """Kind and target of a suggestion button, if the message is one."""
    values = {str(e.get("entity")): e.get("value") for e in entities}
    kind = _as_kind(values.get(KIND_ENTITY))
    target = values.get(TARGET_ENTITY)
    if kind is None or not isinstance(target, str) or not target.strip():
        return None
    return SubscriptionRequest(kind, target.strip())


def from_text(text: str, kb: KnowledgeBase, cities: Iterable[str]) -> SubscriptionRequest | None:
    """Read the request from the user's words; None when it names nothing.

    A programme is the most specific request, then a city or the word "events",
    then a theme.
    """
    programme = find_programme(kb, text)
    if programme is not None:
        return SubscriptionRequest(CALLS_PROGRAMME, programme.id)
    city = city_lexicon(cities).find(text)
    if city is not None or event_words().find(text) is not None:
        return SubscriptionRequest(EVENTS_CITY, city)
    theme = parsing.themes().find(text)
    if theme is not None:
        return SubscriptionRequest(CALLS_THEME, theme)
    return None
