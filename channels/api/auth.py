"""Who calls the admin API: operator sessions (cookie + CSRF) or scoped client tokens.

A browser signs in at `POST /admin/api/auth/login` and gets a session cookie
(HttpOnly, SameSite=Strict, Secure behind HTTPS, path /admin) plus a CSRF token that
it sends back in `X-CSRF-Token` on every state-changing request. A machine client
sends `Authorization: Bearer <client token>` instead (tokens come from
`python -m participation create-client`); bearer requests carry no cookie, so they
need no CSRF token. The order of checks is fixed: 401 (who are you) before 403
(CSRF, role, city) before anything about the request body.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from channels.api.deps import ParticipationDep, SettingsDep
from channels.api.storage import call_store
from channels.errors import ApiError, language_from_headers
from channels.schemas import ErrorResponse
from participation.errors import LoginFailedError, LoginRateLimitedError, OutOfScopeError
from participation.types import OperatorView, Principal

SESSION_COOKIE: Final[str] = "civic_operator_session"
CSRF_HEADER: Final[str] = "X-CSRF-Token"
COOKIE_PATH: Final[str] = "/admin"
SAFE_METHODS: Final[frozenset[str]] = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE: Final[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="admin"'}


def request_language(request: Request) -> str:
    """Language of error messages: the caller's Accept-Language, else the default."""
    default: str = request.app.state.settings.default_language
    return language_from_headers(request, default=default)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _principal_of(request: Request, language: str) -> Principal | None:
    participation = request.app.state.participation
    retry = request.app.state.settings.retry_after_seconds
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        found: Principal | None = await call_store(
            language, retry, participation.client_principal, token.strip()
        )
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    session: Principal | None = await call_store(
        language, retry, participation.session_principal, cookie
    )
    return session


async def require_principal(request: Request) -> Principal:
    """401 unless signed in (or a valid client token); 403 on a missing CSRF token."""
    language = request_language(request)
    principal = await _principal_of(request, language)
    if principal is None:
        raise ApiError(401, "admin_unauthorized", language, headers=CHALLENGE)
    if request.method not in SAFE_METHODS and principal.csrf_token is not None:
        given = request.headers.get(CSRF_HEADER, "").encode("utf-8")
        if not secrets.compare_digest(given, principal.csrf_token.encode("utf-8")):
            raise ApiError(403, "csrf_failed", language, message_key="error.forbidden")
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(require_principal)]


def require_role(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: 403 unless the caller holds one of ``roles`` (admins hold all)."""

    async def check(request: Request, principal: PrincipalDep) -> Principal:
        if not principal.has_role(*roles):
            language = request_language(request)
            raise ApiError(403, "role_required", language, message_key="error.forbidden")
        return principal

    return check


def out_of_scope(request: Request, exc: OutOfScopeError) -> ApiError:
    """The 403 for a ticket or proposal of a city, language or topic the caller does not serve."""
    return ApiError(403, "out_of_scope", request_language(request), message_key="error.forbidden")


# --- sign-in and sign-out -----------------------------------------------------------------


class LoginRequest(BaseModel):
    """User name and password of an operator account."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class OperatorOut(BaseModel):
    """An operator account (never its password hash)."""

    username: str
    roles: list[str]
    cities: list[str]
    languages: list[str]
    topics: list[str]
    active: bool


class SessionOut(BaseModel):
    """The signed-in operator and the CSRF token to send in `X-CSRF-Token`."""

    operator: OperatorOut | None
    actor: str
    roles: list[str]
    csrf_token: str | None


def operator_out(view: OperatorView) -> OperatorOut:
    """The API form of an account."""
    return OperatorOut(
        username=view.username,
        roles=list(view.roles),
        cities=list(view.cities),
        languages=list(view.languages),
        topics=list(view.topics),
        active=view.active,
    )


def _secure(request: Request, mode: str) -> bool:
    if mode == "auto":
        return request.url.scheme == "https"
    return mode == "always"


login_router = APIRouter(prefix="/admin/api/auth", tags=["admin"])
session_router = APIRouter(prefix="/auth")


@login_router.post(
    "/login",
    response_model=SessionOut,
    responses={401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    settings: SettingsDep,
    participation: ParticipationDep,
) -> SessionOut:
    """Sign in: a fresh session cookie (any cookie sent along is not reused)."""
    language = request_language(request)
    try:
        grant = await call_store(
            language,
            settings.retry_after_seconds,
            participation.sign_in,
            body.username,
            body.password,
            _client_address(request),
        )
    except LoginRateLimitedError as exc:
        retry = {"Retry-After": str(exc.retry_after_seconds)}
        raise ApiError(
            429,
            "login_rate_limited",
            language,
            headers=retry,
            message_key="error.admin_unauthorized",
        ) from exc
    except LoginFailedError as exc:
        raise ApiError(
            401, "login_failed", language, headers=CHALLENGE, message_key="error.admin_unauthorized"
        ) from exc
    response.set_cookie(
        SESSION_COOKIE,
        grant.token,
        path=COOKIE_PATH,
        httponly=True,
        secure=_secure(request, settings.admin_cookie_secure),
        samesite="strict",
    )
    return SessionOut(
        operator=operator_out(grant.operator),
        actor=f"operator:{grant.operator.username}",
        roles=list(grant.operator.roles),
        csrf_token=grant.csrf_token,
    )


@session_router.get("/me", response_model=SessionOut)
async def me(principal: PrincipalDep) -> SessionOut:
    """Who is signed in, and the CSRF token of this session (for a reloaded page)."""
    return SessionOut(
        operator=None,
        actor=principal.actor,
        roles=sorted(principal.roles),
        csrf_token=principal.csrf_token,
    )


@session_router.post("/logout", status_code=204)
async def logout(
    request: Request, settings: SettingsDep, participation: ParticipationDep
) -> Response:
    """End this session on the server and drop the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        language = request_language(request)
        await call_store(language, settings.retry_after_seconds, participation.sign_out, cookie)
    principal: Principal = request.state.principal
    await call_store(
        request_language(request),
        settings.retry_after_seconds,
        participation.record_action,
        principal.actor,
        "logout",
        None,
    )
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
