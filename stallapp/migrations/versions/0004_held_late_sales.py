"""held late sales: operations synced after their event's close-out, waiting for an organiser

Revision ID: 0004_held_late_sales
Revises: 0003_password_reset_requests
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import stallapp.database


# revision identifiers, used by Alembic.
revision = '0004_held_late_sales'
down_revision = '0003_password_reset_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('late_sale',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('client_operation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('taken_at', stallapp.database.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('held', 'accepted', 'rejected', name='latesalestatus', native_enum=False, length=30), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', stallapp.database.UTCDateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('created_at', stallapp.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_operation_id'], ['client_operation.id'], name=op.f('fk_late_sale_client_operation_id_client_operation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_late_sale_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_late_sale_event_id_event'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['group_id'], ['group.id'], name=op.f('fk_late_sale_group_id_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sale_id'], ['sale.id'], name=op.f('fk_late_sale_sale_id_sale'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_late_sale_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_sale')),
    sa.UniqueConstraint('client_operation_id', name=op.f('uq_late_sale_client_operation_id'))
    )
    with op.batch_alter_table('late_sale', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_late_sale_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_late_sale_group_id'), ['group_id'], unique=False)

    # The sale screen looks up the operation of each of its last sales.
    with op.batch_alter_table('client_operation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_operation_sale_id'), ['sale_id'], unique=False)


def downgrade():
    with op.batch_alter_table('client_operation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_operation_sale_id'))

    with op.batch_alter_table('late_sale', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_late_sale_group_id'))
        batch_op.drop_index(batch_op.f('ix_late_sale_event_id'))

    op.drop_table('late_sale')
