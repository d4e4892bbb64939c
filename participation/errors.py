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
