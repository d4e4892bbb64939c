"""Stores the confirmed Forum proposal and gives the user its reference."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import pending, proposals
from bot.participation_access import call, participation
from participation.errors import InvalidInputError, ParticipationError, ProposalTooLongError
from participation.service import ParticipationService

PROPOSAL_FORM = "proposal_form"
# Metadata key under which a channel may pass its own id of the message (a
# Telegram update, a WhatsApp message): a redelivery then keeps the same key.
META_MESSAGE_ID = "message_id"


def confirming_message_id(tracker: Tracker) -> str | None:
    """The channel's id of the confirming message, else Rasa's."""
    latest = tracker.latest_message or {}
    metadata = latest.get("metadata")
    if isinstance(metadata, dict) and metadata.get(META_MESSAGE_ID):
        return str(metadata[META_MESSAGE_ID])
    message_id = latest.get("message_id")
    return str(message_id) if message_id else None


def _reopen(slot: str) -> list[dict[str, Any]]:
    """Drop one answer and let the form ask for it again; the others stay."""
    return [
        SlotSet(slot, None),
        SlotSet(pending.AWAITING_SLOT, None),
        FollowupAction(PROPOSAL_FORM),
    ]


def _finished() -> list[dict[str, Any]]:
    """Forget the draft once it is stored."""
    return [SlotSet(slot, None) for slot in proposals.PROPOSAL_SLOTS] + [
        SlotSet(pending.AWAITING_SLOT, None)
    ]


class ActionSubmitProposal(Action):
    """Submits the proposal once per confirming message, then explains moderation."""

    def __init__(self, service: ParticipationService | None = None) -> None:
        """Use the given service (tests), else the shared one."""
        self._service = service

    def name(self) -> str:
        """Action name in the domain."""
        return "action_submit_proposal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Store the proposal; on a failure explain it and keep the draft."""
        service = await participation(self._service)
        message_id = confirming_message_id(tracker)
        try:
            receipt = await call(
                service.submit_proposal,
                user_id=tracker.sender_id,
                language=tracker.get_slot("language") or "en",
                topic=tracker.get_slot(proposals.TOPIC_SLOT) or "",
                text=tracker.get_slot(proposals.TEXT_SLOT) or "",
                city=tracker.get_slot(proposals.CITY_SLOT),
                contact=proposals.contact_value(tracker.get_slot(proposals.CONTACT_SLOT)),
                idempotency_key=(
                    proposals.idempotency_key(tracker.sender_id, message_id) if message_id else None
                ),
            )
        except ProposalTooLongError as exc:
            dispatcher.utter_message(
                response="utter_proposal_too_long", length=exc.length, limit=exc.limit
            )
            return _reopen(proposals.TEXT_SLOT)
        except InvalidInputError as exc:
            dispatcher.utter_message(response="utter_proposal_invalid")
            return _reopen(proposals.SLOT_OF_FIELD.get(exc.field, proposals.TEXT_SLOT))
        except ParticipationError:
            # DatabaseBusyError (or another failure): nothing was stored and the
            # draft stays, so "yes" tries again. The question is set again
            # explicitly: the rules say what this action sets in every outcome.
            dispatcher.utter_message(response="utter_proposal_busy")
            return [SlotSet(pending.AWAITING_SLOT, pending.PROPOSAL)]
        dispatcher.utter_message(response="utter_proposal_submitted", reference=receipt.reference)
        return _finished()
