"""Publish one quarter atomically: the quarter's previous rows are replaced in a single transaction, so
readers see either the old publication or the new one, never a mixture, and a failure changes nothing.

PostgreSQL: `COPY` through psycopg2's `copy_expert`; concurrent publications of one quarter are refused
by a transaction-scoped advisory lock. SQLite: `BEGIN IMMEDIATE` takes the write lock up front.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from pipelines.contract import WAREHOUSE_SCHEMA
from pipelines.warehouse import is_postgres, upgrade
from pipelines.warehouse.partitions import (
    PARTITION_INDEXES,
    create_staging,
    drop_orphan_staging,
    partition_name,
    q,
    staging_index_statements,
    swap_in,
)
from pipelines.warehouse.schema import PUBLISHED_TABLES, run

PUBLISHED, SUPERSEDED = "PUBLISHED", "SUPERSEDED"

log = logging.getLogger(__name__)


class PublicationConflict(RuntimeError):
    """Another run is publishing the same quarter right now."""


@dataclass
class Publication:
    quarter: str
    run_id: str
    tables: dict[str, pd.DataFrame]  # table name -> rows, without run_id/quarter
    run_record: dict[str, Any]  # the `run` row, JSON fields as Python objects


def _table_columns(name: str) -> list[str]:
    table = next(t for t in PUBLISHED_TABLES if t.name == name)
    return [c.name for c in table.columns]


def _prepared(pub: Publication, name: str) -> pd.DataFrame:
    frame = pub.tables.get(name, pd.DataFrame()).copy()
    frame["run_id"], frame["quarter"] = pub.run_id, pub.quarter
    columns = _table_columns(name)
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame[columns]


def _run_row(pub: Publication) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    row = {c.name: None for c in run.columns}
    for key, value in pub.run_record.items():
        if key in row:
            row[key] = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list)) else value
    row.update(run_id=pub.run_id, quarter=pub.quarter, status=PUBLISHED, published_at=now, finished_at=now)
    return row


def _rows(frame: pd.DataFrame) -> list[tuple]:
    obj = frame.astype(object)
    return list(obj.where(pd.notna(obj), None).itertuples(index=False, name=None))


def _copy_csv(frame: pd.DataFrame) -> io.BytesIO:
    """The frame as COPY-ready CSV, written by Arrow's multi-threaded writer (pandas' is 5-10 times
    slower at millions of rows). Nulls are unquoted empty fields, empty strings quoted `""`: exactly
    what PostgreSQL's CSV COPY reads as NULL and as ''."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pacsv.write_csv(table, buffer, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buffer.seek(0)
    return buffer


def _lock_key(quarter: str) -> int:
    return zlib.crc32(f"dtks:{quarter}".encode()) - 2**31


LOAD_WORKERS = 2  # connections loading side by side: one parses a COPY while Python encodes the next table


def _on_connection(engine: Engine, work: Callable[[Any], None]) -> None:
    """Run `work(cursor)` on a connection of its own and commit."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        work(cursor)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def _copy_table(engine: Engine, pub: Publication, name: str, frame: pd.DataFrame) -> str:
    """COPY one table's rows into a fresh, index-free staging table, gather its planner statistics and
    commit. The staging table is attached to nothing, so no reader sees it; if the run dies before the
    swap, the quarter's next publication drops it."""
    staging = partition_name(name, pub.quarter, pub.run_id)

    def work(cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {q(staging)}")
        create_staging(cursor, name, pub.quarter, staging)
        started = time.perf_counter()
        data = _copy_csv(frame)
        encoded = time.perf_counter()
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        cursor.copy_expert(f"COPY {q(staging)} ({columns}) FROM STDIN WITH (FORMAT csv)", data)
        copied = time.perf_counter()
        cursor.execute(f"ANALYZE {q(staging)}")
        log.info(
            "Loaded %s: %d rows, %.0f MB of CSV; encoded in %.1fs, copied in %.1fs, analysed in %.1fs",
            name,
            len(frame),
            data.getbuffer().nbytes / 1e6,
            encoded - started,
            copied - encoded,
            time.perf_counter() - copied,
        )

    _on_connection(engine, work)
    return staging


def _build_index(engine: Engine, name: str, columns: tuple[str, ...], statement: str) -> None:
    started = time.perf_counter()
    _on_connection(engine, lambda cursor: cursor.execute(statement))
    log.info("Indexed %s (%s) in %.1fs", name, ", ".join(columns), time.perf_counter() - started)


def _load(engine: Engine, pub: Publication, frames: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Every table into its staging table and then its indexes, on LOAD_WORKERS connections. A table's
    indexes are queued as soon as its COPY ends, one task each (CREATE INDEX statements on one table do not
    block each other), so both connections stay busy while the last large table is still being copied."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    order = sorted(frames, key=lambda n: -len(frames[n]))  # largest first: an even split
    staged: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=LOAD_WORKERS) as pool:
        copies = {pool.submit(_copy_table, engine, pub, name, frames[name]): name for name in order}
        indexes = []
        for future in as_completed(copies):
            name = copies[future]
            staged[name] = future.result()
            if len(frames[name]):
                for (_, columns), statement in zip(
                    PARTITION_INDEXES[name], staging_index_statements(name, staged[name]), strict=True
                ):
                    indexes.append(pool.submit(_build_index, engine, name, columns, statement))
        for future in indexes:
            future.result()
    return staged


def _publish_postgres(engine: Engine, pub: Publication, frames: dict[str, pd.DataFrame]) -> None:
    """Load every table into its own fresh table, index it, then swap all the quarter's partitions and
    record the run in one short transaction. Readers see the old publication until that commit and the
    new one after it; a failure or a kill before it changes nothing readers can see. A session advisory
    lock keeps two runs of one quarter apart throughout."""
    guard = engine.raw_connection()
    try:
        cursor = guard.cursor()
        cursor.execute("SELECT pg_try_advisory_lock(%s)", (_lock_key(pub.quarter),))
        if not cursor.fetchone()[0]:
            raise PublicationConflict(
                f"Another run is publishing quarter {pub.quarter} right now; try again when it ends."
            )
        try:
            drop_orphan_staging(cursor, pub.quarter)
            guard.commit()
            try:
                staged = _load(engine, pub, frames)
                # Waiting a while for a long reader is fine; waiting forever is not.
                cursor.execute("SET LOCAL lock_timeout = '120s'")
                started = time.perf_counter()
                for name in frames:
                    swap_in(cursor, name, pub.quarter, staged[name])
                _write_run(cursor, pub, f'"{WAREHOUSE_SCHEMA}"."run"', "%s")
                guard.commit()
                log.info("Swapped in the quarter's %d partitions in %.2fs", len(frames), time.perf_counter() - started)
            except BaseException:
                guard.rollback()
                drop_orphan_staging(cursor, pub.quarter)
                guard.commit()
                raise
            _drop_replaced(guard, pub.quarter)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (_lock_key(pub.quarter),))
            guard.commit()
    finally:
        guard.close()


