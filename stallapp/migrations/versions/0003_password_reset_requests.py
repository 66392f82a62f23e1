"""password resets: one row per request, known address or not

Revision ID: 0003_password_reset_requests
Revises: 0002_domains
Create Date: 2026-12-01 09:40:00.000000

"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_password_reset_requests'
down_revision = '0002_domains'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('emailed', sa.Boolean(), nullable=True))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)

    # Every earlier row was an emailed link of an account: hash its address as the app does
    # (SHA-256 of the stored, already normalised address).
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            'SELECT password_reset.id, "user".email FROM password_reset '
            'JOIN "user" ON "user".id = password_reset.user_id'
        )
    ).all()
    for reset_id, email in rows:
        connection.execute(
            sa.text(
                'UPDATE password_reset SET email_hash = :email_hash, emailed = :emailed '
                'WHERE id = :id'
            ),
            {
                'email_hash': hashlib.sha256(email.encode()).hexdigest(),
                'emailed': True,
                'id': reset_id,
            },
        )

    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.alter_column('email_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('emailed', existing_type=sa.Boolean(), nullable=False)
        batch_op.create_index(batch_op.f('ix_password_reset_email_hash'), ['email_hash'], unique=False)


def downgrade():
    # Requests for addresses without an account have no place in the older table.
    op.execute('DELETE FROM password_reset WHERE user_id IS NULL')
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_email_hash'))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('emailed')
        batch_op.drop_column('email_hash')
