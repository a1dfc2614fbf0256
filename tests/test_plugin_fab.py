"""The unmask permission under FAB, the deployment's auth manager: on a fresh Airflow metadata database,
`pipelines.ui.fab_roles` creates the roles, and the app (with Airflow's own `get_user` and FAB's checks)
refuses `unmask=true` to a Viewer and lets a `DTKS Pemeriksa` through, and FAB's Viewer reads the runs.

FAB keeps its state in Airflow's process-wide settings, so the check runs in a fresh interpreter with its
own AIRFLOW_HOME; it reports what it saw as JSON on its last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json, sys
# Only the tables these checks touch (a whole `airflow db migrate` takes far longer): FAB's own, and the
# revoked tokens every JWT is checked against.
from airflow import settings
from airflow.models.revoked_token import RevokedToken
from airflow.providers.fab.auth_manager.models.db import FABDBManager
from airflow.utils.session import create_session
RevokedToken.__table__.create(settings.engine)
with create_session() as session:
    FABDBManager(session).create_db_from_orm()
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
from pipelines.ui.fab_roles import ensure_roles
with get_application_builder() as appbuilder:
    sm = appbuilder.sm
    for name in ("operator", "auditor"):
        sm.add_user(name, name, "dtks", f"{name}@example.go.id", sm.find_role("Viewer"), password="pw-" + name)
    ensure_roles(sm, readers=["operator"], auditors=["auditor"])
    again = ensure_roles(sm, readers=["operator"], auditors=["auditor"])
    ids = {name: sm.find_user(username=name).id for name in ("operator", "auditor")}

from airflow.api_fastapi.app import init_auth_manager
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pipelines.ui.airflow_access import airflow_access
from pipelines.ui.app import create_app
from pipelines.warehouse import connect, upgrade

manager = init_auth_manager()
warehouse = connect(sys.argv[1])
upgrade(warehouse)
root = FastAPI()
root.mount("/dtks", create_app(lambda: warehouse, airflow_access()))
client = TestClient(root)
seen = {"again": again}
for name, user_id in ids.items():
    user = manager.deserialize_user({"sub": str(user_id)})
    headers = {"Authorization": "Bearer " + manager.generate_jwt(user)}
    seen[name] = {
        "quarters": client.get("/dtks/api/quarters", headers=headers).status_code,
        "masked": client.get("/dtks/api/trace?quarter=2026Q3&nik=3201011508950001", headers=headers).status_code,
        "unmask": client.get(
            "/dtks/api/trace?quarter=2026Q3&nik=3201011508950001&unmask=true", headers=headers
        ).status_code,
    }
seen["anonymous"] = client.get("/dtks/api/quarters").status_code
print(json.dumps(seen))
"""


def test_fab_roles_and_the_unmask_permission(tmp_path):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "plugin-fab-test-" + "y" * 64,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, warehouse], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["again"] == []  # idempotent
    # Both read (FAB's Viewer reads DAG runs); nothing is published, so the trace is 404 once allowed.
    assert seen["operator"] == {"quarters": 200, "masked": 404, "unmask": 403}
    assert seen["auditor"] == {"quarters": 200, "masked": 404, "unmask": 404}
    assert seen["anonymous"] == 401
