"""SIGKILL the real gateway during writes: nothing acknowledged is lost.

The gateway runs as `make run` starts it (uvicorn, `channels.app:app_factory`) on a
temporary SQLite store; proposals and subscriptions need no Rasa, so none is started.
Clients post proposals with an Idempotency-Key, and subscriptions (one new sender per
request), from several threads; the app is killed with SIGKILL mid-stream and restarted
on the same database. Every write that got a 2xx must be there (counted before and
after), and retrying the unacknowledged ones stores each exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from stack import APP_PYTHON, LOOPBACK, ROOT, Service, base_env, free_port

pytestmark = [pytest.mark.integration]

WRITERS = 4
ACKED_BEFORE_KILL = 40
BODY = {"topic": "Crash test", "text": "Benches along the river, please.", "city": "Rijeka"}
SUBSCRIPTION = {"kind": "calls_programme", "target": "cerv", "language": "hr"}


@dataclass
class Outcomes:
    """What each client saw: references of acknowledged keys, keys left unanswered."""

    acked: dict[tuple[str, str], str] = field(default_factory=dict)
    unacked: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.acked)


def gateway(tmp_path: Path, port: int, run: int) -> Service:
    env = base_env(
        {
            "PARTICIPATION_DATABASE_URL": f"sqlite:///{tmp_path / 'participation.db'}",
            "PARTICIPATION_TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "APP_RASA_URL": f"http://{LOOPBACK}:{free_port()}",  # not needed: nothing there
            "APP_REMINDERS_ENABLED": "false",
        }
    )
    return Service(
        name="FastAPI app",
        argv=[str(APP_PYTHON), "-m", "uvicorn", "--factory", "channels.app:app_factory",
              "--host", LOOPBACK, "--port", str(port)],
        health_url=f"http://{LOOPBACK}:{port}/healthz",
        cwd=ROOT,
        env=env,
        startup_timeout=120,
        log_path=tmp_path / f"app-{run}.log",
    )  # fmt: skip


@pytest.fixture
def services() -> Iterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        service.stop()


def post(client: httpx.Client, sender: str, key: str) -> httpx.Response:
    headers = {"X-Sender-Id": sender, "Idempotency-Key": key}
    return client.post("/api/v1/proposals", json=BODY, headers=headers)


def writer(base: str, sender: str, outcomes: Outcomes, stop: threading.Event) -> None:
    """Post proposals until stopped; a key is acked only by a 2xx with a reference."""
    with httpx.Client(base_url=base, timeout=10) as client:
        number = 0
        while not stop.is_set():
            key = (sender, f"{sender}-{number}")
            number += 1
            try:
                response = post(client, *key)
            except httpx.HTTPError:
                response = None
            with outcomes.lock:
                if response is not None and response.status_code in (200, 201):
                    outcomes.acked[key] = response.json()["reference"]
                else:
                    outcomes.unacked.add(key)
            if response is None:
                time.sleep(0.05)  # the server is gone: do not spin


def subscribe(client: httpx.Client, sender: str) -> httpx.Response:
    return client.post("/api/v1/subscriptions", json=SUBSCRIPTION, headers={"X-Sender-Id": sender})


def subscriber(base: str, prefix: str, outcomes: Outcomes, stop: threading.Event) -> None:
    """Subscribe a new sender per request until stopped; acked only by a 2xx."""
    with httpx.Client(base_url=base, timeout=10) as client:
        number = 0
        while not stop.is_set():
            sender = f"{prefix}-{number}"
            number += 1
            try:
                response = subscribe(client, sender)
            except httpx.HTTPError:
                response = None
            with outcomes.lock:
                if response is not None and response.status_code in (200, 201):
                    outcomes.acked[(sender, "")] = str(response.json()["created"])
                else:
                    outcomes.unacked.add((sender, ""))
            if response is None:
                time.sleep(0.05)


def stored_subscriptions(database: Path) -> Counter[str]:
    """Subscriptions per sender as the database holds them."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT user_id FROM subscriptions WHERE kind = ? AND target = ?",
            (SUBSCRIPTION["kind"], SUBSCRIPTION["target"]),
        ).fetchall()
    return Counter(user_id.removeprefix("api:") for (user_id,) in rows)


