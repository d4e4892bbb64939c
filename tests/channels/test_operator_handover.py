"""Live handover over real HTTP: the bot falls silent, operator replies stream to the user.

The gateway runs in uvicorn on loopback with a stand-in Rasa (a real HTTP peer); the
operator signs in with a cookie jar like a browser, the web user reads the
server-sent events like the widget does (fetch with `X-Sender-Id`).
"""

from __future__ import annotations

import json
import queue
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from channels.app import create_app
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from tests.channels.conftest import StaticEvents
from tests.channels.operator_accounts import (  # noqa: F401 (an autouse fixture)
    PASSWORD,
    cheap_password_hashing,
    make_operator,
)
from tests.channels.telegram.loopback import serve_app
from tests.channels.telegram.rasa_peer import RasaPeer

EVENTS = "/api/v1/chat/operator-events"
BACK = "/return_to_bot"


@dataclass
class Gateway:
    base: str
    rasa: RasaPeer
    store: ParticipationService


@contextmanager
def gateway_on(
    store: ParticipationService, rasa: RasaPeer, stream_seconds: float = 5
) -> Iterator[Gateway]:
    settings = ChannelSettings(
        rasa_url=rasa.url, reminders_enabled=False, operator_live_stream_seconds=stream_seconds
    )
    app = create_app(
        settings, participation=store, participation_settings=store.settings, events=StaticEvents()
    )
    with serve_app(app) as base:
        yield Gateway(base, rasa, store)


@pytest.fixture
def rasa() -> Iterator[RasaPeer]:
    with RasaPeer() as peer:
        yield peer


@pytest.fixture
def gateway(store: ParticipationService, rasa: RasaPeer) -> Iterator[Gateway]:
    make_operator(store, "ana", ["operator"], cities=["Rijeka"])
    with gateway_on(store, rasa) as running:
        yield running


def say(base: str, sender: str, text: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/api/v1/chat", json={"sender": sender, "message": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class Operator:
    """A browser session of an operator: cookie jar plus the CSRF header."""

    def __init__(self, base: str, username: str = "ana") -> None:
        self.http = httpx.Client(base_url=base)
        login = self.http.post(
            "/admin/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.csrf = {"X-CSRF-Token": login.json()["csrf_token"]}

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"/admin/api{path}", json=body, headers=self.csrf)


class Stream:
    """Reads one user's operator events in a thread, like the widget's fetch reader."""

    def __init__(self, base: str, sender: str, after: int = 0, count: int = 1) -> None:
        self.events: queue.Queue[tuple[float, dict[str, Any], int]] = queue.Queue()
        self.opened = threading.Event()
        self._count = count
        self._thread = threading.Thread(target=self._read, args=(base, sender, after), daemon=True)
        self._thread.start()
        assert self.opened.wait(10), "the stream did not open"

    def _read(self, base: str, sender: str, after: int) -> None:
        headers = {"X-Sender-Id": sender, "Accept": "text/event-stream"}
        url = f"{base}{EVENTS}?after={after}"
        with httpx.stream("GET", url, headers=headers, timeout=60) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            self.opened.set()
            self._parse(response)

    def _parse(self, response: httpx.Response) -> None:
        event_id, data = 0, ""
        for line in response.iter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and data:
                self.events.put((time.monotonic(), json.loads(data), event_id))
                data = ""
                self._count -= 1
                if not self._count:
                    return  # leaving the with-block drops the connection, like a closed tab

    def next(self, timeout: float = 10) -> tuple[float, dict[str, Any], int]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        """Wait for the reader (it stops after `count` events, or when the stream ends)."""
        self._thread.join(10)


def handed_over(gateway: Gateway, sender: str) -> str:
    """The user asked for a person (the bot's action opens the ticket); ana claims it."""
    reference = gateway.store.open_ticket(
        user_id=f"api:{sender}", language="hr", city="Rijeka", summary="Trebam osobu"
    ).reference
    return reference


def test_the_bot_is_silent_while_a_person_has_the_conversation(gateway: Gateway) -> None:
    sender = "web-user-0001"
    say(gateway.base, sender, "bok")
    reference = handed_over(gateway, sender)
    ana = Operator(gateway.base)
    assert ana.post(f"/tickets/{reference}/claim").status_code == 200
    asked = len(gateway.rasa.requests)
    reply = say(gateway.base, sender, "jeste li tu? moj OIB je 69435151530")
    assert reply["messages"] == [] and len(gateway.rasa.requests) == asked, "Rasa not asked"
    transcript = ana.http.get(f"/admin/api/tickets/{reference}").json()["messages"]
    assert [m["author"] for m in transcript] == ["user"]
    assert "69435151530" not in transcript[0]["text"]
    stream = Stream(gateway.base, sender)
    markup = "<script>alert(1)</script> Dobar dan, <b>ovdje Ana</b>"
    sent = ana.post(f"/tickets/{reference}/reply", {"text": markup})
    assert (sent.status_code, sent.json()["delivery"]) == (200, "stream")
    _, event, _ = stream.next()
    assert event == {"text": markup, "ticket": reference, "at": event["at"]}, "text as typed"
    stream.close()
    closed = ana.post(f"/tickets/{reference}/close", {"outcome": "answered"})
    assert closed.json()["status"] == "closed"
    late = ana.post(f"/tickets/{reference}/reply", {"text": "još nešto"})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "ticket_closed")
    assert say(gateway.base, sender, "hvala")["messages"], "the bot answers again"
    assert gateway.rasa.requests[-1].message == "hvala"


