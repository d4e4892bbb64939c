"""Sign-in over HTTP: cookie attributes, session fixation, wrong passwords, rate limit,
client tokens with a scope, and the audit log an admin reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from channels.api.auth import SESSION_COOKIE
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from tests.channels.conftest import app_for
from tests.channels.operator_accounts import (  # noqa: F401 (an autouse fixture)
    PASSWORD,
    cheap_password_hashing,
    make_operator,
    sign_in,
)

LOGIN = "/admin/api/auth/login"


@pytest.fixture
def client(closed_port: int, store: ParticipationService) -> Iterator[TestClient]:
    make_operator(store, "root", ["admin"])
    make_operator(store, "ana", ["operator"], cities=["Rijeka"])
    settings = ChannelSettings(rasa_url=f"http://127.0.0.1:{closed_port}")
    with app_for(settings, store) as test_client:
        yield test_client


def set_cookie(client: TestClient, username: str = "ana", https: bool = False) -> str:
    url = ("https://testserver" if https else "") + LOGIN
    response = client.post(url, json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.headers["set-cookie"]


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(client: TestClient) -> None:
    plain = set_cookie(client).lower()
    assert "httponly" in plain and "samesite=strict" in plain and "path=/admin" in plain
    assert "secure" not in plain.replace("samesite", "")
    assert "; secure" in set_cookie(client, https=True).lower()


def test_a_planted_session_id_is_never_adopted(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value", path="/admin")
    assert client.get("/admin/api/auth/me").status_code == 401
    header = set_cookie(client)
    issued = header.split(";")[0].split("=", 1)[1]
    assert issued != "attacker-chosen-value" and len(issued) >= 40
    me = client.get("/admin/api/auth/me")
    assert me.status_code == 200 and me.json()["actor"] == "operator:ana"


def test_sign_out_ends_the_session_on_the_server(client: TestClient) -> None:
    csrf = sign_in(client, "ana")
    stolen = client.cookies.get(SESSION_COOKIE)
    assert client.post("/admin/api/auth/logout", headers=csrf).status_code == 204
    client.cookies.set(SESSION_COOKIE, str(stolen), path="/admin")
    assert client.get("/admin/api/tickets").status_code == 401, "a copied cookie is dead too"


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(client: TestClient) -> None:
    wrong = client.post(LOGIN, json={"username": "ana", "password": "not the password"})
    unknown = client.post(LOGIN, json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_repeated_failures_are_rate_limited_even_with_the_right_password(
    client: TestClient, store: ParticipationService
) -> None:
    for _ in range(store.settings.login_max_failures):
        client.post(LOGIN, json={"username": "ana", "password": "guess guess guess"})
    limited = client.post(LOGIN, json={"username": "ana", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["error"]["code"] == "login_rate_limited"
    assert set_cookie(client, "root"), "other accounts are not locked out"


@pytest.mark.parametrize(
    "body", [{}, {"username": "ana"}, {"username": "", "password": "x"}, {"username": ["a"]}]
)
def test_a_malformed_sign_in_is_a_clear_422(client: TestClient, body: dict[str, object]) -> None:
    response = client.post(LOGIN, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_reports_client_reads_reports_and_nothing_else(
    client: TestClient, store: ParticipationService
) -> None:
    token = store.create_client("nightly", "reports")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/admin/api/stats", headers=bearer).status_code == 200
    assert client.get("/admin/api/export/tickets.csv", headers=bearer).status_code == 200
    for method, path in [("GET", "/admin/api/tickets"), ("GET", "/admin/api/audit")]:
        response = client.request(method, path, headers=bearer)
        assert response.status_code == 403, path
    store.revoke_client("nightly")
    assert client.get("/admin/api/stats", headers=bearer).status_code == 401


def test_admins_read_who_did_what_when_to_which_target(
    client: TestClient, store: ParticipationService
) -> None:
    reference = store.open_ticket(
        user_id="web:user", language="hr", city="Rijeka", summary="Pomoć"
    ).reference
    csrf = sign_in(client, "ana")
    client.post(f"/admin/api/tickets/{reference}/claim", headers=csrf)
    client.post(f"/admin/api/tickets/{reference}/close", json={"outcome": "spam"}, headers=csrf)
    assert client.get("/admin/api/audit").status_code == 403
    client.cookies.clear()
    sign_in(client, "root")
    entries = client.get("/admin/api/audit").json()["entries"]
    done = [(e["actor"], e["action"], e["target"]) for e in entries]
    assert done[:2] == [
        ("operator:root", "login", None),
        ("operator:ana", "ticket_close", reference),
    ]
    assert ("operator:ana", "ticket_claim", reference) in done
    assert all(e["at"] for e in entries)
    assert entries[1]["detail"] == {"outcome": "spam"}
