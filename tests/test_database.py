"""Database plumbing: UTC timestamps, SQLite's locking set-up, the statement counter."""

import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from stallapp.database import UTCDateTime, begin_write

#: The SQLite engine settings are what these check.
pytestmark = pytest.mark.backends("sqlite")


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2024, 10, 19, 10, 0), None)


def test_aware_datetimes_round_trip_as_utc():
    stored = UTCDateTime().process_bind_param(datetime(2024, 10, 19, 10, 0, tzinfo=UTC), None)
    assert stored.tzinfo is None
    assert UTCDateTime().process_result_value(stored, None).tzinfo is UTC


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db):
    assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() >= 5000


def test_begin_write_takes_the_write_lock_up_front(app, db):
    db.session.commit()
    begin_write(db.session)
    db.session.execute(sa.text("SELECT 1"))
    path = db.engine.url.database
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
    db.session.rollback()


def test_begin_write_must_come_first(db):
    db.session.execute(sa.text("SELECT 1"))
    with pytest.raises(RuntimeError):
        begin_write(db.session)
    db.session.rollback()


def test_statement_counter_counts(db, count_statements):
    with count_statements() as counter:
        db.session.execute(sa.text("SELECT 1"))
        db.session.execute(sa.text("SELECT 2"))
    assert counter.count == 2
