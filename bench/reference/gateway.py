"""Thin `POST /api/v1/chat` in front of the reference bot, for `make loadtest`.

Our gateway cannot front the `rasa init` bot: it refuses a turn that no action
reported a language for. This app keeps the same HTTP path and the same code for the
Rasa leg (request schema, `channels.rasa_client.RasaClient`, message assembly,
response schema, uvicorn with one worker), and drops what only our product does
(language decision, error translation, recording the question). The difference
between the two gateways' latencies is therefore the price of those features.

    uvicorn --app-dir bench/reference --factory gateway:app_factory --port ...
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request

from channels.conversation import assemble_messages
from channels.rasa_client import RasaClient, RasaUnavailableError
from channels.schemas import ChatRequest, ChatResponse

# Where the reference Rasa server listens (bench/load.py sets it).
RASA_URL_VARIABLE = "REFERENCE_RASA_URL"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
# Same wait as our gateway's default APP_RASA_TIMEOUT_SECONDS.
RASA_TIMEOUT_SECONDS = 30.0
# The example bot speaks English only.
LANGUAGE = "en"
# Namespace of the sender id, as our gateway's chat API uses.
CHANNEL = "api"


def create_app(rasa_url: str) -> FastAPI:
    """The app: one Rasa client owned by the lifespan, chat and health routes."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.rasa = RasaClient(rasa_url, RASA_TIMEOUT_SECONDS)
        try:
            yield
        finally:
            await app.state.rasa.aclose()

    app = FastAPI(title="Reference bot gateway (load test only)", lifespan=lifespan)

    @app.post("/api/v1/chat", response_model=ChatResponse)
    async def chat(body: ChatRequest, request: Request) -> ChatResponse:
        rasa: RasaClient = request.app.state.rasa
        text = body.message.strip()
        if not text:
            raise HTTPException(422, "message_empty")
        try:
            turn = await rasa.send(f"{CHANNEL}:{body.sender}", text, {"channel": CHANNEL})
        except RasaUnavailableError as exc:
            raise HTTPException(503, "assistant_unavailable") from exc
        return ChatResponse(language=LANGUAGE, messages=assemble_messages(turn.messages))

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, str]:
        rasa: RasaClient = request.app.state.rasa
        return {"status": "ok", "rasa": "ok" if await rasa.is_healthy() else "unavailable"}

    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory gateway:app_factory`."""
    return create_app(os.environ.get(RASA_URL_VARIABLE, DEFAULT_RASA_URL))
