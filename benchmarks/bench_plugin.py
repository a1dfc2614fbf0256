"""What the Airflow UI plugin's answers cost the api-server, on a published warehouse: the run's summary
(cold, then from the cache of published runs), the run's page, the published quarters, and a trace by NIK
(masked), each timed, with the process's peak resident memory.

    .venv/bin/python benchmarks/bench_plugin.py --warehouse sqlite:///path/warehouse.sqlite [--run RUN_ID]

Without --run it takes the newest published run. Note the machine's load (`uptime`) beside the figures.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from pipelines.ui import pages  # noqa: E402
from pipelines.ui.quarters import published_quarters  # noqa: E402
from pipelines.ui.runs import run_view  # noqa: E402
from pipelines.ui.tracing import Question, answer  # noqa: E402
from pipelines.warehouse import connect  # noqa: E402


def timed(label: str, work):
    start = time.perf_counter()
    value = work()
    print(f"{label:<32} {time.perf_counter() - start:8.3f} s")
    return value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--run")
    args = parser.parse_args()
    engine = connect(args.warehouse)
    with engine.connect() as c:
        run_id = (
            args.run
            or c.execute(
                text("SELECT run_id FROM run WHERE status = 'PUBLISHED' ORDER BY published_at DESC LIMIT 1")
            ).scalar_one()
        )
        quarter, rows = c.execute(
            text(
                "SELECT r.quarter, count(*) FROM run r JOIN row_outcome o ON o.run_id = r.run_id WHERE r.run_id = :r "
                "GROUP BY r.quarter"
            ),
            {"r": run_id},
        ).one()
        nik = c.execute(
            text("SELECT nik_dukcapil FROM row_outcome WHERE run_id = :r AND nik_dukcapil IS NOT NULL LIMIT 1"),
            {"r": run_id},
        ).scalar_one()
    print(f"run {run_id}: {rows:,} rows")
    timed("run summary (cold)", lambda: run_view(engine, run_id))
    timed("run summary (cached)", lambda: run_view(engine, run_id))
    timed("run page (cached counts)", lambda: pages.run_page(*run_view(engine, run_id), "/dtks"))
    timed("published quarters", lambda: published_quarters(engine))
    timed("trace by NIK (masked)", lambda: answer(engine, Question(quarter, nik=nik), unmask=False))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
