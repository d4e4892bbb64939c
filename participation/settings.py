"""Settings of the participation services (env prefix ``PARTICIPATION_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _var_dir() -> Path:
    """Return ``<repo>/var``, where ``make run`` keeps runtime data.

    Resolved from this file so every process finds the same database whatever
    its working directory.
    """
    return Path(__file__).resolve().parent.parent / "var"


def default_database_url() -> str:
    """SQLite file next to the other runtime data: no server needed for ``make run``."""
    return f"sqlite:///{_var_dir() / 'participation.db'}"


def default_tracker_database_url() -> str:
    """Rasa's SQL tracker store as ``bot/endpoints.yml`` configures it for ``make run``."""
    return f"sqlite:///{_var_dir() / 'rasa-tracker.db'}"


class ParticipationSettings(BaseSettings):
    """Storage, limits, reminder and privacy settings of the participation package."""

    model_config = SettingsConfigDict(
        env_prefix="PARTICIPATION_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    # --- storage ---
    database_url: str = Field(default_factory=default_database_url)
    # Only used to export or erase one user's conversation (right of access / erasure).
    tracker_database_url: str = Field(default_factory=default_tracker_database_url)
    # How long a SQLite writer waits for another writer before DatabaseBusyError.
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # Table holding the applied Alembic revision (kept apart from other Alembic users).
    version_table: str = "participation_alembic_version"

    # --- privacy ---
    retention_days: int = Field(default=90, gt=0)

    # --- proposals ---
    proposal_max_chars: int = Field(default=2000, gt=0)
    topic_max_chars: int = Field(default=200, gt=0)

    # --- reminders ---
    reminder_offsets_days: list[int] = Field(default_factory=lambda: [30, 7, 1])
    # Hour (UTC) of the day a reminder becomes due, so nobody is woken at midnight.
    reminder_hour_utc: int = Field(default=8, ge=0, le=23)
    # Channels without push: their reminders wait as notices for the next visit.
    notice_channels: list[str] = Field(default_factory=lambda: ["api", "web"])
    smtp_host: str = ""
    smtp_port: int = Field(default=25, gt=0)
    smtp_sender: str = ""
    public_base_url: str = "http://127.0.0.1:8000"

    # --- tickets ---
    # Office hours a contact has to reply in (counted only while its office is open).
    ticket_reply_office_hours: float = Field(default=8.0, gt=0)
    # Assumed office hours of contacts whose record gives none.
    default_office_days: list[str] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    default_office_from: str = "09:00"
    default_office_to: str = "17:00"
    default_office_timezone: str = "Europe/Brussels"

    # --- operator accounts (participation/accounts.py) ---
    # A session ends after this much inactivity, and in any case after session_max_hours.
    session_idle_minutes: int = Field(default=60, gt=0)
    session_max_hours: int = Field(default=12, gt=0)
    # Sign-in rate limit: failures per user name, and per client address, in the window.
    login_max_failures: int = Field(default=5, gt=0)
    login_max_failures_per_address: int = Field(default=20, gt=0)
    login_window_seconds: int = Field(default=900, gt=0)
    password_min_chars: int = Field(default=12, ge=8)
    # Argon2id cost (argon2-cffi defaults = RFC 9106 low-memory profile). Hashes carry
    # their parameters, and a sign-in rehashes a password stored with other ones.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)
    operator_reply_max_chars: int = Field(default=4000, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> ParticipationSettings:
    """Build the settings once; call ``get_settings.cache_clear()`` in tests."""
    return ParticipationSettings()
