"""A small client of the Airflow REST API v2, for `dtks airflow start` (wait, unpause) and
`dtks run --airflow-url` (trigger, wait, read the run's result).

The token comes from `POST /auth/token` (the FAB auth manager's login); the result of a run is the XCom
`result` the DAG's `finish` task pushes (the same dict the embedded run writes to its result file).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

DAG_ID = "dtks_quarterly"
RESULT_KEY = "result"  # XCom key of `finish`'s result (dags/dtks_quarterly.py)
FINISHED = {"success", "failed"}


class ApiError(RuntimeError):
    pass


class Client:
    def __init__(self, url: str, user: str, password: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._login = {"username": user, "password": password}
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self) -> str:
        if self._token is None:
            answer = self._http.post("/auth/token", json=self._login)
            if answer.status_code in (401, 403):
                raise ApiError(f"{self.url}: the user name or password was refused")
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self._http.request(
            method, f"/api/v2{path}", headers={"Authorization": f"Bearer {self.token()}"}, **kwargs
        )
        if answer.status_code == 401:  # expired: one new token
            self._token = None
            answer = self._http.request(
                method, f"/api/v2{path}", headers={"Authorization": f"Bearer {self.token()}"}, **kwargs
            )
        if answer.status_code >= 400:
            raise ApiError(f"{method} {path}: HTTP {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None

    def answers(self) -> bool:
        try:
            return self._http.get("/api/v2/version", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def dag(self, dag_id: str = DAG_ID) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/dags/{dag_id}")
        except ApiError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise

    def unpause(self, dag_id: str = DAG_ID) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, conf: dict[str, Any], dag_id: str = DAG_ID, run_id: str | None = None) -> str:
        body: dict[str, Any] = {"logical_date": None, "conf": conf}
        if run_id:
            body["dag_run_id"] = run_id
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def runs(self, dag_id: str = DAG_ID, **params: Any) -> list[dict[str, Any]]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100, **params})["dag_runs"]

    def run(self, run_id: str, dag_id: str = DAG_ID) -> dict[str, Any]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def wait(self, run_id: str, timeout: float, dag_id: str = DAG_ID, poll: float = 2.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id, dag_id)
            if run["state"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise ApiError(f"run {run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(poll)

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict[str, Any]]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})[
            "task_instances"
        ]

    def result(self, run_id: str, dag_id: str = DAG_ID) -> dict[str, Any] | None:
        """The result `finish` pushed, or None when it pushed none (it did not run)."""
        try:
            entry = self.request(
                "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/finish/xcomEntries/{RESULT_KEY}"
            )
        except ApiError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        value = entry["value"]
        while isinstance(value, str):
            value = json.loads(value)
        return value
