"""Stay within Telegram's flood limits instead of collecting 429 errors.

Telegram allows about 30 messages per second overall, 20 per minute in a group and
about one per second in a private chat, with short bursts tolerated. PTB's
`AIORateLimiter` covers the first two and retries after a 429 (`RetryAfter`); this
module adds the per-chat limit for private chats, so a reply split into several
messages is paced instead of tripping the limit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter, BaseRateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# A private chat may receive a burst of this many messages, then one per second.
PRIVATE_CHAT_BURST = 3
PRIVATE_CHAT_PERIOD_SECONDS = 3.0
# How often a request is retried after Telegram answered 429 Too Many Requests.
MAX_RETRIES = 3
# Idle per-chat limiters are dropped once there are more than this many.
MAX_IDLE_LIMITERS = 1024


class FloodLimiter(BaseRateLimiter[int]):
    """Per-private-chat pacing on top of PTB's overall and per-group limits."""

    def __init__(
        self,
        burst: int = PRIVATE_CHAT_BURST,
        period_seconds: float = PRIVATE_CHAT_PERIOD_SECONDS,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        """Allow `burst` messages per chat per `period_seconds`, retry 429s `max_retries` times."""
        self._burst = burst
        self._period = period_seconds
        self._shared = AIORateLimiter(max_retries=max_retries)
        self._chats: dict[int, AsyncLimiter] = {}

    async def initialize(self) -> None:
        """Initialise the shared limiter."""
        await self._shared.initialize()

    async def shutdown(self) -> None:
        """Shut the shared limiter down."""
        await self._shared.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        """Wait for the chat's budget, then let PTB's limiter send (and retry) the request."""
        chat_id = data.get("chat_id")
        # Private chats have positive ids; groups (negative) are paced by AIORateLimiter.
        limiter: AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        if isinstance(chat_id, int) and chat_id > 0:
            limiter = self._limiter(chat_id)
        async with limiter:
            return await self._shared.process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

    def _limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > MAX_IDLE_LIMITERS:
            idle = [key for key, lim in self._chats.items() if lim.has_capacity(lim.max_rate)]
            for key in idle:
                del self._chats[key]
        if chat_id not in self._chats:
            self._chats[chat_id] = AsyncLimiter(self._burst, self._period)
        return self._chats[chat_id]
