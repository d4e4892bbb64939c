"""Settings of the FastAPI gateway, read from `APP_*` environment variables."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
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
    # Forged payloads (channels/conversation.py): a message starting with "/" reaches Rasa
    # as an intent only if it is a button of one of the sender's last N replies; the
    # memory keeps that many senders (least recently active forgotten first).
    offered_payload_replies: int = Field(default=3, gt=0)
    offered_payload_senders: int = Field(default=10_000, gt=0)

    # --- Web widget (channels/widget.py, channels/static/widget) -------------------------
    # APP_CORS_ORIGINS: the city sites (scheme://host[:port], comma-separated) whose pages
    # may call the chat API from the browser, or "*" for any site. Cookies and other
    # credentials are never accepted cross-origin, so "*" exposes nothing private.
    cors_origins: str = Field(
        default="*", pattern=r"^\s*(\*|https?://[^\s,/]+(\s*,\s*https?://[^\s,/]+)*)\s*$"
    )

    @property
    def cors_origin_list(self) -> list[str]:
        """APP_CORS_ORIGINS as a list; `["*"]` means any origin."""
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    # --- end web widget ------------------------------------------------------------------

    # --- WhatsApp Cloud API channel (channels/whatsapp) --------------------------------
    # Enabled only when the token, app secret, verify token and phone number id are all
    # set (APP_WHATSAPP_*); secrets come from the environment, never from the repo.
    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = Field(default=None, pattern=r"^[0-9]+$")
    whatsapp_graph_url: AnyHttpUrl = AnyHttpUrl("https://graph.facebook.com")
    whatsapp_api_version: str = Field(default="v23.0", pattern=r"^v[0-9]+\.[0-9]+$")
    whatsapp_timeout_seconds: float = Field(default=10.0, gt=0)
    whatsapp_mark_read: bool = True
    # --- end WhatsApp --------------------------------------------------------------------

    # --- Telegram channel (channels/telegram) ------------------------------------------
    # Enabled only when APP_TELEGRAM_TOKEN (from BotFather) is set; tokens and secrets come
    # from the environment, never from the repo. Modes: "webhook" = this app receives
    # updates at POST /telegram/webhook; "polling" = run `python -m channels.telegram`
    # (local use); "off" = disabled even with a token.
    telegram_token: SecretStr | None = None
    telegram_mode: Literal["webhook", "polling", "off"] = "polling"
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; required in webhook mode.
    telegram_webhook_secret: SecretStr | None = None
    # Public HTTPS URL of POST /telegram/webhook; when set, the app calls setWebhook.
    telegram_webhook_url: AnyHttpUrl | None = None
    # Bot API base URL; the token is appended (or replaces `{token}`).
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot", pattern=r"^https?://\S+$"
    )
    telegram_concurrent_updates: int = Field(default=16, gt=0)
    # Pickle file that keeps per-chat preferences (/language) across restarts; None: memory.
    telegram_state_file: Path | None = None
    telegram_startup_retry_seconds: float = Field(default=30.0, gt=0)

    @property
    def telegram_webhook_enabled(self) -> bool:
        """True when this app should receive Telegram updates on its webhook route."""
        return self.telegram_token is not None and self.telegram_mode == "webhook"

    @model_validator(mode="after")
    def _check_telegram(self) -> Self:
        """Refuse placeholder tokens and an unprotected webhook before anything starts."""
        token = self.telegram_token.get_secret_value() if self.telegram_token else None
        if token is not None and not _TELEGRAM_TOKEN.fullmatch(token):
            raise ValueError("APP_TELEGRAM_TOKEN does not look like a BotFather token")
        secret = self.telegram_webhook_secret
        if secret is not None and not _TELEGRAM_SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError("APP_TELEGRAM_WEBHOOK_SECRET needs 16-256 of A-Z a-z 0-9 _ -")
        if self.telegram_webhook_enabled and secret is None:
            raise ValueError("APP_TELEGRAM_MODE=webhook needs APP_TELEGRAM_WEBHOOK_SECRET")
        return self

    # --- end Telegram --------------------------------------------------------------------

    # --- Admin API and dashboard (channels/api/admin.py, auth.py, operators.py) ---------
    # Operators sign in with their own accounts (`python -m participation create-admin`);
    # machines use scoped client tokens (`create-client`). The session cookie is Secure
    # when the request came over HTTPS ("auto", right behind a proxy that sets
    # X-Forwarded-Proto with uvicorn --proxy-headers), or always / never.
    admin_cookie_secure: Literal["auto", "always", "never"] = "auto"
    # Operator replies to web users (GET /api/v1/chat/operator-events, server-sent events):
    # replies made on this replica wake the stream at once; others are found by polling
    # the database this often. A stream ends after live_stream_seconds and the widget
    # reconnects from the last id it saw, so nothing sent meanwhile is lost; short
    # streams also let a restarting gateway finish its open responses quickly.
    operator_live_poll_seconds: float = Field(default=1.0, gt=0)
    operator_live_stream_seconds: float = Field(default=25.0, gt=0)

    # --- end admin -----------------------------------------------------------------------

    # --- Reminders delivery (channels/reminders.py) --------------------------------------
    # An in-process scheduler claims due reminders every interval and delivers them:
    # Telegram push (webhook mode), e-mail (PARTICIPATION_SMTP_*), web notices. Claims are
    # atomic, so replicas never send a reminder twice; `false` turns the job off here.
    reminders_enabled: bool = True
    reminder_interval_seconds: float = Field(default=300.0, gt=0)
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # The same scheduler deletes data past PARTICIPATION_RETENTION_DAYS this often.
    purge_interval_hours: float = Field(default=24.0, gt=0)
    # --- end reminders -------------------------------------------------------------------

    # --- Refreshing the imported calls (channels/refresh.py, docs/ftportal.md) ----------
    # An in-process scheduler runs `python -m indexer import-calls` and then
    # `python -m indexer build` (incremental) every interval; the search swaps the new
    # index in by itself. A failed run (offline, portal down) keeps the last import and
    # index. `false` turns the job off (tests set APP_REFRESH_ENABLED=false).
    refresh_enabled: bool = True
    refresh_interval_hours: float = Field(default=24.0, gt=0)
    # The first run waits this long after start-up, so a start is never slowed down.
    refresh_start_delay_seconds: float = Field(default=300.0, ge=0)
    # Each of the two commands is stopped after this long.
    refresh_timeout_seconds: float = Field(default=1800.0, gt=0)
    # --- end refresh ---------------------------------------------------------------------


# Telegram: BotFather tokens are `<bot id>:<35 characters>`; Telegram accepts secrets of
# 1-256 such characters, we ask for at least 16 so that they cannot be guessed.
_TELEGRAM_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]{20,}")
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


@lru_cache(maxsize=1)
def get_settings() -> ChannelSettings:
    """Return the process-wide settings, read once from the environment."""
    return ChannelSettings()
