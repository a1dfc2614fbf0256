"""Initial warehouse: the contract tables, link explanations and run records.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def _run_columns() -> list[sa.Column]:
    return [sa.Column("run_id", sa.String(250), nullable=False), sa.Column("quarter", sa.String(6), nullable=False)]


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "row_outcome",
        *_run_columns(),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("kode_desa", sa.String(10)),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("person_key", sa.String(20)),
        sa.Column("nik_dukcapil", sa.String(16)),
        sa.Column("status_padan", sa.String(24)),
        sa.Column("match_probability", sa.Float),
        sa.Column("nik_kandidat", sa.String(16)),
        sa.Column("merged_into_file", sa.Text),
        sa.Column("merged_into_row", sa.Integer),
        schema=schema,
    )
    op.create_index(
        "ix_row_outcome_quarter_source", "row_outcome", ["quarter", "source_file", "source_row"], schema=schema
    )
    op.create_index("ix_row_outcome_quarter_person", "row_outcome", ["quarter", "person_key"], schema=schema)

    op.create_table(
        "dtks_snapshot",
        *_run_columns(),
        sa.Column("person_key", sa.String(20), nullable=False),
        sa.Column("kode_desa", sa.String(10)),
        sa.Column("no_kk", sa.String(32)),
        sa.Column("nik", sa.String(32)),
        sa.Column("nama", sa.Text),
        sa.Column("jenis_kelamin", sa.String(1)),
        sa.Column("tanggal_lahir", sa.String(10)),
        sa.Column("hubungan_keluarga", sa.String(20)),
        sa.Column("status_padan", sa.String(24)),
        sa.Column("nik_dukcapil", sa.String(16)),
        sa.Column("status_dtks", sa.String(10), nullable=False),
        sa.Column("alasan_nonaktif", sa.String(30)),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("kode_kab", sa.String(4)),
        sa.Column("id_dtks", sa.String(64)),
        sa.Column("program", sa.Text),
        sa.Column("jumlah_baris", sa.Integer),
        schema=schema,
    )
    op.create_index("ix_dtks_snapshot_quarter_person", "dtks_snapshot", ["quarter", "person_key"], schema=schema)
    op.create_index("ix_dtks_snapshot_quarter_nik", "dtks_snapshot", ["quarter", "nik"], schema=schema)

    op.create_table(
        "discrepancy",
        *_run_columns(),
        sa.Column("kode_desa", sa.String(10)),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("nik", sa.String(64)),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("suggested_value", sa.Text),
        schema=schema,
    )
    op.create_index("ix_discrepancy_quarter_category", "discrepancy", ["quarter", "category"], schema=schema)
    op.create_index(
        "ix_discrepancy_quarter_source", "discrepancy", ["quarter", "source_file", "source_row"], schema=schema
    )

    op.create_table(
        "quarantine",
        *_run_columns(),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("kode_desa", sa.String(10)),
        sa.Column("raw_fields", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("categories", sa.Text),
        schema=schema,
    )
    op.create_index(
        "ix_quarantine_quarter_source", "quarantine", ["quarter", "source_file", "source_row"], schema=schema
    )

    op.create_table(
        "link_candidate",
        *_run_columns(),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("candidate_nik", sa.String(16), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("chosen", sa.Boolean, nullable=False),
        sa.Column("match_weight", sa.Float),
        sa.Column("match_probability", sa.Float),
        sa.Column("levels", sa.Text, nullable=False),
        sa.Column("weights", sa.Text, nullable=False),
        schema=schema,
    )
    op.create_index(
        "ix_link_candidate_quarter_source", "link_candidate", ["quarter", "source_file", "source_row"], schema=schema
    )

    op.create_table(
        "duplicate_edge",
        *_run_columns(),
        sa.Column("source_file_a", sa.Text, nullable=False),
        sa.Column("source_row_a", sa.Integer, nullable=False),
        sa.Column("source_file_b", sa.Text, nullable=False),
        sa.Column("source_row_b", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("match_weight", sa.Float),
        sa.Column("match_probability", sa.Float),
        sa.Column("levels", sa.Text, nullable=False),
        sa.Column("weights", sa.Text, nullable=False),
        schema=schema,
    )
    op.create_index(
        "ix_duplicate_edge_quarter_a", "duplicate_edge", ["quarter", "source_file_a", "source_row_a"], schema=schema
    )
    op.create_index(
        "ix_duplicate_edge_quarter_b", "duplicate_edge", ["quarter", "source_file_b", "source_row_b"], schema=schema
    )

    op.create_table(
        "run",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("quarter", sa.String(6), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("code_version", sa.String(80)),
        sa.Column("config", sa.Text),
        sa.Column("input_files", sa.Text),
        sa.Column("counts", sa.Text),
        sa.Column("validation", sa.Text),
        sa.Column("linkage", sa.Text),
        sa.Column("stage_seconds", sa.Text),
        sa.Column("data_docs", sa.Text),
        schema=schema,
    )
    op.create_index("ix_run_quarter_status", "run", ["quarter", "status"], schema=schema)

    op.create_table(
        "run_attempt",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("quarter", sa.String(6), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("failed_stage", sa.String(60)),
        sa.Column("message", sa.Text),
        sa.Column("code_version", sa.String(80)),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    for table in (
        "run_attempt",
        "run",
        "duplicate_edge",
        "link_candidate",
        "quarantine",
        "discrepancy",
        "dtks_snapshot",
        "row_outcome",
    ):
        op.drop_table(table, schema=schema)
