"""'I want to talk to a person': open a ticket and say who answers, and by when.

The ticket carries a short, masked summary of the user's last messages so the
contact can answer without asking again; e-mail addresses, phone numbers and other
identifiers are masked before anything is stored. When no ticket can be opened
(busy database), the user still gets the contacts to reach directly.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import presenters
from bot.kb_access import knowledge_base
from bot.participation_access import call, participation
from bot.rendering import date, render, time_of_day
from knowledge.base import KnowledgeBase
from knowledge.schema import Contact
from participation.errors import ParticipationError
from participation.privacy import mask_personal_data
from participation.service import ParticipationService
from participation.types import TicketReceipt

MAX_CONTACTS = 2
# The summary: the user's last few messages, within a length staff can read at a glance.
SUMMARY_MESSAGES = 3
SUMMARY_MAX_CHARS = 600
SUMMARY_SEPARATOR = "\n"


def best_contacts(
    contacts: list[Contact], language: str, country: str | None, themes: list[str]
) -> list[Contact]:
    """Contacts speaking the language first, then same country, then matching topics."""

    def rank(contact: Contact) -> tuple[int, int, int, str]:
        return (
            language not in contact.languages,
            not (country and contact.country == country),
            -len(set(themes) & set(contact.topics)),
            contact.id,
        )

    return sorted(contacts, key=rank)[:MAX_CONTACTS]


def recent_user_texts(tracker: Tracker, count: int = SUMMARY_MESSAGES) -> list[str]:
    """The user's last typed messages, oldest first (button payloads only if nothing was typed)."""
    texts = [
        str(event.get("text") or "").strip()
        for event in tracker.events
        if event.get("event") == "user"
    ] or [str(tracker.latest_message.get("text") or "").strip()]
    typed = [text for text in texts if text and not text.startswith("/")]
    # Only buttons pressed: their payloads still tell staff what was asked.
    return (typed or [text for text in texts if text])[-count:]


def ticket_summary(tracker: Tracker) -> str:
    """Masked summary of the conversation for the ticket."""
    masked = [mask_personal_data(text) for text in recent_user_texts(tracker)]
    return SUMMARY_SEPARATOR.join(masked)[:SUMMARY_MAX_CHARS]


def ticket_values(receipt: TicketReceipt, language: str, domain: DomainDict) -> dict[str, object]:
    """Values of `utter_handoff_ticket`: reference, who answers, where, by when."""
    reachable = [value for value in (receipt.contact_email, receipt.contact_url) if value]
    direct = (
        " "
        + render(domain, "utter_frag_ticket_direct", language, channel=presenters.joined(reachable))
        if reachable
        else ""
    )
    return {
        "reference": receipt.reference,
        "contact": receipt.contact_name or render(domain, "utter_frag_our_team", language),
        "direct": direct,
        "reply_date": date(receipt.reply_by.date(), language),
        "reply_time": time_of_day(receipt.reply_by, language),
        "zone": receipt.reply_by.tzname() or "",
        "hours": receipt.office_hours or "",
    }


def ticket_response(receipt: TicketReceipt) -> str:
    """The ticket reply; without office hours in any source it names no hours at all."""
    return "utter_handoff_ticket" if receipt.office_hours else "utter_handoff_ticket_no_hours"


class ActionHumanHandoff(Action):
    """Opens a ticket routed to the best contact; lists contacts if that fails."""

    def __init__(
        self, kb: KnowledgeBase | None = None, service: ParticipationService | None = None
    ) -> None:
        """Use the given knowledge base and service (tests), else the shared ones."""
        self._kb = kb
        self._service = service

    def name(self) -> str:
        """Action name in the domain."""
        return "action_human_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the ticket, or the contacts to reach directly."""
        language = tracker.get_slot("language") or "en"
        receipt = await self._open_ticket(tracker, language)
        if receipt is not None:
            dispatcher.utter_message(
                response=ticket_response(receipt), **ticket_values(receipt, language, domain)
            )
            return []
        dispatcher.utter_message(response="utter_handoff_ticket_failed")
        await self._utter_contacts(dispatcher, tracker, language, domain)
        return []

    async def _open_ticket(self, tracker: Tracker, language: str) -> TicketReceipt | None:
        themes = list(tracker.get_slot("themes") or [])
        service = await participation(self._service)
        try:
            return await call(
                service.open_ticket,
                user_id=tracker.sender_id,
                language=language,
                topic=themes[0] if themes else None,
                country=tracker.get_slot("country"),
                summary=ticket_summary(tracker),
            )
        except ParticipationError:
            return None

    async def _utter_contacts(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str, domain: DomainDict
    ) -> None:
        kb = await knowledge_base(self._kb)
        contacts = best_contacts(
            list(kb.contacts.values()),
            language,
            tracker.get_slot("country"),
            list(tracker.get_slot("themes") or []),
        )
        if not contacts:
            dispatcher.utter_message(response="utter_handoff_none")
            return
        dispatcher.utter_message(response="utter_handoff_intro")
        for contact in contacts:
            dispatcher.utter_message(
                response="utter_handoff_contact",
                **presenters.contact_values(contact, language, domain),
            )
