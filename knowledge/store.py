"""The search index on disk: the only code that knows its format.

Layout (``index_dir`` is ``KNOWLEDGE_INDEX_DIR``, default ``var/index``)::

    index_dir/
      current -> builds/<build_id>     symlink, switched atomically (os.replace)
      builds/<build_id>/
        manifest.json                  model, dimension, counts, data hash, build time
        vectors.faiss                  one vector per (record, language) document
        bm25/                          bm25s index of the same documents
        records.json                   the records, their filter facets and the documents

A build is written to ``index_dir/.tmp-<build_id>`` and renamed into
``builds/`` only when complete; then ``current`` is swapped. Readers resolve
``current`` once and read one build directory, so they never see a half
written index, and a server can poll the link target (one ``readlink``) to
notice a new build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge.embedding import ModelSpec, Vectors
from knowledge.schema import RECORD_MODELS, AnyRecord, RecordType
from knowledge.search_errors import (
    BUILD_COMMAND,
    IndexCorruptError,
    IndexMissingError,
    IndexUnavailableError,
)

# FAISS and torch each bundle their own OpenMP runtime. With the default (active)
# wait policy, the idle threads of one spin on the 2 cores while the other works:
# after a 2-thread FAISS build, encoding one query took 580 ms instead of 15 ms
# (measured, see docs/search.md). Passive waiting must be chosen before the
# runtime loads, i.e. before `import faiss`; an explicit setting is respected.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import faiss
except ImportError as exc:  # pragma: no cover - faiss-cpu is a declared dependency
    raise ImportError(
        "faiss is not installed; run: .venv/bin/pip install faiss-cpu (see requirements/app.txt)"
    ) from exc

import bm25s

_faiss: Any = faiss
"""FAISS without its partial type stubs (they lack the search-parameter classes)."""

logger = logging.getLogger(__name__)

FORMAT_VERSION: Final[int] = 1
"""Bumped whenever the layout or the meaning of a file changes."""

CURRENT: Final[str] = "current"
BUILDS: Final[str] = "builds"
MANIFEST: Final[str] = "manifest.json"
VECTORS: Final[str] = "vectors.faiss"
BM25_DIR: Final[str] = "bm25"
RECORDS: Final[str] = "records.json"
TMP_PREFIX: Final[str] = ".tmp-"

# --------------------------------------------------------------------------- manifest


class ModelInfo(BaseModel):
    """The embedding model of a build (see :class:`knowledge.embedding.ModelSpec`)."""

    model_config = ConfigDict(frozen=True)

    requested: str
    name: str
    model_id: str
    source: str
    fallback: bool
    languages: list[str] | None = None
    """Languages the model was trained on (None: any)."""
    query_prompt: str = ""
    """Prefix the model put before each query (``query: `` for E5 models)."""
    document_prompt: str = ""
    """Prefix the model put before each document (``passage: `` for E5 models)."""

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> ModelInfo:
        """Copy what a reader needs to know from a resolved spec."""
        return cls(
            requested=spec.requested,
            name=spec.name,
            model_id=spec.model_id,
            source=spec.source,
            fallback=spec.fallback,
            languages=list(spec.languages) if spec.languages is not None else None,
            query_prompt=spec.query_prompt,
            document_prompt=spec.document_prompt,
        )


class VectorIndexInfo(BaseModel):
    """How the vectors are searched: exact below a size, HNSW above it."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["flat", "hnsw"]
    metric: Literal["inner_product"] = "inner_product"
    hnsw_m: int | None = None
    hnsw_ef_construction: int | None = None
    hnsw_ef_search: int | None = None


class Manifest(BaseModel):
    """What binds a build to its data and model; written last, read first."""

    model_config = ConfigDict(frozen=True)

    format_version: int
    build_id: str
    built_at: dt.datetime
    build_seconds: float
    model: ModelInfo
    dimension: int
    normalized: bool = True
    record_count: int
    document_count: int
    records_by_type: dict[str, int]
    languages: list[str]
    data_hash: str
    build_key: str
    """Hash of data, model and index settings: equal keys mean an identical build."""
    vector_index: VectorIndexInfo


