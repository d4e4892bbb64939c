"""Every admin route of the app's route table refuses a missing or wrong token.

tests/channels/test_admin_api.py checks each admin route of the OpenAPI schema
(missing, wrong, scheme-less and Basic credentials, and the disabled admin API) in
process. This adds what it cannot see: the route table itself (routes hidden from the
schema included), walked through FastAPI's included routers, against the real gateway
process started as in production, with a machine client token of the admin scope. The
only admin routes open without credentials are the dashboard page, whose data comes
from the API, and the sign-in route.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import APIRoute

from channels.app import create_app
from channels.settings import ChannelSettings
from tests.channels.test_admin_api import ROUTES as SCHEMA_ROUTES

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

PUBLIC_PAGES = {("GET", "/admin")}
SIGN_IN = ("POST", "/admin/api/auth/login")
OPEN_ROUTES = PUBLIC_PAGES | {SIGN_IN}


def walk(routes: list, prefix: str = "") -> Iterator[tuple[str, APIRoute]]:  # type: ignore[type-arg]
    """(full path, route) of every APIRoute, through included routers at any depth.

    FastAPI's _IncludedRouter keeps the original router: a router's routes carry its own
    prefix, but one included into another router lacks the outer router's prefix.
    """
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        router = getattr(route, "original_router", None)
        if router is not None:
            for item in router.routes:
                if isinstance(item, APIRoute):
                    yield prefix + item.path, item
                elif getattr(item, "original_router", None) is not None:
                    yield from walk([item], prefix + router.prefix)


def admin_routes() -> list[tuple[str, str]]:
    app = create_app(ChannelSettings())
    return sorted(
        (method, re.sub(r"\{[^}]+\}", "x", path))
        for path, route in walk(app.routes)
        if path.startswith("/admin")
        for method in route.methods
    )


ROUTES = admin_routes()


def test_the_route_table_has_no_admin_route_the_schema_hides() -> None:
    assert set(ROUTES) - PUBLIC_PAGES == set(SCHEMA_ROUTES)
    assert SIGN_IN in ROUTES
    assert len(ROUTES) >= 9


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in OPEN_ROUTES])
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-of-the-right-length-000000", "LONGER", "Bearer"],
    ids=["missing", "wrong", "longer", "scheme-only"],
)
def test_every_admin_route_refuses_without_the_right_token(
    api: httpx.Client, admin_token: str, method: str, path: str, authorization: str | None
) -> None:
    if authorization == "LONGER":  # the real client token with one character more
        authorization = f"Bearer {admin_token}x"
    headers = {"Authorization": authorization} if authorization else {}
    response = api.request(method, path, headers=headers, json={})
    assert response.status_code in (401, 403), (method, path, response.status_code)
    assert response.json()["error"]["code"] == "admin_unauthorized"


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC_PAGES))
def test_the_dashboard_page_is_served_without_the_token(
    api: httpx.Client, method: str, path: str
) -> None:
    page = api.request(method, path)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
