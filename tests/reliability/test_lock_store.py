"""bot/lock_store.py: Redis lock tickets that two Rasa replicas cannot both draw.

Each scenario runs in .venv-rasa (tests/reliability/lock_store_probe.py) against the
local Redis. The interleaving scenarios are deterministic: one store's whole
operation runs between another store's read and write of one conversation's queue.
Rasa 3.6's own RedisLockStore is run through the same scenarios as the control: it
hands out the same ticket twice and deletes a queue a second turn has just joined,
which is how a simultaneous turn on two replicas was lost (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest

from stack import LOOPBACK, base_env

pytestmark = [pytest.mark.rasa]

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
PROBE = Path(__file__).with_name("lock_store_probe.py")
REDIS_HOST = os.environ.get("LOCK_STORE_TEST_REDIS_HOST", LOOPBACK)
REDIS_PORT = os.environ.get("LOCK_STORE_TEST_REDIS_PORT", "6379")
REDIS_DB = "3"


def probe_command(*args: str) -> list[str]:
    return [str(RASA_PYTHON), str(PROBE), *args]


def probe_env() -> dict[str, str]:
    return base_env({"PYTHONPATH": str(ROOT)})


def run_probe(scenario: str, kind: str, *rest: str) -> dict[str, Any]:
    assert RASA_PYTHON.exists(), "needs .venv-rasa: run `make setup`"
    result = subprocess.run(
        probe_command(scenario, kind, REDIS_HOST, REDIS_PORT, REDIS_DB, *rest),
        capture_output=True,
        text=True,
        env=probe_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    value: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return value


def test_rasas_own_store_gives_the_same_ticket_twice() -> None:
    """The control: the race exists, and the scenario catches it."""
    outcome = run_probe("interleave-issue", "rasa")
    assert outcome["tickets"] == [0, 0]  # Rasa numbers tickets from 0
    assert outcome["stored"] == [0]


def test_atomic_store_gives_distinct_tickets_and_keeps_both() -> None:
    outcome = run_probe("interleave-issue", "atomic")
    assert sorted(outcome["tickets"]) == [0, 1]
    assert outcome["stored"] == [0, 1]


def test_rasas_own_store_deletes_a_queue_another_turn_just_joined() -> None:
    outcome = run_probe("interleave-cleanup", "rasa")
    assert outcome["joined"] == [1]
    assert outcome["stored"] == []


def test_atomic_store_cleanup_keeps_the_turn_that_joined() -> None:
    outcome = run_probe("interleave-cleanup", "atomic")
    assert outcome["joined"] == [1]
    assert outcome["stored"] == [1]


@pytest.mark.slow
def test_two_processes_never_hold_one_conversation_at_once() -> None:
    """Real `LockStore.lock` turns in two processes: no increment inside the lock is lost."""
    rounds = 150
    conversation = "mutex-" + secrets.token_hex(6)
    counter = "probe-counter-" + secrets.token_hex(6)
    args = ("mutex", "atomic", REDIS_HOST, REDIS_PORT, REDIS_DB, conversation, counter)
    workers = [
        subprocess.Popen(
            probe_command(*args, str(rounds)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=probe_env(),
        )
        for _ in range(2)
    ]
    outcomes = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr[-3000:]
        outcomes.append(json.loads(stdout.strip().splitlines()[-1]))
    after = run_probe("collect", "atomic", conversation, counter)
    assert [o["lock_errors"] for o in outcomes] == [0, 0]
    lost = 2 * rounds - after["total"]
    assert lost == 0, f"{lost} turns ran at the same time as another"
    assert after["leftover"] == [], "the conversation's queue was left behind"
