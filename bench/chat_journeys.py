"""Multi-turn journeys (bench/journeys.yaml): run each as one conversation and check every turn.

The checks say what the user needs (a record named, a button offered, the reply's
language, no question asked again); see the header of bench/journeys.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from chat_judge import Catalogue, judge_language, reply_text, strip_names

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = ROOT / "bench" / "journeys.yaml"
DOMAIN_DIR = ROOT / "bot" / "domain"
CHAT_PATH = "/api/v1/chat"
# Finder slots and the domain responses that ask for them.
SLOT_QUESTIONS = {
    "applicant_type": "utter_ask_applicant_type",
    "country": "utter_ask_country",
    "themes": "utter_ask_themes",
    "budget": "utter_ask_budget",
    "cross_border": "utter_ask_cross_border",
}
# Replies that mean "I did not understand" (any language variation).
NOT_UNDERSTOOD = ("utter_default", "utter_clarify", "utter_out_of_scope")
CHECKS = frozenset(
    [
        "lang",
        "names_any",
        "names_none",
        "buttons_any",
        "buttons_none",
        "text_any",
        "text_none",
        "regex",
        "not_asked",
        "understood",
        "capture",
    ]
)
# Placeholders of captured values in texts: {ref}.
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Leading words of a question that tell it apart from the rest of its response.
QUESTION_WORDS = 4


@dataclass(frozen=True)
class Turn:
    """One user message and what its reply must show."""

    say: str | None
    press: str | None
    language: str | None
    context: dict[str, str]
    expect: dict[str, Any]


@dataclass(frozen=True)
class Journey:
    """One conversation of the journey set."""

    id: str
    title: str
    fast: bool
    turns: tuple[Turn, ...]
    eventually: tuple[dict[str, Any], ...]


@dataclass
class TurnResult:
    """A turn as it went: what was sent, what came back, which checks failed."""

    sent: str
    text: str
    language: str | None
    payloads: list[str]
    failures: list[str] = field(default_factory=list)


@dataclass
class JourneyResult:
    """A whole journey: its turns and failures."""

    id: str
    title: str
    turns: list[TurnResult]
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def load_journeys(path: Path = JOURNEYS) -> list[Journey]:
    """The journeys of bench/journeys.yaml, journey-level `lang` and `context` applied."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    journeys = []
    for item in items:
        default_lang = item.get("lang")
        context = dict(item.get("context") or {})
        turns = []
        for raw in item["turns"]:
            expect = dict(raw.get("expect") or {})
            if default_lang and "lang" not in expect:
                expect["lang"] = default_lang
            turns.append(
                Turn(
                    say=raw.get("say"),
                    press=raw.get("press"),
                    language=raw.get("language"),
                    context={**context, **(raw.get("context") or {})},
                    expect=expect,
                )
            )
        journeys.append(
            Journey(
                id=str(item["id"]),
                title=str(item.get("title", "")),
                fast=bool(item.get("fast")),
                turns=tuple(turns),
                eventually=tuple(item.get("eventually") or ()),
            )
        )
    return journeys


# --------------------------------------------------------------------------- domain texts


@cache
def response_texts(name: str) -> tuple[str, ...]:
    """Every variation's text of a domain response (all languages)."""
    texts: list[str] = []
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for variation in (data.get("responses") or {}).get(name, []):
            if variation.get("text"):
                texts.append(str(variation["text"]))
    return tuple(texts)


def _opening(text: str) -> str:
    """The first words of a response, without placeholders: enough to recognise it."""
    words = _PLACEHOLDER.sub(" ", text).split()
    return " ".join(words[:QUESTION_WORDS]).casefold()


def says_response(text: str, name: str) -> bool:
    """True when `text` contains one of the response's variations (by its opening words)."""
    folded = " ".join(text.split()).casefold()
    return any(_opening(v) and _opening(v) in folded for v in response_texts(name))


# --------------------------------------------------------------------------- checks


def _fill(value: str, captured: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: captured.get(m.group(1), m.group(0)), value)


def _payloads(reply: dict[str, Any]) -> list[str]:
    return [
        str(b.get("payload") or "")
        for m in reply.get("messages") or []
        for b in m.get("buttons") or []
    ]


