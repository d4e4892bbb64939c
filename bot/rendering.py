"""Render domain responses and format numbers and dates in the user's language.

Actions send whole responses through Rasa (`utter_message(response=...)`), but some
messages are assembled from several short texts (the reasons a programme fits,
the list of calls). Those fragments are `utter_frag_*` responses in the domain; this
module picks the variation for the language from the domain the action received,
so every user-facing word still lives in `bot/domain/`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

# English as written in the EU (16 April 2026, €8,000), and territories Babel needs
# for some languages' formats.
_LOCALES = {"en": "en_IE", "ga": "ga_IE", "mt": "mt_MT", "el": "el_GR", "sv": "sv_SE"}


def locale_of(language: str) -> str:
    """Babel locale for one of our language codes."""
    return _LOCALES.get(language, language)


class _KeepMissing(dict[str, Any]):
    """Leave unknown {placeholders} visible rather than failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def variation(domain: Mapping[str, Any], name: str, language: str) -> Mapping[str, Any]:
    """The response variation for `language`, else the unconditioned default."""
    variations: Sequence[Mapping[str, Any]] = domain.get("responses", {}).get(name, [])
    default: Mapping[str, Any] | None = None
    for candidate in variations:
        conditions = candidate.get("condition") or []
        if not conditions:
            default = default or candidate
            continue
        if all(c.get("name") == "language" and c.get("value") == language for c in conditions):
            return candidate
    if default is None:
        raise KeyError(f"response {name!r} has no default variation")
    return default


def render(domain: Mapping[str, Any], name: str, language: str, **values: object) -> str:
    """Text of a response in `language` with its {placeholders} filled."""
    template = str(variation(domain, name, language).get("text", ""))
    return template.format_map(_KeepMissing(values))


def money(amount: float | None, language: str, currency: str = "EUR") -> str | None:
    """'8.000 €' / '€8,000' as the language writes it; None when unknown."""
    if amount is None:
        return None
    locale = locale_of(language)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    if float(amount).is_integer():  # "8.000 €", not "8.000,00 €"
        pattern = pattern.replace(".00", "")
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


def number(value: float, language: str) -> str:
    """A plain number in the language's notation (80 / 82,5)."""
    return format_decimal(value, locale=locale_of(language))


def date(value: dt.date, language: str) -> str:
    """A long date in the language ('16 April 2026', '16. travnja 2026.')."""
    return format_date(value, format="long", locale=locale_of(language))


def time_of_day(value: dt.datetime, language: str) -> str:
    """A clock time in the language, in the datetime's own zone ('17:00')."""
    return format_time(value, format="short", tzinfo=value.tzinfo, locale=locale_of(language))
