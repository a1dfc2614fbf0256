"""The value to use for each finding, in words, as the officer's workbook shows it
(`discrepancy.suggestion`, decided with the finding: `pipelines/finding_suggestions.py`). `suggested_value`
keeps the contract's meaning (the bare NIK, KK or desa code).

Added on the partitioned parent, PostgreSQL adds it to every partition; older quarters keep it empty.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    op.add_column("discrepancy", sa.Column("suggestion", sa.Text), schema=_schema())


def downgrade() -> None:
    with op.batch_alter_table("discrepancy", schema=_schema()) as batch:
        batch.drop_column("suggestion")
