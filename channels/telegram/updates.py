"""How updates enter processing: once each, in order per chat, concurrently across chats.

Telegram re-sends a webhook update for up to 24 hours until it gets an answer, so
the same `update_id` can arrive twice (for example after a timeout on our side):
`RecentUpdateIds` lets only the first through. `PerChatUpdateProcessor` answers
several chats at once, so one slow Rasa turn does not hold up every other user,
while the messages of one chat are still handled one after the other, in order.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class RecentUpdateIds:
    """The last `capacity` update ids seen, oldest forgotten first (an LRU set)."""

    def __init__(self, capacity: int = 50_000) -> None:
        """Remember at most `capacity` ids (a few MB; hours of traffic for most bots)."""
        self._capacity = capacity
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        """True the first time `update_id` is seen; False for a duplicate delivery."""
        if update_id in self._seen:
            self._seen.move_to_end(update_id)
            return False
        self._seen[update_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        """How many ids are remembered."""
        return len(self._seen)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Process updates of different chats concurrently, those of one chat in order.

    PTB starts one task per update in arrival order; asyncio locks are fair, so
    waiting on the chat's lock keeps that order within a chat. Locks of chats
    with nothing pending are dropped, so memory follows the active chats only.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        """Allow at most `max_concurrent_updates` updates in flight overall."""
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await `coroutine` while holding the lock of the update's chat, if any."""
        chat_id = _chat_id(update)
        if chat_id is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._pending[chat_id] = self._pending.get(chat_id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._pending[chat_id] -= 1
            if not self._pending[chat_id]:
                del self._pending[chat_id]
                del self._locks[chat_id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_id(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None
