"""'I want to talk to a person': the contacts that fit the user's language and topic."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import presenters
from bot.kb_access import knowledge_base
from knowledge.base import KnowledgeBase
from knowledge.schema import Contact

MAX_CONTACTS = 2


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


class ActionHumanHandoff(Action):
    """Names who can help and how to reach them (tickets come with issue 7)."""

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        """Use the given knowledge base (tests), else the shared one."""
        self._kb = kb

    def name(self) -> str:
        """Action name in the domain."""
        return "action_human_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the best contacts, or say there is none."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        contacts = best_contacts(
            list(kb.contacts.values()),
            language,
            tracker.get_slot("country"),
            list(tracker.get_slot("themes") or []),
        )
        if not contacts:
            dispatcher.utter_message(response="utter_handoff_none")
            return []
        dispatcher.utter_message(response="utter_handoff_intro")
        for contact in contacts:
            dispatcher.utter_message(
                response="utter_handoff_contact",
                **presenters.contact_values(contact, language, domain),
            )
        return []
