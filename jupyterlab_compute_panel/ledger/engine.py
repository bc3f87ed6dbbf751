"""The ledger's engine and sessions, its schema upgrade, and the helpers every part shares.

Synchronous ledger operations. Callers off the event loop only (see service.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Date, Engine, cast, create_engine, event, func
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import Unavailable

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Seconds a connection to PostgreSQL may take to open (unless the URL names connect_timeout).
CONNECT_TIMEOUT_S = 10


class LedgerError(Exception):
    """A ledger operation that cannot be done; the message says why."""


class LedgerUnreachable(Unavailable):
    """The database is away or refuses writes: stopped or unreachable, read-only, or full.

    ``kind`` is ``unreachable``, ``read_only``, ``full`` or ``io_error``. The message is one sentence that
    says what is away and what still works, naming none of the driver's text (which names
    hosts, ports and files); the driver's error is chained (``__cause__``) for the logs.
    Not a ``LedgerError``: callers that turn a refused write into a conflict must not turn
    an outage into one. The REST layer answers it as 503 (an ``Unavailable``)."""

    WHY = {
        "unreachable": "its database is stopped or cannot be reached",
        "read_only": "its database refuses writes: it is read-only",
        "full": "its disk is full",
        "io_error": "its database's disk fails to read or write",
    }

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"The compute ledger is unreachable ({self.WHY[kind]}), so its figures cannot be shown "
            "and paid tiers cannot start; running kernels keep running and Local CPU still works."
        )
        self.kind = kind

    @property
    def why(self) -> str:
        return self.WHY[self.kind]


# SQLite says why in words only (its extended codes need Python 3.11).
_SQLITE_OUTAGES = (
    ("readonly database", "read_only"),
    ("read-only file system", "read_only"),
    ("database or disk is full", "full"),
    ("disk i/o error", "io_error"),
    ("unable to open database", "unreachable"),
)


def outage_kind(error: BaseException) -> str | None:
    """``unreachable``, ``read_only``, ``full`` or ``io_error`` when a driver error means that the database
    is away or refuses writes; None for any other error (a constraint, a lock timeout, a bug),
    which stays what it is.

    PostgreSQL: no SQLSTATE at all (the connection failed or broke: nothing answered),
    class 08 (connection exception), 57P01-57P03 (the server is shutting down or starting),
    class 58 (the server's own I/O error), class 53 (disk full, no memory, too many
    connections) and 25006 (a read-only transaction: a standby after a failover)."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return "unreachable"
        orig = error.orig
    else:
        orig = error
    text = str(orig).lower()
    if type(orig).__module__.startswith("sqlite3"):
        for words, kind in _SQLITE_OUTAGES:
            if words in text:
                return kind
        return None
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is None:
        return "unreachable" if isinstance(error, (OperationalError, InterfaceError)) else None
    if state == "53100":
        return "full"
    if state == "25006":
        return "read_only"
    if state.startswith(("08", "53", "58")) or state in ("57P01", "57P02", "57P03"):
        return "unreachable"
    return None


def _outage_as_ledger_error(context) -> BaseException | None:
    """``handle_error`` hook: a driver error meaning the database is away becomes
    ``LedgerUnreachable`` (the driver's error chained), wherever in the ledger it happens."""
    if context.is_pre_ping:
        return None  # the pool's own liveness check: it reconnects, or the real call fails next
    kind = outage_kind(context.sqlalchemy_exception or context.original_exception)
    if kind is None:
        return None
    if context.engine is not None and context.engine.dialect.name == "sqlite":
        # Drop the pooled connections: a file system repaired and mounted again is only
        # seen by connections that open the file afresh.
        context.is_disconnect = True
    return LedgerUnreachable(kind)


def utcnow() -> dt.datetime:
    """Now in naive UTC, to the millisecond: the precision the API publishes, so that a
    run's published start and end determine its cost exactly."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds") + "Z"


def duration_ms(start: dt.datetime, end: dt.datetime) -> int:
    return max(0, (end - start) // dt.timedelta(milliseconds=1))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError(
            f"ComputePanel.db_url: {url!r} is not a database URL (e.g. sqlite:////path/ledger.sqlite)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _outage_as_ledger_error, retval=True)
        return engine
    connect_args = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A database behind a dropped route must not hold a pool thread for minutes (TCP's timeout).
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args)
    except Exception as e:  # noqa: BLE001 - a missing driver is a config problem
        raise LedgerError(f"ComputePanel.db_url: cannot use {parsed.get_backend_name()!r} ({e})") from None
    event.listen(engine, "handle_error", _outage_as_ledger_error, retval=True)
    return engine


class _Borrowed:
    """The snapshot's session, lent to a ``with ledger.session() as s`` block that must not close it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *exc: object) -> bool:
        return False


def day_of(dialect: str, column):
    """The UTC date of a datetime column in SQL, as the ``Date`` type stores it. SQLite keeps
    datetimes as ISO text, whose date() is the 'YYYY-MM-DD' text a ``Date`` is stored as."""
    if dialect == "sqlite":
        return func.date(column)
    return cast(column, Date)


class LedgerBase:
    """The database of a ``Ledger``: its engine, its sessions and snapshots, its schema.

    Every part of the ``Ledger`` (``ledger.py``) derives from it and works through
    ``session()`` and ``engine``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._local = threading.local()

    def session(self) -> Session:
        snapshot = getattr(self._local, "snapshot", None)
        if snapshot is not None:
            return _Borrowed(snapshot)  # type: ignore[return-value]
        return self._session()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads in this block (on this thread) see one consistent state of the ledger, so
        figures computed by several queries (a dashboard's summary and its breakdowns) add up
        even while runs close: REPEATABLE READ on PostgreSQL, one read transaction on SQLite
        (its driver opens none for SELECTs by itself). Read-only: nothing is committed."""
        if getattr(self._local, "snapshot", None) is not None:
            yield
            return
        s = self._session()
        try:
            if self.engine.dialect.name == "sqlite":
                s.connection().exec_driver_sql("BEGIN")
            else:
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            self._local.snapshot = s
            yield
        finally:
            self._local.snapshot = None
            s.rollback()
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()

    def migrate(self) -> None:
        # Alembic logs its set-up and progress at INFO, even on import: no line for a
        # papermill or CLI run to show, so it is imported here, quieted first.
        logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger("alembic").level))
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
