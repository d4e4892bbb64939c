"""City context: read it from each message's metadata, and set it when the user says it.

`action_read_context` is the custom slot mapping of `city` and `country_context`
(run by Rasa's slot extraction after every message); `action_set_city` answers
"my city is Rijeka" / `/city`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import city_context, parsing
from bot.kb_access import knowledge_base
from knowledge.base import KnowledgeBase


def _intent(tracker: Tracker) -> str:
    return str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")


def _previous_metadata(tracker: Tracker) -> dict[str, Any] | None:
    """Metadata of the user message before the latest one."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    metadata = users[-2].get("metadata")
    return metadata if isinstance(metadata, dict) else None


class ActionReadContext(Action):
    """Fills `city` / `country_context` from metadata, or from a set_city message."""

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        """Use the given knowledge base (tests), else the shared one."""
        self._kb = kb

    def name(self) -> str:
        """Action name in the domain (a custom slot mapping)."""
        return "action_read_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """SlotSet events for what this message says about the user's place."""
        message = tracker.latest_message or {}
        city, country = city_context.from_metadata(message.get("metadata"))
        if (city, country) == city_context.from_metadata(_previous_metadata(tracker)):
            # Unchanged page or channel setting: what the user said since then wins.
            city = country = None
        kb = await knowledge_base(self._kb)
        text = str(message.get("text") or "")
        if _intent(tracker) == "set_city":
            city = city_context.city_in_text(kb, text) or city
            country = parsing.countries().find(text) or country
        events: list[dict[str, Any]] = []
        if city and city != tracker.get_slot("city"):
            city = city_context.canonical_city(kb, city)
            events.append(SlotSet("city", city))
            country = country or city_context.country_of_city(kb, city)
        if country and country != tracker.get_slot("country_context"):
            events.append(SlotSet("country_context", country))
        return events


class ActionSetCity(Action):
    """Confirms the city the user gave, or asks for it."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_set_city"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the confirmation with the city now in the slot."""
        city = tracker.get_slot("city")
        if city:
            dispatcher.utter_message(response="utter_city_set", city=city)
        else:
            dispatcher.utter_message(response="utter_city_ask")
        return []
