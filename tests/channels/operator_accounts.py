"""Operator accounts for the admin API tests: create, sign in, send the CSRF token."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.testclient import TestClient

from participation.service import ParticipationService

PASSWORD = "correct horse battery staple"


def make_operator(
    store: ParticipationService,
    username: str,
    roles: Iterable[str],
    cities: Iterable[str] = (),
    languages: Iterable[str] = (),
    topics: Iterable[str] = (),
) -> str:
    """Create an account with the shared test password; returns its user name."""
    store.create_operator(
        username=username,
        password=PASSWORD,
        roles=roles,
        cities=cities,
        languages=languages,
        topics=topics,
    )
    return username


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign the client in (its cookie jar keeps the session); returns the CSRF header."""
    response = client.post(
        "/admin/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}
