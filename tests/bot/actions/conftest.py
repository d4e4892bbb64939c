"""Tracker fixtures, the real domain and the small fixture knowledge base."""

import contextlib
import copy
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.domain_files import load_domain
from knowledge.base import KnowledgeBase
from knowledge.loader import load_knowledge_base

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_KB = ROOT / "tests" / "fixtures" / "knowledge" / "valid"
FIXED_DAY = dt.date(2026, 3, 1)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The bot's real domain, merged from bot/domain/*.yml, as the action server reads it."""
    return copy.deepcopy(load_domain())


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    base, errors = load_knowledge_base(FIXTURE_KB)
    assert errors == []
    return base


def make_tracker(
    text: str = "",
    intent: str | None = None,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9} if intent else {},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id="test",
        slots={"language": "en", **(slots or {})},
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


FIXED_NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday, office hours


@pytest.fixture
def participation_settings(tmp_path: Path):
    """Settings of a fresh SQLite database in a temporary folder."""
    from participation.settings import ParticipationSettings

    return ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'participation.db'}",
        public_base_url="https://assistant.example.org",
        sqlite_busy_timeout_ms=100,
    )


@pytest.fixture
def service(participation_settings, kb):
    """The real participation service on that database, with the fixture records."""
    from participation.service import ParticipationService

    return ParticipationService(participation_settings, kb=kb, clock=lambda: FIXED_NOW)


def user_event(text: str, intent: str = "inform") -> dict[str, Any]:
    """A user message event as Rasa stores it in the tracker."""
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def with_sender(tracker: Tracker, sender_id: str, message_id: str | None = None) -> Tracker:
    """The same tracker for another (namespaced) sender and message id."""
    latest = dict(tracker.latest_message)
    if message_id is not None:
        latest["message_id"] = message_id
    return Tracker(
        sender_id=sender_id,
        slots=tracker.slots,
        latest_message=latest,
        events=tracker.events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@contextlib.contextmanager
def database_locked(settings) -> Iterator[None]:
    """Hold SQLite's write lock from another connection, as a busy writer would."""
    blocker = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    blocker.isolation_level = None
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
