"""Hybrid multilingual search over a built index: BM25 + dense vectors, fused.

``get_retriever()`` is what the API and the Rasa actions use: a lazily loading
:class:`ReloadingRetriever` that picks up a newly published index without a
restart and keeps serving the previous one if the new one cannot be loaded.
:class:`HybridRetriever` does the searching over one loaded index.

One query runs as follows:

1. validate (empty, too long, language, filters);
2. find glossary terms in the query and add their English forms (and
   synonyms) to it, so an English-only model and English-only records can
   still be reached from any language;
3. score every document with BM25 (terms analysed in the query language, or in
   all languages when it is unknown) and with the embedding model; a record's
   score is its best document's;
4. fuse the two rankings (convex combination by default) and render the hits
   in the requested language, falling back to English per field;
5. give each hit its absolute :class:`Evidence` (raw BM25 against what the
   query could score, raw cosine and its lead over the next record), on which
   the bot decides between answering and "I don't know": the fused score only
   ranks, since each method's best hit is rescaled to 1.0 whatever it matched.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from knowledge.embedding import Embedder, ModelUnavailableError, embedder_from_settings
from knowledge.expansion import Expansion, GlossaryExpander
from knowledge.filters import SearchFilters, record_matches
from knowledge.fusion import convex_fusion, ranked, reciprocal_rank_fusion
from knowledge.languages import DEFAULT_LANGUAGE, EU_LANGUAGES, normalize_language
from knowledge.schema import (
    Call,
    Contact,
    Event,
    GlossaryTerm,
    LocalizedText,
    Practice,
    Programme,
    Record,
    RecordType,
)
from knowledge.search_errors import (
    IndexMissingError,
    IndexUnavailableError,
    ModelMismatchError,
    QueryEmptyError,
    QueryTooLongError,
    SearchError,
    UnsupportedLanguageError,
)
from knowledge.settings import KnowledgeSettings, get_settings
from knowledge.store import (
    IndexedRecord,
    LoadedIndex,
    build_path,
    current_build_id,
    load_build,
    search_vectors,
    single_thread_search,
)
from knowledge.text import analyze, analyze_any

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "bm25", "dense"]
Clock = Callable[[], dt.date]

SNIPPET_CHARS: Final[int] = 240
_MASK_CACHE: Final[int] = 256
_SENTENCE_RE: Final[re.Pattern[str]] = re.compile(r"(?<=[.!?])\s+(?=[^\s])")


@dataclass(frozen=True)
class Evidence:
    """How strongly each method supports one hit, on scales that mean the same for any query.

    Fitted into a probability by ``bench/run.py abstain`` (bot settings hold the
    coefficients); the fused score cannot serve, as it is relative to the query's
    other hits.
    """

    lexical: float | None
    """The record's BM25 divided by the most the query's own terms could score
    (the sum of their idf, a term no document has counting with the highest idf):
    near 0 for one shared common word, about 1 when every word matches well.
    None in dense-only mode."""
    cosine: float | None
    """Raw cosine between the query and the record's best document (None in
    BM25-only mode or when the record was not among the dense candidates)."""
    cosine_margin: float | None
    """``cosine`` minus the best cosine of any other allowed record: positive only
    for the dense method's first record."""

    def features(self) -> tuple[float, float, float]:
        """(lexical, cosine, cosine margin), a missing side as 0, for the fitted model."""
        return (self.lexical or 0.0, self.cosine or 0.0, self.cosine_margin or 0.0)


@dataclass(frozen=True)
class SearchHit:
    """One result, rendered in the asked language where the record has it.

    ``lang_served`` is the asked language only when the title and snippet are
    both in it; otherwise English, so replies can say "only in English".
    """

    id: str
    type: RecordType
    title: str
    snippet: str
    url: str | None
    score: float
    """Hybrid: 0..1, where 1.0 means ranked first by BM25 and by the embeddings
    (both fusion methods are scaled so). BM25-only or dense-only modes give raw scores."""
    lang_served: str
    record: Record
    evidence: Evidence | None = None
    """Absolute evidence for answering with this hit (see :class:`Evidence`)."""


