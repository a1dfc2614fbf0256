"""The auditors' role on PostgreSQL reads everything and can change nothing."""

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from pipelines.warehouse import connect
from pipelines.warehouse.publish import publish
from pipelines.warehouse.roles import grant_auditor
from tests.test_warehouse import publication

pytestmark = pytest.mark.postgres

FORBIDDEN = [
    "INSERT INTO dtks.run (run_id, quarter, status) VALUES ('x', '2026Q3', 'PUBLISHED')",
    "UPDATE dtks.dtks_snapshot SET status_dtks = 'NONAKTIF'",
    "DELETE FROM dtks.row_outcome",
    "TRUNCATE dtks.discrepancy",
    "CREATE TABLE dtks.mine (x int)",
    "DROP TABLE dtks.quarantine",
    "ALTER TABLE dtks.run ADD COLUMN x int",
    "CREATE TABLE public.mine (x int)",
]


def test_auditor_reads_and_cannot_change(pg_url):
    engine = connect(pg_url)
    publish(engine, publication("run-1"))
    suffix = uuid.uuid4().hex[:8]
    role, login = f"dtks_auditor_{suffix}", f"auditor_{suffix}"
    grant_auditor(engine, role, login=login, password="rahasia-uji")
    auditor = create_engine(pg_url.replace("postgres@", f"{login}:rahasia-uji@"), isolation_level="AUTOCOMMIT")
    try:
        with auditor.connect() as c:
            assert c.execute(text("SELECT count(*) FROM dtks_snapshot")).scalar() == 3
            assert c.execute(text("SELECT count(*) FROM quarter_changes")).scalar() == 0
            for statement in FORBIDDEN:
                with pytest.raises(DBAPIError, match=r"permission denied|read-only"):
                    c.execute(text(statement))
            # Even with read-only transactions switched off, privileges still refuse.
            c.execute(text("SET default_transaction_read_only = off"))
            with pytest.raises(DBAPIError, match="permission denied"):
                c.execute(text("DELETE FROM dtks.row_outcome"))
        # A table added later (the next migration) is readable too.
        with engine.begin() as c:
            c.execute(text("CREATE TABLE dtks.added_later (x int)"))
        with auditor.connect() as c:
            assert c.execute(text("SELECT count(*) FROM dtks.added_later")).scalar() == 0
    finally:
        auditor.dispose()
        with engine.begin() as c:
            for name in (login, role):
                c.execute(text(f'DROP OWNED BY "{name}"'))
                c.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        engine.dispose()


def test_sqlite_has_no_roles(tmp_path):
    with pytest.raises(ValueError, match="PostgreSQL"):
        grant_auditor(connect(f"sqlite:///{tmp_path / 'w.sqlite'}"))
