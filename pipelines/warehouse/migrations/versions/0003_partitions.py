"""PostgreSQL: every published table partitioned by quarter, so that a quarter is replaced by swapping
one partition instead of deleting and re-inserting millions of rows (see pipelines/warehouse/partitions.py).
SQLite is unchanged.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

from pipelines.warehouse.partitions import (
    PARTITIONED_TABLES,
    create_partitioned_parent,
    create_staging,
    index_staging,
    partition_name,
    q,
    swap_in,
    view_set_aside,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    cursor = bind.connection.cursor()
    # The changes view reads dtks_snapshot: it is set aside while the tables are rebuilt.
    with view_set_aside(cursor):
        for table in PARTITIONED_TABLES:
            old = f"{table}__unpartitioned"
            cursor.execute(f'ALTER TABLE {q(table)} RENAME TO "{old}"')
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'dtks' AND tablename = %s", (old,))
            for (index,) in cursor.fetchall():
                cursor.execute(f'ALTER INDEX {q(index)} RENAME TO "{index}__old"')
            create_partitioned_parent(cursor, table, old)
            cursor.execute(f"SELECT DISTINCT quarter FROM {q(old)}")
            for (quarter,) in cursor.fetchall():
                staging = partition_name(table, quarter, "migration")
                create_staging(cursor, table, quarter, staging)
                cursor.execute(f"INSERT INTO {q(staging)} SELECT * FROM {q(old)} WHERE quarter = %s", (quarter,))
                index_staging(cursor, table, staging)
                swap_in(cursor, table, quarter, staging)
            cursor.execute(f"DROP TABLE {q(old)}")


def downgrade() -> None:
    raise NotImplementedError("Partitioned tables are not turned back into plain ones; restore a backup instead.")
