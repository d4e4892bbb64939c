"""Portal topics -> Call records of the knowledge base (the schema of knowledge/schema.py).

Each topic is checked on its own: one with a missing or unreadable field is left
out and reported, the others are imported. When most topics have such problems,
the API has changed and the whole import fails (see ``ImportMapping.format_failure``).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import ValidationError

from indexer.ftportal.client import STATUSES
from indexer.ftportal.programmes import programme_for
from knowledge.languages import is_eu_language, normalize_language
from knowledge.schema import Call, call_status

TOPIC_URL: Final[str] = (
    "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
    "topic-details/{}"
)
SOURCE: Final[str] = "ftportal"
_DATE_RE: Final[re.Pattern[str]] = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$"
)
_SPACE_RE: Final[re.Pattern[str]] = re.compile(r"\s+")
_TAG_RE: Final[re.Pattern[str]] = re.compile(r"<[^>]*>")


SkipKind = Literal[
    "unreadable", "unknown_status", "other_programme", "closed", "invalid", "duplicate"
]


@dataclass(frozen=True)
class Skipped:
    """A topic that was not imported, and why."""

    identifier: str
    reason: str
    kind: SkipKind

    @property
    def format_problem(self) -> bool:
        """True when the topic's fields look unlike the documented format."""
        return self.kind in ("unreadable", "unknown_status")


@dataclass
class ImportMapping:
    """The records of one import and what was left out."""

    records: list[Call] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    topics: int = 0
    """Distinct topics examined."""

    @property
    def format_problems(self) -> list[Skipped]:
        """Topics left out because a field was missing or unreadable."""
        return [s for s in self.skipped if s.format_problem]

    def skipped_counts(self) -> Counter[str]:
        """Topics left out, per kind of reason."""
        return Counter(s.kind for s in self.skipped)

    @property
    def format_failure(self) -> str | None:
        """Why the whole import must fail, or None: no topic, or mostly unreadable ones."""
        if self.topics == 0:
            return "the portal returned no open or forthcoming topic (changed query format?)"
        problems = self.format_problems
        if 2 * len(problems) > self.topics:
            first = problems[0]
            return (
                f"{len(problems)} of {self.topics} topics are unreadable (changed format?); "
                f"first: {first.identifier}: {first.reason}"
            )
        return None

    def status_counts(self, today: dt.date) -> Counter[str]:
        """Imported calls per status on ``today`` (open, forthcoming)."""
        return Counter(call_status(call, today) for call in self.records)


class _Unreadable(ValueError):
    """A field in a shape the documented format does not have."""


def first(metadata: dict[str, Any], key: str) -> str | None:
    """The first value of a metadata field (the API gives lists of strings)."""
    values = all_values(metadata, key)
    return values[0] if values else None


def all_values(metadata: dict[str, Any], key: str) -> list[str]:
    """Every non-empty value of a metadata field, as text."""
    value = metadata.get(key)
    items = value if isinstance(value, list) else [value]
    return [str(item).strip() for item in items if item is not None and str(item).strip()]


def clean_text(value: str) -> str:
    """Plain text: tags removed, entities decoded, spaces collapsed."""
    return _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", value))).strip()


def parse_moment(value: str) -> tuple[dt.date, str | None, str | None]:
    """A portal date as (date, "HH:MM" or None, time zone or None).

    ``2026-04-29T00:00:00.000+0000`` carries no time of day (midnight UTC is how the
    API writes a plain date) and gives the date alone; any other time with an offset
    is converted to UTC, since the schema takes zone names, not offsets.

    Raises:
        _Unreadable: If the text is not an ISO date or date-time.
    """
    match = _DATE_RE.match(value.strip())
    if match is None:
        raise _Unreadable(f"{value!r} is not a date")
    day_text, hour, minute, second, offset = match.groups()
    try:
        day = dt.date.fromisoformat(day_text)
    except ValueError as exc:
        raise _Unreadable(f"{value!r} is not a date") from exc
    if hour is None or (hour, minute, second or "00") == ("00", "00", "00"):
        return day, None, None
    moment = dt.datetime.combine(day, dt.time(int(hour), int(minute)))
    if offset is None:
        return day, moment.strftime("%H:%M"), None
    sign = -1 if offset.startswith("-") else 1
    digits = offset.lstrip("+-").replace(":", "")
    if offset == "Z":
        delta = dt.timedelta(0)
    else:
        delta = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    utc = moment.replace(tzinfo=dt.timezone(delta)).astimezone(dt.UTC)
    return utc.date(), utc.strftime("%H:%M"), "UTC"


