"""Low NLU confidence: search the knowledge base, then clarify, then offer a person.

Never silent and never invented: a confident search hit is shown with its source;
a weak one leads to a clarifying question with buttons; if the user already got
that question, the next step is the offer of a human contact.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.kb_access import knowledge_base
from bot.search_access import Found, Searcher, SearchUnavailableError, get_searcher
from bot.settings import get_settings
from bot.turn_info import report_answered, report_unanswered
from knowledge.base import KnowledgeBase

logger = logging.getLogger(__name__)

MAX_HITS = 3


def previous_turn_was_fallback(tracker: Tracker) -> bool:
    """Whether the user's previous message also fell back (so we already clarified)."""
    user_events = [e for e in tracker.events if e.get("event") == "user"]
    if len(user_events) < 2:
        return False
    intent = (user_events[-2].get("parse_data") or {}).get("intent") or {}
    return intent.get("name") == "nlu_fallback"


class ActionKnowledgeFallback(Action):
    """Fallback chain: search -> clarify -> human contact."""

    def __init__(self, kb: KnowledgeBase | None = None, searcher: Searcher | None = None) -> None:
        """Use the given knowledge base and searcher (tests), else the shared ones."""
        self._kb = kb
        self._searcher = searcher

    def name(self) -> str:
        """Action name in the domain."""
        return "action_knowledge_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer from the records when sure, otherwise ask or hand over."""
        language = tracker.get_slot("language") or "en"
        text = tracker.latest_message.get("text") or ""
        hits = await self._search(text, language)
        threshold = get_settings().fallback_min_confidence
        confident = [h for h in hits if h.confidence >= threshold]
        if confident:
            kb = await knowledge_base(self._kb)
            shown = self._utter_hits(dispatcher, kb, confident, language)
            report_answered(dispatcher, tracker, shown)
            return []
        if previous_turn_was_fallback(tracker):
            dispatcher.utter_message(response="utter_handoff_offer")
        else:
            dispatcher.utter_message(response="utter_clarify")
        report_unanswered(dispatcher, tracker)
        return []

    async def _search(self, text: str, language: str) -> list[Found]:
        if not text.strip() or text.startswith("/"):
            return []
        searcher = self._searcher or get_searcher()
        try:
            return await asyncio.to_thread(searcher, text, language, None, MAX_HITS)
        except SearchUnavailableError as exc:
            logger.warning("search unavailable: %s", exc)
            return []

    @staticmethod
    def _utter_hits(
        dispatcher: CollectingDispatcher, kb: KnowledgeBase, hits: list[Found], language: str
    ) -> list[str]:
        """Utter the hits that are still in the knowledge base; return their ids."""
        dispatcher.utter_message(response="utter_search_intro")
        shown: list[str] = []
        for hit in hits:
            record = kb.get(hit.record_id)
            if record is None:
                continue
            shown.append(hit.record_id)
            title_text = getattr(record, "title", None)
            title = title_text.get(language)[0] if title_text else hit.record_id
            url = str(getattr(record, "url", "") or "")
            dispatcher.utter_message(
                response="utter_search_hit",
                title=title,
                snippet=hit.snippet,
                url=url,
                json_message={
                    "links": [{"title": title, "url": url}] if url else [],
                    "records": [hit.record_id],
                },
            )
        return shown
