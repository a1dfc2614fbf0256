"""Publication and reports as one unit: staging tables in their own schema, the reports a run published
recorded beside it, and the e-mail delivery status beside each attempt.

- PostgreSQL: schema `dtks_staging` (created with `dtks` by `pipelines.warehouse.upgrade`) is closed to
  PUBLIC, and the unattached tables earlier releases left in `dtks` (staging tables of killed runs,
  retired partitions) move there, out of readers' reach, until the quarter's next publication drops them.
- `run.reports`: the reports directory of the publication (its manifest's digest and file count), so an
  auditor can check that the published reports belong to the published run.
- `run_attempt.delivery_status`: what happened to the report e-mails of a published run (a failed e-mail
  never turns a published attempt into a failed one).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here, not derived from the current code: a migration says what it changed when it was written.
STAGING = "dtks_staging"


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    schema = _schema()
    with op.batch_alter_table("run", schema=schema) as batch:
        batch.add_column(sa.Column("reports", sa.Text))
    with op.batch_alter_table("run_attempt", schema=schema) as batch:
        batch.add_column(sa.Column("delivery_status", sa.String(20)))
    if schema is None:
        return
    cursor = op.get_bind().connection.cursor()
    cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{STAGING}"')
    cursor.execute(f'REVOKE ALL ON SCHEMA "{STAGING}" FROM PUBLIC')
    cursor.execute(
        r"""
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'dtks' AND c.relkind = 'r' AND NOT c.relispartition
          AND c.relname ~ '^[a-z_]+__[0-9]{4}q[1-4]__[0-9a-f]+$'
        """
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'ALTER TABLE "dtks"."{name}" SET SCHEMA "{STAGING}"')


def downgrade() -> None:
    # dtks_staging stays: it holds nothing but tables the next publication drops anyway.
    schema = _schema()
    with op.batch_alter_table("run_attempt", schema=schema) as batch:
        batch.drop_column("delivery_status")
    with op.batch_alter_table("run", schema=schema) as batch:
        batch.drop_column("reports")
