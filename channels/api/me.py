"""Privacy and notices of one chat API user: export, erase, reminders to read.

The user is the conversation named by the `X-Sender-Id` header (the web widget's
`web-...` id; see `channels.api.identity`). Telegram users have `/export` and
`/forget` in the bot instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.identity import SenderUserDep, request_language, user_id_for
from channels.api.storage import call_store
from channels.reminders import notice_text, unsubscribe_url
from channels.schemas import ErrorResponse
from participation.settings import ParticipationSettings
from participation.types import Reminder

router = APIRouter(prefix="/api/v1", tags=["privacy"])

EXPORT_FILENAME = "civic-assistant-my-data.json"
MAX_ACK_IDS = 100
_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "Missing or malformed X-Sender-Id"},
    503: {"model": ErrorResponse, "description": "Storage unavailable; retry"},
}


class ForgetResponse(BaseModel):
    """How many stored items of each kind were erased (conversation events included)."""

    deleted: dict[str, int]


class Notice(BaseModel):
    """A deadline reminder waiting for a web user."""

    id: int
    language: str = Field(description="Language of `text` and `title`.")
    text: str = Field(description="The reminder, ready to show.")
    subject_type: str
    subject_id: str
    title: str
    url: str | None
    deadline: dt.date
    days_left: int
    unsubscribe_url: str


class NoticesResponse(BaseModel):
    """The user's unread reminders, oldest first."""

    notices: list[Notice]


class AckRequest(BaseModel):
    """Notices the user has seen (they are not shown again)."""

    sender: str
    ids: list[int] = Field(min_length=1, max_length=MAX_ACK_IDS)


class AckResponse(BaseModel):
    """How many notices were marked as read."""

    acknowledged: int


@router.get("/me/export", responses={200: {"description": "All data kept about you"}, **_ERRORS})
async def export_my_data(
    request: Request,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> JSONResponse:
    """Download everything stored about this conversation (right of access), as JSON."""
    language = request_language(request)
    data = await call_store(
        language, settings.retry_after_seconds, participation.export_user, user_id
    )
    disposition = {"Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"'}
    return JSONResponse(content=jsonable_encoder(data), headers=disposition)


@router.delete("/me", response_model=ForgetResponse, responses=_ERRORS)
async def forget_me(
    request: Request,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> ForgetResponse:
    """Erase everything stored about this conversation, Rasa's history included."""
    language = request_language(request)
    deleted = await call_store(
        language, settings.retry_after_seconds, participation.forget_user, user_id
    )
    return ForgetResponse(deleted=deleted)


@router.get("/notices", response_model=NoticesResponse, responses=_ERRORS)
async def notices(
    request: Request,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> NoticesResponse:
    """Deadline reminders for this conversation that it has not acknowledged yet.

    Texts are in `?lang=` (else Accept-Language, else the language of the subscription).
    """
    language = request_language(request)
    pending = await call_store(
        language, settings.retry_after_seconds, participation.pending_notices, user_id
    )
    asked = request.query_params.get("lang") or request.headers.get("accept-language")
    shown_in = language if asked else None
    links: ParticipationSettings = request.app.state.participation_settings
    return NoticesResponse(notices=[_notice(r, shown_in, links) for r in pending])


@router.post("/notices/ack", response_model=AckResponse, responses=_ERRORS)
async def acknowledge_notices(
    body: AckRequest,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> AckResponse:
    """Mark notices as read; ids of other users' notices are ignored."""
    language = request_language(request)
    user_id = user_id_for(body.sender, language)
    count = await call_store(
        language, settings.retry_after_seconds, participation.ack_notices, user_id, body.ids
    )
    return AckResponse(acknowledged=count)


def _notice(reminder: Reminder, language: str | None, settings: ParticipationSettings) -> Notice:
    shown_in = language or reminder.language
    link = unsubscribe_url(settings, reminder.unsubscribe_token, shown_in)
    return Notice(
        id=reminder.id,
        language=shown_in,
        text=notice_text(reminder, shown_in, link),
        subject_type=reminder.subject_type,
        subject_id=reminder.subject_id,
        title=reminder.title(shown_in),
        url=reminder.url,
        deadline=reminder.deadline,
        days_left=reminder.days_left,
        unsubscribe_url=link,
    )
