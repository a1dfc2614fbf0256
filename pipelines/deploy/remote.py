"""`dtks run --airflow-url`: one run of dtks_quarterly on a deployment, through its REST API v2, with the
result the embedded run prints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipelines.deploy.api import DAG_ID, Client


def run_id_for(quarter: str) -> str:
    return f"dtks__{quarter}__{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}"


def run_remote(url: str, user: str, password: str, conf: dict[str, Any], timeout: float = 24 * 3600) -> dict[str, Any]:
    """Trigger, wait, and return `finish`'s result; a run that ended without one (finish never ran) gets a
    result saying which task failed first."""
    with Client(url, user, password) as client:
        run_id = client.trigger(conf, run_id=run_id_for(conf["quarter"]))
        run = client.wait(run_id, timeout)
        result = client.result(run_id)
        if result is None:
            failed = [
                t["task_id"] for t in client.task_instances(run_id) if t["state"] in ("failed", "upstream_failed")
            ]
            result = {
                "run_id": run_id,
                "quarter": conf["quarter"],
                "status": "FAILED",
                "failed_stage": failed[0] if failed else None,
                "message": f"the run ended {run['state']} without a result from `finish`",
            }
    result["airflow_log"] = f"{url.rstrip('/')}/dags/{DAG_ID}/runs/{run_id}"
    return result
