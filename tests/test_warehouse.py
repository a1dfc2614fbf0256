"""Warehouse: migrations on SQLite and PostgreSQL, atomic replacement of a quarter, failures change nothing."""

import sqlite3
import threading

import pandas as pd
import psycopg2
import pytest
from sqlalchemy import MetaData, inspect, text

from pipelines.warehouse import connect, current_revision, downgrade, head_revision, upgrade
from pipelines.warehouse.publish import Publication, PublicationConflict, _lock_key, publish
from pipelines.warehouse.schema import VIEWS, metadata


def publication(run_id: str, quarter: str = "2026Q3", persons: int = 3, broken: bool = False) -> Publication:
    outcome = pd.DataFrame(
        {
            "source_file": "2026Q3/submissions/5203/5203012001.csv",
            "source_row": range(1, persons + 1),
            "kode_desa": "5203012001",
            "outcome": "PUBLISHED",
            "person_key": [f"P{i}" for i in range(persons)],
        }
    )
    snapshot = pd.DataFrame(
        {
            "person_key": [f"P{i}" for i in range(persons)],
            "status_dtks": "AKTIF",
            "source_file": "2026Q3/submissions/5203/5203012001.csv",
            "source_row": range(1, persons + 1),
            "nama": ['SITI, "ANI"\nBARU', "A", "B"][:persons] + ["X"] * max(0, persons - 3),
        }
    )
    discrepancy = pd.DataFrame(
        {"source_file": "f", "source_row": [1], "category": [None if broken else "GANDA"], "kode_desa": "5203012001"}
    )
    return Publication(
        quarter,
        run_id,
        {"row_outcome": outcome, "dtks_snapshot": snapshot, "discrepancy": discrepancy},
        {"code_version": "test", "counts": {"rows": persons}},
    )


def count(engine, table: str, quarter: str = "2026Q3") -> int:
    with engine.connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table} WHERE quarter = :q"), {"q": quarter}).scalar()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        e = connect(f"sqlite:///{tmp_path / 'wh.sqlite'}")
    else:
        e = connect(request.getfixturevalue("pg_url"))
    yield e
    e.dispose()


def test_migrations_create_the_declared_schema(engine):
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    schema = "dtks" if engine.dialect.name == "postgresql" else None
    assert set(VIEWS) <= set(inspect(engine).get_view_names(schema=schema))
    reflected = MetaData()
    reflected.reflect(engine, schema=schema)
    for table in metadata.sorted_tables:
        key = f"{schema}.{table.name}" if schema else table.name
        assert key in reflected.tables, table.name
        assert [c.name for c in reflected.tables[key].columns] == [c.name for c in table.columns]
    upgrade(engine)  # idempotent


def test_c_collation_migration_keeps_published_quarters(pg_url):
    """0004 changes the indexed text columns' collation under a published quarter, both ways, keeping
    every row, the partitions and the changes view."""
    engine = connect(pg_url)
    try:
        publish(engine, publication("q2", "2026Q2"))
        publish(engine, publication("q3"))

        def collations() -> set[str | None]:
            with engine.connect() as c:
                return set(
                    c.execute(
                        text(
                            "SELECT collation_name FROM information_schema.columns WHERE table_schema = 'dtks' "
                            "AND table_name LIKE 'row_outcome%' AND column_name IN ('source_file', 'person_key')"
                        )
                    ).scalars()
                )

        assert collations() == {"C"}  # the parent and both partitions
        downgrade(engine, "0003")
        assert collations() == {None}
        upgrade(engine)
        assert collations() == {"C"}
        assert count(engine, "row_outcome") == 3 and count(engine, "dtks_snapshot", "2026Q2") == 3
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM dtks.quarter_changes")).scalar() == 0
            # Equality look-ups (a query in the default collation) still use the "C"-collated indexes.
            c.execute(text("SET enable_seqscan = off"))
            plan = " ".join(
                c.execute(
                    text("EXPLAIN SELECT * FROM dtks.row_outcome WHERE quarter = '2026Q3' AND person_key = 'P1'")
                ).scalars()
            )
            assert "Index" in plan, plan
    finally:
        engine.dispose()


