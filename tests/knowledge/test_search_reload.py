"""A running retriever picks up new builds and keeps serving when a new one is broken."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from indexer.build import build_index
from knowledge.embedding import HashingEmbedder, resolve_model
from knowledge.loader import load_knowledge_base
from knowledge.search import ReloadingRetriever
from knowledge.search_errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexUnavailableError,
    QueryEmptyError,
)
from knowledge.settings import KnowledgeSettings
from knowledge.store import (
    VECTORS,
    current_build_dir,
    load_build,
    new_build_id,
    publish,
    staging_dir,
)
from tests.knowledge.search_fixtures import DIMENSION, SEARCH_DATA, TODAY, build, search_settings

NEW_PRACTICE = """
- id: split-new-practice
  title: {en: "Seaside neighbourhood forum in Split"}
  city: Split
  country: HR
  summary: {en: "Residents of Split discuss the seafront."}
  url: https://example.eu/split
  sources: [{url: https://example.eu/split, reliability: official}]
  last_verified: 2026-11-23
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(SEARCH_DATA, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> KnowledgeSettings:
    return search_settings(tmp_path / "index", data_dir)


def retriever_for(
    settings: KnowledgeSettings, clock: FakeClock | None = None
) -> ReloadingRetriever:
    return ReloadingRetriever(
        settings,
        embedder=HashingEmbedder(DIMENSION),
        clock=lambda: TODAY,
        monotonic=clock or FakeClock(),
    )


def add_practice(data_dir: Path) -> None:
    (data_dir / "practices" / "new.yaml").write_text(NEW_PRACTICE, encoding="utf-8")


def publish_broken_copy(settings: KnowledgeSettings) -> str:
    """Publish a copy of the current build whose vector file is truncated."""
    build_id = new_build_id()
    with staging_dir(settings.index_dir, build_id) as staging:
        shutil.copytree(current_build_dir(settings.index_dir), staging, dirs_exist_ok=True)
        (staging / VECTORS).write_bytes(b"not a faiss index")
        publish(settings.index_dir, staging, build_id, keep=5)
    return build_id


def test_missing_index_names_the_build_command(settings: KnowledgeSettings) -> None:
    with pytest.raises(IndexMissingError) as raised:
        retriever_for(settings).search("town twinning")
    assert raised.value.code == "index_missing"
    assert "python -m indexer build" in str(raised.value)


def test_nothing_is_loaded_before_the_first_search(settings: KnowledgeSettings) -> None:
    build(settings)
    retriever = retriever_for(settings)
    assert retriever.active_build_id is None
    retriever.search("town twinning")
    assert retriever.active_build_id == current_build_dir(settings.index_dir).name


def test_an_index_built_after_start_is_picked_up(settings: KnowledgeSettings) -> None:
    retriever = retriever_for(settings)
    with pytest.raises(IndexMissingError):
        retriever.search("town twinning")
    build(settings)
    assert retriever.search("town twinning", lang="en").hits


def test_a_new_build_is_swapped_in_without_restart(
    settings: KnowledgeSettings, data_dir: Path
) -> None:
    build(settings)
    retriever = retriever_for(settings)
    first = retriever.search("seafront Split", lang="en")
    assert "split-new-practice" not in [hit.id for hit in first.hits]
    old_build = retriever.active_build_id

    add_practice(data_dir)
    assert build(settings).status == "built"

    second = retriever.search("seafront Split", lang="en")
    assert second.hits[0].id == "split-new-practice"
    assert retriever.active_build_id not in (None, old_build)


def test_a_broken_build_is_logged_and_the_old_one_keeps_serving(
    settings: KnowledgeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    build(settings)
    retriever = retriever_for(settings)
    before = retriever.search("town twinning", lang="en")
    good_build = retriever.active_build_id

    broken = publish_broken_copy(settings)
    with pytest.raises(IndexCorruptError):
        load_build(current_build_dir(settings.index_dir))
    with caplog.at_level(logging.ERROR, logger="knowledge.search"):
        after = retriever.search("town twinning", lang="en")

    assert retriever.active_build_id == good_build
    assert [h.id for h in after.hits] == [h.id for h in before.hits]
    assert any(broken in record.getMessage() for record in caplog.records)
    # The broken build is not reloaded on every request: one error only.
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="knowledge.search"):
        retriever.search("town twinning", lang="en")
    assert not caplog.records


def test_a_good_build_after_a_broken_one_is_picked_up(
    settings: KnowledgeSettings, data_dir: Path
) -> None:
    build(settings)
    retriever = retriever_for(settings)
    retriever.search("town twinning")
    publish_broken_copy(settings)
    retriever.search("town twinning")
    add_practice(data_dir)
    build(settings)
    assert retriever.search("seafront Split", lang="en").hits[0].id == "split-new-practice"


def test_a_build_with_another_model_is_refused_and_the_old_one_kept(
    settings: KnowledgeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    build(settings)
    retriever = retriever_for(settings)
    retriever.search("town twinning")
    good_build = retriever.active_build_id
    other = settings.model_copy(update={"embedding_model": f"hashing:{DIMENSION * 2}"})
    kb, _ = load_knowledge_base(settings.data_dir)
    spec = resolve_model(other.embedding_model)
    build_index(kb, settings=other, spec=spec, embedder=HashingEmbedder(DIMENSION * 2))
    with caplog.at_level(logging.ERROR, logger="knowledge.search"):
        retriever.search("town twinning")
    assert retriever.active_build_id == good_build
    assert "hashing:128" in caplog.text


def test_the_link_is_polled_at_most_every_reload_interval(
    settings: KnowledgeSettings, data_dir: Path
) -> None:
    slow = settings.model_copy(update={"reload_check_seconds": 30})
    build(slow)
    clock = FakeClock()
    retriever = retriever_for(slow, clock)
    retriever.search("town twinning")
    first = retriever.active_build_id
    add_practice(data_dir)
    build(slow)
    clock.now = 29
    retriever.search("town twinning")
    assert retriever.active_build_id == first
    clock.now = 31
    retriever.search("town twinning")
    assert retriever.active_build_id != first


def test_bad_queries_fail_before_the_index_is_needed(settings: KnowledgeSettings) -> None:
    with pytest.raises(QueryEmptyError):
        retriever_for(settings).search("  ")


def test_a_missing_index_is_logged_once_not_on_every_search(
    settings: KnowledgeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    retriever = retriever_for(settings)
    with caplog.at_level(logging.ERROR, logger="knowledge.search"):
        for _ in range(3):
            with pytest.raises(IndexMissingError):
                retriever.search("town twinning")
    assert len(caplog.records) == 1


def test_an_unavailable_model_is_an_index_error_not_a_crash(settings: KnowledgeSettings) -> None:
    build(settings)
    offline = settings.model_copy(
        update={"embedding_model": "example/no-such-model", "fallback_model": ""}
    )
    with pytest.raises(IndexUnavailableError) as raised:
        ReloadingRetriever(offline).search("town twinning")
    assert raised.value.code == "index_invalid"
    assert "no-such-model" in str(raised.value)
