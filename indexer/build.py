"""Build the search index from the knowledge base: texts, embeddings, BM25, manifest.

The build is skipped when the published index has the same *build key*: a hash
of the records' content (not their YAML formatting), the embedding model's
identity, the document-text version and the index settings. Otherwise
everything is written to a staging folder and published atomically
(:mod:`knowledge.store`), so a server never reads a half-built index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from indexer.documents import TEXT_VERSION, DocumentText, record_documents, record_facets
from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder, ModelSpec, Vectors
from knowledge.schema import RECORD_MODELS, RECORD_TYPES, AnyRecord, Record
from knowledge.search_errors import IndexUnavailableError
from knowledge.settings import KnowledgeSettings
from knowledge.store import (
    FORMAT_VERSION,
    IndexContents,
    IndexedDocument,
    IndexedRecord,
    LoadedIndex,
    Manifest,
    ModelInfo,
    current_build_dir,
    load_build,
    make_vector_index,
    new_build_id,
    publish,
    reconstruct,
    staging_dir,
    write_build,
)
from knowledge.text import analyze

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) during long steps."""


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the command line and the benchmark."""

    status: Literal["built", "skipped"]
    manifest: Manifest
    seconds: float
    embed_seconds: float = 0.0
    embedded: int = 0
    """Documents encoded by the model in this build."""
    reused: int = 0
    """Documents whose unchanged text kept its vector from the previous build."""

    @property
    def documents_per_second(self) -> float:
        """Embedding throughput of this build (0 when nothing was embedded)."""
        if self.embed_seconds <= 0:
            return 0.0
        return self.embedded / self.embed_seconds


@dataclass(frozen=True)
class Corpus:
    """The records and their per-language documents, in index order."""

    records: list[IndexedRecord]
    documents: list[IndexedDocument]
    texts: list[DocumentText]


def _as_any(record: Record) -> AnyRecord:
    """Narrow a base ``Record`` to the union the store serialises."""
    model = RECORD_MODELS[record.record_type]
    if not isinstance(record, model):
        raise TypeError(f"{record.id} is not a {model.__name__}")
    return record


def collect(kb: KnowledgeBase) -> Corpus:
    """Turn every record into index entries, type by type and id by id (stable order)."""
    records: list[IndexedRecord] = []
    documents: list[IndexedDocument] = []
    texts: list[DocumentText] = []
    for record_type in RECORD_TYPES:
        table = kb.of_type(record_type)
        for record_id in sorted(table):
            record = table[record_id]
            position = len(records)
            records.append(IndexedRecord(_as_any(record), record_facets(record, kb)))
            for text in record_documents(record, kb):
                documents.append(IndexedDocument(position, text.lang, text_hash(text.dense)))
                texts.append(text)
    return Corpus(records, documents, texts)


def text_hash(text: str) -> str:
    """Short hash of an embedded text (collisions among a corpus are negligible at 64 bits)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def data_hash(corpus: Corpus) -> str:
    """Hash of the records' content, independent of YAML layout and comments."""
    digest = hashlib.sha256()
    for item in corpus.records:
        digest.update(item.type.encode())
        digest.update(item.record.model_dump_json(by_alias=True).encode())
    return digest.hexdigest()


