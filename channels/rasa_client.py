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
    """What Rasa answered to one user message."""

    language: str | None
    messages: list[dict[str, Any]] = field(default_factory=list)


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
    """Separate the per-turn info message (language) from the user-visible ones."""
    language: str | None = None
    messages: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("turn"), dict):
            value = custom["turn"].get("language")
            language = value if isinstance(value, str) else language
            continue
        messages.append(item)
    return RasaTurn(language=language, messages=messages)
