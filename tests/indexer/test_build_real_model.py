"""The real packaged model: offline fallback, manifest, and ranking (slow: loads torch)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from indexer.build import build_index
from knowledge.embedding import PACKAGED_MODEL, embedder_from_settings, resolve_model
from knowledge.loader import load_knowledge_base
from knowledge.search import HybridRetriever
from knowledge.settings import KnowledgeSettings
from knowledge.store import load_current
from tests.knowledge.search_fixtures import SEARCH_DATA, TODAY

pytestmark = pytest.mark.slow


def test_offline_build_falls_back_to_the_packaged_model_and_ranks_well(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = KnowledgeSettings(
        data_dir=SEARCH_DATA,
        index_dir=tmp_path / "index",
        embedding_model="intfloat/multilingual-e5-small",
    )
    with caplog.at_level(logging.WARNING, logger="knowledge.embedding"):
        spec = resolve_model(settings.embedding_model, settings.fallback_model)
    assert spec.fallback and spec.source == "packaged"
    assert "falling back" in caplog.text and PACKAGED_MODEL in caplog.text

    kb, errors = load_knowledge_base(SEARCH_DATA)
    assert not errors
    embedder = embedder_from_settings(settings)
    result = build_index(kb, settings=settings, spec=spec, embedder=embedder)

    model = result.manifest.model
    assert (model.requested, model.name, model.fallback) == (
        "intfloat/multilingual-e5-small",
        "sentence-transformers/all-MiniLM-L6-v2",
        True,
    )
    assert model.model_id.startswith(f"{PACKAGED_MODEL}==")
    assert result.manifest.dimension == 384

    index = load_current(settings.index_dir)
    dense = HybridRetriever(index, embedder, settings=settings, mode="dense", clock=lambda: TODAY)
    hybrid = HybridRetriever(index, embedder, settings=settings, clock=lambda: TODAY)
    # A paraphrase with no word in common with the title: only the model can match it.
    top = dense.search("money for festivities with a partner city abroad", lang="en").hits[0]
    assert top.id in {"cerv-town-twinning", "town-twinning-2026", "town-twinning-2025"}
    assert hybrid.search("heavy rainfall deliberation", lang="en").hits[0].id == (
        "gdansk-citizens-assembly"
    )
    hits = hybrid.search("bratimljenje gradova", lang="hr").hits
    # The programme and its 2026 call are both titled "Bratimljenje gradova".
    assert {hit.id for hit in hits[:2]} == {"cerv-town-twinning", "town-twinning-2026"}
    assert hits[0].lang_served == "hr"


def test_a_query_is_embedded_on_one_thread_and_documents_on_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = embedder_from_settings(KnowledgeSettings(embedding_model=PACKAGED_MODEL))
    seen: list[int] = []

    def count_threads(module: object, inputs: object) -> None:
        seen.append(torch.get_num_threads())

    model = embedder._loaded()  # type: ignore[attr-defined]
    model[0].register_forward_pre_hook(count_threads)
    torch.set_num_threads(2)
    query = embedder.encode_query(["town twinning"])
    embedder.encode_documents(["Town twinning brings citizens of two towns together."])
    assert seen == [1, 2]
    assert torch.get_num_threads() == 2  # restored after the query
    assert query.shape == (1, 384)