def test_a_reconnecting_user_gets_the_replies_sent_meanwhile(gateway: Gateway) -> None:
    sender = "web-user-0002"
    reference = handed_over(gateway, sender)
    ana = Operator(gateway.base)
    ana.post(f"/tickets/{reference}/claim")
    first = ana.post(f"/tickets/{reference}/reply", {"text": "prva"}).json()["message"]
    for text in ("druga", "treća"):
        ana.post(f"/tickets/{reference}/reply", {"text": text})
    stream = Stream(gateway.base, sender, after=first["id"], count=2)
    got = [stream.next()[1]["text"] for _ in range(2)]
    assert got == ["druga", "treća"]
    stream.close()


def test_no_reply_is_lost_across_a_gateway_restart(
    store: ParticipationService, rasa: RasaPeer
) -> None:
    make_operator(store, "ana", ["operator"], cities=["Rijeka"])
    sender = "web-user-0003"
    with gateway_on(store, rasa) as first:
        reference = handed_over(first, sender)
        ana = Operator(first.base)
        ana.post(f"/tickets/{reference}/claim")
        stream = Stream(first.base, sender)
        ana.post(f"/tickets/{reference}/reply", {"text": "prije"})
        _, _, seen = stream.next()
        stream.close()
    store.add_ticket_message(
        reference,
        "during the restart",
        store.session_principal(store.sign_in("ana", PASSWORD, "127.0.0.1").token),
    )
    with gateway_on(store, rasa) as second:
        ana = Operator(second.base)
        ana.post(f"/tickets/{reference}/reply", {"text": "poslije"})
        again = Stream(second.base, sender, after=seen, count=2)
        got = [again.next()[1]["text"] for _ in range(2)]
        again.close()
    assert got == ["during the restart", "poslije"]


def test_twenty_parallel_conversations_get_replies_within_two_seconds(gateway: Gateway) -> None:
    conversations = []
    for number in range(20):
        sender = f"web-load-{number:04d}"
        reference = handed_over(gateway, sender)
        conversations.append((sender, reference))
    ana = Operator(gateway.base)
    for _, reference in conversations:
        assert ana.post(f"/tickets/{reference}/claim").status_code == 200
    streams = [Stream(gateway.base, sender) for sender, _ in conversations]
    sent: dict[str, float] = {}
    barrier = threading.Barrier(len(conversations))

    def reply(reference: str) -> None:
        barrier.wait()
        sent[reference] = time.monotonic()
        assert ana.post(f"/tickets/{reference}/reply", {"text": "odgovor"}).status_code == 200

    senders = [threading.Thread(target=reply, args=(ref,)) for _, ref in conversations]
    for thread in senders:
        thread.start()
    latencies = [
        stream.next()[0] - sent[ref]
        for stream, (_, ref) in zip(streams, conversations, strict=True)
    ]
    for thread in senders:
        thread.join(10)
    for stream in streams:
        stream.close()
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"operator reply -> widget stream, 20 open streams: p50 {p50:.3f}s p95 {p95:.3f}s")
    assert p95 <= 2.0


def test_the_user_can_ask_for_the_assistant_back(gateway: Gateway) -> None:
    sender = "web-user-0004"
    back = [{"text": "A person will answer.", "buttons": [{"title": "Bot", "payload": BACK}]}]
    gateway.rasa.script("osobu molim", *back)
    say(gateway.base, sender, "osobu molim")
    reference = handed_over(gateway, sender)
    ana = Operator(gateway.base)
    ana.post(f"/tickets/{reference}/claim")
    assert say(gateway.base, sender, "halo?")["messages"] == []
    asked = len(gateway.rasa.requests)
    say(gateway.base, sender, BACK)
    assert len(gateway.rasa.requests) == asked + 1 and gateway.rasa.requests[-1].message == BACK
    ticket = gateway.store.get_ticket(reference)
    assert (ticket.status, ticket.outcome) == ("closed", "returned_to_bot")
    assert say(gateway.base, sender, "još jedno pitanje")["messages"], "the bot answers"


def test_a_typed_return_payload_nobody_offered_does_not_end_the_handover(
    gateway: Gateway,
) -> None:
    sender = "web-user-0005"
    reference = handed_over(gateway, sender)
    Operator(gateway.base).post(f"/tickets/{reference}/claim")
    assert say(gateway.base, sender, BACK)["messages"] == []
    assert gateway.store.get_ticket(reference).status == "open"
