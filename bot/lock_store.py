"""A Redis lock store for Rasa whose tickets are issued and returned atomically.

Rasa 3.6's `RedisLockStore` reads a conversation's ticket queue, changes it in the
Rasa process and writes it back. Two Rasa replicas taking a turn of one conversation
in the same instant can both read the same queue and draw the same ticket number, and
one replica's clean-up can delete the queue another has just joined: both turns then
run at once, or one fails, and a turn is lost. This store makes every such change one
optimistic Redis transaction (WATCH, read, MULTI, write, EXEC, retried when another
replica changed the queue in between), in the same format, so it reads Rasa's keys.

Loaded by Rasa (.venv-rasa) from bot/endpoints.yml; scripts/stack.py selects it for
`RASA_LOCK_STORE=redis`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

T = TypeVar("T")

# What a change does to the stored queue: the queue to write (None: delete it) and
# the value the caller gets back.
Change = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


class AtomicRedisLockStore(RedisLockStore):  # type: ignore[misc]
    """Rasa's Redis lock store with every read-modify-write made atomic."""

    def __init__(self, endpoint_config: Any) -> None:
        """Connect as `RedisLockStore` does, from the endpoint's url and keyword options."""
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _atomically(self, conversation_id: str, change: Change[T]) -> T:
        """Apply `change` to the stored queue in one Redis transaction and return its value."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> T:
            raw = pipe.get(key)
            current = TicketLock.from_dict(_json(raw)) if raw else None
            updated, value = change(current)
            pipe.multi()
            if updated is None or not updated.is_someone_waiting():
                pipe.delete(key)
            else:
                pipe.set(key, updated.dumps())
            return value

        result: T = self.red.transaction(transaction, key, value_from_callable=True)
        return result

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Draw the next ticket of the conversation's queue; no two callers get the same."""

        def draw(lock: TicketLock | None) -> tuple[TicketLock | None, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._atomically(conversation_id, draw)
        except Exception as error:  # Rasa's own store reports every failure as a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets (a replica that died while holding one)."""

        def prune(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._atomically(conversation_id, prune)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Return a ticket; the queue is deleted when nobody else waits."""

        def give_back(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._atomically(conversation_id, give_back)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return the ticket and delete the queue if empty, in one step (never a joined one)."""
        self.finish_serving(conversation_id, ticket_number)


def _json(raw: bytes | str) -> dict[str, Any]:
    """Decode a stored queue."""
    value: dict[str, Any] = json.loads(raw)
    return value
