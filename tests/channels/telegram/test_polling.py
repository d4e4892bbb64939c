"""`python -m channels.telegram`: polling mode as a real process against the peers."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channels.telegram.botapi_peer import TOKEN, BotApiPeer, Webhook
from tests.channels.telegram.rasa_peer import RasaPeer
from tests.channels.telegram.test_reminders import CHAT, real_time_store

ROOT = Path(__file__).resolve().parents[3]


def start_polling(botapi: BotApiPeer, rasa: RasaPeer, **env: str) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "APP_TELEGRAM_TOKEN": TOKEN,
        "APP_TELEGRAM_MODE": "polling",
        "APP_TELEGRAM_BASE_URL": botapi.base_url,
        "APP_RASA_URL": rasa.url,
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "channels.telegram"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_polling_answers_updates_from_get_updates_and_stops_cleanly(
    botapi: BotApiPeer, rasa: RasaPeer, processes: list[subprocess.Popen[str]]
) -> None:
    # A webhook left over from production would block getUpdates: polling deletes it.
    botapi.webhook = Webhook("https://old.example.org/telegram/webhook", None, None)
    polling = start_polling(botapi, rasa)
    processes.append(polling)
    botapi.wait_for("getUpdates", timeout=30)
    assert botapi.webhook is None
    assert botapi.deliver(botapi.text_update(501, "Bok, treba mi pomoć", "hr")) is None
    assert botapi.wait_texts(501, 1) == ["[hr] Bok, treba mi pomoć"]
    assert rasa.requests[0].sender == "telegram:501"
    assert botapi.calls_to("deleteWebhook")

    polling.send_signal(signal.SIGTERM)
    output, _ = polling.communicate(timeout=30)
    assert polling.returncode == 0, output
    # The answered update was confirmed (offset), so Telegram would not send it again.
    assert botapi.pending_updates() == []
    assert TOKEN not in output


def test_polling_refuses_to_run_in_webhook_mode(
    botapi: BotApiPeer, rasa: RasaPeer, processes: list[subprocess.Popen[str]]
) -> None:
    process = start_polling(
        botapi,
        rasa,
        APP_TELEGRAM_MODE="webhook",
        APP_TELEGRAM_WEBHOOK_SECRET="a-long-enough-webhook-secret",
    )
    processes.append(process)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "APP_TELEGRAM_MODE=polling" in output
    assert botapi.calls == []  # it never touched the (production) webhook


def test_polling_pushes_due_reminders_once(
    botapi: BotApiPeer,
    rasa: RasaPeer,
    processes: list[subprocess.Popen[str]],
    tmp_path: Path,
    tracker_db: Path,
) -> None:
    store, token = real_time_store(tmp_path, tracker_db)
    botapi.know_chat(CHAT)
    env = {
        "APP_REMINDERS_ENABLED": "true",
        "APP_REMINDER_INTERVAL_SECONDS": "0.2",
        "PARTICIPATION_DATABASE_URL": store.settings.database_url,
        "PARTICIPATION_TRACKER_DATABASE_URL": store.settings.tracker_database_url,
        "PARTICIPATION_PUBLIC_BASE_URL": store.settings.public_base_url,
        "PARTICIPATION_REMINDER_HOUR_UTC": "0",
    }
    polling = start_polling(botapi, rasa, **env)
    processes.append(polling)
    [text] = botapi.wait_texts(CHAT, 1, timeout=60)
    assert f"https://assistant.example.eu/unsubscribe/{token}?lang=hr" in text
    time.sleep(1.0)  # several more runs: nothing is sent twice
    polling.send_signal(signal.SIGTERM)
    output, _ = polling.communicate(timeout=30)
    assert polling.returncode == 0, output
    assert len(botapi.texts(CHAT)) == 1
    [row] = store.export_user(f"telegram:{CHAT}")["reminders"]
    assert row["status"] == "sent"


def test_polling_leaves_reminders_alone_when_disabled(
    botapi: BotApiPeer,
    rasa: RasaPeer,
    processes: list[subprocess.Popen[str]],
    tmp_path: Path,
    tracker_db: Path,
) -> None:
    store, _ = real_time_store(tmp_path, tracker_db)
    botapi.know_chat(CHAT)
    env = {
        "APP_REMINDERS_ENABLED": "false",
        "APP_REMINDER_INTERVAL_SECONDS": "0.2",
        "PARTICIPATION_DATABASE_URL": store.settings.database_url,
        "PARTICIPATION_TRACKER_DATABASE_URL": store.settings.tracker_database_url,
    }
    polling = start_polling(botapi, rasa, **env)
    processes.append(polling)
    botapi.wait_for("getUpdates", timeout=30)
    time.sleep(1.0)
    polling.send_signal(signal.SIGTERM)
    polling.communicate(timeout=30)
    assert botapi.texts(CHAT) == []
    [row] = store.export_user(f"telegram:{CHAT}")["reminders"]
    assert row["status"] == "pending"
