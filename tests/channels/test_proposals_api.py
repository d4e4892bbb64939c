"""`POST /api/v1/proposals` and `GET /api/v1/proposals/{reference}` on a real SQLite store."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.i18n import translate
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.channels.conftest import Clock, app_for
from tests.channels.participation_kb import sample_kb

PROPOSALS = "/api/v1/proposals"
SENDER = "web-proposer-0001"
HEADERS = {"X-Sender-Id": SENDER}
BODY = {"topic": "Parks", "text": "Plant trees along the promenade.", "city": "Rijeka"}
REFERENCE = re.compile(r"FP-\d{4}-\d{5}")


def test_a_proposal_gets_a_reference_and_is_stored_for_its_author(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    body = {**BODY, "contact": "ana@example.org", "language": "hr"}
    response = client_without_rasa.post(PROPOSALS, json=body, headers=HEADERS)
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]
    assert REFERENCE.fullmatch(reference)
    assert response.json()["status"] == "pending"
    assert response.headers["location"] == f"{PROPOSALS}/{reference}"
    [stored] = store.export_user(f"api:{SENDER}")["proposals"]
    assert stored["reference"] == reference
    assert (stored["topic"], stored["city"], stored["language"]) == ("Parks", "Rijeka", "hr")
    assert stored["contact"] == "ana@example.org"


def test_the_same_idempotency_key_returns_the_first_reference_once_stored(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    headers = {**HEADERS, "Idempotency-Key": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}
    first = client_without_rasa.post(PROPOSALS, json=BODY, headers=headers)
    again = client_without_rasa.post(PROPOSALS, json=BODY, headers=headers)
    other = client_without_rasa.post(PROPOSALS, json=BODY, headers=HEADERS)
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["reference"] == first.json()["reference"]
    assert other.json()["reference"] != first.json()["reference"]
    assert len(store.export_user(f"api:{SENDER}")["proposals"]) == 2


def test_another_sender_may_reuse_a_key_without_getting_someone_elses_proposal(
    client_without_rasa: TestClient,
) -> None:
    key = {"Idempotency-Key": "shared-key-1"}
    mine = client_without_rasa.post(PROPOSALS, json=BODY, headers={**HEADERS, **key})
    theirs = client_without_rasa.post(
        PROPOSALS, json=BODY, headers={"X-Sender-Id": "web-someone-else", **key}
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["reference"] != theirs.json()["reference"]


def test_a_too_long_proposal_is_refused_with_the_limit_in_the_callers_language(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    limit = store.settings.proposal_max_chars
    body = {**BODY, "text": "x" * (limit + 1), "language": "de"}
    response = client_without_rasa.post(PROPOSALS, json=body, headers=HEADERS)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "proposal_too_long"
    assert error["language"] == "de"
    assert error["message"] == translate(
        "error.proposal_too_long", "de", limit=limit, length=limit + 1
    )
    assert str(limit) in error["message"]
    assert store.export_user(f"api:{SENDER}")["proposals"] == []


def test_a_too_long_topic_and_an_empty_text_are_explained(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    limit = store.settings.topic_max_chars
    long_topic = {**BODY, "topic": "t" * (limit + 5)}
    response = client_without_rasa.post(
        PROPOSALS, json=long_topic, headers={**HEADERS, "Accept-Language": "hr"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "topic_too_long"
    assert response.json()["error"]["message"] == translate(
        "error.topic_too_long", "hr", limit=limit, length=limit + 5
    )
    empty = client_without_rasa.post(PROPOSALS, json={**BODY, "text": "  "}, headers=HEADERS)
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "invalid_input"
    assert "'text'" in empty.json()["error"]["message"]


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({}, BODY, "sender_invalid"),
        ({"X-Sender-Id": "not a valid id"}, BODY, "sender_invalid"),
        (HEADERS, {**BODY, "language": "xx"}, "unsupported_language"),
        ({**HEADERS, "Idempotency-Key": "with spaces in it"}, BODY, "idempotency_key_invalid"),
        ({**HEADERS, "Idempotency-Key": "k" * 129}, BODY, "idempotency_key_invalid"),
        (HEADERS, {"text": "no topic"}, "invalid_request"),
    ],
)
def test_malformed_requests_get_422_with_a_code(
    client_without_rasa: TestClient, headers: dict[str, str], body: dict[str, str], code: str
) -> None:
    response = client_without_rasa.post(PROPOSALS, json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_status_shows_the_reason_only_to_the_author(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    reference = client_without_rasa.post(PROPOSALS, json=BODY, headers=HEADERS).json()["reference"]
    store.moderate(reference, "rejected", reason="Already planned for 2027.")

    own = client_without_rasa.get(f"{PROPOSALS}/{reference}", headers=HEADERS)
    assert own.status_code == 200
    assert own.json()["status"] == "rejected"
    assert own.json()["mine"] is True
    assert own.json()["reason"] == "Already planned for 2027."
    assert own.json()["topic"] == "Parks"

    for headers in ({}, {"X-Sender-Id": "web-curious-neighbour"}):
        public = client_without_rasa.get(f"{PROPOSALS}/{reference.lower()}", headers=headers)
        assert public.status_code == 200
        assert public.json()["status"] == "rejected"
        assert public.json()["mine"] is False
        assert public.json()["reason"] is None and public.json()["topic"] is None


def test_an_unknown_reference_is_404_in_the_callers_language(
    client_without_rasa: TestClient,
) -> None:
    response = client_without_rasa.get(
        f"{PROPOSALS}/FP-2026-99999", headers={"Accept-Language": "fr"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "proposal_not_found"
    assert response.json()["error"]["message"] == translate(
        "error.proposal_not_found", "fr", reference="FP-2026-99999"
    )


@pytest.fixture
def impatient_store(tmp_path: Path, tracker_db: Path, clock: Clock) -> ParticipationService:
    settings = ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'busy.db'}",
        tracker_database_url=f"sqlite:///{tracker_db}",
        sqlite_busy_timeout_ms=200,
    )
    store = ParticipationService(settings, kb=sample_kb(), clock=clock)
    store.subscriptions("api:warm-up")  # migrate before another process takes the lock
    return store


def test_a_busy_database_gets_503_with_retry_after_and_the_retry_stores_once(
    impatient_store: ParticipationService, closed_port: int, tmp_path: Path
) -> None:
    settings = ChannelSettings(rasa_url=f"http://127.0.0.1:{closed_port}", retry_after_seconds=7)
    headers = {**HEADERS, "Idempotency-Key": "retry-me", "Accept-Language": "sl"}
    with app_for(settings, impatient_store) as client:
        connection = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            busy = client.post(PROPOSALS, json=BODY, headers=headers)
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "7"
        assert busy.json()["error"]["code"] == "database_busy"
        assert busy.json()["error"]["message"] == translate("error.database_busy", "sl")
        retried = client.post(PROPOSALS, json=BODY, headers=headers)
        assert retried.status_code == 201
    assert len(impatient_store.export_user(f"api:{SENDER}")["proposals"]) == 1