def build_key(data: str, spec: ModelSpec, settings: KnowledgeSettings) -> str:
    """Hash of everything that makes two builds identical."""
    parts = {
        "format": FORMAT_VERSION,
        "text_version": TEXT_VERSION,
        "data": data,
        "model": spec.model_id,
        "prompts": [spec.query_prompt, spec.document_prompt],
        "exact_max": settings.exact_search_max_vectors,
        "hnsw": [settings.hnsw_m, settings.hnsw_ef_construction, settings.hnsw_ef_search],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _published(settings: KnowledgeSettings) -> LoadedIndex | None:
    """The published build if it loads (a broken or old-format one counts as none)."""
    try:
        return load_build(current_build_dir(settings.index_dir))
    except IndexUnavailableError:
        return None


def _previous_vectors(published: LoadedIndex | None, spec: ModelSpec) -> dict[str, Vectors]:
    """Vectors of the published build by text hash, if it used the same model and prompts."""
    if published is None:
        return {}
    model = published.manifest.model
    same_prompts = (model.query_prompt, model.document_prompt) == (
        spec.query_prompt,
        spec.document_prompt,
    )
    if model.model_id != spec.model_id or not same_prompts:
        return {}
    rows = {doc.text_hash: row for row, doc in enumerate(published.documents) if doc.text_hash}
    vectors = reconstruct(published.vectors, list(rows.values()))
    return dict(zip(rows, vectors, strict=True))


def _embed(
    embedder: Embedder,
    corpus: Corpus,
    previous: dict[str, Vectors],
    progress: Progress | None,
) -> tuple[Vectors, float, int]:
    """Encode the documents whose text has no vector yet; reuse the others.

    Returns:
        All vectors in corpus order, the seconds spent encoding, and how many
        documents were encoded.
    """

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress("embedding", done, total)

    missing = [i for i, doc in enumerate(corpus.documents) if doc.text_hash not in previous]
    started = time.perf_counter()
    fresh = embedder.encode_documents([corpus.texts[i].dense for i in missing], progress=report)
    seconds = time.perf_counter() - started
    if not previous:
        return fresh, seconds, len(missing)
    dimension = fresh.shape[1] if len(missing) else len(next(iter(previous.values())))
    vectors = np.empty((len(corpus.documents), dimension), dtype=np.float32)
    for i, doc in enumerate(corpus.documents):
        if doc.text_hash in previous:
            vectors[i] = previous[doc.text_hash]
    if missing:
        vectors[missing] = fresh
    return vectors, seconds, len(missing)


def build_index(
    kb: KnowledgeBase,
    *,
    settings: KnowledgeSettings,
    spec: ModelSpec,
    embedder: Embedder,
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Build and publish the index, unless an identical one is already published.

    Args:
        kb: The validated knowledge base.
        settings: Index directory and index parameters.
        spec: The resolved embedding model (recorded in the manifest).
        embedder: Its embedder (loaded only if a build is needed).
        force: Build even when the published index is up to date.
        progress: Receives progress of the long steps.

    Returns:
        What happened, with the published manifest.
    """
    started = time.perf_counter()
    corpus = collect(kb)
    data = data_hash(corpus)
    key = build_key(data, spec, settings)
    published = _published(settings)
    if not force and published is not None and published.manifest.build_key == key:
        return BuildResult("skipped", published.manifest, time.perf_counter() - started)
    # Unchanged texts keep their vectors (same model, deterministic encoding), so
    # editing one record re-embeds only that record; --force re-embeds everything.
    previous = {} if force else _previous_vectors(published, spec)
    del published  # the old index is not needed any more; free it before embedding
    vectors, embed_seconds, embedded = _embed(embedder, corpus, previous, progress)
    terms = [analyze(text.lexical, text.lang) for text in corpus.texts]
    index, info = make_vector_index(
        vectors,
        exact_max=settings.exact_search_max_vectors,
        hnsw_m=settings.hnsw_m,
        ef_construction=settings.hnsw_ef_construction,
        ef_search=settings.hnsw_ef_search,
    )
    build_id = new_build_id()
    by_type = {t: len(kb.of_type(t)) for t in RECORD_TYPES}
    with staging_dir(settings.index_dir, build_id) as staging:
        contents = IndexContents(corpus.records, corpus.documents, terms, vectors)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            build_id=build_id,
            built_at=dt.datetime.now(dt.UTC),
            build_seconds=round(time.perf_counter() - started, 3),
            model=ModelInfo.from_spec(spec),
            dimension=int(vectors.shape[1]),
            record_count=len(corpus.records),
            document_count=len(corpus.documents),
            records_by_type=by_type,
            languages=sorted({doc.lang for doc in corpus.documents}),
            data_hash=data,
            build_key=key,
            vector_index=info,
        )
        write_build(staging, manifest, contents, index)
        publish(settings.index_dir, staging, build_id, keep=settings.keep_builds)
    logger.info("Published search index %s", build_id)
    seconds = time.perf_counter() - started
    reused = len(corpus.documents) - embedded
    return BuildResult("built", manifest, seconds, embed_seconds, embedded, reused)
