"""The local deployment's pure parts (pipelines/deploy), without starting anything: settings, the process
table, secrets, stopping exactly what was recorded."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.deploy import processes
from pipelines.deploy.secrets import home_secrets
from pipelines.deploy.settings import CELERY_EXECUTOR, SHARED, Deployment, environment

SECRETS = {"fernet_key": "f", "jwt_secret": "j", "person_key_secret": "p", "admin_password": "a"}


def celery(tmp_path, **kw) -> Deployment:
    return Deployment(
        home=tmp_path, executor=CELERY_EXECUTOR, metadata="postgresql+psycopg2://u@h/meta", port=18080, **kw
    )


def test_default_is_local_executor_on_sqlite_under_the_home(tmp_path):
    dep = Deployment(home=tmp_path)
    env = environment(dep, SECRETS, base={})
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path}/airflow/airflow.db?timeout=60"
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow") and env["DTKS_HOME"] == str(tmp_path)
    assert not any(k.startswith("AIRFLOW__CELERY__") for k in env)
    # The repository's dags/ and plugins/ (the UI plugin), as the image mounts them.
    assert Path(env["AIRFLOW__CORE__PLUGINS_FOLDER"]) == Path(env["AIRFLOW__CORE__DAGS_FOLDER"]).parent / "plugins"
    assert dep.warehouse_url == f"sqlite:///{tmp_path}/warehouse.sqlite"


def test_celery_settings_every_component_shares(tmp_path):
    env = environment(celery(tmp_path), SECRETS, base={})
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg2://u@h/meta"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "j" and env["AIRFLOW__CORE__FERNET_KEY"] == "f"
    assert env["DTKS_PERSON_KEY_SECRET"] == "p"
    assert {k: env[k] for k in SHARED} == SHARED
    # Lineage is on and masked, into the home.
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport["transformer_class"] == "pipelines.lineage_masking.MaskingTransformer"
    assert transport["transport"]["log_file_path"] == str(tmp_path / "lineage" / "openlineage.jsonl")


def test_celery_needs_postgres_metadata(tmp_path):
    with pytest.raises(ValueError, match="PostgreSQL"):
        Deployment(home=tmp_path, executor=CELERY_EXECUTOR)
    with pytest.raises(ValueError, match="executor"):
        Deployment(home=tmp_path, executor="KubernetesExecutor")


def test_process_table(tmp_path):
    ports = iter(range(20000, 20100))
    local = processes.components(Deployment(home=tmp_path), port=lambda: next(ports))
    assert [c.name for c in local] == ["api-server", "scheduler", "dag-processor", "triggerer"]
    table = processes.components(celery(tmp_path, workers=3, concurrency=4), port=lambda: next(ports))
    workers = [c for c in table if c.name.startswith("worker-")]
    assert [c.name for c in workers] == ["worker-1", "worker-2", "worker-3"]
    assert workers[0].args == ("celery", "worker", "--celery-hostname", "dtks-worker-1@%h", "--concurrency", "4")
    # Every log server and health check has a port of its own: two deployments on one machine never collide.
    own_ports = [value for c in table for key, value in c.env if key.endswith("_PORT")]
    assert len(own_ports) == len(set(own_ports)) == 5
    # Workers preload the tasks' imports before they fork (pipelines/deploy/celery_config.py).
    assert all(
        dict(w.env)["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == "pipelines.deploy.celery_config.CELERY_CONFIG"
        for w in workers
    )


def test_secrets_are_generated_once_private_and_never_given_on_a_command_line(tmp_path, monkeypatch):
    monkeypatch.delenv("DTKS_PERSON_KEY_SECRET", raising=False)
    home = tmp_path / "airflow"
    first = home_secrets(home)
    assert home_secrets(home) == first
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("fernet.key", "jwt_secret", "person_key_secret", "admin_password"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert len(first["jwt_secret"]) >= 64
    assert home_secrets(home, password="given")["admin_password"] == "given"
    assert not (home / "admin_password").exists()
    monkeypatch.setenv("DTKS_PERSON_KEY_SECRET", "from-the-environment-0123456789")
    assert home_secrets(home)["person_key_secret"] == "from-the-environment-0123456789"
    env = environment(Deployment(home=tmp_path), first, base={})
    table = processes.components(Deployment(home=tmp_path))
    assert not any(secret in " ".join(c.args) for c in table for secret in first.values())
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == first["jwt_secret"]


LAUNCH = """
import os, sys
from pathlib import Path
from pipelines.deploy import processes
code = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
component = processes.Component("sleeper", ("-c", code))
print(processes.launch(sys.executable, component, dict(os.environ), Path(sys.argv[1])))
"""


def test_stop_ends_the_recorded_process_group_and_nothing_else(tmp_path):
    # Launched by a process that exits, as `dtks airflow start` does: the group is no child of this one.
    pid = int(
        subprocess.run([sys.executable, "-c", LAUNCH, str(tmp_path)], capture_output=True, text=True, check=True).stdout
    )
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        # A record whose pid now belongs to another process (another start time) is not killed.
        (processes.run_dir(tmp_path) / "stale.pid").write_text(
            json.dumps({"pid": bystander.pid, "start_time": "1", "args": []})
        )
        time.sleep(0.5)
        assert processes.alive(processes.recorded(tmp_path)["sleeper"])
        assert processes.stop_all(tmp_path, timeout=10) == ["sleeper"]
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
        assert bystander.poll() is None
        assert processes.recorded(tmp_path) == {}
        assert (tmp_path / "logs" / "sleeper.log").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_run_on_a_deployment_that_does_not_answer_could_not_run(tmp_path, monkeypatch, capsys):
    from pipelines.cli import COULD_NOT_RUN, main

    (tmp_path / "2026Q3").mkdir()
    monkeypatch.setenv("DTKS_AIRFLOW_PASSWORD", "pw")
    url = f"http://127.0.0.1:{processes.free_port()}"
    assert main(["run", "--airflow-url", url, "--landing", str(tmp_path), "--quarter", "2026Q3"]) == COULD_NOT_RUN
    assert url in capsys.readouterr().err
    with pytest.raises(SystemExit, match="dtks_warehouse"):
        main(
            ["run", "--airflow-url", url, "--landing", str(tmp_path), "--quarter", "2026Q3", "--warehouse", "sqlite://"]
        )


def test_environment_file_for_airflows_cli_is_private_and_sourceable(tmp_path):
    from pipelines.deploy.control import write_environment

    dep = Deployment(home=tmp_path)
    home_secrets(dep.airflow_home, password="pw", env={"DTKS_PERSON_KEY_SECRET": "k" * 20})
    env = environment(dep, SECRETS, base={"PATH": os.environ["PATH"], "HOME": "/nowhere"})
    path = write_environment(dep, env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shown = subprocess.run(
        [
            "bash",
            "-c",
            f". {path} && echo $AIRFLOW__DATABASE__SQL_ALCHEMY_CONN && echo $AIRFLOW__OPENLINEAGE__TRANSPORT",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert shown[0] == dep.metadata_url
    assert json.loads(shown[1]) == json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert "export HOME=" not in path.read_text() and "export PATH=" not in path.read_text()  # its own settings only
