"""Benchmark: validate a million village submission rows (issue 3: under 60 s and 4 GiB on the reference machine).

    .venv/bin/python benchmarks/bench_validate.py                      # 1,000,000 rows, 3 measured runs
    .venv/bin/python benchmarks/bench_validate.py --rows 200000 --repeat 1 --work /tmp/bench

1. Makes the input once (kept in `--work`): a synthetic quarter from `dtks synth`, large enough for the
   requested rows (about 0.36 submission rows per Dukcapil person), read by the ingest stage's own code into
   `submissions.parquet` and `dukcapil.parquet`. Nothing is replicated: every NIK, KK and name is as distinct
   as in a real kabupaten.
2. Validates them in a fresh process per run, the way the validate stage does (Arrow-backed read,
   canonical forms, the GX suite through a ValidationDefinition, per-row reasons, Data Docs), and reports the
   wall time of the submission validation (the target), the Dukcapil extract's validation, Data Docs, the
   one-off import of Great Expectations, and the process's peak RSS.

Machine load from other work varies: the best of `--repeat` runs is reported with all runs listed.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUARTER = "2026Q3"
ROWS_PER_PERSON = 0.357  # submission rows per Dukcapil person in a generated quarter (docs/benchmarks.md)


def prepare(work: Path, rows: int, seed: int) -> Path:
    """The ingested quarter (parquet) with at least `rows` submission rows; made once and kept."""
    done = work / "ingest" / "done.json"
    if done.exists() and json.loads(done.read_text())["rows"] >= rows:
        return work / "ingest"
    from pipelines.discover import discover_quarter
    from pipelines.ingest.intake import ingest_dukcapil, ingest_submissions
    from pipelines.synth import SynthConfig, generate

    landing = work / "landing"
    persons = math.ceil(rows / ROWS_PER_PERSON * 1.02)
    start = time.perf_counter()
    summary = generate(landing, QUARTER, SynthConfig(persons=persons, seed=seed), overwrite=True)
    print(
        f"prepare: generated {summary.submission_rows} rows for {persons} persons in {time.perf_counter() - start:.0f}s"
    )
    start = time.perf_counter()
    files = discover_quarter(landing, QUARTER)
    submissions, reports = ingest_submissions([f for f in files if f.kind == "submission"])
    persons_frame, _ = ingest_dukcapil([f for f in files if f.kind == "dukcapil"])
    out = work / "ingest"
    out.mkdir(parents=True, exist_ok=True)
    submissions.to_parquet(out / "submissions.parquet", index=False)
    persons_frame.to_parquet(out / "dukcapil.parquet", index=False)
    (out / "files.json").write_text(json.dumps([r.to_dict() for r in reports]))
    done.write_text(json.dumps({"rows": len(submissions), "persons": len(persons_frame)}))
    print(
        f"prepare: ingested {len(submissions)} rows, {len(persons_frame)} persons in {time.perf_counter() - start:.0f}s"
    )
    return out


def measure(ingest: Path, rows: int, docs: Path) -> dict:
    """One run, in this (fresh) process: what the validate stage does, timed part by part."""
    import datetime as dt
    import shutil

    start = time.perf_counter()
    import great_expectations  # noqa: F401  (the one-off import, timed apart)
    import pandas as pd

    from pipelines.ingest.intake import FileReport
    from pipelines.validate import validate_dukcapil, validate_submissions
    from pipelines.validate.suites import GxSession

    imports = time.perf_counter() - start
    files = [FileReport(**r) for r in json.loads((ingest / "files.json").read_text())]
    raw = pd.read_parquet(ingest / "submissions.parquet", dtype_backend="pyarrow").iloc[:rows]
    shutil.rmtree(docs, ignore_errors=True)
    session = GxSession("bench_validate", docs)

    start = time.perf_counter()
    sub = validate_submissions(raw, files, run_name="bench_validate", today=dt.date(2026, 11, 23), session=session)
    submissions = time.perf_counter() - start
    rss_after_submissions = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del raw
    start = time.perf_counter()
    duk = validate_dukcapil(
        pd.read_parquet(ingest / "dukcapil.parquet", dtype_backend="pyarrow"),
        run_name="bench_validate",
        session=session,
    )
    dukcapil = time.perf_counter() - start
    start = time.perf_counter()
    session.build_data_docs()
    data_docs = time.perf_counter() - start
    return {
        "rows": len(sub.rows),
        "quarantined": sub.summary["quarantined"],
        "findings": sub.summary["findings"],
        "submissions_s": round(submissions, 1),
        "submissions_peak_rss_gib": round(rss_after_submissions / 1024**2, 2),
        "dukcapil_rows": duk.summary["rows"],
        "dukcapil_s": round(dukcapil, 1),
        "data_docs_s": round(data_docs, 1),
        "imports_s": round(imports, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260701)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dtks_bench_validate"))
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # one run, in a child process
    args = parser.parse_args(argv)
    ingest = args.work / "ingest"
    if args.measure:
        print(json.dumps(measure(ingest, args.rows, args.work / "data_docs")))
        return 0

    prepare(args.work, args.rows, args.seed)
    runs = []
    for _ in range(args.repeat):
        command = [sys.executable, __file__, "--measure", "--rows", str(args.rows), "--work", str(args.work)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
        print("run:", json.dumps(runs[-1]))
    best = min(runs, key=lambda r: r["submissions_s"])
    print(
        f"bench_validate rows={best['rows']} submissions={best['submissions_s']}s "
        f"(runs: {', '.join(str(r['submissions_s']) for r in runs)}) peak_rss={best['submissions_peak_rss_gib']}GiB "
        f"dukcapil_rows={best['dukcapil_rows']} dukcapil={best['dukcapil_s']}s data_docs={best['data_docs_s']}s "
        f"process_peak_rss={best['peak_rss_gib']}GiB gx_import={best['imports_s']}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