# --------------------------------------------------------------------------- contents


@dataclass(frozen=True)
class Facets:
    """Filterable fields of a record, resolved at build time (parents, programmes)."""

    applicants: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    programme: str | None = None
    """For a call: its programme id."""
    calls: tuple[str, ...] = ()
    """For a programme: ids of its calls (their status is computed at query time)."""


@dataclass(frozen=True)
class IndexedRecord:
    """A record as the index holds it."""

    record: AnyRecord
    facets: Facets = field(default_factory=Facets)

    @property
    def id(self) -> str:
        """The record id."""
        return self.record.id

    @property
    def type(self) -> RecordType:
        """The record type."""
        return self.record.record_type


@dataclass(frozen=True)
class IndexedDocument:
    """One searchable text: a record in one language (a row of FAISS and BM25)."""

    record: int
    """Position of the record in the record list."""
    lang: str
    text_hash: str = ""
    """Hash of the embedded text, so a rebuild can reuse the vector of unchanged text."""


@dataclass(frozen=True)
class IndexContents:
    """Everything a build writes besides the manifest."""

    records: Sequence[IndexedRecord]
    documents: Sequence[IndexedDocument]
    terms: Sequence[list[str]]
    """BM25 terms of each document (already analysed)."""
    vectors: Vectors


@dataclass
class LoadedIndex:
    """A build read back from disk, ready to search."""

    path: Path
    manifest: Manifest
    records: list[IndexedRecord]
    documents: list[IndexedDocument]
    bm25: bm25s.BM25
    vectors: Any
    """The FAISS index."""

    @property
    def build_id(self) -> str:
        """The manifest's build id."""
        return self.manifest.build_id


# --------------------------------------------------------------------------- vectors


def make_vector_index(
    vectors: Vectors, *, exact_max: int, hnsw_m: int, ef_construction: int, ef_search: int
) -> tuple[Any, VectorIndexInfo]:
    """Build the FAISS index: exact inner product up to ``exact_max`` vectors, HNSW above.

    Vectors are unit length, so inner product is cosine similarity.

    Args:
        vectors: (n, d) float32, L2-normalised.
        exact_max: Largest corpus searched exactly.
        hnsw_m: HNSW graph degree.
        ef_construction: HNSW build-time beam width.
        ef_search: HNSW query-time beam width (stored in the index).

    Returns:
        The index and its description for the manifest.
    """
    dimension = int(vectors.shape[1])
    index: Any
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dimension)
        info = VectorIndexInfo(kind="flat")
    else:
        index = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        info = VectorIndexInfo(
            kind="hnsw",
            hnsw_m=hnsw_m,
            hnsw_ef_construction=ef_construction,
            hnsw_ef_search=ef_search,
        )
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, info


def reconstruct(index: Any, ids: Sequence[int]) -> Vectors:
    """Stored vectors by row id (flat and HNSW-flat indexes keep them exactly)."""
    out = np.empty((len(ids), int(index.d)), dtype=np.float32)
    for position, row in enumerate(ids):
        out[position] = index.reconstruct(int(row))
    return out


def single_thread_search() -> None:
    """Make FAISS use one thread, as a server answering single queries should.

    With OpenMP's default thread count a single query waits on thread
    start-up: 16 ms instead of 0.4 ms at 10k vectors (ARCHITECTURE.md).
    """
    _faiss.omp_set_num_threads(1)


