"""Participation features through the real stack: turn ids, feedback, admin, erasure.

Uses the trained model of the current bot/ inputs (`make train`); RASA_MODEL=<path>
picks another one.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stack import Ports, Stack, TrackerStore, model_path

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

SENDER = "web-integration00001"


def trained_model() -> Path:
    chosen = os.environ.get("RASA_MODEL")
    model = Path(chosen) if chosen else model_path()
    if not model.is_file():
        pytest.fail(
            f"No trained Rasa model at {model}: run `make train` first "
            "(or set RASA_MODEL to a model file)."
        )
    return model


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("participation-stack")
    with Stack(
        Ports.free(),
        var_dir,
        trained_model(),
        tracker=TrackerStore.from_env(var_dir, env={}),  # SQLite, whatever the shell says
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.app}", timeout=60) as client:
        yield client


def tracker_events(stack: Stack, sender_id: str) -> int:
    with sqlite3.connect(stack.tracker.db) as connection:
        query = "SELECT count(*) FROM events WHERE sender_id = ?"
        return int(connection.execute(query, (sender_id,)).fetchone()[0])


def test_a_turn_is_recorded_rated_reported_and_erased(stack: Stack, api: httpx.Client) -> None:
    reply = api.post("/api/v1/chat", json={"sender": SENDER, "message": "bok"}).json()
    assert reply["language"] == "hr"
    assert isinstance(reply["turn_id"], int)

    vote = {"sender": SENDER, "turn_id": reply["turn_id"], "rating": "up"}
    assert api.post("/api/v1/feedback", json=vote).status_code == 200

    made = stack.participation_command("create-client", "--name", "reports", "--scope", "reports")
    admin = {"Authorization": f"Bearer {made['token']}"}
    stats = api.get("/admin/api/stats", headers=admin).json()
    assert sum(d["questions"] for d in stats["questions_per_day"] if d["language"] == "hr") >= 1
    assert stats["feedback_up"] >= 1
    assert api.get("/admin/api/stats").status_code == 401

    assert tracker_events(stack, f"api:{SENDER}") > 0
    erased = api.delete("/api/v1/me", headers={"X-Sender-Id": SENDER})
    assert erased.status_code == 200
    assert erased.json()["deleted"]["questions"] == 1
    assert tracker_events(stack, f"api:{SENDER}") == 0


def test_the_network_calendar_is_served_from_the_knowledge_base(api: httpx.Client) -> None:
    feed = api.get("/calendar/network.ics")
    assert feed.status_code == 200
    assert feed.text.startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" in feed.text
