"""The operator inbox (`/admin/api/tickets/...`) and account administration.

Operators see only the handed-over conversations of the cities, languages and topics
they serve: a list leaves the others out, and a route naming another city's ticket
answers 403 `out_of_scope` (404 only for a reference that does not exist at all).
Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from channels.api.auth import (
    OperatorOut,
    PrincipalDep,
    operator_out,
    out_of_scope,
    request_language,
    require_role,
)
from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.operators_delivery import Delivery, deliver_reply
from channels.api.operators_live import notify_replies
from channels.api.storage import call_store
from channels.errors import ApiError
from channels.schemas import ErrorResponse
from participation.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    OutOfScopeError,
    ParticipationError,
)
from participation.types import (
    CLIENT_SCOPES,
    TICKET_OUTCOMES,
    TICKET_STATUSES,
    AuditView,
    Principal,
    TicketMessageView,
    TicketStatus,
    TicketView,
)

T = TypeVar("T")

OperatorRole = Depends(require_role("operator"))
AdminRole = Depends(require_role("admin"))
MAX_AUDIT = 1000

_TICKET_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorResponse, "description": "Not a conversation you serve, or no CSRF"},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse, "description": "Closed, or held by another operator"},
}

router = APIRouter()


# --- bodies --------------------------------------------------------------------------------


class TicketList(BaseModel):
    """Handoff tickets, oldest first (the order to answer them in)."""

    tickets: list[TicketView]


class TicketDetail(BaseModel):
    """A conversation: the ticket and its messages so far (the user's masked)."""

    ticket: TicketView
    messages: list[TicketMessageView]


class MessageList(BaseModel):
    """Messages after a given id, for catching up after a reconnect."""

    messages: list[TicketMessageView]


class ReplyRequest(BaseModel):
    """An operator's reply; shown to the user as plain text on every channel."""

    text: str = Field(min_length=1, max_length=4000)


class ReplyOut(BaseModel):
    """The stored reply, and how it travels to the user.

    `stream` (the web widget pulls it), `sent` (pushed: Telegram, WhatsApp), `failed`
    (stored, not pushed), `outside_window` (WhatsApp: the user last wrote over 24 hours
    ago) or `unsupported` (this channel has no operator replies yet).
    """

    message: TicketMessageView
    delivery: Delivery


class TransferRequest(BaseModel):
    """Hand over to another city (unassigned there) or to a named operator."""

    city: str | None = Field(default=None, max_length=200)
    operator: str | None = Field(default=None, max_length=64)


class CloseRequest(BaseModel):
    """How the conversation ended."""

    outcome: str | None = Field(default=None, description=", ".join(TICKET_OUTCOMES))


class OperatorList(BaseModel):
    """Every operator account."""

    operators: list[OperatorOut]


class OperatorCreate(BaseModel):
    """A new account; the password is set here once and never shown again."""

    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    roles: list[str]
    cities: list[str] = []
    languages: list[str] = []
    topics: list[str] = []


class OperatorUpdate(BaseModel):
    """Fields to change; omitted ones stay as they are."""

    roles: list[str] | None = None
    cities: list[str] | None = None
    languages: list[str] | None = None
    topics: list[str] | None = None
    active: bool | None = None


class AuditList(BaseModel):
    """Audit entries, newest first."""

    entries: list[AuditView]


class ClientCreate(BaseModel):
    """A machine client of the admin API."""

    name: str = Field(min_length=2, max_length=64)
    scope: str = Field(description=", ".join(CLIENT_SCOPES))


class ClientToken(BaseModel):
    """The client's token: shown once, stored only as a hash."""

    name: str
    scope: str
    token: str


# --- helpers -------------------------------------------------------------------------------


def _store_error(request: Request, exc: ParticipationError, reference: str) -> ApiError:
    """The HTTP form of an expected store failure."""
    language = request_language(request)
    if isinstance(exc, OutOfScopeError):
        return out_of_scope(request, exc)
    if isinstance(exc, NotFoundError):
        code = "ticket_not_found" if exc.what == "ticket" else "not_found"
        return ApiError(404, code, language, values={"reference": reference[:40]})
    if isinstance(exc, ConflictError):
        values = {"value": exc.state, "allowed": "open"}
        return ApiError(
            409, f"ticket_{exc.state}", language, values=values, message_key="error.status_invalid"
        )
    field = exc.field if isinstance(exc, InvalidInputError) else "input"
    return ApiError(422, "invalid_input", language, values={"field": field})


async def _call(
    request: Request, settings: Any, reference: str, function: Any, *args: Any, **kwargs: Any
) -> Any:
    try:
        return await call_store(
            request_language(request), settings.retry_after_seconds, function, *args, **kwargs
        )
    except ParticipationError as exc:
        raise _store_error(request, exc, reference) from exc


# --- the inbox -----------------------------------------------------------------------------


@router.get("/tickets", response_model=TicketList, dependencies=[OperatorRole])
async def list_tickets(
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(description="open or closed")] = None,
) -> TicketList:
    """Handoff tickets routed to the caller's cities, languages and topics."""
    wanted = (status or "").strip().lower() or None
    if wanted is not None and wanted not in TICKET_STATUSES:
        values = {"value": wanted[:32], "allowed": ", ".join(TICKET_STATUSES)}
        raise ApiError(422, "status_invalid", request_language(request), values=values)
    chosen: TicketStatus | None = wanted  # type: ignore[assignment]
    found = await _call(request, settings, "", participation.list_tickets, chosen, principal)
    return TicketList(tickets=found)


