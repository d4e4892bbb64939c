"""Funding finder result: ranked programmes for the collected answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import presenters
from bot.kb_access import knowledge_base, today
from bot.turn_info import report_answered, report_unanswered
from knowledge.base import KnowledgeBase
from knowledge.funding import FundingNeeds, Recommendation, recommend

PAGE_SIZE = 3


def needs_from(tracker: Tracker) -> FundingNeeds:
    """The finder's answers as stored in the slots (0 budget means unknown)."""
    budget = tracker.get_slot("budget")
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
        if start == 0:
            dispatcher.utter_message(response="utter_funding_intro", **self._intro(needs, language))
        for rank, reco in enumerate(page, start=start + 1):
            self._utter_item(dispatcher, reco, rank, needs, language, domain)
        dispatcher.utter_message(response="utter_funding_next_steps")
        report_answered(dispatcher, tracker, [reco.programme.id for reco in page])
        return [SlotSet("results_shown", float(start + len(page)))]

    @staticmethod
    def _intro(needs: FundingNeeds, language: str) -> dict[str, Any]:
        return {
            "applicant": presenters.applicant_labels([needs.applicant], language)
            if needs.applicant
            else "",
            "country": presenters.country_label(needs.country, language) if needs.country else "",
            "themes": presenters.theme_labels(needs.themes, language),
        }

    @staticmethod
    def _utter_item(
        dispatcher: CollectingDispatcher,
        reco: Recommendation,
        rank: int,
        needs: FundingNeeds,
        language: str,
        domain: DomainDict,
    ) -> None:
        values = presenters.recommendation_values(
            reco, rank, needs.applicant, needs.country, needs.budget_eur, language, domain
        )
        dispatcher.utter_message(
            response="utter_funding_item",
            json_message={
                "links": [{"title": values["title"], "url": values["url"]}],
                "records": [reco.programme.id],
            },
            **values,
        )
