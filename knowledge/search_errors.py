"""Errors of the search service, each with a stable code and the values to explain it.

The codes double as message keys of the API (``error.<code>`` in
``channels/i18n/*.json``), so the HTTP layer and the Rasa actions can show a
translated message without parsing exception text. ``str(error)`` is an
English sentence for logs and the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Final

BUILD_COMMAND: Final[str] = "python -m indexer build"
"""What to run when the index is missing or unusable (shown in errors)."""


class SearchError(Exception):
    """Base class: a request the search service cannot answer."""

    code: ClassVar[str] = "search_failed"

    def __init__(self, message: str, **values: object) -> None:
        """Keep an English message for logs and the values for translations."""
        super().__init__(message)
        self.values: dict[str, object] = values


class QueryEmptyError(SearchError):
    """The query has no text (only whitespace)."""

    code = "query_empty"

    def __init__(self) -> None:
        """No values: the message says it all."""
        super().__init__("the query is empty")


class QueryTooLongError(SearchError):
    """The query is longer than the configured limit."""

    code = "query_too_long"

    def __init__(self, length: int, limit: int) -> None:
        """Record both numbers so the message can state them."""
        super().__init__(
            f"the query has {length} characters; the limit is {limit}", length=length, limit=limit
        )


class UnknownFilterError(SearchError):
    """A filter value outside its vocabulary (a typo, or an unsupported value)."""

    code = "unknown_filter"

    def __init__(self, name: str, value: str, allowed: list[str]) -> None:
        """Name the filter, the bad value and the values that would work."""
        shown = ", ".join(allowed)
        super().__init__(
            f"unknown {name} {value!r}; use one of: {shown}",
            name=name,
            value=value,
            allowed=shown,
        )


class UnsupportedLanguageError(SearchError):
    """The requested language is not one of the 24 official EU languages."""

    code = "unsupported_language"

    def __init__(self, requested: str, supported: list[str]) -> None:
        """Name the language and the supported ones."""
        shown = ", ".join(supported)
        super().__init__(
            f"language {requested!r} is not supported; use one of: {shown}",
            requested=requested,
            supported=shown,
        )


class IndexUnavailableError(SearchError):
    """The index cannot be used; rebuilding it is the fix."""

    code = "index_invalid"

    def __init__(self, message: str) -> None:
        """Keep the reason for logs; users see the command to run."""
        super().__init__(f"{message}; rebuild it with: {BUILD_COMMAND}", command=BUILD_COMMAND)


class IndexMissingError(IndexUnavailableError):
    """Nothing was published in the index directory."""

    code = "index_missing"

    def __init__(self, index_dir: Path) -> None:
        """Say where the index was expected."""
        self.index_dir = index_dir
        super().__init__(f"no search index in {index_dir}")


class IndexCorruptError(IndexUnavailableError):
    """A build directory is unreadable or inconsistent."""


class ModelMismatchError(IndexUnavailableError):
    """The index was built with another embedding model than the one configured."""

    def __init__(self, index_model: str, query_model: str) -> None:
        """Name both models."""
        super().__init__(
            f"the index was built with {index_model!r} but queries would be embedded "
            f"with {query_model!r}"
        )
