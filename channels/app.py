"""The FastAPI gateway: chat API, health, and the chat page, in one app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from channels import reminders
from channels.api import (
    admin,
    calendar,
    chat,
    feedback,
    health,
    me,
    proposals,
    search,
    subscriptions,
    unsubscribe,
)
from channels.conversation import ConversationService
from channels.errors import install_error_handlers
from channels.events import EventSource
from channels.rasa_client import RasaClient
from channels.refresh import CallRefresh, start_refresh
from channels.settings import ChannelSettings, get_settings
from channels.telegram.webhook import router_from_settings as telegram_router
from channels.whatsapp import router_from_settings as whatsapp_router
from channels.widget import install_widget
from knowledge.search import Retriever, get_retriever
from participation.privacy import install_record_masking
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from participation.settings import get_settings as get_participation_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"

logger = logging.getLogger(__name__)


def install_log_masking() -> None:
    """Mask personal identifiers in every log record of the gateway process."""
    install_record_masking()


def create_app(
    settings: ChannelSettings | None = None,
    *,
    retriever: Retriever | None = None,
    participation: ParticipationService | None = None,
    participation_settings: ParticipationSettings | None = None,
    events: EventSource | None = None,
) -> FastAPI:
    """Build the app; resources are created in the lifespan, not at import.

    Args:
        settings: Gateway settings (default: from the environment).
        retriever: Search backend (default: `knowledge.search.get_retriever()`,
            which loads the index lazily and reloads newly published builds).
        participation: Store of questions, feedback, subscriptions, proposals and
            tickets (default: one built from `participation_settings`).
        participation_settings: Its settings (default: `PARTICIPATION_*` variables).
        events: Where calendar events come from (default: the knowledge base).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_masking()
        store_settings = participation_settings or get_participation_settings()
        app.state.settings = settings
        app.state.participation_settings = store_settings
        # The store's engine connects (and migrates) on first use, in a worker thread.
        app.state.participation = participation or ParticipationService(store_settings)
        app.state.events = events or EventSource()
        app.state.rasa = RasaClient(str(settings.rasa_url), settings.rasa_timeout_seconds)
        app.state.conversation = ConversationService(
            app.state.rasa, settings, app.state.participation
        )
        # Search: nothing is loaded here; the first query loads the index and model.
        app.state.retriever = retriever or get_retriever()
        # Daily import of open calls + incremental re-index (APP_REFRESH_ENABLED); the
        # retriever swaps the new index in by itself.
        app.state.refresh = CallRefresh(settings) if settings.refresh_enabled else None
        scheduler = start_refresh(app.state.refresh, settings) if app.state.refresh else None
        logger.info("Gateway ready; Rasa at %s", settings.rasa_url)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
                await app.state.refresh.aclose()
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
    app.include_router(search.router)
    app.include_router(feedback.router)
    app.include_router(me.router)
    app.include_router(proposals.router)
    app.include_router(subscriptions.router)
    app.include_router(unsubscribe.router)
    app.include_router(calendar.router)
    app.include_router(admin.router)
    app.include_router(admin.page_router)
    # WhatsApp Cloud API webhook, only when APP_WHATSAPP_* are set (its router owns
    # its lifespan: the channel is created after, and closed before, the Rasa client).
    whatsapp = whatsapp_router(settings)
    if whatsapp is not None:
        app.include_router(whatsapp)
    # Telegram webhook, only with APP_TELEGRAM_TOKEN and APP_TELEGRAM_MODE=webhook (its
    # router owns its lifespan: the bot starts after, and stops before, the Rasa client).
    telegram = telegram_router(settings)
    if telegram is not None:
        app.include_router(telegram)
    # Reminder delivery (APP_REMINDERS_ENABLED): its lifespan starts after, and stops
    # before, the Telegram bot it pushes with.
    if settings.reminders_enabled:
        app.include_router(reminders.build_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Web widget: CORS for the chat API and widget files (APP_CORS_ORIGINS), GET /demo.
    install_widget(app, settings, STATIC_DIR)

    @app.get("/", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory channels.app:app_factory`."""
    return create_app()
