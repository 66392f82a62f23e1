"""catalogue stamp: each group carries a stamp that changes with its titles, prices and
subscription offers, so the sale screen can keep its catalogue in memory between requests

Revision ID: 0009_catalogue_stamp
Revises: 0008_one_truth_for_closed
Create Date: 2026-12-01 16:45:00.000000

"""

import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_catalogue_stamp"
down_revision = "0008_one_truth_for_closed"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: SQLite's table copy would cascade-delete the rows
    # that point at the group. The server default only fills the rows of this moment, which
    # then get a stamp each; the app always writes its own.
    op.add_column(
        "group",
        sa.Column("catalogue_stamp", sa.String(length=32), nullable=False, server_default=""),
    )
    connection = op.get_bind()
    group = sa.table("group", sa.column("id", sa.Integer), sa.column("catalogue_stamp"))
    for (group_id,) in connection.execute(sa.select(group.c.id)).all():
        connection.execute(
            group.update()
            .where(group.c.id == group_id)
            .values(catalogue_stamp=secrets.token_hex(16))
        )


def downgrade():
    with op.batch_alter_table("group", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("catalogue_stamp")
