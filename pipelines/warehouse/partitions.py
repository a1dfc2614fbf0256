"""PostgreSQL partitions: one per published table and quarter.

A publication loads each table's rows for the quarter into a fresh table in schema `dtks_staging` (no
index yet, so the bulk load is fast), builds the indexes, then - in one transaction, at the very end -
detaches the quarter's old partition, moves it out to `dtks_staging`, and moves the new table into `dtks`
and attaches it. Readers see the old quarter until the commit and the new one after it; a failure or a
kill rolls everything back. Only what a finished publication attached is in schema `dtks`: readers (the
auditor role) are never granted `dtks_staging`, so unpublished and retired rows cannot be read. Index
definitions leave out `quarter`: a partition holds one quarter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from pipelines.contract import WAREHOUSE_SCHEMA

S = WAREHOUSE_SCHEMA
STAGING_SCHEMA: Final = "dtks_staging"  # tables being loaded or just retired; no reader is granted it

# table -> (index name suffix, columns). The partitioned parent gets the same indexes, so PostgreSQL
# adopts the partition's indexes on ATTACH instead of building them again.
PARTITION_INDEXES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "row_outcome": [("source", ("source_file", "source_row")), ("person", ("person_key",)), ("nik", ("nik_dukcapil",))],
    "dtks_snapshot": [("person", ("person_key",)), ("nik", ("nik",)), ("source", ("source_file", "source_row"))],
    "discrepancy": [("source", ("source_file", "source_row")), ("category", ("category",)), ("nik", ("nik",))],
    "quarantine": [("source", ("source_file", "source_row"))],
    "link_candidate": [("source", ("source_file", "source_row"))],
    "duplicate_edge": [("a", ("source_file_a", "source_row_a")), ("b", ("source_file_b", "source_row_b"))],
    "validation_result": [("source", ("source_file", "source_row"))],
}
PARTITIONED_TABLES = tuple(PARTITION_INDEXES)


def partition_name(table: str, quarter: str, token: str = "") -> str:
    """`row_outcome__2026q3` (attached) or `row_outcome__2026q3__<token>` (being loaded)."""
    base = f"{table}__{quarter.lower()}"
    if token:
        base += "__" + hashlib.sha1(token.encode()).hexdigest()[:10]
    return base


def q(name: str, schema: str = S) -> str:
    return f'"{schema}"."{name}"'


def in_staging(name: str) -> str:
    """`name` in the staging schema."""
    return q(name, STAGING_SCHEMA)


def create_partitioned_parent(cursor, table: str, like: str) -> None:
    """The partitioned table `table`, with the columns of `like` and the partition indexes."""
    cursor.execute(f"CREATE TABLE {q(table)} (LIKE {q(like)} INCLUDING DEFAULTS) PARTITION BY LIST (quarter)")
    for suffix, columns in PARTITION_INDEXES[table]:
        cursor.execute(f'CREATE INDEX "ix_{table}_{suffix}" ON {q(table)} ({", ".join(columns)})')


def create_staging(cursor, table: str, quarter: str, name: str) -> None:
    """An empty, index-free table shaped like `table` in the staging schema, constrained to one quarter so
    that ATTACH needs no scan to prove it."""
    cursor.execute(f"CREATE TABLE {in_staging(name)} (LIKE {q(table)} INCLUDING DEFAULTS)")
    cursor.execute(f'ALTER TABLE {in_staging(name)} ADD CONSTRAINT "{name}_quarter" CHECK (quarter = %s)', (quarter,))


def staging_index_statements(table: str, name: str) -> list[str]:
    """`CREATE INDEX` for each of the partition's indexes: separate statements, so that a publication can
    build one table's indexes on several connections at once."""
    statements = []
    for suffix, columns in PARTITION_INDEXES[table]:
        index = hashlib.sha1(f"{name}_{suffix}".encode()).hexdigest()[:12]
        statements.append(f'CREATE INDEX "ix_{index}" ON {in_staging(name)} ({", ".join(columns)})')
    return statements


def index_staging(cursor, table: str, name: str) -> None:
    for statement in staging_index_statements(table, name):
        cursor.execute(statement)
    cursor.execute(f"ANALYZE {in_staging(name)}")


def attached_partition(cursor, table: str, quarter: str) -> str | None:
    cursor.execute(
        """
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = %s AND p.relname = %s AND pg_get_expr(c.relpartbound, c.oid) = %s
        """,
        (S, table, f"FOR VALUES IN ('{quarter}')"),
    )
    row = cursor.fetchone()
    return row[0] if row else None


def swap_in(cursor, table: str, quarter: str, staging: str) -> None:
    """Replace the quarter's partition of `table` by the staging table `staging` (call last: it locks the
    table).

    The old partition is detached and moved to the staging schema under a staging-like name, not dropped:
    dropping a large table takes a while, and readers of `table` wait for this transaction. Drop it after
    the commit with `drop_orphan_staging` (the quarter's next publication would, too)."""
    old = attached_partition(cursor, table, quarter)
    if old:
        cursor.execute(f"ALTER TABLE {q(table)} DETACH PARTITION {q(old)}")
        retired = partition_name(table, quarter, f"retired by {staging}")
        cursor.execute(f'ALTER TABLE {q(old)} RENAME TO "{retired}"')
        cursor.execute(f'ALTER TABLE {q(retired)} SET SCHEMA "{STAGING_SCHEMA}"')
    final = partition_name(table, quarter)
    cursor.execute(f'ALTER TABLE {in_staging(staging)} RENAME TO "{final}"')
    cursor.execute(f'ALTER TABLE {in_staging(final)} SET SCHEMA "{S}"')
    cursor.execute(f"ALTER TABLE {q(table)} ATTACH PARTITION {q(final)} FOR VALUES IN (%s)", (quarter,))


def drop_orphan_staging(cursor, quarter: str) -> list[str]:
    """Drop the unattached tables of `quarter`: staging tables a run that died left, and partitions a
    publication retired (in the staging schema; in `dtks` too, where releases before the staging schema
    left them)."""
    cursor.execute(
        """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN (%s, %s) AND c.relkind = 'r' AND c.relname LIKE %s AND NOT c.relispartition
        """,
        (S, STAGING_SCHEMA, f"%\\_\\_{quarter.lower()}\\_\\_%"),
    )
    orphans = cursor.fetchall()
    for schema, name in orphans:
        cursor.execute(f"DROP TABLE IF EXISTS {q(name, schema)}")
    return [name for _, name in orphans]


@contextmanager
def view_set_aside(cursor, view: str = "quarter_changes") -> Iterator[None]:
    """Drop `view` for the block (PostgreSQL refuses to change tables a view reads) and re-create it from
    its own stored definition afterwards."""
    cursor.execute("SELECT pg_get_viewdef(%s::regclass, true)", (f"{S}.{view}",))
    definition = cursor.fetchone()[0]
    cursor.execute(f"DROP VIEW {q(view)}")
    yield
    cursor.execute(f"CREATE VIEW {q(view)} AS {definition}")
