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
