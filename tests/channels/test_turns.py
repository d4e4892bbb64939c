"""Turn bookkeeping and feedback: every answered chat turn is recorded and can be rated."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from channels.i18n import translate
from channels.rasa_client import split_turn
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.channels.conftest import app_for
from tests.channels.telegram.rasa_peer import RasaPeer

CERV_TURN = [
    {"custom": {"turn": {"intent": "ask_programme", "confidence": 0.93}}},
    {"text": "CERV funds civil society."},
    {"custom": {"turn": {"records": ["cerv", "cerv-call"], "answered": True}}},
    {"custom": {"turn": {"records": ["cerv"]}}},
]
UNANSWERED_TURN = [
    {"text": "Could you say that differently?"},
    {"custom": {"turn": {"answered": False, "records": []}}},
]


@pytest.fixture
def rasa() -> Iterator[RasaPeer]:
    with RasaPeer() as peer:
        peer.script("What is CERV?", *CERV_TURN)
        peer.script("xyzzy", *UNANSWERED_TURN)
        yield peer


@pytest.fixture
def client(rasa: RasaPeer, store: ParticipationService) -> Iterator[TestClient]:
    with app_for(ChannelSettings(rasa_url=rasa.url), store) as test_client:
        yield test_client


def chat(client: TestClient, sender: str, message: str, **extra: str) -> dict:
    response = client.post("/api/v1/chat", json={"sender": sender, "message": message, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_all_turn_reports_of_one_turn_are_merged() -> None:
    turn = split_turn(
        [{"custom": {"turn": {"language": "hr"}}}, *CERV_TURN, {"text": "Anything else?"}]
    )
    assert turn.language == "hr"
    assert (turn.intent, turn.confidence) == ("ask_programme", 0.93)
    assert turn.records == ["cerv", "cerv-call"]
    assert turn.answered is True
    assert [m["text"] for m in turn.messages] == ["CERV funds civil society.", "Anything else?"]
    assert split_turn(UNANSWERED_TURN).answered is False
    assert split_turn([{"text": "Hello"}]).answered is True  # nothing said otherwise


def test_a_chat_turn_is_recorded_and_returns_its_turn_id(
    client: TestClient, store: ParticipationService
) -> None:
    reply = chat(client, "web-0001aaaa", "What is CERV?", language="hr")
    assert [m["text"] for m in reply["messages"]] == ["CERV funds civil society."]
    assert isinstance(reply["turn_id"], int)
    [question] = store.export_user("api:web-0001aaaa")["questions"]
    assert question["id"] == reply["turn_id"]
    assert question["language"] == "hr"
    assert question["intent"] == "ask_programme"
    assert question["record_ids"] == ["cerv", "cerv-call"]
    assert question["answered"] is True


def test_unanswered_turns_reach_the_content_gap_report(
    client: TestClient, store: ParticipationService
) -> None:
    chat(client, "web-0002bbbb", "xyzzy")
    chat(client, "web-0003cccc", "xyzzy")
    gaps = store.content_gaps(language="en")
    assert [(u.text, u.count) for u in gaps.unanswered] == [("xyzzy", 2)]


def test_a_broken_store_never_costs_the_user_the_answer(
    rasa: RasaPeer, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "not-a-dir").write_text("a file where the database folder should be")
    broken = ParticipationService(
        ParticipationSettings(database_url=f"sqlite:///{tmp_path / 'not-a-dir' / 'p.db'}")
    )
    with app_for(ChannelSettings(rasa_url=rasa.url), broken) as client:
        reply = chat(client, "web-0004dddd", "What is CERV?")
    assert reply["messages"][0]["text"] == "CERV funds civil society."
    assert reply["turn_id"] is None
    assert "Could not record a api turn" in caplog.text


@pytest.mark.parametrize(("rating", "value"), [("up", 1), ("down", -1)])
def test_the_user_rates_their_own_answer(
    client: TestClient, store: ParticipationService, rating: str, value: int
) -> None:
    turn_id = chat(client, "web-0005eeee", "What is CERV?")["turn_id"]
    response = client.post(
        "/api/v1/feedback", json={"sender": "web-0005eeee", "turn_id": turn_id, "rating": rating}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"turn_id": turn_id, "rating": rating}
    [vote] = store.export_user("api:web-0005eeee")["feedback"]
    assert (vote["question_id"], vote["rating"]) == (turn_id, value)


def test_a_second_vote_replaces_the_first(client: TestClient, store: ParticipationService) -> None:
    turn_id = chat(client, "web-0006ffff", "What is CERV?")["turn_id"]
    for rating in ("up", "down"):
        body = {"sender": "web-0006ffff", "turn_id": turn_id, "rating": rating}
        assert client.post("/api/v1/feedback", json=body).status_code == 200
    [vote] = store.export_user("api:web-0006ffff")["feedback"]
    assert vote["rating"] == -1


def test_nobody_else_may_rate_a_turn(client: TestClient, store: ParticipationService) -> None:
    turn_id = chat(client, "web-0007aaaa", "What is CERV?")["turn_id"]
    response = client.post(
        "/api/v1/feedback",
        json={"sender": "web-intruder01", "turn_id": turn_id, "rating": "down"},
        headers={"Accept-Language": "hr"},
    )
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "turn_not_found",
        "message": translate("error.turn_not_found", "hr"),
        "language": "hr",
    }
    assert store.export_user("api:web-0007aaaa")["feedback"] == []


def test_unknown_turn_and_bad_rating_are_explained(client: TestClient) -> None:
    unknown = client.post(
        "/api/v1/feedback", json={"sender": "web-0008bbbb", "turn_id": 999999, "rating": "up"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "turn_not_found"
    bad = client.post(
        "/api/v1/feedback",
        json={"sender": "web-0008bbbb", "turn_id": 1, "rating": "meh"},
        headers={"Accept-Language": "de"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"] == {
        "code": "rating_invalid",
        "message": translate("error.rating_invalid", "de", allowed="up, down"),
        "language": "de",
    }


def test_a_malformed_sender_is_refused_politely(client: TestClient) -> None:
    response = client.post(
        "/api/v1/feedback",
        json={"sender": "<script>", "turn_id": 1, "rating": "up"},
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == translate("error.sender_invalid", "fr")
