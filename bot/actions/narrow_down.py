"""'Narrow down' in the funding finder: ask the themes again."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionNarrowDown(Action):
    """Forgets the themes so the form asks for them again; keeps the other answers.

    A skipped themes question is asked again too: narrowing down is about themes.
    """

    def name(self) -> str:
        """Action name in the domain."""
        return "action_narrow_down"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reset the themes and the paging."""
        skipped = [s for s in tracker.get_slot("finder_skipped") or [] if s != "themes"]
        return [
            SlotSet("themes", None),
            SlotSet("finder_skipped", skipped or None),
            SlotSet("results_shown", None),
        ]
