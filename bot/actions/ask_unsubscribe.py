"""'Stop reminders': say how many subscriptions would end and ask to confirm."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import pending
from bot.participation_access import call, participation
from participation.errors import ParticipationError
from participation.service import ParticipationService


class ActionAskUnsubscribe(Action):
    """Asks before ending every subscription; "yes" then runs action_unsubscribe_all."""

    def __init__(self, service: ParticipationService | None = None) -> None:
        """Use the given service (tests), else the shared one."""
        self._service = service

    def name(self) -> str:
        """Action name in the domain."""
        return "action_ask_unsubscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask to confirm, or say there is nothing to stop."""
        service = await participation(self._service)
        try:
            active = await call(service.subscriptions, user_id=tracker.sender_id)
        except ParticipationError:
            dispatcher.utter_message(response="utter_participation_busy")
            return [SlotSet(pending.AWAITING_SLOT, None)]
        if not active:
            dispatcher.utter_message(response="utter_unsubscribe_nothing")
            return [SlotSet(pending.AWAITING_SLOT, None)]
        dispatcher.utter_message(response="utter_unsubscribe_confirm", count=len(active))
        return [SlotSet(pending.AWAITING_SLOT, pending.UNSUBSCRIBE)]
