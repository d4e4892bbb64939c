"""HTTP client of the Rasa server's REST channel: the only way channels reach Rasa."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

REST_WEBHOOK_PATH = "/webhooks/rest/webhook"


class RasaUnavailableError(Exception):
    """Rasa cannot be reached or failed; the caller should answer 503 and retry later."""


@dataclass
class RasaTurn:
    """What Rasa answered to one user message.

    `info` merges every `{"custom": {"turn": {...}}}` message of the turn: the actions
    report the language, intent and confidence, the records an answer cited and whether
    the question was answered, each in its own message; later values win, record ids add up.
    """

    language: str | None
    messages: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def intent(self) -> str | None:
        """Intent NLU recognised for the user's message, if an action reported it."""
        value = self.info.get("intent")
        return value if isinstance(value, str) else None

    @property
    def confidence(self) -> float | None:
        """NLU confidence of `intent` (0-1), if reported."""
        value = self.info.get("confidence")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return None

    @property
    def records(self) -> list[str]:
        """Knowledge-base records the answer cited, in order, without repeats."""
        value = self.info.get("records")
        return list(value) if isinstance(value, list) else []

    @property
    def answered(self) -> bool:
        """False only when the fallback chain said it could not answer."""
        return self.info.get("answered") is not False


class RasaClient:
    """Posts user messages to Rasa and splits its answer into messages and turn info."""

    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Create the client; `transport` lets tests route requests elsewhere."""
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout_seconds, transport=transport
        )

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> RasaTurn:
        """Send one message; raise RasaUnavailableError when Rasa cannot answer."""
        payload = {"sender": sender, "message": text, "metadata": metadata}
        try:
            response = await self._client.post(REST_WEBHOOK_PATH, json=payload)
        except httpx.HTTPError as exc:
            raise RasaUnavailableError(f"Rasa unreachable: {exc!r}") from exc
        if response.status_code >= 400:
            raise RasaUnavailableError(f"Rasa answered HTTP {response.status_code}")
        try:
            items = response.json()
        except ValueError as exc:
            raise RasaUnavailableError("Rasa answered with invalid JSON") from exc
        if not isinstance(items, list):
            raise RasaUnavailableError("Rasa answered with an unexpected payload")
        return split_turn(items)

    async def is_healthy(self) -> bool:
        """True when the Rasa server answers on its root URL."""
        try:
            response = await self._client.get("/")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def split_turn(items: list[Any]) -> RasaTurn:
    """Separate the per-turn info messages from the user-visible ones, merging the info."""
    info: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("turn"), dict):
            merge_turn_info(info, custom["turn"])
            continue
        messages.append(item)
    language = info.get("language")
    return RasaTurn(
        language=language if isinstance(language, str) else None, messages=messages, info=info
    )


def merge_turn_info(info: dict[str, Any], part: dict[str, Any]) -> None:
    """Add one action's turn report to `info`.

    Several actions may run in one turn (the language check, then an answer, then
    perhaps a fallback step); record ids from all of them are kept, in order and
    without repeats, and a turn is unanswered as soon as one step says so.
    """
    for key, value in part.items():
        if key == "records":
            known: list[str] = info.setdefault("records", [])
            new = value if isinstance(value, list) else []
            known.extend(r for r in new if isinstance(r, str) and r not in known)
        elif key == "answered":
            info["answered"] = info.get("answered", True) is not False and value is not False
        elif value is not None:
            info[key] = value
