"""Which questions the funding finder still asks: only what is missing and matters.

Rasa asks a form's required slots in order; this action makes the list dynamic.
Who applies, from where and on what are always needed. The budget and the
partners question are refinements: they are asked only while the finder has asked
fewer than two questions in this run (so a rich first message gets results after
at most two questions), and the partners question only when the answer would
change the top of the ranking. A question the user skipped is never asked again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions.recommend_funding import needs_from
from bot.actions.validate_slot_mappings import FINDER_FORM, SKIPPED_SLOT
from bot.kb_access import knowledge_base, today
from knowledge.base import KnowledgeBase
from knowledge.funding import FundingNeeds, recommend

CORE_SLOTS = ("applicant_type", "country", "themes")
# Refinements, asked only while fewer than this many questions were asked.
MAX_QUESTIONS_FOR_REFINEMENTS = 2
# The partners question matters when the answer changes these top places.
RANKING_DEPTH = 3


def questions_asked(events: list[dict[str, Any]]) -> list[str]:
    """Slots the finder asked for since it was last started, in order, once each."""
    asked: list[str] = []
    for event in reversed(events):
        if event.get("event") == "active_loop" and event.get("name") == FINDER_FORM:
            break
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            value = event.get("value")
            if isinstance(value, str) and value not in asked:
                asked.insert(0, value)
    return asked


class ValidateFundingForm(FormValidationAction):
    """Decides the funding finder's remaining questions on every turn."""

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
        return "validate_funding_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The core slots, then the refinements that are still worth a question."""
        skipped = set(tracker.get_slot(SKIPPED_SLOT) or [])
        required = [slot for slot in CORE_SLOTS if slot not in skipped]
        asked = questions_asked(list(tracker.events or []))
        for slot in ("budget", "cross_border"):
            if slot in skipped:
                continue
            if tracker.get_slot(slot) is not None or slot in asked:
                required.append(slot)  # answered, or the question is pending
            elif len(asked) < MAX_QUESTIONS_FOR_REFINEMENTS and await self._worth_asking(
                slot, tracker
            ):
                required.append(slot)
        return required

    async def _worth_asking(self, slot: str, tracker: Tracker) -> bool:
        """The budget always refines (own share); partners only if they change the ranking."""
        if slot != "cross_border":
            return True
        needs = needs_from(tracker)
        if not (needs.applicant or needs.themes):
            return False
        kb = await knowledge_base(self._kb)
        return await asyncio.to_thread(partners_change_ranking, kb, needs, self._clock())


def partners_change_ranking(kb: KnowledgeBase, needs: FundingNeeds, day: Any) -> bool:
    """Whether "with partners abroad" and "without" put different programmes on top."""

    def top(cross_border: bool) -> list[str]:
        ranked = recommend(kb, _with_partners(needs, cross_border), day)
        return [r.programme.id for r in ranked[:RANKING_DEPTH]]

    return top(True) != top(False)


def _with_partners(needs: FundingNeeds, cross_border: bool) -> FundingNeeds:
    return FundingNeeds(
        applicant=needs.applicant,
        country=needs.country,
        themes=needs.themes,
        budget_eur=needs.budget_eur,
        cross_border=cross_border,
    )
