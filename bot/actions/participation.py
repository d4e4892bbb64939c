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
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import cards, city_context, parsing, presenters
from bot.actions.answer_first import card_buttons
from bot.event_query import EventQuery, event_cities, known_cities, parse_event_query
from bot.kb_access import knowledge_base, today
from bot.participation_access import calendar_url
from bot.rendering import render
from bot.turn_info import report_answered, report_unanswered
from knowledge.base import KnowledgeBase
from knowledge.schema import Event, Practice

MAX_ALTERNATIVES = 2


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


Place = tuple[str | None, str | None]
"""(city, country code) the answer is about."""


def scope_of(records: list[Event | Practice], city: str | None, country: str | None) -> str:
    """Where the best record is: "city", "country" or "elsewhere" ("" without a city)."""
    if not city or not records:
        return ""
    best = records[0]
    if best.city and parsing.fold(best.city) == parsing.fold(city):
        return "city"
    return "country" if country and best.country == country else "elsewhere"


def rank_by_place(
    records: list[Event | Practice], city: str | None, country: str | None
) -> list[Event | Practice]:
    """The city's records first, then its country's, then the rest (stable)."""

    def rank(record: Event | Practice) -> tuple[bool, bool]:
        same_city = bool(city and record.city and parsing.fold(record.city) == parsing.fold(city))
        same_country = bool(country and record.country == country)
        return (not same_city, not same_country)

    return sorted(records, key=rank)


def _distinct(records: list[Event | Practice], language: str) -> list[Event | Practice]:
    """One record per title (a process can be both an event and a practice)."""
    seen: set[str] = set()
    kept = []
    for record in records:
        key = parsing.fold(presenters.title(record, language))
        if key not in seen:
            seen.add(key)
            kept.append(record)
    return kept


class ActionParticipation(Action):
    """Ways to take part (ask_participation) or upcoming events (ask_events), city first."""

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
        """Utter the best event or process as a card, with alternatives and the scope."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        day = self._clock()
        query = parse_event_query(text, language, known_cities(kb), day)
        city = query.city or tracker.get_slot("city")
        country = (
            parsing.countries().find(text)
            or tracker.get_slot("country_context")
            or (city_context.country_of_city(kb, city) if city else None)
        )
        events = relevant_events(
            list(kb.events.values()), day, country, set(parsing.tokens(text)),
            only_dated=intent == "ask_events",
        )  # fmt: skip
        events = self._filtered(dispatcher, events, query)
        candidates: list[Event | Practice] = list(events)
        if intent != "ask_events":
            candidates += [p for p in kb.practices.values() if "civic_participation" in p.themes]
        ranked = _distinct(rank_by_place(candidates, city, country), language)
        ranked = ranked[: 1 + MAX_ALTERNATIVES]
        if not ranked:
            dispatcher.utter_message(response="utter_participation_none")
            report_unanswered(dispatcher, tracker)
            return []
        self._utter(dispatcher, kb, ranked, (city, country), language, domain, day)
        if query.city and query.city in event_cities(kb.events.values()):
            dispatcher.utter_message(
                response="utter_events_calendar",
                city=query.city,
                url=calendar_url(query.city),
                json_message={"links": [{"title": query.city, "url": calendar_url(query.city)}]},
            )
        report_answered(dispatcher, tracker, [record.id for record in ranked])
        return [SlotSet("last_record", ranked[0].id)]

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
    def _utter(
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        records: list[Event | Practice],
        place: Place,
        language: str,
        domain: DomainDict,
        day: dt.date,
    ) -> None:
        city, country = place
        best, *others = records
        card = cards.card_for(best, kb, language, domain, day)
        lines = []
        scope = scope_of(records, city, country)
        if scope:
            lines.append(
                render(
                    domain,
                    f"utter_frag_scope_{scope}",
                    language,
                    city=city,
                    country=presenters.country_label(country, language) if country else "",
                )
            )
        lines.append(card.text)
        if others:
            titles = presenters.joined(presenters.title(r, language) for r in others)
            lines.append(render(domain, "utter_frag_card_alternatives", language, titles=titles))
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=card_buttons(best, language, domain),
            json_message={
                "links": [{"title": card.title, "url": card.url}],
                "records": [r.id for r in records],
            },
        )
