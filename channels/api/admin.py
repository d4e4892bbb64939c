"""The admin API (`/admin/api/...`) and the dashboard page (`/admin`).

Every `/admin/api` route but the sign-in needs a signed-in operator (session cookie,
plus `X-CSRF-Token` on state-changing requests) or a scoped client token
(`Authorization: Bearer ...`); without one it answers 401 before reading anything
else of the request (channels/api/auth.py). Roles decide the rest: moderators see the
proposals, operators the inbox (channels/api/operators.py), editors the reports, of
their own cities only; admins everything, including accounts and the audit log. The
page itself is a static shell with no data, so it is served without a session.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from channels.api import freshness, operators, operators_live
from channels.api.auth import (
    PrincipalDep,
    login_router,
    out_of_scope,
    request_language,
    require_principal,
    require_role,
    session_router,
)
from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.storage import call_store
from channels.errors import ApiError
from channels.schemas import ErrorResponse
from participation.errors import InvalidInputError, NotFoundError, OutOfScopeError
from participation.types import (
    PROPOSAL_STATUSES,
    TABLE_NAMES,
    CsvValue,
    ProposalStatus,
    ProposalView,
    TableName,
)

API_PREFIX = "/admin/api"
DASHBOARD = Path(__file__).resolve().parent.parent / "static" / "admin" / "index.html"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# Spreadsheets run cells starting with these as formulas: exported user text must not.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_DAYS = 366
MAX_LIMIT = 500
MODERATION_STATUSES = ("published", "rejected")


def _language(request: Request) -> str:
    return request_language(request)


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Not signed in, or an unknown client token"},
    403: {"model": ErrorResponse, "description": "Missing CSRF token, role or city"},
    503: {"model": ErrorResponse, "description": "Storage unavailable; retry"},
}

router = APIRouter(
    prefix=API_PREFIX, tags=["admin"], dependencies=[Depends(require_principal)], responses=_ERRORS
)
page_router = APIRouter(tags=["admin"])
ModeratorRole = Depends(require_role("moderator"))
ReportsRole = Depends(require_role("editor", "reports"))
ExportRole = Depends(require_role("reports"))


@page_router.get("/admin", include_in_schema=False)
async def dashboard() -> FileResponse:
    """The dashboard (HTML, CSS and JS only; data comes from the API with the token)."""
    return FileResponse(DASHBOARD)


# --- response bodies ---------------------------------------------------------------------


class ProposalList(BaseModel):
    """Proposals, oldest first (the moderation queue order)."""

    proposals: list[ProposalView]


class ModerationRequest(BaseModel):
    """Publish or reject a proposal; a rejection needs a reason the author will see."""

    status: str = Field(description="`published` or `rejected`.")
    reason: str | None = Field(default=None, max_length=1000)


class SubscriptionCount(BaseModel):
    """Active subscriptions, in total and per kind."""

    count: int
    by_kind: dict[str, int]


class DailyQuestions(BaseModel):
    """Questions of one day in one language."""

    day: str
    language: str
    questions: int
    unanswered: int


class StatsResponse(BaseModel):
    """Figures of the dashboard over the last `days` days."""

    days: int
    questions_per_day: list[DailyQuestions]
    subscriptions: int
    subscriptions_by_kind: dict[str, int]
    proposals_by_status: dict[str, int]
    open_tickets: int
    feedback_up: int
    feedback_down: int


class UnansweredItem(BaseModel):
    """A masked question the assistant could not answer."""

    language: str
    text: str
    count: int
    last_asked: str


class RatedItem(BaseModel):
    """A record and the votes on the answers that cited it."""

    language: str
    record_id: str
    up: int
    down: int
    score: int


class ContentGapsResponse(BaseModel):
    """What editors should add or fix, per language."""

    unanswered: list[UnansweredItem]
    low_rated: list[RatedItem]


# --- helpers -----------------------------------------------------------------------------


def _status(value: str | None, allowed: tuple[str, ...], language: str) -> str | None:
    if value is None or not value.strip():
        return None
    status = value.strip().lower()
    if status not in allowed:
        values = {"value": value[:32], "allowed": ", ".join(allowed)}
        raise ApiError(422, "status_invalid", language, values=values)
    return status


def _csv_cell(value: CsvValue) -> CsvValue:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: tuple[str, ...], rows: list[tuple[CsvValue, ...]]) -> str:
    """CSV text of a table export, with formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


# --- routes ------------------------------------------------------------------------------


