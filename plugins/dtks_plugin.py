"""The DTKS plugin for Airflow's api-server: the run's outcome and the auditor's trace inside the Airflow UI.

Thin on purpose: the app and everything it shows live in `pipelines.ui` (tested without Airflow). This
mounts the app under `/dtks`, puts its pages in the navigation and in the DAG-run view, and gives the
validate task a link to its Data Docs and the report task one to its workbook. Every route of the app
checks the user through Airflow's auth manager (see `pipelines/ui/airflow_access.py`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink

from pipelines.ui.airflow_access import WarehouseEngine, airflow_access
from pipelines.ui.app import DAG_ID, URL_PREFIX, create_app
from pipelines.ui.pages import NAV_TITLE, TRACE_TITLE


class _TaskLink(BaseOperatorLink):
    """A link the api-server computes from the task instance's key alone (no XCom): the app resolves the
    map index to the kabupaten/kota and redirects to what there is to open."""

    task_id = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if ti_key.dag_id != DAG_ID or ti_key.task_id != self.task_id:
            return ""
        from urllib.parse import quote

        index = max(int(ti_key.map_index), 0)
        return f"{URL_PREFIX}/runs/{quote(ti_key.run_id, safe='')}/tasks/{self.task_id}/{index}"


class DataDocsLink(_TaskLink):
    name = "Data Docs"
    task_id = "validate"


class WorkbookLink(_TaskLink):
    name = "Buku kerja Dinas Sosial"
    task_id = "report"


class DtksPlugin(AirflowPlugin):
    name = "dtks"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": create_app(WarehouseEngine(), airflow_access()), "url_prefix": URL_PREFIX, "name": "DTKS"},
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": NAV_TITLE,
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "DTKS",
            "url_route": "dtks",
        },
        {
            "name": TRACE_TITLE,
            "href": f"{URL_PREFIX}/trace",
            "destination": "nav",
            "category": "DTKS",
            "url_route": "dtks-trace",
        },
        {
            "name": "Hasil DTKS",
            "href": f"{URL_PREFIX}/runs/{{RUN_ID}}?dag_id={{DAG_ID}}",
            "destination": "dag_run",
            "url_route": "dtks-run",
        },
    ]
    global_operator_extra_links: ClassVar[list[BaseOperatorLink]] = [DataDocsLink(), WorkbookLink()]
