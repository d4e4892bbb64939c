"""Shows the finished proposal and asks whether to submit it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import pending, proposals
from bot.rendering import render


class ActionConfirmProposal(Action):
    """Repeats topic, text, city and contact; "yes" then submits (see the rules)."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_confirm_proposal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the summary with yes/no buttons and wait for the answer."""
        language = tracker.get_slot("language") or "en"
        contact = proposals.contact_value(tracker.get_slot(proposals.CONTACT_SLOT))
        dispatcher.utter_message(
            response="utter_proposal_confirm",
            topic=tracker.get_slot(proposals.TOPIC_SLOT) or "",
            body=tracker.get_slot(proposals.TEXT_SLOT) or "",
            city=tracker.get_slot(proposals.CITY_SLOT) or "",
            contact=contact or render(domain, "utter_frag_no_contact", language),
        )
        return [SlotSet(pending.AWAITING_SLOT, pending.PROPOSAL)]
