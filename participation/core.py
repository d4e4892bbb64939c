"""Plumbing shared by the service's parts: settings, database, knowledge base, clock."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from knowledge.base import KnowledgeBase
from knowledge.loader import load_knowledge_base
from participation.db import Database, create_db_engine, dialect_insert
from participation.errors import InvalidInputError
from participation.models import ReferenceCounter
from participation.settings import ParticipationSettings, get_settings

logger = logging.getLogger(__name__)

REFERENCE_DIGITS: Final[int] = 5

KnowledgeSource = KnowledgeBase | Callable[[], KnowledgeBase]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware in UTC (the default clock)."""
    return dt.datetime.now(dt.UTC)


def required_text(field: str, value: str | None) -> str:
    """Stripped value, or InvalidInputError when it is missing or blank."""
    stripped = (value or "").strip()
    if not stripped:
        raise InvalidInputError(field)
    return stripped


def optional_text(value: str | None) -> str | None:
    """Stripped value, or None when it is missing or blank."""
    stripped = (value or "").strip()
    return stripped or None


def next_reference(session: Session, prefix: str, now: dt.datetime) -> str:
    """``PREFIX-YEAR-NNNNN`` from a per-year counter, incremented atomically (upsert)."""
    insert = dialect_insert(session)
    statement = (
        insert(ReferenceCounter)
        .values(prefix=prefix, year=now.year, value=1)
        .on_conflict_do_update(
            index_elements=[ReferenceCounter.prefix, ReferenceCounter.year],
            set_={"value": ReferenceCounter.value + 1},
        )
        .returning(ReferenceCounter.value)
    )
    number = session.execute(statement).scalar_one()
    return f"{prefix}-{now.year}-{number:0{REFERENCE_DIGITS}d}"


class ServiceCore:
    """Lazily created engine, knowledge base and clock; one transaction per call."""

    def __init__(
        self,
        settings: ParticipationSettings | None = None,
        *,
        engine: Engine | None = None,
        kb: KnowledgeSource | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """Keep the dependencies; nothing connects or loads until first use.

        Args:
            settings: Settings (default: ``get_settings()``).
            engine: Engine of the app database (default: from ``database_url``).
            kb: Knowledge base, or a function returning the current one (so a
                reloaded knowledge base is seen by ``refresh_reminders``);
                default: loaded once from ``knowledge/data``.
            clock: Source of the current aware time (tests inject one).
        """
        self._settings = settings or get_settings()
        self._engine = engine
        self._kb_source = kb
        self._kb_cache: KnowledgeBase | None = None
        self._clock = clock or utc_now
        self._db: Database | None = None
        self._tracker_engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def settings(self) -> ParticipationSettings:
        """The settings in use (read-only)."""
        return self._settings

    def _database(self) -> Database:
        with self._lock:
            if self._db is None:
                engine = self._engine or create_db_engine(
                    self._settings.database_url, self._settings
                )
                self._db = Database(engine, self._settings)
            return self._db

    def _tracker(self) -> Engine:
        with self._lock:
            if self._tracker_engine is None:
                self._tracker_engine = create_db_engine(
                    self._settings.tracker_database_url, self._settings, wal=False
                )
            return self._tracker_engine

    def _kb(self) -> KnowledgeBase:
        source = self._kb_source
        if isinstance(source, KnowledgeBase):
            return source
        if source is not None:
            return source()
        with self._lock:
            if self._kb_cache is None:
                kb, errors = load_knowledge_base()
                for error in errors:
                    logger.error("knowledge base: %s", error.format())
                self._kb_cache = kb
            return self._kb_cache

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock returned a naive datetime")
        return now.astimezone(dt.UTC)

    def _write(self) -> Any:
        return self._database().session(write=True)

    def _read(self) -> Any:
        return self._database().session(write=False)

    def close(self) -> None:
        """Release the connection pools (the service may be used again afterwards)."""
        with self._lock:
            if self._db is not None and self._engine is None:
                self._db.engine.dispose()
                self._db = None
            if self._tracker_engine is not None:
                self._tracker_engine.dispose()
                self._tracker_engine = None
