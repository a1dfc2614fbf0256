"""Masking where logs, tracebacks and lineage events leave a process: the stdlib filter, the structlog
processor, the console stream, Airflow's logging configuration and the OpenLineage transformer. The slow
tests run a real DAG through Airflow and read what it wrote."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import structlog

from pipelines.log_masking import MaskingFilter, MaskingStream, mask_log_event

NIK, KK, NAME = "3201011508950001", "3201011508950002", "SITI AMINAH"
LEAKS = (NIK, KK, "3201 0115 0895 0002", "3.20101150895E+15", NAME)


def _leaks(text: str) -> list[str]:
    return [value for value in LEAKS if value in text]


def test_the_stdlib_filter_masks_message_and_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("test_log_masking.stdlib")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"row with NIK {NIK}")
        except ValueError:
            logger.exception("failed for %s", KK)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert not _leaks(text), text
    assert "failed for 3201********0002" in text and "ValueError: row with NIK 3201********0001" in text


def test_the_structlog_processor_masks_events_and_tracebacks() -> None:
    try:
        raise KeyError(NIK)
    except KeyError:
        event = mask_log_event(None, "error", {"event": f"bad {NIK}", "nama": NAME, "exc_info": True})
    assert event["event"] == "bad 3201********0001" and event["nama"] == "S*** A*****"
    assert "exc_info" not in event and "KeyError: '3201********0001'" in event["exception"]
    # Airflow's JSON logs hold the traceback as dicts by the time the processor runs.
    rendered = {"event": "Task failed", "error_detail": [{"exc_type": "ValueError", "exc_value": f"nik {NIK}"}]}
    assert mask_log_event(None, "error", rendered)["error_detail"][0]["exc_value"] == "nik 3201********0001"
    # Masking twice (task process, then supervisor) changes nothing more.
    once = mask_log_event(None, "info", {"event": "x", "nik": NIK})
    assert mask_log_event(None, "info", dict(once)) == once == {"event": "x", "nik": "3201********0001"}
    record = logging.makeLogRecord({"msg": "x"})
    assert mask_log_event(None, "info", {"event": "x", "_record": record})["_record"] is record


def test_a_console_renderer_prints_the_masked_traceback() -> None:
    out = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(out), processors=[mask_log_event, structlog.dev.ConsoleRenderer(colors=False)]
    )
    try:
        raise ValueError(f"bad {NIK}")
    except ValueError:
        logger.exception("failed", nik=NIK)
    assert not _leaks(out.getvalue()) and "ValueError: bad 3201********0001" in out.getvalue()


def test_the_console_stream_masks_what_is_written() -> None:
    target = io.StringIO()
    stream = MaskingStream(target)
    print("nik", NIK, file=stream)
    stream.writelines([f"{KK}\n"])
    stream.flush()
    assert target.getvalue() == "nik 3201********0001\n3201********0002\n"
    assert stream.getvalue() == target.getvalue()  # everything else is the wrapped stream's


def test_airflow_logging_config_keeps_airflows_and_adds_the_mask() -> None:
    from airflow.config_templates.airflow_local_settings import DEFAULT_LOGGING_CONFIG

    from pipelines.airflow_logging import LOGGING_CONFIG, REMOTE_TASK_LOG

    assert LOGGING_CONFIG["filters"]["mask_personal_data"] == {"()": "pipelines.log_masking.MaskingFilter"}
    for section in ("handlers", "loggers"):
        for name, entry in DEFAULT_LOGGING_CONFIG[section].items():
            if "mask_secrets_core" in entry.get("filters", []):
                assert LOGGING_CONFIG[section][name]["filters"] == ["mask_secrets_core", "mask_personal_data"]
    assert mask_log_event in REMOTE_TASK_LOG.processors
    assert REMOTE_TASK_LOG.read("dag_id=x/attempt=1.log", None) == ([], None)  # local files are read as usual
    assert getattr(REMOTE_TASK_LOG, "stream", None) is None


def test_the_embedded_run_uses_the_masked_logging_and_lineage(tmp_path: Path, monkeypatch) -> None:
    from pipelines.airflow_runner import airflow_environment

    monkeypatch.delenv("AIRFLOW__OPENLINEAGE__TRANSPORT", raising=False)
    env = airflow_environment(tmp_path / "airflow")
    assert env["AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS"] == "pipelines.airflow_logging.LOGGING_CONFIG"
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport["type"] == "transform" and transport["transport"]["type"] == "file"
    # A transport an operator sets (Marquez) is wrapped the same way.
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "http", "url": "http://marquez:5000"}))
    transport = json.loads(airflow_environment(tmp_path / "airflow")["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport["transformer_class"] == "pipelines.lineage_masking.MaskingTransformer"
    assert transport["transport"] == {"type": "http", "url": "http://marquez:5000"}


def test_lineage_fail_events_are_masked() -> None:
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import error_message_run
    from openlineage.client.serde import Serde

    from pipelines.lineage_masking import MaskingTransformer

    error = error_message_run.ErrorMessageRunFacet(
        message=f"duplicate key (nik)=({NIK})", programmingLanguage="python", stackTrace=f"Traceback\nKeyError: {KK}"
    )
    event = RunEvent(
        eventType=RunState.FAIL,
        eventTime="2026-12-02T03:13:14.037Z",
        run=Run(runId="01a234bd-de37-7b5a-8194-fcbbeb42f27a", facets={"errorMessage": error}),
        job=Job(namespace="dtks", name="dtks_quarterly.ingest"),
        producer="https://github.com/apache/airflow",
    )
    text = Serde.to_json(MaskingTransformer({}).transform(event))
    assert not _leaks(text) and "3201********0001" in text and "3201********0002" in text
    assert "01a234bd-de37-7b5a-8194-fcbbeb42f27a" in text and "2026-12-02T03:13:14.037Z" in text


# --- A real DAG through Airflow ------------------------------------------------------------------------

_DAG = f'''
import logging

import structlog
from airflow.sdk import dag, task


@dag(schedule=None, catchup=False)
def leak_dag():
    @task
    def speak():
        forms = ("{NIK}", "3201 0115 0895 0002", "3.20101150895E+15")
        logging.getLogger("pipelines.leak").info("stdlib %s, %s, %s", *forms)
        structlog.get_logger("leak").info("structlog %s", "{NIK}", nik="{NIK}", nama="{NAME}")
        print("print", "{KK}")
        return "ok"

    @task
    def fail(_):
        raise ValueError("row with NIK {NIK} and KK {KK}, nama={NAME!r}")

    fail(speak())


leak_dag()
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    from pipelines.airflow_runner import airflow_environment, ensure_metadata_db

    root = tmp_path_factory.mktemp("log_masking")
    (root / "dags").mkdir()
    (root / "dags" / "leak_dag.py").write_text(_DAG, encoding="utf-8")
    home = root / "airflow"
    ensure_metadata_db(home)
    env = airflow_environment(home)
    env.update(AIRFLOW__CORE__DAGS_FOLDER=str(root / "dags"), AIRFLOW__OPENLINEAGE__DISABLED="False")
    return home, env


def _airflow(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    from pipelines.airflow_runner import _airflow_bin

    return subprocess.run([_airflow_bin(), *args], env=env, capture_output=True, text=True, check=False, **kwargs)


@pytest.mark.airflow
@pytest.mark.slow
@pytest.mark.xdist_group("log_masking")
def test_airflow_dags_test_output_is_masked(airflow_home) -> None:
    """`airflow dags test` runs the tasks in its own process: their logs, `print` and the traceback of a
    failing task come out on its console (what `dtks run` writes to its log file)."""
    home, env = airflow_home
    done = _airflow("dags", "test", "leak_dag", env=env, timeout=600)
    output = done.stdout + done.stderr
    assert "stdlib 3201********0001, 3201********0002, 3.201********E+15" in output, output[-3000:]
    assert "print 3201********0002" in output and "nama='S*** A*****'" in output
    assert "ValueError: row with NIK 3201********0001 and KK 3201********0002" in output
    assert not _leaks(output), _leaks(output)
    lineage = (home.parent / "lineage" / "openlineage.jsonl").read_text(encoding="utf-8")
    assert '"eventType": "FAIL"' in lineage and "3201********0001" in lineage
    assert not _leaks(lineage)


@pytest.mark.airflow
@pytest.mark.slow
@pytest.mark.xdist_group("log_masking")
def test_task_log_files_are_masked(airflow_home) -> None:
    """Through an executor, as in a deployment: the task supervisor writes the task log files the UI
    shows, through the processors of the logging configuration's REMOTE_TASK_LOG."""
    home, env = airflow_home
    port = _free_port()
    env = {
        **env,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
    }
    from pipelines.airflow_runner import _airflow_bin

    log = (home / "api-server.log").open("w")
    api = subprocess.Popen(
        [_airflow_bin(), "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2)
                break
            except OSError:
                assert api.poll() is None and time.monotonic() < deadline, "the api-server did not start"
                time.sleep(1)
        done = _airflow("dags", "test", "leak_dag", "--use-executor", env=env, timeout=600)
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(60)
        log.close()
    files = sorted((home / "logs").glob("dag_id=leak_dag/run_id=*/task_id=*/attempt=*.log"))
    texts = {f.parent.name: f.read_text(encoding="utf-8") for f in files}
    assert {"task_id=speak", "task_id=fail"} <= set(texts), (files, done.stdout[-2000:])
    speak = [json.loads(line) for line in texts["task_id=speak"].splitlines()]
    events = {e["event"] for e in speak}
    assert "stdlib 3201********0001, 3201********0002, 3.201********E+15" in events
    assert "print 3201********0002" in events
    structured = next(e for e in speak if e["event"].startswith("structlog"))
    assert structured["nik"] == "3201********0001" and structured["nama"] == "S*** A*****"
    failed = [json.loads(line) for line in texts["task_id=fail"].splitlines()]
    detail = next(e for e in failed if e.get("error_detail"))["error_detail"][0]
    assert detail["exc_value"] == "row with NIK 3201********0001 and KK 3201********0002, nama='S*** A*****'"
    for name, text in texts.items():
        assert not _leaks(text), (name, _leaks(text))
    assert not _leaks(done.stdout + done.stderr)


# --- The dtks CLI and the run's own records ------------------------------------------------------------


def test_dtks_stderr_masks_an_uncaught_traceback(tmp_path: Path) -> None:
    import sys

    (tmp_path / "landing" / "2026Q3").mkdir(parents=True)
    config = tmp_path / f"usulan {NIK}.json"  # a path that holds a NIK, in the FileNotFoundError
    args = ["run", "--landing", str(tmp_path / "landing"), "--quarter", "2026Q3", "--config", str(config)]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dtks"), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "FileNotFoundError" in done.stderr
    assert "usulan 3201********0001.json" in done.stderr and not _leaks(done.stderr)


def test_run_output_and_recorded_errors_are_masked(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from pipelines.cli import format_run
    from pipelines.stages.lifecycle import _record_error

    result = {"run_id": "r", "quarter": "2026Q3", "status": "FAILED", "failed_stage": "ingest"}
    result["message"] = "ValueError: row 3201 0115 0895 0001 (3.20101150895E+15)"
    text = format_run(result)
    assert "row 3201********0001 (3.201********E+15)" in text and not _leaks(text)

    def stage_dir(name: str) -> Path:
        (tmp_path / name).mkdir(exist_ok=True)
        return tmp_path / name

    _record_error(SimpleNamespace(stage_dir=stage_dir), "ingest", KeyError(f"'{NIK}' / 3201.0115.0895.0002"))
    recorded = json.loads((tmp_path / "errors" / "ingest.json").read_text(encoding="utf-8"))
    assert recorded["error"] == "KeyError: \"'3201********0001' / 3201********0002\""
