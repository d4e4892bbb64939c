"""A stand-in for the Rasa server's REST channel (POST /webhooks/rest/webhook).

It answers like our Rasa does: when the gateway asks for turn info (`want_meta`),
a first message `{"custom": {"turn": {"language": ...}}}`, then the bot messages.
The language follows the same order as `bot.language` for the parts a fake can
know (explicit `lang_pref`, then the channel's `lang_hint`, then English), and the
default answer is `[<language>] <the user's text>`. Tests can script answers per
message text and delay them; every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.channels.telegram.loopback import JsonServer

REST_PATH = "/webhooks/rest/webhook"


@dataclass
class RasaRequest:
    sender: str
    message: str
    metadata: dict[str, Any]
    at: float


class RasaPeer(JsonServer):
    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.requests: list[RasaRequest] = []
        self.scripts: dict[str, list[dict[str, Any]]] = {}
        self.delays: dict[str, float] = {}
        self._changed = threading.Condition()

    @property
    def url(self) -> str:
        return self.base

    def script(self, text: str, *messages: dict[str, Any]) -> None:
        """Answer `text` with these bot messages (REST format, without recipient_id)."""
        self.scripts[text] = list(messages)

    def wait_requests(self, count: int, timeout: float = 15.0) -> list[RasaRequest]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{count} Rasa requests not seen; got {self.requests}")
                self._changed.wait(remaining)
            return list(self.requests)

    def handle(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if verb == "GET" and path == "/":
            return 200, "Hello from Rasa: 3.6.21"
        if verb != "POST" or path != REST_PATH:
            return 404, {"error": "not found"}
        payload = json.loads(body)
        request = RasaRequest(
            sender=payload["sender"],
            message=payload["message"],
            metadata=payload.get("metadata") or {},
            at=time.monotonic(),
        )
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
        time.sleep(self.delays.get(request.message, 0.0))
        return 200, self._answer(request)

    def _answer(self, request: RasaRequest) -> list[dict[str, Any]]:
        meta = request.metadata
        hint = str(meta.get("lang_hint") or "").split("-")[0].lower() or None
        language = meta.get("lang_pref") or hint or "en"
        items: list[dict[str, Any]] = []
        if meta.get("want_meta") is True:
            items.append({"custom": {"turn": {"language": language}}})
        scripted = self.scripts.get(request.message)
        if scripted is None:
            scripted = [{"text": f"[{language}] {request.message}"}]
        items.extend(scripted)
        return [{"recipient_id": request.sender, **item} for item in items]