def test_republish_replaces_and_failure_keeps_the_previous(engine):
    publish(engine, publication("run-1", persons=3))
    publish(engine, publication("run-other-quarter", quarter="2026Q2", persons=2))
    publish(engine, publication("run-2", persons=5))
    assert count(engine, "dtks_snapshot") == 5 and count(engine, "dtks_snapshot", "2026Q2") == 2
    with engine.connect() as c:
        runs = dict(c.execute(text("SELECT run_id, status FROM run WHERE quarter = '2026Q3'")).all())
        names = (
            c.execute(text("SELECT nama FROM dtks_snapshot WHERE quarter='2026Q3' ORDER BY source_row")).scalars().all()
        )
    assert runs == {"run-1": "SUPERSEDED", "run-2": "PUBLISHED"}
    assert names[0] == 'SITI, "ANI"\nBARU'  # quotes, commas and newlines survive COPY
    if engine.dialect.name == "postgresql":  # the replaced partitions were dropped after the swap
        with engine.connect() as c:
            loose = c.execute(
                text(
                    "SELECT count(*) FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace "
                    "WHERE n.nspname = 'dtks' AND k.relkind = 'r' AND k.relname LIKE '%\\_\\_2026q%' "
                    "AND NOT k.relispartition"
                )
            ).scalar()
        assert loose == 0

    with pytest.raises((sqlite3.IntegrityError, psycopg2.Error)):  # NULL category: NOT NULL, last table written
        publish(engine, publication("run-3", persons=4, broken=True))
    assert count(engine, "dtks_snapshot") == 5 and count(engine, "row_outcome") == 5
    with engine.connect() as c:
        assert (
            c.execute(text("SELECT run_id FROM run WHERE status = 'PUBLISHED' AND quarter='2026Q3'")).scalar()
            == "run-2"
        )


def test_concurrent_publication_of_one_quarter_is_refused(pg_url):
    engine = connect(pg_url)
    upgrade(engine)
    holder = engine.raw_connection()
    cursor = holder.cursor()
    cursor.execute("BEGIN")
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key("2026Q3"),))
    try:
        with pytest.raises(PublicationConflict):
            publish(engine, publication("run-x"))
        publish(engine, publication("run-y", quarter="2026Q2"))  # another quarter is not blocked
    finally:
        holder.rollback()
        holder.close()
    publish(engine, publication("run-x"))
    assert count(engine, "dtks_snapshot") == 3
    engine.dispose()


def test_readers_see_the_old_publication_until_commit(tmp_path):
    """While a run writes, a reader of SQLite (WAL) still sees the previous quarter in full."""
    engine = connect(f"sqlite:///{tmp_path / 'wh.sqlite'}")
    publish(engine, publication("run-1", persons=3))
    big = publication("run-2", persons=200_000)
    seen = []

    def read_repeatedly():
        for _ in range(50):
            seen.append(count(engine, "dtks_snapshot"))

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    publish(engine, big)
    reader.join()
    assert set(seen) <= {3, 200_000}
    assert inspect(engine).has_table("run")


def test_quarter_changes_view(engine):
    def snapshot(run_id, quarter, people):
        frame = pd.DataFrame(
            [
                {
                    "person_key": k,
                    "status_dtks": s,
                    "alasan_nonaktif": a,
                    "kode_desa": "5203012001",
                    "source_file": f"{quarter}/submissions/5203/5203012001.csv",
                    "source_row": i + 1,
                }
                for i, (k, s, a) in enumerate(people)
            ]
        )
        return Publication(quarter, run_id, {"dtks_snapshot": frame}, {"code_version": "test"})

    active = ("AKTIF", None)
    publish(engine, snapshot("q2", "2026Q2", [("A", *active), ("B", *active), ("C", *active)]))
    publish(engine, snapshot("q3", "2026Q3", [("A", *active), ("B", "NONAKTIF", "MENINGGAL"), ("D", *active)]))
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT quarter, previous_quarter, change, person_key, status_before, status_after FROM quarter_changes"
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        ("2026Q3", "2026Q2", "ADDED", "D", None, "AKTIF"),
        ("2026Q3", "2026Q2", "REMOVED", "C", "AKTIF", None),
        ("2026Q3", "2026Q2", "STATUS_CHANGED", "B", "AKTIF", "NONAKTIF"),
    ]


def test_staging_schema_migration_moves_what_earlier_releases_left(pg_url):
    """0005: unattached staging and retired tables that releases before the staging schema left in `dtks`
    (where readers were granted them) move to `dtks_staging`; the next publication drops them."""
    engine = connect(pg_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as c:
            c.execute(text('CREATE TABLE dtks."row_outcome__2026q3__0123456789" (LIKE dtks.row_outcome)'))
        upgrade(engine)
        with engine.connect() as c:
            where = c.execute(
                text("SELECT schemaname FROM pg_tables WHERE tablename = 'row_outcome__2026q3__0123456789'")
            ).scalar()
            assert where == "dtks_staging"
            assert not c.execute(text("SELECT has_schema_privilege('public', 'dtks_staging', 'USAGE')")).scalar()
        publish(engine, publication("run-1"))
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'dtks_staging'")).scalar() == 0
    finally:
        engine.dispose()