@router.get(
    "/tickets/{reference}",
    response_model=TicketDetail,
    responses=_TICKET_ERRORS,
    dependencies=[OperatorRole],
)
async def read_ticket(
    reference: str,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> TicketDetail:
    """One conversation and its transcript."""
    ticket = await _call(
        request, settings, reference, participation.get_ticket, reference, principal
    )
    messages = await _call(
        request, settings, reference, participation.ticket_messages, reference, principal
    )
    return TicketDetail(ticket=ticket, messages=messages)


@router.get(
    "/tickets/{reference}/messages",
    response_model=MessageList,
    responses=_TICKET_ERRORS,
    dependencies=[OperatorRole],
)
async def ticket_messages(
    reference: str,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0)] = 0,
) -> MessageList:
    """Messages after id `after` (what a reconnecting dashboard missed)."""
    found = await _call(
        request, settings, reference, participation.ticket_messages, reference, principal, after
    )
    return MessageList(messages=found)


@router.post(
    "/tickets/{reference}/claim",
    response_model=TicketView,
    responses=_TICKET_ERRORS,
    dependencies=[OperatorRole],
)
async def claim_ticket(
    reference: str,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> TicketView:
    """Take the conversation: the bot stays silent for this user until it is closed."""
    result: TicketView = await _call(
        request, settings, reference, participation.claim_ticket, reference, principal
    )
    return result


@router.post(
    "/tickets/{reference}/reply",
    response_model=ReplyOut,
    responses=_TICKET_ERRORS,
    dependencies=[OperatorRole],
)
async def reply_ticket(
    reference: str,
    body: ReplyRequest,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> ReplyOut:
    """Reply to a conversation you hold: streamed to web users, pushed to Telegram."""
    message: TicketMessageView = await _call(
        request,
        settings,
        reference,
        participation.add_ticket_message,
        reference,
        body.text,
        principal,
    )
    notify_replies(request)
    ticket: TicketView = await _call(
        request, settings, reference, participation.get_ticket, reference, principal
    )
    return ReplyOut(message=message, delivery=await deliver_reply(request, ticket, message))


@router.post(
    "/tickets/{reference}/transfer",
    response_model=TicketView,
    responses=_TICKET_ERRORS,
    dependencies=[OperatorRole],
)
async def transfer_ticket(
    reference: str,
    body: TransferRequest,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> TicketView:
    """Hand the conversation to another city or operator."""
    result: TicketView = await _call(
        request,
        settings,
        reference,
        participation.transfer_ticket,
        reference,
        principal,
        city=body.city,
        operator=body.operator,
    )
    return result


@router.post(
    "/tickets/{reference}/close",
    response_model=TicketView,
    responses=_TICKET_ERRORS,
    dependencies=[OperatorRole],
)
async def close_ticket(
    reference: str,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
    body: CloseRequest | None = None,
) -> TicketView:
    """Close with an outcome; the bot answers this user again."""
    outcome = body.outcome if body else None
    result: TicketView = await _call(
        request, settings, reference, participation.close_ticket, reference, principal, outcome
    )
    return result


# --- accounts, clients and the audit log (admins) ------------------------------------------


@router.get("/operators", response_model=OperatorList, dependencies=[AdminRole])
async def list_operators(
    request: Request, settings: SettingsDep, participation: ParticipationDep
) -> OperatorList:
    """Every operator account."""
    found = await _call(request, settings, "", participation.list_operators)
    return OperatorList(operators=[operator_out(view) for view in found])


@router.post(
    "/operators",
    response_model=OperatorOut,
    status_code=201,
    responses={422: {"model": ErrorResponse}},
    dependencies=[AdminRole],
)
async def create_operator(
    body: OperatorCreate,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> OperatorOut:
    """Create an account with its roles, cities, languages and topics."""
    made = await _call(
        request,
        settings,
        body.username,
        participation.create_operator,
        username=body.username,
        password=body.password,
        roles=body.roles,
        cities=body.cities,
        languages=body.languages,
        topics=body.topics,
    )
    await _audit(
        request,
        settings,
        participation,
        principal,
        "operator_create",
        made.username,
        {"roles": list(made.roles), "cities": list(made.cities)},
    )
    return operator_out(made)


@router.patch(
    "/operators/{username}",
    response_model=OperatorOut,
    responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    dependencies=[AdminRole],
)
async def update_operator(
    username: str,
    body: OperatorUpdate,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> OperatorOut:
    """Change roles, places or topics, or deactivate (ends their sessions)."""
    changes = body.model_dump(exclude_none=True)
    made = await _call(
        request, settings, username, participation.update_operator, username, **changes
    )
    await _audit(
        request, settings, participation, principal, "operator_update", made.username, changes
    )
    return operator_out(made)


@router.get("/audit", response_model=AuditList, dependencies=[AdminRole])
async def audit_log(
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT)] = 200,
    actor: Annotated[str | None, Query(max_length=96)] = None,
) -> AuditList:
    """Who did what, newest first."""
    found = await _call(request, settings, "", participation.audit_log, limit, actor)
    return AuditList(entries=found)


@router.post(
    "/clients",
    response_model=ClientToken,
    status_code=201,
    responses={422: {"model": ErrorResponse}},
    dependencies=[AdminRole],
)
async def create_client(
    body: ClientCreate,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> ClientToken:
    """A machine token with a scope (`reports`: read-only reports and exports)."""
    token = await _call(
        request, settings, body.name, participation.create_client, body.name, body.scope
    )
    await _audit(
        request,
        settings,
        participation,
        principal,
        "client_create",
        body.name,
        {"scope": body.scope},
    )
    return ClientToken(name=body.name.strip().casefold(), scope=body.scope, token=token)


@router.post(
    "/clients/{name}/revoke",
    status_code=204,
    responses={404: {"model": ErrorResponse}},
    dependencies=[AdminRole],
)
async def revoke_client(
    name: str,
    request: Request,
    settings: SettingsDep,
    participation: ParticipationDep,
    principal: PrincipalDep,
) -> None:
    """Stop accepting a client's token."""
    await _call(request, settings, name, participation.revoke_client, name)
    await _audit(request, settings, participation, principal, "client_revoke", name, {})


async def _audit(
    request: Request,
    settings: Any,
    participation: Any,
    principal: Principal,
    action: str,
    target: str,
    detail: dict[str, Any],
) -> None:
    await _call(
        request,
        settings,
        target,
        participation.record_action,
        principal.actor,
        action,
        target,
        detail,
    )
