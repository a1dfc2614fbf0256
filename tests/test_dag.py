"""The DAG file: imports cleanly and fast, has the expected shape, and follows the project's policies."""

import itertools
import subprocess
import sys
import time
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    import os

    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow")))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"dtks_quarterly"}


def test_shape(dagbag):
    dag = dagbag.dags["dtks_quarterly"]
    assert dag.tags and dag.max_active_runs == 1 and not dag.catchup
    order = [
        "start",
        "ingest",
        "validate",
        "quality_gate",
        "link",
        "province_offer",
        "province",
        "decide",
        "report",
        "publish",
        "finish",
    ]
    for upstream, downstream in itertools.pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    assert dag.get_task("finish").trigger_rule == "all_done"
    assert dag.get_task("quality_gate").retries == 0
    assert dag.get_task("publish").retries >= 2
    # Per kabupaten/kota: one mapped task group from ingest to the province offer, then decide and report.
    group = dag.get_task("ingest").task_group
    assert group.group_id == "per_kabupaten_ingest"
    assert {t.task_id for t in group} == {"ingest", "validate", "quality_gate", "link", "province_offer"}
    for task_id in ("decide", "report"):
        assert dag.get_task(task_id).map_index_template == "{{ kode_kab }}"


def test_dag_file_parses_fast_without_heavy_imports():
    """Top-level code must stay light: the scheduler parses this file every few seconds."""
    code = (
        "import sys, time; t = time.perf_counter(); "
        f"sys.path.insert(0, {str(DAGS)!r}); import dtks_quarterly; "
        "heavy = [m for m in ('pandas', 'great_expectations', 'recordlinkage', 'sqlalchemy.orm') if m in sys.modules]; "
        "print(heavy, round(time.perf_counter() - t, 2))"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy = out.strip().rsplit("]", 1)[0] + "]"
    assert "pandas" not in heavy and "great_expectations" not in heavy and "recordlinkage" not in heavy, out
    assert time.perf_counter() - start < 60


def test_warehouse_is_named_by_a_connection_id(dagbag):
    """The conf names the warehouse's Airflow connection, never a URL: a URL is refused when the run is
    triggered, before anything is stored with it."""
    from airflow.sdk.exceptions import ParamValidationError

    params = dagbag.dags["dtks_quarterly"].params
    param = params.get_param("warehouse_conn_id")
    assert param.resolve("dtks_warehouse") == "dtks_warehouse"
    with pytest.raises(ParamValidationError):
        param.resolve("postgresql+psycopg2://dtks:secret@db/dtks")
    # The conf of old, a URL under `warehouse`, is refused too, so it is never stored with a run.
    assert params.get_param("warehouse").resolve(None) is None
    with pytest.raises(ParamValidationError):
        params.get_param("warehouse").resolve("postgresql+psycopg2://dtks:secret@db/dtks")


@pytest.mark.airflow
@pytest.mark.slow
@pytest.mark.xdist_group("e2e_sqlite")
def test_airflow_maps_each_kabupaten_and_publishes_the_others_past_a_held_one(tmp_path, monkeypatch):
    """`airflow dags test` (dtks run's code path) on a 2-kabupaten quarter whose second kabupaten's files all
    fail: the metadata shows ingest, validate, link (and the rest of a kabupaten's tasks) mapped once per
    kabupaten, labelled with its kode_kab; the held kabupaten's tasks after its gate are skipped, the other
    publishes and the run says which was held back."""
    import sqlite3

    from pipelines.airflow_runner import run_quarter
    from pipelines.synth import SynthConfig, generate

    quarter, good, bad = "2026Q3", "5203", "5201"
    landing = tmp_path / "landing"
    generate(landing, quarter, SynthConfig(kab_codes=(good, bad), persons=1_000, seed=4, xlsx_share=0.0))
    for path in (landing / quarter / "submissions" / bad).glob("*.csv"):  # each file lacks its `nama` column
        header, rest = path.read_text(encoding="utf-8-sig").split("\n", 1)
        sep = ";" if ";" in header else ","
        path.write_text(sep.join("x" if h.lower() == "nama" else h for h in header.split(sep)) + "\n" + rest)
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    result = run_quarter(str(landing), quarter, warehouse=url, reports=str(tmp_path / "reports"))
    assert result["status"] == "PUBLISHED" and result["held_back"] == [bad], result.get("message")

    with sqlite3.connect(tmp_path / "home" / "airflow" / "airflow.db") as metadata:
        rows = metadata.execute("SELECT task_id, map_index, rendered_map_index, state FROM task_instance").fetchall()
    by_task: dict[str, dict[str, str]] = {}
    kab_codes = sorted((good, bad))  # the map indexes follow discover's sorted list
    for task_id, map_index, label, state in rows:
        if state == "success" and map_index >= 0:  # a task that ran is labelled with its kode_kab
            assert label == kab_codes[map_index], (task_id, map_index, label)
        by_task.setdefault(task_id, {})[kab_codes[map_index] if map_index >= 0 else "-1"] = state
    for task_id in ("ingest", "validate", "link", "province_offer", "decide", "report"):
        assert set(by_task[task_id]) == {good, bad}, (task_id, by_task[task_id])
        assert by_task[task_id][good] == "success", (task_id, by_task[task_id])
    assert by_task["ingest"][bad] == by_task["validate"][bad] == "success"
    for task_id in ("quality_gate", "link", "province_offer", "decide", "report"):
        assert by_task[task_id][bad] == "skipped", (task_id, by_task[task_id])
    for task_id in ("start", "province", "publish", "deliver", "finish"):
        assert by_task[task_id] == {"-1": "success"}, (task_id, by_task[task_id])
