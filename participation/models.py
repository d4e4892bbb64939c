"""SQLAlchemy models of the participation database (the Alembic migrations mirror them).

Times are stored as timezone-aware UTC: :class:`UtcDateTime` makes SQLite, which has
no time-zone type, behave like PostgreSQL's ``timestamptz`` so both back ends return
the same values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from participation.types import (
    PROPOSAL_STATUSES,
    REMINDER_STATUSES,
    SUBSCRIPTION_KINDS,
    TICKET_STATUSES,
    ProposalStatus,
    ReminderStatus,
    SubjectType,
    SubscriptionKind,
    TicketStatus,
)

# Deterministic constraint names, so migrations can refer to (and drop) them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

USER_ID_LENGTH = 255
CODE_LENGTH = 32
REFERENCE_LENGTH = 24
TOKEN_LENGTH = 64
RECORD_ID_LENGTH = 200
EMAIL_LENGTH = 320
USERNAME_LENGTH = 64
HASH_LENGTH = 255
ADDRESS_LENGTH = 64


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL condition restricting a text column to a vocabulary."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    Naive datetimes are refused on the way in: a naive value is ambiguous, and
    silently treating local time as UTC would shift deadlines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Convert to UTC (naive UTC text on SQLite, aware on PostgreSQL)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass a timezone-aware value")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime whatever the back end stored."""
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base holding the metadata Alembic compares against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ReferenceCounter(Base):
    """Last number handed out per prefix and year (``FP-2026-00042``)."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Proposal(Base):
    """A citizen's proposal, moderated before it is published."""

    __tablename__ = "proposals"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        CheckConstraint(_one_of("status", PROPOSAL_STATUSES), name="status"),
        CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name="rejected_reason"),
        Index(None, "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), index=True)
    channel: Mapped[str] = mapped_column(String(CODE_LENGTH))
    language: Mapped[str] = mapped_column(String(CODE_LENGTH))
    topic: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(RECORD_ID_LENGTH))
    contact: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(TOKEN_LENGTH * 2))
    status: Mapped[ProposalStatus] = mapped_column(String(CODE_LENGTH))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    moderated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Subscription(Base):
    """A user's wish to be reminded about calls of a theme or programme, or city events."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "target"),
        CheckConstraint(_one_of("kind", SUBSCRIPTION_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), unique=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), index=True)
    channel: Mapped[str] = mapped_column(String(CODE_LENGTH))
    language: Mapped[str] = mapped_column(String(CODE_LENGTH))
    kind: Mapped[SubscriptionKind] = mapped_column(String(CODE_LENGTH))
    target: Mapped[str] = mapped_column(String(RECORD_ID_LENGTH))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ReminderRow(Base):
    """One reminder: a subscription, a subject's deadline and an offset in days.

    The unique constraint makes scheduling idempotent; ``status`` moves
    pending -> claimed -> sent | failed, and only the claim that changes a
    pending row may deliver it.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint(
            "subscription_id",
            "subject_type",
            "subject_id",
            "deadline",
            "offset_days",
            name="uq_reminders_subject_offset",
        ),
        CheckConstraint(_one_of("status", REMINDER_STATUSES), name="status"),
        Index(None, "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), index=True)
    channel: Mapped[str] = mapped_column(String(CODE_LENGTH))
    subject_type: Mapped[SubjectType] = mapped_column(String(CODE_LENGTH))
    subject_id: Mapped[str] = mapped_column(String(RECORD_ID_LENGTH))
    deadline: Mapped[dt.date] = mapped_column(Date)
    offset_days: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[ReminderStatus] = mapped_column(String(CODE_LENGTH))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Ticket(Base):
    """A request for a human, routed to a knowledge-base contact."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_one_of("status", TICKET_STATUSES), name="status"),
        Index(None, "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH), unique=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), index=True)
    channel: Mapped[str] = mapped_column(String(CODE_LENGTH))
    language: Mapped[str] = mapped_column(String(CODE_LENGTH))
    topic: Mapped[str | None] = mapped_column(String(RECORD_ID_LENGTH))
    city: Mapped[str | None] = mapped_column(String(RECORD_ID_LENGTH))
    country: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    summary: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(String(RECORD_ID_LENGTH))
    status: Mapped[TicketStatus] = mapped_column(String(CODE_LENGTH))
    reply_by: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The operator who has the conversation (claimed it or had it transferred to them).
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(CODE_LENGTH))


class Question(Base):
    """One user turn for analytics; the text is stored with identifiers masked."""

    __tablename__ = "questions"
    __table_args__ = (Index(None, "language", "answered"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), index=True)
    language: Mapped[str] = mapped_column(String(CODE_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(RECORD_ID_LENGTH))
    confidence: Mapped[float | None] = mapped_column(Float)
    answered: Mapped[bool]
    record_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class Feedback(Base):
    """A thumbs up or down on one answered turn; the last vote wins."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating IN (1, -1)", name="rating"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class Operator(Base):
    """A person who signs in to the dashboard: roles and the places they serve.

    ``cities`` is required for every role but admin (``*`` = every city);
    empty ``languages`` or ``topics`` mean no restriction on that axis.
    """

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    roles: Mapped[list[str]] = mapped_column(JSON)
    cities: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    topics: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool]
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class OperatorSession(Base):
    """A signed-in browser; only the SHA-256 of the cookie value is stored."""

    __tablename__ = "operator_sessions"

    token_hash: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(TOKEN_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class ApiClient(Base):
    """A machine client of the admin API: a named, scoped, revocable token (hashed)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_LENGTH), unique=True)
    scope: Mapped[str] = mapped_column(String(CODE_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """One sign-in attempt, counted by the rate limit (old rows are purged)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH))
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    succeeded: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who did what to which target, and when (kept; never edited)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(USERNAME_LENGTH + CODE_LENGTH))
    action: Mapped[str] = mapped_column(String(CODE_LENGTH * 2))
    target: Mapped[str | None] = mapped_column(String(RECORD_ID_LENGTH))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class TicketMessage(Base):
    """One message of a handed-over conversation: the user's or an operator's."""

    __tablename__ = "ticket_messages"
    __table_args__ = (CheckConstraint("author IN ('user', 'operator')", name="author"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(CODE_LENGTH))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
