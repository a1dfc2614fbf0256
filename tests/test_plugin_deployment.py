"""The plugin on a real Airflow deployment (`dtks airflow start`, fixture `airflow_deployment`: .url, .user,
.password, .home, .warehouse_url), after a quarter run through it with `dtks run --airflow-url`: Airflow
lists the plugin, the run's page and JSON show the warehouse's figures, the trace comes back masked, and an
anonymous request is refused (issue 15, "Done means").

The quarter is the one the deployment test runs (`deployment_quarter`), on the same Celery deployment.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text

from tests.deployment import QUARTER

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.xdist_group("airflow_deployment"),
]


NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")


@pytest.fixture(scope="module")
def deployment(airflow_deployment):
    return airflow_deployment


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
def published_run(request, deployment) -> str:
    """The 3-kabupaten quarter the deployment test runs too (session fixture `deployment_quarter`): one run
    through the deployment serves both."""
    quarter = request.getfixturevalue("deployment_quarter")
    assert quarter.done.returncode == 0, quarter.done.stdout[-2000:] + quarter.done.stderr[-2000:]
    return quarter.run_id


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
