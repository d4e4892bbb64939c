"""Checks across records (references) and the coverage report of the knowledge base."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.base import KnowledgeBase, KnowledgeError, RecordLocation
from knowledge.languages import EU_LANGUAGES
from knowledge.messages import suggest
from knowledge.schema import (
    COUNTRY_GROUPS,
    RECORD_TYPES,
    Call,
    Loc,
    Record,
    RecordType,
    call_status,
)


def _reference_error(
    kb: KnowledgeBase, location: RecordLocation, loc: Loc, target: str
) -> KnowledgeError | None:
    """Check that ``target`` names a programme; None if it does (or was rejected)."""
    if target in kb.programmes or kb.rejected.get(target) == "programme":
        return None
    actual = kb.type_of(target)
    if actual is not None:
        return location.error(loc, f"{target!r} is a {actual}, not a programme")
    hint = suggest(target, kb.programmes)
    return location.error(loc, f"unknown programme {target!r}{hint}")


def _programme_references(kb: KnowledgeBase) -> Iterator[tuple[str, Loc, str]]:
    """Yield ``(record id, field path, programme id)`` for every programme reference."""
    for programme in kb.programmes.values():
        if programme.parent is not None:
            yield programme.id, ("parent",), programme.parent
    for call in kb.calls.values():
        yield call.id, ("programme",), call.programme
    for practice in kb.practices.values():
        for index, target in enumerate(practice.funded_by):
            yield practice.id, ("funded_by", index), target


def _parent_cycles(kb: KnowledgeBase) -> Iterator[KnowledgeError]:
    """Report programmes whose parent chain loops back on itself."""
    for programme in kb.programmes.values():
        chain = [programme.id]
        parent = programme.parent
        while parent is not None and parent in kb.programmes and parent not in chain:
            chain.append(parent)
            parent = kb.programmes[parent].parent
        if parent == programme.id and len(chain) > 1:
            loop = " -> ".join([*chain, programme.id])
            yield kb.locations[programme.id].error(("parent",), f"parent loop: {loop}")


def check_references(kb: KnowledgeBase) -> list[KnowledgeError]:
    """Find references to programmes that do not exist, and parent loops.

    References to records that failed validation are not reported again.

    Args:
        kb: The knowledge base of valid records.

    Returns:
        One error per dead reference or loop.
    """
    errors: list[KnowledgeError] = []
    for record_id, loc, target in _programme_references(kb):
        error = _reference_error(kb, kb.locations[record_id], loc, target)
        if error is not None:
            errors.append(error)
    errors.extend(_parent_cycles(kb))
    return errors


def check_sources(kb: KnowledgeBase) -> list[KnowledgeError]:
    """Report records without sources (for records built in code, not loaded).

    Loaded records cannot lack sources because the schema requires one.
    """
    return [
        kb.locations[record.id].error(("sources",), "no sources: every record needs one")
        for record in kb.records()
        if not record.sources and record.id in kb.locations
    ]


def check_knowledge_base(kb: KnowledgeBase) -> list[KnowledgeError]:
    """Run every cross-record check (the loader calls this after validation)."""
    return [*check_references(kb), *check_sources(kb)]


# --------------------------------------------------------------------------- freshness


def _warning(kb: KnowledgeBase, record_id: str, loc: Loc, message: str) -> KnowledgeError:
    """Locate a warning at the record's field, or name the record if it was built in code."""
    location = kb.locations.get(record_id)
    if location is None:
        return KnowledgeError(Path(record_id), None, None, message)
    return location.error(loc, message)


def check_stale_records(
    kb: KnowledgeBase, today: dt.date, max_age_days: int
) -> list[KnowledgeError]:
    """Warn about records nobody has checked against their source for too long.

    Facts such as deadlines and budgets age; a record whose ``last_verified``
    is older than ``max_age_days`` should be re-read at its source.

    Args:
        kb: The knowledge base.
        today: The reference date (injected so that tests do not read the clock).
        max_age_days: Age in days above which a record counts as stale.

    Returns:
        One warning per stale record, oldest first.
    """
    cutoff = today - dt.timedelta(days=max_age_days)
    stale = sorted(
        (record for record in kb.records() if record.last_verified < cutoff),
        key=lambda record: (record.last_verified, record.id),
    )
    return [
        _warning(
            kb,
            record.id,
            ("last_verified",),
            f"{record.id}: last verified {record.last_verified.isoformat()}, "
            f"{(today - record.last_verified).days} days ago "
            f"(older than {max_age_days} days): check it against its source",
        )
        for record in stale
    ]


def latest_calls(kb: KnowledgeBase) -> dict[str, Call]:
    """The call of each programme that closes last (ties broken by id, for stable output)."""
    latest: dict[str, Call] = {}
    for call in sorted(kb.calls.values(), key=lambda call: (call.closing_date, call.id)):
        latest[call.programme] = call
    return latest


def _programme_ended(kb: KnowledgeBase, programme_id: str, today: dt.date) -> bool:
    """A programme whose period ended before this year will have no new call to look for."""
    programme = kb.programmes.get(programme_id)
    period = programme.period if programme is not None else None
    return period is not None and period.end is not None and period.end < today.year


def check_closed_programmes(kb: KnowledgeBase, today: dt.date) -> list[KnowledgeError]:
    """Warn about programmes whose latest call has closed and no newer one is known.

    Such a programme can only be answered with "the last call closed on ...";
    an editor should look for the next round at the source. Programmes whose
    period has ended (e.g. Europe for Citizens 2014-2020) are left out.

    Args:
        kb: The knowledge base.
        today: The reference date.

    Returns:
        One warning per programme, located at the programme record.
    """
    warnings: list[KnowledgeError] = []
    for programme_id, call in sorted(latest_calls(kb).items()):
        if call_status(call, today) != "closed" or _programme_ended(kb, programme_id, today):
            continue
        message = (
            f"{programme_id}: its latest call {call.id} closed on "
            f"{call.closing_date.isoformat()} and no newer call is known: look for the next round"
        )
        warnings.append(_warning(kb, programme_id, (), message))
    return warnings


def check_freshness(kb: KnowledgeBase, today: dt.date, max_age_days: int) -> list[KnowledgeError]:
    """Every freshness warning: stale records, then programmes without a current call.

    These are warnings, not errors: the data is still valid, only ageing.
    """
    return [*check_stale_records(kb, today, max_age_days), *check_closed_programmes(kb, today)]


# --------------------------------------------------------------------------- coverage


def record_languages(record: Record) -> tuple[str, ...]:
    """Languages a record is available in: its title, terms, or spoken languages.

    Contacts have no title; the languages they answer in are what matters.
    """
    for name in ("title", "terms"):
        text = getattr(record, name, None)
        if text is not None:
            return tuple(text.languages)
    return tuple(getattr(record, "languages", ()))


@dataclass(frozen=True)
class Coverage:
    """How much content the knowledge base has, per type and language."""

    records: dict[RecordType, int]
    languages: dict[RecordType, dict[str, int]]
    practice_countries: int
    glossary_terms: int
    glossary_languages: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape of ``python -m indexer validate --json`` (sans errors)."""
        return {
            "records": dict(self.records),
            "languages": {kind: dict(counts) for kind, counts in self.languages.items()},
            "countries": {"practice": self.practice_countries},
            "glossary": {"terms": self.glossary_terms, "languages": self.glossary_languages},
        }


def _language_counts(records: Iterator[Record] | list[Record]) -> dict[str, int]:
    """Count records per EU language (every language listed, zeros included)."""
    counts = dict.fromkeys(EU_LANGUAGES, 0)
    for record in records:
        for lang in record_languages(record):
            if lang in counts:
                counts[lang] += 1
    return counts


def coverage(kb: KnowledgeBase) -> Coverage:
    """Summarise the knowledge base for editors and for the indexer.

    Args:
        kb: The knowledge base.

    Returns:
        Records per type, per type and language, distinct practice countries
        (group codes such as ``EU`` excluded) and glossary size.
    """
    glossary_languages = {lang for term in kb.glossary.values() for lang in term.terms.languages}
    countries = {p.country for p in kb.practices.values() if p.country not in COUNTRY_GROUPS}
    return Coverage(
        records={kind: len(kb.of_type(kind)) for kind in RECORD_TYPES},
        languages={
            kind: _language_counts(list(kb.of_type(kind).values())) for kind in RECORD_TYPES
        },
        practice_countries=len(countries),
        glossary_terms=len(kb.glossary),
        glossary_languages=len(glossary_languages),
    )
