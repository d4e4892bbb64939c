"""Local HTTP peers for the WhatsApp tests: Meta's Graph API and Rasa's REST channel.

Both run as real uvicorn servers on free loopback ports, so the gateway talks to
them over HTTP exactly as it would to graph.facebook.com and a Rasa server. The
Graph peer enforces the Cloud API's documented limits and answers like Meta does,
including Meta's error body, so a payload the real API would refuse fails here too.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from stack import free_port

LOOPBACK = "127.0.0.1"
TEST_TOKEN = "test-access-token"
TEST_APP_SECRET = "test-app-secret"
TEST_VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "106540352242922"
API_VERSION = "v23.0"


class ServerThread:
    """A uvicorn server for `app` in a daemon thread, on `port` (default: a free one)."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host=LOOPBACK, port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


# ---------------------------------------------------------------- Graph API peer


@dataclass
class GraphCall:
    """One request the gateway made to the Graph API peer, and how the peer answered."""

    version: str
    phone_number_id: str
    authorization: str | None
    body: dict[str, Any]
    status: int


class GraphApiPeer:
    """Speaks `POST /{version}/{phone_number_id}/messages` like the Cloud API."""

    def __init__(self, token: str = TEST_TOKEN, phone_number_id: str = PHONE_NUMBER_ID) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self._calls: list[GraphCall] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.app = FastAPI()
        self.app.add_api_route(
            "/{version}/{phone_number_id}/messages", self._messages, methods=["POST"]
        )

    async def _messages(self, version: str, phone_number_id: str, request: Request) -> JSONResponse:
        authorization = request.headers.get("authorization")
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = {}
        status, answer = self._answer(version, phone_number_id, authorization, body)
        with self._lock:
            self._calls.append(GraphCall(version, phone_number_id, authorization, body, status))
        return JSONResponse(answer, status_code=status)

    def _answer(
        self, version: str, phone_number_id: str, authorization: str | None, body: Any
    ) -> tuple[int, dict[str, Any]]:
        if authorization != f"Bearer {self.token}":
            return 401, graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        if not version.startswith("v") or phone_number_id != self.phone_number_id:
            return 400, graph_error(100, f"Unsupported post request. Object with ID "
                                         f"'{phone_number_id}' does not exist")  # fmt: skip
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return 400, graph_error(100, "The parameter messaging_product is required.")
        if body.get("status") == "read":
            if not body.get("message_id"):
                return 400, graph_error(100, "The parameter message_id is required.")
            return 200, {"success": True}
        problem = message_problem(body)
        if problem:
            return 400, graph_error(100, f"(#100) Invalid parameter: {problem}")
        wamid = f"wamid.PEER{next(self._ids):08d}"
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": wamid}],
        }

    @property
    def calls(self) -> list[GraphCall]:
        with self._lock:
            return list(self._calls)

    def sent_to(self, wa_id: str) -> list[dict[str, Any]]:
        """Accepted messages (not read receipts) sent to `wa_id`, oldest first."""
        return [
            call.body
            for call in self.calls
            if call.status == 200 and call.body.get("to") == wa_id and "type" in call.body
        ]

    def refused(self) -> list[GraphCall]:
        return [call for call in self.calls if call.status != 200]

    def read_receipts(self) -> list[str]:
        return [c.body["message_id"] for c in self.calls if c.body.get("status") == "read"]

    def wait_for(self, wa_id: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The messages sent to `wa_id` once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent_to(wa_id)
            if len(sent) >= count:
                return sent
            time.sleep(0.02)
        refused = [(c.status, c.body) for c in self.refused()]
        raise AssertionError(
            f"expected {count} messages to {wa_id}, got {self.sent_to(wa_id)}; refused: {refused}"
        )


def graph_error(code: int, message: str) -> dict[str, Any]:
    """Meta's error body."""
    kind = "OAuthException"
    return {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}}


def message_problem(body: dict[str, Any]) -> str | None:
    """Why the Cloud API would refuse this message, or None (documented limits)."""
    if not str(body.get("to") or "").lstrip("+").isdigit():
        return "to"
    kind = body.get("type")
    if kind == "text":
        text = body.get("text") or {}
        return None if 0 < len(text.get("body") or "") <= 4096 else "text['body']"
    if kind != "interactive":
        return "type"
    interactive = body.get("interactive") or {}
    if interactive.get("type") == "button":
        return _buttons_problem(interactive)
    if interactive.get("type") == "list":
        return _list_problem(interactive)
    return "interactive['type']"


