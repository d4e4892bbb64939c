"""The chat API's optional `city` and `country`: validated, then sent to Rasa as metadata."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from channels.settings import ChannelSettings
from participation.service import ParticipationService
from tests.channels.conftest import app_for
from tests.channels.telegram.rasa_peer import RasaPeer


@pytest.fixture
def rasa() -> Iterator[RasaPeer]:
    with RasaPeer() as peer:
        yield peer


@pytest.fixture
def client(rasa: RasaPeer, store: ParticipationService) -> Iterator[TestClient]:
    with app_for(ChannelSettings(rasa_url=rasa.url), store) as test_client:
        yield test_client


def test_city_and_country_are_forwarded_as_metadata(client: TestClient, rasa: RasaPeer) -> None:
    body = {"sender": "s1", "message": "hi", "city": "  Saint-Étienne ", "country": "fr"}
    response = client.post("/api/v1/chat", json=body)
    assert response.status_code == 200, response.text
    [request] = rasa.requests
    assert request.metadata["city"] == "Saint-Étienne"
    assert request.metadata["country"] == "FR"


def test_without_them_no_place_is_sent(client: TestClient, rasa: RasaPeer) -> None:
    body = {"sender": "s2", "message": "hi", "city": " ", "country": ""}
    assert client.post("/api/v1/chat", json=body).status_code == 200
    [request] = rasa.requests
    assert "city" not in request.metadata and "country" not in request.metadata


@pytest.mark.parametrize(
    "place",
    [
        {"city": "<b>Zagreb</b>"},
        {"city": "/restart"},
        {"city": "x" * 81},
        {"city": "12345"},
        {"country": "XX"},
        {"country": "HRV"},
        {"country": "Croatia"},
        {"city": 7},
    ],
)
def test_invalid_place_is_422_and_nothing_reaches_rasa(
    client: TestClient, rasa: RasaPeer, place: dict[str, object]
) -> None:
    response = client.post("/api/v1/chat", json={"sender": "s3", "message": "hi", **place})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert rasa.requests == []


def test_the_api_returns_the_bots_text_unchanged(client: TestClient, rasa: RasaPeer) -> None:
    rasa.script("card", {"text": "**CERV** <i>x</i> https://ec.europa.eu/cerv"})
    response = client.post("/api/v1/chat", json={"sender": "s4", "message": "card"})
    assert response.json()["messages"][0]["text"] == "**CERV** <i>x</i> https://ec.europa.eu/cerv"
