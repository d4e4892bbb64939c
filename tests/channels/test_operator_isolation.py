"""Per-city isolation over the whole admin route table, and CSRF on every change.

An operator of Rijeka must get 403 for Zagreb's conversations and proposals on every
route that names one, must not see them in any list, and must get 403 on the admin-only
routes. Every route of the app is classified below: a new route fails the test until
someone decides which class it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from channels.settings import ChannelSettings
from participation.service import ParticipationService
from tests.channels.conftest import app_for
from tests.channels.operator_accounts import (  # noqa: F401 (an autouse fixture)
    cheap_password_hashing,
    make_operator,
    sign_in,
)
from tests.channels.test_admin_api import LOGIN, PROTECTED, ROUTES

TICKET = "/admin/api/tickets/x"
# Routes that act on one conversation or proposal: 403 for another city's.
SCOPED: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", TICKET): None,
    ("GET", TICKET + "/messages"): None,
    ("POST", TICKET + "/claim"): None,
    ("POST", TICKET + "/reply"): {"text": "Hello from Rijeka"},
    ("POST", TICKET + "/transfer"): {"city": "Rijeka"},
    ("POST", TICKET + "/close"): {"outcome": "answered"},
    ("POST", "/admin/api/proposals/x/moderation"): {"status": "published"},
}
# Lists: answer 200 with only the caller's cities in them.
LISTS = {("GET", "/admin/api/tickets"): "tickets", ("GET", "/admin/api/proposals"): "proposals"}
# Admin (or report) routes: 403 for an operator or moderator.
ADMIN_ONLY: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/admin/api/stats"): None,
    ("GET", "/admin/api/subscriptions"): None,
    ("GET", "/admin/api/content-gaps"): None,
    ("GET", "/admin/api/freshness"): None,
    ("GET", "/admin/api/export/x.csv"): None,
    ("GET", "/admin/api/operators"): None,
    ("POST", "/admin/api/operators"): {
        "username": "mallory",
        "password": "a long enough password",
        "roles": ["admin"],
    },
    ("PATCH", "/admin/api/operators/x"): {"active": False},
    ("GET", "/admin/api/audit"): None,
    ("POST", "/admin/api/clients"): {"name": "exfiltrate", "scope": "admin"},
    ("POST", "/admin/api/clients/x/revoke"): None,
}
# About the caller's own session.
SELF = {("GET", "/admin/api/auth/me"), ("POST", "/admin/api/auth/logout")}
STATE_CHANGING = {"POST", "PATCH", "PUT", "DELETE"}


def test_every_admin_route_is_classified() -> None:
    classified = set(SCOPED) | set(LISTS) | set(ADMIN_ONLY) | SELF | {LOGIN}
    assert set(ROUTES) == classified


@dataclass
class World:
    """Two cities' tickets and proposals, and a signed-in Rijeka operator."""

    client: TestClient
    store: ParticipationService
    csrf: dict[str, str]
    zagreb_ticket: str
    rijeka_ticket: str
    zagreb_proposal: str
    rijeka_proposal: str


@pytest.fixture
def world(closed_port: int, store: ParticipationService) -> Iterator[World]:
    settings = ChannelSettings(rasa_url=f"http://127.0.0.1:{closed_port}")
    zagreb = store.open_ticket(
        user_id="web:zagreb-user", language="hr", city="Zagreb", summary="Pomoć oko LIFE"
    )
    rijeka = store.open_ticket(
        user_id="web:rijeka-user", language="hr", city="Rijeka", summary="Pomoć oko CERV"
    )
    zagreb_p = store.submit_proposal(
        user_id="api:zagreb-author", language="hr", topic="parks", text="Klupe", city="Zagreb"
    )
    rijeka_p = store.submit_proposal(
        user_id="api:rijeka-author", language="hr", topic="parks", text="Staze", city="Rijeka"
    )
    make_operator(store, "root", ["admin"])
    make_operator(store, "ana", ["operator", "moderator"], cities=["Rijeka"])
    with app_for(settings, store) as client:
        csrf = sign_in(client, "ana")
        yield World(
            client,
            store,
            csrf,
            zagreb.reference,
            rijeka.reference,
            zagreb_p.reference,
            rijeka_p.reference,
        )


