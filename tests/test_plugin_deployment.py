"""The plugin on a real Airflow deployment (`dtks airflow start`, fixture `airflow_deployment`: .url, .user,
.password, .home, .warehouse_url), after a quarter run through it with `dtks run --airflow-url`: Airflow
lists the plugin, the run's page and JSON show the warehouse's figures, the trace comes back masked, and an
anonymous request is refused (issue 15, "Done means").

Skipped while the deployment fixture is not defined (it comes with `dtks airflow start`, issue 12).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from pipelines.synth import SynthConfig, generate

QUARTER = "2026Q3"
NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")


@pytest.fixture(scope="module")
def deployment(request):
    try:
        return request.getfixturevalue("airflow_deployment")
    except pytest.FixtureLookupError:
        pytest.skip("no airflow_deployment fixture (dtks airflow start) on this branch")


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _token(deployment) -> str:
    body = json.dumps({"username": deployment.user, "password": deployment.password}).encode()
    request = urllib.request.Request(f"{deployment.url}/auth/token", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["access_token"]


@pytest.fixture(scope="module")
def published_run(deployment, tmp_path_factory) -> str:
    """A small quarter run through the deployment; the run id the warehouse published."""
    from pipelines.warehouse import connect

    tmp = tmp_path_factory.mktemp("plugin_deployment")
    generate(tmp / "landing", QUARTER, SynthConfig(kab_codes=("5203",), persons=300, seed=15))
    command = [
        str(Path(sys.executable).with_name("dtks")),
        "run",
        "--airflow-url",
        deployment.url,
        "--user",
        deployment.user,
        "--password",
        deployment.password,
        "--landing",
        str(tmp / "landing"),
        "--quarter",
        QUARTER,
        "--reports",
        str(tmp / "reports"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    engine = connect(deployment.warehouse_url)
    try:
        with engine.connect() as c:
            return c.execute(
                text("SELECT run_id FROM run WHERE quarter = :q AND status = 'PUBLISHED'"), {"q": QUARTER}
            ).scalar_one()
    finally:
        engine.dispose()


def test_airflow_lists_the_plugin(deployment):
    status, body = _get(f"{deployment.url}/api/v2/plugins", _token(deployment))
    assert status == 200
    plugins = {p["name"]: p for p in json.loads(body)["plugins"]}
    assert plugins["dtks"]["fastapi_apps"][0]["url_prefix"] == "/dtks"
    assert {v["destination"] for v in plugins["dtks"]["external_views"]} == {"nav", "dag_run"}


def test_run_page_trace_and_refusal_on_the_deployment(deployment, published_run):
    from pipelines.reports.guidance import format_count
    from pipelines.warehouse import connect

    token = _token(deployment)
    status, body = _get(f"{deployment.url}/dtks/api/runs/{published_run}", token)
    assert status == 200
    run = json.loads(body)
    engine = connect(deployment.warehouse_url)
    try:
        with engine.connect() as c:
            outcomes = dict(
                c.execute(
                    text("SELECT outcome, count(*) FROM row_outcome WHERE run_id = :r GROUP BY outcome"),
                    {"r": published_run},
                ).fetchall()
            )
            findings = c.execute(
                text("SELECT count(*) FROM discrepancy WHERE run_id = :r"), {"r": published_run}
            ).scalar_one()
            nik = c.execute(
                text("SELECT nik_dukcapil FROM row_outcome WHERE run_id = :r AND nik_dukcapil IS NOT NULL LIMIT 1"),
                {"r": published_run},
            ).scalar_one()
    finally:
        engine.dispose()
    assert {k: v for k, v in run["counts"]["outcomes"].items() if v} == outcomes
    assert run["counts"]["findings_total"] == findings

    status, page = _get(f"{deployment.url}/dtks/runs/{published_run}", token)
    assert status == 200 and f">{format_count(run['counts']['rows'])}<" in page.decode()

    status, body = _get(f"{deployment.url}/dtks/api/trace?quarter={QUARTER}&nik={nik}", token)
    assert status == 200
    document = json.loads(body)
    assert document["masked"] is True and document["rows"] and not NIK.search(body.decode())

    for path in (f"/dtks/api/runs/{published_run}", f"/dtks/api/trace?quarter={QUARTER}&nik={nik}", "/dtks/"):
        assert _get(deployment.url + path)[0] in (401, 403)
