"""The user's place (city, country) that channels send with each message as metadata.

The bot reads the metadata keys `city` and `country` into its slots `city` and
`country_context` (bot/city_context.py), so "my city" means this city. Only a name and
a country code are kept: no address, no location.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from knowledge.schema import ISO_COUNTRIES

META_CITY = "city"
META_COUNTRY = "country"
CITY_MAX_CHARS = 80
# Besides letters, marks and digits, what city names use: "Saint-Étienne", "L'Aquila",
# "Frankfurt (Oder)", "Halle/Saale", "St. Pölten".
_CITY_PUNCTUATION = frozenset(" -'’.(),/")


def clean_city(value: str) -> str | None:
    """`value` as a city name (spaces collapsed), or None when it cannot be one.

    Plain text only: no markup characters, no command, at most `CITY_MAX_CHARS`.
    """
    name = " ".join(value.split())
    if not name or len(name) > CITY_MAX_CHARS or name.startswith("/"):
        return None
    allowed = all(
        char.isalnum() or char in _CITY_PUNCTUATION or unicodedata.category(char).startswith("M")
        for char in name
    )
    return name if allowed and any(char.isalpha() for char in name) else None


def clean_country(value: str) -> str | None:
    """`value` as an ISO 3166-1 alpha-2 code in upper case, or None."""
    code = value.strip().upper()
    return code if len(code) == 2 and code in ISO_COUNTRIES else None


def place_metadata(city: str | None, country: str | None) -> dict[str, Any]:
    """The metadata entries for what is known of the user's place (possibly none)."""
    metadata: dict[str, Any] = {}
    if city:
        metadata[META_CITY] = city
    if country:
        metadata[META_COUNTRY] = country
    return metadata
