"""network page and feeds: groups opt in to the network pages and list the sites that may frame
their embeds; the installation's name and intro; online meeting links private unless published;
when an event last changed

Revision ID: 0006_network_and_feeds
Revises: 0005_mail_outbox
Create Date: 2026-12-01 12:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

import stallapp.database


# revision identifiers, used by Alembic.
revision = "0006_network_and_feeds"
down_revision = "0005_mail_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "public_page_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("listed_on_network", sa.Boolean(), nullable=False),
        sa.Column("embed_origins", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["group.id"],
            name=op.f("fk_public_page_settings_group_id_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_page_settings")),
        sa.UniqueConstraint("group_id", name=op.f("uq_public_page_settings_group_id")),
    )
    op.create_table(
        "site_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_settings")),
    )
    # Links already entered stay private: registrants get them, as the new default says. A
    # literal default lets SQLite add the column in place; rebuilding `event` would trip the
    # foreign keys that point at it.
    for table in ("event", "event_series"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "online_link_public", sa.Boolean(), nullable=False, server_default="0"
                )
            )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", stallapp.database.UTCDateTime(), nullable=True)
        )
    # Until now an event's last change was not kept: its creation is the best known.
    op.execute("UPDATE event SET updated_at = created_at")


def downgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    for table in ("event_series", "event"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("online_link_public")
    op.drop_table("site_settings")
    op.drop_table("public_page_settings")
