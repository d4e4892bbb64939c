"""WhatsApp end to end: signed webhook -> real app process -> real Rasa + actions -> Graph peer.

The stack's app process is configured only through APP_WHATSAPP_* environment
variables (as in production); its Graph API base URL points at a local peer that
speaks the Cloud API protocol, since Meta's servers are out of reach.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from channels.i18n import translate as gateway_text
from stack import BOT_DIR, Ports, Stack, ensure_model
from tests.channels.whatsapp.peers import (
    API_VERSION,
    PHONE_NUMBER_ID,
    TEST_APP_SECRET,
    TEST_TOKEN,
    TEST_VERIFY_TOKEN,
    GraphApiPeer,
    ServerThread,
    post_signed,
    text_message,
    typed_message,
    webhook_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

CROATIAN_NUMBER = "385911112233"


def variations(name: str) -> list[dict[str, Any]]:
    """The variations of a domain response, as written in bot/domain."""
    responses: dict[str, Any] = {}
    for path in sorted((BOT_DIR / "domain").glob("*.yml")):
        responses.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    found: list[dict[str, Any]] = responses[name]
    return found


def variation(name: str, language: str) -> dict[str, Any]:
    for item in variations(name):
        conditions = item.get("condition") or []
        if any(c.get("name") == "language" and c.get("value") == language for c in conditions):
            return item
    raise AssertionError(f"{name} has no {language} variation")


@pytest.fixture(scope="module")
def graph_server() -> Iterator[tuple[GraphApiPeer, str]]:
    peer = GraphApiPeer()
    with ServerThread(peer.app) as server:
        yield peer, server.url


@pytest.fixture(scope="module")
def graph(graph_server: tuple[GraphApiPeer, str]) -> GraphApiPeer:
    return graph_server[0]


@pytest.fixture(scope="module")
def stack(
    graph_server: tuple[GraphApiPeer, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    model = ensure_model()
    var_dir: Path = tmp_path_factory.mktemp("whatsapp-stack")
    environment = {
        "APP_WHATSAPP_ACCESS_TOKEN": TEST_TOKEN,
        "APP_WHATSAPP_APP_SECRET": TEST_APP_SECRET,
        "APP_WHATSAPP_VERIFY_TOKEN": TEST_VERIFY_TOKEN,
        "APP_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "APP_WHATSAPP_GRAPH_URL": graph_server[1],
        "APP_WHATSAPP_API_VERSION": API_VERSION,
    }
    # The services copy the environment when the Stack is built, not later.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        running = Stack(Ports.free(), var_dir, model)
    with running:
        yield running


@pytest.fixture(scope="module")
def app(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.app}", timeout=30) as client:
        yield client


def send(app: httpx.Client, message: dict[str, Any]) -> None:
    response = post_signed(app, webhook_body([message]))
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1}


def test_meta_can_verify_the_webhook(app: httpx.Client) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": TEST_VERIFY_TOKEN, "hub.challenge": "7"}
    assert app.get("/whatsapp/webhook", params=params).text == "7"
    params["hub.verify_token"] = "guess"
    assert app.get("/whatsapp/webhook", params=params).status_code == 403


def test_bok_is_answered_in_croatian(app: httpx.Client, graph: GraphApiPeer) -> None:
    send(app, text_message(CROATIAN_NUMBER, "bok"))
    [reply] = graph.wait_for(CROATIAN_NUMBER, 1, timeout=60)
    assert reply["type"] == "text"
    assert reply["text"]["body"] == variation("utter_greet", "hr")["text"]


def test_help_buttons_arrive_as_reply_buttons_and_a_tap_reaches_rasa(
    app: httpx.Client, graph: GraphApiPeer
) -> None:
    wa_id = "385911112244"
    help_hr = variation("utter_help", "hr")
    send(app, text_message(wa_id, "dobar dan"))
    graph.wait_for(wa_id, 1, timeout=60)
    send(app, text_message(wa_id, "pomoć"))
    sent = graph.wait_for(wa_id, 2, timeout=60)
    interactive = sent[-1]["interactive"]
    assert interactive["type"] == ("button" if len(help_hr["buttons"]) <= 3 else "list")
    assert help_hr["text"].startswith(interactive["body"]["text"][:200])
    ids = [b["reply"]["id"] for b in interactive["action"]["buttons"]]
    assert ids == [b["payload"] for b in help_hr["buttons"]]

    first = interactive["action"]["buttons"][0]["reply"]
    tap = {"type": "button_reply", "button_reply": {"id": first["id"], "title": first["title"]}}
    send(app, typed_message(wa_id, "interactive", tap))
    after_tap = graph.wait_for(wa_id, len(sent) + 1, timeout=60)
    assert graph.refused() == []
    assert len(after_tap) > len(sent)  # Rasa answered the payload


def test_voice_message_gets_the_polite_croatian_text(
    app: httpx.Client, graph: GraphApiPeer
) -> None:
    wa_id = "385911112255"
    send(app, typed_message(wa_id, "audio", {"id": "1", "mime_type": "audio/ogg", "voice": True}))
    [reply] = graph.wait_for(wa_id, 1, timeout=30)
    assert reply["text"]["body"].startswith("Glasovne poruke")


def test_action_server_down_is_explained_in_the_users_language(
    stack: Stack, app: httpx.Client, graph: GraphApiPeer
) -> None:
    wa_id = "385911112277"
    actions = stack.service("action server")
    actions.stop()
    try:
        send(app, text_message(wa_id, "bok"))
        [reply] = graph.wait_for(wa_id, 1, timeout=30)
    finally:
        actions.start()
        actions.wait_healthy()
    assert reply["text"]["body"] == gateway_text("error.assistant_unavailable", "hr")


def test_rasa_down_is_explained_then_recovers_when_it_returns(
    stack: Stack, app: httpx.Client, graph: GraphApiPeer
) -> None:
    # Last test of the module: stops the Rasa server, then starts it again.
    wa_id = "385911112266"
    rasa = stack.service("Rasa server")
    rasa.stop()
    send(app, text_message(wa_id, "bok"))
    [apology] = graph.wait_for(wa_id, 1, timeout=30)
    assert apology["text"]["body"] == gateway_text("error.assistant_unavailable", "hr")

    rasa.start()
    rasa.wait_healthy()
    send(app, text_message(wa_id, "bok"))
    sent = graph.wait_for(wa_id, 2, timeout=60)
    assert sent[1]["text"]["body"] == variation("utter_greet", "hr")["text"]
