"""cProfile of every stage of one quarter, run in one process the way the DAG chains them (issue 13).

    .venv/bin/python benchmarks/profile_stages.py --landing /work/bench/L1m --quarter 2026Q3 \
        --out /work/bench/profile [--warehouse postgresql+psycopg2://postgres@127.0.0.1/db] [--top 12]

For each stage: its wall time, and its top frames by own time (tottime) and by cumulative time, written to
`<out>/<stage>.txt` (and the raw `<stage>.prof` for snakeviz/pstats) and printed. The warehouse defaults
to a SQLite file under `--out`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import registry
from pipelines.stages import finish_run, run_stage, start_run
from pipelines.stages.lifecycle import partitions
from pipelines.warehouse.connection import environment_variable


def top(profile: cProfile.Profile, key: str, n: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(key).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    root = str(Path(__file__).resolve().parents[1]) + "/"
    return "\n".join(
        line.replace(root, "").replace(sys.prefix + "/lib/python3.11/site-packages/", "") for line in lines[start:]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--warehouse", help="SQLAlchemy URL (default: SQLite under --out)")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    name, value = environment_variable(args.warehouse or f"sqlite:///{args.out / 'warehouse.sqlite'}")
    os.environ[name] = value
    os.environ.setdefault("DTKS_PERSON_KEY_SECRET", secrets.token_hex(16))  # synthetic data only
    conf = {
        "quarter": args.quarter,
        "landing": str(args.landing),
        "work": str(args.out / "run"),
        "reports": str(args.out / "reports"),
    }
    started = time.perf_counter()
    run = start_run(conf, f"profile_{int(time.time())}")
    print(f"start (discover) {time.perf_counter() - started:.1f} s", flush=True)
    walls = {}
    for stage in registry.STAGES[1:]:
        for partition in partitions(run, stage):
            profile = cProfile.Profile()
            clock = time.perf_counter()
            profile.enable()
            try:
                run_stage(stage.name, run, *partition)
            finally:
                profile.disable()
            wall = time.perf_counter() - clock
            walls[stage.name] = round(wall, 1)
            report = (
                f"== {stage.name} {' '.join(partition)}: {wall:.1f} s (with the profiler's overhead)\n"
                f"-- by own time\n{top(profile, 'tottime', args.top)}\n"
                f"-- by cumulative time\n{top(profile, 'cumulative', args.top)}\n"
            )
            (args.out / f"{stage.name}.txt").write_text(report)
            profile.dump_stats(args.out / f"{stage.name}.prof")
            print(report, flush=True)
    finish_run(run)
    print(f"stages (s): {walls}; total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
