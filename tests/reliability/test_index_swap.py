"""Swap the search index under a real gateway while queries run: no query fails.

The gateway runs as `make run` starts it (uvicorn, its own `ReloadingRetriever`), on a
small real index (FAISS + BM25, hashing embedder) that this test rebuilds with
`--force` several times, adding and removing one event each time. Threads query the
search API throughout; every answer must be a 200 with results, and after each build
the gateway must serve the new content (waited for, not slept on), which proves the
swaps happened while the queries ran.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from knowledge.settings import KnowledgeSettings
from stack import LOOPBACK, app_service, free_port
from tests.knowledge.search_fixtures import DIMENSION, SEARCH_DATA, build, search_settings

pytestmark = [pytest.mark.integration]

SWAPS = 20
QUERY_THREADS = 3
SEARCH = "/api/v1/search"
NEW_EVENT = """
- id: split-seafront-forum
  kind: event
  title: {en: "Seafront forum in Split"}
  summary: {en: "An evening debate on the seafront of Split."}
  city: Split
  country: HR
  url: https://example.eu/split-forum
  sources: [{url: https://example.eu/split-forum, reliability: official}]
  last_verified: 2026-11-23
"""


def query_until_stopped(base: str, statuses: Counter[int], stop: threading.Event) -> None:
    """Query as fast as the server answers; count statuses (0 = no answer at all)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            try:
                response = client.get(SEARCH, params={"q": "town twinning", "lang": "en"})
                ok = response.status_code == 200 and bool(response.json()["results"])
                statuses[response.status_code if ok else -response.status_code] += 1
            except httpx.HTTPError:
                statuses[0] += 1


def serves_event(client: httpx.Client) -> bool:
    response = client.get(SEARCH, params={"q": "seafront forum Split", "type": "event"})
    assert response.status_code == 200, response.text
    return any(r["id"] == "split-seafront-forum" for r in response.json()["results"])


def wait_for(client: httpx.Client, present: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while serves_event(client) != present:
        assert time.monotonic() < deadline, f"new index (event present={present}) not served"


def test_queries_never_fail_while_the_index_is_swapped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SEARCH_DATA, data)
    settings: KnowledgeSettings = search_settings(tmp_path / "index", data)
    build(settings)
    port = free_port()
    app = app_service(
        port,
        free_port(),  # no Rasa: search does not need it
        tmp_path,
        {
            "KNOWLEDGE_DATA_DIR": str(data),
            "KNOWLEDGE_INDEX_DIR": str(settings.index_dir),
            "KNOWLEDGE_EMBEDDING_MODEL": f"hashing:{DIMENSION}",
            "KNOWLEDGE_RELOAD_CHECK_SECONDS": "0",
            "PARTICIPATION_DATABASE_URL": f"sqlite:///{tmp_path / 'participation.db'}",
            "PARTICIPATION_TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "APP_REMINDERS_ENABLED": "false",
        },
        "app",
    )
    app.start()
    try:
        app.wait_healthy()
        base = f"http://{LOOPBACK}:{port}"
        statuses: Counter[int] = Counter()
        stop = threading.Event()
        threads = [
            threading.Thread(target=query_until_stopped, args=(base, statuses, stop))
            for _ in range(QUERY_THREADS)
        ]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                for swap in range(SWAPS):
                    event_file = data / "events" / "split.yaml"
                    present = swap % 2 == 0
                    if present:
                        event_file.write_text(NEW_EVENT, encoding="utf-8")
                    else:
                        event_file.unlink()
                    assert build(settings, force=True).status == "built"
                    wait_for(client, present)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        app.stop()
    total = sum(statuses.values())
    print(f"\n[index swap] {SWAPS} swaps, {total} queries in {elapsed:.1f} s: {dict(statuses)}")
    assert statuses == Counter({200: total}), (dict(statuses), app.log_tail())
    assert total >= 10 * SWAPS, "too few queries ran during the swaps to show anything"
