"""Where the knowledge base lives, overridable with ``KNOWLEDGE_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Return the data folder shipped inside the ``knowledge`` package.

    Resolved from this file rather than the working directory so that tools
    work from any folder.
    """
    return Path(__file__).resolve().parent / "data"


class KnowledgeSettings(BaseSettings):
    """Settings of the knowledge base (env prefix ``KNOWLEDGE_``)."""

    model_config = SettingsConfigDict(env_prefix="KNOWLEDGE_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)


@lru_cache(maxsize=1)
def get_settings() -> KnowledgeSettings:
    """Build the settings once; call ``get_settings.cache_clear()`` in tests."""
    return KnowledgeSettings()
