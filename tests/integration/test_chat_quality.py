"""Quality gate on the real stack: the fast subset of the chat dev set and of the journeys.

48 questions (2 per official language) and 6 journeys of bench/chat_devset.yaml and
bench/journeys.yaml, judged as `make bench-chat` judges them (bench/chat_judge.py).
The floors are the figures last measured minus a margin (the issue's targets are in
bench/chat.py and docs/benchmarks.md): a regression fails, progress raises the floors.
"""

import os
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from stack import ROOT, Stack

sys.path.insert(0, str(ROOT / "bench"))

from chat import Answer, ask, figures, load_devset
from chat_journeys import http_sender, load_journeys, run_journey
from chat_judge import Catalogue, catalogue

pytestmark = [pytest.mark.integration, pytest.mark.rasa, pytest.mark.slow]

# Floors of the fast subset. Measured 2026-12-07 17:59 UTC with the 16:29 model (docs/benchmarks.md
# "Chat answers"): named 0.42, in language 0.94, no editor notes, 1 of 6 journeys. Raise them
# with every run that measures more; the targets are 0.90 / 0.97 / none / 90%.
NAMED_MIN = 0.35
IN_LANGUAGE_MIN = 0.85
JOURNEYS_MIN = 1
EDITOR_NOTES_MAX = 0


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return catalogue()


@pytest.fixture(scope="module")
def chat_client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """The shared stack's gateway, or CHAT_QUALITY_URL (a stack already running) if set."""
    base = os.environ.get("CHAT_QUALITY_URL")
    if not base:
        shared_stack: Stack = request.getfixturevalue("shared_stack")
        base = f"http://127.0.0.1:{shared_stack.ports.app}"
    with httpx.Client(base_url=base, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def answers(chat_client: httpx.Client, cat: Catalogue) -> list[Answer]:
    send = http_sender(chat_client)
    run = uuid.uuid4().hex[:8]
    questions = [q for q in load_devset() if q.fast]
    return [ask(q, send, f"quality-{run}-{q.id}", cat) for q in questions]


def test_fast_subset_is_two_questions_per_language() -> None:
    questions = [q for q in load_devset() if q.fast]
    assert len(questions) == 48
    assert len({q.lang for q in questions}) == 24


def test_replies_name_the_expected_record(answers: list[Answer]) -> None:
    result = figures(answers)
    missed = {a.id: a.text[:120] for a in answers if not a.named}
    assert result["errors"] == 0, [a.error for a in answers if a.error]
    assert result["named"] >= NAMED_MIN, missed


def test_replies_are_in_the_question_language(answers: list[Answer]) -> None:
    wrong = {a.id: a.judged_language for a in answers if not a.in_language}
    assert figures(answers)["in_language"] >= IN_LANGUAGE_MIN, wrong


def test_no_editor_notes_in_replies(answers: list[Answer]) -> None:
    noted = {a.id: a.editor_notes for a in answers if a.editor_notes}
    assert len(noted) <= EDITOR_NOTES_MAX, noted


def test_journeys(chat_client: httpx.Client, cat: Catalogue) -> None:
    send = http_sender(chat_client)
    run = uuid.uuid4().hex[:8]
    journeys = [j for j in load_journeys() if j.fast]
    assert len(journeys) == 6
    results = [run_journey(j, send, f"quality-{run}-{j.id}", cat) for j in journeys]
    failed = {r.id: r.failures for r in results if not r.passed}
    assert len(results) - len(failed) >= JOURNEYS_MIN, failed