def _path(world: World, path: str) -> str:
    if path.startswith("/admin/api/proposals/x"):
        return path.replace("/x/", f"/{world.zagreb_proposal}/")
    if path.startswith(TICKET):
        return path.replace("/tickets/x", f"/tickets/{world.zagreb_ticket}")
    return path.replace("/x", "/root").replace("x.csv", "tickets.csv")


@pytest.mark.parametrize(("method", "path"), sorted(SCOPED))
def test_another_citys_conversation_or_proposal_is_forbidden(
    world: World, method: str, path: str
) -> None:
    response = world.client.request(
        method, _path(world, path), json=SCOPED[(method, path)], headers=world.csrf
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "out_of_scope"
    ticket = world.store.get_ticket(world.zagreb_ticket)
    assert (ticket.status, ticket.assignee, ticket.city) == ("open", None, "Zagreb")
    assert world.store.ticket_messages(world.zagreb_ticket) == []
    assert world.store.proposal_status(world.zagreb_proposal).status == "pending"  # type: ignore[union-attr]


@pytest.mark.parametrize(("method", "path"), sorted(LISTS))
def test_lists_show_only_the_callers_city(world: World, method: str, path: str) -> None:
    response = world.client.request(method, path)
    assert response.status_code == 200
    references = {item["reference"] for item in response.json()[LISTS[(method, path)]]}
    assert references & {world.rijeka_ticket, world.rijeka_proposal}
    assert not references & {world.zagreb_ticket, world.zagreb_proposal}


@pytest.mark.parametrize(("method", "path"), sorted(ADMIN_ONLY))
def test_admin_routes_are_forbidden_to_an_operator(world: World, method: str, path: str) -> None:
    response = world.client.request(
        method, _path(world, path), json=ADMIN_ONLY[(method, path)], headers=world.csrf
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "role_required"
    assert [o.username for o in world.store.list_operators()] == ["ana", "root"]


def test_the_same_routes_work_for_the_own_city(world: World) -> None:
    reference = world.rijeka_ticket
    assert world.client.get(f"/admin/api/tickets/{reference}").status_code == 200
    claimed = world.client.post(f"/admin/api/tickets/{reference}/claim", headers=world.csrf)
    assert claimed.json()["assignee"] == "ana"
    reply = world.client.post(
        f"/admin/api/tickets/{reference}/reply", json={"text": "Dobar dan"}, headers=world.csrf
    )
    assert reply.status_code == 200, reply.text
    closed = world.client.post(
        f"/admin/api/tickets/{reference}/close", json={"outcome": "answered"}, headers=world.csrf
    )
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "answered")
    moderated = world.client.post(
        f"/admin/api/proposals/{world.rijeka_proposal}/moderation",
        json={"status": "published"},
        headers=world.csrf,
    )
    assert moderated.status_code == 200


CHANGES = sorted((method, path) for method, path in PROTECTED if method in STATE_CHANGING)


@pytest.fixture
def admin_world(world: World) -> World:
    world.client.cookies.clear()
    world.csrf = sign_in(world.client, "root")
    return world


@pytest.mark.parametrize("token", [None, "wrong-csrf-token"], ids=["missing", "wrong"])
@pytest.mark.parametrize(("method", "path"), CHANGES)
def test_every_change_needs_the_csrf_token(
    admin_world: World, method: str, path: str, token: str | None
) -> None:
    body = {**SCOPED, **ADMIN_ONLY}.get((method, path))
    headers = {"X-CSRF-Token": token} if token else {}
    response = admin_world.client.request(
        method, _path(admin_world, path), json=body, headers=headers
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "csrf_failed"
    assert admin_world.store.get_ticket(admin_world.zagreb_ticket).status == "open"
    assert admin_world.client.get("/admin/api/auth/me").status_code == 200, "still signed in"
