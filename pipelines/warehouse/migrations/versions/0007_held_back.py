"""The kabupaten/kota held back by their quality gate (policy `publish_others`: the others publish), on
the published run and on every attempt.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    for table in ("run", "run_attempt"):
        with op.batch_alter_table(table, schema=_schema()) as batch:
            batch.add_column(sa.Column("held_back", sa.Text))


def downgrade() -> None:
    for table in ("run", "run_attempt"):
        with op.batch_alter_table(table, schema=_schema()) as batch:
            batch.drop_column("held_back")
