"""Audit and change tracking: per-row validation results, the quarter-over-quarter changes view,
lookup indexes for `dtks trace`, and the run's paths.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def _changes_view(prefix: str) -> str:
    """Per person, what changed from the previous published quarter: ADDED, REMOVED or STATUS_CHANGED
    (status_dtks or alasan_nonaktif). Portable SQL: no FULL JOIN, which older SQLite lacks."""
    s = prefix
    columns = """
        s.quarter, s.previous_quarter, '{change}' AS change, {who}.person_key, {who}.kode_desa,
        {who}.nik, {who}.nama,
        {before}.status_dtks AS status_before, {after}.status_dtks AS status_after,
        {before}.alasan_nonaktif AS alasan_before, {after}.alasan_nonaktif AS alasan_after,
        {after}.source_file AS source_file, {after}.source_row AS source_row,
        {before}.source_file AS previous_source_file, {before}.source_row AS previous_source_row"""
    return f"""
CREATE VIEW {s}quarter_changes AS
WITH published AS (SELECT DISTINCT quarter FROM {s}dtks_snapshot),
steps AS (
    SELECT a.quarter, (SELECT max(b.quarter) FROM published b WHERE b.quarter < a.quarter) AS previous_quarter
    FROM published a
)
SELECT {columns.format(change="ADDED", who="cur", before="prev", after="cur")}
FROM steps s
JOIN {s}dtks_snapshot cur ON cur.quarter = s.quarter
LEFT JOIN {s}dtks_snapshot prev ON prev.quarter = s.previous_quarter AND prev.person_key = cur.person_key
WHERE s.previous_quarter IS NOT NULL AND prev.person_key IS NULL
UNION ALL
SELECT {columns.format(change="REMOVED", who="prev", before="prev", after="cur")}
FROM steps s
JOIN {s}dtks_snapshot prev ON prev.quarter = s.previous_quarter
LEFT JOIN {s}dtks_snapshot cur ON cur.quarter = s.quarter AND cur.person_key = prev.person_key
WHERE cur.person_key IS NULL
UNION ALL
SELECT {columns.format(change="STATUS_CHANGED", who="cur", before="prev", after="cur")}
FROM steps s
JOIN {s}dtks_snapshot cur ON cur.quarter = s.quarter
JOIN {s}dtks_snapshot prev ON prev.quarter = s.previous_quarter AND prev.person_key = cur.person_key
WHERE cur.status_dtks <> prev.status_dtks
   OR COALESCE(cur.alasan_nonaktif, '') <> COALESCE(prev.alasan_nonaktif, '')
"""


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "validation_result",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("quarter", sa.String(6), nullable=False),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("expectation", sa.Text, nullable=False),
        sa.Column("category", sa.String(30)),
        sa.Column("field", sa.String(60)),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("message", sa.Text),
        schema=schema,
    )
    op.create_index(
        "ix_validation_result_quarter_source",
        "validation_result",
        ["quarter", "source_file", "source_row"],
        schema=schema,
    )
    op.create_index("ix_row_outcome_quarter_nik", "row_outcome", ["quarter", "nik_dukcapil"], schema=schema)
    op.create_index("ix_discrepancy_quarter_nik", "discrepancy", ["quarter", "nik"], schema=schema)
    op.create_index("ix_link_candidate_quarter_nik", "link_candidate", ["quarter", "candidate_nik"], schema=schema)
    op.create_index(
        "ix_dtks_snapshot_quarter_source", "dtks_snapshot", ["quarter", "source_file", "source_row"], schema=schema
    )
    with op.batch_alter_table("run", schema=schema) as batch:
        batch.add_column(sa.Column("paths", sa.Text))
    op.execute(_changes_view(f"{schema}." if schema else ""))


def downgrade() -> None:
    schema = _schema()
    prefix = f"{schema}." if schema else ""
    op.execute(f"DROP VIEW IF EXISTS {prefix}quarter_changes")
    with op.batch_alter_table("run", schema=schema) as batch:
        batch.drop_column("paths")
    for name, table in (
        ("ix_dtks_snapshot_quarter_source", "dtks_snapshot"),
        ("ix_link_candidate_quarter_nik", "link_candidate"),
        ("ix_discrepancy_quarter_nik", "discrepancy"),
        ("ix_row_outcome_quarter_nik", "row_outcome"),
    ):
        op.drop_index(name, table_name=table, schema=schema)
    op.drop_table("validation_result", schema=schema)