def check_reply(
    expect: dict[str, Any],
    reply: dict[str, Any],
    cat: Catalogue,
    captured: dict[str, str],
) -> list[str]:
    """Failed checks of one reply (empty: it passed). Captures go into `captured`."""
    text = reply_text(reply)
    payloads = _payloads(reply)
    folded = text.casefold()
    failures: list[str] = []

    def fail(condition: bool, message: str) -> None:
        if condition:
            failures.append(message)

    if "lang" in expect:
        judged = judge_language(strip_names(text, cat))
        # Nothing left to judge (only names and numbers) is not another language.
        fail(
            judged is not None and judged != expect["lang"],
            f"language {judged} != {expect['lang']}",
        )
    if "names_any" in expect:
        fail(not cat.named(text, expect["names_any"]), f"names none of {expect['names_any']}")
    if "names_none" in expect:
        wrong = cat.named(text, expect["names_none"])
        fail(bool(wrong), f"names {wrong}")
    if "buttons_any" in expect:
        offered = any(p.startswith(tuple(expect["buttons_any"])) for p in payloads)
        fail(not offered, f"no button {expect['buttons_any']} (has {payloads})")
    if "buttons_none" in expect:
        bad = [p for p in payloads if p.startswith(tuple(expect["buttons_none"]))]
        fail(bool(bad), f"buttons {bad}")
    if "text_any" in expect:
        wanted = [_fill(s, captured).casefold() for s in expect["text_any"]]
        fail(not any(w in folded for w in wanted), f"text has none of {wanted}")
    if "text_none" in expect:
        bad_texts = [s for s in expect["text_none"] if _fill(s, captured).casefold() in folded]
        fail(bool(bad_texts), f"text has {bad_texts}")
    if "regex" in expect:
        fail(re.search(expect["regex"], text) is None, f"text does not match {expect['regex']}")
    for slot in expect.get("not_asked", ()):
        fail(says_response(text, SLOT_QUESTIONS[slot]), f"asks again for {slot}")
    if expect.get("understood", True):
        missed = [n for n in NOT_UNDERSTOOD if says_response(text, n)]
        fail(bool(missed), f"not understood ({missed[0]})" if missed else "")
    for name, pattern in (expect.get("capture") or {}).items():
        match = re.search(pattern, text)
        if match:
            captured[name] = match.group(1)
        else:
            failures.append(f"nothing to capture as {name} ({pattern})")
    return failures


def check_eventually(
    checks: dict[str, Any], replies: Sequence[dict[str, Any]], cat: Catalogue
) -> str | None:
    """None when one reply in the check's turn range passes it, else why not."""
    first, last = int(checks.get("from", 1)), int(checks.get("by", len(replies)))
    expect = {k: v for k, v in checks.items() if k not in ("from", "by")}
    expect.setdefault("understood", False)
    window = replies[first - 1 : last]
    if any(not check_reply(expect, reply, cat, {}) for reply in window):
        return None
    return f"turns {first}-{last}: no reply with {expect}"


# --------------------------------------------------------------------------- running


Send = Callable[[dict[str, Any]], dict[str, Any]]


def http_sender(client: httpx.Client) -> Send:
    """POST one chat API body, return the reply (an error status is a reply without text)."""

    def send(body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(CHAT_PATH, json=body)
        if response.status_code != 200:
            return {"messages": [], "error": f"HTTP {response.status_code}: {response.text[:200]}"}
        data: dict[str, Any] = response.json()
        return data

    return send


def _message(turn: Turn, previous: dict[str, Any] | None, captured: dict[str, str]) -> str:
    """The text to send: `say` filled in, or the pressed button's payload."""
    if turn.press is not None:
        for payload in _payloads(previous or {}):
            if payload.startswith(turn.press):
                return payload
        return turn.press
    return _fill(turn.say or "", captured)


def run_journey(journey: Journey, send: Send, sender: str, cat: Catalogue) -> JourneyResult:
    """Play one journey as one conversation; every turn is checked."""
    captured: dict[str, str] = {}
    replies: list[dict[str, Any]] = []
    results: list[TurnResult] = []
    failures: list[str] = []
    previous: dict[str, Any] | None = None
    for number, turn in enumerate(journey.turns, start=1):
        message = _message(turn, previous, captured)
        body: dict[str, Any] = {"sender": sender, "message": message, **turn.context}
        if turn.language:
            body["language"] = turn.language
        reply = send(body)
        problems = [reply["error"]] if reply.get("error") else []
        problems += check_reply(turn.expect, reply, cat, captured)
        results.append(
            TurnResult(
                sent=message,
                text=reply_text(reply),
                language=reply.get("language"),
                payloads=_payloads(reply),
                failures=problems,
            )
        )
        failures += [f"turn {number}: {p}" for p in problems]
        replies.append(reply)
        previous = reply
    for checks in journey.eventually:
        problem = check_eventually(checks, replies, cat)
        if problem:
            failures.append(problem)
    return JourneyResult(journey.id, journey.title, results, failures)


def validate(journeys: Iterable[Journey], cat: Catalogue) -> list[str]:
    """Problems of the journey file: unknown checks, record ids or slots."""
    problems: list[str] = []
    for journey in journeys:
        checks = [t.expect for t in journey.turns] + [
            {k: v for k, v in e.items() if k not in ("from", "by")} for e in journey.eventually
        ]
        for expect in checks:
            for key in set(expect) - CHECKS:
                problems.append(f"{journey.id}: unknown check {key}")
            for key in ("names_any", "names_none"):
                for rid in expect.get(key, ()):
                    if rid not in cat.records:
                        problems.append(f"{journey.id}: unknown record {rid}")
            for slot in expect.get("not_asked", ()):
                if slot not in SLOT_QUESTIONS:
                    problems.append(f"{journey.id}: unknown slot {slot}")
        for turn in journey.turns:
            if (turn.say is None) == (turn.press is None):
                problems.append(f"{journey.id}: a turn needs exactly one of say / press")
    return problems
