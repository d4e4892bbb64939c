"""A tiny knowledge base built in code, with dates relative to the test clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from knowledge.base import KnowledgeBase, RecordLocation
from knowledge.schema import Call, Event, Programme

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
DAY = dt.timedelta(days=1)
SOURCES = [{"url": "https://example.eu/source", "reliability": "official"}]
HERE = RecordLocation(path=Path("channels-test.yaml"), line=1)


def _common(record_id: str) -> dict[str, Any]:
    return {"id": record_id, "sources": SOURCES, "last_verified": dt.date(2026, 1, 15)}


def event(record_id: str, city: str | None, start: dt.date | None, **extra: Any) -> Event:
    return Event(
        **_common(record_id),
        kind="event",
        title={"en": f"Event {record_id}", "hr": f"Događanje {record_id}"},
        summary={"en": f"About {record_id}.", "hr": f"O događanju {record_id}."},
        city=city,
        start_date=start,
        url=f"https://example.eu/events/{record_id}",
        **extra,
    )


def sample_events() -> list[Event]:
    """Two Rijeka events (one in 7 days, one past), one in Reykjavík, one undated."""
    return [
        event("rijeka-forum", "Rijeka", TODAY + 7 * DAY, end_date=TODAY + 8 * DAY),
        event("rijeka-past", "Rijeka", TODAY - 30 * DAY),
        event("reykjavik-vote", "Reykjavík", TODAY + 40 * DAY, place="City Hall"),
        event("ongoing-consultation", "Rijeka", None),
    ]


def sample_kb() -> KnowledgeBase:
    kb = KnowledgeBase()
    programme = Programme(
        **_common("cerv"),
        title={"en": "Citizens, Equality, Rights and Values"},
        summary={"en": "Summary."},
        themes=["democracy"],
        acronym="CERV",
        funding_type="direct_grant",
        url="https://example.eu/cerv",
    )
    call = Call(
        **_common("cerv-call"),
        programme="cerv",
        title={"en": "CERV town twinning", "hr": "CERV bratimljenje gradova"},
        deadlines=[{"date": TODAY + 1 * DAY}],
        url="https://example.eu/calls/cerv-call",
    )
    for record in [programme, call, *sample_events()]:
        kb.add(record, HERE)
    return kb
