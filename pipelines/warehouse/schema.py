"""The warehouse tables (contract section 3), as SQLAlchemy Core metadata.

Tables are declared without a schema; on PostgreSQL every connection maps them into schema `dtks`
(`schema_translate_map`), on SQLite they live in the main database. The migrations in `migrations/`
create exactly these tables; `tests/test_warehouse.py` checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The linker's comparisons (`pipelines.link.comparisons.COMPARISONS`, in its order), frozen here for the
# warehouse: each is a pair of `link_candidate` columns since migration 0010. A comparison added to the
# linker needs a migration adding its pair; tests/test_explanations.py checks that the two lists agree.
EXPLAINED_COMPARISONS = ("nik", "name", "name_tokens", "dob", "sex", "kk", "kk_family", "desa", "mother")
WEIGHT_SCALE = 10_000  # weights are stored in ten-thousandths of a bit (the linker rounds to 4 decimals)


def level_column(comparison: str) -> str:
    return f"lvl_{comparison}"


def weight_column(comparison: str) -> str:
    return f"w_{comparison}"


def _explanation_columns() -> list[Column]:
    """Per comparison its level and its weight: small integers instead of JSON text (migration 0010)."""
    columns = []
    for name in EXPLAINED_COMPARISONS:
        columns += [Column(level_column(name), SmallInteger), Column(weight_column(name), Integer)]
    return columns


def _run_columns() -> list[Column]:
    return [Column("run_id", String(250), nullable=False), Column("quarter", String(6), nullable=False)]


row_outcome = Table(
    "row_outcome",
    metadata,
    *_run_columns(),
    Column("source_file", Text, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("kode_desa", String(10)),
    Column("outcome", String(20), nullable=False),
    Column("person_key", String(20)),
    Column("nik_dukcapil", String(16)),
    Column("status_padan", String(24)),
    Column("match_probability", Float),
    Column("nik_kandidat", String(16)),
    Column("merged_into_file", Text),
    Column("merged_into_row", Integer),
    Index("ix_row_outcome_quarter_source", "quarter", "source_file", "source_row"),
    Index("ix_row_outcome_quarter_person", "quarter", "person_key"),
    Index("ix_row_outcome_quarter_nik", "quarter", "nik_dukcapil"),
)

dtks_snapshot = Table(
    "dtks_snapshot",
    metadata,
    *_run_columns(),
    Column("person_key", String(20), nullable=False),
    Column("kode_desa", String(10)),
    Column("no_kk", String(32)),
    Column("nik", String(32)),
    Column("nama", Text),
    Column("jenis_kelamin", String(1)),
    Column("tanggal_lahir", String(10)),
    Column("hubungan_keluarga", String(20)),
    Column("status_padan", String(24)),
    Column("nik_dukcapil", String(16)),
    Column("status_dtks", String(10), nullable=False),
    Column("alasan_nonaktif", String(30)),
    Column("source_file", Text, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("kode_kab", String(4)),
    Column("id_dtks", String(64)),
    Column("program", Text),
    Column("jumlah_baris", Integer),
    Index("ix_dtks_snapshot_quarter_person", "quarter", "person_key"),
    Index("ix_dtks_snapshot_quarter_nik", "quarter", "nik"),
    Index("ix_dtks_snapshot_quarter_source", "quarter", "source_file", "source_row"),
)

discrepancy = Table(
    "discrepancy",
    metadata,
    *_run_columns(),
    Column("kode_desa", String(10)),
    Column("source_file", Text, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("nik", String(64)),
    Column("category", String(30), nullable=False),
    Column("detail", Text),
    Column("suggested_value", Text),
    Column("suggestion", Text),  # the value to use, in words (migration 0009)
    Index("ix_discrepancy_quarter_category", "quarter", "category"),
    Index("ix_discrepancy_quarter_source", "quarter", "source_file", "source_row"),
    Index("ix_discrepancy_quarter_nik", "quarter", "nik"),
)

quarantine = Table(
    "quarantine",
    metadata,
    *_run_columns(),
    Column("source_file", Text, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("kode_desa", String(10)),
    Column("raw_fields", Text, nullable=False),  # JSON object: the row's original fields
    Column("reasons", Text, nullable=False),  # JSON list of {category, field, message}
    Column("categories", Text),
    Index("ix_quarantine_quarter_source", "quarter", "source_file", "source_row"),
)

link_candidate = Table(
    "link_candidate",
    metadata,
    *_run_columns(),
    Column("source_file", Text, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("candidate_nik", String(16), nullable=False),
    Column("method", String(20), nullable=False),
    Column("chosen", Boolean, nullable=False),
    Column("match_weight", Float),
    Column("match_probability", Float),
    # JSON {comparison: level} / {comparison: weight in bits}: quarters published before migration 0010;
    # since then empty, and the levels and weights are in the integer columns at the end.
    Column("levels", Text),
    Column("weights", Text),
    Column("candidate_source_file", Text),  # the Dukcapil extract and row the candidate was read from
    Column("candidate_source_row", Integer),
    *_explanation_columns(),
    Index("ix_link_candidate_quarter_source", "quarter", "source_file", "source_row"),
    Index("ix_link_candidate_quarter_nik", "quarter", "candidate_nik"),
)

duplicate_edge = Table(
    "duplicate_edge",
    metadata,
    *_run_columns(),
    Column("source_file_a", Text, nullable=False),
    Column("source_row_a", Integer, nullable=False),
    Column("source_file_b", Text, nullable=False),
    Column("source_row_b", Integer, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("match_weight", Float),
    Column("match_probability", Float),
    Column("levels", Text, nullable=False),
    Column("weights", Text, nullable=False),
    Column("basis", String(30)),  # how the rows came to be one person (pipelines.survivor); empty: they did not
    Column("survivor", String(1)),  # `a` or `b`: the side that was published
    Column("survivor_rule", String(30)),  # the step of the rule that chose it (pipelines.survivor)
    Index("ix_duplicate_edge_quarter_a", "quarter", "source_file_a", "source_row_a"),
    Index("ix_duplicate_edge_quarter_b", "quarter", "source_file_b", "source_row_b"),
)

run = Table(
    "run",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("quarter", String(6), nullable=False),
    Column("status", String(20), nullable=False),  # PUBLISHED, or SUPERSEDED once a later run replaced it
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("published_at", DateTime(timezone=True)),
    Column("code_version", String(80)),
    Column("config", Text),  # JSON
    Column("input_files", Text),  # JSON list: source_file, kind, sha256, size, data_rows, status, problems
    Column("counts", Text),  # JSON: rows per outcome, findings per category, persons
    Column("validation", Text),  # JSON: GX results summary per suite, quality gate
    Column("linkage", Text),  # JSON: blocking, model parameters, decisions
    Column("stage_seconds", Text),  # JSON
    Column("data_docs", Text),
    Column("paths", Text),  # JSON: landing root, reports directory, work directory of the run
    Column("reports", Text),  # JSON: the published reports' directory, file count and manifest digest
    Column("landing", Text),  # JSON: the landing area's entries that were not expected inputs (discover)
    Column("held_back", Text),  # JSON: kabupaten/kota held back by their quality gate, with its problems
    Index("ix_run_quarter_status", "quarter", "status"),
)

run_attempt = Table(
    "run_attempt",
    metadata,
    Column("run_id", String(250), primary_key=True),
    Column("quarter", String(6), nullable=False),
    Column("status", String(20), nullable=False),  # FAILED, GATE_REJECTED, PUBLISHED (never downgraded)
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("failed_stage", String(60)),
    Column("message", Text),  # masked: never personal data
    Column("code_version", String(80)),
    Column("delivery_status", String(20)),  # the report e-mails of a published run: SENT, FAILED, ...
    Column("held_back", Text),  # JSON list of the kode_kab whose quality gate failed (policy publish_others)
)

# Each failed check of each input row, quarantining or not: what validation said about the row.
validation_result = Table(
    "validation_result",
    metadata,
    *_run_columns(),
    Column("source_file", Text, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("expectation", Text, nullable=False),
    Column("category", String(30)),
    Column("field", String(60)),
    Column("action", String(20), nullable=False),
    Column("message", Text),
    Index("ix_validation_result_quarter_source", "quarter", "source_file", "source_row"),
)

PUBLISHED_TABLES = (
    row_outcome,
    dtks_snapshot,
    discrepancy,
    quarantine,
    link_candidate,
    duplicate_edge,
    validation_result,
)
VIEWS = ("quarter_changes",)