def _buttons_problem(interactive: dict[str, Any]) -> str | None:
    if not 0 < len(interactive.get("body", {}).get("text") or "") <= 1024:
        return "interactive['body']['text']"
    buttons = interactive.get("action", {}).get("buttons") or []
    if not 1 <= len(buttons) <= 3:
        return "interactive['action']['buttons']"
    ids = [b.get("reply", {}).get("id") or "" for b in buttons]
    titles = [b.get("reply", {}).get("title") or "" for b in buttons]
    if any(b.get("type") != "reply" for b in buttons):
        return "interactive['action']['buttons'][]['type']"
    if any(not 0 < len(i) <= 256 for i in ids) or len(set(ids)) != len(ids):
        return "interactive['action']['buttons'][]['reply']['id']"
    if any(not 0 < len(t) <= 20 for t in titles) or len(set(titles)) != len(titles):
        return "interactive['action']['buttons'][]['reply']['title']"
    return None


def _list_problem(interactive: dict[str, Any]) -> str | None:
    if not 0 < len(interactive.get("body", {}).get("text") or "") <= 4096:
        return "interactive['body']['text']"
    action = interactive.get("action") or {}
    if not 0 < len(action.get("button") or "") <= 20:
        return "interactive['action']['button']"
    sections = action.get("sections") or []
    if not 1 <= len(sections) <= 10:
        return "interactive['action']['sections']"
    if len(sections) > 1 and any(not s.get("title") for s in sections):
        return "interactive['action']['sections'][]['title']"
    if any(len(s.get("title") or "") > 24 for s in sections):
        return "interactive['action']['sections'][]['title']"
    rows = [row for s in sections for row in s.get("rows") or []]
    ids = [row.get("id") or "" for row in rows]
    if not 1 <= len(rows) <= 10:
        return "interactive['action']['sections'][]['rows']"
    if any(not 0 < len(i) <= 200 for i in ids) or len(set(ids)) != len(ids):
        return "interactive['action']['sections'][]['rows'][]['id']"
    if any(not 0 < len(row.get("title") or "") <= 24 for row in rows):
        return "interactive['action']['sections'][]['rows'][]['title']"
    if any(len(row.get("description") or "") > 72 for row in rows):
        return "interactive['action']['sections'][]['rows'][]['description']"
    return None


# ---------------------------------------------------------------- Rasa REST peer

RasaScript = Callable[[str, str, dict[str, Any]], list[dict[str, Any]]]


class RasaRestPeer:
    """Speaks Rasa's REST channel: `POST /webhooks/rest/webhook`, `GET /` for health.

    By default it answers like our bot does with `want_meta`: a turn message with the
    language (the channel hint, else English), then `echo: <text>`. Tests register
    `replies[text]` for scripted answers (buttons, links, long texts).
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.replies: dict[str, list[dict[str, Any]]] = {}
        # Text -> the language the "bot" decides for that turn (default: the hint).
        self.languages: dict[str, str] = {}
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.add_api_route("/webhooks/rest/webhook", self._webhook, methods=["POST"])
        self.app.add_api_route("/", self._root, methods=["GET"])

    async def _root(self) -> dict[str, str]:
        return {"version": "3.6.21-peer"}

    async def _webhook(self, request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        with self._lock:
            self.received.append(body)
        sender, text = body["sender"], body["message"]
        metadata = body.get("metadata") or {}
        hinted = metadata.get("lang_pref") or metadata.get("lang_hint") or "en"
        language = self.languages.get(text, hinted)
        turn = {"recipient_id": sender, "custom": {"turn": {"language": language}}}
        messages = self.replies.get(text) or [{"text": f"echo: {text}"}]
        return [turn, *({"recipient_id": sender, **m} for m in messages)]

    def from_sender(self, sender: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for body in self.received if body["sender"] == sender]


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


# ---------------------------------------------------------------- webhook payloads

_message_ids = itertools.count(1)


def new_message_id() -> str:
    return f"wamid.TEST{next(_message_ids):010d}"


def text_message(wa_id: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": message_id or new_message_id(),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }


def typed_message(wa_id: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """A message of any type: `typed_message(wa, "audio", {"id": "..", "mime_type": ..})`."""
    return {
        "from": wa_id,
        "id": new_message_id(),
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: content,
    }


def webhook_body(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    """A delivery as Meta sends it (one entry, one change of field `messages`)."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [
            {"profile": {"name": "Test User"}, "wa_id": m["from"]} for m in messages
        ]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def sign(body: bytes, secret: str = TEST_APP_SECRET) -> str:
    """The X-Hub-Signature-256 header Meta computes (independent of the app's code)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_signed(
    client: httpx.Client, body: dict[str, Any], secret: str = TEST_APP_SECRET
) -> httpx.Response:
    """POST a delivery to the gateway, signed like Meta signs it."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, secret)}
    return client.post("/whatsapp/webhook", content=raw, headers=headers)
