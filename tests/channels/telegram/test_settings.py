"""The Telegram settings refuse what would fail or be unsafe later, at start-up."""

import pytest
from pydantic import ValidationError

from channels.settings import ChannelSettings
from tests.channels.telegram.botapi_peer import TOKEN
from tests.channels.telegram.gateway import SECRET


def test_telegram_is_off_without_a_token() -> None:
    settings = ChannelSettings(telegram_mode="webhook", telegram_webhook_secret=SECRET)
    assert not settings.telegram_webhook_enabled


def test_webhook_mode_needs_a_secret() -> None:
    with pytest.raises(ValidationError, match="APP_TELEGRAM_WEBHOOK_SECRET"):
        ChannelSettings(telegram_token=TOKEN, telegram_mode="webhook")


@pytest.mark.parametrize("secret", ["short", "has spaces in the secret!", "x" * 257])
def test_weak_or_invalid_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="16-256"):
        ChannelSettings(telegram_token=TOKEN, telegram_webhook_secret=secret)


@pytest.mark.parametrize("token", ["changeme", "123:short", "your-token-here"])
def test_placeholder_tokens_are_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="BotFather"):
        ChannelSettings(telegram_token=token)


def test_settings_come_from_app_telegram_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("APP_TELEGRAM_MODE", "webhook")
    monkeypatch.setenv("APP_TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("APP_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram/webhook")
    settings = ChannelSettings()
    assert settings.telegram_webhook_enabled
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and SECRET not in repr(settings)
