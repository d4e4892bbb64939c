"""Whole-system load test: chat latency, throughput, cold start and memory (`make loadtest`).

Starts our three processes (action server, Rasa, gateway) and, next to them, the
bare reference: the `rasa init` example bot, generated and trained at run time and
served the same way (its action server, `rasa run` with the same REST channel and
SQL tracker store on SQLite, and a thin `POST /api/v1/chat` gateway in
bench/reference/gateway.py). Every figure is measured for both bots in the same run,
so each one is also a ratio.

    .venv/bin/python bench/load.py            # everything, then docs/benchmarks.md
    .venv/bin/python bench/load.py --quick    # a few turns per level (trying it out)

What is measured, on loopback only, with an asyncio + httpx driver:

- closed loop: 1, 8 and 32 virtual users, each with its own sender ids, send dev-set
  questions (9 languages) and short "what is X" questions, one after the other;
  a bounded number of turns per level after a warm-up; p50 / p95 / max, errors,
  throughput. Both bots at both entry points: our gateway vs the thin reference
  gateway, and Rasa's REST webhook of each bot (the ratio of like with like).
- open loop: the request rate through each gateway is stepped up until p95 passes
  1 s; the last rate under it is the sustained throughput.
- cold start: process start to healthy, per process, started together as
  `make run` does; then the first chat turn.
- memory: VmRSS and VmHWM of each process (/proc) after the load.

Results go to var/bench/system.json; bench/run.py renders them into the report.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import run as bench_report  # noqa: E402  (bench/run.py: save() and the report)

import stack  # noqa: E402

REFERENCE_DIR = ROOT / "bench" / "reference"
WORK_DIR = ROOT / "var" / "bench" / "load"
# The generated `rasa init` project and its model, reused while Rasa is unchanged.
REFERENCE_PROJECT = ROOT / "var" / "bench" / "reference-bot"
DEVSET = ROOT / "bench" / "devset.yaml"
COMMAND = "make loadtest"

# Concurrency levels (virtual users) of the closed-loop test, from the issue.
LEVELS = (1, 8, 32)
# Measured turns per level and entry point (bounded run time), and with --quick.
TURNS_PER_LEVEL = 240
QUICK_TURNS_PER_LEVEL = 24
# Unmeasured turns before each level: caches, connection pools, lazy loading.
WARMUP_TURNS_MIN = 10
# A virtual user starts a new conversation (new sender id) after this many turns,
# so trackers stay as long as real conversations instead of growing all run long.
CONVERSATION_TURNS = 8
# Paced users: the same closed loop, but each user reads the answer and types the
# next message before sending it, a pause drawn uniformly from this range (seconds,
# Locust's `between(1, 5)`), and starts at a random moment within it. Gateway only.
PACED_LEVELS = (8, 32)
THINK_SECONDS = (1.0, 5.0)
PACE_SEED = 5
# Any answer slower than this is an error (the gateway itself waits 30 s for Rasa).
REQUEST_TIMEOUT_SECONDS = 30.0

# Open loop: the p95 the issue allows, how long each rate is held, the first rate
# and the step as fractions of the closed-loop throughput at 8 users, at most so many
# steps, and the error rate that also ends the ladder.
SUSTAINED_P95_LIMIT_MS = 1000.0
STEP_SECONDS = 12.0
QUICK_STEP_SECONDS = 4.0
FIRST_RATE_FRACTION = 0.5
RATE_STEP_FRACTION = 0.15
MAX_RATE_STEPS = 10
QUICK_MAX_RATE_STEPS = 3
MAX_ERROR_RATE = 0.01
# Open-loop requests cycle through this many senders, far enough apart in time
# that one conversation rarely has two turns in flight (Rasa would serialise them).
OPEN_LOOP_SENDERS = 64
# Open-loop requests give up sooner: past the p95 limit the step has failed anyway.
OPEN_LOOP_TIMEOUT_SECONDS = 10.0
ERROR_PENALTY_MS = OPEN_LOOP_TIMEOUT_SECONDS * 1000

# Short programme questions in several languages, as citizens type them; the
# rest of the turns are the dev set's questions (bench/devset.yaml).
SHORT_QUESTIONS = (
    ("en", "What is CERV?"),
    ("en", "Who can apply to LIFE?"),
    ("de", "Was ist Interreg?"),
    ("fr", "Qu'est-ce que le FEDER ?"),
    ("hr", "Što je CERV?"),
    ("es", "¿Qué es Horizonte Europa?"),
    ("it", "Che cos'è Erasmus+?"),
    ("pl", "Co to jest program LIFE?"),
)
# Seed of the question order: both bots get the same turns in the same order.
QUESTION_SEED = 8

# Health polling while measuring cold start.
HEALTH_POLL_SECONDS = 0.25
# Rasa may take minutes to load a model on a busy machine.
COLD_START_TIMEOUT_SECONDS = 300.0

# Profile (only with py-spy: PY_SPY=<path> or on PATH): turns at 8 users through our
# gateway while py-spy samples our three processes at this rate, and the functions
# whose share of each process's CPU is reported (label, frame name as py-spy prints it).
PROFILE_USERS = 8
PROFILE_TURNS = 160
PROFILE_RATE_HZ = 100
PROFILE_STOP_SECONDS = 30.0
COST_CENTRES: dict[str, tuple[tuple[str, str], ...]] = {
    "Rasa server": (
        ("validating action-server answers (jsonschema)", "RemoteAction._validate_action_result"),
        ("encoding action-server requests (JSON)", "JsonPayload.__init__"),
        ("tracker store: save", "SQLTrackerStore.save"),
        ("tracker store: read", "SQLTrackerStore.retrieve"),
        ("NLU (featurizers, DIET)", "MessageProcessor.parse_message"),
        ("policies", "MessageProcessor._predict_next_with_tracker"),
        ("response templates: failed slot interpolation logged", "exception (structlog"),
    ),
    "action server": (
        ("parsing Rasa's request JSON (tracker + domain)", "Request.load_json"),
        ("slot extraction: bot/parsing.py Lexicon.find_all", "Lexicon.find_all"),
        ("retrieval incl. query embedding", "HybridRetriever.search"),
        ("language decision", "decide_language"),
    ),
    "FastAPI app": (
        ("FastAPI route: validation, handler, serialisation", "request_response.<locals>.app"),
        ("recording the question (SQLite, worker thread)", "record_question"),
        ("access-log lines that fail to format (traceback printed)", "Handler.handleError"),
    ),
}

OURS = "ours"
REFERENCE = "reference"
GATEWAY = "gateway"
WEBHOOK = "webhook"
REST_WEBHOOK = "/webhooks/rest/webhook"
CHAT_PATH = "/api/v1/chat"


def log(message: str) -> None:
    print(f"[load] {message}", flush=True)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


# --------------------------------------------------------------------------- questions


def questions() -> list[tuple[str, str]]:
    """(language, text) of every turn, in a fixed shuffled order."""
    items = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    pool = [(str(i["lang"]), str(i["q"])) for i in items] + list(SHORT_QUESTIONS)
    random.Random(QUESTION_SEED).shuffle(pool)
    return pool


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One entry point of one bot."""

    bot: str
    path: str
    url: str

    @property
    def name(self) -> str:
        return f"{self.bot}/{self.path}"

    def payload(self, sender: str, text: str) -> dict[str, Any]:
        if self.path == GATEWAY:
            return {"sender": sender, "message": text}
        # Straight to Rasa: the metadata our gateway sends, so the webhook figure
        # is the gateway's Rasa leg (the reference bot ignores it).
        return {"sender": sender, "message": text, "metadata": {"want_meta": True}}

    def answered(self, response: httpx.Response) -> bool:
        """A turn counts when it is 200 with at least one message."""
        if response.status_code != httpx.codes.OK:
            return False
        body = response.json()
        messages = body.get("messages") if isinstance(body, dict) else body
        return isinstance(messages, list) and len(messages) > 0


