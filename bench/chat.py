"""Chat answers on the real stack: the chat dev set and the journeys (`make bench-chat`).

Starts the three processes as `make run` does (action server, Rasa, gateway), on free
loopback ports with a fresh tracker store, sends every dev-set question as a new
conversation and plays every journey, judges the replies (bench/chat_judge.py) and
writes the "## Chat answers" section of docs/benchmarks.md.

    .venv/bin/python bench/chat.py                 # everything, then the report section
    .venv/bin/python bench/chat.py --fast          # the CI subset (2 per language, 6 journeys)
    .venv/bin/python bench/chat.py --url http://127.0.0.1:8000   # a stack already running
    .venv/bin/python bench/chat.py check           # ids, slots and counts of both files
    .venv/bin/python bench/chat.py report          # rewrite the section from var/bench/chat.json

Results go to var/bench/chat.json (figures) and var/bench/chat-replies.json (every reply).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from chat_journeys import (  # noqa: E402
    JourneyResult,
    Send,
    http_sender,
    load_journeys,
    run_journey,
    validate,
)
from chat_judge import Catalogue, catalogue, judge_reply  # noqa: E402

import stack  # noqa: E402
from knowledge.languages import EU_LANGUAGES  # noqa: E402

DEVSET = ROOT / "bench" / "chat_devset.yaml"
RESULTS = ROOT / "var" / "bench"
REPORT = ROOT / "docs" / "benchmarks.md"
WORK_DIR = RESULTS / "chat-stack"
HEADING = "## Chat answers"
COMMAND = "make bench-chat"
MIN_PER_LANGUAGE = 8
MIN_QUESTIONS = 240
MIN_JOURNEYS = 30
# Targets of issue 14.
TARGET_NAMED = 0.90
TARGET_NAMED_PER_LANGUAGE = 0.80
TARGET_LANGUAGE = 0.97
TARGET_JOURNEYS = 0.90
FIRST_BUBBLE_CHARS = 600
REQUEST_TIMEOUT_SECONDS = 60.0


def log(message: str) -> None:
    print(f"[chat] {message}", flush=True)


# --------------------------------------------------------------------------- dev set


@dataclass(frozen=True)
class Question:
    """One labelled question of bench/chat_devset.yaml."""

    id: str
    lang: str
    kind: str
    q: str
    expected: tuple[str, ...]
    fast: bool


def load_devset(path: Path = DEVSET) -> list[Question]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Question(i["id"], i["lang"], i["kind"], i["q"], tuple(i["expected"]), bool(i.get("fast")))
        for i in items
    ]


@dataclass
class Answer:
    """One question's reply as judged."""

    id: str
    lang: str
    q: str
    expected: list[str]
    named: list[str]
    reply_language: str | None
    judged_language: str | None
    editor_notes: list[str]
    foreign: list[str]
    first_bubble_chars: int
    bubbles: int
    seconds: float
    text: str
    error: str | None

    @property
    def in_language(self) -> bool:
        """Judged in the question's language (nothing left to judge counts as in it)."""
        return self.judged_language is None or self.judged_language == self.lang


def ask(question: Question, send: Send, sender: str, cat: Catalogue) -> Answer:
    """Send one question as a new conversation and judge the reply."""
    started = time.monotonic()
    reply = send({"sender": sender, "message": question.q})
    seconds = time.monotonic() - started
    verdict = judge_reply(reply, question.lang, cat)
    return Answer(
        id=question.id,
        lang=question.lang,
        q=question.q,
        expected=list(question.expected),
        named=cat.named(verdict.text, question.expected),
        reply_language=reply.get("language"),
        judged_language=verdict.judged_language,
        editor_notes=verdict.editor_notes,
        foreign=verdict.foreign,
        first_bubble_chars=verdict.first_bubble_chars,
        bubbles=verdict.bubbles,
        seconds=seconds,
        text=verdict.text,
        error=reply.get("error"),
    )


