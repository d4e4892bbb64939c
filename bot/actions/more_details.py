"""Shows "more details" of the last card: the text that did not fit the card."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import cards
from bot.kb_access import knowledge_base
from bot.turn_info import report_answered
from knowledge.base import KnowledgeBase

RECORD_ENTITY = "record"


def requested_record(tracker: Tracker) -> str | None:
    """The record of the button pressed, else the last card's record."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == RECORD_ENTITY and isinstance(entity.get("value"), str):
            return str(entity["value"])
    last = tracker.get_slot("last_record")
    return last if isinstance(last, str) else None


class ActionMoreDetails(Action):
    """Shows the rest of a record in the user's language, or says there is no more."""

    def __init__(self, kb: KnowledgeBase | None = None) -> None:
        """Use the given knowledge base (tests), else the shared one."""
        self._kb = kb

    def name(self) -> str:
        """Action name in the domain."""
        return "action_more_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the details of the requested record."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        record_id = requested_record(tracker)
        record = kb.get(record_id) if record_id else None
        if not isinstance(record, cards.CardRecord):
            dispatcher.utter_message(response="utter_clarify")
            return []
        details = cards.details_text(record, kb, language, domain)
        if details:
            dispatcher.utter_message(
                text=details,
                json_message={
                    "links": [{"title": record.title.get(language)[0], "url": str(record.url)}],
                    "records": [record.id],
                },
            )
        else:
            dispatcher.utter_message(
                response="utter_details_none",
                json_message={
                    "links": [{"title": record.title.get(language)[0], "url": str(record.url)}],
                    "records": [record.id],
                },
            )
        report_answered(dispatcher, tracker, [record.id])
        return []
