"""One contract battery for every retriever: real FAISS and BM25 on small data.

The hashing embedder is a bag of words, so dense results are lexical too; the
assertions are about ids, orders, filters and errors, which every
implementation must honour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from knowledge.embedding import HashingEmbedder
from knowledge.filters import SearchFilters
from knowledge.search import HybridRetriever, ReloadingRetriever, Retriever
from knowledge.search_errors import (
    ModelMismatchError,
    QueryEmptyError,
    QueryTooLongError,
    UnknownFilterError,
    UnsupportedLanguageError,
)
from knowledge.store import load_current
from tests.knowledge.search_fixtures import DIMENSION, TODAY, build, search_settings

Factory = Callable[[Path], Retriever]


def _hybrid(index_dir: Path, **overrides: object) -> HybridRetriever:
    settings = search_settings(index_dir, **overrides)
    build(settings)
    return HybridRetriever(
        load_current(index_dir), HashingEmbedder(DIMENSION), settings=settings, clock=lambda: TODAY
    )


def _hnsw(index_dir: Path) -> Retriever:
    retriever = _hybrid(index_dir, exact_search_max_vectors=1)
    assert retriever.index.manifest.vector_index.kind == "hnsw"
    return retriever


def _reloading(index_dir: Path) -> Retriever:
    settings = search_settings(index_dir)
    build(settings)
    return ReloadingRetriever(settings, embedder=HashingEmbedder(DIMENSION), clock=lambda: TODAY)


IMPLEMENTATIONS: dict[str, Factory] = {
    "flat": _hybrid,
    "hnsw": _hnsw,
    "reloading": _reloading,
}


@pytest.fixture(scope="module", params=sorted(IMPLEMENTATIONS))
def retriever(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Retriever]:
    yield IMPLEMENTATIONS[request.param](tmp_path_factory.mktemp(request.param))


def ids(retriever: Retriever, query: str, **kwargs: object) -> list[str]:
    return [hit.id for hit in retriever.search(query, **kwargs).hits]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ranking


def test_english_question_finds_the_programme_first(retriever: Retriever) -> None:
    assert ids(retriever, "meetings of citizens from twinned towns", lang="en")[0] == (
        "cerv-town-twinning"
    )


def test_croatian_question_gets_croatian_titles(retriever: Retriever) -> None:
    result = retriever.search("participativno budžetiranje u Pazinu", lang="hr")
    top = result.hits[0]
    assert (top.id, top.title, top.lang_served) == (
        "pazin-participatory-budget",
        "Participativno budžetiranje u Pazinu",
        "hr",
    )
    assert result.language == "hr"


def test_english_fallback_is_reported_per_hit(retriever: Retriever) -> None:
    hit = retriever.search("OmaStadi Helsinki vote", lang="hr").hits[0]
    assert (hit.id, hit.title, hit.lang_served) == (
        "helsinki-omastadi-vote",
        "OmaStadi participatory budget vote",
        "en",
    )


def test_glossary_expansion_reaches_records_without_the_query_language(
    retriever: Retriever,
) -> None:
    # No record has Polish text about town twinning; the glossary maps
    # "partnerstwo miast" to "town twinning".
    result = retriever.search("partnerstwo miast", lang="pl")
    assert result.expanded_with == ("town-twinning-term",)
    assert result.hits[0].id in {"cerv-town-twinning", "town-twinning-2026", "town-twinning-2025"}
    assert "cerv-town-twinning" in [hit.id for hit in result.hits[:3]]


def test_unknown_language_is_analysed_in_every_language_and_shown_in_english(
    retriever: Retriever,
) -> None:
    result = retriever.search("budžetiranje Pazin")
    assert result.language == "en"
    assert result.hits[0].id == "pazin-participatory-budget"
    assert result.hits[0].title == "Participatory budgeting in Pazin"


def test_hits_are_sorted_limited_and_rendered(retriever: Retriever) -> None:
    result = retriever.search("town twinning", lang="en", limit=2)
    assert len(result.hits) == 2
    assert result.hits[0].score >= result.hits[1].score
    hit = next(h for h in retriever.search("Gdańsk flood assembly", lang="en").hits)
    assert hit.id == "gdansk-citizens-assembly"
    assert hit.url == "https://example.eu/gdansk"
    assert hit.snippet.startswith("Randomly selected residents")


def test_snippet_is_the_sentence_that_matches_the_query(retriever: Retriever) -> None:
    hit = retriever.search("LIFE co-financing rate", lang="en").hits[0]
    assert hit.id == "life"
    assert hit.snippet == "Co-financing is usually 60%."


def test_call_snippet_names_programme_and_deadline(retriever: Retriever) -> None:
    hits = retriever.search(
        "Town-Twinning 2026", lang="hr", filters=SearchFilters(types=frozenset({"call"}))
    ).hits
    assert hits[0].id == "town-twinning-2026"
    assert hits[0].snippet == "Bratimljenje gradova · 2026-03-01"


def test_search_is_deterministic(retriever: Retriever) -> None:
    first = retriever.search("citizens participation budget", lang="en")
    second = retriever.search("citizens participation budget", lang="en")
    assert [(h.id, h.score) for h in first.hits] == [(h.id, h.score) for h in second.hits]


# --------------------------------------------------------------------------- filters


def _filtered(
    retriever: Retriever, query: str = "citizens programme budget call", **raw: str
) -> set[str]:
    filters = SearchFilters.parse(**raw)  # type: ignore[arg-type]
    return set(ids(retriever, query, lang="en", filters=filters, limit=50))


def test_default_types_leave_out_glossary_and_contacts(retriever: Retriever) -> None:
    found = set(ids(retriever, "co-financing Europe Direct contact centre", lang="en", limit=50))
    assert "co-financing" not in found and "europe-direct" not in found
    glossary = SearchFilters.parse(type="glossary")
    assert ids(retriever, "co-funding", lang="en", filters=glossary)[0] == "co-financing"


def test_type_filter(retriever: Retriever) -> None:
    assert _filtered(retriever, "citizens residents city", type="practice") == {
        "pazin-participatory-budget",
        "gdansk-citizens-assembly",
        "eu-wide-practice",
    }


def test_country_filter_expands_groups(retriever: Retriever) -> None:
    # PL: EU27 programmes and their calls, the Polish practice and the EU-wide one.
    assert _filtered(
        retriever, "citizens residents towns nature climate", country="pl", type="practice"
    ) == {
        "gdansk-citizens-assembly",
        "eu-wide-practice",
    }
    # Serbia is an IPA beneficiary, not an EU Member State.
    assert _filtered(retriever, "cooperation citizens towns nature", country="RS") == {
        "interreg-ipa"
    }


def test_applicant_filter_uses_the_parents_list_for_strands_and_calls(retriever: Retriever) -> None:
    assert _filtered(retriever, "nature towns citizens cooperation", applicant="company") == {
        "life",
        "life-2026-nature",
    }
    assert {"cerv-town-twinning", "town-twinning-2026"} <= _filtered(
        retriever, "town twinning", applicant="ngo"
    )


def test_theme_filter(retriever: Retriever) -> None:
    assert _filtered(retriever, "climate nature flood rain", theme="climate") == {
        "life",
        "life-2026-nature",
        "gdansk-citizens-assembly",
    }


def test_call_status_filters(retriever: Retriever) -> None:
    # On TODAY the 2026 town-twinning call is open, the LIFE call forthcoming, 2025 closed.
    assert _filtered(retriever, "town twinning nature call", open="open") == {
        "town-twinning-2026",
        "cerv-town-twinning",
    }
    assert _filtered(retriever, "town twinning nature call", open="forthcoming") == {
        "life-2026-nature",
        "life",
    }
    assert _filtered(retriever, "town twinning nature call", open="true", type="call") == {
        "town-twinning-2026",
        "life-2026-nature",
    }


def test_filters_combine_with_and(retriever: Retriever) -> None:
    assert (
        _filtered(retriever, "citizens", country="HR", applicant="company", theme="democracy")
        == set()
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query(retriever: Retriever, query: str) -> None:
    with pytest.raises(QueryEmptyError) as raised:
        retriever.search(query)
    assert raised.value.code == "query_empty"


def test_over_long_query_names_length_and_limit(retriever: Retriever) -> None:
    with pytest.raises(QueryTooLongError) as raised:
        retriever.search("x" * 1001)
    assert raised.value.values == {"length": 1001, "limit": 1000}


def test_unsupported_language(retriever: Retriever) -> None:
    with pytest.raises(UnsupportedLanguageError) as raised:
        retriever.search("town twinning", lang="xx")
    assert raised.value.values["requested"] == "xx"


def test_language_tags_are_normalised(retriever: Retriever) -> None:
    assert retriever.search("Bratimljenje gradova", lang="hr-HR").language == "hr"


# --------------------------------------------------------------------------- parsing and model


@pytest.mark.parametrize(
    ("raw", "name", "value"),
    [
        ({"type": "programm"}, "type", "programm"),
        ({"applicant": "city"}, "applicant", "city"),
        ({"country": "XX"}, "country", "XX"),
        ({"country": "EL"}, "country", "EL"),
        ({"theme": "sports"}, "theme", "sports"),
        ({"open": "closed"}, "open", "closed"),
    ],
)
def test_unknown_filter_values_are_errors(raw: dict[str, str], name: str, value: str) -> None:
    with pytest.raises(UnknownFilterError) as raised:
        SearchFilters.parse(**raw)  # type: ignore[arg-type]
    assert (raised.value.values["name"], raised.value.values["value"]) == (name, value)
    assert raised.value.code == "unknown_filter"


def test_filter_values_accept_lists_and_commas() -> None:
    filters = SearchFilters.parse(type=["programme,call"], country="hr, de", open="true")
    assert filters.types == {"programme", "call"}
    assert filters.countries == {"HR", "DE"}
    assert filters.call_states == {"open", "forthcoming"}


def test_an_index_of_another_model_is_refused(tmp_path: Path) -> None:
    settings = search_settings(tmp_path)
    build(settings)
    with pytest.raises(ModelMismatchError) as raised:
        HybridRetriever(load_current(tmp_path), HashingEmbedder(DIMENSION * 2), settings=settings)
    assert "python -m indexer build" in str(raised.value)


@pytest.mark.parametrize("fusion", ["rrf", "convex"])
def test_hybrid_scores_are_on_a_0_to_1_scale(tmp_path: Path, fusion: str) -> None:
    retriever = _hybrid(tmp_path, fusion=fusion)
    hits = retriever.search("Participatory budgeting in Pazin", lang="en").hits
    assert hits[0].id == "pazin-participatory-budget"
    assert hits[0].score == pytest.approx(1.0)  # first for BM25 and for the embeddings
    assert all(0 <= hit.score <= 1.0 + 1e-9 for hit in hits)
