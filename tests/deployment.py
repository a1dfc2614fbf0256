"""A real Airflow deployment for end-to-end tests, started with `dtks airflow start` (the CLI, in a process
of its own, so that the deployment's processes are not this test process's children) and stopped with
`dtks airflow stop`.

`celery_deployment` makes the PostgreSQL metadata and warehouse databases (uniquely named, dropped
afterwards) and takes a Redis database number nobody uses; `local_deployment` is the default
LocalExecutor on SQLite. Both give an `AirflowDeployment`: `.url`, `.user`, `.password`, `.home`,
`.warehouse_url`, `.metadata_url`, `.client()`.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.deploy.api import Client
from pipelines.deploy.processes import free_port
from tests.conftest import postgres_database

DTKS = str(Path(sys.executable).parent / "dtks")
PASSWORD = "tests-only-admin-password"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@dataclass(frozen=True)
class AirflowDeployment:
    url: str
    user: str
    password: str
    home: Path
    warehouse_url: str
    metadata_url: str
    executor: str
    start_seconds: float

    def client(self) -> Client:
        return Client(self.url, self.user, self.password)


def _unreachable(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not reachable")
    pytest.skip(f"{what} is not reachable")


@contextmanager
def redis_database() -> Iterator[str]:
    """A Redis database number holding no key (tried in random order), flushed afterwards."""
    import redis

    try:
        redis.Redis(REDIS_HOST, REDIS_PORT, socket_timeout=3).ping()
    except redis.RedisError:
        _unreachable(f"Redis at {REDIS_HOST}:{REDIS_PORT}")
    for number in random.sample(range(1, 16), 15):
        db = redis.Redis(REDIS_HOST, REDIS_PORT, db=number)
        if db.dbsize() == 0:
            try:
                yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
            finally:
                db.flushdb()
            return
    pytest.fail("every Redis database 1-15 holds keys")


def _dtks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DTKS, *args], capture_output=True, text=True, check=False, timeout=600)


@contextmanager
def deployment(home: Path, *options: str, warehouse_url: str, metadata_url: str, executor: str):
    """`options` may hold `--landing DIR` and nothing to keep the timetable; without it, no scheduled runs."""
    port = free_port()
    timetable = ("--no-timetable",) if "--landing" not in options else ()
    started = _dtks(
        "airflow", "start", "--home", str(home), "--port", str(port), "--password", PASSWORD, *timetable, *options
    )
    try:
        if started.returncode != 0:
            pytest.fail(f"dtks airflow start failed:\n{started.stdout}\n{started.stderr}")
        seconds = float(started.stdout.split(" in ", 1)[1].split(" s", 1)[0])
        yield AirflowDeployment(
            f"http://127.0.0.1:{port}", "admin", PASSWORD, home, warehouse_url, metadata_url, executor, seconds
        )
    finally:
        stopped = _dtks("airflow", "stop", "--home", str(home))
        assert stopped.returncode == 0, stopped.stderr


@contextmanager
def celery_deployment(home: Path, workers: int = 2) -> Iterator[AirflowDeployment]:
    with ExitStack() as stack:
        metadata = stack.enter_context(postgres_database("dtks_test_airflow"))
        warehouse = stack.enter_context(postgres_database("dtks_test_wh"))
        broker = stack.enter_context(redis_database())
        yield stack.enter_context(
            deployment(
                home,
                "--executor",
                "CeleryExecutor",
                "--workers",
                str(workers),
                "--metadata",
                metadata,
                "--broker",
                broker,
                "--warehouse",
                warehouse,
                warehouse_url=warehouse,
                metadata_url=metadata,
                executor="CeleryExecutor",
            )
        )


@contextmanager
def local_deployment(home: Path, *options: str) -> Iterator[AirflowDeployment]:
    warehouse = f"sqlite:///{home / 'warehouse.sqlite'}"
    with deployment(
        home,
        *options,
        warehouse_url=warehouse,
        metadata_url=f"sqlite:///{home / 'airflow' / 'airflow.db'}?timeout=60",
        executor="LocalExecutor",
    ) as dep:
        yield dep


# --- one small 3-kabupaten quarter, run once through a deployment and shared by the tests that read it ---

QUARTER = "2026Q3"
KABUPATEN = ("5203", "5204", "5205")


def three_kabupaten_landing(root: Path) -> Path:
    from pipelines.synth import SynthConfig, generate

    generate(root, QUARTER, SynthConfig(kab_codes=KABUPATEN, persons=900, seed=12))
    return root


def run_on(dep: AirflowDeployment, landing: Path, reports: Path) -> tuple[subprocess.CompletedProcess, str]:
    """`dtks run --airflow-url`, the password in the environment; returns the process and the run id."""
    done = subprocess.run(
        [
            DTKS,
            "run",
            "--airflow-url",
            dep.url,
            "--landing",
            str(landing),
            "--quarter",
            QUARTER,
            "--reports",
            str(reports),
        ],
        env={**os.environ, "DTKS_AIRFLOW_PASSWORD": dep.password},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    first = done.stdout.splitlines()[0] if done.stdout else ""
    return done, first.split()[1] if first.startswith("Run ") else ""


@dataclass(frozen=True)
class DeployedQuarter:
    """The 3-kabupaten quarter as the Celery deployment ran it: the `dtks run` process, its run id and
    the reports folder."""

    done: subprocess.CompletedProcess
    run_id: str
    reports: Path
