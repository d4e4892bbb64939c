"""Write bot/tests/test_stories_<lang>.yml: the same flows in every language.

The flows (intent sequences, expected actions, form slots) are defined once here;
each language only supplies the user texts. Re-run after changing flows or texts:

    .venv/bin/python scripts/make_test_stories.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bot" / "tests"

# User texts per language, by key. Every language must define every key.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "greet": "hello there",
        "help": "what can you do?",
        "thanks": "thanks a lot",
        "goodbye": "bye bye",
        "chitchat": "are you a bot?",
        "out_of_scope": "what's the weather like today?",
        "set_language": "please answer in Croatian",
        "find_funding": "which EU programme funds town twinning?",
        "start_finder": "help me find funding for my project step by step",
        "ask_open_calls": "which calls are open right now?",
        "forget_me": "please delete everything you stored about me",
        "export_data": "what data do you have about me?",
        "set_city": "I live in Zagreb",
        "applicant": "we are a municipality",
        "country": "Croatia",
        "themes": "civic participation",
        "budget": "40000",
        "cross_border": "no",
        "more": "show more",
        "restart": "start over",
        "ask_programme": "what is CERV?",
        "ask_eligibility": "can NGOs apply to URBACT?",
        "ask_deadline": "when is the Networks of Towns deadline?",
        "ask_cofinancing": "what co-financing does LIFE require?",
        "ask_how_to_apply": "how do I apply to CERV?",
        "ask_best_practice": "how did other cities run participatory budgeting?",
        "ask_participation": "how can I take part in decisions in my city?",
        "ask_events": "upcoming events",
        "human_handoff": "I want to talk to a person",
        "submit_proposal": "I want to submit a proposal to the Forum",
        "yes": "yes",
        "no": "no",
        "proposal_status": "what is the status of FP-2026-00012?",
        "subscribe_theme": "remind me of closing calls about climate",
        "subscribe_programme": "subscribe me to CERV calls",
        "subscribe_city": "tell me about events in Zagreb and remind me",
        "unsubscribe": "stop reminders",
        "events_filtered": "events in Vienna next month",
    },
    "hr": {
        "greet": "dobar dan",
        "help": "što sve možeš?",
        "thanks": "hvala puno",
        "goodbye": "doviđenja",
        "chitchat": "jesi li ti robot?",
        "out_of_scope": "kakvo je vrijeme danas?",
        "set_language": "odgovaraj na engleskom",
        "find_funding": "koji EU program financira bratimljenje gradova?",
        "start_finder": "pomozi mi korak po korak pronaći financiranje za projekt",
        "ask_open_calls": "koji su pozivi trenutno otvoreni?",
        "forget_me": "molim obrišite sve što ste spremili o meni",
        "export_data": "koje podatke imate o meni?",
        "set_city": "živim u Zagrebu",
        "applicant": "mi smo općina",
        "country": "Hrvatska",
        "themes": "sudjelovanje građana",
        "budget": "40000",
        "cross_border": "ne",
        "more": "prikaži još",
        "restart": "kreni ispočetka",
        "ask_programme": "što je CERV?",
        "ask_eligibility": "može li se udruga prijaviti na URBACT?",
        "ask_deadline": "kada je rok za Mreže gradova?",
        "ask_cofinancing": "koliko je sufinanciranje za LIFE?",
        "ask_how_to_apply": "kako se prijaviti na CERV?",
        "ask_best_practice": "kako su drugi gradovi proveli participativni proračun?",
        "ask_participation": "kako mogu sudjelovati u odlukama svog grada?",
        "ask_events": "koja su događanja uskoro?",
        "human_handoff": "želim razgovarati s osobom",
        "submit_proposal": "želim poslati prijedlog Forumu",
        "yes": "da",
        "no": "ne",
        "proposal_status": "koji je status prijedloga FP-2026-00012?",
        "subscribe_theme": "podsjeti me na pozive o klimi prije zatvaranja",
        "subscribe_programme": "pretplati me na CERV pozive",
        "subscribe_city": "reci mi o događanjima u Zagrebu i podsjeti me",
        "unsubscribe": "zaustavi podsjetnike",
        "events_filtered": "događanja u Beču sljedeći mjesec",
    },
}

SIMPLE = {
    "greet": "utter_greet",
    "help": "utter_help",
    "thanks": "utter_thanks",
    "goodbye": "utter_goodbye",
    "chitchat": "action_answer_first",
    "out_of_scope": "action_answer_first",
    "find_funding": "action_answer_first",
    "ask_open_calls": "action_open_calls",
    "export_data": "action_export_data",
    "set_city": "action_set_city",
    "set_language": "action_switch_language",
    "ask_programme": "action_answer_programme",
    "ask_eligibility": "action_answer_programme",
    "ask_deadline": "action_answer_programme",
    "ask_cofinancing": "action_answer_programme",
    "ask_how_to_apply": "action_answer_programme",
    "ask_best_practice": "action_best_practices",
    "ask_participation": "action_participation",
    "ask_events": "action_participation",
    "human_handoff": "action_human_handoff",
}

# One-turn flows whose text key differs from the intent: (text key, intent, action).
SIMPLE_BY_TEXT = [
    ("proposal_status", "proposal_status", "action_proposal_status"),
    ("subscribe_theme", "subscribe", "action_subscribe"),
    ("subscribe_programme", "subscribe", "action_subscribe"),
    ("subscribe_city", "subscribe", "action_subscribe"),
    ("events_filtered", "ask_events", "action_participation"),
]

# The proposal form's free-text answers: any wording fills the slot the form asked
# for, so these steps carry the intent only (their NLU is not what is tested).
PROPOSAL_ANSWERS = [
    ("proposal_topic", "Shade on school routes", "proposal_text"),
    ("proposal_text", "Plant trees along the routes children walk to school.", "proposal_city"),
    ("proposal_city", "Zagreb", "proposal_contact"),
]


def user(texts: dict[str, str], key: str, intent: str) -> dict[str, Any]:
    """An end-to-end user step: the text and the intent NLU must find."""
    return {"user": texts[key], "intent": intent}


def proposal_steps(texts: dict[str, str]) -> list[dict[str, Any]]:
    """The proposal form from the request to the confirmation question."""
    steps: list[dict[str, Any]] = [
        user(texts, "submit_proposal", "submit_proposal"),
        {"action": "proposal_form"},
        {"active_loop": "proposal_form"},
        {"slot_was_set": [{"requested_slot": "proposal_topic"}]},
    ]
    for slot, value, next_slot in PROPOSAL_ANSWERS:
        steps += [
            {"intent": "inform"},
            {"slot_was_set": [{slot: value}]},
            {"action": "proposal_form"},
            {"slot_was_set": [{"requested_slot": next_slot}]},
        ]
    steps += [
        user(texts, "no", "deny"),
        {"slot_was_set": [{"proposal_contact": "none"}]},
        {"action": "proposal_form"},
        {"slot_was_set": [{"requested_slot": None}]},
        {"active_loop": None},
        {"action": "action_confirm_proposal"},
        {"slot_was_set": [{"awaiting": "proposal"}]},
    ]
    return steps


def draft_cleared() -> list[dict[str, Any]]:
    """Slot events of a stored or dropped draft (new dicts: YAML must not alias them)."""
    slots = ("proposal_topic", "proposal_text", "proposal_city", "proposal_contact", "awaiting")
    return [{slot: None} for slot in slots]


def civic_stories(texts: dict[str, str], language: str) -> list[dict[str, Any]]:
    """Proposals, their status, reminders and filtered events."""
    result = [
        {
            "story": f"{key} ({language})",
            "steps": [user(texts, key, intent), {"action": action}],
        }
        for key, intent, action in SIMPLE_BY_TEXT
    ]
    result += [
        {
            "story": f"Forum proposal submitted ({language})",
            "steps": [
                *proposal_steps(texts),
                user(texts, "yes", "affirm"),
                {"action": "action_submit_proposal"},
                {"slot_was_set": draft_cleared()},
            ],
        },
        {
            "story": f"Forum proposal not confirmed ({language})",
            "steps": [
                *proposal_steps(texts),
                user(texts, "no", "deny"),
                {"action": "action_cancel_pending"},
                {"slot_was_set": draft_cleared()},
            ],
        },
        {
            "story": f"Forum proposal cancelled in the form ({language})",
            "steps": [
                user(texts, "submit_proposal", "submit_proposal"),
                {"action": "proposal_form"},
                {"active_loop": "proposal_form"},
                {"slot_was_set": [{"requested_slot": "proposal_topic"}]},
                user(texts, "no", "deny"),
                {"action": "action_cancel_pending"},
                {"slot_was_set": draft_cleared()},
                {"action": "action_deactivate_loop"},
                {"active_loop": None},
            ],
        },
        {
            "story": f"stop reminders, confirmed ({language})",
            "steps": [
                user(texts, "unsubscribe", "unsubscribe"),
                {"action": "action_ask_unsubscribe"},
                {"slot_was_set": [{"awaiting": "unsubscribe"}]},
                user(texts, "yes", "affirm"),
                {"action": "action_unsubscribe_all"},
                {"slot_was_set": [{"awaiting": None}]},
            ],
        },
        {
            "story": f"stop reminders, declined ({language})",
            "steps": [
                user(texts, "unsubscribe", "unsubscribe"),
                {"action": "action_ask_unsubscribe"},
                {"slot_was_set": [{"awaiting": "unsubscribe"}]},
                user(texts, "no", "deny"),
                {"action": "action_cancel_pending"},
                {"slot_was_set": [{"awaiting": None}]},
            ],
        },
    ]
    return result


def stories(language: str) -> list[dict[str, Any]]:
    """Every flow of the bot as test stories in one language."""
    texts = TEXTS[language]
    result = [
        {
            "story": f"{intent} ({language})",
            "steps": [user(texts, intent, intent), {"action": action}],
        }
        for intent, action in SIMPLE.items()
    ]
    # The finder's own journeys are in bot/tests/test_stories_finder.yml.
    result.append(
        {
            "story": f"the guided finder starts when asked for ({language})",
            "steps": [
                user(texts, "start_finder", "start_finder"),
                {"action": "funding_form"},
                {"active_loop": "funding_form"},
            ],
        }
    )
    result.append(
        {
            "story": f"forget me, not confirmed ({language})",
            "steps": [
                user(texts, "forget_me", "forget_me"),
                {"action": "action_ask_forget"},
                {"slot_was_set": [{"awaiting": "forget"}]},
                user(texts, "no", "deny"),
                {"action": "action_cancel_pending"},
                {"slot_was_set": [{"awaiting": None}]},
            ],
        }
    )
    result += civic_stories(texts, language)
    return result


def main() -> None:
    """Write one file per language."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for language in TEXTS:
        path = OUT_DIR / f"test_stories_{language}.yml"
        body = {"version": "3.1", "stories": stories(language)}
        header = "# Generated by scripts/make_test_stories.py: edit the flows there.\n"
        path.write_text(
            header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
