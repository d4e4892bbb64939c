"""`GET /api/v1/search`: response shape, filters, every error, and index swaps."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.settings import ChannelSettings
from knowledge.embedding import HashingEmbedder
from knowledge.search import ReloadingRetriever
from knowledge.settings import KnowledgeSettings
from knowledge.store import VECTORS, current_build_dir, new_build_id, publish, staging_dir
from tests.knowledge.search_fixtures import DIMENSION, SEARCH_DATA, TODAY, build, search_settings

SEARCH = "/api/v1/search"


@pytest.fixture
def knowledge_settings(tmp_path: Path) -> KnowledgeSettings:
    data = tmp_path / "data"
    shutil.copytree(SEARCH_DATA, data)
    return search_settings(tmp_path / "index", data)


def make_client(settings: KnowledgeSettings, closed_port: int) -> TestClient:
    retriever = ReloadingRetriever(
        settings, embedder=HashingEmbedder(DIMENSION), clock=lambda: TODAY
    )
    app_settings = ChannelSettings(rasa_url=f"http://127.0.0.1:{closed_port}")
    return TestClient(create_app(app_settings, retriever=retriever), raise_server_exceptions=False)


@pytest.fixture
def client(knowledge_settings: KnowledgeSettings, closed_port: int) -> Iterator[TestClient]:
    build(knowledge_settings)
    with make_client(knowledge_settings, closed_port) as test_client:
        yield test_client


@pytest.fixture
def client_without_index(
    knowledge_settings: KnowledgeSettings, closed_port: int
) -> Iterator[TestClient]:
    with make_client(knowledge_settings, closed_port) as test_client:
        yield test_client


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"}, body
    assert "Traceback" not in response.text
    return body["error"]


def result_ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["results"]]


# --------------------------------------------------------------------------- results


def test_response_has_the_documented_shape(client: TestClient) -> None:
    response = client.get(SEARCH, params={"q": "bratimljenje gradova", "lang": "hr"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "language", "results"}
    assert (body["query"], body["language"]) == ("bratimljenje gradova", "hr")
    first = body["results"][0]
    assert set(first) == {"id", "type", "title", "snippet", "url", "score"}
    assert first["id"] in {"cerv-town-twinning", "town-twinning-2026"}
    assert first["title"].startswith("Bratimljenje gradova")
    assert isinstance(first["score"], float)


def test_titles_and_snippets_follow_the_asked_language(client: TestClient) -> None:
    params = {"q": "Pazin participatory budgeting"}
    english = client.get(SEARCH, params=params).json()
    croatian = client.get(SEARCH, params={**params, "lang": "hr"}).json()
    assert english["language"] == "en"
    assert english["results"][0]["title"] == "Participatory budgeting in Pazin"
    assert croatian["results"][0]["title"] == "Participativno budžetiranje u Pazinu"
    assert croatian["results"][0]["snippet"].startswith("Građani predlažu")


def test_filters_restrict_the_results(client: TestClient) -> None:
    params = {"q": "citizens", "type": "practice", "country": "PL", "limit": 50}
    assert set(result_ids(client.get(SEARCH, params=params))) == {
        "gdansk-citizens-assembly",
        "eu-wide-practice",
    }
    open_calls = client.get(SEARCH, params={"q": "call", "open": "open", "type": "call"})
    assert result_ids(open_calls) == ["town-twinning-2026"]
    both = client.get(
        SEARCH, params=[("q", "nature"), ("applicant", "company"), ("theme", "climate")]
    )
    assert set(result_ids(both)) == {"life", "life-2026-nature"}


def test_repeated_and_comma_separated_filters(client: TestClient) -> None:
    repeated = client.get(SEARCH, params=[("q", "town"), ("type", "call"), ("type", "programme")])
    commas = client.get(SEARCH, params={"q": "town", "type": "call,programme"})
    assert set(result_ids(repeated)) == set(result_ids(commas))
    assert {"cerv-town-twinning", "town-twinning-2026"} <= set(result_ids(commas))


def test_limit(client: TestClient) -> None:
    assert len(result_ids(client.get(SEARCH, params={"q": "town", "limit": 2}))) == 2


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_empty_or_missing_query_is_422(client: TestClient, params: dict[str, str]) -> None:
    response = client.get(SEARCH, params=params)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "query_empty"
    assert error["message"] == "Please type something to search for."


def test_over_long_query_is_422_with_length_and_limit(client: TestClient) -> None:
    response = client.get(SEARCH, params={"q": "a" * 1500})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "query_too_long"
    assert "1500" in error["message"] and "1000" in error["message"]


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("type", "programm", "programme"),
        ("applicant", "city", "municipality"),
        ("country", "XX", "ISO 3166-1 alpha-2"),
        ("theme", "sport", "civic_participation"),
        ("open", "closed", "forthcoming"),
    ],
)
def test_unknown_filter_value_is_422_and_lists_the_allowed_ones(
    client: TestClient, name: str, value: str, hint: str
) -> None:
    response = client.get(SEARCH, params={"q": "town", name: value})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "unknown_filter"
    assert f"'{value}'" in error["message"] and f"'{name}'" in error["message"]
    assert hint in error["message"]


def test_unsupported_language_is_422(client: TestClient) -> None:
    response = client.get(SEARCH, params={"q": "town", "lang": "xx"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "unsupported_language"
    assert "'xx'" in error["message"]


def test_errors_use_the_asked_or_browser_language(client: TestClient) -> None:
    by_param = error_of(client.get(SEARCH, params={"q": " ", "lang": "hr"}))
    by_header = error_of(
        client.get(SEARCH, params={"q": " "}, headers={"Accept-Language": "hr-HR"})
    )
    assert by_param["message"] == by_header["message"] == "Upišite što želite pretražiti."


def test_missing_index_is_503_with_the_build_command(client_without_index: TestClient) -> None:
    response = client_without_index.get(SEARCH, params={"q": "town twinning"})
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "index_missing"
    assert error["message"] == (
        "The search index has not been built yet. Build it with: python -m indexer build"
    )


def test_bad_requests_are_reported_even_without_an_index(client_without_index: TestClient) -> None:
    response = client_without_index.get(SEARCH, params={"q": ""})
    assert error_of(response)["code"] == "query_empty"


# --------------------------------------------------------------------------- index swap


NEW_EVENT = """
- id: split-seafront-forum
  kind: event
  title: {en: "Seafront forum in Split"}
  summary: {en: "An evening debate on the seafront of Split."}
  city: Split
  country: HR
  url: https://example.eu/split-forum
  sources: [{url: https://example.eu/split-forum, reliability: official}]
  last_verified: 2026-11-23
"""


def test_a_new_index_is_served_without_restart(
    client: TestClient, knowledge_settings: KnowledgeSettings
) -> None:
    params = {"q": "seafront forum Split", "type": "event"}
    assert "split-seafront-forum" not in result_ids(client.get(SEARCH, params=params))
    (knowledge_settings.data_dir / "events" / "split.yaml").write_text(NEW_EVENT, encoding="utf-8")
    assert build(knowledge_settings).status == "built"
    assert result_ids(client.get(SEARCH, params=params))[0] == "split-seafront-forum"


def test_a_broken_new_index_keeps_the_old_one_serving(
    client: TestClient, knowledge_settings: KnowledgeSettings
) -> None:
    params = {"q": "town twinning"}
    before = result_ids(client.get(SEARCH, params=params))
    build_id = new_build_id()
    with staging_dir(knowledge_settings.index_dir, build_id) as staging:
        shutil.copytree(
            current_build_dir(knowledge_settings.index_dir), staging, dirs_exist_ok=True
        )
        (staging / VECTORS).write_bytes(b"\0" * 16)
        publish(knowledge_settings.index_dir, staging, build_id)
    response = client.get(SEARCH, params=params)
    assert response.status_code == 200
    assert result_ids(response) == before


def test_a_broken_first_index_is_503_index_invalid(
    client_without_index: TestClient, knowledge_settings: KnowledgeSettings
) -> None:
    build(knowledge_settings)
    (current_build_dir(knowledge_settings.index_dir) / VECTORS).write_bytes(b"broken")
    response = client_without_index.get(SEARCH, params={"q": "town"})
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "index_invalid"
    assert "python -m indexer build" in error["message"]
