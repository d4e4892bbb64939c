"""Answer first: a question about a programme, call, practice or event gets its answer.

The best record is named in the first reply as a card (bot/cards.py) with up to two
alternatives and buttons to go on. The guided funding finder is one of those
buttons, never the answer to a direct question. When neither a named programme nor
a confident search hit exists, the bot says so honestly: a clarifying question
first, then the offer of a person (the fallback chain of earlier turns).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import cards, parsing, presenters
from bot.kb_access import knowledge_base, today
from bot.rendering import render
from bot.search_access import Found, Searcher, SearchUnavailableError, get_searcher
from bot.settings import get_settings
from bot.subscription_request import CALLS_PROGRAMME, KIND_ENTITY, TARGET_ENTITY
from bot.turn_info import report_answered, report_unanswered
from knowledge.base import KnowledgeBase
from knowledge.funding import is_current
from knowledge.resolve import find_programmes
from knowledge.schema import Call, Programme, call_status

logger = logging.getLogger(__name__)

FUNDING_TYPES = ("programme", "call")
ANY_TYPES = ("programme", "call", "practice", "event")
# Which record types answer which question.
TYPES_BY_INTENT: dict[str, tuple[str, ...]] = {
    "find_funding": FUNDING_TYPES,
    "ask_programme": FUNDING_TYPES,
    "ask_eligibility": FUNDING_TYPES,
    "ask_deadline": FUNDING_TYPES,
    "ask_cofinancing": FUNDING_TYPES,
    "ask_how_to_apply": FUNDING_TYPES,
    "ask_best_practice": ("practice",),
    "ask_events": ("event",),
    "ask_participation": ("event", "practice"),
}
# Intents the NLU is unsure about or that name no topic: answered only on strong evidence.
WEAK_INTENTS = frozenset({"nlu_fallback", "out_of_scope", "chitchat"})
# What is said when nothing is found, per intent (default: the fallback chain).
NOT_FOUND_RESPONSES = {"out_of_scope": "utter_out_of_scope", "chitchat": "utter_chitchat"}
SEARCH_LIMIT = 8
FINDER_FORM = "funding_form"
FINDER_BRIEF_MIN_ANSWERS = 2
MAX_ALTERNATIVES = 2


def is_finder_brief(text: str) -> bool:
    """Whether a message describes the applicant's project with finder answers.

    Two of applicant, country and budget make a brief; a topic alone is a question.
    """
    given = [
        parsing.applicants().find(text),
        parsing.countries().find(text),
        parsing.parse_budget(text),
    ]
    return sum(value is not None for value in given) >= FINDER_BRIEF_MIN_ANSWERS


def previous_turn_was_fallback(tracker: Tracker) -> bool:
    """Whether the user's previous message also fell back (so we already clarified)."""
    user_events = [e for e in tracker.events if e.get("event") == "user"]
    if len(user_events) < 2:
        return False
    intent = (user_events[-2].get("parse_data") or {}).get("intent") or {}
    return intent.get("name") == "nlu_fallback"


def intent_of(tracker: Tracker) -> str:
    """The latest message's intent name."""
    return str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")


def card_buttons(
    record: cards.CardRecord, language: str, domain: DomainDict
) -> list[dict[str, str]]:
    """Ways to go on from a card: details, reminders, the guided finder, a person."""
    buttons = [
        {
            "title": render(domain, "utter_btn_more_details", language),
            "payload": f'/more_details{{"record": "{record.id}"}}',
        }
    ]
    programme_id = (
        record.id if isinstance(record, Programme) else getattr(record, "programme", None)
    )
    if programme_id:
        buttons.append(
            {
                "title": render(domain, "utter_btn_remind", language),
                "payload": (
                    f'/subscribe{{"{KIND_ENTITY}": "{CALLS_PROGRAMME}", '
                    f'"{TARGET_ENTITY}": "{programme_id}"}}'
                ),
            }
        )
        buttons.append(
            {"title": render(domain, "utter_btn_finder", language), "payload": "/start_finder"}
        )
    buttons.append(
        {"title": render(domain, "utter_btn_person", language), "payload": "/human_handoff"}
    )
    return buttons


