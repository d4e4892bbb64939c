"""Per-turn slot extraction: language, funding-finder and proposal answers, the programme.

Rasa runs this after every user message (`action_extract_slots`), before it picks
the next action. Deciding the language here, rather than in the action that
replies, means the slot is already set when Rasa renders the response's language
variation. Finder answers are read from any message, so users can answer in any
order and correct themselves ("actually we are an NGO").
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot import parsing, proposals
from bot.kb_access import get_knowledge_base
from bot.language import LanguageHints, decide_language, normalise_code
from bot.turn_info import report_turn
from knowledge.resolve import find_programme

# Metadata keys a channel may send with a message (see channels/conversation.py).
META_EXPLICIT_LANGUAGE = "lang_pref"
META_CHANNEL_HINT = "lang_hint"

QUESTION_INTENTS = frozenset(
    {"ask_programme", "ask_eligibility", "ask_deadline", "ask_cofinancing", "ask_how_to_apply"}
)
# Messages that answer the funding finder. Other messages are about something else
# ("na hrvatskom" names a language, not a country; a question about best practices
# in the middle of the form is a question), except while the form waits for an answer.
ANSWER_INTENTS = frozenset({"find_funding", "inform", "affirm", "deny"})
NOT_ANSWERS = QUESTION_INTENTS | frozenset(
    {
        "set_language", "greet", "goodbye", "thanks", "chitchat", "help", "out_of_scope",
        "ask_best_practice", "ask_participation", "ask_events", "human_handoff",
        "restart_finder", "narrow_down", "more_results",
        "submit_proposal", "proposal_status", "subscribe", "unsubscribe",
    }
)  # fmt: skip


def _intent(tracker: Tracker) -> str | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    return name if isinstance(name, str) else None


def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _entity_values(tracker: Tracker, entity: str) -> list[Any]:
    """Values of an entity in the message (button payloads carry them)."""
    return [
        e.get("value")
        for e in (tracker.latest_message or {}).get("entities") or []
        if e.get("entity") == entity
    ]


def _confidence(tracker: Tracker) -> float | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    value = intent.get("confidence")
    return float(value) if isinstance(value, int | float) else None


def is_answer(tracker: Tracker) -> bool:
    """Whether finder answers may be read from this message.

    Never while the proposal form waits for an answer: "a bike lane in Zagreb,
    Croatia" is a proposal, not the applicant's country.
    """
    if tracker.get_slot("requested_slot") in proposals.PROPOSAL_SLOTS:
        return False
    intent = _intent(tracker)
    if intent in ANSWER_INTENTS:
        return True
    return tracker.get_slot("requested_slot") is not None and intent not in NOT_ANSWERS


def _metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def requested_language(tracker: Tracker) -> str | None:
    """The language the user asks for in this message ("speak German"), if any."""
    if _intent(tracker) != "set_language":
        return None
    return normalise_code(parsing.language_names().find(_text(tracker)))


class ValidateSlotMappings(ValidationAction):
    """Fills the custom-mapped slots of the domain from every user message."""

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Fill the `language` slot for this turn."""
        metadata = _metadata(tracker)
        explicit = (
            requested_language(tracker)
            or _as_str(metadata.get(META_EXPLICIT_LANGUAGE))
            or _as_str(tracker.get_slot("language_pref"))
        )
        hints = LanguageHints(
            explicit=explicit,
            previous=_as_str(tracker.get_slot("language")),
            channel=_as_str(metadata.get(META_CHANNEL_HINT)),
        )
        # A button payload ("/find_funding") is not the user's words: no evidence.
        text = "" if _text(tracker).startswith("/") else _text(tracker)
        # langdetect loads its profiles on first use: keep that off the event loop.
        language = await asyncio.to_thread(decide_language, text, hints)
        # Our gateway reads the turn's language, intent and confidence from this
        # message and drops it; Rasa's own connectors never ask for it.
        report_turn(
            dispatcher,
            tracker,
            language=language,
            intent=_intent(tracker),
            confidence=_confidence(tracker),
        )
        return {"language": language}

    async def extract_language_pref(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Remember a language the user asked for, so it sticks."""
        requested = requested_language(tracker)
        return {"language_pref": requested} if requested else {}

    async def extract_applicant_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Who applies: from a button payload or the words of the message."""
        lexicon = parsing.applicants()
        value = _valid_entity(tracker, "applicant_type", lexicon.keys)
        if value is None and is_answer(tracker) and not _answers_themes(tracker):
            value = lexicon.find(_text(tracker))
        return {"applicant_type": value} if value else {}

    async def extract_country(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The applicant's country (ISO code)."""
        lexicon = parsing.countries()
        value = _valid_entity(tracker, "country", lexicon.keys)
        if value is None and is_answer(tracker):
            value = lexicon.find(_text(tracker))
        return {"country": value} if value else {}

    async def extract_themes(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The project's themes; a new mention replaces the old ones."""
        lexicon = parsing.themes()
        from_payload = [
            v
            for value in _entity_values(tracker, "themes")
            for v in (value if isinstance(value, list) else [value])
            if v in lexicon.keys
        ]
        found = from_payload
        if not found and is_answer(tracker):
            found = lexicon.find_all(_text(tracker))
        return {"themes": found} if found else {}

    async def extract_budget(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The total budget in euros; a bare number counts when it was asked for."""
        if not is_answer(tracker):
            return {}
        asked = tracker.get_slot("requested_slot") == "budget"
        value = parsing.parse_budget(_text(tracker), bare_number_ok=asked)
        return {"budget": value} if value is not None else {}

    async def extract_cross_border(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Partners from other countries: yes/no to the question, or a mention."""
        intent = _intent(tracker)
        if tracker.get_slot("requested_slot") == "cross_border" and intent in ("affirm", "deny"):
            return {"cross_border": intent == "affirm"}
        if is_answer(tracker) and "cross_border_cooperation" in parsing.themes().find_all(
            _text(tracker)
        ):
            return {"cross_border": True}
        return {}

    async def extract_programme(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The programme a question is about (kept for follow-up questions)."""
        kb = await asyncio.to_thread(get_knowledge_base)
        for value in _entity_values(tracker, "programme"):
            if isinstance(value, str) and value in kb.programmes:
                return {"programme": value}
        if _intent(tracker) not in QUESTION_INTENTS:
            return {}
        programme = find_programme(kb, _text(tracker))
        return {"programme": programme.id} if programme else {}

    async def extract_proposal_topic(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The proposal's topic, when the form asked for it."""
        return _proposal_answer(tracker, proposals.TOPIC_SLOT)

    async def extract_proposal_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The proposal itself, when the form asked for it."""
        return _proposal_answer(tracker, proposals.TEXT_SLOT)

    async def extract_proposal_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The city the proposal is for, when the form asked for it."""
        return _proposal_answer(tracker, proposals.CITY_SLOT)

    async def extract_proposal_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An e-mail address or "no", when the form asked for it."""
        return _proposal_answer(tracker, proposals.CONTACT_SLOT)


def _proposal_answer(tracker: Tracker, slot: str) -> dict[str, Any]:
    message = proposals.Message(text=_text(tracker), intent=_intent(tracker))
    value = proposals.answer_for(slot, tracker.get_slot("requested_slot"), message)
    return {slot: value} if value is not None else {}


def _answers_themes(tracker: Tracker) -> bool:
    """Whether the message answers the themes question ("young people" is a theme)."""
    return tracker.get_slot("requested_slot") == "themes" and bool(
        parsing.themes().find_all(_text(tracker))
    )


def _valid_entity(tracker: Tracker, entity: str, allowed: frozenset[str]) -> str | None:
    """A payload value, only if the vocabulary knows it (forged values are dropped)."""
    for value in _entity_values(tracker, entity):
        if isinstance(value, str) and value in allowed:
            return value
    return None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
