"""'No' to a pending question: drop the proposal draft, or keep the reminders."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import pending, proposals


class ActionCancelPending(Action):
    """Answers "no" to the confirmation asked last; nothing is stored or deleted."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_cancel_pending"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say what was kept or dropped and clear the pending question."""
        if tracker.get_slot(pending.AWAITING_SLOT) == pending.FORGET:
            dispatcher.utter_message(response="utter_forget_kept")
            return [SlotSet(pending.AWAITING_SLOT, None)]
        if tracker.get_slot(pending.AWAITING_SLOT) == pending.UNSUBSCRIBE:
            dispatcher.utter_message(response="utter_unsubscribe_kept")
            return [SlotSet(pending.AWAITING_SLOT, None)]
        # "No" to the summary, or "cancel" in the middle of the proposal form.
        dispatcher.utter_message(response="utter_proposal_cancelled")
        return [SlotSet(slot, None) for slot in proposals.PROPOSAL_SLOTS] + [
            SlotSet(pending.AWAITING_SLOT, None)
        ]