def search_vectors(
    index: Any, query: Vectors, k: int, allowed: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Top-``k`` documents by inner product, optionally among ``allowed`` ids only.

    Filtering happens inside FAISS (an ID selector), so a restrictive filter
    still returns ``k`` allowed documents instead of ``k`` minus the filtered.

    Returns:
        (similarities, document ids) of shape (queries, k); missing slots are -1.
    """
    params: Any = None
    if allowed is not None:
        selector = _faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        if hasattr(index, "hnsw"):
            params = _faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, index.hnsw.efSearch))
        else:
            params = _faiss.SearchParameters(sel=selector)
    similarities, ids = index.search(
        np.ascontiguousarray(query, dtype=np.float32), k, params=params
    )
    return similarities, ids


# --------------------------------------------------------------------------- publishing


def current_build_id(index_dir: Path) -> str | None:
    """Build id that ``current`` points to, or None; one ``readlink``, cheap to poll."""
    try:
        return Path(os.readlink(index_dir / CURRENT)).name
    except OSError:
        return None


def build_path(index_dir: Path, build_id: str) -> Path:
    """Directory of one build."""
    return index_dir / BUILDS / build_id


def current_build_dir(index_dir: Path) -> Path:
    """Directory of the published build.

    Raises:
        IndexMissingError: If nothing was published.
    """
    build_id = current_build_id(index_dir)
    if build_id is None or not build_path(index_dir, build_id).is_dir():
        raise IndexMissingError(index_dir)
    return build_path(index_dir, build_id)


def new_build_id(now: dt.datetime | None = None) -> str:
    """Unique id that sorts by build time (UTC, to the microsecond) plus a random suffix."""
    moment = now or dt.datetime.now(dt.UTC)
    return f"{moment:%Y%m%dT%H%M%S.%f}-{uuid.uuid4().hex[:6]}"


@contextlib.contextmanager
def staging_dir(index_dir: Path, build_id: str) -> Iterator[Path]:
    """A temporary folder next to the builds, removed if the block fails.

    It lives on the same filesystem as ``builds/``, so publishing is a rename.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f"{TMP_PREFIX}{build_id}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_build(staging: Path, manifest: Manifest, contents: IndexContents, index: Any) -> None:
    """Write every file of a build into ``staging`` (manifest last).

    Args:
        staging: Empty folder from :func:`staging_dir`.
        manifest: The build's manifest.
        contents: Records, documents and BM25 terms.
        index: The FAISS index of ``contents.vectors``.
    """
    faiss.write_index(index, str(staging / VECTORS))
    bm25 = bm25s.BM25()
    bm25.index([list(terms) for terms in contents.terms], show_progress=False)
    bm25.save(str(staging / BM25_DIR), show_progress=False)
    payload = {
        "records": [
            {
                "type": item.type,
                "record": item.record.model_dump(mode="json", by_alias=True),
                "facets": _facets_json(item.facets),
            }
            for item in contents.records
        ],
        "documents": [[doc.record, doc.lang, doc.text_hash] for doc in contents.documents],
    }
    (staging / RECORDS).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")


def _facets_json(facets: Facets) -> dict[str, Any]:
    return {
        "applicants": list(facets.applicants),
        "countries": list(facets.countries),
        "themes": list(facets.themes),
        "programme": facets.programme,
        "calls": list(facets.calls),
    }


def publish(index_dir: Path, staging: Path, build_id: str, *, keep: int = 2) -> Path:
    """Move a complete build into place and point ``current`` at it atomically.

    Args:
        index_dir: The index directory.
        staging: The written build (renamed, not copied).
        build_id: Its id (the folder name under ``builds/``).
        keep: Published builds to keep, the new one included.

    Returns:
        The build's final directory.
    """
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    final = builds / build_id
    os.rename(staging, final)
    link = index_dir / f"{TMP_PREFIX}{CURRENT}-{build_id}"
    os.symlink(Path(BUILDS) / build_id, link)
    os.replace(link, index_dir / CURRENT)
    prune(index_dir, keep=keep)
    return final


def prune(index_dir: Path, *, keep: int) -> list[Path]:
    """Remove old builds (never the current one) and abandoned staging folders.

    A server may still be reading the previous build for a moment, so more
    than one is kept by default.

    Returns:
        The removed paths.
    """
    current = current_build_id(index_dir)
    builds = sorted((index_dir / BUILDS).glob("*"), key=lambda p: p.name, reverse=True)
    kept = [p for p in builds if p.name == current]
    removed: list[Path] = []
    for path in builds:
        if path.name == current:
            continue
        if len(kept) < keep:
            kept.append(path)
        else:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    for stale in index_dir.glob(f"{TMP_PREFIX}*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
            removed.append(stale)
    return removed


# --------------------------------------------------------------------------- reading


def read_manifest(build_dir: Path) -> Manifest:
    """Read and validate a build's manifest.

    Raises:
        IndexCorruptError: If it is missing, unreadable or of another format version.
    """
    try:
        manifest = Manifest.model_validate_json((build_dir / MANIFEST).read_bytes())
    except (OSError, ValidationError) as exc:
        raise IndexCorruptError(f"{build_dir / MANIFEST}: {exc}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"{build_dir}: index format {manifest.format_version}, this code reads "
            f"{FORMAT_VERSION}; rebuild with: {BUILD_COMMAND} --force"
        )
    return manifest


def read_current_manifest(index_dir: Path) -> Manifest | None:
    """Manifest of the published build, or None if there is none or it is unreadable."""
    try:
        return read_manifest(current_build_dir(index_dir))
    except IndexUnavailableError:
        return None


def _read_records(path: Path) -> tuple[list[IndexedRecord], list[IndexedDocument]]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    records = [
        IndexedRecord(
            record=RECORD_MODELS[item["type"]].model_validate(item["record"]),
            facets=Facets(
                applicants=tuple(item["facets"]["applicants"]),
                countries=tuple(item["facets"]["countries"]),
                themes=tuple(item["facets"]["themes"]),
                programme=item["facets"]["programme"],
                calls=tuple(item["facets"]["calls"]),
            ),
        )
        for item in payload["records"]
    ]
    documents = [
        IndexedDocument(record=int(r), lang=str(lang), text_hash=str(text_hash))
        for r, lang, text_hash in payload["documents"]
    ]
    return records, documents


def load_build(build_dir: Path) -> LoadedIndex:
    """Read a build and check that its parts agree with each other and the manifest.

    Raises:
        IndexCorruptError: On any unreadable file or inconsistency.
    """
    manifest = read_manifest(build_dir)
    try:
        vectors = faiss.read_index(str(build_dir / VECTORS))
        bm25 = bm25s.BM25.load(str(build_dir / BM25_DIR), show_progress=False)
        records, documents = _read_records(build_dir / RECORDS)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, ValidationError) as exc:
        raise IndexCorruptError(f"{build_dir}: {type(exc).__name__}: {exc}") from exc
    problems = _inconsistencies(manifest, vectors, bm25, records, documents)
    if problems:
        raise IndexCorruptError(f"{build_dir}: " + "; ".join(problems))
    return LoadedIndex(build_dir, manifest, records, documents, bm25, vectors)


def _inconsistencies(
    manifest: Manifest,
    vectors: Any,
    bm25: bm25s.BM25,
    records: list[IndexedRecord],
    documents: list[IndexedDocument],
) -> list[str]:
    problems: list[str] = []
    if int(vectors.ntotal) != manifest.document_count:
        problems.append(f"{vectors.ntotal} vectors, manifest says {manifest.document_count}")
    if int(vectors.d) != manifest.dimension:
        problems.append(f"vector dimension {vectors.d}, manifest says {manifest.dimension}")
    if int(bm25.scores["num_docs"]) != manifest.document_count:
        problems.append(f"{bm25.scores['num_docs']} BM25 documents for {manifest.document_count}")
    if len(documents) != manifest.document_count:
        problems.append(f"{len(documents)} documents, manifest says {manifest.document_count}")
    if len(records) != manifest.record_count:
        problems.append(f"{len(records)} records, manifest says {manifest.record_count}")
    if any(not 0 <= doc.record < len(records) for doc in documents):
        problems.append("a document points at no record")
    return problems


def load_current(index_dir: Path) -> LoadedIndex:
    """Load the published build.

    Raises:
        IndexMissingError: If nothing was published.
        IndexCorruptError: If the published build is broken.
    """
    return load_build(current_build_dir(index_dir))


def directory_size(path: Path) -> int:
    """Bytes used by the files under ``path`` (for build reports)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
