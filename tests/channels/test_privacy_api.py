"""Export and erase one's data, read reminder notices, unsubscribe with one tap."""

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.i18n import translate
from participation.service import ParticipationService
from tests.channels.conftest import Clock
from tests.channels.participation_kb import DAY, NOW

SENDER = "web-5e1f0000aaaa"
USER = f"api:{SENDER}"
HEADERS = {"X-Sender-Id": SENDER}


def add_tracker_events(tracker_db: Path, sender_id: str, count: int) -> None:
    with sqlite3.connect(tracker_db) as connection:
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            [
                (sender_id, "user", 1.0 + i, '{"event": "user", "text": "bok"}')
                for i in range(count)
            ],
        )


def tracker_count(tracker_db: Path, sender_id: str) -> int:
    with sqlite3.connect(tracker_db) as connection:
        query = "SELECT count(*) FROM events WHERE sender_id = ?"
        return int(connection.execute(query, (sender_id,)).fetchone()[0])


def test_export_contains_the_users_data_and_conversation(
    client_without_rasa: TestClient, store: ParticipationService, tracker_db: Path
) -> None:
    store.record_question(user_id=USER, language="hr", text="Što je CERV?", answered=True)
    store.record_question(user_id="api:someone-else", language="en", text="x", answered=True)
    add_tracker_events(tracker_db, USER, 2)
    response = client_without_rasa.get("/api/v1/me/export", headers=HEADERS)
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["user_id"] == USER
    assert [q["text"] for q in data["questions"]] == ["Što je CERV?"]
    assert len(data["conversation"]) == 2


def test_delete_erases_the_data_and_the_rasa_conversation(
    client_without_rasa: TestClient, store: ParticipationService, tracker_db: Path
) -> None:
    store.record_question(user_id=USER, language="en", text="hello", answered=True)
    store.subscribe(user_id=USER, language="en", kind="events_city", target="Rijeka")
    add_tracker_events(tracker_db, USER, 3)
    add_tracker_events(tracker_db, "api:web-other0000", 1)
    response = client_without_rasa.delete("/api/v1/me", headers=HEADERS)
    assert response.status_code == 200, response.text
    deleted = response.json()["deleted"]
    assert (deleted["tracker_events"], deleted["questions"], deleted["subscriptions"]) == (3, 1, 1)
    assert tracker_count(tracker_db, USER) == 0
    assert tracker_count(tracker_db, "api:web-other0000") == 1
    export = client_without_rasa.get("/api/v1/me/export", headers=HEADERS).json()
    assert export["questions"] == [] and export["conversation"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/me/export"), ("DELETE", "/api/v1/me"), ("GET", "/api/v1/notices")],
)
@pytest.mark.parametrize("headers", [{}, {"X-Sender-Id": "bad id with spaces"}])
def test_privacy_routes_need_a_valid_sender(
    client_without_rasa: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client_without_rasa.request(
        method, path, headers={**headers, "Accept-Language": "pl"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "sender_invalid",
        "message": translate("error.sender_invalid", "pl"),
        "language": "pl",
    }


def test_a_web_users_reminder_waits_as_a_notice_until_acknowledged(
    client_without_rasa: TestClient, store: ParticipationService, clock: Clock
) -> None:
    receipt = store.subscribe(user_id=USER, language="hr", kind="events_city", target="Rijeka")
    store.refresh_reminders(clock())
    # Subscribed at 10:00, after the 7-day reminder's 08:00: the 1-day one is next.
    clock.now = NOW + 6 * DAY
    response = client_without_rasa.get("/api/v1/notices", headers=HEADERS)
    assert response.status_code == 200, response.text
    body = response.json()
    [notice] = body["notices"]  # in the language of the subscription
    assert (notice["subject_id"], notice["days_left"], notice["language"]) == (
        "rijeka-forum",
        1,
        "hr",
    )
    assert notice["unsubscribe_url"] == (
        f"https://assistant.example.eu/unsubscribe/{receipt.token}?lang=hr"
    )
    assert notice["text"] == translate(
        "reminder.notice.event.tomorrow",
        "hr",
        title="Događanje rijeka-forum",
        deadline="9. ožujka 2026.",
    )
    english = client_without_rasa.get("/api/v1/notices?lang=en", headers=HEADERS).json()
    assert english["notices"][0]["text"] == translate(
        "reminder.notice.event.tomorrow", "en", title="Event rijeka-forum", deadline="March 9, 2026"
    )
    ack = client_without_rasa.post(
        "/api/v1/notices/ack", json={"sender": SENDER, "ids": [notice["id"]]}
    )
    assert ack.json() == {"acknowledged": 1}
    assert client_without_rasa.get("/api/v1/notices", headers=HEADERS).json()["notices"] == []


def test_nobody_else_can_acknowledge_a_notice(
    client_without_rasa: TestClient, store: ParticipationService, clock: Clock
) -> None:
    store.subscribe(user_id=USER, language="en", kind="events_city", target="Rijeka")
    store.refresh_reminders(clock())
    clock.now = NOW + 6 * DAY
    [notice] = client_without_rasa.get("/api/v1/notices", headers=HEADERS).json()["notices"]
    ack = client_without_rasa.post(
        "/api/v1/notices/ack", json={"sender": "web-intruder01", "ids": [notice["id"]]}
    )
    assert ack.json() == {"acknowledged": 0}
    assert len(client_without_rasa.get("/api/v1/notices", headers=HEADERS).json()["notices"]) == 1


def test_one_tap_unsubscribe_in_the_subscribers_language(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    receipt = store.subscribe(user_id=USER, language="hr", kind="events_city", target="Rijeka")
    page = client_without_rasa.get(f"/unsubscribe/{receipt.token}?lang=hr")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="hr">' in page.text
    assert translate("unsubscribe.done.heading", "hr") in page.text
    assert store.subscriptions(USER) == []
    again = client_without_rasa.get(
        f"/unsubscribe/{receipt.token}", headers={"Accept-Language": "de"}
    )
    assert again.status_code == 404
    assert translate("unsubscribe.unknown.heading", "de") in again.text


def test_unsubscribe_by_one_click_post_and_bad_tokens(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    receipt = store.subscribe(user_id=USER, language="en", kind="events_city", target="Rijeka")
    assert client_without_rasa.post(f"/unsubscribe/{receipt.token}").status_code == 200
    assert store.subscriptions(USER) == []
    for token in ("short", "x" * 300, "<script>alert(1)</script>"):
        page = client_without_rasa.get(f"/unsubscribe/{token}")
        assert page.status_code == 404
        assert "<script>" not in page.text
