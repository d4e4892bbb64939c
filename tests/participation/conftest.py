"""Engines for every participation test: SQLite files and a real PostgreSQL database.

Each test session creates a fresh PostgreSQL database ``participation_test_<random>``
on the server named by ``PARTICIPATION_TEST_PG_URL`` (default: the local trust-auth
server) and drops it afterwards. SQLite tests get a new file per test.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Float, Integer, String, Text

from knowledge.base import KnowledgeBase
from participation.db import create_db_engine, upgrade
from participation.models import Base
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.participation.kb import sample_kb

PG_SERVER_URL = os.environ.get(
    "PARTICIPATION_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday


class RasaBase(DeclarativeBase):
    pass


class RasaEvent(RasaBase):
    """The events table as Rasa 3.x's SQLTrackerStore declares it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    type_name: Mapped[str] = mapped_column(String(255), nullable=False)
    timestamp: Mapped[float | None] = mapped_column(Float)
    intent_name: Mapped[str | None] = mapped_column(String(255))
    action_name: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str | None] = mapped_column(Text)


@dataclass
class Clock:
    """A settable clock for the service."""

    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="session")
def pg_url() -> Iterator[URL]:
    server = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    name = f"participation_test_{secrets.token_hex(6)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_SERVER_URL).set(database=name)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def pg_migrated(pg_url: URL) -> URL:
    upgrade(pg_url.render_as_string(hide_password=False), ParticipationSettings())
    return pg_url


def _truncate(url: URL) -> None:
    engine = create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(text("DROP TABLE IF EXISTS events"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """App database URL (migrated on first use by the service)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'participation.db'}"
    url: URL = request.getfixturevalue("pg_migrated")
    _truncate(url)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def tracker_url(backend: str, tmp_path: Path, db_url: str) -> str:
    """Rasa tracker store URL: its own SQLite file, or the PostgreSQL test database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'rasa-tracker.db'}"
    return db_url


@pytest.fixture
def settings(db_url: str, tracker_url: str) -> ParticipationSettings:
    return ParticipationSettings(
        database_url=db_url,
        tracker_database_url=tracker_url,
        sqlite_busy_timeout_ms=5000,
        smtp_host="",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kb() -> KnowledgeBase:
    return sample_kb(NOW.date())


@pytest.fixture
def service(
    settings: ParticipationSettings, kb: KnowledgeBase, clock: Clock
) -> Iterator[ParticipationService]:
    svc = ParticipationService(settings, kb=kb, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def tracker_engine(tracker_url: str, settings: ParticipationSettings) -> Iterator[Engine]:
    """Rasa's tracker store with its events table, created as Rasa creates it."""
    engine = create_db_engine(tracker_url, settings, wal=False)
    RasaBase.metadata.create_all(engine)
    yield engine
    engine.dispose()
