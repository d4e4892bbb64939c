"""Errors of the participation services, each with a stable machine-readable code.

Callers (actions, API routes) map ``code`` to a localized response; no message here
is shown to users.
"""

from __future__ import annotations

from typing import ClassVar


class ParticipationError(Exception):
    """Base of every error the participation services raise on purpose."""

    code: ClassVar[str] = "participation_error"


class ProposalTooLongError(ParticipationError):
    """The proposal text is longer than ``proposal_max_chars``."""

    code: ClassVar[str] = "proposal_too_long"

    def __init__(self, limit: int, length: int) -> None:
        super().__init__(f"proposal has {length} characters; the limit is {limit}")
        self.limit = limit
        self.length = length


class InvalidInputError(ParticipationError):
    """A required field is empty or a value is not allowed."""

    code: ClassVar[str] = "invalid_input"

    def __init__(self, field: str, detail: str | None = None) -> None:
        super().__init__(f"invalid value for {field}" + (f": {detail}" if detail else ""))
        self.field = field
        self.detail = detail


class UnknownTargetError(ParticipationError):
    """A subscription target is not in the knowledge base; suggestions may help."""

    code: ClassVar[str] = "unknown_target"

    def __init__(self, kind: str, target: str, suggestions: tuple[str, ...] = ()) -> None:
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"unknown {kind} target {target!r}{hint}")
        self.kind = kind
        self.target = target
        self.suggestions = suggestions


class NotFoundError(ParticipationError):
    """The proposal, ticket, turn or reminder does not exist (for this user)."""

    code: ClassVar[str] = "not_found"

    def __init__(self, what: str, key: str | int) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


class DatabaseBusyError(ParticipationError):
    """Another writer held the database past the busy timeout; nothing was written.

    Callers tell the user to try again in a moment.
    """

    code: ClassVar[str] = "database_busy"


class LoginFailedError(ParticipationError):
    """Unknown user, wrong password or a disabled account (deliberately not told apart)."""

    code: ClassVar[str] = "login_failed"


class LoginRateLimitedError(ParticipationError):
    """Too many failed sign-ins for this user or address; try again later."""

    code: ClassVar[str] = "login_rate_limited"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many failed sign-ins; retry in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class ConflictError(ParticipationError):
    """The ticket is in a state that forbids the change (closed, claimed by someone else)."""

    code: ClassVar[str] = "conflict"

    def __init__(self, what: str, state: str) -> None:
        super().__init__(f"{what} is {state}")
        self.what = what
        self.state = state


class OutOfScopeError(ParticipationError):
    """The ticket or proposal belongs to a city, language or topic the caller does not serve."""

    code: ClassVar[str] = "out_of_scope"

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key!r} is not in the caller's cities, languages or topics")
        self.what = what
        self.key = key
