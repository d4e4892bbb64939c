"""The FastAPI gateway: chat API, health, and the chat page, in one app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from channels.api import chat, health
from channels.conversation import ConversationService
from channels.errors import install_error_handlers
from channels.rasa_client import RasaClient
from channels.settings import ChannelSettings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"

logger = logging.getLogger(__name__)


def create_app(settings: ChannelSettings | None = None) -> FastAPI:
    """Build the app; resources are created in the lifespan, not at import."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.rasa = RasaClient(str(settings.rasa_url), settings.rasa_timeout_seconds)
        app.state.conversation = ConversationService(app.state.rasa, settings)
        logger.info("Gateway ready; Rasa at %s", settings.rasa_url)
        try:
            yield
        finally:
            await app.state.rasa.aclose()

    app = FastAPI(
        title="Civic participation and EU funding assistant",
        version="0.1.0",
        description="Chat API of the city network's multilingual assistant.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # One router per resource; channels add theirs here.
    app.include_router(chat.router)
    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory channels.app:app_factory`."""
    return create_app()
