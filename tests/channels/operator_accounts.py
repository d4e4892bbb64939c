"""Operator accounts for the admin API tests: create, sign in, send the CSRF token."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from fastapi.testclient import TestClient

from participation.service import ParticipationService

PASSWORD = "correct horse battery staple"
CHEAP_ARGON2 = {
    "PARTICIPATION_PASSWORD_TIME_COST": "1",
    "PARTICIPATION_PASSWORD_MEMORY_KIB": "64",
    "PARTICIPATION_PASSWORD_PARALLELISM": "1",
}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost (import into a test module to use it): same code path,
    a fraction of the 0.3 s per hash the production parameters take here."""
    for name, value in CHEAP_ARGON2.items():
        monkeypatch.setenv(name, value)


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
