"""'Delete everything about me' / 'what do you store about me?' asked in the chat.

Erasure is confirmed first (it cannot be undone) and then done by the participation
service, Rasa's conversation included; the summary of stored data comes from the
same export the privacy API serves. A busy database loses nothing: the user is told
to try again.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import pending
from bot.participation_access import call, participation
from bot.rendering import render
from bot.turn_info import report_turn
from participation.errors import ParticipationError
from participation.service import ParticipationService

EXPORT_COUNTS = ("questions", "subscriptions", "proposals", "tickets")


class ActionAskForget(Action):
    """Asks to confirm the erasure, with yes/no buttons."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_ask_forget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the question and remember that "yes" now means "delete"."""
        language = tracker.get_slot("language") or "en"
        dispatcher.utter_message(
            response="utter_forget_confirm",
            buttons=[
                {"title": render(domain, "utter_btn_yes_delete", language), "payload": "/affirm"},
                {"title": render(domain, "utter_btn_keep", language), "payload": "/deny"},
            ],
        )
        return [SlotSet(pending.AWAITING_SLOT, pending.FORGET)]


class ActionForgetMe(Action):
    """Erases everything stored about the sender, then starts the conversation afresh."""

    def __init__(self, service: ParticipationService | None = None) -> None:
        """Use the given service (tests), else the shared one."""
        self._service = service

    def name(self) -> str:
        """Action name in the domain."""
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Delete, report how much, and restart; on failure keep the question open."""
        service = await participation(self._service)
        try:
            counts = await call(service.forget_user, user_id=tracker.sender_id)
        except ParticipationError:
            dispatcher.utter_message(response="utter_forget_failed")
            return []
        dispatcher.utter_message(response="utter_forget_done", count=sum(counts.values()))
        # Our gateway then erases what Rasa writes back at the end of this turn, and the
        # messaging channels drop the city they keep for the chat.
        report_turn(dispatcher, tracker, erased=True)
        return [Restarted(), SlotSet("language", tracker.get_slot("language"))]


class ActionExportData(Action):
    """Says what is stored about the sender and where to download all of it."""

    def __init__(self, service: ParticipationService | None = None) -> None:
        """Use the given service (tests), else the shared one."""
        self._service = service

    def name(self) -> str:
        """Action name in the domain."""
        return "action_export_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the counts of stored items per kind."""
        service = await participation(self._service)
        try:
            data = await call(service.export_user, user_id=tracker.sender_id)
        except ParticipationError:
            dispatcher.utter_message(response="utter_export_failed")
            return []
        counts = {name: len(data.get(name) or []) for name in EXPORT_COUNTS}
        dispatcher.utter_message(response="utter_export_summary", **counts)
        return []
