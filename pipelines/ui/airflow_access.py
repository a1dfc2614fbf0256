"""The app's `Access` on Airflow's auth manager, and the warehouse as the deployment's Airflow connection.

Imported only inside the api-server (by `plugins/dtks_plugin.py`). The user comes from Airflow's own
`get_user` dependency (JWT in the `Authorization: Bearer` header or the UI's `_token` cookie); reading needs
the auth manager's permission to read `dtks_quarterly`'s DAG runs; unmasking needs the custom view
`UNMASK_RESOURCE` with method GET (under the FAB auth manager: the permission `can_read` on the resource
`DTKS Data Pribadi`, held by the role `DTKS Pemeriksa` that `pipelines.ui.fab_roles` creates).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Final

from sqlalchemy import Engine

from pipelines.ui.app import DAG_ID, Access

UNMASK_RESOURCE: Final = "DTKS Data Pribadi"
CONN_ENV: Final = "DTKS_UI_WAREHOUSE_CONN"  # another warehouse connection than dtks_warehouse


def can_read(user: Any) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return get_auth_manager().is_authorized_dag(
        method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=DAG_ID), user=user
    )


def can_unmask(user: Any) -> bool:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().is_authorized_custom_view(method="GET", resource_name=UNMASK_RESOURCE, user=user)


def airflow_access() -> Access:
    from airflow.api_fastapi.core_api.security import get_user

    return Access(user=get_user, can_read=can_read, can_unmask=can_unmask)


class WarehouseEngine:
    """The warehouse engine, made on first use from the Airflow connection (the api-server may start before
    the connection exists) and kept for the process."""

    def __init__(self, conn_id: str | None = None) -> None:
        self.conn_id = conn_id
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Engine:
        with self._lock:
            if self._engine is None:
                from pipelines.warehouse import connect
                from pipelines.warehouse.connection import DEFAULT_CONN_ID

                self._engine = connect(_url(self.conn_id or os.environ.get(CONN_ENV) or DEFAULT_CONN_ID))
            return self._engine


def _url(conn_id: str):
    """The connection's URL: through the Task SDK as the tasks read it, else (the api-server has no task
    context) from Airflow's secrets backends and metadata database directly."""
    from pipelines.warehouse.connection import WarehouseConnectionError, fields_of, resolve, to_sqlalchemy_url

    try:
        return resolve(conn_id)
    except WarehouseConnectionError:
        from airflow.models.connection import Connection

        return to_sqlalchemy_url(fields_of(Connection.get_connection_from_secrets(conn_id)), conn_id)
