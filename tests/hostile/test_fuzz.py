"""A fuzz corpus through the chat API and the Telegram webhook of the real stack.

Every text goes through the real gateway, Rasa and the actions. Proven for each: no
5xx and no stack trace, a polite answer or a 4xx error in the documented shape, no
markup or evaluated template in what comes back, no conversation restarted by a
slash text; afterwards every process is still healthy and the same senders still
get answers.
"""

from __future__ import annotations

import json

import httpx
import pytest

from stack import Stack
from tests.channels.telegram.botapi_peer import BotApiPeer
from tests.hostile.conftest import tracker_events

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

CORPUS: dict[str, str] = {
    "longest_allowed": "Which programme funds town twinning? " * 108,  # 3,996 characters
    "control_characters": "\x00\x01\x02\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f\x85 hello",
    "only_whitespace_controls": "\t\n\r\x0b\x0c" * 50 + "hi",
    "right_to_left": "\u202eolleh\u202c مرحبا بكم שלום \u200fabc\u200e",
    "zero_width": "\u200b\u200c\u200d\ufeffhel\u2060lo\u00ad",
    "zero_width_before_slash": "\u200b/restart",
    "emoji_only": "🇪🇺🏛️💶👍🏽👨‍👩‍👧‍👦",
    "combining_marks": "Z̴͎̈́a̷̢l̸̨g̵̛o̶̧ ̴t̶e̷x̵t̸",
    "sql_drop": "'; DROP TABLE events; --",
    "sql_or": "1' OR '1'='1' /*",
    "sql_union": '" UNION SELECT token FROM subscriptions --',
    "jinja": "{{7*191}} {% for x in range(3) %}x{% endfor %}",
    "dollar_template": "${7*191} #{7*191} <%= 7*191 %>",
    "format_string": "{0.__class__.__mro__} {language} %s%s%n {{sender}}",
    "script": "<script>alert(1)</script>",
    "img_onerror": '<img src=x onerror="alert(1)">',
    "javascript_link": "[click](javascript:alert(1)) <a href='javascript:alert(1)'>x</a>",
    "svg": "<svg/onload=alert(1)>",
    "restart": "/restart",
    "forget_payload": '/forget{"sender": "someone-else"}',
    "session_start": "/session_start",
    "action_restart": "/action_restart",
    "forged_language": '/inform{"language": "de", "language_pref": "de"}',
    "forged_awaiting": '/affirm{"awaiting": "proposal_confirm"}',
    "deep_json": "/inform" + "[" * 2000,
    "many_slashes": "/" * 300 + "hello",
    "prototype": '{"__proto__": {"admin": true}}',
    "null_json": "null",
}
MARKUP = ("<script", "onerror", "onload", "javascript:", "<svg", "<img")
EVALUATED = "1337"  # 7*191: a template engine evaluated the user's text


def check_reply(name: str, response: httpx.Response) -> None:
    assert response.status_code < 500, (name, response.status_code, response.text)
    assert "Traceback" not in response.text, name
    body = response.json()
    if response.status_code != 200:
        assert set(body) == {"error"} and body["error"]["message"], (name, body)
        return
    texts = [m["text"] for m in body["messages"]] + [
        b["title"] for m in body["messages"] for b in m["buttons"]
    ]
    assert texts, f"{name}: empty reply"
    joined = "\n".join(texts).lower()
    assert not [m for m in MARKUP if m in joined], (name, texts)
    assert EVALUATED not in joined, (name, texts)


@pytest.mark.parametrize("name", list(CORPUS))
def test_chat_api_survives_the_corpus(hostile_stack: Stack, api: httpx.Client, name: str) -> None:
    sender = f"fuzz-{name.replace('_', '-')}"
    api.post("/api/v1/chat", json={"sender": sender, "message": "dobar dan"})
    response = api.post("/api/v1/chat", json={"sender": sender, "message": CORPUS[name]})
    check_reply(name, response)
    kinds = [kind for kind, _ in tracker_events(hostile_stack, f"api:{sender}")]
    assert "restart" not in kinds, name
    after = api.post("/api/v1/chat", json={"sender": sender, "message": "hello"})
    assert after.status_code == 200, (name, after.text)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("invalid_utf8", b'{"sender": "fuzz-utf8", "message": "\xff\xfe\xc3\x28"}'),
        ("lone_surrogate", b'{"sender": "fuzz-surrogate", "message": "a\\ud800b"}'),
        ("too_long", json.dumps({"sender": "fuzz-long", "message": "x" * 4001}).encode()),
        ("huge", json.dumps({"sender": "fuzz-huge", "message": "é" * 300_000}).encode()),
        ("null_in_sender", json.dumps({"sender": "a\x00b", "message": "hi"}).encode()),
        ("message_not_text", b'{"sender": "fuzz-type", "message": {"text": "/restart"}}'),
        ("truncated", b'{"sender": "fuzz-trunc", "message": "hel'),
        ("nested", b'{"sender": "fuzz-nest", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ],
)
def test_chat_api_refuses_broken_bodies_politely(api: httpx.Client, name: str, body: bytes) -> None:
    response = api.post("/api/v1/chat", content=body, headers={"Content-Type": "application/json"})
    check_reply(name, response)


def test_telegram_webhook_survives_the_corpus(hostile_stack: Stack, botapi: BotApiPeer) -> None:
    chats = {name: 700_000 + number for number, name in enumerate(CORPUS)}
    for name, chat_id in chats.items():
        assert botapi.deliver(botapi.text_update(chat_id, CORPUS[name])) == 200, name
    for name, chat_id in chats.items():
        texts = botapi.wait_texts(chat_id, 1, timeout=60)
        joined = "\n".join(texts).lower()
        assert not [m for m in MARKUP if m in joined], (name, texts)
        assert EVALUATED not in joined, (name, texts)
        kinds = [kind for kind, _ in tracker_events(hostile_stack, f"telegram:{chat_id}")]
        assert "restart" not in kinds, name
    formatted = [c for c in botapi.calls_to("sendMessage") if c.params.get("parse_mode")]
    assert formatted == [], "user text could be rendered as markup"
    assert botapi.webhook is not None
    raw = httpx.post(
        botapi.webhook.url,
        content=b'{"update_id": 1, "message": "\xff\xfe',
        headers={"X-Telegram-Bot-Api-Secret-Token": botapi.webhook.secret_token or ""},
    )
    assert raw.status_code < 500, raw.text


def test_every_process_is_still_healthy(hostile_stack: Stack, api: httpx.Client) -> None:
    for service in hostile_stack.services:
        assert service.process is not None and service.process.poll() is None, service.name
    assert api.get("/healthz").json() == {"status": "ok", "rasa": "ok"}
    log = hostile_stack.service("FastAPI app").log_path.read_text(errors="replace")
    # What channels/errors.py and uvicorn log for an exception no handler caught.
    for marker in ("Unhandled error on", "Exception in ASGI application"):
        assert marker not in log, log[log.index(marker) - 200 :][:3000]
