"""mail outbox and announcements: mail written with its action, delivered by a worker;
organisers' announcements to the mailing list, and the registrations they brought

Revision ID: 0005_mail_outbox
Revises: 0004_held_late_sales
Create Date: 2026-12-01 11:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

import stallapp.database


# revision identifiers, used by Alembic.
revision = "0005_mail_outbox"
down_revision = "0004_held_late_sales"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply_to", sa.String(length=254), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "sent", name="announcementstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", stallapp.database.UTCDateTime(), nullable=True),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.Column("delivered_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("unsubscribed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", stallapp.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_announcement_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_announcement_event_id_event"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["group.id"],
            name=op.f("fk_announcement_group_id_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["user.id"],
            name=op.f("fk_announcement_sent_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement")),
        sa.UniqueConstraint("code", name=op.f("uq_announcement_code")),
    )
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcement_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_announcement_group_id"), ["group_id"], unique=False)

    op.create_table(
        "outgoing_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                name="outgoingstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", stallapp.database.UTCDateTime(), nullable=False),
        sa.Column("lease_expires_at", stallapp.database.UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", stallapp.database.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("attempt_log", sa.Text(), nullable=False),
        sa.Column("possible_duplicate", sa.Boolean(), nullable=False),
        sa.Column("sent_at", stallapp.database.UTCDateTime(), nullable=True),
        sa.Column("retried_at", stallapp.database.UTCDateTime(), nullable=True),
        sa.Column("announcement_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", stallapp.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcement.id"],
            name=op.f("fk_outgoing_message_announcement_id_announcement"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_outgoing_message_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["group.id"],
            name=op.f("fk_outgoing_message_group_id_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_message")),
    )
    with op.batch_alter_table("outgoing_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outgoing_message_announcement_id"), ["announcement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outgoing_message_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            "ix_outgoing_message_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outgoing_message_group_id"), ["group_id"], unique=False
        )

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_announcement_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_registration_source_announcement_id_announcement"),
            "announcement",
            ["source_announcement_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_registration_source_announcement_id_announcement"), type_="foreignkey"
        )
        batch_op.drop_column("source_announcement_id")

    with op.batch_alter_table("outgoing_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_message_group_id"))
        batch_op.drop_index("ix_outgoing_message_due")
        batch_op.drop_index(batch_op.f("ix_outgoing_message_contact_id"))
        batch_op.drop_index(batch_op.f("ix_outgoing_message_announcement_id"))

    op.drop_table("outgoing_message")
    with op.batch_alter_table("announcement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_group_id"))
        batch_op.drop_index(batch_op.f("ix_announcement_event_id"))

    op.drop_table("announcement")