@dataclass
class Sample:
    """Latencies (ms) of answered turns, errors, and the wall time they took."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add_error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def summary(self) -> dict[str, Any]:
        """Percentiles and rates; latency fields are None when nothing was answered."""
        done = len(self.latencies_ms)
        total = done + self.errors
        result: dict[str, Any] = {
            "turns": total,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "seconds": self.seconds,
            "throughput_per_s": done / self.seconds if self.seconds else 0.0,
            "p50_ms": None,
            "p95_ms": None,
            "max_ms": None,
            "mean_ms": None,
            "p95_with_errors_ms": None,
        }
        if not done:
            return result
        values = np.asarray(self.latencies_ms, dtype=np.float64)
        # For the open-loop verdict an error counts as an answer after the timeout.
        with_errors = np.concatenate([values, np.full(self.errors, ERROR_PENALTY_MS)])
        result.update(
            p50_ms=float(np.percentile(values, 50)),
            p95_ms=float(np.percentile(values, 95)),
            max_ms=float(values.max()),
            mean_ms=float(values.mean()),
            p95_with_errors_ms=float(np.percentile(with_errors, 95)),
        )
        return result


async def one_turn(
    client: httpx.AsyncClient,
    target: Target,
    sender: str,
    text: str,
    sample: Sample | None,
    started: float | None = None,
) -> None:
    """Send one turn; record its latency from `started` (default: now) or its error."""
    began = time.perf_counter() if started is None else started
    try:
        response = await client.post(target.url, json=target.payload(sender, text))
        ok = target.answered(response)
        kind = "" if ok else f"HTTP {response.status_code}"
    except httpx.TimeoutException:
        ok, kind = False, "timeout"
    except (httpx.HTTPError, ValueError) as exc:
        ok, kind = False, type(exc).__name__
    if sample is None:
        return
    if ok:
        sample.latencies_ms.append((time.perf_counter() - began) * 1000)
    else:
        sample.add_error(kind)


# --------------------------------------------------------------------------- closed loop


async def closed_loop(
    target: Target,
    users: int,
    turns: int,
    pool: list[tuple[str, str]],
    run_id: str,
    think: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """`users` virtual users share `turns` turns; each waits for its answer.

    With `think`, a user pauses that long (uniform, seeded) before each next turn,
    as a person reading and typing does; without, turns follow back to back.
    """
    warmup = max(WARMUP_TURNS_MIN, users)
    pace = random.Random(PACE_SEED)
    sample = Sample()
    # Indexes below `warmup` are the warm-up turns, sent before the clock starts.
    counter = itertools.count(warmup)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS)

    mode = "c" if think is None else "p"

    async def user(number: int) -> None:
        own_turns = 0
        if think is not None:
            await asyncio.sleep(pace.uniform(0.0, think[1]))
        while (index := next(counter)) < warmup + turns:
            conversation = own_turns // CONVERSATION_TURNS
            sender = f"{run_id}-{target.bot}-{target.path}-{mode}{users}-u{number}-{conversation}"
            _, text = pool[index % len(pool)]
            await one_turn(client, target, sender, text, sample)
            own_turns += 1
            if think is not None:
                await asyncio.sleep(pace.uniform(*think))

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        for i in range(warmup):
            _, text = pool[i % len(pool)]
            sender = f"{run_id}-{target.bot}-{target.path}-warm{users}-{i}"
            await one_turn(client, target, sender, text, None)
        started = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        sample.seconds = time.perf_counter() - started
    result = sample.summary()
    paced = "" if think is None else " paced"
    log(
        f"{target.name:<18} {users:>2}{paced} users: p50 {ms(result['p50_ms'])}, "
        f"p95 {ms(result['p95_ms'])}, max {ms(result['max_ms'])}, "
        f"{result['throughput_per_s']:.1f} turns/s, {result['errors']} errors"
    )
    return result


# --------------------------------------------------------------------------- open loop


async def fixed_rate(
    target: Target, rate: float, seconds: float, pool: list[tuple[str, str]], run_id: str
) -> dict[str, Any]:
    """Send at `rate` per second whatever the answers do (open loop).

    Latency counts from when a request was due, not when it was sent, so a late
    driver cannot hide queueing (coordinated omission).
    """
    count = max(1, round(rate * seconds))
    interval = 1.0 / rate
    sample = Sample()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=OPEN_LOOP_SENDERS)
    timeout = httpx.Timeout(OPEN_LOOP_TIMEOUT_SECONDS)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        tasks = []
        began = time.perf_counter()
        for i in range(count):
            due = began + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            conversation = i // (OPEN_LOOP_SENDERS * CONVERSATION_TURNS)
            user = i % OPEN_LOOP_SENDERS
            sender = f"{run_id}-{target.bot}-{target.path}-r{rate:g}-u{user}-{conversation}"
            _, text = pool[i % len(pool)]
            tasks.append(asyncio.create_task(one_turn(client, target, sender, text, sample, due)))
        await asyncio.gather(*tasks)
        sample.seconds = time.perf_counter() - began
    result = sample.summary()
    result["rate_per_s"] = rate
    log(
        f"{target.name:<18} {rate:>5.1f}/s: p50 {ms(result['p50_ms'])}, "
        f"p95 {ms(result['p95_ms'])}, {result['errors']} errors"
    )
    return result


async def sustained(
    target: Target,
    closed_throughput: float,
    pool: list[tuple[str, str]],
    run_id: str,
    step_seconds: float,
    max_steps: int,
) -> dict[str, Any]:
    """Step the rate up until p95 (errors counted as slow) passes the limit."""
    first = max(1.0, round(closed_throughput * FIRST_RATE_FRACTION, 1))
    step = max(0.5, round(closed_throughput * RATE_STEP_FRACTION, 1))
    steps: list[dict[str, Any]] = []
    last_good: dict[str, Any] | None = None
    for number in range(max_steps):
        rate = round(first + number * step, 1)
        result = await fixed_rate(target, rate, step_seconds, pool, run_id)
        steps.append(result)
        failed = (
            result["p95_with_errors_ms"] is None
            or result["p95_with_errors_ms"] > SUSTAINED_P95_LIMIT_MS
            or result["errors"] > MAX_ERROR_RATE * result["turns"]
        )
        if failed:
            break
        last_good = result
    return {
        "steps": steps,
        "sustained_rate_per_s": last_good["rate_per_s"] if last_good else None,
        "sustained_p95_ms": last_good["p95_ms"] if last_good else None,
        "limit_reached": len(steps) < max_steps or last_good is None,
        "step_seconds": step_seconds,
    }


# --------------------------------------------------------------------------- processes


def reference_model(fresh: bool) -> Path:
    """Generate and train the `rasa init` example bot, or reuse the one from last run."""
    models = sorted((REFERENCE_PROJECT / "models").glob("*.tar.gz"))
    if models and not fresh:
        log(f"reference bot: reusing {models[-1].relative_to(ROOT)} (--fresh-reference redoes it)")
        return models[-1]
    shutil.rmtree(REFERENCE_PROJECT, ignore_errors=True)
    REFERENCE_PROJECT.mkdir(parents=True)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    log("reference bot: rasa init --no-prompt (copies the example and trains it, ~2 min)")
    started = time.monotonic()
    with (WORK_DIR / "reference-init.log").open("wb") as handle:
        subprocess.run(
            [str(stack.RASA_BIN), "init", "--no-prompt", "--init-dir", str(REFERENCE_PROJECT)],
            cwd=REFERENCE_PROJECT,
            env=stack.base_env(),
            check=True,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    models = sorted((REFERENCE_PROJECT / "models").glob("*.tar.gz"))
    if not models:
        raise SystemExit("rasa init trained no model")
    log(f"reference bot: trained in {time.monotonic() - started:.0f} s")
    return models[-1]


def our_services(var_dir: Path, model: Path) -> tuple[list[stack.Service], stack.Ports]:
    """The same three processes `make run` starts, on free ports, data in `var_dir`."""
    ports = stack.Ports.free()
    tracker = stack.TrackerStore(dialect="sqlite", db=str(var_dir / "rasa-tracker.db"))
    # Reminders would wake up during the measurement; the chat path does not use them.
    services = stack.Stack(ports, var_dir, model, tracker, {"APP_REMINDERS_ENABLED": "false"})
    return services.services, ports


def reference_services(var_dir: Path, model: Path) -> tuple[list[stack.Service], stack.Ports]:
    """The reference bot behind the same kinds of processes as ours."""
    ports = stack.Ports.free()
    logs = var_dir / "log"
    loopback = stack.LOOPBACK
    rasa_env = {
        "ACTION_ENDPOINT_URL": f"http://{loopback}:{ports.actions}/webhook",
        "RASA_TRACKER_DB": str(var_dir / "rasa-tracker.db"),
    }
    services = [
        stack.Service(
            name="action server",
            argv=[str(stack.APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions",
                  "--port", str(ports.actions)],
            health_url=f"http://{loopback}:{ports.actions}/health",
            cwd=REFERENCE_PROJECT,
            env=stack.base_env({"SANIC_HOST": loopback}),
            startup_timeout=COLD_START_TIMEOUT_SECONDS,
            log_path=logs / "actions.log",
        ),
        stack.Service(
            name="Rasa server",
            argv=[str(stack.RASA_BIN), "run", "--model", str(model),
                  "--endpoints", str(REFERENCE_DIR / "endpoints.yml"),
                  "--credentials", str(REFERENCE_DIR / "credentials.yml"),
                  "--interface", loopback, "--port", str(ports.rasa)],
            health_url=f"http://{loopback}:{ports.rasa}/",
            cwd=REFERENCE_PROJECT,
            env=stack.base_env(rasa_env),
            startup_timeout=COLD_START_TIMEOUT_SECONDS,
            log_path=logs / "rasa.log",
        ),
        stack.Service(
            name="FastAPI app",
            argv=[str(stack.APP_PYTHON), "-m", "uvicorn", "--app-dir", str(REFERENCE_DIR),
                  "--factory", "gateway:app_factory", "--host", loopback,
                  "--port", str(ports.app)],
            health_url=f"http://{loopback}:{ports.app}/healthz",
            cwd=ROOT,
            env=stack.base_env({"REFERENCE_RASA_URL": f"http://{loopback}:{ports.rasa}"}),
            startup_timeout=COLD_START_TIMEOUT_SECONDS,
            log_path=logs / "app.log",
        ),
    ]  # fmt: skip
    return services, ports


def start_timed(services: Sequence[stack.Service]) -> dict[str, float]:
    """Start every service at once (as `make run` does); seconds until each is healthy."""
    started: dict[str, float] = {}
    for service in services:
        started[service.name] = time.monotonic()
        service.start()
    ready: dict[str, float] = {}
    deadline = time.monotonic() + COLD_START_TIMEOUT_SECONDS
    while len(ready) < len(services):
        for service in services:
            if service.name in ready:
                continue
            if service.process is not None and service.process.poll() is not None:
                raise RuntimeError(f"{service.name} exited early.\n{service.log_tail()}")
            if stack.http_ok(service.health_url):
                ready[service.name] = time.monotonic() - started[service.name]
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy after {COLD_START_TIMEOUT_SECONDS:.0f} s: {ready}")
        time.sleep(HEALTH_POLL_SECONDS)
    return ready


def first_turn_ms(target: Target, text: str, run_id: str) -> float:
    """The first chat turn after start: what loads lazily is paid here."""
    started = time.perf_counter()
    response = httpx.post(
        target.url,
        json=target.payload(f"{run_id}-first-{target.bot}", text),
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if not target.answered(response):
        raise RuntimeError(f"first turn of {target.name} failed: HTTP {response.status_code}")
    return elapsed


def memory(service: stack.Service) -> dict[str, float]:
    """VmRSS and VmHWM (MiB) summed over the process and its children.

    The action server runs its actions in a Sanic worker process: the model lives
    there, not in the process we started, so only the tree's sum is meaningful.
    Shared pages count once per process (an upper bound).
    """
    assert service.process is not None
    pids = [service.process.pid, *children(service.process.pid)]
    statuses = [proc_status(pid) for pid in pids]
    return {
        "rss_mb": sum(s.get("VmRSS", 0.0) for s in statuses),
        "hwm_mb": sum(s.get("VmHWM", 0.0) for s in statuses),
        "largest_rss_mb": max(s.get("VmRSS", 0.0) for s in statuses),
        "processes": len(pids),
    }


def proc_status(pid: int) -> dict[str, float]:
    fields: dict[str, float] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def children(pid: int) -> list[int]:
    """Every descendant of `pid`, from /proc/<pid>/task/*/children."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = [int(k) for k in task.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *children(kid)]
    return found


# --------------------------------------------------------------------------- profile


def py_spy() -> str | None:
    """The py-spy executable, if there is one (it is not a project dependency)."""
    return os.environ.get("PY_SPY") or shutil.which("py-spy")


def profile(deployment: Deployment, run_id: str) -> dict[str, Any] | None:
    """CPU per turn of each of our processes and its main cost centres, by sampling."""
    spy = py_spy()
    if spy is None:
        log("profile skipped: set PY_SPY to a py-spy executable to get one")
        return None
    out_dir = WORK_DIR / "profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    recorders: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for service in deployment.services:
        assert service.process is not None
        out = out_dir / f"{service.name.replace(' ', '-')}.txt"
        argv = [spy, "record", "--pid", str(service.process.pid), "--subprocesses",
                "--nonblocking", "--rate", str(PROFILE_RATE_HZ), "--format", "raw",
                "-o", str(out)]  # fmt: skip
        recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        recorders[service.name] = (recorder, out)
    time.sleep(1.0)  # let py-spy attach before the first turn
    result = asyncio.run(
        closed_loop(deployment.target(GATEWAY), PROFILE_USERS, PROFILE_TURNS, questions(), run_id)
    )
    for recorder, _ in recorders.values():
        recorder.send_signal(signal.SIGINT)
    # py-spy also saw the warm-up turns.
    turns = result["turns"] + max(WARMUP_TURNS_MIN, PROFILE_USERS)
    processes: dict[str, Any] = {}
    for name, (recorder, out) in recorders.items():
        recorder.wait(timeout=PROFILE_STOP_SECONDS)
        if out.is_file():
            processes[name] = cost_centres(out, COST_CENTRES.get(name, ()), turns)
    return {"users": PROFILE_USERS, "turns": turns, "rate_hz": PROFILE_RATE_HZ, **processes}


def cost_centres(raw: Path, centres: Sequence[tuple[str, str]], turns: int) -> dict[str, Any]:
    """CPU ms per turn of a process, and of each cost centre (inclusive), from py-spy raw."""
    total = 0
    hits = dict.fromkeys((label for label, _ in centres), 0)
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        for label, frame in centres:
            if frame in stack_text:
                hits[label] += int(count)
    per_turn = 1000.0 / PROFILE_RATE_HZ / max(1, turns)
    return {
        "cpu_ms_per_turn": total * per_turn,
        "centres": {label: n * per_turn for label, n in hits.items()},
    }


# --------------------------------------------------------------------------- orchestration


@dataclass
class Deployment:
    """One bot's processes and entry points."""

    bot: str
    services: list[stack.Service]
    ports: stack.Ports
    model: Path

    def target(self, path: str) -> Target:
        port, route = (
            (self.ports.app, CHAT_PATH) if path == GATEWAY else (self.ports.rasa, REST_WEBHOOK)
        )
        return Target(self.bot, path, f"http://{stack.LOOPBACK}:{port}{route}")

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


def start(
    bot: str, model: Path, run_id: str, pool: list[tuple[str, str]]
) -> tuple[Deployment, dict[str, Any]]:
    var_dir = WORK_DIR / bot
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    maker = our_services if bot == OURS else reference_services
    services, ports = maker(var_dir, model)
    deployment = Deployment(bot, services, ports, model)
    log(f"{bot}: starting action server, Rasa and gateway (logs: {var_dir / 'log'})")
    try:
        ready = start_timed(services)
        first = first_turn_ms(deployment.target(GATEWAY), SHORT_QUESTIONS[0][1], run_id)
    except BaseException:
        deployment.stop()
        raise
    log(f"{bot}: healthy after {ready}; first chat turn {first:.0f} ms")
    return deployment, {"healthy_seconds": ready, "first_turn_ms": first}


def warm_search(deployment: Deployment) -> None:
    """One search through our gateway, so its memory figure includes the model and index."""
    url = f"http://{stack.LOOPBACK}:{deployment.ports.app}/api/v1/search"
    httpx.get(url, params={"q": "town twinning", "lang": "en"}, timeout=REQUEST_TIMEOUT_SECONDS)


async def measure(
    deployments: dict[str, Deployment], args: argparse.Namespace, run_id: str
) -> dict[str, Any]:
    """Closed loop for every target and level, interleaved; then the open-loop ladders."""
    pool = questions()
    turns = QUICK_TURNS_PER_LEVEL if args.quick else TURNS_PER_LEVEL
    targets = [
        deployments[bot].target(path) for path in (GATEWAY, WEBHOOK) for bot in (OURS, REFERENCE)
    ]
    closed: dict[str, dict[str, Any]] = {t.name: {} for t in targets}
    # Level by level, both bots back to back: a busy neighbour on the shared cores
    # then slows both sides of a ratio alike.
    for users in LEVELS:
        for target in targets:
            closed[target.name][str(users)] = await closed_loop(target, users, turns, pool, run_id)
    paced: dict[str, dict[str, Any]] = {t.name: {} for t in targets if t.path == GATEWAY}
    for users in PACED_LEVELS:
        for target in targets:
            if target.path == GATEWAY:
                paced[target.name][str(users)] = await closed_loop(
                    target, users, turns, pool, run_id, THINK_SECONDS
                )
    open_loop: dict[str, Any] = {}
    for target in targets:
        if target.path != GATEWAY:
            continue
        best = max(level["throughput_per_s"] for level in closed[target.name].values())
        open_loop[target.name] = await sustained(
            target,
            best,
            pool,
            run_id,
            QUICK_STEP_SECONDS if args.quick else STEP_SECONDS,
            QUICK_MAX_RATE_STEPS if args.quick else MAX_RATE_STEPS,
        )
    return {
        "turns_per_level": turns,
        "questions": len(pool),
        "languages": sorted({lang for lang, _ in pool}),
        "closed_loop": closed,
        "paced": paced,
        "think_seconds": list(THINK_SECONDS),
        "open_loop": open_loop,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few turns: try it out, no report")
    parser.add_argument(
        "--fresh-reference", action="store_true", help="re-create and retrain the reference bot"
    )
    args = parser.parse_args(argv)
    began = time.monotonic()
    run_id = f"load{int(time.time())}"
    our_model = stack.ensure_model()
    ref_model = reference_model(args.fresh_reference)
    pool = questions()
    deployments: dict[str, Deployment] = {}
    cold: dict[str, Any] = {}
    try:
        # One after the other, so each cold start has the machine to itself.
        for bot, model in ((OURS, our_model), (REFERENCE, ref_model)):
            deployments[bot], cold[bot] = start(bot, model, run_id, pool)
        warm_search(deployments[OURS])
        results = asyncio.run(measure(deployments, args, run_id))
        # After the measurements: sampling slows the processes it watches.
        results["profile"] = profile(deployments[OURS], run_id)
        mem = {
            bot: {s.name: memory(s) for s in deployment.services}
            for bot, deployment in deployments.items()
        }
    finally:
        for deployment in deployments.values():
            deployment.stop()
    data: dict[str, Any] = {
        "command": COMMAND,
        "quick": args.quick,
        "models": {OURS: our_model.name, REFERENCE: ref_model.name},
        "reference_project": str(REFERENCE_PROJECT.relative_to(ROOT)),
        "levels": list(LEVELS),
        "conversation_turns": CONVERSATION_TURNS,
        "warmup_turns_min": WARMUP_TURNS_MIN,
        "p95_limit_ms": SUSTAINED_P95_LIMIT_MS,
        "cold_start": cold,
        "memory": mem,
        **results,
        "duration_seconds": time.monotonic() - began,
    }
    if args.quick:
        out = WORK_DIR / "system-quick.json"
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False))
        log(f"quick run: {out} (the report is not rewritten)")
        return 0
    bench_report.save("system", data)
    bench_report.report()
    log(f"done in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
