"""The Docker Compose stack, checked without Docker: docker-compose.yml, Dockerfile and their helpers.

No Docker engine is needed. The compose file is parsed with PyYAML (whose safe loader resolves the
`&anchor` / `<<: *anchor` merges the file relies on) and `${VAR:-default}` is resolved to its default,
as Compose does when neither the environment nor a .env file sets the variable.
"""

from __future__ import annotations

import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
LOCK_FILE = ROOT / "requirements.lock"

INFRA_SERVICES = {"postgres", "redis", "mailpit"}
# Airflow service -> the command it must run (None: checked separately).
AIRFLOW_SERVICES: dict[str, str | None] = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
    "airflow-init": None,
    "airflow-cli": None,
    "flower": "celery flower",
}
LONG_RUNNING = [name for name, command in AIRFLOW_SERVICES.items() if command is not None]
PROFILES = {"airflow-cli": "debug", "flower": "flower", "mailpit": "mail"}

_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: Any) -> Any:
    """Resolve Compose variables to their defaults (unset variables) and `$$` to `$`, recursively."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: "$" if m.group(0) == "$$" else (m.group("default") or ""), value)
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    return value


@cache
def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@cache
def compose() -> dict[str, Any]:
    return interpolate(raw_compose())


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment") or {}
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def common_env() -> dict[str, str]:
    return environment("airflow-scheduler")


def command_text(name: str) -> str:
    command = service(name).get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def healthcheck_text(name: str) -> str:
    test = service(name).get("healthcheck", {}).get("test")
    assert test, f"{name} has no healthcheck"
    return " ".join(test) if isinstance(test, list) else test


def mounts(name: str) -> dict[str, str]:
    """Container path -> host path of the service's bind mounts and volumes (short syntax)."""
    result = {}
    for volume in service(name).get("volumes", []):
        source, target = volume.split(":")[:2]
        result[target] = source
    return result


@cache
def lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK_FILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


@cache
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def run_commands_as(user: str) -> list[str]:
    """The RUN instructions executed while USER is `user` (the base image's default is airflow)."""
    current, runs = "airflow", []
    for instruction, args in dockerfile_instructions():
        if instruction == "USER":
            current = args.split(":")[0]
        elif instruction == "RUN" and current == user:
            runs.append(args)
    return runs


# --- services ------------------------------------------------------------------------------------


def test_every_required_service_exists() -> None:
    assert set(compose()["services"]) >= INFRA_SERVICES | set(AIRFLOW_SERVICES)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_airflow_service_runs_its_command(name: str) -> None:
    assert command_text(name) == AIRFLOW_SERVICES[name]


def test_init_migrates_the_database_and_creates_the_admin() -> None:
    init = service("airflow-init")
    env = environment("airflow-init")
    assert init["entrypoint"] == "/bin/bash"
    assert env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_USERNAME"] and env["_AIRFLOW_WWW_USER_PASSWORD"]
    # The image entrypoint (which runs the migration and creates the user) must actually be called.
    assert "/entrypoint airflow version" in command_text("airflow-init")
    # It prepares the mounted folders, including the pipeline's, for AIRFLOW_UID.
    script = command_text("airflow-init")
    for path in ("/opt/dtks/reports", "/opt/dtks/work", "/opt/airflow/"):
        assert path in script
    assert "chown" in script
    assert init["user"] == "0:0"


def test_cli_runs_airflow() -> None:
    assert service("airflow-cli")["command"] == ["bash", "-c", "airflow"]


@pytest.mark.parametrize(("name", "profile"), sorted(PROFILES.items()))
def test_optional_services_sit_behind_profiles(name: str, profile: str) -> None:
    assert service(name)["profiles"] == [profile]


@pytest.mark.parametrize("name", sorted(set(compose()["services"]) - set(PROFILES)))
def test_core_services_have_no_profile(name: str) -> None:
    assert "profiles" not in service(name)


# --- the project image ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(AIRFLOW_SERVICES))
def test_airflow_service_uses_the_project_image(name: str) -> None:
    svc = service(name)
    build = svc.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    dockerfile = "Dockerfile" if isinstance(build, str) else (build or {}).get("dockerfile", "Dockerfile")
    assert context is not None, f"{name} is not built from the project's Dockerfile"
    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE
    # All services share one tag, and it is not the official image's (building would overwrite it).
    assert svc["image"] == service("airflow-scheduler")["image"]
    assert not svc["image"].startswith("apache/airflow")


def test_non_airflow_services_use_upstream_images() -> None:
    assert service("postgres")["image"] == "postgres:16"
    assert service("redis")["image"] == "redis:7.2-bookworm"
    assert service("mailpit")["image"].startswith("axllent/mailpit")
    for name in INFRA_SERVICES:
        assert "build" not in service(name)


