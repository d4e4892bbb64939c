"""Operator accounts, sign-in sessions, machine clients and the sign-in rate limit.

Passwords are hashed with Argon2id (argon2-cffi, RFC 9106 low-memory profile);
session cookies and client tokens are 256-bit random values of which only the
SHA-256 is stored, so a copy of the database lets nobody sign in. An unknown user
name costs the same hash verification as a wrong password, so response times do
not reveal which accounts exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from participation.audit import AuditMixin
from participation.errors import (
    InvalidInputError,
    LoginFailedError,
    LoginRateLimitedError,
    NotFoundError,
)
from participation.models import ApiClient, LoginAttempt, Operator, OperatorSession
from participation.types import (
    ANY_CITY,
    CLIENT_SCOPES,
    ROLES,
    OperatorView,
    Principal,
    SessionGrant,
)

logger = logging.getLogger(__name__)

USERNAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
TOKEN_BYTES: Final[int] = 32
MAX_ADDRESS_CHARS: Final[int] = 64


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when the user does not exist (equal timing)."""
    return hasher.hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    """SHA-256 hex of a session or client token (high entropy: no salt or KDF needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _names(field: str, values: Iterable[str], allowed: tuple[str, ...] | None = None) -> list[str]:
    """Stripped, case-folded, de-duplicated values; InvalidInputError for unknown ones."""
    found = sorted({value.strip().casefold() for value in values if value.strip()})
    if allowed is not None and any(value not in allowed for value in found):
        raise InvalidInputError(field, f"use {', '.join(allowed)}")
    return found


def _operator_view(row: Operator) -> OperatorView:
    return OperatorView(
        id=row.id,
        username=row.username,
        roles=tuple(row.roles),
        cities=tuple(row.cities),
        languages=tuple(row.languages),
        topics=tuple(row.topics),
        active=row.active,
        created_at=row.created_at,
    )


def operator_principal(row: Operator, csrf_token: str | None = None) -> Principal:
    """The request identity of a signed-in operator."""
    return Principal(
        actor=f"operator:{row.username}",
        roles=frozenset(row.roles),
        cities=frozenset(row.cities),
        languages=frozenset(row.languages),
        topics=frozenset(row.topics),
        operator_id=row.id,
        csrf_token=csrf_token,
    )


class AccountsMixin(AuditMixin):
    """Operators, their sessions and the machine clients of the admin API."""

    def _hasher(self) -> PasswordHasher:
        settings = self._settings
        return _hasher_for(
            settings.password_time_cost, settings.password_memory_kib, settings.password_parallelism
        )

    # --- accounts ------------------------------------------------------------------------

    def _check_password(self, password: str) -> None:
        if len(password) < self._settings.password_min_chars:
            raise InvalidInputError("password", f"at least {self._settings.password_min_chars}")

    def _scope_fields(
        self, roles: Iterable[str], cities: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        role_list = _names("roles", roles, ROLES)
        if not role_list:
            raise InvalidInputError("roles", "at least one role")
        city_list = _names("cities", cities)
        if not city_list and "admin" not in role_list:
            raise InvalidInputError("cities", f"at least one city, or {ANY_CITY}")
        return role_list, city_list

    def create_operator(
        self,
        *,
        username: str,
        password: str,
        roles: Iterable[str],
        cities: Iterable[str] = (),
        languages: Iterable[str] = (),
        topics: Iterable[str] = (),
    ) -> OperatorView:
        """Create an account.

        Raises:
            InvalidInputError: Bad user name (taken or malformed), short password, unknown
                role, or a non-admin without cities.
        """
        name = username.strip().casefold()
        if not USERNAME_PATTERN.fullmatch(name):
            raise InvalidInputError("username", "2-64 of a-z 0-9 . _ @ -")
        self._check_password(password)
        role_list, city_list = self._scope_fields(roles, cities)
        password_hash = self._hasher().hash(password)
        with self._write() as session:
            if session.scalars(select(Operator.id).where(Operator.username == name)).first():
                raise InvalidInputError("username", "taken")
            row = Operator(
                username=name,
                password_hash=password_hash,
                roles=role_list,
                cities=city_list,
                languages=_names("languages", languages),
                topics=_names("topics", topics),
                active=True,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            return _operator_view(row)

    def _operator_row(self, session: Session, username: str) -> Operator:
        row = session.scalars(
            select(Operator).where(Operator.username == username.strip().casefold())
        ).one_or_none()
        if row is None:
            raise NotFoundError("operator", username)
        return row

    def update_operator(
        self,
        username: str,
        *,
        roles: Iterable[str] | None = None,
        cities: Iterable[str] | None = None,
        languages: Iterable[str] | None = None,
        topics: Iterable[str] | None = None,
        active: bool | None = None,
    ) -> OperatorView:
        """Change what an operator may do; deactivating ends their sessions.

        Raises:
            NotFoundError: No such operator.
            InvalidInputError: Unknown role, or a non-admin left without cities.
        """
        with self._write() as session:
            row = self._operator_row(session, username)
            role_list, city_list = self._scope_fields(
                row.roles if roles is None else roles, row.cities if cities is None else cities
            )
            row.roles, row.cities = role_list, city_list
            if languages is not None:
                row.languages = _names("languages", languages)
            if topics is not None:
                row.topics = _names("topics", topics)
            if active is not None:
                row.active = active
            if active is False or roles is not None:
                self._end_sessions(session, row.id)
            session.flush()
            return _operator_view(row)

    def set_password(self, username: str, password: str) -> None:
        """Replace a password and end every session of that operator.

        Raises:
            NotFoundError: No such operator.
            InvalidInputError: The password is too short.
        """
        self._check_password(password)
        password_hash = self._hasher().hash(password)
        with self._write() as session:
            row = self._operator_row(session, username)
            row.password_hash = password_hash
            self._end_sessions(session, row.id)

    @staticmethod
    def _end_sessions(session: Session, operator_id: int) -> None:
        session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator_id))

    def list_operators(self) -> list[OperatorView]:
        """Every account, by user name."""
        with self._read() as session:
            rows = session.scalars(select(Operator).order_by(Operator.username))
            return [_operator_view(row) for row in rows]

    def operator_by_name(self, username: str) -> OperatorView:
        """One account. Raises NotFoundError."""
        with self._read() as session:
            return _operator_view(self._operator_row(session, username))

    # --- sign-in -------------------------------------------------------------------------

    def _retry_after(self, session: Session, name: str, address: str, now: dt.datetime) -> int:
        """Seconds until the next attempt is allowed (0 = allowed now)."""
        window = dt.timedelta(seconds=self._settings.login_window_seconds)
        since = now - window
        limits = (
            (LoginAttempt.username == name, self._settings.login_max_failures),
            (LoginAttempt.address == address, self._settings.login_max_failures_per_address),
        )
        for condition, limit in limits:
            failures = session.execute(
                select(func.count(), func.min(LoginAttempt.at)).where(
                    condition, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
                )
            ).one()
            if failures[0] >= limit:
                oldest: dt.datetime = failures[1]
                return max(1, int((oldest.astimezone(dt.UTC) + window - now).total_seconds()))
        return 0

    def sign_in(self, username: str, password: str, address: str) -> SessionGrant:
        """Check a password and open a new session (never reusing a presented one).

        Raises:
            LoginRateLimitedError: Too many recent failures for this name or address.
            LoginFailedError: Unknown user, wrong password or disabled account.
        """
        name = username.strip().casefold()[:64]
        address = address[:MAX_ADDRESS_CHARS]
        now = self._now()
        with self._write() as session:
            retry = self._retry_after(session, name, address, now)
            if retry:
                raise LoginRateLimitedError(retry)
            row = session.scalars(select(Operator).where(Operator.username == name)).one_or_none()
            ok = self._verify(row, password)
            # Attempts matter only inside the window: older ones (and their addresses) go.
            window = dt.timedelta(seconds=self._settings.login_window_seconds)
            session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - window))
            session.add(LoginAttempt(username=name, address=address, succeeded=ok, at=now))
            grant: SessionGrant | None = None
            if ok and row is not None:
                grant = self._open_session(session, row, now)
                self._audit(session, f"operator:{name}", "login", None, {"address": address})
            else:
                self._audit(session, f"login:{name}", "login_failed", None, {"address": address})
        if grant is None:
            raise LoginFailedError(name)
        return grant

    def _verify(self, row: Operator | None, password: str) -> bool:
        hasher = self._hasher()
        stored = row.password_hash if row is not None else _dummy_hash(hasher)
        try:
            hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        if row is None or not row.active:
            return False
        if hasher.check_needs_rehash(stored):
            row.password_hash = hasher.hash(password)
        return True

    def _open_session(self, session: Session, row: Operator, now: dt.datetime) -> SessionGrant:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        csrf = secrets.token_urlsafe(TOKEN_BYTES)
        expires = now + dt.timedelta(hours=self._settings.session_max_hours)
        session.add(
            OperatorSession(
                token_hash=hash_token(token),
                operator_id=row.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
        session.execute(delete(OperatorSession).where(OperatorSession.expires_at < now))
        return SessionGrant(
            token=token, csrf_token=csrf, expires_at=expires, operator=_operator_view(row)
        )

    def session_principal(self, token: str) -> Principal | None:
        """The operator of a session cookie, or None when unknown, idle too long or expired."""
        now = self._now()
        idle = dt.timedelta(minutes=self._settings.session_idle_minutes)
        with self._write() as session:
            found = session.execute(
                select(OperatorSession, Operator)
                .join(Operator, Operator.id == OperatorSession.operator_id)
                .where(OperatorSession.token_hash == hash_token(token))
            ).one_or_none()
            if found is None:
                return None
            record, operator = found
            if not operator.active or record.expires_at <= now or record.last_seen_at + idle <= now:
                session.delete(record)
                return None
            record.last_seen_at = now
            return operator_principal(operator, record.csrf_token)

    def sign_out(self, token: str) -> bool:
        """End a session; True when there was one."""
        with self._write() as session:
            result = session.execute(
                delete(OperatorSession).where(OperatorSession.token_hash == hash_token(token))
            )
            return bool(result.rowcount)

    # --- machine clients -----------------------------------------------------------------

    def create_client(self, name: str, scope: str) -> str:
        """Register a machine client; returns its token (shown once, stored hashed).

        Raises:
            InvalidInputError: Malformed or taken name, unknown scope.
        """
        client = name.strip().casefold()
        if not USERNAME_PATTERN.fullmatch(client):
            raise InvalidInputError("name", "2-64 of a-z 0-9 . _ @ -")
        if scope not in CLIENT_SCOPES:
            raise InvalidInputError("scope", f"use {', '.join(CLIENT_SCOPES)}")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._write() as session:
            if session.scalars(select(ApiClient.id).where(ApiClient.name == client)).first():
                raise InvalidInputError("name", "taken")
            session.add(
                ApiClient(
                    name=client, token_hash=hash_token(token), scope=scope, created_at=self._now()
                )
            )
        return token

    def revoke_client(self, name: str) -> None:
        """Stop accepting a client's token. Raises NotFoundError."""
        with self._write() as session:
            row = session.scalars(
                select(ApiClient).where(ApiClient.name == name.strip().casefold())
            ).one_or_none()
            if row is None:
                raise NotFoundError("client", name)
            row.revoked_at = row.revoked_at or self._now()

    def client_principal(self, token: str) -> Principal | None:
        """The machine client of a bearer token, or None (unknown or revoked)."""
        with self._read() as session:
            row = session.scalars(
                select(ApiClient).where(ApiClient.token_hash == hash_token(token))
            ).one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            return Principal(
                actor=f"client:{row.name}",
                roles=frozenset({row.scope}),
                cities=frozenset({ANY_CITY}),
                languages=frozenset(),
                topics=frozenset(),
            )
