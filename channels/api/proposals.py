"""`POST /api/v1/proposals` and `GET /api/v1/proposals/{reference}`: proposals over REST.

The chat is one way to submit a proposal; programs (a city's own site or app) should not
have to hold a conversation for it. The author is the chat API user named by
`X-Sender-Id` (the same `api:<sender>` the chat and the privacy routes use), so the
proposal shows up in that user's export and is erased with their data.

Networks fail after the server has committed, so clients retry: with the same
`Idempotency-Key` header a retry returns the first proposal's reference (200) instead
of storing a second one (201).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.identity import (
    OptionalSenderUserDep,
    SenderUserDep,
    body_language,
    request_language,
)
from channels.api.storage import call_store
from channels.errors import ApiError
from channels.schemas import ErrorResponse
from participation.errors import InvalidInputError, ProposalTooLongError
from participation.service import ParticipationService
from participation.types import ProposalReceipt, ProposalStatus, ProposalView

router = APIRouter(prefix="/api/v1", tags=["proposals"])

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Visible ASCII, as long as the store's column allows (UUIDs and hashes fit easily).
IDEMPOTENCY_KEY_MAX_CHARS = 128
_IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_CHARS}}}")
_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "Too long, empty or malformed input"},
    503: {"model": ErrorResponse, "description": "Storage busy or unavailable; retry"},
}


class ProposalRequest(BaseModel):
    """A citizen's proposal to the city network (moderated before it is published)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "topic": "Parks",
                    "text": "Plant trees along the river promenade.",
                    "city": "Rijeka",
                    "contact": "ana@example.org",
                    "language": "hr",
                }
            ]
        }
    )

    topic: str = Field(description="A short title.")
    text: str = Field(description="The proposal (plain text).")
    city: str | None = Field(default=None, description="The city it concerns.")
    contact: str | None = Field(default=None, description="How moderators may reach the author.")
    language: str | None = Field(
        default=None, description="Language of the proposal (default: Accept-Language)."
    )


class ProposalReceiptResponse(BaseModel):
    """The stored proposal's reference, to quote when asking about it."""

    reference: str
    status: ProposalStatus
    created_at: dt.datetime


class ProposalStatusResponse(BaseModel):
    """Where a proposal stands; the author (same `X-Sender-Id`) sees its content too."""

    reference: str
    status: ProposalStatus
    created_at: dt.datetime
    moderated_at: dt.datetime | None
    mine: bool = Field(description="True when the caller submitted it.")
    topic: str | None = Field(default=None, description="Only for the author.")
    city: str | None = Field(default=None, description="Only for the author.")
    language: str | None = Field(default=None, description="Only for the author.")
    reason: str | None = Field(
        default=None, description="Why it was rejected; only for the author."
    )


@router.post(
    "/proposals",
    response_model=ProposalReceiptResponse,
    status_code=201,
    responses={200: {"description": "Already stored under this Idempotency-Key"}, **_ERRORS},
)
async def submit_proposal(
    body: ProposalRequest,
    request: Request,
    response: Response,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
    idempotency_key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)] = None,
) -> ProposalReceiptResponse:
    """Submit a proposal; 201 with its reference, 200 when the key was already used."""
    language = body_language(body.language, request)
    key = _checked_key(idempotency_key, language)
    receipt = await _store_proposal(
        participation, settings.retry_after_seconds, user_id, language, body, key
    )
    response.status_code = 201 if receipt.created else 200
    response.headers["Location"] = f"{router.prefix}/proposals/{receipt.reference}"
    return ProposalReceiptResponse(
        reference=receipt.reference, status=receipt.status, created_at=receipt.created_at
    )


@router.get(
    "/proposals/{reference}",
    response_model=ProposalStatusResponse,
    responses={404: {"model": ErrorResponse, "description": "Unknown reference"}, **_ERRORS},
)
async def proposal_status(
    reference: str,
    request: Request,
    user_id: OptionalSenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> ProposalStatusResponse:
    """Status of a proposal by reference; its author also gets the content and the reason."""
    language = request_language(request)
    retry = settings.retry_after_seconds
    own = None
    if user_id is not None:
        own = await call_store(
            language, retry, participation.proposal_status, reference, user_id=user_id
        )
    view = own or await call_store(language, retry, participation.proposal_status, reference)
    if view is None:
        raise ApiError(404, "proposal_not_found", language, values={"reference": reference[:32]})
    return _status(view, mine=own is not None)


def _checked_key(key: str | None, language: str) -> str | None:
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        values = {"limit": IDEMPOTENCY_KEY_MAX_CHARS}
        raise ApiError(422, "idempotency_key_invalid", language, values=values)
    return key


async def _store_proposal(
    participation: ParticipationService,
    retry_after_seconds: int,
    user_id: str,
    language: str,
    body: ProposalRequest,
    key: str | None,
) -> ProposalReceipt:
    """Store it (committed before returning); map the store's refusals to 422s."""
    try:
        return await call_store(
            language,
            retry_after_seconds,
            participation.submit_proposal,
            user_id=user_id,
            language=language,
            topic=body.topic,
            text=body.text,
            city=body.city,
            contact=body.contact,
            idempotency_key=key,
        )
    except ProposalTooLongError as exc:
        values = {"limit": exc.limit, "length": exc.length}
        raise ApiError(422, "proposal_too_long", language, values=values) from exc
    except InvalidInputError as exc:
        raise _invalid(exc, participation, body, language) from exc


def _invalid(
    exc: InvalidInputError,
    participation: ParticipationService,
    body: ProposalRequest,
    language: str,
) -> ApiError:
    if exc.field == "topic" and body.topic.strip():
        values = {
            "limit": participation.settings.topic_max_chars,
            "length": len(body.topic.strip()),
        }
        return ApiError(422, "topic_too_long", language, values=values)
    return ApiError(422, "invalid_input", language, values={"field": exc.field})


def _status(view: ProposalView, *, mine: bool) -> ProposalStatusResponse:
    public = ProposalStatusResponse(
        reference=view.reference,
        status=view.status,
        created_at=view.created_at,
        moderated_at=view.moderated_at,
        mine=mine,
    )
    if not mine:
        return public
    return public.model_copy(
        update={
            "topic": view.topic,
            "city": view.city,
            "language": view.language,
            "reason": view.reason,
        }
    )