@router.get("/proposals", response_model=ProposalList, dependencies=[ModeratorRole])
async def list_proposals(
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(description="pending, published or rejected")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> ProposalList:
    """Proposals of the caller's cities, optionally of one status (queue: `pending`)."""
    language = _language(request)
    wanted: ProposalStatus | None = _status(status, PROPOSAL_STATUSES, language)  # type: ignore[assignment]
    found = await call_store(
        language,
        settings.retry_after_seconds,
        participation.list_proposals,
        wanted,
        limit,
        principal,
    )
    return ProposalList(proposals=found)


@router.post(
    "/proposals/{reference}/moderation",
    response_model=ProposalView,
    responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    dependencies=[ModeratorRole],
)
async def moderate_proposal(
    reference: str,
    body: ModerationRequest,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> ProposalView:
    """Publish or reject (with a reason) one proposal."""
    language = _language(request)
    status: ProposalStatus | None = _status(body.status, MODERATION_STATUSES, language)  # type: ignore[assignment]
    if status is None:
        values = {"value": "", "allowed": ", ".join(MODERATION_STATUSES)}
        raise ApiError(422, "status_invalid", language, values=values)
    reason = (body.reason or "").strip() or None
    if status == "rejected" and reason is None:
        raise ApiError(422, "reason_required", language)
    try:
        return await call_store(
            language,
            settings.retry_after_seconds,
            participation.moderate,
            reference,
            status,
            reason,
            principal,
        )
    except OutOfScopeError as exc:
        raise out_of_scope(request, exc) from exc
    except NotFoundError as exc:
        values = {"reference": reference[:40]}
        raise ApiError(404, "proposal_not_found", language, values=values) from exc
    except InvalidInputError as exc:
        raise ApiError(422, "invalid_input", language, values={"field": exc.field}) from exc


@router.get("/subscriptions", response_model=SubscriptionCount, dependencies=[ReportsRole])
async def subscriptions(
    request: Request, settings: SettingsDep, participation: ParticipationDep
) -> SubscriptionCount:
    """How many reminder subscriptions are active, in total and per kind."""
    language = _language(request)
    stats = await call_store(language, settings.retry_after_seconds, participation.stats)
    return SubscriptionCount(count=stats.subscriptions, by_kind=dict(stats.subscriptions_by_kind))


@router.get("/stats", response_model=StatsResponse, dependencies=[ReportsRole])
async def stats(
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> StatsResponse:
    """Questions per day and language, subscriptions, proposals, tickets and votes."""
    language = _language(request)
    found = await call_store(language, settings.retry_after_seconds, participation.stats, days)
    return StatsResponse(
        days=found.days,
        questions_per_day=[
            DailyQuestions(
                day=d.day.isoformat(),
                language=d.language,
                questions=d.questions,
                unanswered=d.unanswered,
            )
            for d in found.questions_per_day
        ],
        subscriptions=found.subscriptions,
        subscriptions_by_kind=dict(found.subscriptions_by_kind),
        proposals_by_status=dict(found.proposals_by_status),
        open_tickets=found.open_tickets,
        feedback_up=found.feedback_up,
        feedback_down=found.feedback_down,
    )


@router.get("/content-gaps", response_model=ContentGapsResponse, dependencies=[ReportsRole])
async def content_gaps(
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    language: Annotated[str | None, Query(description="Only this language")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> ContentGapsResponse:
    """Most frequent unanswered questions and lowest-rated records, per language."""
    error_language = _language(request)
    gaps = await call_store(
        error_language,
        settings.retry_after_seconds,
        participation.content_gaps,
        (language or "").strip().lower() or None,
        limit,
    )
    return ContentGapsResponse(
        unanswered=[
            UnansweredItem(
                language=u.language, text=u.text, count=u.count, last_asked=u.last_asked.isoformat()
            )
            for u in gaps.unanswered
        ],
        low_rated=[RatedItem(**asdict(r), score=r.score) for r in gaps.low_rated],
    )


@router.get(
    "/export/{table}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, 404: {"model": ErrorResponse}},
    dependencies=[ExportRole],
)
async def export_table(
    table: str,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> Response:
    """One table of every city as CSV (admins and `reports` clients only; audited)."""
    language = _language(request)
    if table not in TABLE_NAMES:
        values = {"name": table[:32], "allowed": ", ".join(TABLE_NAMES)}
        raise ApiError(404, "unknown_table", language, values=values)
    name: TableName = table  # type: ignore[assignment]
    header, rows = await call_store(
        language, settings.retry_after_seconds, participation.table_rows, name
    )
    await call_store(
        language,
        settings.retry_after_seconds,
        participation.record_action,
        principal.actor,
        "export",
        table,
    )
    disposition = {"Content-Disposition": f'attachment; filename="{table}.csv"'}
    return Response(to_csv(header, rows), media_type=CSV_MEDIA_TYPE, headers=disposition)


# The inbox and account routes share this router's prefix and its authentication; the
# sign-in route needs none, so it hangs off the page router.
router.include_router(operators.router)
router.include_router(freshness.router)
router.include_router(session_router)
page_router.include_router(login_router)
page_router.include_router(operators_live.router)
