"""The database: engine set-up per dialect, ordered write transactions, migrations.

SQLite (the default, one process) runs in WAL mode with foreign keys on, and every write
transaction starts with ``BEGIN IMMEDIATE`` so that two writers never deadlock upgrading a read
lock. The writers of one process queue on a lock of their own first: SQLite makes a writer that
finds the database locked sleep and retry (1, 2, 5 … up to 100 ms a try), so concurrent writes
would wait for those sleeps rather than for the writer ahead; its busy timeout is left for
writers in other processes (``vifbind token create``). PostgreSQL (several replicas) serialises
writers on the revision counter row and tells the other replicas about each committed revision
with ``NOTIFY``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic_core
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from vifbind.errors import InvalidInput
from vifbind.service.storage.tables import COUNTERS, CounterRow

NOTIFY_CHANNEL = "vifbind_events"
MIGRATIONS = Path(__file__).parent / "migrations"
NEXT_REVISION = (
    update(COUNTERS)
    .where(COUNTERS.c.name == "revision")
    .values(value=COUNTERS.c.value + 1)
    .returning(COUNTERS.c.value)
)
"""Built once: the statement every write transaction starts with."""
NOTIFY = select(func.pg_notify(NOTIFY_CHANNEL, bindparam("revision")))
_SAVEPOINT = "SAVEPOINT vifbind_work"
_ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT vifbind_work"
_RELEASE_SAVEPOINT = "RELEASE SAVEPOINT vifbind_work"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass
class WriteTx:
    """One write transaction: its connection, the revision it writes, hooks run after commit,
    and an ORM session in the same transaction, made when first used (a bind uses none: Core
    statements only)."""

    revision: int
    now: datetime
    _connection: Connection
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session joined to this transaction (it never commits it itself)."""
        if self._session is None:
            # rollback_only: the session neither commits nor closes the transaction (or the
            # savepoint of a grouped write), whose owner does.
            self._session = Session(
                bind=self._connection,
                expire_on_commit=False,
                join_transaction_mode="rollback_only",
            )
        return self._session

    def connection(self) -> Connection:
        """The transaction's connection, for Core statements: the session's pending ORM
        changes are written first, so that the statements see them."""
        if self._session is not None:
            self._session.flush()
        return self._connection

    def close(self) -> None:
        """Release the session, if one was made."""
        if self._session is not None:
            self._session.close()


@dataclass(frozen=True)
class Outcome:
    """What one work of a grouped write came to: its value and revision once committed, or the
    error that rolled it (alone) back."""

    value: Any = None
    revision: int | None = None
    error: Exception | None = None


class Database:
    """Engine, sessions and the revision-ordered write transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {"pool_pre_ping": True}
        if is_sqlite:
            options = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        else:
            options["pool_size"] = 20
            options["max_overflow"] = 20
        self.engine: Engine = create_engine(
            url, json_serializer=_json_text, json_deserializer=pydantic_core.from_json, **options
        )
        self.dialect = self.engine.dialect.name
        if is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = threading.Lock() if is_sqlite else contextlib.nullcontext()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """A write transaction holding the next global revision; commits on success."""
        with self._writers, self.engine.connect() as connection:
            connection.execution_options(vifbind_write=True)
            revision = connection.execute(NEXT_REVISION).scalar_one()
            tx = WriteTx(revision, utcnow(), connection)
            try:
                yield tx
                tx.connection()  # the session's last changes
                if self.dialect == "postgresql":
                    connection.execute(NOTIFY, {"revision": str(revision)})
                connection.commit()
            finally:
                tx.close()
        for hook in tx.after_commit:
            hook()

    def write_each(self, works: Sequence[Callable[[WriteTx], Any]]) -> list[Outcome]:
        """Run every work in one transaction, each in a savepoint of its own holding its own
        next revision, and commit once: a work that raises is rolled back alone (its outcome
        is the error) and the others are kept. Returns once committed; an error of the
        transaction itself (the commit, a lost connection) is raised for all of them. Each
        work's ``after_commit`` hooks run after the commit."""
        outcomes: list[Outcome] = []
        done: list[WriteTx] = []
        with self._writers, self.engine.connect() as connection:
            connection.execution_options(vifbind_write=True)
            newest = None
            for work in works:
                # Plain statements: SQLAlchemy's nested transactions compile a savepoint clause
                # each time, a few per cent of a bind.
                connection.exec_driver_sql(_SAVEPOINT)
                tx = None
                try:
                    revision = connection.execute(NEXT_REVISION).scalar_one()
                    tx = WriteTx(revision, utcnow(), connection)
                    value = work(tx)
                    tx.connection()  # the session's last changes
                except Exception as exc:
                    connection.exec_driver_sql(_ROLLBACK_TO_SAVEPOINT)
                    connection.exec_driver_sql(_RELEASE_SAVEPOINT)
                    outcomes.append(Outcome(error=exc))
                else:
                    connection.exec_driver_sql(_RELEASE_SAVEPOINT)
                    outcomes.append(Outcome(value, revision))
                    done.append(tx)
                    newest = revision
                finally:
                    if tx is not None:
                        tx.close()
            if newest is not None and self.dialect == "postgresql":
                connection.execute(NOTIFY, {"revision": str(newest)})
            connection.commit()
        for tx in done:
            for hook in tx.after_commit:
                hook()
        return outcomes

    def current_revision(self) -> int:
        """The last committed revision."""
        with self.read() as session:
            value: int = session.get_one(CounterRow, "revision").value
            return value

    def upgrade(self, target: str = "head") -> None:
        """Bring the schema to the newest migration, or to ``target`` (safe to run from several
        replicas)."""
        config = migrations_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, target)

    def backup(self, target: Path) -> None:
        """Copy an SQLite database, consistent even while the service writes (``VACUUM INTO``
        reads one snapshot); the copy is a new file readable by its owner only. A plain copy
        of the database file and its ``-wal`` taken during writes can be torn."""
        if self.dialect != "sqlite":
            raise InvalidInput(
                f"db backup: copies SQLite databases; back up {self.dialect} with its own tools "
                "(pg_dump)"
            )
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        source = self.engine.url.database
        # VACUUM cannot run in the transaction the engine's connections always open.
        connection = sqlite3.connect(str(source), isolation_level=None)
        try:
            connection.execute("VACUUM INTO ?", (str(target),))
        except sqlite3.Error:
            target.unlink()
            raise
        finally:
            connection.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _json_text(value: Any) -> str:
    """JSON columns' text, written by pydantic's serialiser: a bind stores a binding twice
    (its row and its event) and the stdlib's encoder took 3-4 times as long."""
    return pydantic_core.to_json(value).decode()


def migrations_config() -> Config:
    """Alembic's configuration of the service's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN IMMEDIATE is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("vifbind_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
