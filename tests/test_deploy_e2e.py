"""End to end on a real Airflow deployment (`dtks airflow start`): a small 3-kabupaten quarter triggered
through the REST API v2 (`dtks run --airflow-url`) on CeleryExecutor with 2 workers, and on the
LocalExecutor default, which is then stopped and must leave nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipelines.deploy import processes
from pipelines.synth import SynthConfig, generate
from pipelines.warehouse import connect
from tests.deployment import (
    KABUPATEN,
    QUARTER,
    AirflowDeployment,
    DeployedQuarter,
    local_deployment,
    three_kabupaten_landing,
)

MAPPED = ("ingest", "validate", "quality_gate", "link", "decide", "report")

AIRFLOW = str(Path(sys.executable).parent / "airflow")

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return three_kabupaten_landing(tmp_path_factory.mktemp("landing3"))


def check_published(dep: AirflowDeployment, run_id: str, reports: Path) -> list[dict]:
    """The run published: every mapped task once per kabupaten and every other task succeeded, the run
    record and attempt are in the warehouse, and lineage has a START and a COMPLETE per task."""
    with dep.client() as client:
        assert client.run(run_id)["state"] == "success"
        tis = client.task_instances(run_id)
    assert {t["state"] for t in tis} == {"success"}, [(t["task_id"], t["state"]) for t in tis]
    for task in MAPPED:
        indexes = sorted(t["map_index"] for t in tis if t["task_id"] == task)
        assert indexes == [0, 1, 2], task
        assert sorted(t["rendered_map_index"] for t in tis if t["task_id"] == task) == list(KABUPATEN)
    engine = connect(dep.warehouse_url)
    with engine.connect() as c:
        run = c.execute(text("SELECT status, input_files FROM run WHERE run_id = :r"), {"r": run_id}).one()
        attempts = c.execute(text("SELECT status FROM run_attempt WHERE run_id = :r"), {"r": run_id}).scalars().all()
        outcomes = c.execute(text("SELECT count(*) FROM row_outcome WHERE run_id = :r"), {"r": run_id}).scalar()
    engine.dispose()
    assert run.status == "PUBLISHED" and "PUBLISHED" in attempts and outcomes > 0
    files = json.loads(run.input_files)
    assert {f["source_file"].split("/")[2] for f in files if "/submissions/" in f["source_file"]} == set(KABUPATEN)
    for kab in KABUPATEN:
        assert (reports / QUARTER / kab / f"laporan_dtks_{kab}_{QUARTER}.xlsx").exists()
    lines = (dep.home / "lineage" / "openlineage.jsonl").read_text(encoding="utf-8").splitlines()
    kinds: dict[str, set[str]] = {}
    for event in (json.loads(line) for line in lines if run_id in line):
        kinds.setdefault(event["job"]["name"], set()).add(event["eventType"])
    for task in {t["task_id"] for t in tis}:
        assert {"START", "COMPLETE"} <= kinds.get(f"dtks_quarterly.{task}", set()), task
    return tis


@pytest.mark.xdist_group("airflow_deployment")
def test_celery_deployment_runs_a_quarter_through_the_rest_api(
    airflow_deployment: AirflowDeployment, deployment_quarter: DeployedQuarter
):
    dep = airflow_deployment
    done, run_id = deployment_quarter.done, deployment_quarter.run_id
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"for {QUARTER}: PUBLISHED" in done.stdout and "rows in:" in done.stdout
    tis = check_published(dep, run_id, deployment_quarter.reports)
    # Through Celery: each task instance carries the Celery task id its result is stored under.
    metadata = create_engine(dep.metadata_url)
    with metadata.connect() as c:
        celery_ids = set(c.execute(text("SELECT task_id FROM celery_taskmeta")).scalars())
        executor_ids = (
            c.execute(text("SELECT external_executor_id FROM task_instance WHERE run_id = :r"), {"r": run_id})
            .scalars()
            .all()
        )
    metadata.dispose()
    assert len(executor_ids) == len(tis) and set(executor_ids) <= celery_ids
    worker_logs = [(dep.home / "logs" / f"worker-{i}.log").read_text(encoding="utf-8") for i in (1, 2)]
    assert all("dtks-worker-" in log and "ready" in log for log in worker_logs)


@pytest.mark.xdist_group("airflow_deployment")
def test_backfill_runs_two_past_quarters_in_order(airflow_deployment, tmp_path_factory):
    """`airflow backfill create` (the deployment's environment file) over two past quarters runs them in date
    order; each takes its quarter from its logical date and publishes it; `quarter_changes` compares the
    second with the first."""
    dep = airflow_deployment
    landing = tmp_path_factory.mktemp("landing-backfill")
    for quarter in ("2026Q1", "2026Q2"):
        generate(landing, quarter, SynthConfig(kab_codes=("5203",), persons=400, seed=13))
    conf = json.dumps({"landing": str(landing)})
    backfill = subprocess.run(
        [
            "bash",
            "-c",
            f". {dep.home}/airflow/environment && {AIRFLOW} backfill create --dag-id dtks_quarterly "
            f"--from-date 2026-04-01 --to-date 2026-07-31 --max-active-runs 1 --dag-run-conf '{conf}'",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    runs = wait_for_backfill(dep, expected=2)
    assert [r["state"] for r in runs] == ["success", "success"], runs
    first, second = runs
    assert first["logical_date"][:10] == "2026-04-14" and second["logical_date"][:10] == "2026-07-14"  # UTC
    assert first["end_date"] <= second["start_date"]  # one after the other
    engine = connect(dep.warehouse_url)
    with engine.connect() as c:
        published = dict(
            c.execute(
                text("SELECT run_id, quarter FROM run WHERE status = 'PUBLISHED' AND run_id LIKE 'backfill%'")
            ).all()
        )
        changes = (
            c.execute(text("SELECT DISTINCT previous_quarter FROM quarter_changes WHERE quarter = '2026Q2'"))
            .scalars()
            .all()
        )
    engine.dispose()
    assert published == {first["dag_run_id"]: "2026Q1", second["dag_run_id"]: "2026Q2"}
    assert changes == ["2026Q1"]


@pytest.mark.xdist_group("airflow_local")
def test_local_executor_default_runs_the_timetables_quarter_and_stops_clean(landing, tmp_path_factory):
    """The default deployment with the timetable on and a landing root: unpausing the DAG (catch-up off)
    makes the run of the last quarterly tick (15 October 2026), which takes the quarter that has just
    ended, 2026Q3, and publishes it; then `stop` leaves nothing behind."""
    home = tmp_path_factory.mktemp("airflow-local")
    with local_deployment(home, "--landing", str(landing)) as dep:
        pids = {name: r["pid"] for name, r in processes.recorded(home).items()}
        assert set(pids) == {"api-server", "scheduler", "dag-processor", "triggerer"}
        (run,) = wait_for_runs(dep, "scheduled", expected=1)
        assert run["state"] == "success", run
        assert run["logical_date"][:10] == "2026-10-14"  # 02:00 WIB on the 15th, in UTC
        check_published(dep, run["dag_run_id"], dep.home / "reports")
        engine = connect(dep.warehouse_url)
        with engine.connect() as c:
            quarter = c.execute(text("SELECT quarter FROM run WHERE run_id = :r"), {"r": run["dag_run_id"]}).scalar()
        engine.dispose()
        assert quarter == QUARTER
        port = int(dep.url.rsplit(":", 1)[1])
    # Stopped on leaving: nothing listens on the port, and none of its processes is left.
    assert not processes.port_in_use(port)
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    assert processes.recorded(home) == {}


def wait_for_backfill(dep: AirflowDeployment, expected: int, timeout: float = 900) -> list[dict]:
    return wait_for_runs(dep, "backfill", expected, timeout)


def wait_for_runs(dep: AirflowDeployment, run_type: str, expected: int, timeout: float = 900) -> list[dict]:
    deadline = time.monotonic() + timeout
    with dep.client() as client:
        while True:
            runs = sorted(client.runs(run_type=run_type), key=lambda r: r["logical_date"])
            if len(runs) == expected and all(r["state"] in ("success", "failed") for r in runs):
                return runs
            assert time.monotonic() < deadline, runs
            time.sleep(3)
