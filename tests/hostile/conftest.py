"""One real stack for the hostile-input tests: Rasa, action server, gateway with Telegram.

The gateway is configured as in production (Telegram in webhook mode; admin API access
through a machine client token made with `python -m participation create-client`);
its Bot API base URL points at the local Bot API peer, which registers the webhook and
delivers updates with the secret. Rasa keeps its tracker in SQLite in the stack's
folder, so tests can read what a message did to the conversation (slots, restarts).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stack import LOOPBACK, Ports, Stack, ensure_model
from tests.channels.telegram.botapi_peer import TOKEN, BotApiPeer
from tests.channels.telegram.gateway import SECRET, WEBHOOK_PATH


@pytest.fixture(scope="session")
def botapi() -> Iterator[BotApiPeer]:
    with BotApiPeer() as peer:
        yield peer


@pytest.fixture(scope="session")
def hostile_stack(botapi: BotApiPeer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = ensure_model()
    ports = Ports.free()
    app_env = {
        "APP_TELEGRAM_TOKEN": TOKEN,
        "APP_TELEGRAM_MODE": "webhook",
        "APP_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "APP_TELEGRAM_WEBHOOK_URL": f"http://{LOOPBACK}:{ports.app}{WEBHOOK_PATH}",
        "APP_TELEGRAM_BASE_URL": botapi.base_url,
        "APP_REMINDERS_ENABLED": "false",
    }
    stack = Stack(ports, tmp_path_factory.mktemp("hostile-stack"), model, app_env=app_env)
    with stack:
        botapi.wait_for("setWebhook", timeout=60)
        yield stack


@pytest.fixture(scope="session")
def admin_token(hostile_stack: Stack) -> str:
    """A client token with the admin scope, created as an operator would."""
    made = hostile_stack.participation_command(
        "create-client", "--name", "hostile-tests", "--scope", "admin"
    )
    return str(made["token"])


@pytest.fixture(scope="session")
def api(hostile_stack: Stack) -> Iterator[httpx.Client]:
    base = f"http://{LOOPBACK}:{hostile_stack.ports.app}"
    with httpx.Client(base_url=base, timeout=60) as client:
        yield client


def tracker_events(stack: Stack, sender_id: str) -> list[tuple[str, Any]]:
    """(type, data) of every stored event of one conversation, oldest first."""
    with sqlite3.connect(stack.tracker.db) as connection:
        rows = connection.execute(
            "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
        ).fetchall()
    return [(kind, json.loads(data) if data else None) for kind, data in rows]


def slots_set(stack: Stack, sender_id: str) -> dict[str, Any]:
    """Every slot the conversation ever set, with its last value."""
    return {
        data["name"]: data["value"]
        for kind, data in tracker_events(stack, sender_id)
        if kind == "slot"
    }
