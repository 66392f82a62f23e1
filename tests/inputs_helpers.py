"""Watching the database for writes: a digest of every row of every table."""

import hashlib

import sqlalchemy as sa

#: Tables that may change on any request, even a refused one (the login's own bookkeeping).
VOLATILE_TABLES = {"login_session"}


def snapshot(db) -> dict[str, str]:
    """Return a digest of every row of every table but the volatile ones."""
    db.session.rollback()
    digests = {}
    for table in db.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        rows = db.session.execute(sa.select(table)).all()
        text = "\n".join(sorted(repr(tuple(row)) for row in rows))
        digests[table.name] = hashlib.sha256(text.encode()).hexdigest()
    db.session.rollback()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Name the tables whose rows differ between two snapshots."""
    return [name for name in before if before[name] != after[name]]
