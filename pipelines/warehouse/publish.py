"""Publish one quarter atomically: the quarter's previous rows are replaced in a single transaction, so
readers see either the old publication or the new one, never a mixture, and a failure changes nothing.

What is published with the warehouse - the reports directory (`pipelines.reports.release`) - is a
`Companion`: it is staged, switched and, if the commit fails, switched back under the same lock, inside the
same transaction that swaps the tables and records the run in `run` and its attempt as PUBLISHED in
`run_attempt`. The lock: on PostgreSQL a session advisory lock keyed on the quarter, held from before the
load until after the commit (a second publication of the quarter is refused); on SQLite the database's
write lock (`BEGIN IMMEDIATE`, held for the whole publication; a second writer waits). Whoever takes the
lock first makes the companion agree with the warehouse again (`reconcile`), in case a run was killed
between the companion's switch and the commit.

PostgreSQL: `COPY` through psycopg2's `copy_expert` into tables of the staging schema (`partitions.py`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Engine

from pipelines.contract import WAREHOUSE_SCHEMA
from pipelines.warehouse import is_postgres, upgrade
from pipelines.warehouse.explanations import compact
from pipelines.warehouse.partitions import (
    PARTITION_INDEXES,
    create_staging,
    drop_orphan_staging,
    in_staging,
    partition_name,
    staging_index_statements,
    swap_in,
)
from pipelines.warehouse.schema import PUBLISHED_TABLES, run, run_attempt

PUBLISHED, SUPERSEDED = "PUBLISHED", "SUPERSEDED"

log = logging.getLogger(__name__)


class PublicationConflict(RuntimeError):
    """Another run is publishing the same quarter right now."""


class Companion(Protocol):
    """What is published together with the warehouse's quarter, under its lock (the reports directory).
    Every method is called holding the quarter's lock."""

    def reconcile(self, warehouse_run: str | None) -> None:
        """Agree with the run the warehouse publishes for the quarter (None: none) and tidy up."""

    def prepare(self) -> dict[str, Any]:
        """Stage this run's part; returns what the `run` row records about it (column `reports`)."""

    def switch(self) -> None:
        """Make the staged part the published one (inside the swap transaction, just before its commit)."""

    def undo(self) -> None:
        """Back to what was published before `switch` (the commit failed)."""

    def discard(self) -> None:
        """Remove the staged part (nothing was published)."""

    def prune(self) -> None:
        """After the commit: remove what the publication replaced."""


class _Alone:
    """No companion: the warehouse is published on its own."""

    def reconcile(self, warehouse_run: str | None) -> None:
        pass

    def prepare(self) -> dict[str, Any]:
        return {}

    def switch(self) -> None:
        pass

    def undo(self) -> None:
        pass

    def discard(self) -> None:
        pass

    def prune(self) -> None:
        pass


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
    if name == "link_candidate" and len(frame):
        frame = compact(frame)  # levels and weights as small integers, not JSON text (migration 0010)
    frame["run_id"], frame["quarter"] = pub.run_id, pub.quarter
    columns = _table_columns(name)
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame[columns]


def _json(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list)) else value


def _run_row(pub: Publication, now: dt.datetime, reports: dict[str, Any]) -> dict[str, Any]:
    row = {c.name: None for c in run.columns}
    for key, value in pub.run_record.items():
        if key in row:
            row[key] = _json(value)
    row.update(run_id=pub.run_id, quarter=pub.quarter, status=PUBLISHED, published_at=now, finished_at=now)
    row["reports"] = _json(reports) if reports else None
    return row


def _attempt_row(pub: Publication, now: dt.datetime) -> dict[str, Any]:
    """The attempt's PUBLISHED row, written in the swap's transaction; `finish` later adds its end time and
    the e-mails' status, and never changes the status."""
    started = pub.run_record.get("started_at")
    if isinstance(started, str):
        started = dt.datetime.fromisoformat(started)
    row = {c.name: None for c in run_attempt.columns}
    row.update(
        run_id=pub.run_id,
        quarter=pub.quarter,
        status=PUBLISHED,
        started_at=started,
        finished_at=now,
        code_version=pub.run_record.get("code_version"),
        held_back=_json(sorted(pub.run_record.get("held_back") or {})) or None,
    )
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
        cursor.execute(f"DROP TABLE IF EXISTS {in_staging(staging)}")
        create_staging(cursor, name, pub.quarter, staging)
        started = time.perf_counter()
        data = _copy_csv(frame)
        encoded = time.perf_counter()
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        cursor.copy_expert(f"COPY {in_staging(staging)} ({columns}) FROM STDIN WITH (FORMAT csv)", data)
        copied = time.perf_counter()
        cursor.execute(f"ANALYZE {in_staging(staging)}")
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


