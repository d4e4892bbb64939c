"""The embeddable web widget: its demo page and the CORS policy cities need.

The widget itself is static (`channels/static/widget`: widget.js, widget.css, i18n).
Cities embed it on their own domains, so browsers call the chat API cross-origin.
CORS is granted only where the widget needs it, the chat, feedback, privacy and notice
routes and the widget's own files, and only for what it does there: GET assets and
notices, POST JSON, DELETE the user's data (named by the `X-Sender-Id` header), never
cookies.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from channels.api.identity import SENDER_HEADER
from channels.settings import ChannelSettings

# Paths a page on another origin may call from the browser: the chat, votes on answers,
# the user's own data and reminders ("delete my data", notices), and the widget's files.
CORS_PATHS: tuple[str, ...] = (
    "/api/v1/chat",
    "/api/v1/feedback",
    "/api/v1/me",
    "/api/v1/notices",
    "/static/widget/",
)


class WidgetCORSMiddleware:
    """Starlette's CORS middleware, applied only to the widget's paths."""

    def __init__(self, app: ASGIApp, origins: list[str], paths: tuple[str, ...]) -> None:
        """Wrap `app`; requests under `paths` get CORS answers for `origins`."""
        self._app = app
        self._paths = paths
        self._cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "Accept-Language", SENDER_HEADER],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route widget paths through CORS, everything else straight to the app."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self._paths):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def install_widget(app: FastAPI, settings: ChannelSettings, static_dir: Path) -> None:
    """Add the widget's CORS policy and its demo page (`GET /demo`) to `app`."""
    app.add_middleware(WidgetCORSMiddleware, origins=settings.cors_origin_list, paths=CORS_PATHS)
    demo_page = static_dir / "demo" / "index.html"

    @app.get("/demo", include_in_schema=False)
    async def widget_demo() -> FileResponse:
        """A made-up city page that embeds the widget with one script tag."""
        return FileResponse(demo_page)
