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
# The funding finder's slots (`funding_form`), and the slot that lists the ones the
# user skipped ("don't know"): those are never asked again.
FINDER_SLOTS = ("applicant_type", "country", "themes", "budget", "cross_border")
SKIPPED_SLOT = "finder_skipped"
FINDER_FORM = "funding_form"
# Messages that answer the funding finder while it is not running (they start it).
ANSWER_INTENTS = frozenset({"find_funding", "inform", "start_finder", "affirm", "deny"})
# Requests that are never an answer, even inside the finder: "na hrvatskom" names a
# language, not a country. (set_city is read: "we are from Croatia" answers the form,
# and the city slot is set anyway.)
SIDE_REQUESTS = frozenset(
    {
        "set_language", "human_handoff", "restart_finder", "narrow_down",
        "more_results", "more_details", "submit_proposal", "proposal_status", "subscribe",
        "unsubscribe", "forget_me", "export_data",
    }
)  # fmt: skip
# Questions: inside the finder they are answered (and the finder resumes) when they
# are asked as questions; a statement the classifier took for one ("Tema je održivi
# promet i klima") is read as an answer.
QUESTIONS = QUESTION_INTENTS | frozenset(
    {"ask_best_practice", "ask_participation", "ask_events", "find_funding", "ask_open_calls"}
)


def _intent(tracker: Tracker) -> str | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    return name if isinstance(name, str) else None


def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _words(tracker: Tracker) -> str:
    """The user's words; a button payload ("/inform{...}") carries entities, not words."""
    text = _text(tracker)
    return "" if text.startswith("/") else text


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


def asked_slot(tracker: Tracker) -> str | None:
    """The finder slot the bot asked for last, if the finder is waiting for one."""
    requested = tracker.get_slot("requested_slot")
    return requested if requested in FINDER_SLOTS else None


def finder_running(tracker: Tracker) -> bool:
    """Whether the funding finder is in progress (a question of it is pending)."""
    return asked_slot(tracker) is not None or tracker.active_loop_name == FINDER_FORM


def is_answer(tracker: Tracker) -> bool:
    """Whether finder answers may be read from this message.

    Never while the proposal form waits for an answer: "a bike lane in Zagreb,
    Croatia" is a proposal, not the applicant's country. Inside the finder every
    message counts except side requests and real questions, so an answer is not
    lost when the classifier calls it chitchat.
    """
    if tracker.get_slot("requested_slot") in proposals.PROPOSAL_SLOTS:
        return False
    intent = _intent(tracker)
    if intent in SIDE_REQUESTS:
        return False
    if finder_running(tracker):
        return not (intent in QUESTIONS and "?" in _text(tracker))
    return intent in ANSWER_INTENTS


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
            value = lexicon.find(_words(tracker))
        return {"applicant_type": value} if value else {}

    async def extract_country(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The applicant's country (ISO code).

        Partners' countries are not the applicant's: "cross-border with Slovenia"
        keeps the country already given.
        """
        lexicon = parsing.countries()
        value = _valid_entity(tracker, "country", lexicon.keys)
        if value is None and is_answer(tracker) and not _names_partners(tracker):
            value = lexicon.find(_words(tracker))
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
            found = lexicon.find_all(_words(tracker))
        return {"themes": found} if found else {}

    async def extract_budget(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The total budget in euros.

        A bare number counts when the budget was asked for, and inside the finder
        when it is large and not a year ("300000" while the themes were asked).
        """
        if not is_answer(tracker):
            return {}
        value = parsing.parse_budget(
            _words(tracker),
            bare_number_ok=asked_slot(tracker) == "budget",
            bare_large_ok=finder_running(tracker),
        )
        return {"budget": value} if value is not None else {}

    async def extract_cross_border(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Partners from other countries: yes/no to the question, or a mention."""
        if asked_slot(tracker) == "cross_border" and is_answer(tracker):
            answer = _yes_no(tracker)
            if answer is not None:
                return {"cross_border": answer}
        if is_answer(tracker) and _names_partners(tracker):
            return {"cross_border": True}
        return {}

    async def extract_finder_skipped(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Remember a finder question the user cannot or will not answer.

        "Don't know" / "skip" skips the question asked; so does a bare "no" to a
        question that is not a yes/no one ("no" to "What is the project about?").
        """
        asked = asked_slot(tracker)
        if asked is None or not is_answer(tracker):
            return {}
        answer = parsing.short_answer(_words(tracker))
        said_no = answer == "no" or (answer is None and _intent(tracker) == "deny")
        if answer != "unknown" and not (said_no and asked != "cross_border"):
            return {}
        skipped = [s for s in tracker.get_slot(SKIPPED_SLOT) or [] if s in FINDER_SLOTS]
        return {SKIPPED_SLOT: sorted({*skipped, asked})}

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
    return asked_slot(tracker) == "themes" and bool(parsing.themes().find_all(_words(tracker)))


def _names_partners(tracker: Tracker) -> bool:
    """Whether the message speaks of cross-border partners."""
    return "cross_border_cooperation" in parsing.themes().find_all(_words(tracker))


def _yes_no(tracker: Tracker) -> bool | None:
    """Yes / no from the words (any language), else from the intent."""
    answer = parsing.short_answer(_words(tracker))
    if answer in ("yes", "no"):
        return answer == "yes"
    intent = _intent(tracker)
    if answer is None and intent in ("affirm", "deny"):
        return intent == "affirm"
    return None


def _valid_entity(tracker: Tracker, entity: str, allowed: frozenset[str]) -> str | None:
    """A payload value, only if the vocabulary knows it (forged values are dropped)."""
    for value in _entity_values(tracker, entity):
        if isinstance(value, str) and value in allowed:
            return value
    return None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
