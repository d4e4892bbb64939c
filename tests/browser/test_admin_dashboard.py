"""The admin dashboard in real Chromium: sign in with an account, see a chart and tables.

Needs no Rasa: the gateway runs in-process (uvicorn in a thread) on a seeded SQLite
participation store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from channels.app import create_app
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.browser.conftest import NewContext, audit, watch
from tests.channels.operator_accounts import PASSWORD, cheap_password_hashing, make_operator
from tests.channels.telegram.loopback import serve_app

pytestmark = [pytest.mark.browser]

ADMIN = "dashboard-admin"
__all__ = ["cheap_password_hashing"]  # autouse fixture: Argon2 at its lowest cost


@pytest.fixture
def dashboard_url(tmp_path: Path, browser_tools: None) -> Iterator[str]:
    settings = ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'participation.db'}",
        tracker_database_url=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    store = ParticipationService(settings, clock=lambda: dt.datetime.now(dt.UTC))
    for language, text, answered in [
        ("hr", "Što je CERV?", True),
        ("hr", "Kada je rok za LIFE?", True),
        ("de", "Wer darf bei URBACT mitmachen?", True),
        ("en", "Can my cat apply for funding?", False),
    ]:
        store.record_question(
            user_id="api:web-dash0001", language=language, text=text, answered=answered
        )
    store.submit_proposal(
        user_id="api:web-dash0001",
        language="en",
        topic="parks",
        text="More shade trees in the main square",
        city="Rijeka",
    )
    make_operator(store, ADMIN, ["admin"], cities=["*"])
    app = create_app(
        ChannelSettings(reminders_enabled=False),
        participation=store,
        participation_settings=settings,
    )
    with serve_app(app) as url:
        yield f"{url}/admin"


def test_the_admin_signs_in_and_sees_a_chart_and_tables(
    dashboard_url: str, new_context: NewContext, page_errors: list[str]
) -> None:
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        page.goto(dashboard_url)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        assert audit(page) == []

        page.get_by_label("User name").fill(ADMIN)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("status")).to_contain_text("Not signed in")
        expect(page.locator("#dashboard")).to_be_hidden()

        page.get_by_label("User name").fill(ADMIN)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        chart = page.locator("#chart-days svg[role=img]")
        expect(chart).to_be_visible()
        assert chart.locator("rect.bar").count() >= 2  # answered and unanswered today
        assert "4 in total, 1 unanswered" in (chart.get_attribute("aria-label") or "")
        expect(page.locator("#chart-languages svg rect.bar")).to_have_count(3)
        proposals = page.locator("#proposals table")
        expect(proposals).to_contain_text("More shade trees in the main square")
        expect(page.locator("#unanswered table")).to_contain_text("Can my cat apply for funding?")
        # The shipped records as of today: what has aged is listed with its file and line.
        expect(page.locator("#freshness-summary")).to_contain_text("more than 180 days")
        expect(page.locator("#freshness-section")).to_be_visible()
        cookies = context.cookies()
        assert [c["httpOnly"] for c in cookies] == [True], "one session cookie, not for scripts"
        assert page.evaluate("sessionStorage.length + localStorage.length") == 0
        assert audit(page) == []

        page.get_by_role("button", name="Publish FP").first.click()
        expect(page.get_by_role("status")).to_contain_text("published")
        expect(page.locator("#proposals")).to_contain_text("Nothing to show.")

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.reload()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("#dashboard")).to_be_hidden()
    assert page_errors == []