@dataclass(frozen=True)
class SearchResult:
    """The hits of one query and how the query was understood."""

    query: str
    language: str
    hits: list[SearchHit]
    expanded_with: tuple[str, ...] = ()
    """Glossary ids found in the query."""
    model: str = ""
    """Name of the embedding model of the index (its evidence is calibrated per model)."""


@dataclass(frozen=True)
class _Scores:
    """Per-record scores of one query, before and after fusion."""

    fused: dict[int, float]
    bm25: dict[int, float] | None
    dense: dict[int, float] | None
    lexical_bound: float


class Retriever(Protocol):
    """What actions and the API call; implemented by both retrievers here."""

    def search(
        self,
        query: str,
        *,
        lang: str | None = None,
        filters: SearchFilters | None = None,
        limit: int = 10,
    ) -> SearchResult:
        """Find the records that best answer ``query``."""
        ...


def check_query(query: str, max_chars: int) -> str:
    """Return the stripped query, or raise for an empty or over-long one.

    Raises:
        QueryEmptyError: If only whitespace is left.
        QueryTooLongError: If it exceeds ``max_chars``.
    """
    text = query.strip()
    if not text:
        raise QueryEmptyError()
    if len(text) > max_chars:
        raise QueryTooLongError(len(text), max_chars)
    return text


def check_language(lang: str | None) -> str | None:
    """Normalise a language tag (``hr-HR`` -> ``hr``); None stays None.

    Raises:
        UnsupportedLanguageError: For a tag that is not an EU language.
    """
    if lang is None or not lang.strip():
        return None
    code = normalize_language(lang)
    if code is None:
        raise UnsupportedLanguageError(lang[:16], list(EU_LANGUAGES))
    return code


# --------------------------------------------------------------------------- rendering


def _title(record: Record) -> LocalizedText | str:
    if isinstance(record, Programme | Call | Practice | Event):
        return record.title
    if isinstance(record, GlossaryTerm):
        return record.terms
    if isinstance(record, Contact):
        return record.organisation
    return record.id


def _body(record: Record) -> LocalizedText | None:
    if isinstance(record, Programme | Practice | Event):
        return record.summary
    if isinstance(record, GlossaryTerm):
        return record.definition
    return None


def _pick(text: LocalizedText | str, lang: str) -> tuple[str, str | None]:
    """(text, language served); plain strings have no language."""
    if isinstance(text, str):
        return text, None
    return text.get(lang)


