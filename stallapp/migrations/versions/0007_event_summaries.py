"""event summaries: a closed-out event's sales added up per title and per kind of money, which
the group report reads instead of every sale line

Revision ID: 0007_event_summaries
Revises: 0006_network_and_feeds
Create Date: 2026-12-01 13:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_event_summaries"
down_revision = "0006_network_and_feeds"
branch_labels = None
depends_on = None

SALE_KIND = sa.Enum(
    "sale", "giveaway", "donation", "subscription", name="salekind", native_enum=False, length=30
)

BACKFILL_TITLES = """
INSERT INTO event_title_summary
    (group_id, event_id, publication_id, currency, sold, given_away, amount)
SELECT sale.group_id, sale.event_id, sale_line.publication_id, sale.currency,
    SUM(CASE WHEN sale.kind = 'sale' THEN sale_line.quantity ELSE 0 END),
    SUM(CASE WHEN sale.kind = 'giveaway' THEN sale_line.quantity ELSE 0 END),
    SUM(CASE WHEN sale.kind = 'sale' THEN sale_line.amount ELSE 0 END)
FROM sale_line JOIN sale ON sale.id = sale_line.sale_id
WHERE sale.event_id IN (SELECT event_id FROM event_close_out WHERE reopened_at IS NULL)
    AND NOT EXISTS (SELECT 1 FROM sale AS undo WHERE undo.reverses_id = sale.id)
GROUP BY sale.group_id, sale.event_id, sale_line.publication_id, sale.currency
"""

BACKFILL_MONEY = """
INSERT INTO event_money_summary (group_id, event_id, kind, currency, amount)
SELECT group_id, event_id, kind, currency,
    SUM(CASE WHEN reverses_id IS NULL THEN amount ELSE -amount END)
FROM sale
WHERE event_id IN (SELECT event_id FROM event_close_out WHERE reopened_at IS NULL)
    AND kind <> 'giveaway'
GROUP BY group_id, event_id, kind, currency
"""


def upgrade():
    op.create_table(
        "event_title_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("given_away", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_title_summary_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["group.id"],
            name=op.f("fk_event_title_summary_group_id_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_event_title_summary_publication_id_publication"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_title_summary")),
        sa.UniqueConstraint(
            "event_id",
            "publication_id",
            "currency",
            name=op.f("uq_event_title_summary_event_id_publication_id_currency"),
        ),
    )
    with op.batch_alter_table("event_title_summary", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_title_summary_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_title_summary_publication_id"), ["publication_id"], unique=False
        )
    op.create_table(
        "event_money_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", SALE_KIND, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_money_summary_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["group.id"],
            name=op.f("fk_event_money_summary_group_id_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_money_summary")),
        sa.UniqueConstraint(
            "event_id",
            "kind",
            "currency",
            name=op.f("uq_event_money_summary_event_id_kind_currency"),
        ),
    )
    with op.batch_alter_table("event_money_summary", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_money_summary_group_id"), ["group_id"], unique=False
        )
    # Events closed out before this revision get their summaries now, or the group report
    # would find nothing sold at them.
    op.execute(BACKFILL_TITLES)
    op.execute(BACKFILL_MONEY)


def downgrade():
    with op.batch_alter_table("event_money_summary", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_money_summary_group_id"))
    op.drop_table("event_money_summary")
    with op.batch_alter_table("event_title_summary", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_title_summary_publication_id"))
        batch_op.drop_index(batch_op.f("ix_event_title_summary_group_id"))
    op.drop_table("event_title_summary")
