"""'How did other cities run participatory budgeting?': matching best practices."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import parsing, presenters
from bot.kb_access import knowledge_base
from bot.search_access import Searcher, SearchUnavailableError, get_searcher
from bot.turn_info import report_answered, report_unanswered
from knowledge.base import KnowledgeBase
from knowledge.schema import Practice

logger = logging.getLogger(__name__)

MAX_PRACTICES = 3


def by_theme(practices: list[Practice], themes: list[str], country: str | None) -> list[Practice]:
    """Practices sharing the most themes, the user's country first (no search needed)."""

    def rank(practice: Practice) -> tuple[int, int, str]:
        shared = len(set(themes) & set(practice.themes))
        return (-shared, country != practice.country, practice.id)

    return sorted((p for p in practices if set(themes) & set(p.themes)), key=rank)


class ActionBestPractices(Action):
    """Up to three practices found by search, else by theme, with outcome and funding."""

    def __init__(self, kb: KnowledgeBase | None = None, searcher: Searcher | None = None) -> None:
        """Use the given knowledge base and searcher (tests), else the shared ones."""
        self._kb = kb
        self._searcher = searcher

    def name(self) -> str:
        """Action name in the domain."""
        return "action_best_practices"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the practices, or say there is none."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        text = tracker.latest_message.get("text") or ""
        practices = await self._found(kb, text, language)
        if not practices:
            themes = parsing.themes().find_all(text) or list(tracker.get_slot("themes") or [])
            country = parsing.countries().find(text)
            practices = by_theme(list(kb.practices.values()), themes, country)
        if not practices:
            dispatcher.utter_message(response="utter_practices_none")
            report_unanswered(dispatcher, tracker)
            return []
        dispatcher.utter_message(response="utter_practices_intro")
        shown = practices[:MAX_PRACTICES]
        for practice in shown:
            values = presenters.practice_values(practice, kb.programmes, language, domain)
            dispatcher.utter_message(
                response="utter_practice_item",
                json_message={
                    "links": [{"title": values["title"], "url": values["url"]}],
                    "records": [practice.id],
                },
                **values,
            )
        report_answered(dispatcher, tracker, [practice.id for practice in shown])
        return []

    async def _found(self, kb: KnowledgeBase, text: str, language: str) -> list[Practice]:
        if not text or text.startswith("/"):
            return []
        searcher = self._searcher or get_searcher()
        try:
            hits = await asyncio.to_thread(searcher, text, language, "practice", MAX_PRACTICES)
        except SearchUnavailableError as exc:
            logger.warning("search unavailable, using themes: %s", exc)
            return []
        return [kb.practices[h.record_id] for h in hits if h.record_id in kb.practices]
