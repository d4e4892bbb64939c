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


def warm_up_searcher() -> bool:
    """Load the index and the embedding model now, so no user's turn waits for them.

    The first question that needs dense retrieval would otherwise load the model
    (seconds). Runs in a background thread of the action server; a missing or broken
    index is logged, not raised: the actions then fall back as they always do.
    Returns whether the search is ready.
    """
    from bot.search_adapter import RetrieverSearcher

    searcher = get_searcher()
    if not isinstance(searcher, RetrieverSearcher):
        return False
    try:
        searcher.warm_up()
    except Exception:  # the server keeps serving; searches report the problem themselves
        logger.exception("Search warm-up failed; the first search will try again")
        return False
    logger.info("Search index and embedding model loaded")
    return True
