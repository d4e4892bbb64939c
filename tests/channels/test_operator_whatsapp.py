"""A WhatsApp user and an operator talk: signed webhook in, Graph API peer out.

Inside the 24-hour window the reply goes out as plain text; a day later it stays in
the transcript and the operator is told it was not delivered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from channels.app import create_app
from participation.service import ParticipationService
from tests.channels.conftest import Clock, StaticEvents
from tests.channels.operator_accounts import (  # noqa: F401 (an autouse fixture)
    PASSWORD,
    cheap_password_hashing,
    make_operator,
)
from tests.channels.whatsapp.conftest import whatsapp_settings
from tests.channels.whatsapp.peers import (
    GraphApiPeer,
    RasaRestPeer,
    ServerThread,
    post_signed,
    text_message,
    wait_until,
    webhook_body,
)

WA_ID = "385991234567"


@pytest.fixture
def peers() -> Iterator[tuple[GraphApiPeer, str, RasaRestPeer, str]]:
    graph, rasa = GraphApiPeer(), RasaRestPeer()
    with ServerThread(graph.app) as graph_server, ServerThread(rasa.app) as rasa_server:
        yield graph, graph_server.url, rasa, rasa_server.url


@pytest.fixture
def gateway(
    peers: tuple[GraphApiPeer, str, RasaRestPeer, str], store: ParticipationService
) -> Iterator[httpx.Client]:
    make_operator(store, "ana", ["operator"], cities=["Split"])
    _, graph_url, _, rasa_url = peers
    settings = whatsapp_settings(rasa_url, graph_url, reminders_enabled=False)
    app = create_app(
        settings, participation=store, participation_settings=store.settings, events=StaticEvents()
    )
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def write(gateway: httpx.Client, text: str) -> None:
    assert post_signed(gateway, webhook_body([text_message(WA_ID, text)])).status_code == 200


def test_a_whatsapp_user_and_an_operator_talk_inside_the_window(
    gateway: httpx.Client,
    peers: tuple[GraphApiPeer, str, RasaRestPeer, str],
    store: ParticipationService,
    clock: Clock,
) -> None:
    graph, _, rasa, _ = peers
    write(gateway, "bok")
    graph.wait_for(WA_ID, 1)
    reference = store.open_ticket(
        user_id=f"whatsapp:{WA_ID}", language="hr", city="Split", summary="Trebam osobu"
    ).reference
    login = gateway.post("/admin/api/auth/login", json={"username": "ana", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    assert gateway.post(f"/admin/api/tickets/{reference}/claim", headers=csrf).status_code == 200
    asked = len(rasa.from_sender(f"whatsapp:{WA_ID}"))
    write(gateway, "ima li koga?")
    wait_until(lambda: bool(store.ticket_messages(reference)))
    assert len(graph.sent_to(WA_ID)) == 1, "the bot is silent"
    assert len(rasa.from_sender(f"whatsapp:{WA_ID}")) == asked == 1, "Rasa not asked"
    markup = "*Ovdje* <b>Ana</b> https://example.eu"
    sent = gateway.post(
        f"/admin/api/tickets/{reference}/reply", json={"text": markup}, headers=csrf
    ).json()
    assert sent["delivery"] == "sent"
    last = graph.wait_for(WA_ID, 2)[-1]
    assert (last["type"], last["text"]) == ("text", {"preview_url": False, "body": markup})
    clock.now += dt.timedelta(hours=25)
    gateway.cookies.clear()  # the session went idle meanwhile; sign in again
    login = gateway.post("/admin/api/auth/login", json={"username": "ana", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    late = gateway.post(
        f"/admin/api/tickets/{reference}/reply", json={"text": "Još ste tu?"}, headers=csrf
    ).json()
    assert late["delivery"] == "outside_window"
    assert len(graph.sent_to(WA_ID)) == 2
    assert [m.text for m in store.ticket_messages(reference)][-1] == "Još ste tu?", "kept"