def _publish_postgres(engine: Engine, pub: Publication, frames: dict[str, pd.DataFrame], companion: Companion) -> None:
    """Load every table into its own fresh table and index it while the companion stages, then swap all the
    quarter's partitions, record the run and its attempt and switch the companion in one short transaction.
    Readers see the old publication until that commit and the new one after it; a failure or a kill before
    it changes nothing readers can see (but a kill right after the companion's switch: see `Companion`). A
    session advisory lock keeps two runs of one quarter apart throughout."""
    guard = engine.raw_connection()
    try:
        cursor = guard.cursor()
        cursor.execute("SELECT pg_try_advisory_lock(%s)", (_lock_key(pub.quarter),))
        if not cursor.fetchone()[0]:
            raise PublicationConflict(
                f"Another run is publishing quarter {pub.quarter} right now; try again when it ends."
            )
        try:
            companion.reconcile(_warehouse_run(cursor, f'"{WAREHOUSE_SCHEMA}".', "%s", pub.quarter))
            drop_orphan_staging(cursor, pub.quarter)
            guard.commit()
            try:
                with ThreadPoolExecutor(max_workers=1) as side:  # the reports stage while the tables load
                    preparing = side.submit(companion.prepare)
                    staged = _load(engine, pub, frames)
                    reports = preparing.result()
                # Waiting a while for a long reader is fine; waiting forever is not.
                cursor.execute("SET LOCAL lock_timeout = '120s'")
                started = time.perf_counter()
                for name in frames:
                    swap_in(cursor, name, pub.quarter, staged[name])
                _write_run(cursor, pub, reports, f'"{WAREHOUSE_SCHEMA}".', "%s")
                companion.switch()
            except BaseException:
                try:
                    guard.rollback()  # first: nothing below may commit the swap by accident
                finally:
                    _abandon(companion)
                drop_orphan_staging(cursor, pub.quarter)
                guard.commit()
                raise
            _commit(guard.commit, companion)
            log.info("Swapped in the quarter's %d partitions in %.2fs", len(frames), time.perf_counter() - started)
            _drop_replaced(guard, pub.quarter)
            _prune(companion, pub.quarter)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (_lock_key(pub.quarter),))
            guard.commit()
    finally:
        guard.close()


def _abandon(companion: Companion) -> None:
    """Before the commit: the companion back as it was, its staged part removed."""
    try:
        companion.undo()
    finally:
        companion.discard()


def _commit(commit: Callable[[], Any], companion: Companion) -> None:
    """Commit; if that fails, the companion goes back. Its staged part stays: the commit's outcome may be
    unknown (a connection lost while committing), and the next holder of the lock reconciles it with
    whatever the warehouse says."""
    try:
        commit()
    except BaseException:
        companion.undo()
        raise


def _prune(companion: Companion, quarter: str) -> None:
    """The quarter is published by then: a failure to tidy up is logged; the next publication prunes."""
    try:
        companion.prune()
    except Exception as exc:
        log.warning("What the publication of %s replaced was not removed (%s); the next one will.", quarter, exc)


def _warehouse_run(cursor, prefix: str, mark: str, quarter: str) -> str | None:
    """The run the warehouse publishes for `quarter` (committed state), or None."""
    cursor.execute(f"SELECT run_id FROM {prefix}run WHERE quarter = {mark} AND status = {mark}", (quarter, PUBLISHED))
    row = cursor.fetchone()
    return row[0] if row else None


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


def _publish_sqlite(engine: Engine, pub: Publication, frames: dict[str, pd.DataFrame], companion: Companion) -> None:
    """The quarter's rows deleted and inserted, the companion staged, the run recorded and the companion
    switched, all holding SQLite's write lock (`BEGIN IMMEDIATE`), then one commit."""
    connection = engine.raw_connection()
    try:
        dbapi = connection.driver_connection
        dbapi.isolation_level = None  # explicit transaction control
        cursor = dbapi.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            companion.reconcile(_warehouse_run(cursor, "", "?", pub.quarter))
            for name, frame in frames.items():
                cursor.execute(f'DELETE FROM "{name}" WHERE quarter = ?', (pub.quarter,))
                marks = ", ".join("?" for _ in frame.columns)
                columns = ", ".join(f'"{c}"' for c in frame.columns)
                cursor.executemany(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', _rows(frame))
            reports = companion.prepare()
            _write_run(cursor, pub, reports, "", "?")
            companion.switch()
        except BaseException:
            try:
                cursor.execute("ROLLBACK")
            finally:
                _abandon(companion)
            raise
        _commit(lambda: cursor.execute("COMMIT"), companion)
        _prune(companion, pub.quarter)
    finally:
        connection.close()


def _write_run(cursor, pub: Publication, reports: dict[str, Any], prefix: str, mark: str) -> None:
    """The run's row in `run` (the quarter's earlier run SUPERSEDED) and its attempt's PUBLISHED row in
    `run_attempt`, in the swap's transaction: the two never disagree."""
    now = dt.datetime.now(dt.UTC)
    cursor.execute(
        f"UPDATE {prefix}run SET status = {mark} WHERE quarter = {mark} AND status = {mark}",
        (SUPERSEDED, pub.quarter, PUBLISHED),
    )
    for table, row in (("run", _run_row(pub, now, reports)), ("run_attempt", _attempt_row(pub, now))):
        # A retried task re-publishes: its earlier rows go first.
        cursor.execute(f"DELETE FROM {prefix}{table} WHERE run_id = {mark}", (pub.run_id,))
        columns = ", ".join(f'"{c}"' for c in row)
        values = ", ".join(mark for _ in row)
        cursor.execute(f"INSERT INTO {prefix}{table} ({columns}) VALUES ({values})", tuple(row.values()))


def publish(engine: Engine, pub: Publication, companion: Companion | None = None) -> dict[str, int]:
    """Replace the quarter's publication with `pub` (and `companion`'s part, e.g. the reports, with it).
    Returns rows written per table."""
    upgrade(engine)
    frames = {t.name: _prepared(pub, t.name) for t in PUBLISHED_TABLES}
    if is_postgres(engine):
        _publish_postgres(engine, pub, frames, companion or _Alone())
    else:
        _publish_sqlite(engine, pub, frames, companion or _Alone())
    return {name: len(frame) for name, frame in frames.items()}


def reconcile(engine: Engine, quarter: str, companion: Companion) -> bool:
    """Holding the quarter's lock, make `companion` agree with the run the warehouse publishes (after a run
    died between the companion's switch and the warehouse's commit) and drop what dead runs left in the
    staging schema. False when a publication of the quarter holds the lock right now: it reconciled when it
    took it, and nothing could change since."""
    upgrade(engine)
    if is_postgres(engine):
        guard = engine.raw_connection()
        try:
            cursor = guard.cursor()
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (_lock_key(quarter),))
            if not cursor.fetchone()[0]:
                guard.rollback()
                return False
            try:
                companion.reconcile(_warehouse_run(cursor, f'"{WAREHOUSE_SCHEMA}".', "%s", quarter))
                drop_orphan_staging(cursor, quarter)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", (_lock_key(quarter),))
                guard.commit()
        finally:
            guard.close()
        return True
    connection = engine.raw_connection()
    try:
        dbapi = connection.driver_connection
        dbapi.isolation_level = None
        cursor = dbapi.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            companion.reconcile(_warehouse_run(cursor, "", "?", quarter))
        finally:
            cursor.execute("COMMIT")
    finally:
        connection.close()
    return True


def was_published(engine: Engine, run_id: str) -> bool:
    """Whether the run published (its row in `run` is PUBLISHED, or SUPERSEDED by a later run)."""
    from sqlalchemy import select

    with engine.connect() as connection:
        return connection.execute(select(run.c.run_id).where(run.c.run_id == run_id)).first() is not None


def published_run(engine: Engine, quarter: str) -> str | None:
    """The run the warehouse publishes for `quarter`, or None."""
    from sqlalchemy import select

    with engine.connect() as connection:
        return connection.execute(
            select(run.c.run_id).where(run.c.quarter == quarter, run.c.status == PUBLISHED)
        ).scalar()


def record_attempt(engine: Engine, attempt: dict[str, Any]) -> str:
    """Upsert the run's row in `run_attempt` (every run, published or not; messages are already masked) and
    return the status recorded. A run that the warehouse's `run` table holds was published: its attempt
    stays PUBLISHED whatever `attempt` says (report e-mails can fail after the publication; the row's
    `delivery_status` says so), so `run` and `run_attempt` never disagree."""
    from sqlalchemy import delete, insert, select

    upgrade(engine)
    row = {c.name: _json(attempt.get(c.name)) for c in run_attempt.columns}
    with engine.begin() as connection:
        if connection.execute(select(run.c.run_id).where(run.c.run_id == row["run_id"])).first():
            row.update(status=PUBLISHED, failed_stage=None, message=None)
        connection.execute(delete(run_attempt).where(run_attempt.c.run_id == row["run_id"]))
        connection.execute(insert(run_attempt).values(**row))
    return row["status"]
