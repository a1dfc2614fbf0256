"""Failures of the run itself: which are retried and which fail at once (one test per class, with the real
exception wherever it can be provoked), the DAG's task wrapper, the checks at start, and the stage and
masked message reaching the run record and the result."""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pipelines.reports.delivery import DeliveryFailed
from pipelines.stages import finish_run, finish_unstarted, run_stage, start_run
from pipelines.stages.failures import RETRIED, WarehouseUnreachable, classify
from pipelines.stages.inputs import QualityGateFailed
from pipelines.stages.preflight import check_warehouse, check_writable
from pipelines.warehouse.connection import WarehouseConnectionError, environment_variable
from pipelines.warehouse.publish import PublicationConflict
from pipelines.workspace import read_json

NIK = "3201234567890001"
DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "dtks_quarterly.py"


def raised(fn) -> BaseException:
    try:
        fn()
    except BaseException as exc:
        return exc
    raise AssertionError("nothing was raised")


def unwritable_dir() -> Path:
    """A folder no process can create, whoever runs the tests (root included): sysfs refuses."""
    return Path("/sys") / f"dtks-test-{uuid.uuid4().hex}" / "reports"


# --- retried ---------------------------------------------------------------------------------------


def test_publication_conflict_is_retried():
    failure = classify("publish", PublicationConflict("Another run is publishing quarter 2026Q3 right now"))
    assert (failure.kind, failure.retry) == ("publication_conflict", True)


def test_failed_email_is_retried():
    failure = classify("deliver", DeliveryFailed("1 report e-mail(s) not sent: 5203: ConnectionRefusedError"))
    assert (failure.kind, failure.retry) == ("delivery", True)


def test_sqlite_still_locked_by_another_writer_is_retried(tmp_path):
    path = tmp_path / "w.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:

        def write() -> None:
            with engine.begin() as c:
                c.execute(text("INSERT INTO t VALUES (1)"))

        exc = raised(write)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    assert isinstance(exc, OperationalError) and "locked" in str(exc)
    failure = classify("publish", exc)
    assert (failure.kind, failure.retry) == ("database_busy", True)


@pytest.mark.postgres
def test_postgres_serialization_failure_is_retried(pg_url):
    engine = create_engine(pg_url, isolation_level="SERIALIZABLE")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (k int primary key, v int)"))
        c.execute(text("INSERT INTO t VALUES (1, 0), (2, 0)"))
    first, second = engine.connect(), engine.connect()
    try:
        first.begin(), second.begin()
        first.execute(text("SELECT sum(v) FROM t")).scalar()
        second.execute(text("SELECT sum(v) FROM t")).scalar()
        first.execute(text("UPDATE t SET v = 1 WHERE k = 1"))
        second.execute(text("UPDATE t SET v = 1 WHERE k = 2"))
        first.commit()
        exc = raised(second.commit)
    finally:
        first.close(), second.close()
        engine.dispose()
    assert getattr(exc.orig, "pgcode", None) == "40001"
    assert (classify("publish", exc).kind, classify("publish", exc).retry) == ("transaction_conflict", True)


