"""Declarative base, UTC timestamps and small query helpers shared by every model."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def string_enum(enum_class: type[enum.Enum], length: int = 30) -> sa.Enum:
    """Store an enum as its plain string value in a VARCHAR on every database (no native type)."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always read back as an aware UTC datetime.

    SQLite keeps no zone, PostgreSQL's ``timestamp`` neither; storing naive UTC everywhere keeps the
    two databases identical, and this type makes sure nothing local ever gets in or out.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """Adds ``created_at``, set when the row is inserted (a callable default, not import time)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class StatementCounter:
    """Counts the SQL statements an engine runs while it is active; used by query-budget tests
    and by the benchmarks.

    >>> with StatementCounter(db.engine) as counter:
    ...     client.get("/")
    >>> counter.count
    """

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        # Transaction control is emitted by us on SQLite and by the driver on PostgreSQL;
        # leaving it out keeps the counts comparable between the two.
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            self.statements.append(statement)

    def __enter__(self) -> "StatementCounter":
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc_info) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


#: Execution option that makes the next SQLite transaction ``BEGIN IMMEDIATE`` (see begin_write).
IMMEDIATE_OPTION = "stallapp_begin_immediate"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def configure_engine(engine: sa.Engine) -> None:
    """Make SQLite safe for several phones at once: WAL, a busy timeout, foreign keys, and
    transactions that we begin ourselves so that writers can take the lock up front.

    PostgreSQL needs nothing here: it has row locks and real concurrency.
    """
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, connection_record) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(session) -> None:
    """Start the session's transaction as a writer, before it reads anything.

    On SQLite this is ``BEGIN IMMEDIATE``: the write lock is taken (waiting up to the busy
    timeout) before the reads the write depends on, so a transaction never has to upgrade a
    stale read snapshot — the case where SQLite answers "database is locked" at once, whatever
    the timeout. On PostgreSQL it only opens the transaction; use row locks there.

    Accepts a plain session or Flask-SQLAlchemy's scoped ``db.session``.

    :raises RuntimeError: when the session has already begun its transaction.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction() and session.get_transaction().connections:
        raise RuntimeError("begin_write() must come before the transaction's first statement")
    session.connection(execution_options={IMMEDIATE_OPTION: True})


#: Methods that change something; a request with one of these takes the write lock up front.
WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Attribute that marks a GET view which writes (a QR scan counts itself), see ``writes``.
WRITES_ATTRIBUTE = "writes_on_get"


def writes(view):
    """Mark a view that writes even on GET, so the request takes the write lock up front too."""
    setattr(view, WRITES_ATTRIBUTE, True)
    return view


def request_writes(method: str, view) -> bool:
    """Tell whether a request to ``view`` with ``method`` will write to the database."""
    return method in WRITING_METHODS or getattr(view, WRITES_ATTRIBUTE, False)


def register_write_lock(app, db) -> None:
    """Make every request that writes take SQLite's write lock before its first statement.

    One hook for the whole app, run before any other: a login, an event edit and a sale then
    queue on the busy timeout instead of failing at once with "database is locked" when a
    read snapshot has to become a write (see :func:`begin_write`). On PostgreSQL it only opens
    the transaction. In tests, a statement that writes inside a request whose transaction did
    not begin this way raises, so a view that writes without the lock cannot go unnoticed.
    """
    from flask import g, request

    def take_write_lock() -> None:
        g.write_lock_decided = True
        if request.url_rule is None:
            return  # 404 and 405 answer without touching the database
        view = app.view_functions.get(request.endpoint)
        if request_writes(request.method, view):
            begin_write(db.session)

    app.before_request_funcs.setdefault(None, []).insert(0, take_write_lock)
    if app.config.get("TESTING"):
        with app.app_context():
            _refuse_unlocked_writes(db.engine)


WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE")


def _refuse_unlocked_writes(engine: sa.Engine) -> None:
    """(Tests, SQLite) raise when a request writes in a transaction begun as a reader."""
    if engine.dialect.name != "sqlite":
        return
    from flask import g, has_request_context, request

    @sa.event.listens_for(engine, "before_cursor_execute")
    def check_write_lock(conn, cursor, statement, parameters, context, executemany) -> None:
        # Only requests being dispatched, not a request context a test or command pushed.
        if not has_request_context() or not g.get("write_lock_decided"):
            return
        if not statement.lstrip().upper().startswith(WRITE_STATEMENTS):
            return
        if not conn.get_execution_options().get(IMMEDIATE_OPTION):
            raise RuntimeError(
                f"{request.method} {request.endpoint} writes without the write lock: "
                "mark the view with stallapp.database.writes"
            )
