"""`dtks run`: one run of the `dtks_quarterly` DAG through Airflow (`airflow dags test`), on an embedded
SQLite metadata database, with the run's result read back from the file the DAG's `finish` task writes.

`airflow dags test` exits 0 even when a task failed, so the result file, not the exit code, says
whether the quarter was published.

The warehouse reaches the run as the Airflow connection `dtks_warehouse` (`warehouse.connection`):
`--warehouse URL` (or, without it, the embedded SQLite file) is written into the embedded metadata,
encrypted (`airflow_metadata`), and the DAG-run conf names only the connection id. An
`AIRFLOW_CONN_DTKS_WAREHOUSE` in the environment is used as it is when no URL is given.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pipelines
from pipelines import airflow_metadata
from pipelines.privacy import mask_text
from pipelines.stages import home
from pipelines.warehouse.connection import (
    DEFAULT_CONN_ID,
    env_var_name,
    from_sqlalchemy_url,
    redact,
    remember_secret,
)

DAG_ID = "dtks_quarterly"

log = logging.getLogger(__name__)


class RunFailed(RuntimeError):
    pass


def dags_folder() -> Path:
    configured = os.environ.get("DTKS_DAGS_FOLDER")
    return Path(configured) if configured else Path(pipelines.__file__).resolve().parent.parent / "dags"


def airflow_environment(airflow_home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The Airflow settings of a home, over `base` (default this process's environment)."""
    from pipelines.lineage_masking import masked_transport

    env = dict(os.environ if base is None else base)
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder()),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{airflow_home / 'airflow.db'}",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(airflow_home / "logs"),
        # Task logs, tracebacks and console output masked (pipelines/airflow_logging.py).
        AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS="pipelines.airflow_logging.LOGGING_CONFIG",
        AIRFLOW__OPENLINEAGE__DISABLED=env.get("AIRFLOW__OPENLINEAGE__DISABLED", "False"),
        # One JSON event per line; set AIRFLOW__OPENLINEAGE__TRANSPORT to send to Marquez instead. Either
        # way events pass through the personal-data mask first (pipelines/lineage_masking.py).
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
            masked_transport(
                json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
                if env.get("AIRFLOW__OPENLINEAGE__TRANSPORT")
                else {"type": "file", "log_file_path": str(lineage_file(airflow_home)), "append": True}
            )
        ),
        AIRFLOW__OPENLINEAGE__NAMESPACE=env.get("AIRFLOW__OPENLINEAGE__NAMESPACE", "dtks"),
        AIRFLOW__OPENLINEAGE__DISABLE_SOURCE_CODE="True",
        # Each task's START and COMPLETE events are emitted on a thread of the task's process instead of a
        # fork of it: forking a process holding a million-row kabupaten twice per task cost about a second
        # per task on a loaded machine (docs/benchmarks.md, issue 13). The events are the same.
        AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD=env.get("AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD", "true"),
        PYTHONWARNINGS=env.get("PYTHONWARNINGS", "ignore"),
        GX_ANALYTICS_ENABLED="False",
    )
    return env


def lineage_file(airflow_home: Path) -> Path:
    """Where the file transport appends OpenLineage events (one JSON object per line)."""
    path = airflow_home.parent / "lineage" / "openlineage.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _airflow_bin() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def _template_db() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dtks"
    return cache / f"airflow-{version('apache-airflow')}.db"


