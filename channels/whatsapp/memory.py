"""Small bounded in-process memories: seen message ids, languages, cities, button ids.

Bounded so a busy channel cannot grow without limit; in-process, so they are lost
on restart and not shared between replicas (see the README's WhatsApp section).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

V = TypeVar("V")


class LruDict(Generic[V]):
    """A dict that forgets its least recently used keys beyond `capacity`."""

    def __init__(self, capacity: int) -> None:
        """Keep at most `capacity` entries."""
        self._capacity = capacity
        self._items: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        """The value for `key` (now most recently used), or None."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        """Remember `value`, forgetting the oldest entry when full."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def pop(self, key: str) -> V | None:
        """Forget `key`; its value, or None when it was not remembered."""
        return self._items.pop(key, None)

    def __len__(self) -> int:
        """Number of remembered entries."""
        return len(self._items)


class SeenIds:
    """Message ids already accepted: Meta retries deliveries, each is handled once."""

    def __init__(self, capacity: int) -> None:
        """Remember the last `capacity` ids."""
        self._ids: LruDict[bool] = LruDict(capacity)

    def first_time(self, message_id: str) -> bool:
        """True the first time an id is seen, False for every retry."""
        if self._ids.get(message_id):
            return False
        self._ids.put(message_id, True)
        return True


class KeyedLocks:
    """One lock per key (user), so a user's messages are answered in order."""

    def __init__(self) -> None:
        """No locks until a key is used; unused locks are dropped."""
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the key's lock; the last holder removes it."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        """Keys with a holder or a waiter."""
        return len(self._locks)
