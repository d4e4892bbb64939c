"""Answers "which calls are open right now?": open and forthcoming calls, soonest first.

When none is open the reply says so with today's date and names the most recent
closed call, so the user sees how fresh the answer is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import cards, parsing, presenters
from bot.actions.answer_first import card_buttons
from bot.kb_access import knowledge_base, today
from bot.rendering import date, render
from bot.turn_info import report_answered
from knowledge.base import KnowledgeBase
from knowledge.funding import UpcomingCall, effective
from knowledge.schema import Call

MAX_CALLS = 4


def open_calls(kb: KnowledgeBase, day: dt.date, applicant: str | None = None) -> list[UpcomingCall]:
    """Calls still ahead (open first, then forthcoming), for the applicant when known."""
    found: list[UpcomingCall] = []
    for call in kb.calls.values():
        if applicant and not _admits(kb, call, applicant):
            continue
        found.extend(cards.upcoming_calls_of(call, day))
    return sorted(found, key=lambda c: (c.state != "open", c.deadline))


def _admits(kb: KnowledgeBase, call: Call, applicant: str) -> bool:
    programme = kb.programmes.get(call.programme)
    if programme is None:
        return True
    eligible = effective(programme, kb).eligible_applicants
    return not eligible or applicant in eligible


class ActionOpenCalls(Action):
    """Lists the calls that are open or open soon, or the most recent closed one."""

    def __init__(self, kb: KnowledgeBase | None = None, clock: Callable[[], Any] | None = None):
        """Use the given knowledge base and clock (tests), else the shared ones."""
        self._kb = kb
        self._clock = clock or today

    def name(self) -> str:
        """Action name in the domain."""
        return "action_open_calls"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Utter the open calls as one short list with their links."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        text = str((tracker.latest_message or {}).get("text") or "")
        applicant = parsing.applicants().find(text) or tracker.get_slot("applicant_type")
        day = self._clock()
        calls = await asyncio.to_thread(open_calls, kb, day, applicant)
        if calls:
            self._utter_list(dispatcher, kb, calls[:MAX_CALLS], language, domain)
            report_answered(dispatcher, tracker, [c.call.id for c in calls[:MAX_CALLS]])
            return []
        self._utter_none(dispatcher, kb, day, language, domain)
        return []

    @staticmethod
    def _utter_list(
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        calls: list[UpcomingCall],
        language: str,
        domain: DomainDict,
    ) -> None:
        lines = [render(domain, "utter_open_calls_intro", language)]
        links = []
        for upcoming in calls:
            programme = kb.programmes.get(upcoming.call.programme)
            name = programme.acronym or presenters.title(programme, language) if programme else ""
            lines.append(f"• **{name}** {presenters.call_line(upcoming, language, domain)}")
            links.append(
                {
                    "title": presenters.title_of_call(upcoming, language),
                    "url": str(upcoming.call.url),
                }
            )
        lines.append(cards.checked_line([c.call for c in calls], language, domain))
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=card_buttons(calls[0].call, language, domain),
            json_message={"links": links, "records": [c.call.id for c in calls]},
        )

    @staticmethod
    def _utter_none(
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        day: dt.date,
        language: str,
        domain: DomainDict,
    ) -> None:
        text = render(domain, "utter_open_calls_none", language, date=date(day, language))
        past = [c for c in kb.calls.values() if c.closing_date < day]
        links = []
        if past:
            last = max(past, key=lambda c: c.closing_date)
            title, _ = last.title.get(language)
            text += " " + render(
                domain,
                "utter_frag_open_calls_last",
                language,
                date=date(last.closing_date, language),
                call=f"**{title}**",
            )
            links.append({"title": title, "url": str(last.url)})
            text += " " + cards.checked_line(list(kb.calls.values()), language, domain)
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": render(domain, "utter_btn_finder", language), "payload": "/start_finder"},
                {
                    "title": render(domain, "utter_btn_person", language),
                    "payload": "/human_handoff",
                },
            ],
            json_message={"links": links, "records": []},
        )
