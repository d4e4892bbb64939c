"""Telegram end to end: Bot API peer -> real app process -> real Rasa + actions -> peer.

The stack's app process is configured only through APP_TELEGRAM_* environment
variables, as in production (webhook mode); its Bot API base URL points at a local
peer that speaks the Bot API, since Telegram's servers are out of reach. The peer
registers the webhook the app sets and delivers updates to it over HTTP with the
secret token.
"""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from channels.i18n import translate as gateway_text
from channels.telegram.i18n import translate as telegram_text
from stack import BOT_DIR, Ports, Stack, ensure_model
from tests.channels.telegram.botapi_peer import TOKEN, BotApiPeer
from tests.channels.telegram.gateway import SECRET, WEBHOOK_PATH

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

TIMEOUT = 60.0


def variation(name: str, language: str | None) -> dict[str, Any]:
    """A domain response's variation for `language` (None: the unconditioned default)."""
    responses: dict[str, Any] = {}
    for path in sorted((BOT_DIR / "domain").glob("*.yml")):
        responses.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    for item in responses[name]:
        conditions = item.get("condition") or []
        value = next((c["value"] for c in conditions if c.get("name") == "language"), None)
        if value == language:
            found: dict[str, Any] = item
            return found
    raise AssertionError(f"{name} has no variation for {language}")


@pytest.fixture(scope="module")
def botapi() -> Iterator[BotApiPeer]:
    with BotApiPeer() as peer:
        yield peer


