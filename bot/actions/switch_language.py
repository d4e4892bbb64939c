"""'Speak German' / 'na hrvatskom': confirm the switch or say it is not possible."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import parsing


class ActionSwitchLanguage(Action):
    """The slots were already switched by action_validate_slot_mappings; confirm it."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_switch_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Confirm in the new language, or list what is possible."""
        requested = parsing.language_names().find(tracker.latest_message.get("text") or "")
        response = "utter_language_switched" if requested else "utter_language_unsupported"
        dispatcher.utter_message(response=response)
        return []
