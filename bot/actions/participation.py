"""How to take part: ongoing processes and upcoming events, nearest city first.

Questions may narrow the events down by city, period and language ("events in
Vienna next month in English", bot/event_query.py). When nothing fits, the user is
told so and sees the nearest other events; a city with events also gets the link
to its calendar feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import parsing, presenters
from bot.event_query import EventQuery, event_cities, known_cities, parse_event_query
from bot.kb_access import knowledge_base, today
from bot.participation_access import calendar_url
from bot.turn_info import report_answered, report_unanswered
from knowledge.base import KnowledgeBase
from knowledge.schema import Event

MAX_ITEMS = 3


def relevant_events(
    events: list[Event], day: dt.date, country: str | None, city_words: set[str], only_dated: bool
) -> list[Event]:
    """Events not yet over, the user's city and country first, then soonest first."""
    current = [e for e in events if (e.end_date or e.start_date or day) >= day]
    if only_dated:
        current = [e for e in current if e.start_date is not None]

    def rank(event: Event) -> tuple[int, int, dt.date]:
        same_city = bool(event.city and parsing.fold(event.city) in city_words)
        same_country = bool(country and event.country == country)
        return (not same_city, not same_country, event.start_date or day)

    return sorted(current, key=rank)


class ActionParticipation(Action):
    """Lists ways to take part (ask_participation) or upcoming events (ask_events)."""

    def __init__(
        self,
        kb: KnowledgeBase | None = None,
        clock: Callable[[], Any] | None = None,
    ) -> None:
        """Use the given knowledge base and clock (tests), else the shared ones."""
        self._kb = kb
        self._clock = clock or today

    def name(self) -> str:
        """Action name in the domain."""
        return "action_participation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter up to three events or processes with what to do next."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        day = self._clock()
        country = parsing.countries().find(text) or tracker.get_slot("country")
        ranked = relevant_events(
            list(kb.events.values()),
            day,
            country,
            set(parsing.tokens(text)),
            only_dated=intent == "ask_events",
        )
        query = parse_event_query(text, language, known_cities(kb), day)
        events = self._filtered(dispatcher, ranked, query)[:MAX_ITEMS]
        if not events:
            dispatcher.utter_message(response="utter_participation_none")
            report_unanswered(dispatcher, tracker)
            return []
        self._utter_events(dispatcher, events, language, domain)
        if query.city and query.city in event_cities(kb.events.values()):
            dispatcher.utter_message(
                response="utter_events_calendar",
                city=query.city,
                url=calendar_url(query.city),
                json_message={"links": [{"title": query.city, "url": calendar_url(query.city)}]},
            )
        report_answered(dispatcher, tracker, [event.id for event in events])
        return []

    @staticmethod
    def _filtered(
        dispatcher: CollectingDispatcher, ranked: list[Event], query: EventQuery
    ) -> list[Event]:
        """The events fitting the user's filters; the others, after saying so, if none fit."""
        if not query.is_filtered:
            return ranked
        fitting = [event for event in ranked if query.matches(event)]
        if not fitting:
            dispatcher.utter_message(response="utter_events_no_match")
            return ranked
        return fitting

    @staticmethod
    def _utter_events(
        dispatcher: CollectingDispatcher, events: list[Event], language: str, domain: DomainDict
    ) -> None:
        dispatcher.utter_message(response="utter_participation_intro")
        for event in events:
            values = presenters.event_values(event, language, domain)
            dispatcher.utter_message(
                response="utter_event_item",
                json_message={
                    "links": [{"title": values["title"], "url": values["url"]}],
                    "records": [event.id],
                },
                **values,
            )
