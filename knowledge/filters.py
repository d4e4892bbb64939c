"""Structured search filters: parsed strictly, applied to the index's facets.

Values come from the controlled vocabularies of ``knowledge.schema``; anything
else is an :class:`UnknownFilterError` naming the allowed values, because a
misspelt filter that silently matched nothing would look like "no funding
exists". Within one filter, values are alternatives (any of them); different
filters must all hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from knowledge.funding import country_is_eligible
from knowledge.schema import (
    APPLICANT_TYPES,
    ISO_COUNTRIES,
    RECORD_TYPES,
    THEMES,
    Call,
    RecordType,
    call_status,
)
from knowledge.search_errors import UnknownFilterError
from knowledge.store import IndexedRecord

CallState = Literal["open", "forthcoming"]
CALL_STATES: Final[tuple[CallState, ...]] = get_args(CallState)

OPEN_ANY: Final[str] = "true"
"""``open=true``: calls that are open or forthcoming."""

DEFAULT_TYPES: Final[frozenset[RecordType]] = frozenset(("programme", "call", "practice", "event"))
"""Types searched when no type is asked for. Glossary terms drive query
expansion and contacts serve the human handoff; they are returned only when
asked for explicitly (``type=glossary``, ``type=contact``)."""


_COUNTRY_HINT: Final[list[str]] = ["AT", "BE", "HR", "…", "ISO 3166-1 alpha-2 codes"]


def _split(values: Iterable[str] | str | None) -> list[str]:
    """Accept repeated parameters and comma-separated lists alike."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def _check(
    name: str, values: list[str], allowed: Iterable[str], shown: list[str] | None = None
) -> frozenset[str]:
    """Reject the first value outside ``allowed``, listing ``shown`` (default: all)."""
    allowed_list = list(allowed)
    allowed_set = frozenset(allowed_list)
    for value in values:
        if value not in allowed_set:
            raise UnknownFilterError(name, value, shown or allowed_list)
    return frozenset(values)


@dataclass(frozen=True)
class SearchFilters:
    """Which records may be returned; empty sets mean "no restriction"."""

    types: frozenset[RecordType] = frozenset()
    applicants: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()
    call_states: frozenset[CallState] = frozenset()

    @classmethod
    def parse(
        cls,
        *,
        type: Iterable[str] | str | None = None,  # named like the API parameter
        applicant: Iterable[str] | str | None = None,
        country: Iterable[str] | str | None = None,
        theme: Iterable[str] | str | None = None,
        open: Iterable[str] | str | None = None,  # named like the API parameter
    ) -> SearchFilters:
        """Validate raw filter values (as given to the API).

        Country codes are upper-cased (``hr`` means HR); ``open`` takes
        ``open``, ``forthcoming`` or ``true`` (either).

        Raises:
            UnknownFilterError: For the first value outside its vocabulary.
        """
        types = _check("type", _split(type), RECORD_TYPES)
        countries = [value.upper() for value in _split(country)]
        states = _split(open)
        if OPEN_ANY in states:
            states = [s for s in states if s != OPEN_ANY] + list(CALL_STATES)
        return cls(
            types=frozenset(t for t in RECORD_TYPES if t in types),
            applicants=_check("applicant", _split(applicant), APPLICANT_TYPES),
            countries=_check("country", countries, ISO_COUNTRIES, _COUNTRY_HINT),
            themes=_check("theme", _split(theme), THEMES),
            call_states=frozenset(
                s for s in CALL_STATES if s in _check("open", states, [*CALL_STATES, OPEN_ANY])
            ),
        )

    @property
    def searched_types(self) -> frozenset[RecordType]:
        """Types that may match: the asked ones, or the defaults."""
        types = self.types or DEFAULT_TYPES
        if self.call_states:
            types = types & {"programme", "call"}
        return types


def country_matches(country: str, countries: Iterable[str]) -> bool:
    """Whether a place or eligibility list covers ``country``.

    Group codes expand as in the funding finder (EU27, EEA, IPA); an EU-wide
    practice (``EU``) counts for every Member State. ``ASSOCIATED`` depends on
    each programme's agreements and is not assumed to include anyone.
    """
    listed = ["EU27" if code == "EU" else code for code in countries]
    return bool(country_is_eligible(country, listed))


def record_matches(
    item: IndexedRecord,
    filters: SearchFilters,
    today: dt.date,
    calls: Mapping[str, Call],
) -> bool:
    """Whether one record passes every filter.

    Args:
        item: The record with its facets.
        filters: The parsed filters.
        today: Reference date for call status.
        calls: Calls of the index by id (a programme is open when one of its
            calls is).
    """
    facets = item.facets
    if item.type not in filters.searched_types:
        return False
    if filters.applicants and not filters.applicants & set(facets.applicants):
        return False
    if filters.countries and not any(
        country_matches(code, facets.countries) for code in filters.countries
    ):
        return False
    if filters.themes and not filters.themes & set(facets.themes):
        return False
    if filters.call_states:
        if isinstance(item.record, Call):
            states = {call_status(item.record, today)}
        else:
            states = {call_status(calls[c], today) for c in facets.calls if c in calls}
        if not filters.call_states & states:
            return False
    return True
