"""`python -m indexer build`: manifest, skip when unchanged, atomic publish, CLI."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from indexer.__main__ import main
from indexer.build import build_index
from indexer.build_cmd import ProgressPrinter
from indexer.query_cmd import run as run_query
from knowledge.embedding import HashingEmbedder, ProgressCallback, Vectors, resolve_model
from knowledge.loader import load_knowledge_base
from knowledge.settings import KnowledgeSettings, get_settings
from knowledge.store import (
    BM25_DIR,
    BUILDS,
    CURRENT,
    MANIFEST,
    RECORDS,
    VECTORS,
    current_build_id,
    load_current,
)
from tests.knowledge.search_fixtures import DIMENSION, SEARCH_DATA, build, search_settings


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(SEARCH_DATA, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path) -> KnowledgeSettings:
    return search_settings(tmp_path / "index", data_dir)


def test_build_writes_every_part_and_a_complete_manifest(settings: KnowledgeSettings) -> None:
    result = build(settings)
    assert result.status == "built"
    build_dir = settings.index_dir / BUILDS / result.manifest.build_id
    for name in (MANIFEST, VECTORS, RECORDS, BM25_DIR):
        assert (build_dir / name).exists(), name
    assert os.readlink(settings.index_dir / CURRENT) == f"{BUILDS}/{result.manifest.build_id}"

    manifest = json.loads((build_dir / MANIFEST).read_text())
    assert manifest["model"]["model_id"] == f"hashing:{DIMENSION}"
    assert manifest["model"]["fallback"] is False
    assert manifest["dimension"] == DIMENSION
    assert manifest["record_count"] == 14
    assert manifest["records_by_type"] == {
        "programme": 4,
        "call": 3,
        "practice": 3,
        "event": 1,
        "contact": 1,
        "glossary": 2,
    }
    assert manifest["vector_index"]["kind"] == "flat"
    assert len(manifest["data_hash"]) == 64
    assert manifest["built_at"].endswith("Z") or "+00:00" in manifest["built_at"]
    assert manifest["build_seconds"] >= 0
    # One document per language a record is written in (glossary: per definition).
    assert manifest["document_count"] == 25
    assert "pl" in manifest["languages"] and "fi" in manifest["languages"]


def test_an_unchanged_build_is_skipped(settings: KnowledgeSettings) -> None:
    first = build(settings)
    second = build(settings)
    assert second.status == "skipped"
    assert second.manifest.build_id == first.manifest.build_id
    assert current_build_id(settings.index_dir) == first.manifest.build_id


def test_force_rebuilds_and_old_builds_are_pruned(settings: KnowledgeSettings) -> None:
    ids = [build(settings, force=True).manifest.build_id for _ in range(3)]
    assert len(set(ids)) == 3
    kept = sorted(p.name for p in (settings.index_dir / BUILDS).iterdir())
    assert kept == sorted(ids[1:])  # keep_builds=2: the current one and the previous one
    assert current_build_id(settings.index_dir) == ids[2]


def test_changed_data_rebuilds(settings: KnowledgeSettings, data_dir: Path) -> None:
    first = build(settings)
    path = data_dir / "practices" / "practices.yaml"
    path.write_text(path.read_text().replace("Pazin", "Pazinu"), encoding="utf-8")
    second = build(settings)
    assert second.status == "built"
    assert second.manifest.data_hash != first.manifest.data_hash


def test_yaml_comments_alone_do_not_rebuild(settings: KnowledgeSettings, data_dir: Path) -> None:
    build(settings)
    path = data_dir / "practices" / "practices.yaml"
    path.write_text("# a new comment\n" + path.read_text(), encoding="utf-8")
    assert build(settings).status == "skipped"


def test_another_model_rebuilds(settings: KnowledgeSettings) -> None:
    build(settings)
    other = settings.model_copy(update={"embedding_model": "hashing:32"})
    kb, _ = load_knowledge_base(other.data_dir)
    result = build_index(
        kb, settings=other, spec=resolve_model("hashing:32"), embedder=HashingEmbedder(32)
    )
    assert result.status == "built"
    assert result.manifest.dimension == 32


def test_above_the_exact_threshold_the_vector_index_is_hnsw(settings: KnowledgeSettings) -> None:
    small = settings.model_copy(update={"exact_search_max_vectors": 10})
    manifest = build(small).manifest
    assert manifest.document_count > 10
    assert manifest.vector_index.kind == "hnsw"
    assert manifest.vector_index.hnsw_m == small.hnsw_m
    assert load_current(small.index_dir).vectors.ntotal == manifest.document_count


class FailingEmbedder(HashingEmbedder):
    """Fails after reporting some progress, like a build killed half-way."""

    def encode_documents(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors:
        if progress is not None:
            progress(1, len(texts))
        raise RuntimeError("out of memory")


def test_a_failed_build_leaves_the_published_index_untouched(
    settings: KnowledgeSettings, data_dir: Path
) -> None:
    good = build(settings).manifest.build_id
    (data_dir / "practices" / "practices.yaml").write_text(
        (data_dir / "practices" / "practices.yaml").read_text().replace("Gdańsk", "Gdynia"),
        encoding="utf-8",
    )
    kb, _ = load_knowledge_base(settings.data_dir)
    with pytest.raises(RuntimeError, match="out of memory"):
        build_index(
            kb,
            settings=settings,
            spec=resolve_model(settings.embedding_model),
            embedder=FailingEmbedder(DIMENSION),
        )
    assert current_build_id(settings.index_dir) == good
    assert load_current(settings.index_dir).build_id == good
    assert sorted(p.name for p in settings.index_dir.iterdir()) == [BUILDS, CURRENT]


def test_a_crash_while_writing_removes_the_staging_folder(
    settings: KnowledgeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = build(settings).manifest.build_id

    def broken_write(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("indexer.build.write_build", broken_write)
    with pytest.raises(OSError, match="disk full"):
        build(settings, force=True)
    assert current_build_id(settings.index_dir) == good
    assert not [p for p in settings.index_dir.iterdir() if p.name.startswith(".tmp-")]


def test_progress_is_reported_up_to_the_total(settings: KnowledgeSettings) -> None:
    seen: list[tuple[str, int, int]] = []
    kb, _ = load_knowledge_base(settings.data_dir)
    result = build_index(
        kb,
        settings=settings,
        spec=resolve_model(settings.embedding_model),
        embedder=HashingEmbedder(DIMENSION),
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    total = result.manifest.document_count
    assert seen[-1] == ("embedding", total, total)


def test_progress_printer_prints_rate_and_the_final_line() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, interval=3600)
    printer("embedding", 10, 100)
    printer("embedding", 20, 100)  # within the interval: not printed
    printer("embedding", 100, 100)  # the end is always printed
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("  embedding: 10/100 (10%)")
    assert lines[1].startswith("  embedding: 100/100 (100%)")


# --------------------------------------------------------------------------- command line


def cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_cli_builds_then_skips(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["build", "--data-dir", str(data_dir), "--index-dir", str(tmp_path / "ix")]
    code, out = cli(*args, "--model", "hashing:64", capsys=capsys)
    assert code == 0
    assert "Built index" in out and "14 records" in out and "flat vector index" in out
    code, out = cli(*args, "--model", "hashing:64", capsys=capsys)
    assert code == 0
    assert out.splitlines()[-1].startswith("Index up to date")


def test_cli_refuses_invalid_data_and_keeps_the_index(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["build", "--data-dir", str(data_dir), "--index-dir", str(tmp_path / "ix")]
    assert cli(*args, "--model", "hashing:64", capsys=capsys)[0] == 0
    before = current_build_id(tmp_path / "ix")
    (data_dir / "practices" / "broken.yaml").write_text("- id: Bad Id\n", encoding="utf-8")
    code, out = cli(*args, "--model", "hashing:64", "--force", capsys=capsys)
    assert code == 1
    assert "python -m indexer validate" in out
    assert current_build_id(tmp_path / "ix") == before


@pytest.fixture
def hashing_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_EMBEDDING_MODEL", f"hashing:{DIMENSION}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def query_args(text: str, index_dir: Path, **extra: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "text": text,
        "lang": None,
        "type": None,
        "applicant": None,
        "country": None,
        "theme": None,
        "open": None,
        "limit": 3,
        "index_dir": index_dir,
    }
    values.update(extra)
    return argparse.Namespace(**values)


@pytest.mark.usefixtures("hashing_env")
def test_cli_query_prints_ranked_hits(settings: KnowledgeSettings) -> None:
    build(settings)
    out = io.StringIO()
    code = run_query(query_args("bratimljenje gradova", settings.index_dir, lang="hr"), out)
    text = out.getvalue()
    assert code == 0
    assert text.splitlines()[0] == "Query (hr): bratimljenje gradova"
    assert " 1. programme cerv-town-twinning" in text or " 1. call" in text
    assert "Bratimljenje gradova" in text


@pytest.mark.usefixtures("hashing_env")
def test_cli_query_without_index_says_how_to_build(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_query(query_args("town twinning", tmp_path / "none"), out)
    assert code == 1
    assert "python -m indexer build" in out.getvalue()


@pytest.mark.usefixtures("hashing_env")
def test_cli_query_reports_unknown_filters(settings: KnowledgeSettings) -> None:
    build(settings)
    out = io.StringIO()
    code = run_query(query_args("town", settings.index_dir, type=["programm"]), out)
    assert code == 1
    assert "unknown type 'programm'" in out.getvalue()


class CountingEmbedder(HashingEmbedder):
    def __init__(self, dimension: int) -> None:
        super().__init__(dimension)
        self.encoded: list[str] = []

    def encode_documents(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors:
        self.encoded.extend(texts)
        return super().encode_documents(texts, progress=progress)


def test_a_data_change_re_embeds_only_the_changed_texts(
    settings: KnowledgeSettings, data_dir: Path
) -> None:
    kb, _ = load_knowledge_base(settings.data_dir)
    spec = resolve_model(settings.embedding_model)
    first = build_index(kb, settings=settings, spec=spec, embedder=CountingEmbedder(DIMENSION))
    assert (first.embedded, first.reused) == (25, 0)

    path = data_dir / "practices" / "practices.yaml"
    path.write_text(path.read_text().replace("after a flood", "after the 2016 flood"))
    kb, _ = load_knowledge_base(settings.data_dir)
    embedder = CountingEmbedder(DIMENSION)
    second = build_index(kb, settings=settings, spec=spec, embedder=embedder)
    # Only the English document of the Gdańsk practice changed.
    assert (second.embedded, second.reused) == (1, 24)
    assert embedder.encoded[0].startswith("Citizens' assembly on floods in Gdańsk")
    # Reused vectors are the stored ones: the index equals a clean rebuild.
    reused = load_current(settings.index_dir)
    clean = build_index(
        kb, settings=settings, spec=spec, embedder=HashingEmbedder(DIMENSION), force=True
    )
    assert clean.embedded == 25
    rebuilt = load_current(settings.index_dir)
    for row in range(25):
        assert (reused.vectors.reconstruct(row) == rebuilt.vectors.reconstruct(row)).all()
