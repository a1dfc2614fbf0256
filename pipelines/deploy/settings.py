"""The deployment's Airflow settings, declared once.

`SHARED` holds what is the same wherever the pipeline is deployed; `docker-compose.yml` carries the same
values (tests/test_docker_compose.py checks them, and that every other setting of `environment` has its
counterpart there, or is listed in `LOCAL_ONLY` with the reason). `environment` builds the environment of
every process `dtks airflow start` launches: all of them read the same settings, the JWT secret and the
Fernet key included, and every secret travels in the environment, never on a command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

LOCAL_EXECUTOR: Final = "LocalExecutor"
CELERY_EXECUTOR: Final = "CeleryExecutor"
EXECUTORS: Final = (LOCAL_EXECUTOR, CELERY_EXECUTOR)
DEFAULT_PORT: Final = 8080
DEFAULT_BROKER: Final = "redis://127.0.0.1:6379/0"
DEFAULT_USER: Final = "admin"
# The FAB auth manager (as in docker-compose.yml): users and roles in the metadata database, the login
# page and `POST /auth/token` on the api-server, and permissions the UI plugin can check.
AUTH_MANAGER: Final = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

SHARED: Final[dict[str, str]] = {
    "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
    "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
    # New DAGs wait paused; `dtks airflow start` unpauses dtks_quarterly once it is parsed.
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
    "AIRFLOW__API_AUTH__JWT_ISSUER": "airflow",
    # Task logs, tracebacks and console output masked (pipelines/airflow_logging.py).
    "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS": "pipelines.airflow_logging.LOGGING_CONFIG",
    "AIRFLOW__OPENLINEAGE__NAMESPACE": "dtks",
    "AIRFLOW__OPENLINEAGE__DISABLE_SOURCE_CODE": "true",
    # Each task's lineage events are sent from a thread, not a fork of the task's process (~1 s per task).
    "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "true",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
    # A `nik` query parameter (the plugin's trace) is masked in the api-server's access log.
    "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "nik",
}

# Settings only the local form has, and why the container form needs none.
LOCAL_ONLY: Final[dict[str, str]] = {
    "AIRFLOW_HOME": "the image's AIRFLOW_HOME is /opt/airflow",
    "AIRFLOW__CORE__DAGS_FOLDER": "the image reads dags/ mounted at /opt/airflow/dags",
    "AIRFLOW__CORE__PLUGINS_FOLDER": "the image reads plugins/ mounted at /opt/airflow/plugins",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": "the image logs under /opt/airflow/logs (a mounted folder)",
    "AIRFLOW__API__HOST": "a container listens on all its interfaces, published by `ports`",
    "AIRFLOW__API__PORT": "the container port is 8080, published by `ports`",
    "AIRFLOW__API__WORKERS": "the image's default",
    "AIRFLOW__API__BASE_URL": "the UI's address is the published port",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "each container has its own port 8974",
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "the containers always follow the timetable",
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "each container has its own port 8793",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": "each container has its own port 8794",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "a container worker takes Celery's default",
    "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "workers only (pipelines/deploy/celery_config.py preloads the tasks' "
    "imports); not yet tried in the image",
    "AIRFLOW__OPENLINEAGE__DISABLED": "lineage is always on in the containers",
    "DTKS_HOME": "the containers name DTKS_WORK and DTKS_REPORTS instead",
    "PYTHONWARNINGS": "library deprecation warnings kept out of the local logs",
    "GX_ANALYTICS_ENABLED": "the image sets it",
}

# Settings only the container form has, and where the local form gets the same thing.
COMPOSE_ONLY: Final[dict[str, str]] = {
    "AIRFLOW_CONFIG": "locally the home's airflow.cfg, which Airflow writes on first use",
    "AIRFLOW_CONN_DTKS_WAREHOUSE": "locally `--warehouse` is stored as connection dtks_warehouse in the metadata",
    "AIRFLOW_CONN_SMTP_DEFAULT": "locally an Airflow connection the operator adds (`airflow connections add`)",
    "DTKS_REPORTS": "locally <home>/reports, from DTKS_HOME",
    "DTKS_WORK": "locally <home>/work, from DTKS_HOME",
    "DTKS_EXPECTATIONS_DIR": "locally the suites of the checkout the package is installed from",
    "DTKS_CONFIG": "locally inherited from the environment of `dtks airflow start` when set",
}


@dataclass(frozen=True)
class Deployment:
    """What `dtks airflow start` was asked for. `home` holds everything the deployment writes."""

    home: Path
    port: int = DEFAULT_PORT
    executor: str = LOCAL_EXECUTOR
    workers: int = 2
    concurrency: int = 2
    metadata: str | None = None  # SQLAlchemy URL; default SQLite under the home (LocalExecutor only)
    broker: str = DEFAULT_BROKER
    warehouse: str | None = None  # SQLAlchemy URL; default SQLite under the home
    user: str = DEFAULT_USER
    landing: Path | None = None  # DTKS_LANDING of scheduled runs
    follow_timetable: bool = True

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(f"--executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")
        if self.executor == CELERY_EXECUTOR and not (self.metadata or "").startswith("postgresql"):
            raise ValueError("CeleryExecutor needs PostgreSQL metadata: give --metadata postgresql+psycopg2://...")
        if self.workers < 1 or self.concurrency < 1:
            raise ValueError("--workers and --concurrency must be at least 1")

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        # Five processes write the SQLite file: a writer waits up to 60 s for the lock (the default 5 s gave
        # "database is locked" to `airflow backfill create` on a busy machine).
        return self.metadata or f"sqlite:///{self.airflow_home / 'airflow.db'}?timeout=60"

    @property
    def warehouse_url(self) -> str:
        return self.warehouse or f"sqlite:///{self.home / 'warehouse.sqlite'}"

    @property
    def celery(self) -> bool:
        return self.executor == CELERY_EXECUTOR


def result_backend(metadata_url: str) -> str:
    """Celery keeps task results in the metadata database (Airflow's default, made explicit)."""
    return "db+" + metadata_url


def environment(dep: Deployment, secrets: dict[str, str], base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every process of the deployment: `base` (default this process's), the embedded
    runner's Airflow settings (masked lineage to `<home>/lineage/openlineage.jsonl`), `SHARED`, then this
    deployment's executor, metadata, ports and secrets."""
    from pipelines.airflow_runner import airflow_environment, dags_folder

    env = airflow_environment(dep.airflow_home, base)
    env.update(SHARED)
    env.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder()),
        # The UI plugin (plugins/, beside dags/), as the image mounts it at /opt/airflow/plugins.
        AIRFLOW__CORE__PLUGINS_FOLDER=str(dags_folder().parent / "plugins"),
        AIRFLOW__CORE__EXECUTOR=dep.executor,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=dep.metadata_url,
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{dep.url}/execution/",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(dep.port),
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API__BASE_URL=dep.url,
        AIRFLOW__API_AUTH__JWT_SECRET=secrets["jwt_secret"],
        AIRFLOW__CORE__FERNET_KEY=secrets["fernet_key"],
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=str(dep.follow_timetable).lower(),
        DTKS_HOME=str(dep.home),
        DTKS_PERSON_KEY_SECRET=secrets["person_key_secret"],
    )
    if dep.landing is not None:
        env["DTKS_LANDING"] = str(dep.landing)
    if dep.celery:
        env.update(
            AIRFLOW__CELERY__BROKER_URL=dep.broker,
            AIRFLOW__CELERY__RESULT_BACKEND=result_backend(dep.metadata_url),
            AIRFLOW__CELERY__WORKER_CONCURRENCY=str(dep.concurrency),
        )
    return env


def lineage_transport(env: dict[str, str]) -> dict:
    return json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
