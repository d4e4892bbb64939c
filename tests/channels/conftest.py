from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.settings import ChannelSettings
from stack import free_port


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening: a Rasa server that is down."""
    return free_port()


@pytest.fixture
def client_without_rasa(closed_port: int) -> Iterator[TestClient]:
    settings = ChannelSettings(rasa_url=f"http://127.0.0.1:{closed_port}", rasa_timeout_seconds=2)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