def share(values: Sequence[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def figures(answers: Sequence[Answer]) -> dict[str, Any]:
    """Named, language, notes, foreign sentences and size for a group of answers."""
    chars = [a.first_bubble_chars for a in answers]
    return {
        "questions": len(answers),
        "named": share([bool(a.named) for a in answers]),
        "in_language": share([a.in_language for a in answers]),
        "undetermined_language": sum(a.judged_language is None for a in answers),
        "editor_notes": sum(bool(a.editor_notes) for a in answers),
        "foreign_sentence": sum(bool(a.foreign) for a in answers),
        "errors": sum(a.error is not None for a in answers),
        "first_bubble_median": statistics.median(chars) if chars else 0,
        "first_bubble_max": max(chars, default=0),
        "first_bubble_within": share([c <= FIRST_BUBBLE_CHARS for c in chars]),
        "bubbles_mean": statistics.fmean([a.bubbles for a in answers]) if answers else 0.0,
        "seconds_median": statistics.median([a.seconds for a in answers]) if answers else 0.0,
    }


def run_devset(
    questions: Sequence[Question], send: Send, run_id: str, cat: Catalogue
) -> list[Answer]:
    answers = []
    for number, question in enumerate(questions, start=1):
        answer = ask(question, send, f"bench-{run_id}-{question.id}", cat)
        mark = "named" if answer.named else "MISSED"
        log(
            f"question {number}/{len(questions)} {question.id}: {mark}, "
            f"language {answer.judged_language or '-'}, {answer.seconds:.1f} s"
        )
        answers.append(answer)
    return answers


def run_journeys(
    journeys: Sequence[Any], send: Send, run_id: str, cat: Catalogue
) -> list[JourneyResult]:
    results = []
    for number, journey in enumerate(journeys, start=1):
        result = run_journey(journey, send, f"bench-{run_id}-j{number}", cat)
        status = "pass" if result.passed else "FAIL: " + "; ".join(result.failures)[:200]
        log(f"journey {number}/{len(journeys)} {journey.id}: {status}")
        results.append(result)
    return results


# --------------------------------------------------------------------------- the stack


@contextmanager
def running_stack(model: Path | None) -> Iterator[tuple[str, str]]:
    """The three processes on free ports with fresh state; yields (gateway URL, model name)."""
    model = model or stack.ensure_model()
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    WORK_DIR.mkdir(parents=True)
    tracker = stack.TrackerStore(dialect="sqlite", db=str(WORK_DIR / "rasa-tracker.db"))
    ports = stack.Ports.free()
    log(f"starting the stack with {model.name} (logs: {WORK_DIR / 'log'})")
    with stack.Stack(ports, WORK_DIR, model, tracker, {"APP_REMINDERS_ENABLED": "false"}):
        yield f"http://{stack.LOOPBACK}:{ports.app}", model.name


def measure(
    base_url: str, questions: Sequence[Question], journeys: Sequence[Any], cat: Catalogue
) -> tuple[list[Answer], list[JourneyResult]]:
    run_id = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        send = http_sender(client)
        answers = run_devset(questions, send, run_id, cat)
        results = run_journeys(journeys, send, run_id, cat)
    return answers, results


def summarise(
    answers: Sequence[Answer], results: Sequence[JourneyResult], subset: str, model: str
) -> dict[str, Any]:
    languages = sorted({a.lang for a in answers})
    return {
        "subset": subset,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()),
        "model": model,
        "overall": figures(answers),
        "languages": {lang: figures([a for a in answers if a.lang == lang]) for lang in languages},
        "journeys": {
            "total": len(results),
            "passed": sum(r.passed for r in results),
            "failed": {r.id: r.failures for r in results if not r.passed},
        },
        "missed": {a.id: a.text[:160] for a in answers if not a.named},
        "notes": {a.id: a.editor_notes for a in answers if a.editor_notes},
        "foreign": {a.id: a.foreign for a in answers if a.foreign},
    }


def save(
    summary: dict[str, Any], answers: Sequence[Answer], results: Sequence[JourneyResult]
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "chat.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    details = {"answers": [asdict(a) for a in answers], "journeys": [asdict(r) for r in results]}
    (RESULTS / "chat-replies.json").write_text(json.dumps(details, indent=2, ensure_ascii=False))


# --------------------------------------------------------------------------- report


def _pct(value: float) -> str:
    return f"{value:.2f}"


def _mark(value: float, target: float) -> str:
    return f"{_pct(value)}" if value >= target else f"**{_pct(value)}**"


def _yes(met: bool) -> str:
    return "yes" if met else "no"


def target_rows(summary: dict[str, Any]) -> list[str]:
    """The issue's targets against this run's figures."""
    overall, journeys = summary["overall"], summary["journeys"]
    journey_share = journeys["passed"] / journeys["total"] if journeys["total"] else 0.0
    worst_lang, worst = min(summary["languages"].items(), key=lambda item: item[1]["named"])
    named, in_language = overall["named"], overall["in_language"]
    notes, foreign = overall["editor_notes"], overall["foreign_sentence"]
    bubble = (
        f"{_pct(overall['first_bubble_within'])} of replies (median "
        f"{overall['first_bubble_median']:.0f}, max {overall['first_bubble_max']})"
    )
    return [
        "| target | measured | met |",
        "|---|---|---|",
        f"| named, overall >= {TARGET_NAMED:.2f} | {_pct(named)} | {_yes(named >= TARGET_NAMED)} |",
        f"| named, every language >= {TARGET_NAMED_PER_LANGUAGE:.2f} | lowest {worst_lang} "
        f"{_pct(worst['named'])} | {_yes(worst['named'] >= TARGET_NAMED_PER_LANGUAGE)} |",
        f"| reply in the question's language >= {TARGET_LANGUAGE:.2f} | {_pct(in_language)} | "
        f"{_yes(in_language >= TARGET_LANGUAGE)} |",
        f"| no editor note in any reply | {notes} replies | {_yes(notes == 0)} |",
        f"| no sentence in another language | {foreign} replies | {_yes(foreign == 0)} |",
        f"| journeys passed >= {TARGET_JOURNEYS:.2f} | {journeys['passed']}/{journeys['total']} "
        f"({_pct(journey_share)}) | {_yes(journey_share >= TARGET_JOURNEYS)} |",
        f"| first bubble within about {FIRST_BUBBLE_CHARS} characters | {bubble} | |",
    ]


def language_rows(summary: dict[str, Any]) -> list[str]:
    """One row per language and the total (bold: below the per-language target)."""
    lines = [
        "| language | questions | named | in language | notes | foreign "
        "| first bubble (median chars) | bubbles (mean) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lang, row in [*summary["languages"].items(), ("**all**", summary["overall"])]:
        cells = [
            lang,
            str(row["questions"]),
            _mark(row["named"], TARGET_NAMED_PER_LANGUAGE),
            _mark(row["in_language"], TARGET_LANGUAGE),
            str(row["editor_notes"]),
            str(row["foreign_sentence"]),
            f"{row['first_bubble_median']:.0f}",
            f"{row['bubbles_mean']:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render(summary: dict[str, Any]) -> list[str]:
    """The "## Chat answers" section (figures below a target are bold)."""
    journeys = summary["journeys"]
    lines = [
        HEADING,
        "",
        f"Measured {summary['measured_at']} by `{COMMAND}` (`.venv/bin/python bench/chat.py`)",
        f"against the real stack (Rasa with {summary['model']}, action server, gateway;",
        f"load average {summary['load_average']}), {summary['subset']}. Each question of",
        "bench/chat_devset.yaml is a new conversation through `POST /api/v1/chat`, with no",
        "language hint. A reply *names* a record when a title of the record (any language) or",
        "its own acronym appears in it; *in language* is judged by lingua (not the bot's",
        "langdetect) on the reply without URLs, titles, quoted names, acronyms and numbers",
        "(Maltese, which lingua lacks, by its letters and function words); *notes* counts",
        "replies that repeat an editor's `note` / `uncertain` text; *foreign* counts replies",
        "with a sentence that lingua puts in another language with confidence >= 0.8.",
        "Figures below the issue's targets are bold.",
        "",
        *target_rows(summary),
        "",
        *language_rows(summary),
        "",
        f"Journeys (bench/journeys.yaml): {journeys['passed']} of {journeys['total']} passed.",
    ]
    if journeys["failed"]:
        lines += ["Failed:", ""]
        for jid, failures in journeys["failed"].items():
            lines.append(f"- `{jid}`: {'; '.join(failures)[:220]}")
    lines += [
        "",
        "Every reply is in var/bench/chat-replies.json after a run. The fast subset (2",
        "questions per language, 6 journeys) runs in `make test` as",
        "tests/integration/test_chat_quality.py.",
    ]
    return lines


def write_section(lines: Sequence[str], path: Path = REPORT) -> None:
    """Replace (or append) only the "## Chat answers" section of docs/benchmarks.md."""
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("## "):
            skipping = line == HEADING
        if not skipping:
            kept.append(line)
    body = "\n".join(kept).rstrip() + "\n\n" + "\n".join(lines).rstrip() + "\n"
    path.write_text(body, encoding="utf-8")
    log(f"wrote the {HEADING!r} section of {path}")


# --------------------------------------------------------------------------- check


def check(cat: Catalogue) -> int:
    """Problems of the dev set and journeys; 0 when there are none."""
    questions = load_devset()
    journeys = load_journeys()
    problems = validate(journeys, cat)
    ids = [q.id for q in questions]
    problems += [f"duplicate id {i}" for i in {i for i in ids if ids.count(i) > 1}]
    for question in questions:
        if question.lang not in EU_LANGUAGES:
            problems.append(f"{question.id}: unknown language {question.lang}")
        problems += [
            f"{question.id}: unknown record {r}" for r in question.expected if r not in cat.records
        ]
    for lang in EU_LANGUAGES:
        count = sum(q.lang == lang for q in questions)
        fast = sum(q.lang == lang and q.fast for q in questions)
        if count < MIN_PER_LANGUAGE:
            problems.append(f"{lang}: {count} questions (at least {MIN_PER_LANGUAGE})")
        if fast != 2:
            problems.append(f"{lang}: {fast} fast questions (2 expected)")
    if len(questions) < MIN_QUESTIONS:
        problems.append(f"{len(questions)} questions (at least {MIN_QUESTIONS})")
    if len(journeys) < MIN_JOURNEYS:
        problems.append(f"{len(journeys)} journeys (at least {MIN_JOURNEYS})")
    for problem in problems:
        print(problem)
    fast_journeys = sum(j.fast for j in journeys)
    print(f"{len(questions)} questions, {len(journeys)} journeys ({fast_journeys} fast): "
          f"{len(problems)} problems")  # fmt: skip
    return 1 if problems else 0


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", nargs="?", default="run", choices=["run", "check", "report"])
    parser.add_argument("--fast", action="store_true", help="the CI subset only")
    parser.add_argument("--url", help="base URL of a gateway already running (no stack started)")
    parser.add_argument("--model", type=Path, help="Rasa model to serve (default: train if needed)")
    parser.add_argument("--only", help="comma-separated question or journey ids")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    cat = catalogue()
    if args.command == "check":
        return check(cat)
    if args.command == "report":
        write_section(render(json.loads((RESULTS / "chat.json").read_text(encoding="utf-8"))))
        return 0
    if check(cat):
        return 1
    questions, journeys = load_devset(), load_journeys()
    subset = "all questions and journeys"
    if args.fast:
        questions = [q for q in questions if q.fast]
        journeys = [j for j in journeys if j.fast]
        subset = "the fast subset"
    if args.only:
        wanted = set(args.only.split(","))
        questions = [q for q in questions if q.id in wanted]
        journeys = [j for j in journeys if j.id in wanted]
        subset = "a selection"
    log(f"{len(questions)} questions, {len(journeys)} journeys")
    if args.url:
        model = "the model of the running stack"
        answers, results = measure(args.url, questions, journeys, cat)
    else:
        with running_stack(args.model) as (base_url, model):
            answers, results = measure(base_url, questions, journeys, cat)
    summary = summarise(answers, results, subset, model)
    save(summary, answers, results)
    section = render(summary)
    print("\n".join(section))
    if not args.no_report and not args.fast and not args.only:
        write_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
