"""reruns: headless executions of a notebook on a tier

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reruns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("output", sa.String(length=1024), nullable=True),
        sa.Column("tier_id", sa.String(length=40), nullable=False),
        sa.Column("grant_id", sa.String(length=64), nullable=True),
        sa.Column("kernelspec", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cells_total", sa.Integer(), nullable=False),
        sa.Column("cells_done", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("time_limit_s", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("ended", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
        sa.ForeignKeyConstraint(["tier_id"], ["tiers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reruns") as batch_op:
        batch_op.create_index("ix_reruns_run_id", ["run_id"], unique=False)
        batch_op.create_index("ix_reruns_user_source", ["user", "source", "created"], unique=False)


def downgrade() -> None:
    op.drop_table("reruns")
