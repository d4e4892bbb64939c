"""A small knowledge base built in code, with dates relative to the test clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from knowledge.base import KnowledgeBase, RecordLocation
from knowledge.schema import AnyRecord, Call, Contact, Event, Programme

SOURCES = [{"url": "https://example.eu/src", "reliability": "official"}]
VERIFIED = dt.date(2026, 1, 1)
NOWHERE = RecordLocation(path=__import__("pathlib").Path("test.yaml"), line=1)


def _common(record_id: str) -> dict[str, Any]:
    return {"id": record_id, "sources": SOURCES, "last_verified": VERIFIED}


def programme(
    record_id: str, themes: list[str], parent: str | None = None, acronym: str | None = None
) -> Programme:
    return Programme(
        **_common(record_id),
        title={"en": f"Programme {record_id}", "hr": f"Program {record_id}"},
        summary={"en": "Summary."},
        themes=themes,
        parent=parent,
        acronym=acronym,
        funding_type="direct_grant",
        url=f"https://example.eu/{record_id}",
    )


def call(record_id: str, programme_id: str, *deadlines: dt.date) -> Call:
    return Call(
        **_common(record_id),
        programme=programme_id,
        title={"en": f"Call {record_id}", "hr": f"Poziv {record_id}"},
        deadlines=[{"date": day} for day in deadlines],
        url=f"https://example.eu/calls/{record_id}",
    )


def event(record_id: str, city: str, start: dt.date | None) -> Event:
    return Event(
        **_common(record_id),
        kind="event",
        title={"en": f"Event {record_id}"},
        summary={"en": "Summary."},
        city=city,
        start_date=start,
        url=f"https://example.eu/events/{record_id}",
    )


def contact(record_id: str, **fields: Any) -> Contact:
    fields.setdefault("url", f"https://example.eu/contact/{record_id}")
    return Contact(**_common(record_id), organisation=f"Org {record_id}", **fields)


def build(records: list[AnyRecord]) -> KnowledgeBase:
    kb = KnowledgeBase()
    for record in records:
        kb.add(record, NOWHERE)
    return kb


def sample_kb(today: dt.date) -> KnowledgeBase:
    """Programmes with a strand, calls around ``today``, events, and contacts."""
    day = dt.timedelta(days=1)
    return build(
        [
            programme("cerv", ["democracy", "civic_participation"], acronym="CERV"),
            programme("cerv-towns", [], parent="cerv"),
            programme("life", ["climate", "environment"], acronym="LIFE"),
            # 40 days: all three offsets ahead; 5 days: only the 1-day one; closed: none.
            call("towns-call", "cerv-towns", today + 40 * day),
            call("cerv-late", "cerv", today + 5 * day),
            call("cerv-closed", "cerv", today - 3 * day),
            call("life-call", "life", today + 20 * day, today + 60 * day),
            event("zagreb-forum", "Zagreb", today + 10 * day),
            event("zagreb-ongoing", "Zagreb", None),
            event("split-fair", "Split", today + 3 * day),
            contact(
                "zagreb-office",
                city="Zagreb",
                country="HR",
                topics=["democracy"],
                languages=["hr"],
                email="info@zagreb.example",
                office_hours={
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "from": "08:00",
                    "to": "16:00",
                    "timezone": "Europe/Zagreb",
                },
            ),
            contact("hr-national", country="HR", topics=["youth"], languages=["hr"]),
            contact("eu-wide", topics=["democracy", "climate"], languages=["en", "hr", "de"]),
            contact(
                "vienna-office",
                city="Vienna",
                country="AT",
                topics=["climate"],
                languages=["de", "en"],
            ),
        ]
    )
