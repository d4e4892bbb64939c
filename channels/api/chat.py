"""`POST /api/v1/chat`: one user message in, the assistant's messages out."""

from __future__ import annotations

from fastapi import APIRouter, Request

from channels.api.deps import ConversationDep, SettingsDep
from channels.conversation import AssistantUnavailable, Turn, TurnRejected
from channels.errors import ApiError, language_from_headers
from channels.place import place_metadata
from channels.schemas import ChatRequest, ChatResponse, ErrorResponse
from knowledge.languages import EU_LANGUAGES

router = APIRouter(prefix="/api/v1", tags=["chat"])

CHANNEL = "api"


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
    body: ChatRequest,
    request: Request,
    settings: SettingsDep,
    conversation: ConversationDep,
) -> ChatResponse:
    """Send a message to the assistant and return its reply in the user's language."""
    hint = language_from_headers(request, default=settings.default_language)
    _check_language(body.language, hint)
    turn = Turn(
        channel=CHANNEL,
        user_id=body.sender,
        text=body.message,
        explicit_language=body.language,
        language_hint=hint,
        extra_metadata=place_metadata(body.city, body.country),
    )
    try:
        reply = await conversation.handle(turn)
    except TurnRejected as exc:
        raise ApiError(422, exc.code, exc.language, values=exc.values) from exc
    except AssistantUnavailable as exc:
        retry = {"Retry-After": str(settings.retry_after_seconds)}
        raise ApiError(503, "assistant_unavailable", exc.language, headers=retry) from exc
    return ChatResponse(language=reply.language, messages=reply.messages, turn_id=reply.turn_id)


def _check_language(requested: str | None, fallback: str) -> None:
    if requested is not None and requested.strip().lower() not in EU_LANGUAGES:
        raise ApiError(
            422,
            "unsupported_language",
            fallback,
            values={"requested": requested[:16], "supported": ", ".join(EU_LANGUAGES)},
        )
