"""`POST /api/v1/feedback`: thumbs up or down on one answer of the assistant.

The chat API returns a `turn_id` with each recorded answer; only the conversation
that had the turn (same `sender`) may rate it, so nobody can vote on others' answers.
Votes feed the admin's content-gap report (lowest-rated records per language).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.identity import request_language, user_id_for
from channels.api.storage import call_store
from channels.errors import ApiError
from channels.schemas import ErrorResponse
from participation.errors import NotFoundError
from participation.types import Rating

router = APIRouter(prefix="/api/v1", tags=["feedback"])

RATINGS: dict[str, Rating] = {"up": 1, "down": -1}


class FeedbackRequest(BaseModel):
    """A vote on one answer."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sender": "web-3f2b9c0a", "turn_id": 42, "rating": "up"}]}
    )

    sender: str = Field(description="The conversation id used for POST /api/v1/chat.")
    turn_id: int = Field(description="`turn_id` of the rated chat answer.", ge=1)
    rating: str = Field(description="`up` or `down`.")


class FeedbackResponse(BaseModel):
    """The vote as stored (a second vote on the same answer replaces the first)."""

    turn_id: int
    rating: Literal["up", "down"]


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses={
        404: {"model": ErrorResponse, "description": "No such turn in this conversation"},
        422: {"model": ErrorResponse, "description": "Bad sender id or rating"},
        503: {"model": ErrorResponse, "description": "Storage unavailable; retry"},
    },
)
async def feedback(
    body: FeedbackRequest,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> FeedbackResponse:
    """Record a thumbs up (`up`) or down (`down`) for one answer of this conversation."""
    language = request_language(request)
    user_id = user_id_for(body.sender, language)
    rating_name = body.rating.strip().lower()
    rating = RATINGS.get(rating_name)
    if rating is None:
        raise ApiError(422, "rating_invalid", language, values={"allowed": ", ".join(RATINGS)})
    try:
        await call_store(
            language,
            settings.retry_after_seconds,
            participation.record_feedback,
            user_id=user_id,
            turn_id=body.turn_id,
            rating=rating,
        )
    except NotFoundError as exc:
        raise ApiError(404, "turn_not_found", language) from exc
    return FeedbackResponse(turn_id=body.turn_id, rating="up" if rating == 1 else "down")
