"""The admin API: sign-in on every route, moderation, reports and CSV exports."""

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.i18n import translate
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from tests.channels.operator_accounts import (  # noqa: F401 (an autouse fixture)
    cheap_password_hashing,
    make_operator,
    sign_in,
)

LOGIN = ("POST", "/admin/api/auth/login")


def admin_routes() -> list[tuple[str, str]]:
    """(method, path) of every admin API route of the app (from its OpenAPI schema)."""
    app = create_app(ChannelSettings())
    found = [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/admin/")
        for method in operations
    ]
    assert len(found) >= 8, found
    assert LOGIN in found
    return found


ROUTES = admin_routes()
# Every admin API route but the sign-in itself needs a session or a client token.
PROTECTED = [route for route in ROUTES if route != LOGIN]


@pytest.fixture
def admin(client_without_rasa: TestClient, store: ParticipationService) -> dict[str, str]:
    """Sign the test client in as an admin; returns the CSRF header to send."""
    make_operator(store, "root", ["admin"])
    return sign_in(client_without_rasa, "root")


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    ("headers", "cookies"),
    [
        ({}, {}),
        ({"Authorization": "Bearer wrong-token"}, {}),
        ({"Authorization": "wrong-token"}, {}),
        ({"Authorization": "Basic cm9vdDpwYXNzd29yZA=="}, {}),
        ({}, {"civic_operator_session": "forged-session-value"}),
    ],
    ids=["missing", "wrong-bearer", "no-scheme", "basic", "forged-cookie"],
)
def test_every_admin_route_needs_a_sign_in(
    client_without_rasa: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    cookies: dict[str, str],
) -> None:
    client_without_rasa.cookies.clear()
    for name, value in cookies.items():
        client_without_rasa.cookies.set(name, value, path="/admin")
    response = client_without_rasa.request(
        method, path, headers={**headers, "Accept-Language": "hr"}, content=b"{not json"
    )
    assert response.status_code == 401, (method, path, response.text)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "admin_unauthorized"


def test_the_dashboard_page_is_served(client_without_rasa: TestClient) -> None:
    page = client_without_rasa.get("/admin")
    assert page.status_code == 200
    assert "/static/admin/admin.js" in page.text and "password" in page.text.lower()


def submit(store: ParticipationService, text: str) -> str:
    receipt = store.submit_proposal(
        user_id="api:web-author01", language="hr", topic="parks", text=text, city="Rijeka"
    )
    return receipt.reference


def test_proposals_are_listed_and_moderated(
    client_without_rasa: TestClient, store: ParticipationService, admin: dict[str, str]
) -> None:
    first, second = submit(store, "More benches in the park"), submit(store, "A new bike lane")
    listed = client_without_rasa.get("/admin/api/proposals?status=pending", headers=admin)
    assert {p["reference"] for p in listed.json()["proposals"]} == {first, second}
    published = client_without_rasa.post(
        f"/admin/api/proposals/{first}/moderation", json={"status": "published"}, headers=admin
    )
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    rejected = client_without_rasa.post(
        f"/admin/api/proposals/{second}/moderation",
        json={"status": "rejected", "reason": "Already planned"},
        headers=admin,
    )
    assert (rejected.json()["status"], rejected.json()["reason"]) == ("rejected", "Already planned")
    pending = client_without_rasa.get("/admin/api/proposals?status=pending", headers=admin)
    assert pending.json()["proposals"] == []


