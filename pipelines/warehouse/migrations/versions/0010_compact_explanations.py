"""Link explanations as small integer columns: per comparison of the linker, `lvl_<name>` (SMALLINT) and
`w_<name>` (INTEGER, ten-thousandths of a bit) on `link_candidate`; its JSON `levels` and `weights` become
nullable (empty for quarters published since; earlier quarters keep theirs, and `dtks trace` reads both).

Added on the partitioned parent, PostgreSQL adds them to every partition; older quarters keep them empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen here, not derived from the current code: a migration says what it changed when it was written.
COMPARISONS = ("nik", "name", "name_tokens", "dob", "sex", "kk", "kk_family", "desa", "mother")


def _schema() -> str | None:
    return "dtks" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    with op.batch_alter_table("link_candidate", schema=_schema()) as batch:
        batch.alter_column("levels", existing_type=sa.Text, nullable=True)
        batch.alter_column("weights", existing_type=sa.Text, nullable=True)
        for name in COMPARISONS:
            batch.add_column(sa.Column(f"lvl_{name}", sa.SmallInteger))
            batch.add_column(sa.Column(f"w_{name}", sa.Integer))


def downgrade() -> None:
    # Quarters published with the integer columns get their explanations back as JSON before they go.
    schema = _schema()
    table = f'"{schema}".link_candidate' if schema else "link_candidate"
    build = "json_build_object" if schema else "json_object"
    levels = ", ".join(f"'{n}', lvl_{n}" for n in COMPARISONS)
    weights = ", ".join(f"'{n}', w_{n} / 10000.0" for n in COMPARISONS)
    op.execute(
        f"UPDATE {table} SET levels = CAST({build}({levels}) AS TEXT), weights = CAST({build}({weights}) AS TEXT) "
        "WHERE levels IS NULL"
    )
    with op.batch_alter_table("link_candidate", schema=schema) as batch:
        for name in reversed(COMPARISONS):
            batch.drop_column(f"w_{name}")
            batch.drop_column(f"lvl_{name}")
        batch.alter_column("levels", existing_type=sa.Text, nullable=False)
        batch.alter_column("weights", existing_type=sa.Text, nullable=False)
