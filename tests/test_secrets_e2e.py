"""Through Airflow (`dtks run`'s code path): a PostgreSQL warehouse whose URL carries a distinctive password
publishes, and afterwards the password is nowhere: not in the Airflow metadata (every table of airflow.db,
where the connection holds it encrypted), the Airflow and run logs, the lineage events, the work files, the
result file, the warehouse's run records, nor the command line of any process the run spawned. And runs
that cannot publish fail at `start`, at once, with the stage and the reason in their result."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import create_engine, text

from pipelines.airflow_runner import run_quarter
from pipelines.synth import SynthConfig, generate
from pipelines.warehouse import connect

QUARTER = "2026Q3"
pytestmark = [pytest.mark.airflow, pytest.mark.slow]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generate(root, QUARTER, SynthConfig(kab_codes=("5203",), persons=1_500, seed=31))
    return root


class CommandLines:
    """Every command line of this process's descendants, sampled from /proc while the run goes on."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _descendants(self) -> list[int]:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        ours, frontier = set(), {os.getpid()}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - ours
            ours |= frontier
        return sorted(ours)

    def _watch(self) -> None:
        while not self._stop.is_set():
            for pid in self._descendants():
                try:
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if raw:
                    self.seen.add(raw.replace(b"\0", b" ").decode("utf-8", "replace"))
            time.sleep(0.05)

    def __enter__(self) -> CommandLines:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def recorded_argv(monkeypatch) -> list[list[str]]:
    """The argv of every subprocess this process starts with `subprocess.run` (the runner and the metadata
    helper use nothing else): all of them, not sampled."""
    import subprocess

    calls: list[list[str]] = []
    real = subprocess.run

    def run(args, *a, **kw):
        calls.append([str(x) for x in args])
        return real(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def leaks(texts: dict[str, str | bytes], forms: list[str]) -> list[tuple[str, str]]:
    found = []
    for where, content in texts.items():
        for form in forms:
            needle = form.encode() if isinstance(content, bytes) else form
            if needle in content:
                found.append((where, form[:6] + "..."))
    return found


@pytest.mark.postgres
@pytest.mark.xdist_group("e2e_secrets")
def test_no_credential_anywhere_after_a_postgres_run(landing, secret_warehouse, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("DTKS_HOME", str(home))
    monkeypatch.delenv("AIRFLOW_CONN_DTKS_WAREHOUSE", raising=False)
    url, password, token = secret_warehouse["url"], secret_warehouse["password"], secret_warehouse["token"]
    argv = recorded_argv(monkeypatch)
    with CommandLines() as command_lines:
        result = run_quarter(
            str(landing),
            QUARTER,
            warehouse=url.render_as_string(hide_password=False),
            reports=str(tmp_path / "reports"),
        )
    assert result["status"] == "PUBLISHED", result.get("message")
    database = secret_warehouse["database"]
    assert result["warehouse"] == f"{url.render_as_string(hide_password=True)} (connection dtks_warehouse)"

    texts: dict[str, str | bytes] = {}
    # Everything under the embedded home: airflow.db's raw bytes, Airflow's and the run's logs, the lineage
    # events, the result files, the work folder (`run.json`, `result.json`, summaries, errors).
    for path in home.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes()
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes()
    with sqlite3.connect(home / "airflow" / "airflow.db") as metadata:
        texts["airflow.db dump"] = "\n".join(metadata.iterdump())
        tables = {r[0] for r in metadata.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        connection = metadata.execute(
            "SELECT conn_type, host, schema, login, password, is_encrypted FROM connection WHERE conn_id = ?",
            ("dtks_warehouse",),
        ).fetchone()
        confs = [json.loads(r[0]) for r in metadata.execute("SELECT conf FROM dag_run")]
        rendered = metadata.execute("SELECT count(*) FROM rendered_task_instance_fields").fetchone()[0]
        xcoms = metadata.execute("SELECT count(*) FROM xcom").fetchone()[0]
    assert {"connection", "dag_run", "xcom", "rendered_task_instance_fields", "task_instance"} <= tables
    assert rendered > 0 and xcoms > 0  # what is scanned is really there
    assert connection[:4] == ("postgres", url.host, database, url.username) and connection[5] == 1
    assert all("warehouse" not in conf for conf in confs)
    engine = connect(url)
    with engine.connect() as c:
        for table in ("run", "run_attempt"):
            rows = [dict(r) for r in c.execute(text(f"SELECT * FROM {table}")).mappings()]
            assert rows, table
            texts[f"warehouse {table}"] = json.dumps(rows, default=str)
    engine.dispose()
    texts["command lines (sampled from /proc)"] = "\n".join(sorted(command_lines.seen))
    texts["command lines (argv the runner built)"] = "\n".join(" ".join(a) for a in argv)
    assert any("dags test" in c for c in command_lines.seen), "the /proc sampler saw the run"
    assert [a[-2:] for a in argv if "pipelines.airflow_metadata" in a] == [["store", "dtks_warehouse"]]
    assert any(a[1:4] == ["dags", "test", "dtks_quarterly"] for a in argv)

    forms = [token, password, quote(password, safe=""), quote_plus(password), quote(password)]
    assert not leaks(texts, forms)
    assert leaks({"probe": f"x{quote(password, safe='')}x"}, forms), "the scan would notice a leak"

    # `dtks trace` / `evaluate` without --warehouse read the connection the run stored.
    from pipelines.cli import _warehouse, build_parser

    args = build_parser().parse_args(["trace", "--quarter", QUARTER, "--nik", "3201234567890001"])
    assert _warehouse(args).render_as_string(hide_password=False) == url.render_as_string(hide_password=False)

    # Lineage names the warehouse by host, port and database only.
    events = [json.loads(line) for line in (home / "lineage" / "openlineage.jsonl").open(encoding="utf-8")]
    publish = next(e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] == "dtks_quarterly.publish")
    outputs = {(d["namespace"], d["name"]) for d in publish["outputs"]}
    assert (f"postgres://{url.host}:{url.port or 5432}", f"{database}.dtks.row_outcome") in outputs


@pytest.mark.xdist_group("e2e_secrets_failures")
@pytest.mark.parametrize("cause", ["warehouse_unreachable", "reports_not_writable", "work_not_writable"])
def test_a_run_that_cannot_publish_fails_at_start_at_once(landing, tmp_path, monkeypatch, cause):
    """With an unwritable work folder not even the failure can be written there: it reaches `finish`
    through XCom."""
    home = tmp_path / "home"
    monkeypatch.setenv("DTKS_HOME", str(home))
    monkeypatch.delenv("AIRFLOW_CONN_DTKS_WAREHOUSE", raising=False)
    refused = Path("/sys") / f"dtks-test-{uuid.uuid4().hex}"  # sysfs refuses to create it, even to root
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    reports, work = tmp_path / "reports", tmp_path / "work"
    if cause == "warehouse_unreachable":
        warehouse = "postgresql+psycopg2://dtks:Rahasia-0917@127.0.0.1:1/dtks"
    elif cause == "reports_not_writable":
        reports = refused / "reports"
    else:
        work = refused / "work"
    result = run_quarter(str(landing), QUARTER, warehouse=warehouse, reports=str(reports), work=str(work))

    assert result["status"] == "FAILED" and result["failed_stage"] == "start"
    expected = "The warehouse cannot be reached" if cause == "warehouse_unreachable" else "Permission denied"
    assert result["message"].startswith(expected), result["message"]
    from pipelines.cli import format_run

    assert f"FAILED (failed in start: {expected}" in format_run(result)
    with sqlite3.connect(home / "airflow" / "airflow.db") as metadata:
        tries = dict(metadata.execute("SELECT task_id, try_number FROM task_instance WHERE state = 'failed'"))
        states = dict(metadata.execute("SELECT task_id, state FROM task_instance"))
    assert tries.get("start") == 1, tries  # failed once, not retried
    assert states["ingest"] == "upstream_failed" and states["publish"] == "upstream_failed"
    assert "Rahasia-0917" not in json.dumps(result)
    if cause != "warehouse_unreachable":  # the warehouse answered, so the attempt is recorded there
        engine = create_engine(warehouse)
        with engine.connect() as c:
            attempt = c.execute(text("SELECT status, failed_stage, message FROM run_attempt")).one()
        engine.dispose()
        assert attempt.status == "FAILED" and attempt.failed_stage == "start"
        assert attempt.message == result["message"]
