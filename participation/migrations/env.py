"""Alembic environment: runs on the connection ``participation.db.upgrade`` passes in.

Without one (plain ``alembic -c ...`` use) it connects to the configured database.
On PostgreSQL an advisory lock serialises concurrent first-use upgrades of several
processes; on SQLite the migration transaction starts with BEGIN IMMEDIATE instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from participation.db import WRITE_OPTION, create_db_engine
from participation.models import Base
from participation.settings import get_settings

# Arbitrary constant identifying this package's migration lock on PostgreSQL.
_ADVISORY_LOCK_KEY = 7_240_001


def _run(connection: Connection) -> None:
    """Configure Alembic on ``connection`` and apply the migrations in one transaction."""
    config = context.config
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=config.get_main_option("version_table") or "alembic_version",
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
            )
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the caller's connection, or open one to the configured database."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(get_settings().database_url)
    try:
        with engine.connect() as own:
            _run(own.execution_options(**{WRITE_OPTION: True}))
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
