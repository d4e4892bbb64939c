"""Bad input and a down Rasa get a clear JSON error, never a stack trace."""

import pytest
from fastapi.testclient import TestClient

CHAT = "/api/v1/chat"


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert "Traceback" not in response.text
    return body["error"]


@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_empty_message_is_422(client_without_rasa: TestClient, message: str) -> None:
    response = client_without_rasa.post(CHAT, json={"sender": "u1", "message": message})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "message_empty"
    assert error["message"] == "Your message is empty. Please type a question."


def test_missing_message_is_422(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(CHAT, json={"sender": "u1"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "message_missing"


def test_ten_thousand_characters_is_422_with_the_limit(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(CHAT, json={"sender": "u1", "message": "a" * 10_000})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "message_too_long"
    assert "10000" in error["message"] and "4000" in error["message"]


def test_non_json_body_is_400(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(
        CHAT, content=b"hello there", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_invalid_utf8_body_is_400(client_without_rasa: TestClient) -> None:
    body = b'{"sender": "u1", "message": "\xff\xfe bok"}'
    response = client_without_rasa.post(
        CHAT, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_unknown_language_is_422(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(
        CHAT, json={"sender": "u1", "message": "hi", "language": "xx"}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "unsupported_language"
    assert "'xx'" in error["message"] and "hr" in error["message"]


def test_bad_sender_is_422(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(CHAT, json={"sender": "<b>x</b>", "message": "hi"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert "sender" in error["message"]


def test_errors_are_in_the_requested_language(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(
        CHAT, json={"sender": "u1", "message": " ", "language": "hr"}
    )
    error = error_of(response)
    assert error["language"] == "hr"
    assert error["message"] == "Vaša poruka je prazna. Molimo upišite pitanje."


def test_errors_follow_accept_language(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(
        CHAT,
        content=b"not json",
        headers={"Content-Type": "application/json", "Accept-Language": "hr-HR,hr;q=0.9,en;q=0.8"},
    )
    error = error_of(response)
    assert error["language"] == "hr"
    assert error["message"].startswith("Tijelo zahtjeva")


def test_rasa_down_is_503_with_retry_after(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(
        CHAT, json={"sender": "u1", "message": "<script>alert(1)</script> hello"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    error = error_of(response)
    assert error["code"] == "assistant_unavailable"
    assert "try again" in error["message"]


def test_health_reports_rasa_down_but_app_alive(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "rasa": "unavailable"}


def test_unknown_route_is_json_404(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.get("/api/v1/nope")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_json_405(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.get(CHAT)
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_chat_page_is_served(client_without_rasa: TestClient) -> None:
    page = client_without_rasa.get("/")
    assert page.status_code == 200
    assert 'id="form"' in page.text and "/static/chat.js" in page.text
    script = client_without_rasa.get("/static/chat.js")
    assert script.status_code == 200
    assert "innerHTML" not in script.text  # bot text is never injected as HTML


def test_openapi_documents_the_chat_endpoint(client_without_rasa: TestClient) -> None:
    schema = client_without_rasa.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/chat"]["post"]
    assert {"200", "400", "422", "503"} <= set(operation["responses"])