def test_moderation_errors_are_explained(
    client_without_rasa: TestClient, store: ParticipationService, admin: dict[str, str]
) -> None:
    reference = submit(store, "Longer library hours")
    no_reason = client_without_rasa.post(
        f"/admin/api/proposals/{reference}/moderation", json={"status": "rejected"}, headers=admin
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["message"] == translate("error.reason_required", "en")
    bad_status = client_without_rasa.post(
        f"/admin/api/proposals/{reference}/moderation", json={"status": "maybe"}, headers=admin
    )
    assert bad_status.json()["error"]["code"] == "status_invalid"
    unknown = client_without_rasa.post(
        "/admin/api/proposals/FP-0000-99999/moderation", json={"status": "published"}, headers=admin
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "proposal_not_found"
    listing = client_without_rasa.get("/admin/api/proposals?status=lost", headers=admin)
    assert listing.status_code == 422
    assert store.proposal_status(reference).status == "pending"  # type: ignore[union-attr]


def test_tickets_are_listed_and_closed(
    client_without_rasa: TestClient, store: ParticipationService, admin: dict[str, str]
) -> None:
    receipt = store.open_ticket(user_id="telegram:42", language="en", summary="Need help with LIFE")
    opened = client_without_rasa.get("/admin/api/tickets?status=open", headers=admin).json()
    assert [t["reference"] for t in opened["tickets"]] == [receipt.reference]
    closed = client_without_rasa.post(
        f"/admin/api/tickets/{receipt.reference}/close", headers=admin
    )
    assert closed.json()["status"] == "closed"
    assert client_without_rasa.get("/admin/api/tickets?status=open", headers=admin).json() == {
        "tickets": []
    }
    missing = client_without_rasa.post("/admin/api/tickets/HT-0000-00000/close", headers=admin)
    assert missing.status_code == 404


def test_reports_count_questions_subscriptions_and_gaps(
    client_without_rasa: TestClient, store: ParticipationService, admin: dict[str, str]
) -> None:
    for language, text, answered in [
        ("hr", "Što je CERV?", True),
        ("hr", "xyzzy", False),
        ("de", "Hallo", True),
    ]:
        store.record_question(
            user_id="api:web-stats001",
            language=language,
            text=text,
            answered=answered,
            record_ids=["cerv"],
        )
    turn = store.record_question(
        user_id="api:web-stats001",
        language="en",
        text="What is CERV?",
        answered=True,
        record_ids=["cerv"],
    )
    store.record_feedback(user_id="api:web-stats001", turn_id=turn, rating=-1)
    store.subscribe(user_id="telegram:7", language="en", kind="events_city", target="Rijeka")
    stats = client_without_rasa.get("/admin/api/stats?days=7", headers=admin).json()
    per_language = {
        d["language"]: (d["questions"], d["unanswered"]) for d in stats["questions_per_day"]
    }
    assert per_language == {"hr": (2, 1), "de": (1, 0), "en": (1, 0)}
    assert (stats["subscriptions"], stats["feedback_down"]) == (1, 1)
    count = client_without_rasa.get("/admin/api/subscriptions", headers=admin).json()
    assert count == {"count": 1, "by_kind": {"events_city": 1}}
    gaps = client_without_rasa.get("/admin/api/content-gaps?language=hr", headers=admin).json()
    assert [u["text"] for u in gaps["unanswered"]] == ["xyzzy"]
    low = client_without_rasa.get("/admin/api/content-gaps?language=en", headers=admin).json()
    assert [(r["record_id"], r["score"]) for r in low["low_rated"]] == [("cerv", -1)]


@pytest.mark.parametrize(
    "table", ["proposals", "tickets", "subscriptions", "questions", "feedback"]
)
def test_every_table_exports_as_csv(
    client_without_rasa: TestClient, store: ParticipationService, table: str, admin: dict[str, str]
) -> None:
    store.record_question(
        user_id="api:web-csv00001", language="en", text="=HYPERLINK(1)", answered=False
    )
    response = client_without_rasa.get(f"/admin/api/export/{table}.csv", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{table}.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0], "a header row"
    if table == "questions":
        assert any("'=HYPERLINK(1)" in row for row in rows[1:]), "formulas are neutralised"


def test_unknown_table_is_a_clear_404(
    client_without_rasa: TestClient, admin: dict[str, str]
) -> None:
    response = client_without_rasa.get("/admin/api/export/secrets.csv", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_table"


def test_every_element_the_dashboard_script_uses_is_on_the_page() -> None:
    static = Path(__file__).resolve().parents[2] / "channels" / "static" / "admin"
    script = (static / "admin.js").read_text("utf-8")
    page = (static / "index.html").read_text("utf-8")
    used = set(re.findall(r'\$\("([a-z0-9-]+)"\)', script)) | set(
        re.findall(r'\["([a-z]+-section)"', script)
    )
    declared = set(re.findall(r'id="([a-z0-9-]+)"', page))
    assert used and not used - declared, sorted(used - declared)
    assert "Authorization" not in script and "sessionStorage" not in script
    assert '"X-CSRF-Token"' in script and 'credentials: "same-origin"' in script