def ensure_metadata_db(airflow_home: Path) -> None:
    """A migrated Airflow metadata database: copied from a per-version template, migrated once."""
    target = airflow_home / "airflow.db"
    if target.exists():
        return
    airflow_home.mkdir(parents=True, exist_ok=True)
    template = _template_db()
    template.parent.mkdir(parents=True, exist_ok=True)
    with open(template.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            build_home = template.parent / f"build-{uuid.uuid4().hex}"
            build_home.mkdir()
            try:
                done = subprocess.run(
                    [_airflow_bin(), "db", "migrate"],
                    env=airflow_environment(build_home),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise RunFailed(
                        "airflow db migrate failed:\n" + mask_text(done.stdout[-3000:] + done.stderr[-3000:])
                    )
                shutil.copyfile(build_home / "airflow.db", template)
            finally:
                shutil.rmtree(build_home, ignore_errors=True)
    shutil.copyfile(template, target)


def embedded_environment(base: Path) -> dict[str, str]:
    """The environment of Airflow processes on the embedded home `<base>/airflow`, its metadata migrated,
    the home private to its owner and its Fernet key in place."""
    airflow_home = base / "airflow"
    ensure_metadata_db(airflow_home)
    env = airflow_environment(airflow_home)
    env.update(airflow_metadata.secret_environment(airflow_home))
    env["DTKS_HOME"] = str(base)
    return env


def default_warehouse(base: Path) -> str:
    return f"sqlite:///{base / 'warehouse.sqlite'}"


def prepare_warehouse_connection(env: dict[str, str], base: Path, warehouse: str | None, conn_id: str) -> None:
    """Make connection `conn_id` the warehouse of this run: the given URL, else (default connection, none in
    the environment) the embedded SQLite file. A URL given here wins over `AIRFLOW_CONN_<ID>`, which
    Airflow would otherwise look up first."""
    if warehouse is None and (conn_id != DEFAULT_CONN_ID or env.get(env_var_name(conn_id))):
        return  # a connection the deployment or the operator defined
    fields = from_sqlalchemy_url(warehouse or default_warehouse(base))
    remember_secret(fields)
    env.pop(env_var_name(conn_id), None)
    airflow_metadata.store_connection(env, conn_id, fields)


@contextlib.contextmanager
def one_run_per_home(airflow_home: Path) -> Iterator[None]:
    """One `dtks run` at a time per embedded home. The warehouse connection a run writes is the home's:
    a second run with another `--warehouse` must not repoint the first one's publication, so it waits."""
    with open(airflow_home / "run.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("Another dtks run is using %s; waiting for it to finish.", airflow_home.parent)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def dags_test_command(conf: dict[str, Any]) -> list[str]:
    """The command line of the run: ids and paths only (it is visible to every local user)."""
    return [_airflow_bin(), "dags", "test", DAG_ID, "-c", json.dumps(conf)]


def run_quarter(
    landing: str,
    quarter: str,
    *,
    warehouse: str | None = None,
    warehouse_conn_id: str = DEFAULT_CONN_ID,
    reports: str | None = None,
    work: str | None = None,
    config: dict[str, Any] | None = None,
    log_path: Path | None = None,
) -> dict[str, Any]:
    """Runs the DAG once for `quarter`; returns the result the DAG's `finish` task wrote. `warehouse` (a
    SQLAlchemy URL) is stored as connection `warehouse_conn_id` first; it never enters the conf."""
    base = home()
    env = embedded_environment(base)
    result_file = base / "results" / f"{quarter}-{int(time.time() * 1000)}-{os.getpid()}.json"
    result_file.parent.mkdir(parents=True, exist_ok=True)
    conf = {
        "quarter": quarter,
        "landing": str(Path(landing).resolve()),
        "warehouse_conn_id": warehouse_conn_id if warehouse_conn_id != DEFAULT_CONN_ID else None,
        "reports": str(Path(reports).resolve()) if reports else None,
        "work": str(Path(work).resolve()) if work else None,
        "config": config or {},
        "result_file": str(result_file),
    }
    conf = {k: v for k, v in conf.items() if v is not None}
    log_path = log_path or base / "logs" / f"dtks-run-{quarter}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with one_run_per_home(base / "airflow"):
        prepare_warehouse_connection(env, base, warehouse, warehouse_conn_id)
        with open(log_path, "w", encoding="utf-8") as log_file:
            done = subprocess.run(
                dags_test_command(conf), env=env, stdout=log_file, stderr=subprocess.STDOUT, check=False
            )
    if not result_file.exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RunFailed(
            f"The DAG run ended without a result (airflow exit code {done.returncode}); "
            f"log: {log_path}\n{redact(mask_text(tail))}"
        )
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["airflow_log"] = str(log_path)
    return result