@pytest.fixture(scope="module")
def stack(botapi: BotApiPeer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = ensure_model()
    ports = Ports.free()
    environment = {
        "APP_TELEGRAM_TOKEN": TOKEN,
        "APP_TELEGRAM_MODE": "webhook",
        "APP_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "APP_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{ports.app}{WEBHOOK_PATH}",
        "APP_TELEGRAM_BASE_URL": botapi.base_url,
    }
    # The services copy the environment when the Stack is built, not later.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        running = Stack(ports, tmp_path_factory.mktemp("telegram-stack"), model)
    with running:
        botapi.wait_for("setWebhook", timeout=TIMEOUT)
        yield running


def say(botapi: BotApiPeer, chat_id: int, text: str, language: str = "en") -> None:
    assert botapi.deliver(botapi.text_update(chat_id, text, language)) == 200


def replies(botapi: BotApiPeer, chat_id: int, count: int) -> list[str]:
    return botapi.wait_texts(chat_id, count, timeout=TIMEOUT)


def settled(botapi: BotApiPeer, chat_id: int, count: int, quiet: float = 2.0) -> list[str]:
    """All messages to `chat_id` once at least `count` came and no more follow."""
    texts = replies(botapi, chat_id, count)
    while True:
        time.sleep(quiet)
        if botapi.texts(chat_id) == texts:
            return texts
        texts = botapi.texts(chat_id)


def test_the_app_registers_its_webhook_with_the_secret(stack: Stack, botapi: BotApiPeer) -> None:
    assert botapi.webhook is not None
    assert botapi.webhook.url == f"http://127.0.0.1:{stack.ports.app}{WEBHOOK_PATH}"
    assert botapi.webhook.secret_token == SECRET
    forged = httpx.post(
        botapi.webhook.url,
        json=botapi.text_update(9001, "hello"),
        headers={"X-Telegram-Bot-Api-Secret-Token": "not-the-secret-at-all"},
    )
    assert forged.status_code == 403


def test_hello_is_answered_in_english(stack: Stack, botapi: BotApiPeer) -> None:
    say(botapi, 1001, "hello")
    assert replies(botapi, 1001, 1) == [variation("utter_greet", None)["text"]]


def test_bok_is_answered_in_croatian_whatever_the_app_language(
    stack: Stack, botapi: BotApiPeer
) -> None:
    say(botapi, 1002, "bok", language="en")
    assert replies(botapi, 1002, 1) == [variation("utter_greet", "hr")["text"]]


def test_language_command_makes_rasa_answer_in_croatian(stack: Stack, botapi: BotApiPeer) -> None:
    say(botapi, 1003, "/language hr")
    say(botapi, 1003, "hello")
    assert replies(botapi, 1003, 2) == [
        telegram_text("language.set", "hr", code="hr"),
        variation("utter_greet", "hr")["text"],
    ]


def test_help_buttons_become_an_inline_keyboard_and_a_click_reaches_rasa(
    stack: Stack, botapi: BotApiPeer
) -> None:
    help_hr = variation("utter_help", "hr")
    say(botapi, 1004, "dobar dan")
    replies(botapi, 1004, 1)
    say(botapi, 1004, "pomoć")
    replies(botapi, 1004, 2)
    message = botapi.messages(1004)[-1]
    assert message["text"] == help_hr["text"]
    *keyboard, thumbs = message["reply_markup"]["inline_keyboard"]
    # The last row rates the answer (👍 / 👎), tied to the turn the gateway recorded.
    assert [b["callback_data"][:3] for b in thumbs] == ["fb:", "fb:"]
    assert [row[0]["text"] for row in keyboard] == [b["title"] for b in help_hr["buttons"]]
    assert [row[0]["callback_data"] for row in keyboard] == [
        b["payload"] for b in help_hr["buttons"]
    ]

    click = botapi.callback_update(1004, keyboard[0][0]["callback_data"])
    assert botapi.deliver(click) == 200
    answered = botapi.wait_for("answerCallbackQuery", timeout=TIMEOUT)
    assert click["callback_query"]["id"] in [c.params["callback_query_id"] for c in answered]
    after_click = replies(botapi, 1004, 3)[2:]
    unavailable = gateway_text("error.assistant_unavailable", "hr")
    assert after_click and all(t not in (unavailable, help_hr["text"]) for t in after_click)


def test_forget_starts_a_fresh_conversation(stack: Stack, botapi: BotApiPeer) -> None:
    # Without /forget the conversation stays Croatian on a message without evidence;
    # after it, the same message is answered like in a new English conversation.
    say(botapi, 1005, "dobar dan")
    greeting = len(settled(botapi, 1005, 1))
    say(botapi, 1005, "?!")
    kept = settled(botapi, 1005, greeting + 1)[greeting:]

    say(botapi, 1006, "dobar dan")
    settled(botapi, 1006, greeting)
    say(botapi, 1006, "/forget")
    assert replies(botapi, 1006, greeting + 1)[greeting] == telegram_text("forget.done", "hr")
    say(botapi, 1006, "?!")
    after_forget = settled(botapi, 1006, greeting + 2)[greeting + 1 :]

    say(botapi, 1007, "?!")
    fresh = settled(botapi, 1007, 1)

    assert after_forget == fresh
    assert kept != fresh


def test_a_voice_message_gets_the_explanation_in_the_users_language(
    stack: Stack, botapi: BotApiPeer
) -> None:
    assert botapi.deliver(botapi.media_update(1008, "voice", language_code="hr")) == 200
    assert replies(botapi, 1008, 1) == [telegram_text("non_text", "hr")]


def test_action_server_down_gives_the_polite_message(stack: Stack, botapi: BotApiPeer) -> None:
    actions = stack.service("action server")
    actions.stop()
    try:
        say(botapi, 1009, "dobar dan", language="hr")
        assert replies(botapi, 1009, 1) == [gateway_text("error.assistant_unavailable", "hr")]
    finally:
        actions.start()
        actions.wait_healthy()


def test_rasa_down_gives_the_polite_message_then_recovers(stack: Stack, botapi: BotApiPeer) -> None:
    rasa = stack.service("Rasa server")
    rasa.stop()
    try:
        say(botapi, 1010, "dobar dan", language="hr")
        assert replies(botapi, 1010, 1) == [gateway_text("error.assistant_unavailable", "hr")]
    finally:
        rasa.start()
        rasa.wait_healthy()
    # Nothing restarted on the gateway's side: the next message is simply answered.
    say(botapi, 1010, "dobar dan", language="hr")
    assert replies(botapi, 1010, 2)[1] == variation("utter_greet", "hr")["text"]
    assert Path(stack.service("FastAPI app").log_path).read_text().count(TOKEN) == 0
