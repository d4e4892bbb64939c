"""`/api/v1/subscriptions`: subscribe, list and end reminders over REST (real SQLite store)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from channels.i18n import translate
from participation.service import ParticipationService

SUBSCRIPTIONS = "/api/v1/subscriptions"
SENDER = "web-subscriber-0001"
HEADERS = {"X-Sender-Id": SENDER}


def test_subscribing_plans_reminders_and_a_second_time_changes_nothing(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    body = {"kind": "events_city", "target": "rijeka", "language": "hr"}
    first = client_without_rasa.post(SUBSCRIPTIONS, json=body, headers=HEADERS)
    assert first.status_code == 201, first.text
    data = first.json()
    assert (data["kind"], data["target"], data["language"]) == ("events_city", "Rijeka", "hr")
    assert data["created"] is True
    assert data["reminders_scheduled"] >= 1  # the Rijeka forum in 7 days: the 1-day reminder
    [stored] = store.subscriptions(f"api:{SENDER}")
    assert data["unsubscribe_url"] == (
        f"https://assistant.example.eu/unsubscribe/{stored.token}?lang=hr"
    )
    again = client_without_rasa.post(SUBSCRIPTIONS, json=body, headers=HEADERS)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert len(store.subscriptions(f"api:{SENDER}")) == 1


def test_the_list_holds_only_the_callers_subscriptions_and_delete_ends_them_all(
    client_without_rasa: TestClient, store: ParticipationService
) -> None:
    for body in (
        {"kind": "calls_programme", "target": "CERV"},
        {"kind": "calls_theme", "target": "Democracy", "email": "ana@example.org"},
    ):
        assert (
            client_without_rasa.post(SUBSCRIPTIONS, json=body, headers=HEADERS).status_code == 201
        )
    other = {"X-Sender-Id": "web-someone-else"}
    body = {"kind": "events_city", "target": "Rijeka"}
    assert client_without_rasa.post(SUBSCRIPTIONS, json=body, headers=other).status_code == 201

    listed = client_without_rasa.get(SUBSCRIPTIONS, headers=HEADERS)
    assert listed.status_code == 200
    items = listed.json()["subscriptions"]
    assert [(i["kind"], i["target"]) for i in items] == [
        ("calls_programme", "cerv"),
        ("calls_theme", "democracy"),
    ]
    assert items[1]["email"] == "ana@example.org"

    deleted = client_without_rasa.delete(SUBSCRIPTIONS, headers=HEADERS)
    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": 2}
    assert client_without_rasa.get(SUBSCRIPTIONS, headers=HEADERS).json() == {"subscriptions": []}
    assert len(store.subscriptions("api:web-someone-else")) == 1


def test_an_unknown_city_is_422_with_suggestions_in_the_callers_language(
    client_without_rasa: TestClient,
) -> None:
    body = {"kind": "events_city", "target": "Rieka", "language": "it"}
    response = client_without_rasa.post(SUBSCRIPTIONS, json=body, headers=HEADERS)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_target"
    assert error["suggestions"] == ["Rijeka"]
    hint = translate("error.unknown_target.suggestions", "it", suggestions="Rijeka")
    assert error["message"] == translate(
        "error.unknown_target.events_city", "it", target="Rieka", hint=f" {hint}"
    )


def test_an_unknown_programme_and_theme_name_what_was_not_found(
    client_without_rasa: TestClient,
) -> None:
    programme = client_without_rasa.post(
        SUBSCRIPTIONS,
        json={"kind": "calls_programme", "target": "the CERV programme"},
        headers={**HEADERS, "Accept-Language": "de"},
    )
    assert programme.status_code == 422
    assert programme.json()["error"]["suggestions"] == ["cerv"]
    assert programme.json()["error"]["language"] == "de"
    assert "„the CERV programme“" in programme.json()["error"]["message"]

    theme = client_without_rasa.post(
        SUBSCRIPTIONS, json={"kind": "calls_theme", "target": "zzzz"}, headers=HEADERS
    )
    assert theme.status_code == 422
    assert theme.json()["error"]["code"] == "unknown_target"
    assert "suggestions" not in theme.json()["error"]
    assert theme.json()["error"]["message"] == translate(
        "error.unknown_target.calls_theme", "en", target="zzzz", hint=""
    )


def test_a_wrong_kind_or_e_mail_is_explained(client_without_rasa: TestClient) -> None:
    kind = client_without_rasa.post(
        SUBSCRIPTIONS, json={"kind": "newsletter", "target": "x"}, headers=HEADERS
    )
    assert kind.status_code == 422
    assert kind.json()["error"]["code"] == "subscription_kind_invalid"
    assert "calls_theme, calls_programme, events_city" in kind.json()["error"]["message"]
    email = client_without_rasa.post(
        SUBSCRIPTIONS,
        json={"kind": "events_city", "target": "Rijeka", "email": "not-an-address"},
        headers=HEADERS,
    )
    assert email.status_code == 422
    assert email.json()["error"]["code"] == "invalid_input"
    assert "'email'" in email.json()["error"]["message"]


def test_every_route_needs_the_sender_header(client_without_rasa: TestClient) -> None:
    body = {"kind": "events_city", "target": "Rijeka"}
    for response in (
        client_without_rasa.post(SUBSCRIPTIONS, json=body),
        client_without_rasa.get(SUBSCRIPTIONS),
        client_without_rasa.delete(SUBSCRIPTIONS),
    ):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "sender_invalid"
