"""Adapts the knowledge retriever to the actions' `Searcher` protocol.

The retriever's fused score has no absolute scale (reciprocal rank fusion gives
1/(k + rank) per method). The actions need to know whether to trust a hit, so the
adapter turns the score into a confidence: the fused score divided by the best
possible one, i.e. 1.0 for a record both BM25 and the embeddings rank first, about
0.5 for one that only one method found. "Both methods agree" is what makes a
fallback answer safe to show.
"""

from __future__ import annotations

import logging

from bot.search_access import Found, SearchUnavailableError
from knowledge.filters import SearchFilters
from knowledge.search import ReloadingRetriever, get_retriever
from knowledge.search_errors import IndexUnavailableError, SearchError
from knowledge.settings import KnowledgeSettings, get_settings

logger = logging.getLogger(__name__)


def best_possible_score(settings: KnowledgeSettings) -> float:
    """The fused score of a record ranked first by every method."""
    if settings.fusion == "convex":
        return 1.0
    return 2.0 / (settings.rrf_k + 1)


class RetrieverSearcher:
    """Searches the built index; raises SearchUnavailableError when there is none."""

    def __init__(
        self,
        retriever: ReloadingRetriever | None = None,
        settings: KnowledgeSettings | None = None,
    ) -> None:
        """Use the given retriever (tests), else the process-wide one from settings."""
        self._settings = settings or get_settings()
        self._retriever = retriever or get_retriever(self._settings)

    def warm_up(self) -> None:
        """Load the newest index and its embedding model now (raises what loading raises)."""
        self._retriever.warm_up()

    def __call__(
        self, query: str, language: str, record_type: str | None, limit: int
    ) -> list[Found]:
        """Best matches first, each with a 0..1 confidence."""
        filters = SearchFilters.parse(type=record_type) if record_type else None
        try:
            result = self._retriever.search(query, lang=language, filters=filters, limit=limit)
        except IndexUnavailableError as exc:
            raise SearchUnavailableError(str(exc)) from exc
        except SearchError as exc:  # empty or over-long text: nothing to find
            logger.info("search refused the query: %s", exc)
            return []
        best = best_possible_score(self._settings)
        return [
            Found(hit.id, hit.type, min(1.0, hit.score / best), hit.snippet) for hit in result.hits
        ]
