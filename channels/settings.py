"""Settings of the FastAPI gateway, read from `APP_*` environment variables."""

from functools import lru_cache

from pydantic import AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChannelSettings(BaseSettings):
    """Where Rasa is, and the limits the gateway enforces on every channel."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    rasa_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:5005")
    rasa_timeout_seconds: float = Field(default=30.0, gt=0)
    # Longest accepted chat message, in characters (Telegram's own limit is 4096).
    max_message_chars: int = Field(default=4000, gt=0)
    max_sender_chars: int = Field(default=128, gt=0)
    # Sent as Retry-After when a dependency (Rasa) is down.
    retry_after_seconds: int = Field(default=10, gt=0)
    default_language: str = "en"


@lru_cache(maxsize=1)
def get_settings() -> ChannelSettings:
    """Return the process-wide settings, read once from the environment."""
    return ChannelSettings()
