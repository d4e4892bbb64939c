"""Which city and country a conversation is about: the widget's page, `/city`, or words.

A city's page embeds the widget with `city`/`country` options and the messaging
channels let users set theirs; both arrive as message metadata. "My city is Rijeka"
sets it too. Answers about taking part then show that city first, then its country.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot import parsing
from bot.event_query import city_lexicon, known_cities
from knowledge.base import KnowledgeBase

META_CITY = "city"
META_COUNTRY = "country"
MAX_CITY_CHARS = 80
_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")


def _clean_city(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    city = " ".join(value.split())[:MAX_CITY_CHARS]
    return city or None


def from_metadata(metadata: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(city, country code) a channel sent with the message, validated."""
    if not isinstance(metadata, Mapping):
        return None, None
    country = metadata.get(META_COUNTRY)
    code = country.upper() if isinstance(country, str) and _COUNTRY_RE.match(country) else None
    return _clean_city(metadata.get(META_CITY)), code


def canonical_city(kb: KnowledgeBase, value: str) -> str:
    """A known city's name as the records write it ("zagreb" -> "Zagreb")."""
    return city_lexicon(known_cities(kb)).find(value) or value


def city_in_text(kb: KnowledgeBase, text: str) -> str | None:
    """A city of the knowledge base named in the text ("moj grad je Rijeka")."""
    return city_lexicon(known_cities(kb)).find(text)


def country_of_city(kb: KnowledgeBase, city: str) -> str | None:
    """The country the records give for a city, if any."""
    folded = parsing.fold(city)
    records = [*kb.events.values(), *kb.practices.values(), *kb.contacts.values()]
    for record in records:
        record_city = getattr(record, "city", None)
        country = getattr(record, "country", None)
        if record_city and country and parsing.fold(record_city) == folded:
            return str(country)
    return None