def _language(result: dict[str, Any], metadata: dict[str, Any]) -> str | None:
    raw = result.get("language") or first(metadata, "language") or "en"
    code = normalize_language(str(raw))
    return code if code is not None and is_eu_language(code) else None


def _titles(group: list[dict[str, Any]]) -> dict[str, str]:
    """The topic's title in every EU language its results have."""
    titles: dict[str, str] = {}
    for result in group:
        metadata = result.get("metadata") or {}
        text = first(metadata, "title") or result.get("title") or result.get("summary")
        lang = _language(result, metadata)
        if isinstance(text, str) and lang is not None and lang not in titles:
            cleaned = clean_text(text)
            if cleaned:
                titles[lang] = cleaned
    return titles


def _budget_rows(metadata: dict[str, Any], identifier: str) -> list[dict[str, Any]]:
    """This topic's rows of ``budgetOverview`` (a JSON text listing the whole call)."""
    raw = first(metadata, "budgetOverview")
    if raw is None:
        return []
    try:
        overview = json.loads(raw)
    except ValueError:
        return []  # the call is still worth importing without its budget
    table = overview.get("budgetTopicActionMap") if isinstance(overview, dict) else None
    if not isinstance(table, dict):
        return []
    rows = [row for rows in table.values() if isinstance(rows, list) for row in rows]
    code = identifier.upper()
    return [
        row
        for row in rows
        if isinstance(row, dict) and str(row.get("action", "")).upper().startswith(code)
    ]


def _number(value: object) -> float | None:
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if number > 0 else None


def _money(rows: list[dict[str, Any]], url: str) -> dict[str, Any] | None:
    total = 0.0
    for row in rows:
        year_map = row.get("budgetYearMap")
        if isinstance(year_map, dict):
            total += sum(n for n in map(_number, year_map.values()) if n is not None)
    if total <= 0:
        return None
    return {"amount": total, "currency": "EUR", "source": url}


