import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.events import EventCatalogue, EventSource
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from participation.settings import get_settings as get_participation_settings
from stack import free_port
from tests.channels.participation_kb import NOW, sample_events, sample_kb

ADMIN_TOKEN = "admin-token-for-the-channel-tests-0123456789"
# Rasa 3.x SQLTrackerStore's table, as Rasa creates it.
TRACKER_DDL = """CREATE TABLE events (
    id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


@pytest.fixture(scope="session", autouse=True)
def _isolated_participation_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps built without an explicit store must never write to the repository's var/."""
    folder = tmp_path_factory.mktemp("participation-default")
    values = {
        "PARTICIPATION_DATABASE_URL": f"sqlite:///{folder / 'participation.db'}",
        "PARTICIPATION_TRACKER_DATABASE_URL": f"sqlite:///{folder / 'tracker.db'}",
        # Tests that deliver reminders turn the scheduler on explicitly.
        "APP_REMINDERS_ENABLED": "false",
    }
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    get_participation_settings.cache_clear()
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_participation_settings.cache_clear()


class Clock:
    """A settable clock for the participation store."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker_db(tmp_path: Path) -> Path:
    path = tmp_path / "rasa-tracker.db"
    with sqlite3.connect(path) as connection:
        connection.execute(TRACKER_DDL)
    return path


@pytest.fixture
def participation_settings(tmp_path: Path, tracker_db: Path) -> ParticipationSettings:
    return ParticipationSettings(
        database_url=f"sqlite:///{tmp_path / 'participation.db'}",
        tracker_database_url=f"sqlite:///{tracker_db}",
        public_base_url="https://assistant.example.eu",
    )


@pytest.fixture
def store(participation_settings: ParticipationSettings, clock: Clock) -> ParticipationService:
    return ParticipationService(participation_settings, kb=sample_kb(), clock=clock)


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening: a Rasa server that is down."""
    return free_port()


class StaticEvents(EventSource):
    """The sample events instead of the knowledge base's."""

    def __init__(self) -> None:
        super().__init__()
        self._catalogue = EventCatalogue.from_events(sample_events())


def app_for(
    settings: ChannelSettings,
    store: ParticipationService,
) -> TestClient:
    app = create_app(
        settings,
        participation=store,
        participation_settings=store.settings,
        events=StaticEvents(),
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client_without_rasa(closed_port: int, store: ParticipationService) -> Iterator[TestClient]:
    settings = ChannelSettings(
        rasa_url=f"http://127.0.0.1:{closed_port}",
        rasa_timeout_seconds=2,
        admin_token=ADMIN_TOKEN,
    )
    with app_for(settings, store) as client:
        yield client
