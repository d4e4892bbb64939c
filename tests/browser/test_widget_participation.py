"""The widget's thumbs and "delete my data" in real Chromium, against the real gateway.

Rasa is the HTTP stand-in of the channel tests (the participation features need no
trained model); the gateway, its SQLite participation store and the widget are real.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from channels.app import create_app
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.browser.conftest import NewContext, audit, watch
from tests.channels.conftest import TRACKER_DDL
from tests.channels.telegram.loopback import serve_app
from tests.channels.telegram.rasa_peer import RasaPeer

pytestmark = [pytest.mark.browser]

I18N_DIR = Path(__file__).resolve().parents[2] / "channels" / "static" / "widget" / "i18n"


def ui_text(language: str, key: str) -> str:
    texts: dict[str, str] = json.loads((I18N_DIR / f"{language}.json").read_text("utf-8"))
    return texts[key]


@dataclass
class Gateway:
    url: str
    store: ParticipationService
    tracker_db: Path


@pytest.fixture
def gateway(tmp_path: Path, browser_tools: None) -> Iterator[Gateway]:
    tracker_db = tmp_path / "tracker.db"
    with sqlite3.connect(tracker_db) as connection:
        connection.execute(TRACKER_DDL)
    settings = ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'participation.db'}",
        tracker_database_url=f"sqlite:///{tracker_db}",
    )
    store = ParticipationService(settings, clock=lambda: dt.datetime.now(dt.UTC))
    with RasaPeer() as rasa:
        rasa.script(
            "What is CERV?",
            {"text": "CERV funds civil society and town twinning."},
            {"custom": {"turn": {"records": ["cerv"], "answered": True}}},
        )
        app = create_app(
            ChannelSettings(rasa_url=rasa.url, reminders_enabled=False),
            participation=store,
            participation_settings=settings,
        )
        with serve_app(app) as url:
            yield Gateway(url, store, tracker_db)


def sender(page: Page) -> str:
    value: str = page.evaluate(
        """() => {
            const key = Object.keys(localStorage).find((k) => k.startsWith("civic-assistant:"));
            return JSON.parse(localStorage.getItem(key)).sender;
        }"""
    )
    return value


def test_thumbs_rate_an_answer_and_delete_erases_the_server_copy(
    gateway: Gateway, new_context: NewContext, page_errors: list[str]
) -> None:
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        page.goto(f"{gateway.url}/demo")
        page.locator(".ca-launcher").click()
        page.locator(".ca-input").fill("What is CERV?")
        page.locator(".ca-input").press("Enter")
        answer = page.locator(".ca-log .ca-from-bot").last
        expect(answer).to_contain_text("CERV funds civil society")
        group = answer.get_by_role("group", name=ui_text("en", "feedback.label"))
        expect(group.get_by_role("button")).to_have_count(2)
        assert audit(page) == []

        group.get_by_role("button", name=ui_text("en", "feedback.up"), exact=True).click()
        expect(page.locator("[aria-live=polite]")).to_have_text(ui_text("en", "feedback.thanks"))
        expect(
            group.get_by_role("button", name=ui_text("en", "feedback.up"), exact=True)
        ).to_have_attribute("aria-pressed", "true")
        user = f"api:{sender(page)}"
        [vote] = gateway.store.export_user(user)["feedback"]
        assert vote["rating"] == 1
        assert audit(page) == []

        page.reload()  # the vote is remembered with the conversation
        up = page.locator(".ca-log .ca-feedback-up")
        expect(up).to_have_attribute("aria-pressed", "true")

        page.locator(".ca-clear").click()
        expect(page.locator(".ca-log .ca-message")).to_have_count(0)
        expect(page.locator("[aria-live=polite]")).to_have_text(ui_text("en", "cleared"))
        data = gateway.store.export_user(user)
        assert data["questions"] == [] and data["feedback"] == []
    assert page_errors == []
