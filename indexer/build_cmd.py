"""``python -m indexer build``: embed the records and publish the search index."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import TextIO

from indexer.build import BuildResult, Progress, build_index
from knowledge.embedding import ModelUnavailableError, create_embedder, resolve_model
from knowledge.loader import load_knowledge_base
from knowledge.settings import KnowledgeSettings, get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``build`` sub-parser."""
    parser = subparsers.add_parser(
        "build",
        help="build the search index (skipped when data and model are unchanged)",
        description=(
            "Embed every record per language, write FAISS + BM25 + manifest to a staging "
            "folder and publish it atomically. Skipped when the published index has the same "
            "data, model and settings."
        ),
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="knowledge data folder (KNOWLEDGE_DATA_DIR)"
    )
    parser.add_argument(
        "--index-dir", type=Path, default=None, help="index folder (KNOWLEDGE_INDEX_DIR)"
    )
    parser.add_argument(
        "--model",
        default=None,
        help="embedding model name or path (KNOWLEDGE_EMBEDDING_MODEL); 'hashing' for tests",
    )
    parser.set_defaults(handler=run)


class ProgressPrinter:
    """Prints a progress line at most every ``interval`` seconds, and at the end.

    Plain lines rather than a redrawn bar, so logs of ``make run`` and CI stay
    readable.
    """

    def __init__(self, out: TextIO, interval: float = 2.0) -> None:
        """Print to ``out``."""
        self.out = out
        self.interval = interval
        self._started = time.perf_counter()
        self._last = -float("inf")

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Report ``done`` of ``total`` items of ``stage``."""
        now = time.perf_counter()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self._started, 1e-9)
        percent = 100 * done / total if total else 100.0
        self.out.write(
            f"  {stage}: {done}/{total} ({percent:.0f}%), {done / elapsed:.0f}/s, {elapsed:.1f} s\n"
        )
        self.out.flush()


def _settings(args: argparse.Namespace) -> KnowledgeSettings:
    overrides: dict[str, object] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.index_dir is not None:
        overrides["index_dir"] = args.index_dir
    if args.model is not None:
        overrides["embedding_model"] = args.model
    base = get_settings()
    return base.model_copy(update=overrides) if overrides else base


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Build the index; return 0 when built or up to date, 1 on bad data or model."""
    stream = out if out is not None else sys.stdout
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    kb, errors = load_knowledge_base(settings.data_dir)
    if errors:
        for error in errors:
            stream.write(f"{error}\n")
        stream.write(
            f"{len(errors)} error(s) in {settings.data_dir}; fix them first "
            "(python -m indexer validate). The index was not changed.\n"
        )
        return 1
    try:
        spec = resolve_model(settings.embedding_model, settings.fallback_model)
    except ModelUnavailableError as exc:
        stream.write(f"Cannot build the index: {exc}\n")
        return 1
    embedder = create_embedder(
        spec,
        batch_size=settings.embed_batch_size,
        query_threads=settings.embed_query_threads,
        document_threads=settings.embed_document_threads,
    )
    progress: Progress = ProgressPrinter(stream)
    stream.write(f"Indexing {len(kb)} records from {settings.data_dir} with {spec.name}\n")
    result = build_index(
        kb, settings=settings, spec=spec, embedder=embedder, force=args.force, progress=progress
    )
    stream.write(summary(result, settings.index_dir))
    return 0


def summary(result: BuildResult, index_dir: Path) -> str:
    """Describe a build (or why it was skipped) in a few lines."""
    manifest = result.manifest
    model = manifest.model
    model_text = model.name
    if model.fallback:
        model_text += f" (fallback: {model.requested!r} was not available)"
    if result.status == "skipped":
        return (
            f"Index up to date: build {manifest.build_id} has the same data "
            f"({manifest.data_hash[:12]}) and model ({model_text}). Use --force to rebuild.\n"
        )
    return (
        f"Built index {manifest.build_id} in {result.seconds:.1f} s: "
        f"{manifest.record_count} records, {manifest.document_count} documents in "
        f"{len(manifest.languages)} languages; model {model_text}, {manifest.dimension} dims, "
        f"{manifest.vector_index.kind} vector index; embedded {result.embedded} documents "
        f"({result.documents_per_second:.0f}/s), reused {result.reused} unchanged.\n"
        f"Published: {index_dir / 'current'}\n"
    )
