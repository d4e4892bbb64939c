"""Rasa's tracker store on PostgreSQL: state survives a Rasa restart, erasure removes it.

Starts the real stack (Rasa, action server, app) with RASA_TRACKER_DIALECT=postgresql
on a fresh database of the server at TRACKER_TEST_PG_URL (default: the local
trust-auth server, user postgres), then drops that database. Uses the trained model of
the current bot/ inputs (`make train`); RASA_MODEL=<path> picks another one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from stack import BOT_DIR, Ports, Stack, TrackerStore, model_path

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

PG_SERVER_URL = os.environ.get(
    "TRACKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SENDER = "pg-tracker-user"


def trained_model() -> Path:
    chosen = os.environ.get("RASA_MODEL")
    model = Path(chosen) if chosen else model_path()
    if not model.is_file():
        pytest.fail(
            f"No trained Rasa model at {model}: run `make train` first "
            "(or set RASA_MODEL to a model file)."
        )
    return model


def utterance(name: str, language: str) -> str:
    for path in sorted((BOT_DIR / "domain").glob("*.yml")):
        responses = yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}
        for variation in responses.get(name, []):
            conditions = variation.get("condition") or []
            if any(c.get("value") == language for c in conditions):
                return str(variation["text"])
    raise AssertionError(f"{name} has no {language} variation")


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[TrackerStore, Engine]]:
    """A new PostgreSQL database for Rasa's events, dropped afterwards."""
    server = make_url(PG_SERVER_URL)
    name = f"rasa_tracker_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(server.set(database=name))
    tracker = TrackerStore(
        dialect="postgresql",
        url=f"{server.host}:{server.port or 5432}",
        db=name,
        user=server.username or "",
        password=server.password or "",
    )
    try:
        yield tracker, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def stack(
    database: tuple[TrackerStore, Engine], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    tracker, _ = database
    model = trained_model()
    with Stack(Ports.free(), tmp_path_factory.mktemp("pg-stack"), model, tracker=tracker) as up:
        yield up


def events_of(engine: Engine, sender_id: str) -> int:
    with engine.connect() as connection:
        query = text("SELECT count(*) FROM events WHERE sender_id = :sender")
        return int(connection.execute(query, {"sender": sender_id}).scalar_one())


def say(api: httpx.Client, message: str) -> dict:
    response = api.post("/api/v1/chat", json={"sender": SENDER, "message": message})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_conversation_survives_a_rasa_restart_and_erasure_removes_it(
    stack: Stack, database: tuple[TrackerStore, Engine]
) -> None:
    _, engine = database
    base = f"http://127.0.0.1:{stack.ports.app}"
    with httpx.Client(base_url=base, timeout=60) as api:
        assert say(api, "dobar dan")["language"] == "hr"
        stored = events_of(engine, f"api:{SENDER}")
        assert stored > 0, "the conversation is kept in PostgreSQL"

        rasa = stack.service("Rasa server")
        rasa.stop()
        rasa.start()
        rasa.wait_healthy()

        # "pomoć" alone is too short to detect: Croatian comes from the stored slot.
        reply = say(api, "pomoć")
        assert reply["language"] == "hr"
        assert reply["messages"][0]["text"] == utterance("utter_help", "hr")
        assert events_of(engine, f"api:{SENDER}") > stored

        erased = api.delete("/api/v1/me", headers={"X-Sender-Id": SENDER})
        assert erased.status_code == 200, erased.text
        assert erased.json()["deleted"]["tracker_events"] > stored
        assert events_of(engine, f"api:{SENDER}") == 0
        assert (
            api.get("/api/v1/me/export", headers={"X-Sender-Id": SENDER}).json()["conversation"]
            == []
        )
