"""Adapts the knowledge retriever to the actions' `Searcher` protocol.

The retriever's fused score only ranks: each method's best hit is rescaled to the
top, so the best of a few weak matches looks as good as a real answer. The actions
need to know whether to trust a hit, so the adapter turns each hit's absolute
evidence (raw BM25 against what the query could score, raw cosine, its lead over
the next record) into a calibrated probability with the fitted logistic model of
the index's embedding model (bot settings). ``confidence >= fallback_min_confidence``
means answer; below it the bot says it does not know and offers a person.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.search_access import Found, SearchUnavailableError
from bot.settings import BotSettings
from bot.settings import get_settings as get_bot_settings
from knowledge.filters import SearchFilters
from knowledge.fusion import calibrated_probability
from knowledge.search import Evidence, ReloadingRetriever, get_retriever
from knowledge.search_errors import IndexUnavailableError, SearchError
from knowledge.settings import KnowledgeSettings, get_settings

logger = logging.getLogger(__name__)

LEXICAL_ONLY = "lexical"
"""Coefficients used for an embedding model that has none of its own."""


def coefficients_for(model: str, table: Mapping[str, Sequence[float]]) -> Sequence[float]:
    """The fitted coefficients of an index's model, else the BM25-only ones."""
    return table.get(model) or table[LEXICAL_ONLY]


def confidence(
    evidence: Evidence | None, coefficients: Sequence[float], dense_only_cap: float = 1.0
) -> float:
    """Calibrated probability that answering with the hit is useful (0 without evidence).

    A hit that shares no word with the query (lexical evidence exactly 0 in hybrid mode)
    rests on the cosine alone, which is high even for letters that form no word: it is
    capped, so only a recognised question (not a fallback) can be answered from it.
    """
    if evidence is None:
        return 0.0
    probability = calibrated_probability(evidence.features(), coefficients)
    if evidence.lexical == 0.0:
        return min(probability, dense_only_cap)
    return probability


class RetrieverSearcher:
    """Searches the built index; raises SearchUnavailableError when there is none."""

    def __init__(
        self,
        retriever: ReloadingRetriever | None = None,
        settings: KnowledgeSettings | None = None,
        bot_settings: BotSettings | None = None,
    ) -> None:
        """Use the given retriever (tests), else the process-wide one from settings."""
        self._settings = settings or get_settings()
        self._retriever = retriever or get_retriever(self._settings)
        self._bot_settings = bot_settings or get_bot_settings()

    def warm_up(self) -> None:
        """Load the newest index and its embedding model now (raises what loading raises)."""
        self._retriever.warm_up()

    def __call__(
        self, query: str, language: str, record_type: str | None, limit: int
    ) -> list[Found]:
        """Best matches first, each with its calibrated 0..1 confidence."""
        filters = SearchFilters.parse(type=record_type) if record_type else None
        try:
            result = self._retriever.search(query, lang=language, filters=filters, limit=limit)
        except IndexUnavailableError as exc:
            raise SearchUnavailableError(str(exc)) from exc
        except SearchError as exc:  # empty or over-long text: nothing to find
            logger.info("search refused the query: %s", exc)
            return []
        table = self._bot_settings.confidence_coefficients
        coefficients = coefficients_for(result.model, table)
        cap = self._bot_settings.dense_only_max_confidence
        return [
            Found(hit.id, hit.type, confidence(hit.evidence, coefficients, cap), hit.snippet)
            for hit in result.hits
        ]
