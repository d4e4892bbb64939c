"""The gateway's refresh job swaps a new import into a running search, without a restart.

A real `ReloadingRetriever` serves a small real index (FAISS + BM25, hashing embedder);
`channels.refresh.CallRefresh` runs the real `python -m indexer import-calls` and
`python -m indexer build` as child processes against the local portal peer. After the
run the same retriever answers with the imported call; with the portal failing, the
next run changes nothing and the last import keeps being served.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

from fastapi.testclient import TestClient

from channels.app import create_app
from channels.refresh import CallRefresh, start_refresh
from channels.settings import ChannelSettings
from knowledge.embedding import HashingEmbedder
from knowledge.filters import SearchFilters
from knowledge.search import ReloadingRetriever
from knowledge.settings import KnowledgeSettings
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.indexer.test_import_calls import PortalPeer, peer  # noqa: F401 - the fixture
from tests.knowledge.search_fixtures import DIMENSION, SEARCH_DATA, build, search_settings

NEW_CALL = "ftportal-life-2099-clima-cca"
QUERY = "heat-resilient neighbourhood pilots"
CALLS = SearchFilters(types=frozenset({"call"}))


def environment(settings: KnowledgeSettings, url: str) -> dict[str, str]:
    """The KNOWLEDGE_* settings of the gateway, as its child processes read them."""
    return {
        **os.environ,
        "KNOWLEDGE_DATA_DIR": str(settings.data_dir),
        "KNOWLEDGE_INDEX_DIR": str(settings.index_dir),
        "KNOWLEDGE_IMPORT_DIR": str(settings.import_dir),
        "KNOWLEDGE_EMBEDDING_MODEL": f"hashing:{DIMENSION}",
        "KNOWLEDGE_FTPORTAL_URL": url,
        "KNOWLEDGE_FTPORTAL_RETRIES": "0",
    }


def hit_ids(retriever: ReloadingRetriever) -> list[str]:
    return [hit.id for hit in retriever.search(QUERY, lang="en", filters=CALLS).hits]


def test_a_refresh_swaps_the_new_calls_into_the_running_search(
    tmp_path: Path,
    peer: PortalPeer,  # noqa: F811 - the fixture
) -> None:
    data = tmp_path / "data"
    shutil.copytree(SEARCH_DATA, data)
    settings = search_settings(tmp_path / "index", data, import_dir=tmp_path / "imports")
    build(settings)
    retriever = ReloadingRetriever(settings, embedder=HashingEmbedder(DIMENSION))
    first_build = retriever.current().build_id
    assert NEW_CALL not in hit_ids(retriever)

    peer.scenario = "refresh"
    refresh = CallRefresh(
        ChannelSettings(refresh_timeout_seconds=120), env=environment(settings, peer.url)
    )
    report = asyncio.run(refresh.run_once())
    assert report.ok, (report.imported.output, report.built and report.built.output)
    assert "Imported 2 calls" in report.imported.output
    # Incremental: the curated records kept their vectors, only the new calls were embedded.
    assert report.built is not None and "reused" in report.built.output

    assert hit_ids(retriever)[0] == NEW_CALL  # the same retriever, no restart
    swapped = retriever.current().build_id
    assert swapped != first_build

    # Offline (the portal fails): nothing is rebuilt and the last import keeps serving.
    peer.status = 500
    failed = asyncio.run(refresh.run_once())
    assert not failed.imported.ok and failed.built is None
    assert "HTTP 500" in failed.imported.output
    assert retriever.current().build_id == swapped
    assert hit_ids(retriever)[0] == NEW_CALL


def test_the_job_is_scheduled_once_per_interval_after_the_start_delay() -> None:
    settings = ChannelSettings(refresh_interval_hours=24, refresh_start_delay_seconds=300)

    async def scheduled() -> tuple[float, float]:
        scheduler = start_refresh(CallRefresh(settings), settings)
        try:
            job = scheduler.get_job("refresh-calls")
            assert job is not None and job.max_instances == 1
            loop_now = job.next_run_time.timestamp()
            return job.trigger.interval.total_seconds(), loop_now
        finally:
            scheduler.shutdown(wait=False)

    before = time.time()
    interval, next_run = asyncio.run(scheduled())
    assert interval == 24 * 3600
    assert before + 299 <= next_run <= time.time() + 301


def test_the_gateway_starts_and_stops_the_refresh_job(tmp_path: Path) -> None:
    store = ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        tracker_database_url=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    for enabled in (True, False):
        settings = ChannelSettings(
            refresh_enabled=enabled, refresh_start_delay_seconds=3600, reminders_enabled=False
        )
        app = create_app(
            settings, participation=ParticipationService(store), participation_settings=store
        )
        with TestClient(app):
            refresh = app.state.refresh
            assert isinstance(refresh, CallRefresh) if enabled else refresh is None