def _grant_size(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    lows = [n for row in rows if (n := _number(row.get("minContribution"))) is not None]
    highs = [n for row in rows if (n := _number(row.get("maxContribution"))) is not None]
    low, high = (min(lows) if lows else None), (max(highs) if highs else None)
    if (low is None and high is None) or (low is not None and high is not None and low > high):
        return None
    return {"min": low, "max": high, "currency": "EUR"}


def _deadlines(metadata: dict[str, Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    texts = all_values(metadata, "deadlineDate")
    if not texts:
        texts = [str(d) for row in rows for d in (row.get("deadlineDates") or []) if d]
    moments = sorted({parse_moment(text) for text in texts}, key=lambda m: (m[0], m[1] or ""))
    deadlines = []
    for day, time, zone in moments:
        deadline: dict[str, Any] = {"date": day.isoformat()}
        if time is not None:
            deadline["time"] = time
        if zone is not None:
            deadline["timezone"] = zone
        deadlines.append(deadline)
    return deadlines


def _opening(metadata: dict[str, Any], rows: list[dict[str, Any]]) -> str | None:
    text = first(metadata, "startDate")
    if text is None:
        planned = [str(row["plannedOpeningDate"]) for row in rows if row.get("plannedOpeningDate")]
        text = planned[0] if planned else None
    return parse_moment(text)[0].isoformat() if text else None


def record_id(identifier: str) -> str:
    """The knowledge-base id of a topic: ``ftportal-`` and the identifier as a slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", identifier.lower()).strip("-")
    return f"{SOURCE}-{slug}"


def topic_record(
    identifier: str,
    programme: str,
    group: list[dict[str, Any]],
    fetched_at: dt.datetime,
) -> dict[str, Any]:
    """The Call record (as data) of one topic from its results (one per language).

    Raises:
        _Unreadable: If a field the record needs is missing or unreadable.
    """
    metadata = group[0].get("metadata") or {}
    titles = _titles(group)
    if "en" not in titles:
        raise _Unreadable("no English title")
    url = TOPIC_URL.format(identifier.lower())
    rows = _budget_rows(metadata, identifier)
    deadlines = _deadlines(metadata, rows)
    if not deadlines:
        raise _Unreadable("no deadlineDate")
    status = STATUSES[first(metadata, "status") or ""]
    record: dict[str, Any] = {
        "id": record_id(identifier),
        "programme": programme,
        "call_id": identifier,
        "title": titles,
        "opening_date": _opening(metadata, rows),
        "deadlines": deadlines,
        "budget": _money(rows, url),
        "grant_size": _grant_size(rows),
        "url": url,
        "sources": [
            {
                "url": url,
                "reliability": "official",
                "note": f"EU Funding & Tenders Portal search API; portal status {status}",
            }
        ],
        "last_verified": fetched_at.date().isoformat(),
        "source": SOURCE,
        "fetched_at": fetched_at.isoformat().replace("+00:00", "Z"),
    }
    return {key: value for key, value in record.items() if value is not None}


def _groups(
    results: Iterable[dict[str, Any]], mapping: ImportMapping
) -> dict[str, list[dict[str, Any]]]:
    """Results per topic identifier (the portal may send one result per language)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        metadata = result.get("metadata")
        identifier = first(metadata, "identifier") if isinstance(metadata, dict) else None
        if identifier is None:
            label = str(result.get("reference") or "?")
            mapping.topics += 1
            mapping.skipped.append(Skipped(label, "no metadata.identifier", "unreadable"))
            continue
        groups.setdefault(identifier.upper(), []).append(result)
    english_first = {
        key: sorted(group, key=lambda r: _language(r, r.get("metadata") or {}) != "en")
        for key, group in groups.items()
    }
    return english_first


def map_topics(
    results: Iterable[dict[str, Any]],
    programmes: Container[str],
    fetched_at: dt.datetime,
) -> ImportMapping:
    """Turn search results into validated Call records.

    Args:
        results: Every result of every page.
        programmes: Ids of the knowledge base's programmes (others are not imported).
        fetched_at: When the pages were fetched (UTC); calls closed by then are left out.
    """
    mapping = ImportMapping()
    seen: set[str] = set()
    for group in _groups(results, mapping).values():
        mapping.topics += 1
        skipped = _map_one(group, programmes, fetched_at, seen, mapping)
        if skipped is not None:
            mapping.skipped.append(skipped)
    return mapping


def _map_one(
    group: list[dict[str, Any]],
    programmes: Container[str],
    fetched_at: dt.datetime,
    seen: set[str],
    mapping: ImportMapping,
) -> Skipped | None:
    """Add one topic's record to ``mapping``; return why not, if it was left out."""
    metadata = group[0].get("metadata") or {}
    identifier = first(metadata, "identifier") or "?"
    status = first(metadata, "status")
    if status not in STATUSES:
        return Skipped(identifier, f"unknown status code {status!r}", "unknown_status")
    programme = programme_for(identifier, programmes)
    if programme is None:
        return Skipped(identifier, "not a programme of the knowledge base", "other_programme")
    try:
        data = topic_record(identifier, programme, group, fetched_at)
    except _Unreadable as exc:
        return Skipped(identifier, str(exc), "unreadable")
    try:
        call = Call.model_validate(data)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return Skipped(identifier, f"not a valid call: {detail}", "invalid")
    if call_status(call, fetched_at.date()) == "closed":
        return Skipped(identifier, f"last deadline {call.closing_date} has passed", "closed")
    if call.id in seen:
        return Skipped(identifier, f"same id as another topic ({call.id})", "duplicate")
    seen.add(call.id)
    mapping.records.append(call)
    return None
