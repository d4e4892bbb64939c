"""Deadline reminders pushed by the running bot: exactly once, even across a restart."""

import datetime as dt
import time
from pathlib import Path

from channels.i18n import translate as translate_shared
from channels.reminders import long_date
from channels.telegram.i18n import translate
from knowledge.base import KnowledgeBase
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.channels.participation_kb import HERE, event
from tests.channels.telegram.botapi_peer import BotApiPeer
from tests.channels.telegram.gateway import run_gateway
from tests.channels.telegram.rasa_peer import RasaPeer

CHAT = 707


def store_kb(store: ParticipationService) -> KnowledgeBase:
    """The knowledge base a store was built with (the restarted gateway loads the same)."""
    return store._kb()


def real_time_store(tmp_path: Path, tracker_db: Path) -> tuple[ParticipationService, str]:
    """A store on the real clock with an event tomorrow and a Telegram subscriber.

    Reminders fall due at midnight UTC here, so the 1-day reminder of tomorrow's
    event is due whatever the time of day the test runs.
    """
    today = dt.datetime.now(dt.UTC).date()
    kb = KnowledgeBase()
    kb.add(event("rijeka-forum", "Rijeka", today + dt.timedelta(days=1)), HERE)
    settings = ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'participation.db'}",
        tracker_database_url=f"sqlite:///{tracker_db}",
        public_base_url="https://assistant.example.eu",
        reminder_hour_utc=0,
    )
    earlier = ParticipationService(
        settings, kb=kb, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    )
    receipt = earlier.subscribe(
        user_id=f"telegram:{CHAT}", language="hr", kind="events_city", target="Rijeka"
    )
    earlier.close()
    return ParticipationService(settings, kb=kb), receipt.token


def test_a_due_reminder_is_pushed_once_across_a_restart(
    botapi: BotApiPeer, rasa: RasaPeer, tmp_path: Path, tracker_db: Path
) -> None:
    store, token = real_time_store(tmp_path, tracker_db)
    botapi.know_chat(CHAT)
    fast = {"reminders_enabled": True, "reminder_interval_seconds": 0.2}
    with run_gateway(botapi, rasa.url, participation=store, **fast):
        [text] = botapi.wait_texts(CHAT, 1)
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    link = f"https://assistant.example.eu/unsubscribe/{token}?lang=hr"
    notice = translate_shared(
        "reminder.notice.event.tomorrow",
        "hr",
        title="Događanje rijeka-forum",
        deadline=long_date(tomorrow, "hr"),
    )
    assert text == "\n\n".join(
        [
            translate("reminder.push", "hr", notice=notice),
            translate("reminder.details", "hr", url="https://example.eu/events/rijeka-forum"),
            translate("reminder.unsubscribe", "hr", unsubscribe=link),
        ]
    )
    # A restarted gateway (a new store object on the same database) runs the job again.
    restarted = ParticipationService(store.settings, kb=store_kb(store))
    with run_gateway(botapi, rasa.url, participation=restarted, **fast):
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(botapi.texts(CHAT)) == 1
    [row] = restarted.export_user(f"telegram:{CHAT}")["reminders"]
    assert row["status"] == "sent"


def test_without_the_bot_telegram_reminders_wait(
    botapi: BotApiPeer, rasa: RasaPeer, tmp_path: Path, tracker_db: Path
) -> None:
    store, _ = real_time_store(tmp_path, tracker_db)
    botapi.know_chat(CHAT)
    botapi.fail_next("getMe", code=401, description="Unauthorized")  # the bot cannot start
    fast = {"reminders_enabled": True, "reminder_interval_seconds": 0.2}
    with run_gateway(botapi, rasa.url, participation=store, **fast):
        time.sleep(1.0)
    assert botapi.texts(CHAT) == []
    [row] = store.export_user(f"telegram:{CHAT}")["reminders"]
    assert row["status"] == "pending"
