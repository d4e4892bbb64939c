"""Runs in .venv-rasa (tests/reliability/test_lock_store.py starts it): races on Redis.

    python lock_store_probe.py interleave-issue rasa|atomic HOST PORT DB
    python lock_store_probe.py interleave-cleanup rasa|atomic HOST PORT DB
    python lock_store_probe.py mutex rasa|atomic HOST PORT DB CONVERSATION COUNTER ROUNDS
    python lock_store_probe.py collect rasa|atomic HOST PORT DB CONVERSATION COUNTER

`rasa` is Rasa 3.6's RedisLockStore, `atomic` ours (bot.lock_store), created from an
endpoint config as bot/endpoints.yml creates it. The interleave scenarios put one
store's whole operation between another store's read and write of the same
conversation's queue, deterministically; the mutex scenario runs real turns
(`LockStore.lock`) that increment a Redis counter non-atomically inside the lock.
Each prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

STORE_TYPES = {"rasa": "redis", "atomic": "bot.lock_store.AtomicRedisLockStore"}


def make_store(kind: str, host: str, port: str, db: str) -> Any:
    config = EndpointConfig(url=host, type=STORE_TYPES[kind], port=int(port), db=int(db))
    return LockStore.create(config)


def queue(store: Any, conversation: str) -> list[int]:
    lock = store.get_lock(conversation)
    return [ticket.number for ticket in lock.tickets] if lock else []


def between(method: str, action: Any) -> None:
    """Run `action` once, inside the first call of TicketLock.`method` (read done, not written)."""
    original = getattr(TicketLock, method)
    state = {"done": False}

    def wrapped(self: TicketLock, *args: Any) -> Any:
        if not state["done"]:
            state["done"] = True
            action()
        return original(self, *args)

    setattr(TicketLock, method, wrapped)


def interleave_issue(kind: str, host: str, port: str, db: str) -> dict[str, Any]:
    first, second = make_store(kind, host, port, db), make_store(kind, host, port, db)
    conversation = "probe-" + secrets.token_hex(6)
    drawn: list[int] = []
    between("issue_ticket", lambda: drawn.append(second.issue_ticket(conversation)))
    drawn.insert(0, first.issue_ticket(conversation))
    result = {"tickets": drawn, "stored": queue(first, conversation)}
    first.delete_lock(conversation)
    return result


def interleave_cleanup(kind: str, host: str, port: str, db: str) -> dict[str, Any]:
    first, second = make_store(kind, host, port, db), make_store(kind, host, port, db)
    conversation = "probe-" + secrets.token_hex(6)
    held = first.issue_ticket(conversation)
    joined: list[int] = []
    between("remove_ticket_for", lambda: joined.append(second.issue_ticket(conversation)))
    first.cleanup(conversation, held)
    result = {"held": held, "joined": joined, "stored": queue(first, conversation)}
    first.delete_lock(conversation)
    return result


async def mutex(
    kind: str, host: str, port: str, db: str, conversation: str, counter: str, rounds: int
) -> dict[str, Any]:
    store = make_store(kind, host, port, db)
    errors = 0
    for _ in range(rounds):
        try:
            async with store.lock(conversation, wait_time_in_seconds=0.005):
                value = int(store.red.get(counter) or 0)  # read ...
                await asyncio.sleep(0.002)  # ... a turn's work ...
                store.red.set(counter, value + 1)  # ... write: lost if two run at once
        except LockError:
            errors += 1
    return {"rounds": rounds, "lock_errors": errors}


def collect(kind: str, host: str, port: str, db: str, conversation: str, counter: str) -> Any:
    """The counter the mutex workers incremented and whether the queue was left behind."""
    store = make_store(kind, host, port, db)
    total = int(store.red.get(counter) or 0)
    store.red.delete(counter)
    return {"total": total, "leftover": queue(store, conversation)}


def main(argv: list[str]) -> None:
    scenario, kind, host, port, db, *rest = argv
    if scenario == "interleave-issue":
        result = interleave_issue(kind, host, port, db)
    elif scenario == "interleave-cleanup":
        result = interleave_cleanup(kind, host, port, db)
    elif scenario == "collect":
        result = collect(kind, host, port, db, *rest)
    else:
        conversation, counter, rounds = rest
        result = asyncio.run(mutex(kind, host, port, db, conversation, counter, int(rounds)))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