def stored(database: Path) -> dict[tuple[str, str], list[str]]:
    """References per (sender, key) as the database holds them."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT user_id, idempotency_key, reference FROM proposals"
        ).fetchall()
    found: dict[tuple[str, str], list[str]] = {}
    for user_id, key, reference in rows:
        found.setdefault((user_id.removeprefix("api:"), key), []).append(reference)
    return found


def test_every_acknowledged_write_survives_a_sigkill(
    tmp_path: Path, services: list[Service]
) -> None:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    first = gateway(tmp_path, port, 1)
    services.append(first)
    first.start()
    first.wait_healthy()

    outcomes = Outcomes()
    subscriptions = Outcomes()
    with httpx.Client(base_url=base, timeout=10) as client:
        check = subscribe(client, "web-crash-check")  # the target exists in the real KB
        assert check.status_code == 201, check.text
    stop = threading.Event()
    threads = [
        threading.Thread(target=writer, args=(base, f"web-crash-{n}", outcomes, stop))
        for n in range(WRITERS)
    ] + [
        threading.Thread(target=subscriber, args=(base, f"web-sub-{n}", subscriptions, stop))
        for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while (
        min(outcomes.count(), subscriptions.count()) < ACKED_BEFORE_KILL
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert first.process is not None
    os.killpg(os.getpgid(first.process.pid), signal.SIGKILL)  # kill -9, requests in flight
    first.process.wait()
    time.sleep(0.3)  # let every writer see the dead server
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes.acked) >= ACKED_BEFORE_KILL, first.log_tail()
    assert len(subscriptions.acked) >= ACKED_BEFORE_KILL, first.log_tail()
    assert outcomes.unacked, "no proposal was cut off: the kill came too late to test anything"
    assert subscriptions.unacked, "no subscription was cut off: the kill came too late"

    second = gateway(tmp_path, port, 2)
    services.append(second)
    second.start()
    second.wait_healthy()

    database = tmp_path / "participation.db"
    after_crash = stored(database)
    for key, reference in outcomes.acked.items():
        assert after_crash.get(key) == [reference], f"acknowledged {key} was lost"
    subscribed = stored_subscriptions(database)
    lost = [sender for sender, _ in subscriptions.acked if subscribed[sender] != 1]
    assert not lost, f"acknowledged subscriptions lost: {lost}"
    print(
        f"\n[kill -9] acknowledged before the kill: {len(outcomes.acked)} proposals, "
        f"{len(subscriptions.acked)} subscriptions; cut off: {len(outcomes.unacked)} and "
        f"{len(subscriptions.unacked)}; stored after restart: "
        f"{sum(len(r) for r in after_crash.values())} proposals, "
        f"{sum(subscribed.values()) - 1} subscriptions"
    )

    with httpx.Client(base_url=base, timeout=10) as client:
        for key in sorted(outcomes.unacked):
            response = post(client, *key)
            assert response.status_code in (200, 201), response.text
            again = post(client, *key)
            assert again.status_code == 200
            assert again.json()["reference"] == response.json()["reference"]
        sender, key = next(iter(outcomes.acked))
        replay = post(client, sender, key)
        assert replay.status_code == 200
        assert replay.json()["reference"] == outcomes.acked[(sender, key)]
        for sender, _ in sorted(subscriptions.unacked):
            response = subscribe(client, sender)
            assert response.status_code in (200, 201), response.text

    final_subscriptions = stored_subscriptions(database)
    expected = {s for s, _ in subscriptions.acked} | {s for s, _ in subscriptions.unacked}
    assert set(final_subscriptions) == expected | {"web-crash-check"}
    assert set(final_subscriptions.values()) == {1}, "a subscription stored twice"

    final = stored(database)
    assert all(len(references) == 1 for references in final.values()), "a key stored twice"
    assert set(final) == set(outcomes.acked) | outcomes.unacked
