"""Checks the answers of the Forum proposal form before it asks the next question.

A text over the limit, a topic too long for a title or a contact that is no e-mail
address gets a polite explanation; only that answer is dropped and asked again,
everything already given stays.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import proposals
from bot.participation_access import settings


def _too_long(
    dispatcher: CollectingDispatcher, slot: str, value: str, limit: int
) -> dict[str, Any]:
    """Explain the limit and drop the answer, so the form asks for it again."""
    dispatcher.utter_message(response="utter_proposal_too_long", length=len(value), limit=limit)
    return {slot: None}


class ValidateProposalForm(FormValidationAction):
    """Validates topic, text and contact of `proposal_form`."""

    def name(self) -> str:
        """Action name in the domain."""
        return "validate_proposal_form"

    async def validate_proposal_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A topic is a short title."""
        limit = settings().topic_max_chars
        if isinstance(value, str) and len(value) > limit:
            return _too_long(dispatcher, proposals.TOPIC_SLOT, value, limit)
        return {proposals.TOPIC_SLOT: value}

    async def validate_proposal_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The proposal itself, up to `proposal_max_chars`."""
        limit = settings().proposal_max_chars
        if isinstance(value, str) and len(value) > limit:
            return _too_long(dispatcher, proposals.TEXT_SLOT, value, limit)
        return {proposals.TEXT_SLOT: value}

    async def validate_proposal_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An e-mail address, or "no"; anything else is asked again."""
        if value == proposals.NO_CONTACT or (isinstance(value, str) and proposals.is_email(value)):
            return {proposals.CONTACT_SLOT: value}
        dispatcher.utter_message(response="utter_proposal_contact_invalid")
        return {proposals.CONTACT_SLOT: None}


class ActionAskProposalText(Action):
    """Asks for the proposal, naming the length limit the service enforces."""

    def name(self) -> str:
        """Action name in the domain (the form's question for `proposal_text`)."""
        return "action_ask_proposal_text"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the question with the limit."""
        dispatcher.utter_message(
            response="utter_ask_proposal_text", limit=settings().proposal_max_chars
        )
        return []
