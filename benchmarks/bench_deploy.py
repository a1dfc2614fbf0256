"""The deployment against the embedded run (issue 12): start-up time of `dtks airflow start` (Celery, 2
workers, PostgreSQL metadata, Redis), wall time of one 3-kabupaten quarter embedded (`dtks run`) and on
the deployment (`dtks run --airflow-url`), the same results from both, and the overhead per task (the
wait between a task's upstream ending and its start, from the task instances).

    .venv/bin/python benchmarks/bench_deploy.py --persons 90000 --dir /work/bench/airflow/bench [--keep]

Prints one JSON document; `--keep` leaves the deployment running (for a screenshot) and says how to stop it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.deploy.api import Client  # noqa: E402
from pipelines.deploy.processes import free_port  # noqa: E402

DTKS = str(Path(sys.executable).parent / "dtks")
ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
QUARTER = "2026Q3"
PASSWORD = "bench-admin-password"


def database(name: str) -> str:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(args[:3])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def parse(moment: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00")) if moment else None


def overhead(tis: list[dict]) -> dict:
    """Per task: the time from when it could start (its queued time) to its start, and its duration."""
    waits = [(parse(t["start_date"]) - parse(t["queued_when"])).total_seconds() for t in tis if t.get("queued_when")]
    durations = [t["duration"] or 0 for t in tis]
    starts, ends = [parse(t["start_date"]) for t in tis], [parse(t["end_date"]) for t in tis]
    return {
        "tasks": len(tis),
        "queued_to_start_mean_s": round(sum(waits) / len(waits), 2) if waits else None,
        "queued_to_start_max_s": round(max(waits), 2) if waits else None,
        "sum_of_task_durations_s": round(sum(durations), 1),
        "first_start_to_last_end_s": round((max(ends) - min(starts)).total_seconds(), 1),
    }


def stage_seconds(lines: list[str]) -> float:
    """The sum of the stage times on the result line `stages: ingest 8.2s, ...` (the work inside the tasks)."""
    stages = next(line for line in lines if "stages:" in line).split("stages:", 1)[1]
    return sum(float(part.split()[-1].rstrip("s")) for part in stages.split(",") if part.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=90_000)
    parser.add_argument("--kab", nargs="+", default=["5203", "5204", "5205"])
    parser.add_argument("--dir", type=Path, default=Path("/work/bench/airflow/bench"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-embedded", action="store_true")
    args = parser.parse_args()
    base = args.dir.resolve()
    landing = base / "landing"
    report: dict = {"persons": args.persons, "kabupaten": args.kab, "uptime_before": os.popen("uptime").read().strip()}
    if not (landing / QUARTER).exists():
        kabs = [x for k in args.kab for x in ("--kab", k)]
        subprocess.run(
            [DTKS, "synth", "--landing", str(landing), "--quarter", QUARTER, *kabs, "--persons", str(args.persons)],
            check=True,
            capture_output=True,
        )
    env = {
        **os.environ,
        "DTKS_PERSON_KEY_SECRET": os.environ.get("DTKS_PERSON_KEY_SECRET", "bench-person-key-0123456789"),
    }

    if not args.skip_embedded:
        warehouse = database("bench_deploy_embedded")
        seconds, out = timed(
            [
                DTKS,
                "run",
                "--landing",
                str(landing),
                "--quarter",
                QUARTER,
                "--warehouse",
                warehouse,
                "--reports",
                str(base / "embedded-reports"),
            ],
            {**env, "DTKS_HOME": str(base / "embedded")},
        )
        report["embedded"] = {"wall_s": round(seconds, 1), "result": out.splitlines()}

    home = base / "celery"
    port = free_port()
    metadata, warehouse = database("bench_deploy_meta"), database("bench_deploy_wh")
    seconds, out = timed(
        [
            DTKS,
            "airflow",
            "start",
            "--home",
            str(home),
            "--port",
            str(port),
            "--password",
            PASSWORD,
            "--no-timetable",
            "--executor",
            "CeleryExecutor",
            "--workers",
            str(args.workers),
            "--metadata",
            metadata,
            "--broker",
            "redis://127.0.0.1:6379/14",
            "--warehouse",
            warehouse,
        ],
        env,
    )
    report["celery_start_s"] = round(seconds, 1)
    url = f"http://127.0.0.1:{port}"
    try:
        seconds, out = timed(
            [
                DTKS,
                "run",
                "--airflow-url",
                url,
                "--landing",
                str(landing),
                "--quarter",
                QUARTER,
                "--reports",
                str(base / "celery-reports"),
            ],
            {**env, "DTKS_AIRFLOW_PASSWORD": PASSWORD},
        )
        run_id = out.splitlines()[0].split()[1]
        with Client(url, "admin", PASSWORD) as client:
            tis = client.task_instances(run_id)
        cost = overhead(tis)
        inside = stage_seconds(out.splitlines())
        cost["sum_of_stage_times_s"] = round(inside, 1)
        cost["per_task_outside_its_stage_s"] = round((cost["sum_of_task_durations_s"] - inside) / len(tis), 2)
        report["celery"] = {
            "wall_s": round(seconds, 1),
            "run_id": run_id,
            "url": url,
            "result": out.splitlines(),
            "overhead": cost,
        }
    finally:
        if not args.keep:
            subprocess.run([DTKS, "airflow", "stop", "--home", str(home)], check=False)
    report["uptime_after"] = os.popen("uptime").read().strip()
    (base / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
