"""The Airflow UI plugin's app (`pipelines.ui`), through FastAPI's TestClient on a small published quarter,
with Airflow's own authentication: the real `get_user` dependency and a real auth manager (Airflow's
SimpleAuthManager, which needs no metadata database: its tokens are the JWTs the api-server issues).

Under SimpleAuthManager every user may read and unmask (it knows roles, not permissions); the refusal of
the unmask permission under FAB is checked on a real api-server (`tests/test_plugin_deployment.py`, and by
hand: plugins/README.md).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import text

from pipelines.privacy import mask_id
from pipelines.synth import SynthConfig, generate

QUARTER, PREVIOUS = "2026Q3", "2026Q2"
RUN_ID = "manual__plugin"
SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    """One kabupaten's quarter published to SQLite by `run_all`, and an earlier quarter made from it in the
    warehouse (three persons fewer, two with another status), so the quarter has changes to show."""
    from pipelines.stages import run_all
    from pipelines.warehouse import connect
    from pipelines.warehouse.connection import environment_variable

    tmp = tmp_path_factory.mktemp("plugin")
    generate(tmp / "landing", QUARTER, SynthConfig(kab_codes=("5203",), persons=300, seed=11))
    url = f"sqlite:///{tmp / 'warehouse.sqlite'}"
    name, value = environment_variable(url)
    conf = {"quarter": QUARTER, "landing": str(tmp / "landing"), "work": str(tmp / "work"), "reports": str(tmp / "r")}
    with mock.patch.dict("os.environ", {name: value}):
        result = run_all(conf, RUN_ID)
    assert result["status"] == "PUBLISHED", result.get("message")
    engine = connect(url)
    with engine.begin() as c:
        keys = [k for (k,) in c.execute(text("SELECT person_key FROM dtks_snapshot ORDER BY person_key"))]
        c.execute(
            text(
                "INSERT INTO run (run_id, quarter, status, code_version, counts, held_back) "
                "SELECT 'manual__earlier', :q, status, code_version, counts, held_back FROM run"
            ),
            {"q": PREVIOUS},
        )
        columns = ", ".join(
            r[1] for r in c.execute(text("PRAGMA table_info(dtks_snapshot)")) if r[1] not in ("run_id", "quarter")
        )
        c.execute(
            text(
                f"INSERT INTO dtks_snapshot (run_id, quarter, {columns}) "
                f"SELECT 'manual__earlier', :q, {columns} FROM dtks_snapshot WHERE quarter = :cur"
            ),
            {"q": PREVIOUS, "cur": QUARTER},
        )
        c.execute(
            text("DELETE FROM dtks_snapshot WHERE quarter = :q AND person_key IN (:a, :b, :c)"),
            {"q": PREVIOUS, "a": keys[0], "b": keys[1], "c": keys[2]},
        )
        c.execute(
            text(
                "UPDATE dtks_snapshot SET status_dtks = CASE status_dtks WHEN 'AKTIF' THEN 'NONAKTIF' ELSE 'AKTIF' "
                "END WHERE quarter = :q AND person_key IN (:d, :e)"
            ),
            {"q": PREVIOUS, "d": keys[3], "e": keys[4]},
        )
    yield {"engine": engine, "tmp": tmp, "url": url}
    engine.dispose()


@pytest.fixture(scope="module")
def airflow_auth(tmp_path_factory):
    """Airflow's SimpleAuthManager with two users, made the process's auth manager; tokens by user name.
    Airflow checks every token against its `revoked_token` table: a metadata database of that one table."""
    from airflow import settings
    from airflow.api_fastapi import app as airflow_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.models.revoked_token import RevokedToken

    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "operator:viewer,kepala:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": "plugin-test-" + "x" * 64,
    }
    with mock.patch.dict(os.environ, env):
        settings.configure_vars()
        settings.configure_orm()
        RevokedToken.__table__.create(settings.engine, checkfirst=True)
        before = airflow_app._AuthManagerState.instance
        airflow_app._AuthManagerState.instance = None
        manager = airflow_app.create_auth_manager()
        tokens = {
            name: manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role))
            for name, role in (("operator", "viewer"), ("kepala", "admin"))
        }
        yield tokens
        airflow_app._AuthManagerState.instance = before
        settings.dispose_orm()
    settings.configure_vars()
    settings.configure_orm()


@pytest.fixture(scope="module")
def client(published, airflow_auth):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from pipelines.ui.airflow_access import airflow_access
    from pipelines.ui.app import URL_PREFIX, create_app

    root = FastAPI()  # mounted as the api-server mounts a plugin's app
    root.mount(URL_PREFIX, create_app(lambda: published["engine"], airflow_access()))
    with TestClient(root) as c:
        yield c


def _bearer(airflow_auth, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {airflow_auth[name]}"}


ENDPOINTS = (
    f"/dtks/api/runs/{RUN_ID}",
    "/dtks/api/quarters",
    f"/dtks/api/trace?quarter={QUARTER}&source_file=x.csv&source_row=1",
    "/dtks/",
    f"/dtks/runs/{RUN_ID}",
    "/dtks/trace",
    f"/dtks/runs/{RUN_ID}/tasks/validate/0",
    f"/dtks/runs/{RUN_ID}/reports/ringkasan_{QUARTER}.html",
    f"/dtks/runs/{RUN_ID}/data-docs/5203/index.html",
)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_refuses_anonymous_and_bad_tokens(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, cookies={"_token": "not-a-jwt"}).status_code == 403
    assert client.get(path, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 403


def test_run_json_equals_the_warehouse(client, airflow_auth, published):
    response = client.get(f"/dtks/api/runs/{RUN_ID}", headers=_bearer(airflow_auth, "operator"))
    assert response.status_code == 200
    run = response.json()
    assert (run["run_id"], run["quarter"], run["status"], run["published"]) == (RUN_ID, QUARTER, "PUBLISHED", True)
    with published["engine"].connect() as c:
        outcomes = dict(c.execute(text("SELECT outcome, count(*) FROM row_outcome GROUP BY outcome")).fetchall())
        categories = dict(c.execute(text("SELECT category, count(*) FROM discrepancy GROUP BY category")).fetchall())
        record = c.execute(text("SELECT stage_seconds, input_files FROM run WHERE run_id = :r"), {"r": RUN_ID}).one()
    counts = run["counts"]
    assert {k: v for k, v in counts["outcomes"].items() if v} == outcomes
    assert {k: v for k, v in counts["findings"].items() if v} == categories
    assert counts["rows"] == sum(outcomes.values()) and counts["findings_total"] == sum(categories.values())
    assert set(counts["areas"]) == {"5203"} and counts["areas"]["5203"]["rows"] == counts["rows"]
    assert run["kabupaten"]["5203"]["outcomes"] == counts["outcomes"]
    assert {s["stage"]: s["seconds"] for s in run["stage_seconds"]} == json.loads(record.stage_seconds)
    files = json.loads(record.input_files)
    rejected = {f["source_file"] for f in files if f["kind"] == "submission" and f["status"] != "ACCEPTED"}
    assert rejected <= {f["source_file"] for f in run["rejected_files"]}
    assert run["gates"]["per_kabupaten"]["5203"]["validate"]["passed"] is True and run["gates"]["held_back"] == {}
    assert set(run["data_docs"]) == {"5203"}
    kinds = {r["kind"] for r in run["reports"]}
    assert {"ringkasan", "buku_kerja", "desa"} <= kinds
    assert not NIK.search(response.text)  # counts, paths and masked messages only


def test_run_page_shows_the_reports_figures_and_links(client, airflow_auth, published):
    from pipelines.reports import guidance as g
    from pipelines.reports.html_summary import TITLE

    run = client.get(f"/dtks/api/runs/{RUN_ID}", headers=_bearer(airflow_auth, "operator")).json()
    page = client.get(f"/dtks/runs/{RUN_ID}", headers=_bearer(airflow_auth, "operator"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert TITLE in html and g.OUTCOME_DESCRIPTIONS["PUBLISHED"] in html
    assert f">{g.format_count(run['counts']['rows'])}<" in html
    assert f"/dtks/runs/{RUN_ID}/data-docs/5203/index.html" in html
    assert f"/dtks/runs/{RUN_ID}/reports/5203/laporan_dtks_5203_{QUARTER}.xlsx" in html
    assert not NIK.search(html)
    other = client.get(f"/dtks/runs/{RUN_ID}?dag_id=another_dag", headers=_bearer(airflow_auth, "operator"))
    assert other.status_code == 200 and "bukan dtks_quarterly" in other.text


def test_quarters_list_their_changes(client, airflow_auth):
    quarters = client.get("/dtks/api/quarters", headers=_bearer(airflow_auth, "operator")).json()
    assert [q["quarter"] for q in quarters] == [QUARTER, PREVIOUS]
    assert quarters[0]["changes"] == {"previous_quarter": PREVIOUS, "ADDED": 3, "REMOVED": 0, "STATUS_CHANGED": 2}
    assert quarters[1]["changes"] is None
    page = client.get("/dtks/", headers=_bearer(airflow_auth, "operator")).text
    assert f'href="/dtks/runs/{RUN_ID}"' in page and "Orang baru di DTKS: 3" in page


def _a_linked_row(engine) -> tuple[str, int, str]:
    with engine.connect() as c:
        return tuple(
            c.execute(
                text(
                    "SELECT source_file, source_row, nik_dukcapil FROM row_outcome WHERE outcome = 'PUBLISHED' "
                    "AND nik_dukcapil IS NOT NULL ORDER BY source_file, source_row LIMIT 1"
                )
            ).one()
        )


def test_trace_is_masked_by_default_and_unmasked_on_request(client, airflow_auth, published):
    source_file, source_row, nik = _a_linked_row(published["engine"])
    name = Path(source_file).name
    headers = _bearer(airflow_auth, "operator")
    masked = client.get(f"/dtks/api/trace?quarter={QUARTER}&nik={nik}", headers=headers)
    assert masked.status_code == 200
    document = masked.json()
    assert document["schema"] == "dtks-trace/1" and document["masked"] is True
    assert nik not in masked.text and not NIK.search(masked.text)
    assert any(r["source_file"] == source_file for r in document["rows"])

    by_row = client.get(
        f"/dtks/api/trace?quarter={QUARTER}&source_file={name}&source_row={source_row}", headers=headers
    ).json()
    assert [(r["source_file"], r["source_row"]) for r in by_row["rows"]] == [(source_file, source_row)]

    unmasked = client.get(f"/dtks/api/trace?quarter={QUARTER}&nik={nik}&unmask=1", headers=headers)
    assert unmasked.status_code == 200 and unmasked.json()["masked"] is False and nik in unmasked.text

    form = {"quarter": QUARTER, "nik": nik}
    page = client.post("/dtks/trace", data=form, headers=headers)
    assert page.status_code == 200 and nik not in page.text and "disamarkan" in page.text
    assert mask_id(nik) in page.text and 'method="post"' in page.text
    assert "Tampilkan data pribadi" in page.text  # SimpleAuthManager lets every user unmask
    assert client.get(f"/dtks/trace?quarter={QUARTER}&nik={nik}", headers=headers).text == page.text
    shown = client.post("/dtks/trace", data={**form, "unmask": "true"}, headers=headers)
    assert shown.status_code == 200 and nik in shown.text
    assert client.post("/dtks/trace", data=form).status_code == 401


def test_trace_questions_that_cannot_be_answered(client, airflow_auth):
    headers = _bearer(airflow_auth, "operator")
    missing = client.get(f"/dtks/api/trace?quarter={QUARTER}&nik=3201011508950001", headers=headers)
    assert missing.status_code == 404 and "3201011508950001" not in missing.text
    assert client.get("/dtks/api/trace?quarter=2026Q9&nik=1", headers=headers).status_code == 404
    assert client.get(f"/dtks/api/trace?quarter={QUARTER}", headers=headers).status_code == 404
    assert client.get("/dtks/api/runs/no_such_run", headers=headers).status_code == 404
    page = client.get("/dtks/runs/no_such_run", headers=headers)
    assert page.status_code == 404 and "belum tercatat" in page.text


def test_task_links_and_served_files(client, airflow_auth):
    headers = _bearer(airflow_auth, "operator")
    docs = client.get(f"/dtks/runs/{RUN_ID}/tasks/validate/0", headers=headers, follow_redirects=False)
    assert docs.status_code == 307 and docs.headers["location"].endswith("/data-docs/5203/index.html")
    assert client.get(docs.headers["location"], headers=headers).status_code == 200
    workbook = client.get(f"/dtks/runs/{RUN_ID}/tasks/report/0", headers=headers, follow_redirects=False)
    assert workbook.headers["location"].endswith(f"/reports/5203/laporan_dtks_5203_{QUARTER}.xlsx")
    got = client.get(workbook.headers["location"], headers=headers)
    assert got.status_code == 200 and got.content[:2] == b"PK"
    assert client.get(f"/dtks/runs/{RUN_ID}/tasks/validate/7", headers=headers).status_code == 404
    assert client.get(f"/dtks/runs/{RUN_ID}/tasks/link/0", headers=headers).status_code == 404
    for sneaky in ("../manifest.json", "..%2F..%2Fwarehouse.sqlite", "5203/../../warehouse.sqlite"):
        assert client.get(f"/dtks/runs/{RUN_ID}/reports/{sneaky}", headers=headers).status_code == 404
        assert client.get(f"/dtks/runs/{RUN_ID}/data-docs/5203/{sneaky}", headers=headers).status_code == 404


def test_a_run_that_did_not_publish_shows_its_gates_and_data_docs(client, airflow_auth, published, monkeypatch):
    """A run stopped by its quality gate has only its attempt in the warehouse; its work directory (under
    the deployment's DTKS_WORK) still holds its Data Docs and gates."""
    import shutil

    work = published["tmp"] / "work" / QUARTER
    shutil.copytree(work / RUN_ID, work / "manual__stopped", dirs_exist_ok=True)
    with published["engine"].begin() as c:
        c.execute(
            text(
                "INSERT INTO run_attempt (run_id, quarter, status, failed_stage, message) VALUES "
                "('manual__stopped', :q, 'GATE_REJECTED', 'quality_gate', 'NIK 3201011508950001 ditahan')"
            ),
            {"q": QUARTER},
        )
    monkeypatch.setenv("DTKS_WORK", str(published["tmp"] / "work"))
    headers = _bearer(airflow_auth, "operator")
    run = client.get("/dtks/api/runs/manual__stopped", headers=headers).json()
    assert (run["status"], run["published"], run["failed_stage"]) == ("GATE_REJECTED", False, "quality_gate")
    assert "3201011508950001" not in run["message"] and set(run["data_docs"]) == {"5203"}
    assert run["gates"]["per_kabupaten"]["5203"]["validate"]["passed"] is True
    page = client.get("/dtks/runs/manual__stopped", headers=headers).text
    assert "ditolak ambang mutu data" in page and "/dtks/runs/manual__stopped/data-docs/5203/index.html" in page
    link = client.get("/dtks/runs/manual__stopped/tasks/validate/0", headers=headers, follow_redirects=False)
    assert link.status_code == 307 and link.headers["location"].endswith("/data-docs/5203/index.html")


def test_a_warehouse_that_cannot_be_opened_is_503(airflow_auth):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from pipelines.ui.airflow_access import WarehouseEngine, airflow_access
    from pipelines.ui.app import create_app

    root = FastAPI()
    root.mount("/dtks", create_app(WarehouseEngine("dtks_no_such_connection"), airflow_access()))
    with TestClient(root) as c:
        response = c.get("/dtks/api/quarters", headers=_bearer(airflow_auth, "operator"))
    assert response.status_code == 503 and "dtks_no_such_connection" in response.json()["detail"]
    assert TestClient(root).get("/dtks/api/quarters").status_code == 401  # refused before any warehouse


def test_the_plugin_declares_its_views_and_links():
    """The plugin module as Airflow's plugin manager reads it: the app under /dtks, the views, the links."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "dtks_plugin", Path(__file__).parents[1] / "plugins" / "dtks_plugin.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin = module.DtksPlugin
    assert plugin.fastapi_apps[0]["url_prefix"] == "/dtks"
    assert {v["destination"] for v in plugin.external_views} == {"nav", "dag_run"}
    assert all(v["href"].startswith("/dtks/") for v in plugin.external_views)

    class Key:
        dag_id, run_id, task_id, map_index = "dtks_quarterly", "manual__2026-12-02T10:00:00+00:00", "validate", 1

    links = {link.name: link for link in plugin.global_operator_extra_links}
    assert links["Data Docs"].get_link(None, ti_key=Key) == (
        "/dtks/runs/manual__2026-12-02T10%3A00%3A00%2B00%3A00/tasks/validate/1"
    )
    assert links["Buku kerja Dinas Sosial"].get_link(None, ti_key=Key) == ""
