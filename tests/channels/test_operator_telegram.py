"""A Telegram user and an operator talk: real webhook, Bot API peer, Rasa stand-in.

While the operator holds the conversation the bot says nothing and Rasa is not asked;
the operator's reply (markup included) reaches the chat as plain text; after closing,
the bot answers again.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from participation.service import ParticipationService
from tests.channels.operator_accounts import (  # noqa: F401 (an autouse fixture)
    PASSWORD,
    cheap_password_hashing,
    make_operator,
)
from tests.channels.telegram.botapi_peer import BotApiPeer
from tests.channels.telegram.gateway import Gateway, run_gateway
from tests.channels.telegram.rasa_peer import RasaPeer

CHAT = 9001


@pytest.fixture
def botapi() -> Iterator[BotApiPeer]:
    with BotApiPeer() as peer:
        yield peer


@pytest.fixture
def rasa() -> Iterator[RasaPeer]:
    with RasaPeer() as peer:
        yield peer


@pytest.fixture
def gateway(botapi: BotApiPeer, rasa: RasaPeer, store: ParticipationService) -> Iterator[Gateway]:
    make_operator(store, "ana", ["operator"], cities=["Rijeka"])
    with run_gateway(botapi, rasa.url, participation=store) as running:
        botapi.wait_for("setWebhook")
        yield running


def write(botapi: BotApiPeer, text: str) -> None:
    assert botapi.deliver(botapi.text_update(CHAT, text, "hr")) == 200


def wait_until(condition: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_telegram_user_and_an_operator_talk(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer, store: ParticipationService
) -> None:
    botapi.know_chat(CHAT)
    write(botapi, "bok")
    assert botapi.wait_texts(CHAT, 1) == ["[hr] bok"]
    reference = store.open_ticket(
        user_id=f"telegram:{CHAT}", language="hr", city="Rijeka", summary="Trebam osobu"
    ).reference
    ana = httpx.Client(base_url=gateway.url)
    login = ana.post("/admin/api/auth/login", json={"username": "ana", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    assert ana.post(f"/admin/api/tickets/{reference}/claim", headers=csrf).status_code == 200
    asked = len(rasa.requests)
    write(botapi, "ima li koga?")
    wait_until(lambda: store.ticket_messages(reference))
    assert [m.text for m in store.ticket_messages(reference)] == ["ima li koga?"]
    assert len(rasa.requests) == asked and botapi.texts(CHAT) == ["[hr] bok"], "the bot is silent"
    markup = "<b>Ovdje Ana</b> *iz* [grada](http://x.example)"
    sent = ana.post(
        f"/admin/api/tickets/{reference}/reply", json={"text": markup}, headers=csrf
    ).json()
    assert sent["delivery"] == "sent"
    assert botapi.wait_texts(CHAT, 2)[1] == markup
    [message] = [m for m in botapi.messages(CHAT) if m["text"] == markup]
    assert not message.get("entities"), "shown as text: no parse mode, no formatting"
    ana.post(f"/admin/api/tickets/{reference}/close", json={"outcome": "answered"}, headers=csrf)
    write(botapi, "hvala")
    assert botapi.wait_texts(CHAT, 3)[2] == "[hr] hvala"


def test_twenty_parallel_telegram_replies_arrive_within_two_seconds(
    gateway: Gateway, botapi: BotApiPeer, store: ParticipationService
) -> None:
    chats = list(range(9100, 9120))
    references = {}
    for chat in chats:
        botapi.know_chat(chat)
        references[chat] = store.open_ticket(
            user_id=f"telegram:{chat}", language="hr", city="Rijeka", summary="Trebam osobu"
        ).reference
    ana = httpx.Client(base_url=gateway.url)
    login = ana.post("/admin/api/auth/login", json={"username": "ana", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    for reference in references.values():
        ana.post(f"/admin/api/tickets/{reference}/claim", headers=csrf)
    sent: dict[int, float] = {}
    barrier = threading.Barrier(len(chats))

    def reply(chat: int) -> None:
        barrier.wait()
        sent[chat] = time.monotonic()
        path = f"/admin/api/tickets/{references[chat]}/reply"
        assert ana.post(path, json={"text": f"odgovor {chat}"}, headers=csrf).status_code == 200

    threads = [threading.Thread(target=reply, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    botapi.wait_for("sendMessage", count=len(chats))
    received = {c.params["chat_id"]: c.at for c in botapi.calls_to("sendMessage")}
    latencies = [received[chat] - sent[chat] for chat in chats]
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"operator reply -> Telegram Bot API, 20 parallel: p50 {p50:.3f}s p95 {p95:.3f}s")
    assert p95 <= 2.0
