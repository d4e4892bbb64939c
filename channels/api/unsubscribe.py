"""`GET /unsubscribe/{token}`: the one-tap link under every reminder.

Opening the link (or an e-mail client's one-click `POST`, RFC 8058) ends that one
subscription and shows a small page in the reader's language. An unknown or already
used link says so with 404; nothing else about the subscription is revealed.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.identity import request_language
from channels.api.storage import call_store
from channels.i18n import translate

router = APIRouter(tags=["reminders"])

PAGE = Path(__file__).resolve().parent.parent / "pages" / "unsubscribe.html"
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")


@lru_cache(maxsize=1)
def _template() -> str:
    return PAGE.read_text(encoding="utf-8")


def render_page(language: str, outcome: str) -> str:
    """The page for `outcome` (`done` or `unknown`), every text escaped."""
    texts = {
        "lang": language,
        "title": translate("unsubscribe.title", language),
        "heading": translate(f"unsubscribe.{outcome}.heading", language),
        "message": translate(f"unsubscribe.{outcome}.message", language),
    }
    return _template().format(**{key: html.escape(value) for key, value in texts.items()})


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
@router.get(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    responses={404: {"description": "Unknown or already used link (HTML page)"}},
)
async def unsubscribe(
    token: str, request: Request, settings: SettingsDep, participation: ParticipationDep
) -> HTMLResponse:
    """End the subscription this link belongs to; `?lang=` picks the page's language."""
    language = request_language(request)
    done = False
    if TOKEN.fullmatch(token):
        done = await call_store(
            language, settings.retry_after_seconds, participation.unsubscribe, token
        )
    outcome = "done" if done else "unknown"
    return HTMLResponse(render_page(language, outcome), status_code=200 if done else 404)