def _shorten(text: str, limit: int = SNIPPET_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _sentences(text: str) -> list[str]:
    """Split after . ! ? only when the next word starts with a capital letter.

    Croatian and other languages write ordinals with a full stop ("2014.–2020.
    financirao ..."), which is not the end of a sentence.
    """
    sentences: list[str] = []
    for part in _SENTENCE_RE.split(text):
        first_letter = next((ch for ch in part if ch.isalpha() or ch.isdigit()), "")
        if sentences and not first_letter.isupper():
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences


def _best_sentence(text: str, lang: str, query_terms: set[str]) -> str:
    """The sentence sharing most terms with the query (the first one on ties)."""
    sentences = _sentences(text)
    if len(sentences) == 1 or not query_terms:
        return sentences[0]
    overlap = [len(query_terms & set(analyze(sentence, lang))) for sentence in sentences]
    return sentences[int(np.argmax(overlap))]


def _call_snippet(call: Call, programmes: dict[str, IndexedRecord], lang: str) -> tuple[str, str]:
    deadlines = ", ".join(d.date.isoformat() for d in call.deadlines)
    programme = programmes.get(call.programme)
    if programme is None:
        return deadlines, lang
    name, served = _pick(_title(programme.record), lang)
    return f"{name} · {deadlines}", served or lang


def _contact_snippet(contact: Contact) -> str:
    parts = [contact.city, contact.phone, contact.email, contact.url]
    return " · ".join(part for part in parts if part)


def _url(record: Record) -> str | None:
    url = getattr(record, "url", None)
    if isinstance(url, str):
        return url
    return record.sources[0].url if record.sources else None


def _new_terms(terms: Iterable[str], seen: set[str]) -> list[str]:
    """Terms not seen yet, in order, each once (``seen`` is updated)."""
    fresh: list[str] = []
    for term in terms:
        if term not in seen:
            seen.add(term)
            fresh.append(term)
    return fresh


# --------------------------------------------------------------------------- retriever


class HybridRetriever:
    """Searches one loaded index with BM25, dense vectors, or both fused.

    Args:
        index: A loaded build (see :func:`knowledge.store.load_build`).
        embedder: Encodes queries; must be the model the index was built with.
        settings: Fusion, limits and candidate counts (default: the global ones).
        mode: ``hybrid`` (default), or one side alone for measurements.
        clock: Today's date, for call status (injected in tests).
        expand: Use glossary expansion (switched off only to measure its effect).

    Raises:
        ModelMismatchError: If the embedder is not the index's model.
    """

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        *,
        settings: KnowledgeSettings | None = None,
        mode: Mode = "hybrid",
        clock: Clock = dt.date.today,
        expand: bool = True,
    ) -> None:
        """Check the model and prepare the per-document lookup tables."""
        if embedder.model_id != index.manifest.model.model_id:
            raise ModelMismatchError(index.manifest.model.model_id, embedder.model_id)
        self.index = index
        self.embedder = embedder
        self.settings = settings or get_settings()
        self.mode: Mode = mode
        self.clock = clock
        self._doc_record = np.array([doc.record for doc in index.documents], dtype=np.int64)
        self._calls = {r.id: r.record for r in index.records if isinstance(r.record, Call)}
        self._programmes = {r.id: r for r in index.records if r.type == "programme"}
        self._expander = GlossaryExpander(
            r.record for r in index.records if expand and isinstance(r.record, GlossaryTerm)
        )
        self._masks: dict[tuple[SearchFilters, dt.date], NDArray[np.bool_]] = {}

    @property
    def build_id(self) -> str:
        """Build id of the index being searched."""
        return self.index.build_id

    def search(
        self,
        query: str,
        *,
        lang: str | None = None,
        filters: SearchFilters | None = None,
        limit: int = 10,
    ) -> SearchResult:
        """Find the records that best answer ``query``.

        Args:
            query: The user's question, in any EU language.
            lang: Its language (also the language of titles and snippets);
                None analyses it in every language and renders in English.
            filters: Structured filters (default: none).
            limit: Number of hits (capped by ``max_results``).

        Raises:
            SearchError: For an empty or over-long query or a bad language.
        """
        text = check_query(query, self.settings.max_query_chars)
        code = check_language(lang)
        limit = max(1, min(limit, self.settings.max_results))
        allowed = self._allowed(filters or SearchFilters())
        expansion = self._expander.expand(text, code)
        scores = _Scores({}, None, None, 0.0)
        if allowed.any():
            scores = self._score(text, code, expansion, allowed)
        display = code or DEFAULT_LANGUAGE
        terms = set(analyze(text, display))
        hits = [
            self._hit(self.index.records[i], scores.fused[i], display, terms, _evidence(i, scores))
            for i in ranked(scores.fused)[:limit]
        ]
        model = self.index.manifest.model.name
        return SearchResult(text, display, hits, expansion.matched, model)

    # ------------------------------------------------------------------ ranking

    def _allowed(self, filters: SearchFilters) -> NDArray[np.bool_]:
        """Records passing the filters today; cached, as most queries repeat a few filters."""
        key = (filters, self.clock())
        mask = self._masks.get(key)
        if mask is None:
            if len(self._masks) >= _MASK_CACHE:
                self._masks.clear()
            mask = np.array(
                [record_matches(item, filters, key[1], self._calls) for item in self.index.records],
                dtype=bool,
            )
            mask.setflags(write=False)
            self._masks[key] = mask
        return mask

    def _score(
        self, text: str, lang: str | None, expansion: Expansion, allowed: NDArray[np.bool_]
    ) -> _Scores:
        bm25 = dense = None
        if self.mode in ("hybrid", "bm25"):
            bm25 = self.bm25_scores(text, lang, expansion, allowed)
        if self.mode in ("hybrid", "dense"):
            dense = self.dense_scores(text, lang, expansion, allowed)
        rankings = [r for r in (bm25, dense) if r is not None]
        own = analyze(text, lang) if lang else analyze_any(text)
        bound = self.lexical_bound(own)
        return _Scores(self._fuse(rankings, lang), bm25, dense, bound)

    def lexical_bound(self, terms: Sequence[str]) -> float:
        """The most BM25 can give a document for these terms: the sum of their idf.

        BM25's term-frequency part tends to 1, so a term adds at most its idf. A
        term no document contains adds the idf of a term of document frequency 0,
        so words the knowledge base has never seen weigh against a match.
        """
        total = len(self.index.documents)
        if total == 0:
            return 0.0
        vocabulary: dict[str, int] = self.index.bm25.vocab_dict
        pointers = self.index.bm25.scores["indptr"]
        mass = 0.0
        for term in dict.fromkeys(terms):
            token = vocabulary.get(term)
            frequency = 0
            if token is not None and token + 1 < len(pointers):
                frequency = int(pointers[token + 1] - pointers[token])
            mass += float(np.log1p((total - frequency + 0.5) / (frequency + 0.5)))
        return mass

    def _fuse(self, rankings: list[dict[int, float]], lang: str | None) -> dict[int, float]:
        if len(rankings) == 1:
            return rankings[0]
        dense = self.dense_weight(lang)
        weights = [1.0 - dense, dense]
        if self.settings.fusion == "convex":
            return convex_fusion(rankings, weights)
        fused = reciprocal_rank_fusion(
            [ranked(r) for r in rankings], k=self.settings.rrf_k, weights=weights
        )
        # Scale so that, as with convex fusion, 1.0 means "first in every ranking".
        best = sum(weights) / (self.settings.rrf_k + 1)
        return {item: score / best for item, score in fused.items()}

    def dense_weight(self, lang: str | None) -> float:
        """Weight of the dense ranking for a query language.

        An embedding model places text of languages it was not trained on
        poorly (measured in docs/benchmarks.md), so its vote counts less there.
        """
        languages = self.index.manifest.model.languages
        if languages is None or (lang is not None and lang in languages):
            return self.settings.dense_weight
        return self.settings.dense_weight_other_languages

    def _per_record(
        self, doc_scores: NDArray[np.float32], allowed: NDArray[np.bool_]
    ) -> dict[int, float]:
        """Best document score per allowed record, top ``candidates`` only."""
        best = np.full(len(self.index.records), -np.inf, dtype=np.float64)
        np.maximum.at(best, self._doc_record, doc_scores.astype(np.float64))
        best[~allowed] = -np.inf
        order = np.argsort(-best, kind="stable")[: self.settings.candidates]
        return {int(i): float(best[i]) for i in order if np.isfinite(best[i])}

    def bm25_scores(
        self, text: str, lang: str | None, expansion: Expansion, allowed: NDArray[np.bool_]
    ) -> dict[int, float]:
        """BM25 score per record, summed over three weighted groups of terms.

        1. the query's terms in its own language (weight 1);
        2. glossary forms of the terms it names (``expansion_weight``);
        3. its words analysed by every other language's rules
           (``cross_language_weight``), so cognates and names still meet
           records that lack the query's language ("Horyzont" and "Horizont").
        Without a language, group 1 already is the all-language analysis.
        """
        own = analyze(text, lang) if lang else analyze_any(text)
        seen = set(own)
        glossary = _new_terms(
            (term for form_lang, form in expansion.forms for term in analyze(form, form_lang)),
            seen,
        )
        cross = _new_terms(analyze_any(text), seen) if lang else []
        scores = self._bm25(own)
        for terms, weight in (
            (glossary, self.settings.expansion_weight),
            (cross, self.settings.cross_language_weight),
        ):
            if terms and weight:
                scores = scores + weight * self._bm25(terms)
        per_record = self._per_record(scores, allowed)
        return {item: score for item, score in per_record.items() if score > 0}

    def _bm25(self, terms: list[str]) -> NDArray[np.float32]:
        ids = self.index.bm25.get_tokens_ids(terms)
        if not ids:
            return np.zeros(len(self.index.documents), dtype=np.float32)
        scores: NDArray[np.float32] = self.index.bm25.get_scores(ids)
        return scores

    def dense_scores(
        self, text: str, lang: str | None, expansion: Expansion, allowed: NDArray[np.bool_]
    ) -> dict[int, float]:
        """Cosine similarity per record; English glossary forms appended for a monolingual model.

        A multilingual model needs no translation, and the forms double the query's
        length and so its embedding time (docs/benchmarks.md, variants).
        """
        english = []
        if self.index.manifest.model.languages is not None and lang != DEFAULT_LANGUAGE:
            english = expansion.texts(DEFAULT_LANGUAGE)
        query = " ".join([text, *english])
        vector = self.embedder.encode_query([query])
        doc_allowed = allowed[self._doc_record]
        total = int(self.index.vectors.ntotal)
        if total == 0:
            return {}
        k = min(total, self.settings.candidates * 10)
        subset = None if doc_allowed.all() else np.flatnonzero(doc_allowed)
        similarities, doc_ids = search_vectors(self.index.vectors, vector, k, subset)
        scores = np.full(len(self.index.documents), -np.inf, dtype=np.float32)
        found = doc_ids[0] >= 0
        scores[doc_ids[0][found]] = similarities[0][found]
        return self._per_record(scores, allowed)

    # ------------------------------------------------------------------ rendering

    def _hit(
        self,
        item: IndexedRecord,
        score: float,
        lang: str,
        terms: set[str],
        evidence: Evidence | None = None,
    ) -> SearchHit:
        record = item.record
        title, title_lang = _pick(_title(record), lang)
        body = _body(record)
        snippet_lang: str | None = None
        if isinstance(record, Call):
            snippet, snippet_lang = _call_snippet(record, self._programmes, lang)
        elif isinstance(record, Contact):
            snippet = _contact_snippet(record)
        elif body is not None:
            text, snippet_lang = body.get(lang)
            snippet = _best_sentence(text, snippet_lang, terms if snippet_lang == lang else set())
        else:
            snippet = ""
        served = {code for code in (title_lang, snippet_lang) if code is not None}
        lang_served = lang if served <= {lang} else DEFAULT_LANGUAGE
        return SearchHit(
            id=item.id,
            type=item.type,
            title=title,
            snippet=_shorten(snippet),
            url=_url(record),
            score=round(score, 6),
            lang_served=lang_served,
            record=record,
            evidence=evidence,
        )


