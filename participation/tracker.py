"""A user's conversation in Rasa's SQL tracker store: export, erase, expire.

Rasa's ``SQLTrackerStore`` keeps every event in one table ``events`` (``id``,
``sender_id``, ``type_name``, ``timestamp`` in epoch seconds, ``intent_name``,
``action_name``, ``data`` as JSON text). Only the columns used here are declared;
the table itself belongs to Rasa and is never created or altered by this package.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    inspect,
)
from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url

EVENTS_TABLE: Final[str] = "events"
_NAME_LENGTH: Final[int] = 255

tracker_metadata = MetaData()
events = Table(
    EVENTS_TABLE,
    tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(_NAME_LENGTH), nullable=False, index=True),
    Column("type_name", String(_NAME_LENGTH), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(_NAME_LENGTH)),
    Column("action_name", String(_NAME_LENGTH)),
    Column("data", Text),
)
"""Rasa's events table as its SQLTrackerStore defines it (3.x)."""


def tracker_exists(engine: Engine) -> bool:
    """Whether the tracker store has its events table yet.

    A SQLite file that does not exist is not created just to find out: Rasa
    may not have started yet, and an empty file would confuse nobody but help
    nobody either.
    """
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = make_url(url).database
        if not database or not Path(database).exists():
            return False
    return inspect(engine).has_table(EVENTS_TABLE)


def _decode(data: str | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data


def export_events(engine: Engine, sender_id: str) -> list[dict[str, Any]]:
    """Every stored event of one conversation, oldest first, JSON-ready."""
    if not tracker_exists(engine):
        return []
    query = (
        sql_select(
            events.c.type_name,
            events.c.timestamp,
            events.c.intent_name,
            events.c.action_name,
            events.c.data,
        )
        .where(events.c.sender_id == sender_id)
        .order_by(events.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        {
            "type": row.type_name,
            "timestamp": row.timestamp,
            "intent": row.intent_name,
            "action": row.action_name,
            "data": _decode(row.data),
        }
        for row in rows
    ]


def delete_events(engine: Engine, sender_id: str) -> int:
    """Erase one user's conversation; returns the number of events deleted."""
    if not tracker_exists(engine):
        return 0
    with engine.begin() as connection:
        return connection.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount


def purge_events(engine: Engine, before: dt.datetime) -> int:
    """Delete every event older than ``before``; returns how many."""
    if not tracker_exists(engine):
        return 0
    cutoff = before.timestamp()
    with engine.begin() as connection:
        return connection.execute(delete(events).where(events.c.timestamp < cutoff)).rowcount
