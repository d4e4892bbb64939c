"""Funding finder result: ranked programmes for the collected answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import finder_cards
from bot.kb_access import knowledge_base, today
from bot.rendering import render
from bot.turn_info import report_answered, report_unanswered
from knowledge.base import KnowledgeBase
from knowledge.funding import FundingNeeds, Recommendation, recommend

PAGE_SIZE = 3


def needs_from(tracker: Tracker) -> FundingNeeds:
    """The finder's answers as stored in the slots (0 budget means unknown)."""
    budget = tracker.get_slot("budget")
    if not isinstance(budget, int | float):
        budget = None
    return FundingNeeds(
        applicant=tracker.get_slot("applicant_type"),
        country=tracker.get_slot("country"),
        themes=tuple(tracker.get_slot("themes") or ()),
        budget_eur=float(budget) if budget else None,
        cross_border=tracker.get_slot("cross_border"),
    )


class ActionRecommendFunding(Action):
    """Shows the next page of recommendations with reasons, share and calls."""

    def __init__(
        self,
        kb: KnowledgeBase | None = None,
        clock: Callable[[], Any] | None = None,
    ) -> None:
        """Use the given knowledge base and clock (tests), else the shared ones."""
        self._kb = kb
        self._clock = clock or today

    def name(self) -> str:
        """Action name in the domain."""
        return "action_recommend_funding"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter one page of recommendations and remember how many were shown."""
        language = tracker.get_slot("language") or "en"
        needs = needs_from(tracker)
        kb = await knowledge_base(self._kb)
        ranked = await asyncio.to_thread(recommend, kb, needs, self._clock())
        asked_for_more = (tracker.latest_message.get("intent") or {}).get("name") == "more_results"
        start = int(tracker.get_slot("results_shown") or 0) if asked_for_more else 0
        page = ranked[start : start + PAGE_SIZE]
        if not ranked:
            dispatcher.utter_message(response="utter_funding_none")
            report_unanswered(dispatcher, tracker)
            return [SlotSet("results_shown", 0)]
        if not page:
            dispatcher.utter_message(response="utter_funding_no_more")
            report_unanswered(dispatcher, tracker)
            return []
        kb_day = self._clock()
        if start == 0:
            dispatcher.utter_message(
                response="utter_funding_intro",
                criteria=finder_cards.criteria_text(needs, language),
            )
        for rank, reco in enumerate(page, start=start + 1):
            self._utter_item(dispatcher, reco, rank, needs, kb, language, domain, kb_day)
        dispatcher.utter_message(response=self._next_steps(tracker, needs))
        report_answered(dispatcher, tracker, [reco.programme.id for reco in page])
        return [SlotSet("results_shown", float(start + len(page)))]

    @staticmethod
    def _next_steps(tracker: Tracker, needs: FundingNeeds) -> str:
        """The usual buttons; with a hint to give the budget when it is still unknown."""
        skipped = tracker.get_slot("finder_skipped") or []
        if needs.budget_eur is None and "budget" not in skipped:
            return "utter_funding_next_steps_budget"
        return "utter_funding_next_steps"

    @staticmethod
    def _utter_item(
        dispatcher: CollectingDispatcher,
        reco: Recommendation,
        rank: int,
        needs: FundingNeeds,
        kb: KnowledgeBase,
        language: str,
        domain: DomainDict,
        day: Any,
    ) -> None:
        card = finder_cards.recommendation_card(reco, rank, needs, kb, language, domain, day)
        dispatcher.utter_message(
            response="utter_funding_item",
            card=card.text,
            title=card.title,
            buttons=[
                {
                    "title": render(domain, "utter_btn_more_details", language),
                    "payload": f'/more_details{{"record": "{card.record_id}"}}',
                }
            ],
            json_message={
                "links": [{"title": card.title, "url": card.url}],
                "records": [card.record_id],
            },
        )
