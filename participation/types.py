"""Results of the participation services: frozen dataclasses, safe to pass between threads.

Callers render them (response templates, JSON); nothing here is user-facing text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias, get_args

ProposalStatus: TypeAlias = Literal["pending", "published", "rejected"]
SubscriptionKind: TypeAlias = Literal["calls_theme", "calls_programme", "events_city"]
SubjectType: TypeAlias = Literal["call", "event"]
ReminderStatus: TypeAlias = Literal["pending", "claimed", "sent", "failed"]
TicketStatus: TypeAlias = Literal["open", "closed"]
TableName: TypeAlias = Literal["proposals", "tickets", "subscriptions", "questions", "feedback"]
Role: TypeAlias = Literal["admin", "operator", "moderator", "editor"]
ClientScope: TypeAlias = Literal["reports", "admin"]
TicketOutcome: TypeAlias = Literal[
    "answered", "referred", "no_reply", "spam", "other", "returned_to_bot"
]
Rating: TypeAlias = Literal[1, -1]

PROPOSAL_STATUSES: Final[tuple[str, ...]] = get_args(ProposalStatus)
SUBSCRIPTION_KINDS: Final[tuple[str, ...]] = get_args(SubscriptionKind)
REMINDER_STATUSES: Final[tuple[str, ...]] = get_args(ReminderStatus)
TICKET_STATUSES: Final[tuple[str, ...]] = get_args(TicketStatus)
TABLE_NAMES: Final[tuple[str, ...]] = get_args(TableName)
ROLES: Final[tuple[str, ...]] = get_args(Role)
CLIENT_SCOPES: Final[tuple[str, ...]] = get_args(ClientScope)
TICKET_OUTCOMES: Final[tuple[str, ...]] = get_args(TicketOutcome)
ANY_CITY: Final[str] = "*"


def channel_of(user_id: str) -> str:
    """Channel of a namespaced sender id (``telegram:42`` -> ``telegram``).

    Ids without a namespace belong to the ``api`` channel, as the gateway's default.
    """
    channel, separator, _ = user_id.partition(":")
    return channel if separator and channel else "api"


@dataclass(frozen=True)
class ProposalReceipt:
    """What the citizen gets back after submitting a proposal."""

    reference: str
    status: ProposalStatus
    created: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class ProposalView:
    """A proposal as its author or a moderator sees it."""

    reference: str
    status: ProposalStatus
    topic: str
    text: str
    language: str
    city: str | None
    reason: str | None
    created_at: dt.datetime
    moderated_at: dt.datetime | None


@dataclass(frozen=True)
class SubscriptionReceipt:
    """Result of subscribing: the one-tap unsubscribe token and the reminders planned."""

    token: str
    kind: SubscriptionKind
    target: str
    created: bool
    reminders_scheduled: int


@dataclass(frozen=True)
class SubscriptionView:
    """One active subscription of a user."""

    token: str
    kind: SubscriptionKind
    target: str
    language: str
    email: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Reminder:
    """One reminder to deliver: who, about what, and how many days are left.

    ``titles`` maps language codes to the subject's title (English always present
    when the subject is still in the knowledge base); ``title(lang)`` picks one.
    """

    id: int
    user_id: str
    channel: str
    language: str
    email: str | None
    subscription_kind: SubscriptionKind
    subscription_target: str
    subject_type: SubjectType
    subject_id: str
    titles: Mapping[str, str]
    url: str | None
    deadline: dt.date
    offset_days: int
    days_left: int
    due_at: dt.datetime
    unsubscribe_token: str

    def title(self, language: str | None = None) -> str:
        """Title in ``language`` (default: the subscriber's), else English, else the id."""
        lang = language or self.language
        return self.titles.get(lang) or self.titles.get("en") or self.subject_id


@dataclass(frozen=True)
class TicketReceipt:
    """A handoff ticket and the contact it was routed to."""

    reference: str
    status: TicketStatus
    contact_id: str | None
    contact_name: str | None
    contact_email: str | None
    contact_url: str | None
    office_hours: str | None
    reply_by: dt.datetime
    created_at: dt.datetime


@dataclass(frozen=True)
class TicketView:
    """A ticket as staff see it."""

    reference: str
    status: TicketStatus
    user_id: str
    language: str
    topic: str | None
    city: str | None
    country: str | None
    summary: str
    contact_id: str | None
    reply_by: dt.datetime
    created_at: dt.datetime
    closed_at: dt.datetime | None
    channel: str = "api"
    assignee: str | None = None
    claimed_at: dt.datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class TicketMessageView:
    """One message of a handed-over conversation (the user's text is masked)."""

    id: int
    author: str
    operator: str | None
    text: str
    created_at: dt.datetime
    ticket: str | None = None


@dataclass(frozen=True)
class OperatorView:
    """An operator account as admins see it (never the password hash)."""

    id: int
    username: str
    roles: tuple[str, ...]
    cities: tuple[str, ...]
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a signed-in operator or a machine client, and what they serve.

    ``actor`` names them in the audit log (``operator:ana``, ``client:nightly-export``).
    """

    actor: str
    roles: frozenset[str]
    cities: frozenset[str]
    languages: frozenset[str]
    topics: frozenset[str]
    operator_id: int | None = None
    csrf_token: str | None = None

    def has_role(self, *roles: str) -> bool:
        """Whether any of ``roles`` is granted (admins hold every role)."""
        return "admin" in self.roles or any(role in self.roles for role in roles)

    def serves(self, city: str | None, language: str | None, topic: str | None) -> bool:
        """Whether a conversation or proposal of this city, language and topic is theirs."""
        if "admin" in self.roles:
            return True
        city_ok = ANY_CITY in self.cities or (
            city is not None and city.strip().casefold() in self.cities
        )
        language_ok = not self.languages or (language or "") in self.languages
        topic_ok = not self.topics or topic is None or topic in self.topics
        return city_ok and language_ok and topic_ok


@dataclass(frozen=True)
class SessionGrant:
    """A new sign-in: the cookie value (shown once, stored hashed) and its CSRF token."""

    token: str
    csrf_token: str
    expires_at: dt.datetime
    operator: OperatorView


@dataclass(frozen=True)
class AuditView:
    """One entry of the audit log."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    detail: Mapping[str, object]


@dataclass(frozen=True)
class DailyCount:
    """Questions asked on one day in one language."""

    day: dt.date
    language: str
    questions: int
    unanswered: int


@dataclass(frozen=True)
class Stats:
    """Figures for the admin dashboard over the last ``days`` days."""

    days: int
    questions_per_day: tuple[DailyCount, ...]
    subscriptions: int
    subscriptions_by_kind: Mapping[str, int]
    proposals_by_status: Mapping[str, int]
    open_tickets: int
    feedback_up: int
    feedback_down: int


@dataclass(frozen=True)
class UnansweredQuestion:
    """A (masked) question the assistant could not answer, and how often it came."""

    language: str
    text: str
    count: int
    last_asked: dt.datetime


@dataclass(frozen=True)
class RatedRecord:
    """A knowledge-base record with the votes on the answers that cited it."""

    language: str
    record_id: str
    up: int
    down: int

    @property
    def score(self) -> int:
        """Net votes, lowest first in the content-gap report."""
        return self.up - self.down


@dataclass(frozen=True)
class ContentGaps:
    """What the knowledge base is missing, per language, for editors."""

    unanswered: tuple[UnansweredQuestion, ...] = field(default_factory=tuple)
    low_rated: tuple[RatedRecord, ...] = field(default_factory=tuple)


CsvValue: TypeAlias = str | int | float | bool | None
TableRows: TypeAlias = tuple[tuple[str, ...], list[tuple[CsvValue, ...]]]
"""Header and rows of a table export; values are CSV-ready (datetimes as ISO text)."""
