"""Two Rasa replicas and two gateways on one PostgreSQL and one Redis lock store.

Rasa A and B serve the same model with the tracker store on PostgreSQL and the lock
store on Redis (bot/endpoints.yml, RASA_LOCK_STORE=redis); gateway A talks to Rasa A,
gateway B to Rasa B; one action server; the app data on PostgreSQL too. All on
loopback, started with scripts/stack.py's service builders and waited for by health
check. Proven:

- a funding-finder conversation whose turns alternate between the replicas keeps its
  form state and slots (the questions follow in order, the recommendation uses every
  answer, PostgreSQL holds each slot once with the right value);
- two turns of one conversation sent to both replicas at once are both processed,
  one after the other (the Redis lock with atomic tickets, bot/lock_store.py), and
  the form carries on: five conversations, each with such a pair;
- Rasa A killed with SIGKILL mid-conversation: gateway A answers every probe with a
  polite 503 in the user's language and Retry-After while it is down, the conversation
  continues on replica B meanwhile, and after Rasa A is restarted it continues on
  gateway A with its state intact. Downtime and the number of polite answers are
  printed (docs/reliability.md quotes them).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from channels.i18n import translate
from participation.db import upgrade
from participation.settings import ParticipationSettings
from stack import (
    LOOPBACK,
    LockStore,
    Service,
    TrackerStore,
    action_service,
    app_service,
    ensure_model,
    free_port,
    http_ok,
    rasa_service,
)

pytestmark = [pytest.mark.integration, pytest.mark.rasa, pytest.mark.slow]

PG_SERVER_URL = os.environ.get(
    "TRACKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_HOST = os.environ.get("LOCK_STORE_TEST_REDIS_HOST", LOOPBACK)
REDIS_PORT = os.environ.get("LOCK_STORE_TEST_REDIS_PORT", "6379")


@dataclass
class Replicas:
    """The running processes, the gateways' URLs and the tracker database."""

    actions: Service
    rasa: list[Service]
    apps: list[Service]
    urls: list[str]
    tracker: Engine

    def all(self) -> list[Service]:
        return [self.actions, *self.rasa, *self.apps]


def create_database(admin: Engine, prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return name


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    model = ensure_model()
    var_dir = tmp_path_factory.mktemp("replicas")
    server = make_url(PG_SERVER_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    names = [create_database(admin, "rasa_tracker"), create_database(admin, "participation")]
    tracker = TrackerStore(
        dialect="postgresql",
        url=f"{server.host}:{server.port or 5432}",
        db=names[0],
        user=server.username or "",
        password=server.password or "",
    )
    data_url = server.set(database=names[1]).render_as_string(hide_password=False)
    # Migrate once here: three processes migrating one empty database at once would race.
    upgrade(data_url, ParticipationSettings(database_url=data_url))
    data_env = {
        "PARTICIPATION_DATABASE_URL": data_url,
        "PARTICIPATION_TRACKER_DATABASE_URL": tracker.sqlalchemy_url(),
    }
    lock_store = LockStore(type="redis", url=REDIS_HOST, port=REDIS_PORT)
    actions_port = free_port()
    rasa_ports = [free_port(), free_port()]
    app_ports = [free_port(), free_port()]
    app_env = {**data_env, "APP_REMINDERS_ENABLED": "false"}
    running = Replicas(
        actions=action_service(actions_port, var_dir, data_env, "actions"),
        rasa=[
            rasa_service(port, actions_port, var_dir, model, tracker, lock_store, f"rasa-{n}")
            for n, port in zip("ab", rasa_ports, strict=True)
        ],
        apps=[
            app_service(port, rasa_port, var_dir, app_env, f"app-{n}")
            for n, port, rasa_port in zip("ab", app_ports, rasa_ports, strict=True)
        ],
        urls=[f"http://{LOOPBACK}:{port}" for port in app_ports],
        tracker=create_engine(tracker.sqlalchemy_url()),
    )
    try:
        for service in running.all():
            service.start()
        for service in running.all():
            service.wait_healthy()
        yield running
    finally:
        for service in reversed(running.all()):
            service.stop()
        running.tracker.dispose()
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def say(url: str, sender: str, message: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/chat", json={"sender": sender, "message": message}, timeout=60
    )
    assert response.status_code == 200, (url, response.text)
    return "\n".join(m["text"] for m in response.json()["messages"])


def slot_events(tracker: Engine, sender_id: str) -> list[tuple[str, object]]:
    """(slot, value) of every slot event of one conversation, oldest first."""
    query = text(
        "SELECT data FROM events WHERE sender_id = :sender AND type_name = 'slot' ORDER BY id"
    )
    with tracker.connect() as connection:
        rows = connection.execute(query, {"sender": sender_id}).scalars().all()
    return [(d["name"], d["value"]) for d in map(json.loads, rows)]


def last_slots(tracker: Engine, sender_id: str) -> dict[str, object]:
    return dict(slot_events(tracker, sender_id))


def test_a_conversation_alternating_between_replicas_stays_consistent(
    replicas: Replicas,
) -> None:
    a, b = replicas.urls
    sender = "replica-finder"
    assert "Who is applying?" in say(a, sender, "I am looking for EU funding for a project")
    assert "Which country" in say(b, sender, "we are a municipality")
    assert "What is the project about?" in say(a, sender, "Croatia")
    # Answer first: the three essentials give results at once, with a budget hint.
    first = say(b, sender, "civic participation")
    assert first.startswith("Programmes that fit best (cities and municipalities")
    assert "Tell me the project's budget" in first
    assert "partners from other countries" in say(a, sender, "40000")
    result = say(b, sender, "no")
    assert result.startswith(
        "Programmes that fit best (cities and municipalities · Croatia · civic participation)"
    )
    slots = last_slots(replicas.tracker, f"api:{sender}")
    assert slots["applicant_type"] == "municipality"
    assert slots["country"] == "HR"
    assert slots["budget"] == 40000
    assert slots["cross_border"] is False


@pytest.mark.parametrize("round_number", range(5))
def test_simultaneous_turns_on_both_replicas_are_processed_one_after_the_other(
    replicas: Replicas, round_number: int
) -> None:
    a, b = replicas.urls
    sender = f"replica-race-{round_number}"
    assert "Who is applying?" in say(a, sender, "I am looking for EU funding for a project")
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda job: say(job[0], sender, job[1]),
                [(a, "we are a municipality"), (b, "Croatia")],
            )
        )
    assert len(answers) == 2
    query = text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'")
    with replicas.tracker.connect() as connection:
        users = connection.execute(query, {"s": f"api:{sender}"}).scalar_one()
    assert users == 3, "a turn was lost or stored twice"
    slots = last_slots(replicas.tracker, f"api:{sender}")
    assert (slots.get("applicant_type"), slots.get("country")) == ("municipality", "HR")
    assert "What is the project about?" in say(b, sender, "hello again")


