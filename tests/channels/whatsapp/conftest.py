"""Fixtures: the Graph API peer, a Rasa REST peer and the gateway, all over real HTTP."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from channels.app import create_app
from channels.settings import ChannelSettings
from tests.channels.whatsapp.peers import (
    API_VERSION,
    PHONE_NUMBER_ID,
    TEST_APP_SECRET,
    TEST_TOKEN,
    TEST_VERIFY_TOKEN,
    GraphApiPeer,
    RasaRestPeer,
    ServerThread,
)


def whatsapp_settings(rasa_url: str, graph_url: str, **overrides: Any) -> ChannelSettings:
    values: dict[str, Any] = {
        "rasa_url": rasa_url,
        "rasa_timeout_seconds": 5,
        "whatsapp_access_token": TEST_TOKEN,
        "whatsapp_app_secret": TEST_APP_SECRET,
        "whatsapp_verify_token": TEST_VERIFY_TOKEN,
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_graph_url": graph_url,
        "whatsapp_api_version": API_VERSION,
    }
    values.update(overrides)
    return ChannelSettings(**values)


@pytest.fixture(scope="session")
def graph_server() -> Iterator[tuple[GraphApiPeer, str]]:
    peer = GraphApiPeer()
    with ServerThread(peer.app) as server:
        yield peer, server.url


@pytest.fixture
def graph(graph_server: tuple[GraphApiPeer, str]) -> GraphApiPeer:
    """The Graph API peer; each test uses its own wa_ids, so sharing it is safe."""
    return graph_server[0]


@pytest.fixture(scope="session")
def rasa_server() -> Iterator[tuple[RasaRestPeer, str]]:
    peer = RasaRestPeer()
    with ServerThread(peer.app) as server:
        yield peer, server.url


@pytest.fixture
def rasa(rasa_server: tuple[RasaRestPeer, str]) -> RasaRestPeer:
    return rasa_server[0]


@pytest.fixture(scope="session")
def gateway(
    graph_server: tuple[GraphApiPeer, str], rasa_server: tuple[RasaRestPeer, str]
) -> Iterator[httpx.Client]:
    """The gateway under uvicorn with WhatsApp configured, Rasa and Graph as peers."""
    settings = whatsapp_settings(rasa_server[1], graph_server[1])
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        yield client
