"""grant spend rollups: closed runs' cost per grant and UTC day of start and tier
(grant_day_spend), and per grant, user and notebook (grant_notebook_spend)

Revision ID: 0007
Revises: 0006

The grant dashboard's rollups summed every run of the grant (about 100,000 for the
heaviest grant of the benchmark ledger); they now read these tables, which
``Ledger.close_run`` keeps in the transaction that closes a run. The upgrade fills them
from the runs already closed, one INSERT ... SELECT ... GROUP BY each, so that every
figure stays what it was. The SQL is written here rather than imported, so that the
migration keeps doing what it did whatever the ledger's code becomes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NO_NOTEBOOK_KEY = ""  # models.NO_NOTEBOOK_KEY when this was written


def upgrade() -> None:
    op.create_table(
        "grant_day_spend",
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tier_id", sa.String(length=40), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"]),
        sa.ForeignKeyConstraint(["tier_id"], ["tiers.id"]),
        sa.PrimaryKeyConstraint("grant_id", "day", "tier_id"),
    )
    op.create_table(
        "grant_notebook_spend",
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("notebook", sa.String(length=1024), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"]),
        sa.PrimaryKeyConstraint("grant_id", "user", "notebook"),
    )
    bind = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("grant_id", sa.String),
        sa.column("tier_id", sa.String),
        sa.column("user", sa.String),
        sa.column("notebook", sa.String),
        sa.column("started", sa.DateTime),
        sa.column("ended", sa.DateTime),
        sa.column("cost_micros", sa.BigInteger),
    )
    closed = (runs.c.grant_id.is_not(None), runs.c.ended.is_not(None))
    cost, count = sa.func.coalesce(sa.func.sum(runs.c.cost_micros), 0), sa.func.count()

    if bind.dialect.name == "sqlite":
        # SQLite keeps datetimes as ISO text ('YYYY-MM-DD HH:MM:SS.ffffff'): date() is the
        # 'YYYY-MM-DD' text under which the Date type stores a day.
        day = sa.func.date(runs.c.started)
    else:
        day = sa.cast(runs.c.started, sa.Date)
    day = day.label("day")
    by_day = (
        sa.select(runs.c.grant_id, day, runs.c.tier_id, cost, count)
        .where(*closed)
        .group_by(runs.c.grant_id, day, runs.c.tier_id)
    )
    spend = sa.table("grant_day_spend", *(sa.column(c) for c in ("grant_id", "day", "tier_id", "cost_micros", "runs")))
    bind.execute(spend.insert().from_select(["grant_id", "day", "tier_id", "cost_micros", "runs"], by_day))

    notebook = sa.func.coalesce(runs.c.notebook, NO_NOTEBOOK_KEY).label("notebook")
    by_notebook = (
        sa.select(runs.c.grant_id, runs.c.user, notebook, cost, count)
        .where(*closed)
        .group_by(runs.c.grant_id, runs.c.user, notebook)
    )
    spend = sa.table(
        "grant_notebook_spend", *(sa.column(c) for c in ("grant_id", "user", "notebook", "cost_micros", "runs"))
    )
    bind.execute(spend.insert().from_select(["grant_id", "user", "notebook", "cost_micros", "runs"], by_notebook))


def downgrade() -> None:
    op.drop_table("grant_notebook_spend")
    op.drop_table("grant_day_spend")
