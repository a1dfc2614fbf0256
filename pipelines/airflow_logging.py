"""Airflow's logging configuration with personal data masked: `[logging] logging_config_class =
pipelines.airflow_logging.LOGGING_CONFIG` (`AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS`).

Airflow 3 writes logs on three paths, and each needs its own hook:

1. Task log files (`logs/dag_id=.../attempt=N.log`, what the UI shows) are written by the task
   supervisor through structlog, with the processors of `airflow.sdk.log.logging_processors`: Airflow's
   own, then those of the module's `REMOTE_TASK_LOG`, then the JSON renderer. The task process itself
   adds the same processors before sending its events to the supervisor. `REMOTE_TASK_LOG` is the
   documented side channel of a custom logging module (a `RemoteLogIO`: `processors`, `upload`, `read`);
   `MaskingTaskLog` puts `mask_log_event` there and hands uploads and reads on to the remote log that
   Airflow's default module configures, if any. By then tracebacks are dicts (`error_detail`), whose
   strings are masked like the message.
2. Component and `airflow dags test` output goes to the console through Airflow's core logging set-up,
   which takes no processors from this module: the default handler and the root logger are Airflow's.
   `airflow dags test` runs tasks in its own process, so their logs and tracebacks, and `print`, come
   out there. Importing this module (Airflow imports it before configuring logging, in every process)
   wraps `sys.stdout` and `sys.stderr` in a `MaskingStream`, which the console handlers then write to.
3. stdlib handlers of the logging dict (`LOGGING_CONFIG`): Airflow's default, with a `MaskingFilter`
   beside each of its secrets-masking filters.

Airflow's secrets masker stays in place: it masks registered secrets; this masks personal data by form.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from airflow.config_templates import airflow_local_settings

from pipelines.log_masking import install_console_masking, mask_log_event

LOGGING_CONFIG_PATH = "pipelines.airflow_logging.LOGGING_CONFIG"
_FILTER = "mask_personal_data"


def _with_masking_filter(config: dict[str, Any]) -> dict[str, Any]:
    """Airflow's logging dict, with the personal-data filter wherever Airflow filters secrets."""
    config = copy.deepcopy(config)
    config.setdefault("filters", {})[_FILTER] = {"()": "pipelines.log_masking.MaskingFilter"}
    sections = [*config.get("handlers", {}).values(), *config.get("loggers", {}).values(), config.get("root", {})]
    for section in sections:
        if "filters" in section and _FILTER not in section["filters"]:
            section["filters"] = [*section["filters"], _FILTER]
    return config


class MaskingTaskLog:
    """A `RemoteLogIO` that adds the masking processor to the task log write path. Uploads and reads go
    to the remote log Airflow's default logging module built (S3, GCS, ...) when remote logging is on;
    without one there is nothing remote to read, and Airflow reads the local file as usual."""

    def __init__(self, upstream: Any = None) -> None:
        self.upstream = upstream

    @property
    def processors(self) -> tuple[Any, ...]:
        return (mask_log_event, *(getattr(self.upstream, "processors", None) or ()))

    def upload(self, path: os.PathLike | str, ti: Any = None) -> None:
        if self.upstream is not None:
            self.upstream.upload(path, ti)

    def read(self, relative_path: str, ti: Any) -> tuple[list[str], list[str] | None]:
        if self.upstream is not None:
            return self.upstream.read(relative_path, ti)
        return [], None

    def __getattr__(self, name: str) -> Any:
        # `stream` (and anything else a reader looks for) only when the upstream remote log has it.
        if name == "upstream" or self.__dict__.get("upstream") is None:
            raise AttributeError(name)
        return getattr(self.upstream, name)


LOGGING_CONFIG = _with_masking_filter(airflow_local_settings.DEFAULT_LOGGING_CONFIG)
REMOTE_TASK_LOG = MaskingTaskLog(airflow_local_settings.REMOTE_TASK_LOG)
DEFAULT_REMOTE_CONN_ID = airflow_local_settings.DEFAULT_REMOTE_CONN_ID

install_console_masking()
