"""Webhook mode end to end: Bot API peer -> gateway (uvicorn) -> Rasa peer -> Bot API peer.

Every hop is real HTTP on loopback; nothing in PTB or httpx is patched.
"""

import json
import logging
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.i18n import translate as translate_shared
from channels.settings import ChannelSettings
from channels.telegram.i18n import translate
from channels.telegram.rendering import text_units
from stack import free_port
from tests.channels.telegram.botapi_peer import TOKEN, BotApiPeer
from tests.channels.telegram.gateway import SECRET, Gateway, run_gateway
from tests.channels.telegram.rasa_peer import RasaPeer

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def post_raw(gateway: Gateway, body: object, secret: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(gateway.webhook_url, content=content, headers=headers, timeout=10)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-of-the-same-size!", SECRET[:-1]])
def test_missing_or_wrong_secret_is_403_and_nothing_is_processed(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer, secret: str | None
) -> None:
    forged = botapi.text_update(301, "forged message")
    response = post_raw(gateway, forged, secret)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    # A genuine update afterwards is answered; the forged one never was.
    assert botapi.deliver(botapi.text_update(301, "genuine message")) == 200
    assert botapi.wait_texts(301, 1) == ["[en] genuine message"]
    assert len(botapi.calls_to("sendMessage", ok_only=False)) == 1
    assert [r.message for r in rasa.requests] == ["genuine message"]


def test_a_message_is_answered_in_its_chat_with_a_namespaced_sender(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    assert botapi.deliver(botapi.text_update(302, "Kako se prijaviti?", "hr-HR")) == 200
    assert botapi.wait_texts(302, 1) == ["[hr] Kako se prijaviti?"]
    (sent,) = botapi.messages(302)
    assert "parse_mode" not in sent  # plain text: nothing is interpreted as markup
    (request,) = rasa.requests
    assert request.sender == "telegram:302"
    assert request.metadata["lang_hint"] == "hr-HR"
    assert request.metadata["channel"] == "telegram"
    assert "lang_pref" not in request.metadata


def test_a_duplicate_update_id_is_answered_once(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    first = botapi.text_update(303, "first")
    assert botapi.deliver(first) == 200
    assert botapi.deliver(dict(first)) == 200  # Telegram's retry: same update_id
    assert botapi.deliver(botapi.text_update(303, "second")) == 200
    # Updates of one chat are processed in order, so "second" answered means done.
    assert botapi.wait_texts(303, 2) == ["[en] first", "[en] second"]
    time.sleep(0.2)
    assert botapi.texts(303) == ["[en] first", "[en] second"]
    assert [r.message for r in rasa.requests] == ["first", "second"]


def test_buttons_become_an_inline_keyboard_and_clicks_send_the_payload(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    long_payload = '/choose_programme{"programme": "Citizens, Equality, Rights and Values"}'
    rasa.script(
        "options",
        {
            "text": "Pick one",
            "buttons": [
                {"title": "CERV", "payload": "/ask_cerv"},
                {"title": "Long", "payload": long_payload},
            ],
        },
    )
    botapi.deliver(botapi.text_update(304, "options"))
    botapi.wait_texts(304, 1)
    keyboard = botapi.messages(304)[0]["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in keyboard] == [["CERV"], ["Long"], ["👍", "👎"]]
    assert keyboard[0][0]["callback_data"] == "/ask_cerv"
    long_data = keyboard[1][0]["callback_data"]
    assert len(long_data.encode()) <= 64

    click = botapi.callback_update(304, long_data)
    botapi.deliver(click)
    (answer,) = botapi.wait_for("answerCallbackQuery")
    assert answer.params["callback_query_id"] == click["callback_query"]["id"]
    assert botapi.wait_texts(304, 2)[1] == f"[en] {long_payload}"
    assert rasa.requests[-1].message == long_payload
    assert rasa.requests[-1].sender == "telegram:304"


def test_an_expired_button_is_explained_in_the_users_language(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    botapi.deliver(botapi.callback_update(305, "#k:" + "0" * 24, language_code="hr"))
    (answer,) = botapi.wait_for("answerCallbackQuery")
    assert answer.params["text"] == translate("button.expired", "hr")
    assert rasa.requests == []


@pytest.mark.parametrize(
    ("kind", "language"), [("voice", "hr"), ("photo", "de"), ("sticker", "en")]
)
def test_media_gets_a_polite_explanation_in_the_users_language(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer, kind: str, language: str
) -> None:
    botapi.deliver(botapi.media_update(306, kind, language_code=language))
    assert botapi.wait_texts(306, 1) == [translate("non_text", language)]
    assert translate("non_text", language) != translate("non_text", "en") or language == "en"
    assert rasa.requests == []


def test_a_ten_thousand_character_reply_is_split_in_order(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    paragraphs = [f"Paragraph {i}. " + "Open calls close in spring. " * 36 for i in range(10)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(text) >= 10_000
    rasa.script("long", {"text": text})
    botapi.deliver(botapi.text_update(307, "long"))
    botapi.wait_texts(307, 3)
    time.sleep(0.2)
    chunks = botapi.texts(307)
    assert len(chunks) == 3
    assert all(text_units(chunk) <= 4096 for chunk in chunks)
    assert "\n\n".join(chunks) == text
    assert all(chunk.startswith("Paragraph ") for chunk in chunks)


def test_a_message_over_the_gateway_limit_is_refused_politely(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    botapi.deliver(botapi.text_update(318, "a" * 4050, "hr"))  # Telegram allows 4096
    expected = translate_shared("error.message_too_long", "hr", length=4050, limit=4000)
    assert botapi.wait_texts(318, 1) == [expected]
    assert rasa.requests == []


def test_links_are_plain_text_lines(gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer) -> None:
    rasa.script(
        "sources",
        {
            "text": "See <b>the</b> portal",
            "custom": {"links": [{"title": "Portal", "url": "https://e.eu/x"}]},
        },
    )
    botapi.deliver(botapi.text_update(308, "sources"))
    assert botapi.wait_texts(308, 1) == ["See <b>the</b> portal\n\nPortal: https://e.eu/x"]


def test_rasa_down_gives_the_polite_message_then_recovers(botapi: BotApiPeer) -> None:
    rasa_port = free_port()
    with run_gateway(botapi, f"http://127.0.0.1:{rasa_port}") as _:
        botapi.wait_for("setWebhook")
        botapi.deliver(botapi.text_update(309, "dobar dan", "hr"))
        assert botapi.wait_texts(309, 1) == [translate_shared("error.assistant_unavailable", "hr")]
        with RasaPeer(port=rasa_port):
            botapi.deliver(botapi.text_update(309, "dobar dan", "hr"))
            assert botapi.wait_texts(309, 2)[1] == "[hr] dobar dan"


def test_a_429_is_retried_after_the_time_telegram_asks(
    gateway: Gateway, botapi: BotApiPeer
) -> None:
    botapi.fail_next("sendMessage", 429, retry_after=1)
    botapi.deliver(botapi.text_update(310, "hello"))
    assert botapi.wait_texts(310, 1) == ["[en] hello"]
    refused, sent = botapi.calls_to("sendMessage", ok_only=False)
    assert (refused.status, sent.status) == (429, 200)
    assert sent.at - refused.at >= 1.0


def test_one_private_chat_gets_a_short_burst_then_one_message_per_second(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    rasa.script("five", *({"text": f"part {i}"} for i in range(5)))
    botapi.deliver(botapi.text_update(311, "five"))
    assert botapi.wait_texts(311, 5) == [f"part {i}" for i in range(5)]
    times = [c.at for c in botapi.calls_to("sendMessage")]
    assert times[2] - times[0] < 0.9  # the burst
    assert times[3] - times[0] >= 0.9
    assert times[4] - times[0] >= 1.9


def test_a_slow_answer_holds_up_its_own_chat_only(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    rasa.delays["slow"] = 1.5
    botapi.deliver(botapi.text_update(312, "slow"))
    botapi.deliver(botapi.text_update(312, "after the slow one"))
    botapi.deliver(botapi.text_update(313, "fast"))
    assert botapi.wait_texts(313, 1) == ["[en] fast"]
    assert botapi.texts(312) == []
    assert botapi.wait_texts(312, 2) == ["[en] slow", "[en] after the slow one"]


def test_stopping_the_app_finishes_accepted_updates(botapi: BotApiPeer, rasa: RasaPeer) -> None:
    rasa.delays["slow"] = 1.0
    with run_gateway(botapi, rasa.url):
        botapi.wait_for("setWebhook")
        assert botapi.deliver(botapi.text_update(314, "slow")) == 200
    assert botapi.texts(314) == ["[en] slow"]


def test_the_gateway_starts_while_telegram_is_unreachable_and_connects_later(
    rasa: RasaPeer,
) -> None:
    botapi = BotApiPeer()  # port reserved, not listening yet
    with run_gateway(botapi, rasa.url) as gateway:
        update = botapi.text_update(315, "hello")
        response = post_raw(gateway, update, SECRET)
        assert response.status_code == 503  # Telegram will retry the delivery
        with botapi:
            botapi.wait_for("setWebhook", timeout=10)
            botapi.deliver(update)
            assert botapi.wait_texts(315, 1) == ["[en] hello"]


def test_bodies_that_are_not_updates_are_400(gateway: Gateway, botapi: BotApiPeer) -> None:
    assert post_raw(gateway, b"not json", SECRET).status_code == 400
    response = post_raw(gateway, {"message": {"text": "no update_id"}}, SECRET)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert botapi.calls_to("sendMessage", ok_only=False) == []


def test_handler_errors_are_logged_with_traceback_and_the_user_is_told(
    gateway: Gateway, botapi: BotApiPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="channels.telegram.handlers")
    botapi.fail_next("sendMessage", 400, "Bad Request: something unexpected")
    botapi.deliver(botapi.text_update(316, "hello", "hr"))
    assert botapi.wait_texts(316, 1) == [translate_shared("error.internal", "hr")]
    (record,) = [r for r in caplog.records if r.name == "channels.telegram.handlers"]
    assert record.exc_info is not None
    assert "something unexpected" in str(record.exc_info[1]).lower()
    assert "hello" not in record.getMessage()


def test_the_token_never_reaches_the_logs(
    botapi: BotApiPeer, rasa: RasaPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with run_gateway(botapi, rasa.url):
        botapi.wait_for("setWebhook")
        botapi.deliver(botapi.text_update(317, "hello"))
        botapi.wait_texts(317, 1)
    messages = [r.getMessage() for r in caplog.records]
    assert any("<telegram-token>/sendMessage" in m for m in messages)  # URLs were logged...
    assert not any(TOKEN in m or SECRET in m for m in messages)  # ...without the secrets


def test_no_webhook_route_unless_webhook_mode(closed_port: int) -> None:
    settings = ChannelSettings(
        rasa_url=f"http://127.0.0.1:{closed_port}", telegram_token=TOKEN, telegram_mode="polling"
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post("/telegram/webhook", json={"update_id": 1})
    assert response.status_code == 404
