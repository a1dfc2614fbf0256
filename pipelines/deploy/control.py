"""`dtks airflow start` and `dtks airflow stop`: the deployment's steps, in order.

start: secrets -> `airflow db migrate` -> the warehouse connection -> the admin user -> the processes ->
the API answers -> `dtks_quarterly` parsed -> unpaused. Anything that fails on the way stops what was
launched and says which log to read.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.airflow_runner import prepare_warehouse_connection
from pipelines.deploy import processes
from pipelines.deploy.api import DAG_ID, Client
from pipelines.deploy.secrets import home_secrets
from pipelines.deploy.settings import Deployment, environment
from pipelines.privacy import mask_text
from pipelines.warehouse.connection import DEFAULT_CONN_ID, redact

STATE_FILE = "deployment.json"  # what `start` set up, without secrets
ENV_FILE = "environment"  # under the Airflow home, 0600: the settings for `airflow` commands by hand


def write_environment(dep: Deployment, env: dict[str, str]) -> Path:
    """The deployment's settings (secrets included, so mode 0600 in the 0700 Airflow home) as `export` lines,
    for Airflow's own CLI: `. <home>/airflow/environment; airflow backfill create ...`."""
    path = dep.airflow_home / ENV_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    keys = sorted(
        k for k in env if k.startswith(("AIRFLOW", "DTKS_")) or k in ("PYTHONWARNINGS", "GX_ANALYTICS_ENABLED")
    )
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(f"export {key}={shlex.quote(env[key])}\n" for key in keys)
    return path


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class Started:
    url: str
    user: str
    password: str
    seconds: float
    processes: dict[str, int]


def airflow_bin() -> str:
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return redact(mask_text(path.read_text(encoding="utf-8", errors="replace")[-chars:]))
    except OSError:
        return ""


def _airflow(env: dict[str, str], home: Path, name: str, *args: str, stdin: str = "") -> str:
    """One Airflow command, its output appended to `<home>/logs/<name>.log`; fails with that log's tail."""
    log = home / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [airflow_bin(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        start_new_session=True,  # no terminal: getpass reads the password from stdin
        cwd=home,
        check=False,
    )
    with open(log, "a", encoding="utf-8") as out:
        out.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise DeployError(f"airflow {args[0]} failed (log {log}):\n{_tail(log)}")
    return done.stdout + done.stderr


def ensure_admin(env: dict[str, str], home: Path, user: str, password: str, reset: bool) -> None:
    """The admin login, created once; its password replaced when `--password` is given again. The password
    goes over stdin, never on a command line."""
    stdin = f"{password}\n{password}\n"
    answer = _airflow(
        env,
        home,
        "users",
        "users",
        "create",
        "--username",
        user,
        "--role",
        "Admin",
        "--firstname",
        "DTKS",
        "--lastname",
        "Admin",
        "--email",
        f"{user}@localhost",
        stdin=stdin,
    )
    if "already exists" in answer and reset:
        _airflow(env, home, "users", "users", "reset-password", "--username", user, stdin=stdin)


def ensure_plugin_roles(env: dict[str, str], home: Path) -> None:
    """The UI plugin's FAB roles (`DTKS Pembaca`, `DTKS Pemeriksa`, pipelines/ui/fab_roles.py), so that the
    permission that unmasks personal data exists to be granted; the admin holds every permission already."""
    log = home / "logs" / "fab-roles.log"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.ui.fab_roles"],
        env=env,
        capture_output=True,
        text=True,
        cwd=home,
        check=False,
    )
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise DeployError(f"The plugin's roles could not be created (log {log}):\n{_tail(log)}")


def running(home: Path) -> dict[str, int]:
    return {name: r["pid"] for name, r in processes.recorded(home).items() if processes.alive(r)}


def start(dep: Deployment, password: str | None = None, timeout: float = 240.0) -> Started:
    began = time.monotonic()
    home = dep.home
    if running(home):
        raise DeployError(f"A deployment is already running under {home}: `dtks airflow stop --home {home}` first.")
    if processes.port_in_use(dep.port):
        raise DeployError(f"Port {dep.port} is already in use: choose another with --port.")
    home.mkdir(parents=True, exist_ok=True)
    secrets = home_secrets(dep.airflow_home, password)
    env = environment(dep, secrets)
    write_environment(dep, env)
    _airflow(env, home, "db-migrate", "db", "migrate")
    prepare_warehouse_connection(env, home, dep.warehouse, DEFAULT_CONN_ID)
    ensure_admin(env, home, dep.user, secrets["admin_password"], reset=password is not None)
    ensure_plugin_roles(env, home)
    table = processes.components(dep)
    airflow = airflow_bin()
    try:
        for component in table:
            processes.launch(airflow, component, env, home)
        _wait_until_ready(dep, table, secrets["admin_password"], timeout - (time.monotonic() - began))
    except BaseException:
        processes.stop_all(home)
        raise
    state = {"url": dep.url, "user": dep.user, "executor": dep.executor, "port": dep.port, "workers": dep.workers}
    (home / STATE_FILE).write_text(json.dumps(state, indent=2))
    return Started(dep.url, dep.user, secrets["admin_password"], time.monotonic() - began, running(home))


def _check_alive(home: Path, table: list[processes.Component]) -> None:
    records = processes.recorded(home)
    for component in table:
        record = records.get(component.name)
        if record is None or not processes.alive(record):
            log = home / "logs" / f"{component.name}.log"
            raise DeployError(f"airflow {' '.join(component.args)} ended at start-up (log {log}):\n{_tail(log)}")


def _wait_until_ready(dep: Deployment, table: list[processes.Component], password: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with Client(dep.url, dep.user, password) as client:
        while not client.answers():
            _check_alive(dep.home, table)
            if time.monotonic() > deadline:
                raise DeployError(f"The API at {dep.url} did not answer within {timeout:.0f} s.")
            time.sleep(0.5)
        while client.dag(DAG_ID) is None:
            _check_alive(dep.home, table)
            if time.monotonic() > deadline:
                log = dep.home / "logs" / "dag-processor.log"
                raise DeployError(f"{DAG_ID} was not parsed within {timeout:.0f} s (log {log}):\n{_tail(log)}")
            time.sleep(0.5)
        client.unpause(DAG_ID)


def stop(home: Path, port: int | None = None, timeout: float = 30.0) -> list[str]:
    """End the processes `start` launched under `home`; wait until nothing listens on its port."""
    if port is None and (home / STATE_FILE).exists():
        port = json.loads((home / STATE_FILE).read_text())["port"]
    ended = processes.stop_all(home, timeout)
    deadline = time.monotonic() + 10
    while port and processes.port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    if port and processes.port_in_use(port):
        raise DeployError(f"Port {port} is still in use after stopping {', '.join(ended) or 'nothing'}.")
    return ended