@pytest.mark.postgres
def test_postgres_deadlock_is_retried(pg_url):
    engine = create_engine(pg_url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (k int primary key)"))
        c.execute(text("INSERT INTO t VALUES (1), (2)"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def lock(first: int, then: int) -> None:
        with engine.connect() as c, c.begin():
            c.execute(text("SELECT * FROM t WHERE k = :k FOR UPDATE"), {"k": first})
            barrier.wait()
            try:
                c.execute(text("SELECT * FROM t WHERE k = :k FOR UPDATE"), {"k": then})
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=lock, args=args) for args in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    engine.dispose()
    assert len(errors) == 1 and errors[0].orig.pgcode == "40P01"
    assert classify("publish", errors[0]).retry


@pytest.mark.postgres
def test_postgres_lock_timeout_is_retried(pg_url):
    engine = create_engine(pg_url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (k int)"))
    holder = engine.connect()
    try:
        holder.begin()
        holder.execute(text("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"))

        def swap() -> None:
            with engine.begin() as c:
                c.execute(text("SET LOCAL lock_timeout = '100ms'"))
                c.execute(text("ALTER TABLE t RENAME TO t_new"))

        exc = raised(swap)
    finally:
        holder.rollback(), holder.close()
        engine.dispose()
    assert exc.orig.pgcode == "55P03"
    assert (classify("publish", exc).kind, classify("publish", exc).retry) == ("lock_timeout", True)


# --- failed at once ---------------------------------------------------------------------------------


def test_unreachable_warehouse_fails_at_once():
    engine = create_engine("postgresql+psycopg2://dtks:Rahasia123@127.0.0.1:1/dtks")
    exc = raised(lambda: engine.connect())
    failure = classify("publish", exc)
    assert (failure.kind, failure.retry) == ("warehouse_unreachable", False)
    assert failure.message.startswith("The warehouse cannot be reached: OperationalError:")
    assert "\n" not in failure.message


@pytest.mark.postgres
def test_missing_warehouse_database_fails_at_once(pg_url):
    exc = raised(lambda: create_engine(pg_url + "_does_not_exist").connect())
    assert (classify("start", exc).kind, classify("start", exc).retry) == ("warehouse_unreachable", False)


def test_missing_connection_fails_at_once(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_DTKS_WAREHOUSE", raising=False)
    from pipelines.warehouse.connection import resolve

    failure = classify("publish", raised(resolve))
    assert (failure.kind, failure.retry) == ("warehouse_connection", False)


def test_full_disk_fails_at_once():
    def write() -> None:
        with open("/dev/full", "w") as out:  # the kernel answers ENOSPC, as a full work disk would
            out.write("x" * 65536)
            out.flush()

    failure = classify("decide", raised(write))
    assert (failure.kind, failure.retry) == ("disk_full", False)
    assert failure.message.startswith("The disk is full: OSError: [Errno 28]")


def test_permission_denied_fails_at_once():
    failure = classify("reports_5203", raised(lambda: unwritable_dir().mkdir(parents=True)))
    assert (failure.kind, failure.retry) == ("permission_denied", False)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (QualityGateFailed("42% of rows quarantined"), "quality_gate"),
        (ValueError("bad conf"), "invalid_input"),
        (KeyError("nik"), "invalid_input"),
        (WarehouseConnectionError("no connection"), "warehouse_connection"),
        (WarehouseUnreachable("no answer"), "warehouse_unreachable"),
        (ZeroDivisionError("a bug"), "error"),
        (MemoryError(), "error"),
    ],
)
def test_data_configuration_and_bugs_fail_at_once(exc, kind):
    failure = classify("link", exc)
    assert (failure.kind, failure.retry) == (kind, False)


def test_what_is_retried_is_a_closed_list():
    assert {"publication_conflict", "transaction_conflict", "lock_timeout", "database_busy", "delivery"} == RETRIED


def test_message_is_masked_and_without_password():
    from pipelines.warehouse.connection import ConnectionFields, remember_secret

    remember_secret(ConnectionFields(conn_type="postgres", password="Rahasia-7731"))
    failure = classify("ingest", RuntimeError(f"row of {NIK} via postgresql://u:Rahasia-7731@h/d failed"))
    assert NIK not in failure.message and "Rahasia-7731" not in failure.message
    assert "3201********0001" in failure.message


def test_a_wrapped_transient_error_is_still_retried():
    try:
        try:
            raise PublicationConflict("busy")
        except PublicationConflict as inner:
            raise RuntimeError("publish failed") from inner
    except RuntimeError as outer:
        assert classify("publish", outer).retry


# --- the DAG's task wrapper -----------------------------------------------------------------------


@pytest.fixture
def dag_module(monkeypatch):
    """The DAG file as a module, its task context replaced by one that records XCom pushes."""
    spec = importlib.util.spec_from_file_location("dtks_quarterly_under_test", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pushed: list[dict] = []
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.append({"key": key, **value}))
    monkeypatch.setattr(module, "get_current_context", lambda: {"ti": ti})
    monkeypatch.setattr(module, "_lineage", lambda *a: None)
    from pipelines import stages

    monkeypatch.setattr(stages, "is_held_back", lambda *a: False)  # no run behind these calls
    module.pushed = pushed
    return module


def test_dag_fails_at_once_on_a_permanent_failure(dag_module, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from pipelines import stages

    def full_disk(*_a):
        raise OSError(28, "No space left on device", "/work/x.parquet")

    monkeypatch.setattr(stages, "run_stage", full_disk)
    with pytest.raises(AirflowFailException, match="disk_full: The disk is full"):
        dag_module._run("decide", {"context": {}}, "5203")
    assert dag_module.pushed == [
        {
            "key": "failure",
            "stage": "decide_5203",
            "kind": "disk_full",
            "retry": False,
            "error": "The disk is full: OSError: [Errno 28] No space left on device: '/work/x.parquet'",
        }
    ]


def test_dag_lets_airflow_retry_a_transient_failure(dag_module, monkeypatch):
    from pipelines import stages

    conflict = PublicationConflict("Another run is publishing quarter 2026Q3 right now")

    def busy(*_a):
        raise conflict

    monkeypatch.setattr(stages, "run_stage", busy)
    with pytest.raises(PublicationConflict) as caught:
        dag_module._run("publish", {"context": {}})
    assert caught.value is conflict
    assert dag_module.pushed[0]["retry"] is True and dag_module.pushed[0]["stage"] == "publish"


def test_dag_labels_a_mapped_report_failure_by_kabupaten(dag_module, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from pipelines import stages

    monkeypatch.setattr(stages, "run_stage", lambda *a: (_ for _ in ()).throw(ValueError("bad")))
    with pytest.raises(AirflowFailException):
        dag_module._run("reports", {"context": {}}, "5203")
    assert dag_module.pushed[0]["stage"] == "reports_5203"


# --- checks at start, and the record -------------------------------------------------------------


@pytest.fixture
def conf(tmp_path, monkeypatch) -> dict:
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(*environment_variable(f"sqlite:///{tmp_path / 'warehouse.sqlite'}"))
    quarter = tmp_path / "landing" / "2026Q3"
    (quarter / "submissions" / "5203").mkdir(parents=True)
    (quarter / "dukcapil").mkdir()
    (quarter / "submissions" / "5203" / "5203012001.csv").write_text("kode_desa,nik\n", encoding="utf-8")
    (quarter / "dukcapil" / "5203.csv").write_text("NIK\n", encoding="utf-8")
    return {
        "quarter": "2026Q3",
        "landing": str(tmp_path / "landing"),
        "work": str(tmp_path / "work"),
        "reports": str(tmp_path / "reports"),
        "result_file": str(tmp_path / "result.json"),
    }


def test_start_fails_when_reports_cannot_be_written_and_the_record_says_so(conf):
    conf["reports"] = str(unwritable_dir())
    exc = raised(lambda: start_run(conf, "manual__perm"))
    assert classify("start", exc).kind == "permission_denied"
    result = finish_unstarted(conf, "manual__perm")
    assert result["status"] == "FAILED" and result["failed_stage"] == "start"
    assert result["message"].startswith("Permission denied: [Errno 1] The run cannot write to /sys/dtks-test-")
    assert read_json(Path(conf["result_file"]))["message"] == result["message"]
    assert result["started_at"]  # from run.json, written before the checks failed


def test_start_fails_when_the_warehouse_does_not_answer(conf, monkeypatch):
    monkeypatch.setenv(*environment_variable("postgresql+psycopg2://dtks:Rahasia123@127.0.0.1:1/dtks"))
    exc = raised(lambda: start_run(conf, "manual__unreachable"))
    assert isinstance(exc, WarehouseUnreachable)
    result = finish_unstarted(conf, "manual__unreachable")
    assert result["failed_stage"] == "start" and "cannot be reached" in result["message"]
    assert "127.0.0.1:1/dtks" in result["message"] and "Rahasia123" not in Path(conf["result_file"]).read_text()
    assert result["warehouse"].startswith("postgresql+psycopg2://dtks:***@127.0.0.1:1/dtks")


def test_a_conf_that_cannot_start_still_gets_a_result(conf):
    conf["quarter"] = "2026-Q3"
    result = finish_unstarted(conf, "manual__badconf")
    assert result["status"] == "FAILED" and result["failed_stage"] == "start"
    assert "YYYYQn" in result["message"]


def test_check_warehouse_opens_a_session(conf):
    from pipelines.stages.context import make_context

    check_warehouse(make_context(conf, "manual__ok"))
    with pytest.raises(FileNotFoundError):  # nothing else was created in the work folder
        next((Path(conf["work"])).iterdir())


def test_check_writable_names_the_folder(tmp_path):
    with pytest.raises(PermissionError, match="cannot write to /sys/dtks-test-"):
        check_writable(unwritable_dir())
    check_writable(tmp_path / "new" / "reports")
    assert list((tmp_path / "new" / "reports").iterdir()) == []  # the probe leaves nothing behind


def test_failure_reaches_the_record_from_xcom_when_the_work_folder_has_none(conf):
    run = start_run(conf, "manual__xcom")
    handed_over = [None, {"stage": "decide", "kind": "disk_full", "retry": False, "error": "The disk is full: ..."}]
    result = finish_run(run, handed_over)
    assert (result["status"], result["failed_stage"], result["message"]) == (
        "FAILED",
        "decide",
        "The disk is full: ...",
    )


def test_a_stage_retried_successfully_leaves_no_failure(conf, monkeypatch):
    from pipelines.stages import inputs

    run = start_run(conf, "manual__retry")
    calls = iter([PublicationConflict("busy"), None])

    def flaky(_ctx, *_partition):
        exc = next(calls)
        if exc:
            raise exc
        return {"ok": True}

    monkeypatch.setattr(inputs, "ingest", flaky)
    with pytest.raises(PublicationConflict):
        run_stage("ingest", run)
    errors = Path(run["context"]["work_dir"]) / "2026Q3" / "manual__retry" / "errors"
    assert read_json(errors / "ingest.json")["retry"] is True
    assert run_stage("ingest", run) == {"ok": True}
    assert not (errors / "ingest.json").exists()


def test_run_all_reports_a_run_that_cannot_start(conf, monkeypatch):
    from pipelines.stages import run_all

    monkeypatch.setenv(*environment_variable("postgresql+psycopg2://dtks@127.0.0.1:1/dtks"))
    result = run_all(conf, "manual__run_all")
    assert (result["status"], result["failed_stage"]) == ("FAILED", "start")
    assert result["message"].startswith("The warehouse cannot be reached")
