"""The run's account of its landing area: every entry that was not an expected input, and what was done
with it (`discover/landing.json`: counts per kind and action, the listed entries, the walk's limits).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=_schema()) as batch:
        batch.add_column(sa.Column("landing", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("run", schema=_schema()) as batch:
        batch.drop_column("landing")
