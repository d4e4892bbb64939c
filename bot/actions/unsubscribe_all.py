"""'Yes, stop them': end every subscription of the sender."""

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


class ActionUnsubscribeAll(Action):
    """Ends all of the sender's subscriptions after the confirmation."""

    def __init__(self, service: ParticipationService | None = None) -> None:
        """Use the given service (tests), else the shared one."""
        self._service = service

    def name(self) -> str:
        """Action name in the domain."""
        return "action_unsubscribe_all"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Unsubscribe and say how many ended; a busy database keeps the question open."""
        service = await participation(self._service)
        try:
            ended = await call(service.unsubscribe_all, user_id=tracker.sender_id)
        except ParticipationError:
            # Nothing changed; the question stays open so "yes" tries again.
            dispatcher.utter_message(response="utter_participation_busy")
            return [SlotSet(pending.AWAITING_SLOT, pending.UNSUBSCRIBE)]
        dispatcher.utter_message(response="utter_unsubscribed", count=ended)
        return [SlotSet(pending.AWAITING_SLOT, None)]
