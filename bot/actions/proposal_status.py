"""'What is the status of FP-2026-00012?': pending, published or rejected, with the reason."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import proposals
from bot.participation_access import call, participation
from bot.rendering import date, render
from participation.errors import ParticipationError
from participation.service import ParticipationService
from participation.types import ProposalView


def status_values(view: ProposalView, language: str, domain: DomainDict) -> dict[str, object]:
    """Values of the `utter_proposal_status_*` responses."""
    return {
        "reference": view.reference,
        "topic": view.topic,
        "submitted": date(view.created_at.date(), language),
        "reason": view.reason or render(domain, "utter_frag_no_reason", language),
    }


class ActionProposalStatus(Action):
    """Looks the reference up among the user's own proposals."""

    def __init__(self, service: ParticipationService | None = None) -> None:
        """Use the given service (tests), else the shared one."""
        self._service = service

    def name(self) -> str:
        """Action name in the domain."""
        return "action_proposal_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the status, or ask for the reference, or say it is unknown."""
        language = tracker.get_slot("language") or "en"
        reference = proposals.find_reference(tracker.latest_message.get("text") or "")
        if reference is None:
            dispatcher.utter_message(response="utter_proposal_status_ask")
            return []
        service = await participation(self._service)
        try:
            # Only the author sees a proposal that is not published (privacy).
            view = await call(
                service.proposal_status, reference=reference, user_id=tracker.sender_id
            )
        except ParticipationError:
            dispatcher.utter_message(response="utter_participation_busy")
            return []
        if view is None:
            dispatcher.utter_message(
                response="utter_proposal_status_not_found", reference=reference
            )
            return []
        dispatcher.utter_message(
            response=f"utter_proposal_status_{view.status}",
            **status_values(view, language, domain),
        )
        return []
