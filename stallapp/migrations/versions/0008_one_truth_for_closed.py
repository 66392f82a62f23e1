"""one truth for "closed": the till's closed_at says whether an event is closed out; the
close-out row drops its own closed_at, reopened_at and reopened_by_id (the log keeps who reopened,
when and why)

Revision ID: 0008_one_truth_for_closed
Revises: 0007_event_summaries
Create Date: 2026-12-01 14:00:00.000000

"""

from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

import stallapp.database


# revision identifiers, used by Alembic.
revision = "0008_one_truth_for_closed"
down_revision = "0007_event_summaries"
branch_labels = None
depends_on = None

#: A close-out standing now: closed and not reopened, as 0007 and earlier recorded it.
STANDING = "SELECT event_id FROM event_close_out WHERE reopened_at IS NULL"

# The close-out and the till should always have agreed; where they do not, the close-out's
# record decides, as it did for the reports (its count, summaries and log are written together).
# A till that says open for a standing close-out takes the close-out's moment (and is created
# if the event never had one); a till closed with no standing close-out is open again.
CLOSE_TILLS = f"""
UPDATE event_till
SET closed_at = (
    SELECT event_close_out.closed_at FROM event_close_out
    WHERE event_close_out.event_id = event_till.event_id
)
WHERE closed_at IS NULL AND event_id IN ({STANDING})
"""

ADD_TILLS = f"""
INSERT INTO event_till
    (event_id, group_id, main_currency, default_payment_method, closed_at, created_at)
SELECT event_close_out.event_id, event_close_out.group_id, "group".currency, 'cash',
    event_close_out.closed_at, event_close_out.closed_at
FROM event_close_out JOIN "group" ON "group".id = event_close_out.group_id
WHERE event_close_out.event_id IN ({STANDING})
    AND NOT EXISTS (SELECT 1 FROM event_till WHERE event_till.event_id = event_close_out.event_id)
"""

OPEN_TILLS = f"""
UPDATE event_till SET closed_at = NULL
WHERE closed_at IS NOT NULL AND event_id NOT IN ({STANDING})
"""


def _latest(action: str, column: str) -> str:
    """The ``column`` of the event's latest close-out log entry with ``action``."""
    return f"""(
        SELECT close_out_log_entry.{column} FROM close_out_log_entry
        WHERE close_out_log_entry.event_id = event_close_out.event_id
            AND close_out_log_entry.action = '{action}'
        ORDER BY close_out_log_entry.at DESC, close_out_log_entry.id DESC
        LIMIT 1
    )"""


TILL_CLOSED_AT = """(
    SELECT event_till.closed_at FROM event_till
    WHERE event_till.event_id = event_close_out.event_id
)"""

# Back to the close-out's own columns: closed at the till's moment (or, reopened, at its latest
# close in the log); reopened, when the till is open, at the latest reopen in the log, by whom.
FILL_CLOSED_AT = f"""
UPDATE event_close_out
SET closed_at = COALESCE({TILL_CLOSED_AT}, {_latest("closed", "at")}, created_at)
"""

FILL_REOPENED = f"""
UPDATE event_close_out
SET reopened_at = COALESCE({_latest("reopened", "at")}, closed_at),
    reopened_by_id = {_latest("reopened", "user_id")}
WHERE {TILL_CLOSED_AT} IS NULL
"""


#: The tables whose rows belong to a close-out (``ON DELETE CASCADE``).
CHILDREN = ("cash_count", "stock_count")


@contextmanager
def children_kept():
    """Keep the close-outs' counts through a batch alteration of ``event_close_out``.

    SQLite's batch mode copies the table and drops the old one; with foreign keys on, the drop
    deletes every row that cascades from it. The counts are copied aside and put back.
    """
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for table in CHILDREN:
            op.execute(f"CREATE TEMPORARY TABLE kept_{table} AS SELECT * FROM {table}")
    yield
    if sqlite:
        for table in CHILDREN:
            op.execute(
                f"INSERT INTO {table} SELECT * FROM kept_{table} "
                f"WHERE id NOT IN (SELECT id FROM {table})"
            )
            op.execute(f"DROP TABLE kept_{table}")


def upgrade():
    op.execute(CLOSE_TILLS)
    op.execute(ADD_TILLS)
    op.execute(OPEN_TILLS)
    with children_kept(), op.batch_alter_table("event_close_out", schema=None) as batch_op:
        batch_op.drop_constraint("fk_event_close_out_reopened_by_id_user", type_="foreignkey")
        batch_op.drop_column("reopened_by_id")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("closed_at")


def downgrade():
    with children_kept(), op.batch_alter_table("event_close_out", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", stallapp.database.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("reopened_at", stallapp.database.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("reopened_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_event_close_out_reopened_by_id_user",
            "user",
            ["reopened_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(FILL_CLOSED_AT)
    op.execute(FILL_REOPENED)
    with children_kept(), op.batch_alter_table("event_close_out", schema=None) as batch_op:
        batch_op.alter_column(
            "closed_at", existing_type=stallapp.database.UTCDateTime(), nullable=False
        )
