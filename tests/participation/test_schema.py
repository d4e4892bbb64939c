"""The migrations create exactly the schema the models describe, on both back ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from participation.db import create_db_engine, upgrade
from participation.models import Base
from participation.settings import ParticipationSettings

ROOT = Path(__file__).resolve().parents[2]


def test_migrated_schema_matches_models(db_url: str) -> None:
    settings = ParticipationSettings(database_url=db_url)
    upgrade(db_url, settings)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": settings.version_table}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent_and_records_the_head(db_url: str) -> None:
    settings = ParticipationSettings(database_url=db_url)
    upgrade(db_url, settings)
    upgrade(db_url, settings)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        version = connection.execute(text(f"SELECT version_num FROM {settings.version_table}"))
        assert version.scalars().all() == ["0002_operators"]
        assert set(Base.metadata.tables) <= set(inspect(connection).get_table_names())
    engine.dispose()


def test_cli_migrate_creates_the_database(tmp_path: Path) -> None:
    database = tmp_path / "sub" / "cli.db"
    env = {**os.environ, "PARTICIPATION_DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "-m", "participation", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{database}")
    assert "proposals" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    settings = ParticipationSettings(sqlite_busy_timeout_ms=1234)
    engine = create_db_engine(f"sqlite:///{tmp_path / 'p.db'}", settings)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
