"""`POST /api/v1/chat`: one user message in, the assistant's messages out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from channels.api.deps import RasaDep, SettingsDep
from channels.errors import ApiError, language_from_headers
from channels.i18n import translate
from channels.rasa_client import RasaUnavailableError
from channels.schemas import Button, ChatMessage, ChatRequest, ChatResponse, ErrorResponse, Link
from knowledge.languages import EU_LANGUAGES

router = APIRouter(prefix="/api/v1", tags=["chat"])

SENDER_NAMESPACE = "api"


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        400: {"model": ErrorResponse, "description": "Body is not valid JSON"},
        422: {"model": ErrorResponse, "description": "Missing, empty or too long message"},
        503: {"model": ErrorResponse, "description": "Rasa is down; retry after Retry-After"},
    },
)
async def chat(
    body: ChatRequest, request: Request, settings: SettingsDep, rasa: RasaDep
) -> ChatResponse:
    """Send a message to the assistant and return its reply in the user's language."""
    hint = language_from_headers(request, default=settings.default_language)
    language = _checked_language(body.language, hint)
    text = _checked_text(body.message, language, settings.max_message_chars)
    metadata: dict[str, Any] = {"want_meta": True, "lang_hint": hint, "channel": "api"}
    if body.language:
        metadata["lang_pref"] = language
    try:
        turn = await rasa.send(f"{SENDER_NAMESPACE}:{body.sender}", text, metadata)
    except RasaUnavailableError as exc:
        raise ApiError(
            503,
            "assistant_unavailable",
            language,
            headers={"Retry-After": str(settings.retry_after_seconds)},
        ) from exc
    reply_language = turn.language or language
    messages = [m for m in (_to_message(item) for item in turn.messages) if m is not None]
    if not messages:
        messages = [ChatMessage(text=translate("reply.empty", reply_language))]
    return ChatResponse(language=reply_language, messages=messages)


def _checked_language(requested: str | None, fallback: str) -> str:
    if requested is None:
        return fallback
    code = requested.strip().lower()
    if code not in EU_LANGUAGES:
        raise ApiError(
            422,
            "unsupported_language",
            fallback,
            requested=requested[:16],
            supported=", ".join(EU_LANGUAGES),
        )
    return code


def _checked_text(message: str, language: str, limit: int) -> str:
    text = message.strip()
    if not text:
        raise ApiError(422, "message_empty", language)
    if len(text) > limit:
        raise ApiError(422, "message_too_long", language, length=len(text), limit=limit)
    return text


def _to_message(item: dict[str, Any]) -> ChatMessage | None:
    """Turn one Rasa REST message into the API's message, dropping unknown kinds."""
    text = item.get("text")
    custom = item.get("custom") if isinstance(item.get("custom"), dict) else {}
    links = [
        Link(title=str(link.get("title", link.get("url", ""))), url=str(link["url"]))
        for link in (custom or {}).get("links", [])
        if isinstance(link, dict) and isinstance(link.get("url"), str)
    ]
    if not isinstance(text, str) and not links:
        return None
    buttons = [
        Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
        for b in item.get("buttons") or []
        if isinstance(b, dict)
    ]
    return ChatMessage(text=text if isinstance(text, str) else "", buttons=buttons, links=links)
