"""Operator replies to web users, live: `GET /api/v1/chat/operator-events` (server-sent events).

The widget opens the stream with its sender id in `X-Sender-Id` (a header, so it stays
out of access logs; the widget reads the stream with fetch, which can send one). Each
operator reply is one event whose `id` is the message id; a reconnecting client sends
`Last-Event-ID` (or `?after=`) and first gets everything it missed, so a dropped
connection or a gateway restart loses nothing: the replies live in the database.

A reply made on this replica wakes every open stream at once (`notify_replies`); a
reply made on another replica is found by polling the database every
`APP_OPERATOR_LIVE_POLL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Final

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.identity import SenderUserDep
from channels.schemas import ErrorResponse
from participation.service import ParticipationService
from participation.types import TicketMessageView

logger = logging.getLogger(__name__)

EVENT_STREAM: Final[str] = "text/event-stream"
HEARTBEAT_SECONDS: Final[float] = 15.0
# Tell EventSource-style clients how long to wait before reconnecting (milliseconds).
RETRY_MS: Final[int] = 2000

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])


class ReplySignal:
    """Wakes the streams of this process when an operator reply was stored."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake every waiting stream (each then reads its own replies)."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until the next notification or for ``seconds``."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return


def reply_signal(request: Request) -> ReplySignal:
    """The process's signal, created on first use (no lifespan hook needed)."""
    signal: ReplySignal | None = getattr(request.app.state, "operator_reply_signal", None)
    if signal is None:
        signal = ReplySignal()
        request.app.state.operator_reply_signal = signal
    return signal


def notify_replies(request: Request) -> None:
    """Call after storing an operator reply: its user's stream delivers it now."""
    reply_signal(request).notify()


def sse_event(message: TicketMessageView) -> str:
    """One server-sent event; the text travels as JSON data, shown by clients as text."""
    data = {"text": message.text, "ticket": message.ticket, "at": message.created_at.isoformat()}
    return f"id: {message.id}\nevent: operator\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _start_after(last_event_id: str | None, after: int) -> int:
    if last_event_id and last_event_id.strip().isdigit():
        return max(after, int(last_event_id.strip()))
    return after


async def _events(
    request: Request,
    store: ParticipationService,
    user_id: str,
    after: int,
    poll_seconds: float,
    stream_seconds: float,
) -> AsyncIterator[str]:
    signal = reply_signal(request)
    deadline = time.monotonic() + stream_seconds
    last_sent = time.monotonic()
    yield f"retry: {RETRY_MS}\n\n"
    while time.monotonic() < deadline and not await request.is_disconnected():
        try:
            found = await run_in_threadpool(store.replies_for_user, user_id, after)
        except Exception:
            logger.exception("Could not read operator replies; the client will reconnect")
            return
        for message in found:
            after = message.id
            last_sent = time.monotonic()
            yield sse_event(message)
        if time.monotonic() - last_sent > HEARTBEAT_SECONDS:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
        await signal.wait(min(poll_seconds, max(0.0, deadline - time.monotonic())))


@router.get(
    "/operator-events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {EVENT_STREAM: {}}, "description": "Operator replies as events"},
        422: {"model": ErrorResponse, "description": "Missing or malformed X-Sender-Id"},
    },
)
async def operator_events(
    request: Request,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
    after: Annotated[int, Query(ge=0, description="Last message id already shown")] = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """A person's replies to this conversation, live, with the missed ones first."""
    stream = _events(
        request,
        participation,
        user_id,
        _start_after(last_event_id, after),
        settings.operator_live_poll_seconds,
        settings.operator_live_stream_seconds,
    )
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type=EVENT_STREAM, headers=headers)
