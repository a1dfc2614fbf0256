"""What an auditor needs to explain a merge and a link: per duplicate edge, how its rows came to be one
person (`basis`), which side was published (`survivor`) and the step of the rule that chose it
(`survivor_rule`); per link candidate, the Dukcapil extract and row it was read from.

Added on the partitioned parents, PostgreSQL adds them to every partition; older quarters keep them empty.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen here, not derived from the current code: a migration says what it changed when it was written.
COLUMNS = {
    "duplicate_edge": (("basis", sa.String(30)), ("survivor", sa.String(1)), ("survivor_rule", sa.String(30))),
    "link_candidate": (("candidate_source_file", sa.Text), ("candidate_source_row", sa.Integer)),
}


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for name, kind in columns:
            op.add_column(table, sa.Column(name, kind), schema=_schema())


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=_schema()) as batch:
            for name, _ in reversed(columns):
                batch.drop_column(name)
