"""Benchmark: the Dinsos workbook of one kabupaten with 100,000 submitted rows (issue 14's speed note).

    .venv/bin/python benchmarks/bench_workbook.py                 # 100,000 rows, 3 measured runs
    .venv/bin/python benchmarks/bench_workbook.py --rows 20000 --repeat 1 --profile /work/bench/wb.prof

The inputs are the rendering tests' random kabupaten tables (`tests/test_rendering.quarter`: findings of
every category drawn per row, duplicates every 9th row, in the pipeline's own formats), with the
suggestions decided as the decide stage decides them (`pipelines.finding_suggestions`), so the workbook
reads them as it does in a run. Each run writes the workbook in the same process and reports its wall
time; the best of `--repeat` is reported with all runs listed. Note the machine's load beside a figure.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

MIX_SHARE = 0.035  # per category and row: about a third of the rows have a finding, as in a real quarter


def inputs(rows: int, seed: int, work: Path) -> dict:
    """The tables, made once per (rows, seed) and kept in `work` (the generator takes minutes at 100k)."""
    kept = work / f"workbook-inputs-{rows}-{seed}.pkl"
    if kept.exists():
        return pd.read_pickle(kept)
    from test_rendering import quarter

    from pipelines import contract as c
    from pipelines.finding_suggestions import COLUMN, suggestions

    mix = {cat: MIX_SHARE for cat in [*c.CATEGORIES, c.BIODATA_TIDAK_SESUAI_NIK] if cat != c.GANDA}
    tables = quarter(seed, rows, mix)
    d = tables["discrepancy"].merge(
        tables["row_outcome"][["source_file", "source_row", "status_padan", "person_key", "nik_dukcapil"]],
        on=["source_file", "source_row"],
        how="left",
    )
    tables["discrepancy"][COLUMN] = suggestions(d, tables["snapshot"])
    work.mkdir(parents=True, exist_ok=True)
    pd.to_pickle(tables, kept)
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the last run here")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-workbook")
    args = parser.parse_args()

    from pipelines.reports import write_kabupaten_workbook

    started = time.perf_counter()
    tables = inputs(args.rows, args.seed, args.work)
    made = time.perf_counter() - started
    print(f"inputs: {args.rows:,} rows, {len(tables['discrepancy']):,} findings ({made:.1f} s)", flush=True)
    times, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="bench-workbook-") as tmp:
        for run in range(args.repeat):
            profiler = cProfile.Profile() if args.profile and run == args.repeat - 1 else None
            started, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            path = write_kabupaten_workbook(
                Path(tmp) / "laporan.xlsx",
                kode_kab="5203",
                quarter="2026Q3",
                run_id="manual__2026-10-01T02:03:04+00:00",
                discrepancy=tables["discrepancy"],
                row_outcome=tables["row_outcome"],
                file_problems=tables["file_problems"],
                context=tables["context"],
                snapshot=tables["snapshot"],
            )
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)  # less sensitive than wall time to the others' load
            print(
                f"run {run + 1}: {times[-1]:.1f} s, CPU {cpus[-1]:.1f} s ({path.stat().st_size / 1e6:.1f} MB)",
                flush=True,
            )
    load = os.getloadavg()
    print(f"workbook, {args.rows:,} rows: best {min(times):.1f} s of {', '.join(f'{t:.1f}' for t in times)}")
    print(f"CPU time: best {min(cpus):.1f} s of {', '.join(f'{t:.1f}' for t in cpus)}")
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
