"""'Start over' in the funding finder: forget every answer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

FINDER_SLOTS = (
    "applicant_type",
    "country",
    "themes",
    "budget",
    "cross_border",
    "finder_skipped",
    "results_shown",
)


class ActionRestartFinder(Action):
    """Clears the finder's slots; the form then asks again from the start."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_restart_finder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reset and tell the user."""
        dispatcher.utter_message(response="utter_finder_restarted")
        return [SlotSet(slot, None) for slot in FINDER_SLOTS]
