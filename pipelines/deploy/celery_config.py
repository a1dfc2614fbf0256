"""The Celery configuration of the deployment's workers: Airflow's own default, unchanged, named by
`[celery] celery_config_options` in the workers' environment only, so that importing it preloads what
the pipeline's tasks import.

A Celery worker forks its pool, and each pool process forks a process per task; a module imported here,
before the forks, is inherited by every task instead of imported again by each (pandas, Great
Expectations, recordlinkage, openpyxl and the stage modules cost seconds per task on 2 busy cores; the
embedded run pays them once). Nothing here opens a connection, a thread or a file the forks would share.
"""

from __future__ import annotations

import importlib
import logging

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from pipelines import registry

# Imported lazily by the stages, outside the modules the registry names.
LIBRARIES = (
    "pandas",
    "numpy",
    "great_expectations",
    "recordlinkage",
    "openpyxl",
    "sqlalchemy",
    "pipelines.validate.suites",
    "pipelines.link.model",
    "pipelines.link.blocking",
    "pipelines.link.comparisons",
    "pipelines.reports.workbook",
    "pipelines.reports.html_summary",
    "pipelines.warehouse.publish",
)


def preload() -> list[str]:
    """Import every stage's module (from the registry) and the libraries they use; returns what failed."""
    modules = {stage.function.partition(":")[0] for stage in registry.STAGES} | set(LIBRARIES)
    failed = []
    for name in sorted(modules):
        try:
            importlib.import_module(name)
        except Exception as exc:  # a task that needs it will say why; the worker must still start
            logging.getLogger(__name__).warning("Not preloaded: %s (%s)", name, type(exc).__name__)
            failed.append(name)
    return failed


preload()
CELERY_CONFIG = DEFAULT_CELERY_CONFIG
