"""`/api/v1/subscriptions`: deadline reminders over REST (subscribe, list, end all).

The same subscriptions as in the chat ("remind me of CERV calls"), for programs that
do not chat. The subscriber is the chat API user named by `X-Sender-Id`; their
reminders arrive as notices (`GET /api/v1/notices`) or, with an e-mail address and
SMTP configured, by e-mail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.identity import SenderUserDep, body_language, request_language
from channels.api.storage import call_store
from channels.errors import ApiError
from channels.i18n import translate
from channels.reminders import unsubscribe_url
from channels.schemas import ErrorResponse
from participation.errors import InvalidInputError, UnknownTargetError
from participation.settings import ParticipationSettings
from participation.types import SUBSCRIPTION_KINDS, SubscriptionKind, SubscriptionReceipt

router = APIRouter(prefix="/api/v1", tags=["subscriptions"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "Unknown kind or target, bad e-mail or id"},
    503: {"model": ErrorResponse, "description": "Storage busy or unavailable; retry"},
}


class SubscriptionRequest(BaseModel):
    """What to be reminded of: calls of a theme or programme, or a city's events."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "calls_programme", "target": "cerv", "language": "hr"},
                {"kind": "events_city", "target": "Rijeka", "email": "ana@example.org"},
            ]
        }
    )

    kind: str = Field(description="`calls_theme`, `calls_programme` or `events_city`.")
    target: str = Field(description="Theme code, programme id or city name.")
    language: str | None = Field(
        default=None, description="Language of the reminders (default: Accept-Language)."
    )
    email: str | None = Field(default=None, description="Also remind by e-mail (optional).")


class SubscriptionItem(BaseModel):
    """One subscription of the caller."""

    kind: SubscriptionKind
    target: str
    language: str
    email: str | None
    created_at: dt.datetime | None = None
    unsubscribe_url: str = Field(description="Ends this subscription alone (keep it private).")


class SubscribedResponse(SubscriptionItem):
    """The subscription as stored and how many reminders are planned for it."""

    created: bool
    reminders_scheduled: int


class SubscriptionsResponse(BaseModel):
    """The caller's subscriptions, oldest first."""

    subscriptions: list[SubscriptionItem]


class UnsubscribedResponse(BaseModel):
    """How many subscriptions (with their pending reminders) were ended."""

    deleted: int


@router.post(
    "/subscriptions",
    response_model=SubscribedResponse,
    status_code=201,
    responses={200: {"description": "Already subscribed (language and e-mail updated)"}, **_ERRORS},
)
async def subscribe(
    body: SubscriptionRequest,
    request: Request,
    response: Response,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> SubscribedResponse:
    """Subscribe to reminders; 201 when new, 200 when it existed already."""
    language = body_language(body.language, request)
    kind = _kind(body.kind, language)
    try:
        receipt = await call_store(
            language,
            settings.retry_after_seconds,
            participation.subscribe,
            user_id=user_id,
            language=language,
            kind=kind,
            target=body.target,
            email=body.email,
        )
    except UnknownTargetError as exc:
        raise _unknown_target(exc, language) from exc
    except InvalidInputError as exc:
        raise ApiError(422, "invalid_input", language, values={"field": exc.field}) from exc
    response.status_code = 201 if receipt.created else 200
    return _subscribed(receipt, language, body.email, _links(request))


@router.get("/subscriptions", response_model=SubscriptionsResponse, responses=_ERRORS)
async def list_subscriptions(
    request: Request,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> SubscriptionsResponse:
    """Every subscription of the caller."""
    language = request_language(request)
    views = await call_store(
        language, settings.retry_after_seconds, participation.subscriptions, user_id
    )
    links = _links(request)
    items = [
        SubscriptionItem(
            kind=view.kind,
            target=view.target,
            language=view.language,
            email=view.email,
            created_at=view.created_at,
            unsubscribe_url=unsubscribe_url(links, view.token, view.language),
        )
        for view in views
    ]
    return SubscriptionsResponse(subscriptions=items)


@router.delete("/subscriptions", response_model=UnsubscribedResponse, responses=_ERRORS)
async def unsubscribe_all(
    request: Request,
    user_id: SenderUserDep,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> UnsubscribedResponse:
    """End every subscription of the caller (single ones: their `unsubscribe_url`)."""
    language = request_language(request)
    deleted = await call_store(
        language, settings.retry_after_seconds, participation.unsubscribe_all, user_id
    )
    return UnsubscribedResponse(deleted=deleted)


def _links(request: Request) -> ParticipationSettings:
    settings: ParticipationSettings = request.app.state.participation_settings
    return settings


def _kind(value: str, language: str) -> SubscriptionKind:
    kind = value.strip().lower()
    if kind not in SUBSCRIPTION_KINDS:
        values = {"value": value[:32], "allowed": ", ".join(SUBSCRIPTION_KINDS)}
        raise ApiError(422, "subscription_kind_invalid", language, values=values)
    return cast(SubscriptionKind, kind)


def _unknown_target(exc: UnknownTargetError, language: str) -> ApiError:
    """422 naming what was not found, with the close matches as a list and in words."""
    key = f"error.unknown_target.{exc.kind}"
    values: dict[str, object] = {"target": exc.target[:64], "hint": ""}
    if exc.suggestions:
        hint = translate(
            "error.unknown_target.suggestions", language, suggestions=", ".join(exc.suggestions)
        )
        values["hint"] = f" {hint}"
    return ApiError(
        422,
        "unknown_target",
        language,
        values=values,
        message_key=key,
        suggestions=exc.suggestions,
    )


def _subscribed(
    receipt: SubscriptionReceipt, language: str, email: str | None, links: ParticipationSettings
) -> SubscribedResponse:
    return SubscribedResponse(
        kind=receipt.kind,
        target=receipt.target,
        language=language,
        email=email.strip() if email and email.strip() else None,
        unsubscribe_url=unsubscribe_url(links, receipt.token, language),
        created=receipt.created,
        reminders_scheduled=receipt.reminders_scheduled,
    )
