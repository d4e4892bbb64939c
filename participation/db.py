"""Engines, transactions and migrations for SQLite and PostgreSQL through one code path.

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout and
foreign keys on. Write transactions start with ``BEGIN IMMEDIATE`` so that a writer
waits for the lock up front (honouring the busy timeout) instead of failing midway
when a deferred read transaction tries to upgrade; that wait ending in "database is
locked" becomes :class:`DatabaseBusyError` with the transaction rolled back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from participation.errors import DatabaseBusyError
from participation.settings import ParticipationSettings, get_settings

MIGRATIONS_DIR: Final[Path] = Path(__file__).resolve().parent / "migrations"
WRITE_OPTION: Final[str] = "participation_write"
"""Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE."""

_SQLITE_BUSY_MESSAGES: Final[tuple[str, ...]] = ("database is locked", "database is busy")
_MS_PER_SECOND: Final[float] = 1000.0
# Alembic keeps its migration context in module globals, so two threads of one
# process must not run migrations at the same time (processes are serialised by
# the database: an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite).
_MIGRATION_LOCK: Final = threading.Lock()


def normalize_url(url: str | URL) -> URL:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine | Connection) -> bool:
    """Whether the engine or connection talks to SQLite."""
    return engine.dialect.name == "sqlite"


def _ensure_sqlite_folder(url: URL) -> None:
    """Create the folder of a SQLite file so a fresh checkout works."""
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: Engine, busy_timeout_ms: int, wal: bool) -> None:
    """Pragmas on every new connection and explicit BEGIN for every transaction.

    pysqlite's own transaction handling would begin transactions lazily and
    never with IMMEDIATE; taking it over is the recipe SQLAlchemy documents.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                # With WAL, NORMAL is durable against process crashes (only a power
                # loss can drop the last transactions) and avoids an fsync per commit.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_db_engine(
    url: str | URL,
    settings: ParticipationSettings | None = None,
    *,
    wal: bool = True,
) -> Engine:
    """Create an engine for ``url`` with the SQLite hooks when needed.

    Args:
        url: SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg://...``).
        settings: Source of the busy timeout (default: ``get_settings()``).
        wal: Switch SQLite files to WAL; False for databases owned by others
            (Rasa's tracker store), whose journal mode is not ours to change.

    Returns:
        A thread-safe engine; nothing is connected yet.
    """
    settings = settings or get_settings()
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    _ensure_sqlite_folder(parsed)
    timeout_s = settings.sqlite_busy_timeout_ms / _MS_PER_SECOND
    engine = create_engine(parsed, connect_args={"timeout": timeout_s, "check_same_thread": False})
    _install_sqlite_hooks(engine, settings.sqlite_busy_timeout_ms, wal)
    return engine


def is_busy_error(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" after the busy timeout."""
    if not isinstance(exc, OperationalError):
        return False
    message = str(exc.orig).lower()
    return any(text in message for text in _SQLITE_BUSY_MESSAGES)


class Database:
    """Sessions for reads and writes on one engine, migrated on first use."""

    def __init__(self, engine: Engine, settings: ParticipationSettings) -> None:
        self.engine = engine
        self._settings = settings
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(
            engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        self._migrated = False
        self._lock = threading.Lock()

    def ensure_schema(self) -> None:
        """Apply pending migrations once per process and engine."""
        if self._migrated:
            return
        with self._lock:
            if not self._migrated:
                upgrade(self.engine, self._settings)
                self._migrated = True

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error.

        Raises:
            DatabaseBusyError: SQLite stayed locked past the busy timeout.
        """
        factory = self._writer if write else self._reader
        with busy_guard():
            self.ensure_schema()
            with factory.begin() as session:
                yield session


def alembic_config(settings: ParticipationSettings | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations (no alembic.ini needed)."""
    settings = settings or get_settings()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_table", settings.version_table)
    return config


def upgrade(
    target: Engine | str | URL | None = None,
    settings: ParticipationSettings | None = None,
    revision: str = "head",
) -> None:
    """Migrate a database to ``revision`` (default: the newest).

    Args:
        target: An engine, a URL, or None for ``settings.database_url``.
        settings: Settings (version table name, busy timeout).
        revision: Alembic revision to upgrade to.
    """
    settings = settings or get_settings()
    if isinstance(target, Engine):
        _upgrade(target, settings, revision)
        return
    engine = create_db_engine(settings.database_url if target is None else target, settings)
    try:
        _upgrade(engine, settings, revision)
    finally:
        engine.dispose()


def _upgrade(engine: Engine, settings: ParticipationSettings, revision: str) -> None:
    """Run Alembic on one connection of ``engine``, one migration run at a time."""
    config = alembic_config(settings)
    with _MIGRATION_LOCK, engine.connect() as connection:
        config.attributes["connection"] = connection.execution_options(**{WRITE_OPTION: True})
        command.upgrade(config, revision)


@contextmanager
def busy_guard() -> Iterator[None]:
    """Turn SQLite's "database is locked" into :class:`DatabaseBusyError`."""
    try:
        yield
    except OperationalError as exc:
        if is_busy_error(exc):
            raise DatabaseBusyError(str(exc.orig)) from exc
        raise


def dialect_insert(session: Session) -> Any:
    """The INSERT construct of the session's dialect, which offers ON CONFLICT.

    SQLite and PostgreSQL spell upserts the same way in SQLAlchemy, but each
    dialect has its own ``insert``; this picks the right one.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert
