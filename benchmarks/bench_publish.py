"""Benchmark: publish a quarter with 1M snapshot rows to PostgreSQL, then replace it, then trace in it.

    .venv/bin/python benchmarks/bench_publish.py [--persons 1000000] [--admin-url postgresql+psycopg2://postgres@127.0.0.1/postgres]

Builds a realistic publication in memory (per person: a snapshot row; per input row: a row outcome and a
link candidate; findings, quarantine and validation results at the rates of a generated quarter) and the
run's staged reports (a workbook, an HTML summary and a feedback file per village, sized like the reports
of a generated quarter), creates a throw-away database, publishes both as one unit (a first publication,
then a re-run that replaces it), and times `dtks trace` look-ups by source row and by NIK on the result.
Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.reports.release import ReportsRelease, link_or_copy
from pipelines.trace import format_trace, trace
from pipelines.warehouse import connect
from pipelines.warehouse.publish import Publication, publish

QUARTER = "2026Q3"


def build(persons: int, seed: int = 1) -> Publication:
    rng = np.random.default_rng(seed)
    rows = int(persons * 1.02)  # merged duplicates and quarantined rows come on top of persons
    files = np.array(
        [f"{QUARTER}/submissions/5203/52030{k:02d}2{d:03d}.csv" for k in range(1, 22) for d in range(1, 13)]
    )
    file_of_row = np.sort(rng.integers(0, len(files), rows))
    source_file = files[file_of_row]
    source_row = pd.Series(file_of_row).groupby(file_of_row).cumcount().to_numpy() + 1
    nik = np.char.add("5203", rng.integers(10**11, 10**12, rows).astype(str))
    key = np.char.add("P", np.char.upper(np.array([f"{x:019x}" for x in rng.integers(0, 2**62, rows)])))
    person_of_row = np.minimum(np.arange(rows), persons - 1)
    outcome = np.where(np.arange(rows) < persons, "PUBLISHED", "MERGED_DUPLICATE")
    desa = np.char.add("52030", rng.integers(10000, 99999, rows).astype(str))
    names = np.array(["LALU AHMAD", "BAIQ NURUL HIDAYATI", "MUHAMMAD RIZKI", "SITI AMINAH", "SAHNUN"])
    row_outcome = pd.DataFrame(
        {
            "source_file": source_file,
            "source_row": source_row,
            "kode_desa": desa,
            "outcome": outcome,
            "person_key": key[person_of_row],
            "nik_dukcapil": nik[person_of_row],
            "status_padan": "PADAN",
            "match_probability": 0.999,
        }
    )
    snapshot = pd.DataFrame(
        {
            "person_key": key[:persons],
            "kode_desa": desa[:persons],
            "no_kk": nik[:persons],
            "nik": nik[:persons],
            "nama": names[rng.integers(0, len(names), persons)],
            "jenis_kelamin": "L",
            "tanggal_lahir": "1980-08-15",
            "hubungan_keluarga": "ANAK",
            "status_padan": "PADAN",
            "nik_dukcapil": nik[:persons],
            "status_dtks": "AKTIF",
            "source_file": source_file[:persons],
            "source_row": source_row[:persons],
            "kode_kab": "5203",
            "jumlah_baris": 1,
        }
    )
    flagged = rng.random(rows) < 0.15
    discrepancy = pd.DataFrame(
        {
            "kode_desa": desa[flagged],
            "source_file": source_file[flagged],
            "source_row": source_row[flagged],
            "nik": nik[flagged],
            "category": "KK_BERBEDA",
            "detail": "Nomor KK pada usulan berbeda dari nomor KK di Dukcapil.",
            "suggested_value": nik[flagged],
        }
    )
    # As the decide stage writes them: compact JSON, weights to 4 decimals.
    compact = {"separators": (",", ":")}
    levels = json.dumps(
        {"nik": 3, "name": 3, "name_tokens": 2, "dob": 5, "sex": 1, "kk": 2, "desa": 3, "mother": 2}, **compact
    )
    weights = json.dumps(
        {
            "nik": 15.1372,
            "name": 9.5108,
            "name_tokens": 0.0,
            "dob": 13.2957,
            "sex": 0.9821,
            "kk": 12.4416,
            "desa": 0.0,
            "mother": 7.6093,
        },
        **compact,
    )
    candidates = pd.DataFrame(
        {
            "source_file": source_file,
            "source_row": source_row,
            "rank": 1,
            "candidate_nik": nik[person_of_row],
            "method": "exact",
            "chosen": True,
            "match_weight": 58.9,
            "match_probability": 1.0,
            "levels": levels,
            "weights": weights,
        }
    )
    quarantined = rng.random(rows) < 0.006
    quarantine = pd.DataFrame(
        {
            "source_file": source_file[quarantined],
            "source_row": source_row[quarantined],
            "kode_desa": desa[quarantined],
            "raw_fields": json.dumps({"nama": "X", "tanggal_lahir": "31-02-1985"}),
            "reasons": json.dumps([{"category": "FORMAT_TIDAK_VALID", "field": "tanggal_lahir", "message": "..."}]),
            "categories": "FORMAT_TIDAK_VALID",
        }
    )
    checks = rng.random(rows) < 0.04
    validation = pd.DataFrame(
        {
            "source_file": source_file[checks],
            "source_row": source_row[checks],
            "expectation": "expect:nik",
            "category": "NIK_TIDAK_VALID",
            "field": "nik",
            "action": "finding",
            "message": "NIK kosong.",
        }
    )
    tables = {
        "row_outcome": row_outcome,
        "dtks_snapshot": snapshot,
        "discrepancy": discrepancy,
        "link_candidate": candidates,
        "quarantine": quarantine,
        "validation_result": validation,
    }
    # As the publish stage reads the decide stage's Parquet files: Arrow-backed columns.
    tables = {name: as_read_by_the_stage(frame) for name, frame in tables.items()}
    # `dtks trace` names a row by a file the run read: the run record lists them, as a real run's does.
    input_files = [{"source_file": f, "kind": "submission", "status": "ACCEPTED"} for f in files]
    record = {"code_version": "bench", "counts": {"persons": persons}, "input_files": input_files}
    return Publication(QUARTER, "bench-run", tables, record)


def as_read_by_the_stage(frame: pd.DataFrame) -> pd.DataFrame:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    return pd.read_parquet(buffer, dtype_backend="pyarrow")


def staged_reports(work: Path, persons: int, villages: int = 252) -> Path:
    """The reports stage's output for one kabupaten, sized like a generated quarter's (at 100,000 persons:
    a 0.87 MB workbook, 50 KB summary, 18 KB per village file; scaled by persons)."""
    rng = np.random.default_rng(2)
    scale = persons / 100_000
    kab = work / "5203"
    (kab / "desa").mkdir(parents=True)
    (kab / "laporan_dtks_5203_2026Q3.xlsx").write_bytes(rng.bytes(int(870_000 * scale)))
    (kab / "ringkasan_5203_2026Q3.html").write_bytes(rng.bytes(50_000))
    for village in range(villages):
        (kab / "desa" / f"52030{village:05d}.xlsx").write_bytes(rng.bytes(int(18_000 * scale * 239 / villages)))
    return work


def reports_release(root: Path, work: Path, run_id: str) -> ReportsRelease:
    import shutil

    def build(directory: Path) -> None:
        for staged in work.iterdir():
            shutil.copytree(staged, directory / staged.name, copy_function=link_or_copy)

    return ReportsRelease(root, QUARTER, run_id, build)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--traces", type=int, default=20)
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.INFO, format="  %(message)s")

    start = time.perf_counter()
    pub = build(args.persons)
    sizes = {k: len(v) for k, v in pub.tables.items()}
    print(f"bench_publish build persons={args.persons} rows={sizes} in {time.perf_counter() - start:.1f}s")

    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    name = f"dtks_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    engine = connect(url)
    scratch = Path(tempfile.mkdtemp(prefix="dtks_bench_reports_"))
    work = staged_reports(scratch / "work", args.persons)
    try:
        for attempt in ("first", "replace"):
            pub.run_id = f"bench-{attempt}"
            t = time.perf_counter()
            publish(engine, pub, reports_release(scratch / "reports", work, pub.run_id))
            print(
                f"bench_publish {attempt} publication: {time.perf_counter() - t:.1f}s "
                f"(snapshot rows {sizes['dtks_snapshot']}, all rows {sum(sizes.values())})"
            )
        with engine.connect() as c:
            samples = c.execute(
                text("SELECT source_file, source_row, nik_dukcapil FROM row_outcome TABLESAMPLE SYSTEM (1) LIMIT :n"),
                {"n": args.traces},
            ).all()
        timings = []
        for source_file, source_row, nik in samples:
            for kwargs in ({"source_file": source_file, "source_row": source_row}, {"nik": nik}):
                t = time.perf_counter()
                format_trace(trace(engine, QUARTER, read_input=False, **kwargs))
                timings.append(time.perf_counter() - t)
        print(
            f"bench_trace lookups={len(timings)} median={np.median(timings) * 1000:.0f}ms "
            f"max={max(timings) * 1000:.0f}ms"
        )
        # What an auditor waits for: the whole command, interpreter start and imports included.
        source_file, source_row, _ = samples[0]
        walls = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pipelines.cli",
                    "trace",
                    "--quarter",
                    QUARTER,
                    "--warehouse",
                    url,
                    "--source-file",
                    source_file,
                    "--source-row",
                    str(source_row),
                    "--no-input",
                ],
                check=True,
                capture_output=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            walls.append(time.perf_counter() - t)
        print(f"bench_trace command wall (3 runs) best={min(walls):.2f}s worst={max(walls):.2f}s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(f"bench_publish peak_rss={peak:.1f}GB")
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
