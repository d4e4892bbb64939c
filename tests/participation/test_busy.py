"""A SQLite database held by another writer: DatabaseBusyError, and nothing half-written."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from participation.errors import DatabaseBusyError
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.participation.conftest import Clock

BUSY_MS = 300


@pytest.fixture
def busy_setup(
    tmp_path: Path, kb: KnowledgeBase, clock: Clock
) -> tuple[ParticipationService, Path]:
    database = tmp_path / "busy.db"
    settings = ParticipationSettings(
        database_url=f"sqlite:///{database}", sqlite_busy_timeout_ms=BUSY_MS
    )
    return ParticipationService(settings, kb=kb, clock=clock), database


def _hold_exclusive(database: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_locked_database_raises_busy_and_writes_nothing(
    busy_setup: tuple[ParticipationService, Path],
) -> None:
    service, database = busy_setup
    service.list_proposals()  # migrate first
    holder = _hold_exclusive(database)
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseBusyError) as error:
            service.submit_proposal(user_id="api:a", language="en", topic="T", text="x")
        with pytest.raises(DatabaseBusyError):
            service.subscribe(user_id="api:a", language="en", kind="calls_theme", target="climate")
    finally:
        holder.rollback()
        holder.close()
    assert time.monotonic() - started >= 2 * BUSY_MS / 1000  # it waited the busy timeout
    assert error.value.code == "database_busy"
    assert service.list_proposals() == []
    assert service.subscriptions("api:a") == []
    receipt = service.submit_proposal(user_id="api:a", language="en", topic="T", text="x")
    assert receipt.reference.endswith("-00001")  # the failed attempt used no number
    service.close()


def test_locked_database_at_first_use(busy_setup: tuple[ParticipationService, Path]) -> None:
    service, database = busy_setup
    holder = _hold_exclusive(database)
    try:
        with pytest.raises(DatabaseBusyError):
            service.submit_proposal(user_id="api:a", language="en", topic="T", text="x")
    finally:
        holder.rollback()
        holder.close()
    assert service.submit_proposal(user_id="api:a", language="en", topic="T", text="x").created
    service.close()