def test_rasa_killed_mid_conversation_polite_meanwhile_then_state_intact(
    replicas: Replicas,
) -> None:
    a, b = replicas.urls
    rasa_a = replicas.rasa[0]
    sender = "replica-restart"
    assert "Who is applying?" in say(a, sender, "I am looking for EU funding for a project")
    assert "Which country" in say(a, sender, "we are an NGO")
    assert rasa_a.process is not None
    killed_at = time.monotonic()
    os.killpg(os.getpgid(rasa_a.process.pid), signal.SIGKILL)
    rasa_a.process.wait()

    polite = 0
    expected = translate("error.assistant_unavailable", "hr")
    probe = {"sender": "replica-probe", "message": "bok"}
    with httpx.Client(base_url=a, timeout=30) as client:

        def probe_once() -> httpx.Response:
            return client.post(
                "/api/v1/chat", json=probe, headers={"Accept-Language": "hr-HR,hr;q=0.9"}
            )

        response = probe_once()
        assert response.status_code == 503, response.text
        # Replica B serves the same conversation while A is down.
        assert "What is the project about?" in say(b, sender, "Croatia")
        rasa_a.start()
        while not http_ok(rasa_a.health_url):
            assert rasa_a.process.poll() is None, rasa_a.log_tail()
            assert time.monotonic() - killed_at < 300, "Rasa A did not come back"
            response = probe_once()
            if response.status_code == 200:
                break
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "10"
            error = response.json()["error"]
            assert (error["code"], error["language"], error["message"]) == (
                "assistant_unavailable",
                "hr",
                expected,
            )
            polite += 1
            time.sleep(0.5)  # a probe every half second; the loop ends on health
        rasa_a.wait_healthy()
        downtime = time.monotonic() - killed_at
        assert probe_once().status_code == 200
    print(f"\n[rasa restart] down {downtime:.1f} s, {polite + 1} polite 503 answers from gateway A")
    assert polite >= 1
    assert say(a, sender, "civic participation").startswith(
        "Programmes that fit best (NGOs and civil society organisations"
    )
    # For an NGO, partners abroad change no top place: the budget is the last answer.
    refined = say(a, sender, "40000")
    assert refined.startswith("Programmes that fit best (NGOs and civil society organisations")
    assert "partners from other countries" not in refined
