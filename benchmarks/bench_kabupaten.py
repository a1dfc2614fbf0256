"""Issue 13: a kabupaten quarter end to end (`dtks run`) against Splink's linkage alone, on the same data.

    make bench-install                                            # Splink + DuckDB (the `bench` extra)
    make bench-kabupaten                                          # 1M Dukcapil persons
    .venv/bin/python benchmarks/bench_kabupaten.py --persons 100000 --dir /work/bench/k100k
    .venv/bin/python benchmarks/bench_kabupaten.py --landing /work/bench/L --quarter 2026Q3 --only dtks

One kabupaten is generated (untimed, kept in `--dir` when given and reused by the next run). Then, one
after the other:

1. `dtks run` from the landing files to the published quarter and its reports, through Airflow (`airflow
   dags test`), into a fresh PostgreSQL database (or the embedded SQLite file with `--warehouse sqlite`),
   under GNU time: wall time, peak RSS of the largest process of the run, each stage's own seconds and the
   time Airflow spends between tasks (task starts and ends read from the run's Airflow log); link F1 by
   `dtks evaluate` against the generator's ground truth.
2. Splink 5 on DuckDB linking the same quarter, exactly as `benchmarks/bench_link.py` sets it up: the
   pipeline's own ingest and validate stages prepare the rows (untimed), then Splink runs in a worker
   process, timed from the DataFrames in memory to one NIK per row; F1 scored as `dtks evaluate` scores
   links (non-quarantined rows, a predicted NIK is right when it is the true one); peak RSS of the worker.

Prints both wall times, the ratio, both F1s and both peak memories (and `uptime` before each timed part:
the 2 cores may be shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_link  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from pipelines import registry  # noqa: E402
from pipelines.evaluate import evaluate_quarter  # noqa: E402
from pipelines.warehouse import connect  # noqa: E402

ADMIN = os.environ.get("DTKS_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def load_average() -> str:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return f"load average {one}, {five}, {fifteen}"


def _admin(sql: str) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(sql))
    admin.dispose()


def fresh_database(name: str) -> str:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


# `airflow dags test` logs each task's start and end ("[DAG TEST] starting task_id=..." / "end task").
_TASK_EVENT = re.compile(r"^(\S+?)Z .*\[DAG TEST\] (starting|end task) task_id=(\S+)")


def task_spans(log_text: str) -> dict[str, Any]:
    """Each task's span in the run's log, and the seconds between one task's end and the next one's start."""
    spans: list[list[Any]] = []
    gaps, last_end, first = [], None, None
    for line in log_text.splitlines():
        m = _TASK_EVENT.match(line)
        if not m:
            continue
        ts = dt.datetime.fromisoformat(m[1])
        if m[2] == "starting":
            first = first or ts
            if last_end is not None:
                gaps.append((ts - last_end).total_seconds())
            spans.append([m[3], ts])
        elif spans and spans[-1][0] == m[3]:
            spans[-1][1] = round((ts - spans[-1][1]).total_seconds(), 2)
            last_end = ts
    spans = [s for s in spans if not isinstance(s[1], dt.datetime)]
    return {
        "tasks": len(spans),
        "span_s": round((last_end - first).total_seconds(), 1) if first and last_end else None,
        "task_spans_s": spans,
        "gaps_s": round(sum(gaps), 2),
    }


def dtks_run(landing: Path, quarter: str, home: Path, warehouse: str) -> dict[str, Any]:
    """`dtks run` under GNU time: wall, peak RSS (MiB) of the largest process, stage seconds, Airflow gaps."""
    # Synthetic data: a throw-away person-key secret (a run refuses to start without one).
    env = {"DTKS_PERSON_KEY_SECRET": secrets.token_hex(16), **os.environ, "DTKS_HOME": str(home)}
    command = ["/usr/bin/time", "-v", str(ROOT / ".venv" / "bin" / "dtks"), "run", "--landing", str(landing)]
    command += ["--quarter", quarter, "--warehouse", warehouse, "--reports", str(home / "reports")]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"dtks run failed ({done.returncode})")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) * 1024
    result = json.loads(max((home / "results").glob("*.json"), key=lambda p: p.stat().st_mtime).read_text())
    stages: dict[str, float] = {}
    for name, summary in result.get("summaries", {}).items():
        if isinstance(summary, dict) and "seconds" in summary:
            stages[name] = round(summary["seconds"], 1)
        elif isinstance(summary, dict):  # per kabupaten: {kab: summary}
            for kab, s in summary.items():
                if isinstance(s, dict) and "seconds" in s:
                    stages[f"{name}[{kab}]"] = round(s["seconds"], 1)
    log_files = sorted((home / "logs").glob("dtks-run-*.log"))
    gaps = task_spans(log_files[-1].read_text(errors="replace")) if log_files else {}
    return {"wall_s": round(wall, 1), "peak_rss_bytes": peak, "stages_s": stages, "airflow": gaps}


def splink(landing: Path, quarter: str, work: Path) -> dict[str, Any]:
    """bench_link's Splink worker on the pipeline's own validated rows of the same quarter."""
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "rows.parquet").exists():
        bench_link.prepare_inputs(landing, quarter, work)  # untimed, as in bench_link
    out = work / "splink_0"
    out.mkdir(exist_ok=True)
    measured = bench_link._spawn("splink", work, out)
    predictions = pd.read_parquet(out / "splink_predictions.parquet")
    scores = bench_link.link_f1(predictions, pd.read_parquet(work / "truth.parquet"))
    return {"wall_s": round(measured["wall"], 1), "peak_rss_bytes": measured["peak_rss"], **scores}


def generate(landing: Path, quarter: str, persons: int, seed: int | None) -> None:
    if (landing / quarter / "_ground_truth").exists():
        return
    from pipelines.synth import SynthConfig, generate

    started = time.perf_counter()
    config = SynthConfig(persons=persons, **({"seed": seed} if seed else {}))
    generate(landing, quarter, config, overwrite=True)
    print(f"generated {persons} persons in {time.perf_counter() - started:.0f} s (untimed)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000, help="Dukcapil persons to generate")
    parser.add_argument("--seed", type=int, help="generator seed (default: the generator's)")
    parser.add_argument("--landing", type=Path, help="an existing landing area instead of generating")
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--dir", type=Path, help="work folder, kept (default: a temporary one, removed)")
    parser.add_argument("--warehouse", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--only", choices=("dtks", "splink"), help="run one side only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    base = args.dir or Path(tempfile.mkdtemp(prefix="bench-kabupaten-"))
    base.mkdir(parents=True, exist_ok=True)
    landing = args.landing or base / "landing"
    database = f"dtks_bench_kab_{uuid.uuid4().hex[:8]}"
    results: dict[str, Any] = {"landing": str(landing), "quarter": args.quarter}
    try:
        if args.landing is None:
            generate(landing, args.quarter, args.persons, args.seed)
        if args.only != "splink":
            home = base / f"home-{uuid.uuid4().hex[:6]}"
            if args.warehouse == "postgresql":
                url = fresh_database(database)
            else:
                url = f"sqlite:///{home / 'warehouse.sqlite'}"
            results["dtks_load"] = load_average()
            print(f"dtks run ({results['dtks_load']}) ...", flush=True)
            ours = dtks_run(landing, args.quarter, home, url)
            engine = connect(url)
            scores = evaluate_quarter(engine, landing, args.quarter)
            engine.dispose()
            ours.update({k: scores["link"][k] for k in ("precision", "recall", "f1")})
            ours["rows"] = scores.get("row_outcome_rows")
            results["dtks"] = ours
            shutil.rmtree(home, ignore_errors=True)
        if args.only != "dtks":
            results["splink_load"] = load_average()
            print(f"Splink ({results['splink_load']}) ...", flush=True)
            results["splink"] = splink(landing, args.quarter, base / "splink")
    finally:
        if args.warehouse == "postgresql" and args.only != "splink":
            _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    print(format_results(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def format_results(r: dict[str, Any]) -> str:
    gib = bench_link._gib
    lines = [f"bench_kabupaten: {r['landing']} {r['quarter']}"]
    if "dtks" in r:
        d = r["dtks"]
        a = d["airflow"]
        spans = {name: s for name, s in a.get("task_spans_s", [])}
        stages = d["stages_s"]
        # Airflow's own time inside a task: its span minus what the stage itself measured.
        by_task = {stage.task: stage.name for stage in registry.STAGES}  # task ids differ from stage names
        inside = {k: round(v - stages.get(by_task.get(k, k), 0.0), 1) for k, v in spans.items()}
        lines += [
            f"  dtks run  wall {d['wall_s']:.1f} s  F1 {d['f1']:.6f} (P {d['precision']:.6f} R {d['recall']:.6f})"
            f"  peak RSS {gib(d['peak_rss_bytes'])}  ({r['dtks_load']})",
            f"    stages (s): {d['stages_s']} = {sum(d['stages_s'].values()):.1f} s",
            f"    Airflow: {a.get('tasks', 0)} tasks over {a.get('span_s')} s (the rest of the wall is start-up "
            f"and the end); between tasks {a.get('gaps_s')} s; Airflow's share of each task's span (s): {inside}",
        ]
    if "splink" in r:
        s = r["splink"]
        lines.append(
            f"  Splink 5  wall {s['wall_s']:.1f} s  F1 {s['f1']:.6f} (P {s['precision']:.6f} R {s['recall']:.6f})"
            f"  peak RSS {gib(s['peak_rss_bytes'])}  ({r['splink_load']})"
        )
    if "dtks" in r and "splink" in r:
        d, s = r["dtks"], r["splink"]
        lines.append(
            f"  ratio dtks run / Splink: wall {d['wall_s'] / s['wall_s']:.2f} (target <= 0.6), "
            f"F1 dtks - Splink {d['f1'] - s['f1']:+.6f}, peak memory {d['peak_rss_bytes'] / s['peak_rss_bytes']:.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
