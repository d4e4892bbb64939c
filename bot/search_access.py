"""The knowledge search as the custom actions see it: ids and scores, nothing more.

Actions depend on this small protocol rather than on the retriever's own types, so
unit tests can pass a deterministic fake and the retriever can evolve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    """One search result: which record, and how sure the search is (0..1)."""

    record_id: str
    record_type: str
    confidence: float
    snippet: str


class Searcher(Protocol):
    """Hybrid knowledge search restricted to one record type (None: all types)."""

    def __call__(
        self, query: str, language: str, record_type: str | None, limit: int
    ) -> list[Found]:
        """Best matches first."""
        ...


class SearchUnavailableError(Exception):
    """The index is missing or broken; callers fall back to asking the user."""


@lru_cache(maxsize=1)
def get_searcher() -> Searcher:
    """The process-wide searcher over the built index (loaded on first use)."""
    from bot.search_adapter import RetrieverSearcher

    return RetrieverSearcher()
