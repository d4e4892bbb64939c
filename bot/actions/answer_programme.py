"""Direct questions about one programme: what, who, when, how much, how to apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import parsing, presenters
from bot.kb_access import knowledge_base, today
from bot.rendering import date, render
from bot.turn_info import report_answered
from knowledge.base import KnowledgeBase
from knowledge.funding import effective, upcoming_calls
from knowledge.resolve import find_programmes
from knowledge.schema import Programme

# Which answer each question intent gets.
ANSWERS = {
    "ask_programme": "summary",
    "ask_eligibility": "eligibility",
    "ask_deadline": "deadlines",
    "ask_cofinancing": "cofinancing",
    "ask_how_to_apply": "how_to_apply",
}
MAX_CHOICES = 4


class ActionAnswerProgramme(Action):
    """Answers from the programme's record, with its source and verification date."""

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
        return "action_answer_programme"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Resolve the programme, then answer the kind of question asked."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        intent = (tracker.latest_message.get("intent") or {}).get("name", "ask_programme")
        programme = self._programme(kb, tracker)
        if programme is None:
            self._ask_which(dispatcher, kb, tracker, language)
            return []
        record = effective(programme, kb)
        answer = ANSWERS.get(intent, "summary")
        handler = getattr(self, f"_answer_{answer}")
        handler(dispatcher, kb, record, tracker, language, domain)
        dispatcher.utter_message(json_message=_links(record, language))
        if record.uncertain:
            dispatcher.utter_message(
                response="utter_uncertain_note", notes=" ".join(record.uncertain)
            )
        report_answered(dispatcher, tracker, [record.id])
        return []

    @staticmethod
    def _programme(kb: KnowledgeBase, tracker: Tracker) -> Programme | None:
        slot = tracker.get_slot("programme")
        mentions = find_programmes(kb, tracker.latest_message.get("text") or "")
        if mentions:
            return mentions[0].programme
        return kb.programmes.get(slot) if isinstance(slot, str) else None

    @staticmethod
    def _ask_which(
        dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker, language: str
    ) -> None:
        intent = (tracker.latest_message.get("intent") or {}).get("name", "ask_programme")
        umbrellas = [p for p in kb.programmes.values() if p.parent is None]
        choices = sorted(umbrellas, key=lambda p: p.acronym or p.id)[:MAX_CHOICES]
        buttons = [
            {
                "title": p.acronym or presenters.title(p, language),
                "payload": f'/{intent}{{"programme": "{p.id}"}}',
            }
            for p in choices
        ]
        dispatcher.utter_message(response="utter_programme_which", buttons=buttons)

    @staticmethod
    def _common(record: Programme, language: str) -> dict[str, object]:
        return {
            "title": presenters.title(record, language),
            "url": str(record.url),
            "last_verified": presenters.verified(record, language),
        }

    def _answer_summary(
        self,
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        record: Programme,
        tracker: Tracker,
        language: str,
        domain: DomainDict,
    ) -> None:
        dispatcher.utter_message(
            response="utter_programme_summary",
            summary=presenters.localized(record.summary, language, domain),
            managing_body=record.managing_body or render(domain, "utter_frag_unknown", language),
            period=presenters.period_text(record, language, domain),
            budget=presenters.budget_text(record, language, domain),
            **self._common(record, language),
        )

    def _answer_eligibility(
        self,
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        record: Programme,
        tracker: Tracker,
        language: str,
        domain: DomainDict,
    ) -> None:
        applicant = tracker.get_slot("applicant_type")
        mentioned = parsing.applicants().find(tracker.latest_message.get("text") or "")
        applicant = mentioned or applicant
        eligible = presenters.applicant_labels(record.eligible_applicants, language) or (
            render(domain, "utter_frag_unknown", language)
        )
        common = {**self._common(record, language), "eligible": eligible}
        if not applicant or not record.eligible_applicants:
            dispatcher.utter_message(
                response="utter_programme_eligibility_list",
                countries=presenters.countries_label(record.eligible_countries, language)
                or render(domain, "utter_frag_unknown", language),
                **common,
            )
            return
        verdict = "yes" if applicant in record.eligible_applicants else "no"
        dispatcher.utter_message(
            response=f"utter_programme_eligibility_{verdict}",
            applicant=presenters.applicant_labels([applicant], language),
            **common,
        )

    def _answer_deadlines(
        self,
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        record: Programme,
        tracker: Tracker,
        language: str,
        domain: DomainDict,
    ) -> None:
        ids = [record.id] + [p.id for p in kb.programmes.values() if p.parent == record.id]
        calls = sorted(
            (c for pid in ids for c in upcoming_calls(kb, pid, self._clock())),
            key=lambda c: c.deadline,
        )
        dispatcher.utter_message(
            response="utter_programme_deadlines",
            calls=presenters.calls_text(calls, language, domain),
            **self._common(record, language),
        )
        if not calls:
            self._latest_closed_call(dispatcher, kb, ids, language)

    @staticmethod
    def _latest_closed_call(
        dispatcher: CollectingDispatcher, kb: KnowledgeBase, ids: list[str], language: str
    ) -> None:
        past = [c for c in kb.calls.values() if c.programme in ids]
        if not past:
            return
        latest = max(past, key=lambda c: c.closing_date)
        dispatcher.utter_message(
            response="utter_programme_recent_call",
            call=latest.call_id or latest.title.get(language)[0],
            deadline=date(latest.closing_date, language),
        )

    def _answer_cofinancing(
        self,
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        record: Programme,
        tracker: Tracker,
        language: str,
        domain: DomainDict,
    ) -> None:
        rate = record.funding_rate
        dispatcher.utter_message(
            response="utter_programme_cofinancing",
            rate=presenters.rate_text(rate.max_percent if rate else None, language, domain),
            rate_text=presenters.localized(rate.text, language, domain)
            if rate and rate.text
            else "",
            **self._common(record, language),
        )

    def _answer_how_to_apply(
        self,
        dispatcher: CollectingDispatcher,
        kb: KnowledgeBase,
        record: Programme,
        tracker: Tracker,
        language: str,
        domain: DomainDict,
    ) -> None:
        dispatcher.utter_message(
            response="utter_programme_how_to_apply",
            how_to_apply=presenters.localized(record.how_to_apply, language, domain),
            **self._common(record, language),
        )


def _links(record: Programme, language: str) -> dict[str, Any]:
    """Source links of the answer, for channels that show them as links."""
    return {
        "links": [{"title": presenters.title(record, language), "url": str(record.url)}],
        "records": [record.id],
    }
