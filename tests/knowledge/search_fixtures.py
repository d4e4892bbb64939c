"""Build small real indexes (real FAISS and BM25, hashing embedder) for search tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from indexer.build import BuildResult, build_index
from knowledge.embedding import HashingEmbedder, resolve_model
from knowledge.loader import load_knowledge_base
from knowledge.settings import KnowledgeSettings

SEARCH_DATA = Path(__file__).resolve().parents[1] / "fixtures" / "search"
TODAY = dt.date(2026, 2, 1)
"""Reference date: town-twinning-2026 is open, life-2026-nature forthcoming, 2025 closed."""

DIMENSION = 64


def search_settings(
    index_dir: Path, data_dir: Path = SEARCH_DATA, **overrides: object
) -> KnowledgeSettings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "index_dir": index_dir,
        "embedding_model": f"hashing:{DIMENSION}",
        "reload_check_seconds": 0,
    }
    values.update(overrides)
    return KnowledgeSettings(**values)  # type: ignore[arg-type]


def build(settings: KnowledgeSettings, *, force: bool = False) -> BuildResult:
    kb, errors = load_knowledge_base(settings.data_dir)
    assert not errors, errors
    spec = resolve_model(settings.embedding_model)
    return build_index(
        kb, settings=settings, spec=spec, embedder=HashingEmbedder(DIMENSION), force=force
    )
