"""The portal's public search API (SEDIA): one POST per page, query parts as JSON.

The request is the one the portal's own search page sends, as shown in public
examples (docs/ftportal.md): ``POST <url>?apiKey=SEDIA&text=***&pageSize=N&pageNumber=P``
with multipart parts ``query``, ``languages`` and ``sort``, each an
``application/json`` blob. The answer is ``{"totalResults": n, "results": [...]}``
with each topic's fields as lists of strings under ``metadata``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from knowledge.settings import KnowledgeSettings

STATUS_FORTHCOMING: Final[str] = "31094501"
STATUS_OPEN: Final[str] = "31094502"
STATUSES: Final[dict[str, str]] = {STATUS_FORTHCOMING: "forthcoming", STATUS_OPEN: "open"}
"""The portal's status codes of the topics asked for (31094503 is closed)."""

USER_AGENT: Final[str] = "civic-eu-assistant-importer/1 (+docs/ftportal.md)"

PageProgress = Callable[[int, int, int, int], None]
"""Called with (page, pages, topics so far, total topics) after each page."""


class PortalError(Exception):
    """An import that cannot go on; the message says what failed, for the operator."""


@dataclass(frozen=True)
class Page:
    """One page of search results."""

    number: int
    total: int
    results: list[dict[str, Any]]


def search_query(types: list[str]) -> dict[str, Any]:
    """The ``query`` part: topics of the given types that are open or forthcoming."""
    return {
        "bool": {
            "must": [
                {"terms": {"type": list(types)}},
                {"terms": {"status": [STATUS_FORTHCOMING, STATUS_OPEN]}},
            ]
        }
    }


def request_parts(settings: KnowledgeSettings) -> dict[str, tuple[str, str, str]]:
    """The multipart parts of every page request (the portal wants JSON blobs)."""
    languages = list(dict.fromkeys(["en", *settings.ftportal_languages]))
    parts = {
        "query": search_query(settings.ftportal_types),
        "languages": languages,
        # A unique sort key keeps pages from overlapping while the portal paginates.
        "sort": {"field": "identifier", "order": "ASC"},
    }
    return {name: ("blob", json.dumps(value), "application/json") for name, value in parts.items()}


def parse_page(data: object, number: int) -> Page:
    """Check the shape of one answer; a different shape means the API changed.

    Raises:
        PortalError: If ``totalResults`` or ``results`` is missing or of another type.
    """
    if not isinstance(data, dict):
        raise PortalError(f"page {number}: the answer is not a JSON object (changed format?)")
    total = data.get("totalResults")
    results = data.get("results")
    if not isinstance(total, int) or isinstance(total, bool):
        raise PortalError(
            f"page {number}: no number 'totalResults' in the answer (changed format?)"
        )
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        raise PortalError(f"page {number}: no list of 'results' in the answer (changed format?)")
    return Page(number, total, results)


class PortalClient:
    """Fetches every open and forthcoming topic, page by page, with retries."""

    def __init__(
        self,
        settings: KnowledgeSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Remember the settings (URL, page size, timeout, retries)."""
        self.settings = settings
        self._sleep = sleep

    @property
    def host(self) -> str:
        """The API's host, for messages."""
        return urlsplit(self.settings.ftportal_url).netloc

    def fetch_all(self, progress: PageProgress | None = None) -> list[dict[str, Any]]:
        """Every result of every page.

        Raises:
            PortalError: On no network, a timeout, an HTTP error, a changed format,
                or more pages than ``ftportal_max_pages``.
        """
        size = self.settings.ftportal_page_size
        results: list[dict[str, Any]] = []
        timeout = httpx.Timeout(self.settings.ftportal_timeout_seconds)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        with httpx.Client(timeout=timeout, headers=headers) as client:
            number = 1
            while True:
                page = self._page(client, number)
                results.extend(page.results)
                pages = max(1, -(-page.total // size))
                if progress is not None:
                    progress(number, pages, len(results), page.total)
                if not page.results or len(results) >= page.total:
                    return results
                if number >= self.settings.ftportal_max_pages:
                    raise PortalError(
                        f"more than {number} pages of {size} topics ({page.total} in all); "
                        "raise KNOWLEDGE_FTPORTAL_MAX_PAGES or KNOWLEDGE_FTPORTAL_PAGE_SIZE"
                    )
                number += 1

    def _page(self, client: httpx.Client, number: int) -> Page:
        """One page, tried again after a timeout, a connection error or a 5xx answer."""
        attempts = self.settings.ftportal_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._request(client, number)
            except _Retryable as exc:
                if attempt == attempts:
                    tries = f" (tried {attempts} times)" if attempts > 1 else ""
                    raise PortalError(f"{exc}{tries}") from exc
                self._sleep(self.settings.ftportal_retry_seconds * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(self, client: httpx.Client, number: int) -> Page:
        params: dict[str, str | int] = {
            "apiKey": self.settings.ftportal_api_key,
            "text": "***",
            "pageSize": self.settings.ftportal_page_size,
            "pageNumber": number,
        }
        try:
            response = client.post(
                self.settings.ftportal_url, params=params, files=request_parts(self.settings)
            )
        except httpx.TimeoutException as exc:
            seconds = self.settings.ftportal_timeout_seconds
            raise _Retryable(f"page {number}: no answer from {self.host} in {seconds:g} s") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"page {number}: cannot reach {self.host} ({exc})") from exc
        if response.status_code >= 500:
            raise _Retryable(f"page {number}: HTTP {response.status_code} from {self.host}")
        if response.status_code != 200:
            raise PortalError(f"page {number}: HTTP {response.status_code} from {self.host}")
        try:
            data = response.json()
        except ValueError as exc:
            raise PortalError(f"page {number}: the answer is not JSON (changed format?)") from exc
        return parse_page(data, number)


class _Retryable(Exception):
    """A failure that may pass: a timeout, a dropped connection, a 5xx answer."""