def _drop_replaced(connection, quarter: str) -> None:
    """The partitions the swap replaced, dropped once the new ones are visible. The quarter is published
    by then: a failure here is logged, and the next publication of the quarter drops them."""
    started = time.perf_counter()
    try:
        dropped = drop_orphan_staging(connection.cursor(), quarter)
        connection.commit()
    except Exception as exc:
        connection.rollback()
        log.warning("The replaced partitions of %s were not dropped (%s); the next publication will.", quarter, exc)
        return
    log.info("Dropped %d replaced partitions in %.1fs", len(dropped), time.perf_counter() - started)


def _publish_sqlite(engine: Engine, pub: Publication, frames: dict[str, pd.DataFrame]) -> None:
    connection = engine.raw_connection()
    try:
        dbapi = connection.driver_connection
        dbapi.isolation_level = None  # explicit transaction control
        cursor = dbapi.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            for name, frame in frames.items():
                cursor.execute(f'DELETE FROM "{name}" WHERE quarter = ?', (pub.quarter,))
                marks = ", ".join("?" for _ in frame.columns)
                columns = ", ".join(f'"{c}"' for c in frame.columns)
                cursor.executemany(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', _rows(frame))
            _write_run(cursor, pub, '"run"', "?")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    finally:
        connection.close()


def _write_run(cursor, pub: Publication, table: str, mark: str) -> None:
    cursor.execute(
        f"UPDATE {table} SET status = {mark} WHERE quarter = {mark} AND status = {mark}",
        (SUPERSEDED, pub.quarter, PUBLISHED),
    )
    cursor.execute(f"DELETE FROM {table} WHERE run_id = {mark}", (pub.run_id,))  # a retried task re-publishes
    row = _run_row(pub)
    columns = ", ".join(f'"{c}"' for c in row)
    cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(mark for _ in row)})", tuple(row.values()))


def publish(engine: Engine, pub: Publication) -> dict[str, int]:
    """Replace the quarter's publication with `pub`. Returns rows written per table."""
    upgrade(engine)
    frames = {t.name: _prepared(pub, t.name) for t in PUBLISHED_TABLES}
    if is_postgres(engine):
        _publish_postgres(engine, pub, frames)
    else:
        _publish_sqlite(engine, pub, frames)
    return {name: len(frame) for name, frame in frames.items()}


def record_attempt(engine: Engine, attempt: dict[str, Any]) -> None:
    """Upsert the run's row in `run_attempt` (every run, published or not; messages are already masked)."""
    from sqlalchemy import delete, insert

    from pipelines.warehouse.schema import run_attempt

    upgrade(engine)
    row = {c.name: attempt.get(c.name) for c in run_attempt.columns}
    with engine.begin() as connection:
        connection.execute(delete(run_attempt).where(run_attempt.c.run_id == row["run_id"]))
        connection.execute(insert(run_attempt).values(**row))