def _evidence(item: int, scores: _Scores) -> Evidence:
    """The raw figures of one record in one query's scores (see :class:`Evidence`)."""
    lexical = None
    if scores.bm25 is not None:
        raw = scores.bm25.get(item, 0.0)
        lexical = raw / scores.lexical_bound if scores.lexical_bound > 0 else 0.0
    cosine = margin = None
    if scores.dense and item in scores.dense:
        cosine = scores.dense[item]
        others = (value for other, value in scores.dense.items() if other != item)
        margin = cosine - max(others, default=-1.0)
    return Evidence(lexical, cosine, margin)


# --------------------------------------------------------------------------- reloading


class ReloadingRetriever:
    """Serves the published index and swaps in newer builds without a restart.

    Nothing is loaded at construction. On a search, at most every
    ``reload_check_seconds``, the ``current`` link of the index directory is
    read (one ``readlink``); when it names a new build, that build is loaded
    and checked, then swapped in. If loading fails (broken files, another
    model), the error is logged, the old index keeps serving, and that build
    is not retried until ``current`` changes again.

    Args:
        settings: Where the index is and how to search it.
        embedder: Query encoder; default: the configured model (lazy).
        clock: Today's date for call status.
        monotonic: Time source for the reload interval (injected in tests).
    """

    def __init__(
        self,
        settings: KnowledgeSettings | None = None,
        *,
        embedder: Embedder | None = None,
        clock: Clock = dt.date.today,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Remember the configuration; load nothing yet."""
        self.settings = settings or get_settings()
        self._embedder = embedder
        self._clock = clock
        self._monotonic = monotonic
        self._active: HybridRetriever | None = None
        self._checked_at = -float("inf")
        self._failed: tuple[str, SearchError] | None = None
        self._lock = threading.Lock()

    @property
    def active_build_id(self) -> str | None:
        """Build id being served, or None before the first successful load."""
        return self._active.build_id if self._active else None

    def _embedder_for_index(self) -> Embedder:
        if self._embedder is None:
            try:
                self._embedder = embedder_from_settings(self.settings)
            except ModelUnavailableError as exc:
                raise IndexUnavailableError(f"no embedding model: {exc}") from exc
        return self._embedder

    def current(self) -> HybridRetriever:
        """The retriever of the newest loadable build.

        Raises:
            IndexMissingError: If no build was ever published.
            IndexUnavailableError: If none could be loaded yet.
        """
        active = self._active
        if (
            active is not None
            and self._monotonic() - self._checked_at < self.settings.reload_check_seconds
        ):
            return active
        with self._lock:
            self._checked_at = self._monotonic()
            build_id = current_build_id(self.settings.index_dir)
            if self._active is not None and build_id in (None, self._active.build_id):
                return self._active
            if self._failed is not None and self._failed[0] == (build_id or ""):
                return self._keep_or_raise(self._failed[1])  # reported already
            try:
                self._active = self._load(build_id)
            except SearchError as exc:
                logger.error("Search index not loaded (build %s): %s", build_id, exc)
                self._failed = (build_id or "", exc)
                return self._keep_or_raise(exc)
            self._failed = None
            manifest = self._active.index.manifest
            logger.info(
                "Search index %s loaded: %d records, %d documents, model %s",
                manifest.build_id,
                manifest.record_count,
                manifest.document_count,
                manifest.model.model_id,
            )
            return self._active

    def _keep_or_raise(self, error: SearchError) -> HybridRetriever:
        if self._active is not None:
            return self._active
        raise error

    def _load(self, build_id: str | None) -> HybridRetriever:
        if build_id is None:
            raise IndexMissingError(self.settings.index_dir)
        index = load_build(build_path(self.settings.index_dir, build_id))
        single_thread_search()
        return HybridRetriever(
            index, self._embedder_for_index(), settings=self.settings, clock=self._clock
        )

    def warm_up(self) -> None:
        """Load the index and the model now, so the first user does not wait."""
        self.current().embedder.encode_query(["warm-up"])

    def search(
        self,
        query: str,
        *,
        lang: str | None = None,
        filters: SearchFilters | None = None,
        limit: int = 10,
    ) -> SearchResult:
        """Search the newest loadable index (see :meth:`HybridRetriever.search`)."""
        check_query(query, self.settings.max_query_chars)
        check_language(lang)
        return self.current().search(query, lang=lang, filters=filters, limit=limit)


def get_retriever(settings: KnowledgeSettings | None = None) -> ReloadingRetriever:
    """The retriever for the API and the actions: lazy, reloading, from settings.

    Cheap to call (nothing is loaded); keep the instance, since each one
    loads its own copy of the index and model on first use.
    """
    return ReloadingRetriever(settings)


__all__: Sequence[str] = (
    "Evidence",
    "HybridRetriever",
    "ReloadingRetriever",
    "Retriever",
    "SearchFilters",
    "SearchHit",
    "SearchResult",
    "get_retriever",
)