class ActionAnswerFirst(Action):
    """Names the best record for the question as a card, with alternatives."""

    def __init__(
        self,
        kb: KnowledgeBase | None = None,
        searcher: Searcher | None = None,
        clock: Callable[[], Any] | None = None,
    ) -> None:
        """Use the given knowledge base, searcher and clock (tests), else the shared ones."""
        self._kb = kb
        self._searcher = searcher
        self._clock = clock or today

    def name(self) -> str:
        """Action name in the domain."""
        return "action_answer_first"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer with the best record, or say honestly that none fits."""
        language = tracker.get_slot("language") or "en"
        intent = intent_of(tracker)
        text = str((tracker.latest_message or {}).get("text") or "")
        if intent == "find_funding" and (text.startswith("/") or is_finder_brief(text)):
            # The "find funding" button of the help and clarify replies asks for the guide;
            # "We are a city in Croatia, 300,000 EUR, climate": a project to match, not a
            # question; the finder takes every answer given and asks only what is missing.
            return [FollowupAction(FINDER_FORM)]
        kb = await knowledge_base(self._kb)
        records = await self._records(kb, text, language, intent)
        if not records:
            self._not_found(dispatcher, tracker, intent)
            return []
        budget = tracker.get_slot("budget")
        shown = self._utter(dispatcher, kb, records, language, domain, budget)
        report_answered(dispatcher, tracker, shown)
        events: list[dict[str, Any]] = [SlotSet("last_record", records[0].id)]
        if isinstance(records[0], Programme):
            events.append(SlotSet("programme", records[0].id))
        return events

    async def _records(
        self, kb: KnowledgeBase, text: str, language: str, intent: str
    ) -> list[cards.CardRecord]:
        """Named programmes first, then confident search hits of the intent's types."""
        types = TYPES_BY_INTENT.get(intent, ANY_TYPES)
        found: list[cards.CardRecord] = []
        if "programme" in types:
            found.extend(m.programme for m in find_programmes(kb, text))
        settings = get_settings()
        floor = (
            settings.fallback_min_confidence
            if intent in WEAK_INTENTS or intent not in TYPES_BY_INTENT
            else settings.answer_min_confidence
        )
        day = self._clock()
        for hit in await self._search(text, language):
            record = kb.get(hit.record_id)
            if hit.record_type not in types or hit.confidence < floor:
                continue
            if isinstance(record, Call) and "programme" in types:
                record = _programme_of_closed_call(kb, record, day)
            if isinstance(record, cards.CardRecord) and record not in found:
                found.append(record)
        if not found and "practice" in types:
            found.extend(practices_by_theme(kb, text))
        return _current_first(found, day)[: 1 + MAX_ALTERNATIVES]

    async def _search(self, text: str, language: str) -> Sequence[Found]:
        if not text.strip() or text.startswith("/"):
            return []
        searcher = self._searcher or get_searcher()
        try:
            return await asyncio.to_thread(searcher, text, language, None, SEARCH_LIMIT)
        except SearchUnavailableError as exc:
            logger.warning("search unavailable: %s", exc)
            return []

    def _utter(
        self,
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        records: list[cards.CardRecord],
        language: str,
        domain: DomainDict,
        budget: float | None,
    ) -> list[str]:
        best, *others = records
        card = cards.card_for(best, kb, language, domain, self._clock(), budget)
        text = card.text
        if others:
            titles = presenters.joined(_short_name(r, language) for r in others)
            text += "\n" + render(domain, "utter_frag_card_alternatives", language, titles=titles)
        dispatcher.utter_message(
            text=text,
            buttons=card_buttons(best, language, domain),
            json_message={
                "links": [{"title": card.title, "url": card.url}],
                "records": [r.id for r in records],
            },
        )
        return [r.id for r in records]

    @staticmethod
    def _not_found(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> None:
        response = NOT_FOUND_RESPONSES.get(intent)
        if response is None:
            response = (
                "utter_handoff_offer" if previous_turn_was_fallback(tracker) else "utter_clarify"
            )
        dispatcher.utter_message(response=response)
        report_unanswered(dispatcher, tracker)


def practices_by_theme(kb: KnowledgeBase, text: str) -> list[cards.CardRecord]:
    """Practices sharing the most themes named in the text (when search is unavailable)."""
    themes = set(parsing.themes().find_all(text))
    country = parsing.countries().find(text)
    scored = [(len(themes & set(p.themes)), p) for p in kb.practices.values()]
    ranked = sorted(
        (item for item in scored if item[0]),
        key=lambda item: (-item[0], item[1].country != country, item[1].id),
    )
    return [practice for _, practice in ranked]


def _programme_of_closed_call(kb: KnowledgeBase, call: Call, day: dt.date) -> cards.CardRecord:
    """A closed call answers as its programme, whose card says when it closed."""
    if call_status(call, day) != "closed":
        return call
    return kb.programmes.get(call.programme, call)


def _current_first(records: list[cards.CardRecord], day: dt.date) -> list[cards.CardRecord]:
    """Programmes that ended before today go after the ones still running."""
    return sorted(records, key=lambda r: isinstance(r, Programme) and not is_current(r, day))


def _short_name(record: cards.CardRecord, language: str) -> str:
    """An alternative's name: a programme's acronym-bearing title, else its title."""
    title, _ = record.title.get(language)
    return title
