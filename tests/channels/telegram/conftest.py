from collections.abc import Iterator

import pytest

from participation.service import ParticipationService
from tests.channels.telegram.botapi_peer import BotApiPeer
from tests.channels.telegram.gateway import Gateway, run_gateway
from tests.channels.telegram.rasa_peer import RasaPeer


@pytest.fixture
def botapi() -> Iterator[BotApiPeer]:
    with BotApiPeer() as peer:
        yield peer


@pytest.fixture
def rasa() -> Iterator[RasaPeer]:
    with RasaPeer() as peer:
        yield peer


@pytest.fixture
def gateway(botapi: BotApiPeer, rasa: RasaPeer, store: ParticipationService) -> Iterator[Gateway]:
    """The app in webhook mode; its webhook is registered with the peer once started."""
    with run_gateway(botapi, rasa.url, participation=store) as running:
        botapi.wait_for("setWebhook")
        yield running
