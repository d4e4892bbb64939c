"""The real gateway app in webhook mode, wired to a Bot API peer and a Rasa URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from channels.app import create_app
from channels.settings import ChannelSettings
from participation.service import ParticipationService
from stack import free_port
from tests.channels.telegram.botapi_peer import TOKEN, BotApiPeer
from tests.channels.telegram.loopback import serve_app

SECRET = "s3cret-Webhook_token-for-tests"
WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class Gateway:
    url: str
    settings: ChannelSettings

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}"


def webhook_settings(
    botapi: BotApiPeer, rasa_url: str, port: int, **overrides: Any
) -> ChannelSettings:
    values: dict[str, Any] = {
        "rasa_url": rasa_url,
        "rasa_timeout_seconds": 5,
        "telegram_token": TOKEN,
        "telegram_mode": "webhook",
        "telegram_webhook_secret": SECRET,
        "telegram_webhook_url": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        "telegram_base_url": botapi.base_url,
        "telegram_startup_retry_seconds": 0.3,
    }
    values.update(overrides)
    return ChannelSettings(**values)


@contextmanager
def run_gateway(
    botapi: BotApiPeer,
    rasa_url: str,
    *,
    participation: ParticipationService | None = None,
    **overrides: Any,
) -> Iterator[Gateway]:
    """Serve create_app(settings) over HTTP; the bot registers its webhook on start."""
    port = free_port()
    settings = webhook_settings(botapi, rasa_url, port, **overrides)
    app = create_app(
        settings,
        participation=participation,
        participation_settings=participation.settings if participation else None,
    )
    with serve_app(app, port) as url:
        yield Gateway(url=url, settings=settings)
