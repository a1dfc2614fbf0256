"""The deployment's process table, and how a process is launched and ended.

Each component runs in a process group of its own (`setsid`) with its own log file `<home>/logs/<name>.log`
and a pid file `<home>/run/<name>.pid` holding its pid and the kernel's start time of that pid, so that
`stop` ends exactly the processes `start` launched, never a later process that got a reused pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.deploy.settings import Deployment


@dataclass(frozen=True)
class Component:
    name: str
    args: tuple[str, ...]  # after `airflow`
    env: tuple[tuple[str, str], ...] = ()  # this process's own settings (its ports)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def components(dep: Deployment, port: callable = free_port) -> list[Component]:
    """What runs, in launch order. Log servers and the scheduler's health check get free ports, so that two
    deployments on one machine never collide."""
    table = [
        Component("api-server", ("api-server",)),
        Component(
            "scheduler", ("scheduler",), (("AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT", str(port())),)
        ),
        Component("dag-processor", ("dag-processor",)),
        Component("triggerer", ("triggerer",), (("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", str(port())),)),
    ]
    if dep.celery:
        table += [
            Component(
                f"worker-{i}",
                ("celery", "worker", "--celery-hostname", f"dtks-worker-{i}@%h", "--concurrency", str(dep.concurrency)),
                (
                    ("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", str(port())),
                    # Airflow's default config, imported through a module that preloads the tasks' imports
                    ("AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS", "pipelines.deploy.celery_config.CELERY_CONFIG"),
                ),
            )
            for i in range(1, dep.workers + 1)
        ]
    return table


def run_dir(home: Path) -> Path:
    return home / "run"


def _start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (field 22 of /proc/<pid>/stat), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def launch(airflow: str, component: Component, env: dict[str, str], home: Path) -> int:
    logs, pids = home / "logs", run_dir(home)
    logs.mkdir(parents=True, exist_ok=True)
    pids.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{component.name}.log", "ab") as log:
        process = subprocess.Popen(
            [airflow, *component.args],
            env={**env, **dict(component.env)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=home,
        )
    record = {"pid": process.pid, "start_time": _start_time(process.pid), "args": list(component.args)}
    (pids / f"{component.name}.pid").write_text(json.dumps(record))
    return process.pid


def recorded(home: Path) -> dict[str, dict]:
    """The processes `start` recorded under `home`: name -> pid record."""
    folder = run_dir(home)
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.pid"))} if folder.is_dir() else {}


def alive(record: dict) -> bool:
    """The recorded process is still the one `start` launched (same pid, same start time)."""
    return record.get("start_time") is not None and _start_time(record["pid"]) == record["start_time"]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_all(home: Path, timeout: float = 30.0) -> list[str]:
    """End every recorded process group: SIGTERM, then SIGKILL after `timeout`. Returns the names ended."""
    records = recorded(home)
    groups = {name: r["pid"] for name, r in records.items() if alive(r)}
    for pgid in groups.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_group_alive(g) for g in groups.values()):
        time.sleep(0.2)
    for pgid in groups.values():
        if _group_alive(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
    for name in records:
        (run_dir(home) / f"{name}.pid").unlink(missing_ok=True)
    return sorted(groups)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0
