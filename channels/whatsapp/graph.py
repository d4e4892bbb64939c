"""HTTP client of the WhatsApp Cloud API (Graph API): send messages, mark them read."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from channels.whatsapp.config import WhatsAppConfig

logger = logging.getLogger(__name__)


class GraphApiError(Exception):
    """The Graph API refused a request or could not be reached (status 0)."""

    def __init__(self, status_code: int, code: int | None, detail: str) -> None:
        """Keep the HTTP status and Meta's numeric error code for the logs."""
        super().__init__(f"Graph API error (HTTP {status_code}, code {code}): {detail}")
        self.status_code = status_code
        self.code = code


class GraphClient:
    """Posts to `{graph_url}/{version}/{phone_number_id}/messages` with the access token.

    The base URL is configurable so tests (and a regional proxy) can stand in for
    graph.facebook.com; the token is only ever sent in the Authorization header.
    """

    def __init__(
        self, config: WhatsAppConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """Create the connection pool; nothing is sent before the first message."""
        self._client = httpx.AsyncClient(
            base_url=f"{config.graph_url}/{config.api_version}",
            headers={"Authorization": f"Bearer {config.access_token.get_secret_value()}"},
            timeout=config.timeout_seconds,
            transport=transport,
        )
        self._path = f"/{config.phone_number_id}/messages"

    async def send(self, to: str, message: dict[str, Any]) -> str | None:
        """Send one message (`{"type": ..., <type>: ...}`) to `to`; return its `wamid`."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body.update(message)
        answer = await self._post(body)
        sent = answer.get("messages")
        if isinstance(sent, list) and sent and isinstance(sent[0], dict):
            message_id = sent[0].get("id")
            return message_id if isinstance(message_id, str) else None
        return None

    async def mark_read(self, message_id: str) -> None:
        """Show the user two blue ticks: their message arrived and is being answered."""
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        await self._post(body)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(self._path, json=body)
        except httpx.HTTPError as exc:
            raise GraphApiError(0, None, f"unreachable: {exc!r}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise _error_of(response.status_code, answer)
        return answer


def _error_of(status_code: int, answer: object) -> GraphApiError:
    """Meta's error body is `{"error": {"message", "type", "code", "fbtrace_id", ...}}`."""
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return GraphApiError(status_code, None, "unexpected answer")
    code = error.get("code")
    detail = f"{error.get('message', '')} (fbtrace_id {error.get('fbtrace_id', '-')})"
    return GraphApiError(status_code, code if isinstance(code, int) else None, detail)
