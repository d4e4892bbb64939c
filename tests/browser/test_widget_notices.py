"""Deadline reminders waiting for a web user, shown once by the widget in real Chromium.

The gateway, its SQLite store and the widget are real; Rasa is the HTTP stand-in (no
message is sent). The reminder is created through `ParticipationService`, as the chat's
subscribe action creates it, for the conversation id the widget keeps.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from channels.app import create_app
from channels.reminders import notice_text, unsubscribe_url
from channels.settings import ChannelSettings
from knowledge.base import KnowledgeBase
from knowledge.schema import Event
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.browser.conftest import NewContext, audit, watch
from tests.browser.test_widget_participation import sender, ui_text
from tests.channels.conftest import TRACKER_DDL
from tests.channels.participation_kb import HERE, SOURCES
from tests.channels.telegram.loopback import serve_app
from tests.channels.telegram.rasa_peer import RasaPeer

pytestmark = [pytest.mark.browser]

# Markup in a record's title must reach the user as text, never as elements.
TITLE_HR = 'Građanska skupština <img src="x" onerror="window.__hacked = 1">'


@dataclass
class Gateway:
    url: str
    store: ParticipationService
    settings: ParticipationSettings
    kb: KnowledgeBase


def assembly_tomorrow() -> KnowledgeBase:
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    kb = KnowledgeBase()
    record = Event(
        id="rijeka-assembly",
        sources=SOURCES,
        last_verified=dt.date(2026, 1, 15),
        kind="event",
        title={"en": "Citizens' assembly <b>Rijeka</b>", "hr": TITLE_HR},
        summary={"en": "A citizens' assembly.", "hr": "Građanska skupština."},
        city="Rijeka",
        start_date=tomorrow,
        url="https://example.eu/events/rijeka-assembly",
    )
    kb.add(record, HERE)
    return kb


@pytest.fixture
def gateway(tmp_path: Path, browser_tools: None) -> Iterator[Gateway]:
    tracker_db = tmp_path / "tracker.db"
    with sqlite3.connect(tracker_db) as connection:
        connection.execute(TRACKER_DDL)
    settings = ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'participation.db'}",
        tracker_database_url=f"sqlite:///{tracker_db}",
        reminder_hour_utc=0,  # the 1-day reminder of tomorrow's event is due all day today
    )
    kb = assembly_tomorrow()
    store = ParticipationService(settings, kb=kb)
    with RasaPeer() as rasa:
        app = create_app(
            ChannelSettings(rasa_url=rasa.url, reminders_enabled=False),
            participation=store,
            participation_settings=settings,
        )
        with serve_app(app) as url:
            yield Gateway(url, store, settings, kb)


def subscribe_two_days_ago(gateway: Gateway, user: str) -> None:
    """Subscribe as the chat would have two days ago: today's reminder is planned then."""
    earlier = ParticipationService(
        gateway.settings,
        kb=gateway.kb,
        clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
    )
    earlier.subscribe(user_id=user, language="hr", kind="events_city", target="Rijeka")
    earlier.close()


def notices_in_log(page: Page) -> int:
    count: int = page.locator(".ca-log .ca-notice").count()
    return count


def test_a_waiting_reminder_is_shown_once_as_text_and_announced(
    gateway: Gateway, new_context: NewContext, page_errors: list[str]
) -> None:
    with new_context(locale="hr-HR") as context:
        page = watch(context.new_page(), page_errors)
        page.goto(f"{gateway.url}/demo")
        page.locator(".ca-launcher").click()  # opening keeps the conversation id
        expect(page.locator(".ca-input")).to_be_focused()
        user = f"api:{sender(page)}"
        subscribe_two_days_ago(gateway, user)
        [reminder] = gateway.store.pending_notices(user)
        link = unsubscribe_url(gateway.settings, reminder.unsubscribe_token, "hr")
        expected = notice_text(reminder, "hr", link)
        assert TITLE_HR in expected

        page.reload()
        notice = page.locator(".ca-log .ca-notice")
        expect(notice).to_have_count(1)
        expect(notice.locator(".ca-text")).to_have_text(expected)
        expect(notice.locator(".ca-bubble")).to_have_attribute("lang", "hr")
        expect(notice.locator("img")).to_have_count(0)
        expect(
            notice.get_by_role("link", name=ui_text("hr", "notice.unsubscribe"))
        ).to_have_attribute("href", link)
        live = page.locator("[aria-live=polite]")
        expect(live).to_have_text(f"{ui_text('hr', 'notice.label')} {expected}")
        assert page.evaluate("window.__hacked === undefined")
        # Acknowledged: the server hands it out no more.
        expect_acknowledged(gateway, user)
        assert audit(page) == []

        page.reload()  # from the conversation's history, not a second time from the server
        expect(page.locator(".ca-log .ca-message")).to_have_count(1)
        assert notices_in_log(page) == 1
    assert page_errors == []


def expect_acknowledged(gateway: Gateway, user: str) -> None:
    deadline = time.monotonic() + 10
    while gateway.store.pending_notices(user):
        assert time.monotonic() < deadline, "the widget did not acknowledge the notice"
        time.sleep(0.05)
    [row] = gateway.store.export_user(user)["reminders"]
    assert row["status"] == "sent"