@pytest.mark.parametrize("name", list(AIRFLOW_SERVICES))
def test_nothing_is_pip_installed_at_container_start(name: str) -> None:
    assert not environment(name).get("_PIP_ADDITIONAL_REQUIREMENTS")
    for instruction, args in dockerfile_instructions():
        assert not (instruction in {"ENV", "ARG"} and "_PIP_ADDITIONAL_REQUIREMENTS" in args)


def test_dockerfile_builds_on_the_official_image_of_the_locked_airflow() -> None:
    froms = [args for instruction, args in dockerfile_instructions() if instruction == "FROM"]
    assert len(froms) == 1
    match = re.fullmatch(r"apache/airflow:(?P<airflow>[\w.]+)-python(?P<python>3\.\d+)", froms[0])
    assert match, f"unexpected base image {froms[0]!r}"
    assert match.group("airflow") == lock_pins()["apache-airflow"]
    assert match.group("airflow") == lock_pins()["apache-airflow-core"]
    # pyproject.toml allows exactly one Python minor version; the image must carry it.
    requires_python = re.search(
        r'requires-python\s*=\s*">=(3\.\d+)', (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    )
    assert requires_python and match.group("python") == requires_python.group(1)


def test_image_tag_names_the_locked_airflow_version() -> None:
    tag = service("airflow-scheduler")["image"].rsplit(":", 1)[-1]
    assert lock_pins()["apache-airflow"] in tag


def test_dockerfile_installs_the_lock_then_the_project_as_airflow() -> None:
    copies = [args for instruction, args in dockerfile_instructions() if instruction == "COPY"]
    assert any("requirements.lock" in args.split() for args in copies)
    pip_runs = [cmd for cmd in run_commands_as("airflow") if "pip install" in cmd]
    assert not [cmd for cmd in run_commands_as("root") if "pip install" in cmd], "pip must run as airflow"

    lock_install = [cmd for cmd in pip_runs if re.search(r"-r\s+\S*requirements\.lock\b", cmd)]
    project_install = [cmd for cmd in pip_runs if "--no-deps" in cmd.split()]
    assert len(lock_install) == 1 and len(project_install) == 1
    assert "--no-cache-dir" in lock_install[0].split()
    assert "--no-cache-dir" in project_install[0].split()
    assert pip_runs.index(lock_install[0]) < pip_runs.index(project_install[0])
    # The project install must not resolve anything beyond the lock.
    assert "-r" not in shlex.split(project_install[0].split("&&")[0])


def test_dockerfile_puts_dags_plugins_and_expectations_in_airflow_home() -> None:
    copied = " ".join(args for instruction, args in dockerfile_instructions() if instruction in {"COPY", "RUN"})
    assert "/opt/airflow/" in copied
    for folder in ("dags", "plugins", "expectations"):
        assert re.search(rf"\b{folder}\b", copied), f"the image does not get {folder}/"


def test_dockerignore_keeps_what_the_build_needs() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = ["requirements.lock", "pyproject.toml", "pipelines/", "dags/", "plugins/", "expectations/"]
    if "*" in patterns:  # allow-list style: everything needed must be re-included
        for path in needed:
            assert f"!{path}" in patterns, f".dockerignore excludes {path}"
    else:
        for path in needed:
            assert path.rstrip("/") not in patterns
    for secret_or_bulk in (".git", ".venv", ".env", "data", "logs"):
        assert f"!{secret_or_bulk}" not in patterns and f"!{secret_or_bulk}/" not in patterns


# --- Airflow settings ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(AIRFLOW_SERVICES))
def test_every_airflow_service_gets_the_common_environment(name: str) -> None:
    common = raw_compose()["x-airflow-common"]["environment"]
    assert set(environment(name)) >= set(common)


def test_celery_executor_with_postgres_and_redis() -> None:
    env = common_env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"

    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert metadata.scheme == "postgresql+psycopg2"
    assert metadata.hostname == "postgres" and metadata.path == "/airflow"
    pg = environment("postgres")
    assert (metadata.username, metadata.password) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
    assert pg["POSTGRES_DB"] == "airflow"

    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    result_backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert result_backend.scheme in {"db+postgresql", "db+postgresql+psycopg2", "redis"}
    assert result_backend.hostname in {"postgres", "redis"}


def test_airflow_3_api_server_and_auth() -> None:
    env = common_env()
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == ("airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager")
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_examples_off_and_new_dags_paused() -> None:
    env = common_env()
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "true"


@pytest.mark.parametrize("name", list(AIRFLOW_SERVICES))
def test_airflow_services_run_as_airflow_uid_and_wait_for_their_backends(name: str) -> None:
    svc = service(name)
    if name != "airflow-init":
        assert svc["user"] == "50000:0"
    depends = svc["depends_on"]
    for backend in ("postgres", "redis"):
        assert depends[backend]["condition"] == "service_healthy"
    if name in LONG_RUNNING:
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"


def test_worker_waits_for_the_api_server() -> None:
    # Workers report task state through the Execution API.
    assert service("airflow-worker")["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


# --- health checks -------------------------------------------------------------------------------


def test_postgres_healthcheck() -> None:
    assert "pg_isready" in healthcheck_text("postgres")


def test_redis_healthcheck() -> None:
    assert "redis-cli ping" in healthcheck_text("redis")


def test_apiserver_healthcheck_and_port() -> None:
    assert "http://localhost:8080/api/v2/monitor/health" in healthcheck_text("airflow-apiserver")
    assert "8080:8080" in service("airflow-apiserver")["ports"]


def test_scheduler_healthcheck() -> None:
    assert "http://localhost:8974/health" in healthcheck_text("airflow-scheduler")


@pytest.mark.parametrize("name", ["airflow-dag-processor", "airflow-triggerer", "airflow-worker"])
def test_other_long_running_services_have_healthchecks(name: str) -> None:
    assert healthcheck_text(name)


# --- folders -------------------------------------------------------------------------------------


def test_dag_folder_is_the_repository_dags() -> None:
    source = mounts("airflow-scheduler")["/opt/airflow/dags"]
    assert (ROOT / source).resolve() == ROOT / "dags"
    assert "AIRFLOW__CORE__DAGS_FOLDER" not in common_env()


@pytest.mark.parametrize("name", list(AIRFLOW_SERVICES))
def test_airflow_services_mount_the_same_folders(name: str) -> None:
    expected = {"/opt/airflow/dags", "/opt/airflow/logs", "/opt/airflow/config", "/opt/airflow/plugins"}
    expected |= {common_env()[key] for key in ("DTKS_LANDING", "DTKS_REPORTS", "DTKS_WORK")}
    assert set(mounts(name)) >= expected
    assert mounts(name) == mounts("airflow-scheduler")


def test_pipeline_folders_live_under_data() -> None:
    env, volumes = common_env(), mounts("airflow-scheduler")
    assert env["DTKS_LANDING"] == "/opt/dtks/landing"
    assert env["DTKS_REPORTS"] == "/opt/dtks/reports"
    assert env["DTKS_WORK"] == "/opt/dtks/work"
    for key, folder in (("DTKS_LANDING", "landing"), ("DTKS_REPORTS", "reports"), ("DTKS_WORK", "work")):
        assert (ROOT / volumes[env[key]]).resolve() == ROOT / "data" / folder


# --- warehouse, e-mail, lineage ------------------------------------------------------------------


def test_warehouse_database_is_created_by_an_init_script() -> None:
    url = urlsplit(common_env()["AIRFLOW_CONN_DTKS_WAREHOUSE"])
    assert common_env()["AIRFLOW_CONN_DTKS_WAREHOUSE"] == "postgres://airflow:airflow@postgres:5432/dtks"
    database = url.path.lstrip("/")
    assert database != environment("postgres")["POSTGRES_DB"], "warehouse must not share Airflow's DB"
    pg = environment("postgres")
    assert (url.hostname, url.username, url.password) == (
        "postgres",
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
    )

    init_dir = mounts("postgres")["/docker-entrypoint-initdb.d"]
    scripts = sorted((ROOT / init_dir).glob("*.sql")) + sorted((ROOT / init_dir).glob("*.sh"))
    assert scripts, f"no init script in {init_dir}"
    text = "\n".join(script.read_text(encoding="utf-8") for script in scripts)
    assert re.search(rf"CREATE DATABASE\s+\"?{database}\b", text, re.IGNORECASE)


def test_warehouse_is_an_airflow_connection_never_a_conf_value() -> None:
    """The stack gives the warehouse as the connection `dtks_warehouse`, in the form Airflow reads, and the
    pipeline maps it to the SQLAlchemy URL it publishes with; no other variable carries a warehouse URL."""
    from airflow.sdk import Connection

    from pipelines.warehouse.connection import DEFAULT_CONN_ID, env_var_name, fields_of, to_sqlalchemy_url

    env = common_env()
    uri = env[env_var_name(DEFAULT_CONN_ID)]
    url = to_sqlalchemy_url(fields_of(Connection.from_uri(uri, conn_id=DEFAULT_CONN_ID)))
    assert url.render_as_string(hide_password=False) == "postgresql+psycopg2://airflow:airflow@postgres:5432/dtks"
    assert "DTKS_WAREHOUSE_URL" not in env
    assert not any("postgres" in v and "@" in v for k, v in env.items() if k.startswith("DTKS_")), env
    # The variable comes from .env or the environment, with the compose database as its default.
    assert "${DTKS_WAREHOUSE_CONN:-" in raw_env_value(env_var_name(DEFAULT_CONN_ID))


def raw_env_value(key: str) -> str:
    return str(raw_compose()["x-airflow-common"]["environment"][key])


def test_postgres_keeps_its_data_in_a_named_volume() -> None:
    assert mounts("postgres")["/var/lib/postgresql/data"] in compose()["volumes"]


def test_smtp_connection_points_at_the_mail_sink() -> None:
    uri = urlsplit(common_env()["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert uri.scheme == "smtp"
    assert uri.hostname == "mailpit" and uri.port == 1025
    extras = {key: values[0] for key, values in parse_qs(uri.query).items()}
    assert extras["disable_ssl"] == "true" and extras["disable_tls"] == "true"
    assert "@" in extras["from_email"]
    assert 1025 in service("mailpit")["expose"]


def test_openlineage_writes_to_a_file_in_the_logs_volume() -> None:
    env = common_env()
    masking = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])  # personal data masked first (issue 10)
    assert masking["type"] == "transform"
    assert masking["transformer_class"] == "pipelines.lineage_masking.MaskingTransformer"
    transport = masking["transport"]
    assert transport == {"type": "file", "log_file_path": "/opt/airflow/logs/openlineage", "append": True}
    assert transport["log_file_path"].startswith("/opt/airflow/logs/")
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "dtks"


def test_airflow_logs_are_masked_by_the_project_logging_config() -> None:
    assert common_env()["AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS"] == "pipelines.airflow_logging.LOGGING_CONFIG"


def test_every_compose_variable_is_documented_in_the_env_example() -> None:
    used = {m.group("name") for m in _VARIABLE.finditer(COMPOSE_FILE.read_text(encoding="utf-8"))} - {None}
    documented = set(re.findall(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))
    assert used - documented == set()


# --- one source of settings: the containers and `dtks airflow start` -------------------------------------


def _local_celery_environment(tmp_path) -> dict[str, str]:
    from pipelines.deploy.processes import components
    from pipelines.deploy.settings import CELERY_EXECUTOR, Deployment, environment

    secrets = {"fernet_key": "f", "jwt_secret": "j", "person_key_secret": "p", "admin_password": "a"}
    dep = Deployment(
        home=tmp_path, executor=CELERY_EXECUTOR, metadata="postgresql+psycopg2://u@h/m", landing=tmp_path / "landing"
    )
    per_process = {key: value for c in components(dep, port=lambda: 1) for key, value in c.env}
    return {**environment(dep, secrets, base={}), **per_process}


def test_compose_and_dtks_airflow_start_share_the_declared_settings() -> None:
    from pipelines.deploy.settings import SHARED

    env = common_env()
    assert {key: env.get(key, "").lower() for key in SHARED} == {k: v.lower() for k, v in SHARED.items()}


def test_compose_and_dtks_airflow_start_have_the_same_settings(tmp_path) -> None:
    """Every setting of the local Celery deployment is in the compose file, and the other way round, except
    those declared (with the reason) as belonging to one form only."""
    from pipelines.deploy.settings import COMPOSE_ONLY, LOCAL_ONLY

    local, compose_env = _local_celery_environment(tmp_path), common_env()
    assert set(local) - set(compose_env) == set(LOCAL_ONLY)
    assert set(compose_env) - set(local) == set(COMPOSE_ONLY)
    # Same executor, same kinds of metadata, result backend and broker, same execution API path.
    assert local["AIRFLOW__CORE__EXECUTOR"] == compose_env["AIRFLOW__CORE__EXECUTOR"]
    for key in (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__CELERY__BROKER_URL",
    ):
        assert urlsplit(local[key]).scheme == urlsplit(compose_env[key]).scheme, key
    assert local["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")
    assert compose_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")
    # Lineage: the same masking transformer in front of a file transport.
    local_lineage, compose_lineage = (json.loads(e["AIRFLOW__OPENLINEAGE__TRANSPORT"]) for e in (local, compose_env))
    assert local_lineage["transformer_class"] == compose_lineage["transformer_class"]
    assert local_lineage["transport"]["type"] == compose_lineage["transport"]["type"] == "file"
