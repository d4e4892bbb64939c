"""Tracker fixtures, the real domain and the small fixture knowledge base."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from knowledge.base import KnowledgeBase
from knowledge.loader import load_knowledge_base

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_KB = ROOT / "tests" / "fixtures" / "knowledge" / "valid"
FIXED_DAY = dt.date(2026, 3, 1)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The bot's real domain, merged from bot/domain/*.yml, as actions receive it."""
    merged: dict[str, Any] = {"responses": {}, "slots": {}, "forms": {}, "intents": []}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8"))
        merged["responses"].update(part.get("responses", {}))
        merged["slots"].update(part.get("slots", {}))
        merged["forms"].update(part.get("forms", {}))
        merged["intents"].extend(part.get("intents", []))
    return merged


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
