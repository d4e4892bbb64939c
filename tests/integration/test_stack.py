"""The real Rasa server, action server and FastAPI app, started as processes."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from stack import BOT_DIR, Ports, Stack, ensure_model

pytestmark = [pytest.mark.integration, pytest.mark.rasa]


def response_variations(name: str) -> dict[str | None, str]:
    """Texts of a domain response by language condition (None: the default)."""
    domain: dict = {}
    for path in sorted((BOT_DIR / "domain").glob("*.yml")):
        domain.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses", {}))
    texts: dict[str | None, str] = {}
    for variation in domain[name]:
        conditions = variation.get("condition") or []
        language = next((c["value"] for c in conditions if c["name"] == "language"), None)
        texts[language] = variation["text"]
    return texts


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = ensure_model()
    var_dir: Path = tmp_path_factory.mktemp("stack")
    with Stack(Ports.free(), var_dir, model) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.app}", timeout=30) as client:
        yield client


def chat(api: httpx.Client, sender: str, message: str, **extra: str) -> dict:
    response = api.post("/api/v1/chat", json={"sender": sender, "message": message, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_health_sees_rasa(api: httpx.Client) -> None:
    assert api.get("/healthz").json() == {"status": "ok", "rasa": "ok"}


def test_hello_is_answered_in_english(api: httpx.Client) -> None:
    reply = chat(api, "it-en", "hello")
    assert reply["language"] == "en"
    assert [m["text"] for m in reply["messages"]] == [response_variations("utter_greet")[None]]


def test_bok_is_answered_in_croatian_through_the_custom_action(api: httpx.Client) -> None:
    # The language comes only from action_validate_slot_mappings (rasa-sdk, .venv):
    # without it Rasa would answer with the English default variation.
    reply = chat(api, "it-hr", "bok")
    assert reply["language"] == "hr"
    assert [m["text"] for m in reply["messages"]] == [response_variations("utter_greet")["hr"]]


def test_language_sticks_on_a_message_without_evidence(api: httpx.Client) -> None:
    chat(api, "it-sticky", "dobar dan")
    reply = chat(api, "it-sticky", "pomoć")
    assert reply["language"] == "hr"
    assert reply["messages"][0]["text"] == response_variations("utter_help")["hr"]
    reply = chat(api, "it-sticky", "?!")
    assert reply["language"] == "hr"
    assert reply["messages"], "never an empty reply"


def test_explicit_language_overrides_detection(api: httpx.Client) -> None:
    reply = chat(api, "it-explicit", "hello", language="hr")
    assert reply["language"] == "hr"
    assert reply["messages"][0]["text"] == response_variations("utter_greet")["hr"]


def test_goodbye_and_out_of_scope(api: httpx.Client) -> None:
    bye = chat(api, "it-misc", "goodbye")
    assert bye["messages"][0]["text"] == response_variations("utter_goodbye")[None]
    weather = chat(api, "it-misc", "kakvo je vrijeme danas?")
    assert weather["language"] == "hr"
    assert weather["messages"][0]["text"] == response_variations("utter_out_of_scope")["hr"]


def test_markup_is_returned_as_plain_text_not_echoed(api: httpx.Client) -> None:
    reply = chat(api, "it-markup", "<script>alert(1)</script><img src=x onerror=alert(1)>")
    assert reply["messages"], "never an empty reply"
    assert all("<script" not in m["text"] for m in reply["messages"])


def test_action_server_down_gives_503_in_the_users_language(
    stack: Stack, api: httpx.Client
) -> None:
    actions = stack.service("action server")
    actions.stop()
    try:
        response = api.post(
            "/api/v1/chat", json={"sender": "it-actions-down", "message": "bok", "language": "hr"}
        )
    finally:
        actions.start()
        actions.wait_healthy()
    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["code"], error["language"]) == ("assistant_unavailable", "hr")
    assert error["message"].startswith("Asistent je trenutačno nedostupan")
    assert chat(api, "it-actions-down", "bok")["language"] == "hr"  # recovers by itself


def test_rasa_down_gives_503_then_rasa_is_gone(stack: Stack, api: httpx.Client) -> None:
    # Last test of the module: stops the Rasa server of this stack.
    stack.service("Rasa server").stop()
    response = api.post("/api/v1/chat", json={"sender": "it-down", "message": "hello"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert response.json()["error"]["code"] == "assistant_unavailable"
    assert api.get("/healthz").json()["rasa"] == "unavailable"
