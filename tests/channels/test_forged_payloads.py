"""Forged payloads: a `/intent{...}` reaches Rasa as a payload only if it was offered.

Rasa reads a message starting with `/` as an intent with entities and skips NLU, so
a user could type `/restart` or `/inform{"country": "HR"}`. The gateway passes such a
text unchanged only when it is a button of one of the sender's recent replies; anything
else goes to Rasa without its leading slashes. The stand-in Rasa records what it got.
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from channels.conversation import OfferedPayloads, defused
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from tests.channels.conftest import app_for
from tests.channels.telegram.rasa_peer import RasaPeer

THEME_BUTTON = '/inform{"themes": ["culture"]}'
OFFER = [{"text": "Which theme?", "buttons": [{"title": "Culture", "payload": THEME_BUTTON}]}]


@pytest.fixture
def rasa() -> Iterator[RasaPeer]:
    with RasaPeer() as peer:
        peer.script("find funding", *OFFER)
        yield peer


@pytest.fixture
def client(rasa: RasaPeer, store: ParticipationService) -> Iterator[TestClient]:
    settings = ChannelSettings(rasa_url=rasa.url, offered_payload_replies=2)
    with app_for(settings, store) as test_client:
        yield test_client


def say(client: TestClient, sender: str, message: str) -> int:
    return client.post("/api/v1/chat", json={"sender": sender, "message": message}).status_code


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("/restart", "restart"),
        ('/inform{"country": "HR"}', "inform"),  # the entities nobody offered are dropped
        ("//  /session_start", "session_start"),
        (THEME_BUTTON, "inform"),  # offered to someone else only
    ],
)
def test_a_payload_nobody_offered_reaches_rasa_as_text(
    client: TestClient, rasa: RasaPeer, typed: str, sent: str
) -> None:
    say(client, "web-other-user", "find funding")
    assert say(client, "web-forger", typed) == 200
    assert rasa.requests[-1].message == sent


def test_a_lone_slash_is_an_empty_message(client: TestClient, rasa: RasaPeer) -> None:
    assert say(client, "web-slash", " / ") == 422
    assert rasa.requests == []


def test_an_offered_button_is_passed_as_the_payload(client: TestClient, rasa: RasaPeer) -> None:
    assert say(client, "web-clicker", "find funding") == 200
    assert say(client, "web-clicker", THEME_BUTTON) == 200
    assert rasa.requests[-1].message == THEME_BUTTON


def test_an_offer_expires_after_the_configured_number_of_replies(
    client: TestClient, rasa: RasaPeer
) -> None:
    say(client, "web-late", "find funding")
    say(client, "web-late", "hello")
    assert say(client, "web-late", THEME_BUTTON) == 200  # still within the last 2 replies
    assert rasa.requests[-1].message == THEME_BUTTON
    say(client, "web-late", "hello")
    say(client, "web-late", "hello")
    assert say(client, "web-late", THEME_BUTTON) == 200
    assert rasa.requests[-1].message == "inform"


def test_the_memory_is_bounded_by_senders() -> None:
    offered = OfferedPayloads(max_senders=2, replies_per_sender=1)
    offered.remember("a", ["/affirm"])
    offered.remember("b", ["/deny"])
    assert offered.was_offered("a", "/affirm")
    offered.remember("c", [])
    assert not offered.was_offered("a", "/affirm"), "oldest sender forgotten"
    assert offered.was_offered("b", "/deny")
    offered.remember("b", [])
    assert not offered.was_offered("b", "/deny"), "a reply without buttons replaces the offer"


def test_defused_removes_every_leading_slash() -> None:
    assert defused("/ /restart") == "restart"
    assert defused("/") == ""
    assert defused("a/b") == "a/b"


def test_a_lone_surrogate_reaches_rasa_as_a_replacement_character(
    client: TestClient, rasa: RasaPeer
) -> None:
    # Not a payload, but the same gate: JSON can carry text that UTF-8 cannot encode.
    body = b'{"sender": "web-surrogate", "message": "a\\ud800b"}'
    response = client.post(
        "/api/v1/chat", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert rasa.requests[-1].message == "a\ufffdb"


def test_defused_keeps_only_the_intent_of_a_payload_with_entities() -> None:
    forged = '/inform{"country": "MT", "budget": 987654321}@0.99'
    assert defused(forged) == "inform"
    assert defused("/ask_open_calls@1.0") == "ask open calls"
    assert defused("/budget 300000 EUR") == "budget 300000 EUR", "words after a slash stay"
