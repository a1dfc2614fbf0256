"""Publication and reports as one unit, on SQLite and PostgreSQL: whatever fails, and whenever two runs of a
quarter meet, the warehouse's published run and the run whose reports `<reports>/<quarter>` shows are the
same, and `run` and `run_attempt` agree (every run in `run` has a PUBLISHED attempt and vice versa)."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from pipelines import stages
from pipelines.registry import ARTEFACTS
from pipelines.reports import release as release_module
from pipelines.reports.release import RUNS, ReportsRelease, published_dir, published_run
from pipelines.warehouse import connect
from pipelines.warehouse import publish as publish_module
from pipelines.warehouse.connection import DEFAULT_CONN_ID
from pipelines.warehouse.publish import PublicationConflict, publish, reconcile
from pipelines.warehouse.publish import published_run as warehouse_run
from pipelines.workspace import RunContext, write_frame, write_json
from tests.test_warehouse import publication

QUARTER = "2026Q3"
KAB = "5203"
WORKBOOK = f"{KAB}/laporan_dtks_{KAB}_{QUARTER}.xlsx"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path, monkeypatch) -> str:
    """The warehouse's URL, also named as the `dtks_warehouse` connection for the stages (as a task sees it)."""
    from pipelines.warehouse.connection import environment_variable

    found = f"sqlite:///{tmp_path / 'wh.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    monkeypatch.setenv(*environment_variable(found))
    return found


@pytest.fixture
def engine(url):
    e = connect(url)
    yield e
    e.dispose()


def reports_of(run_id: str, root: Path, fail: BaseException | None = None) -> ReportsRelease:
    """A run's reports: a workbook and a village file that name the run, so a mixture would show."""

    def build(directory: Path) -> None:
        (directory / KAB / "desa").mkdir(parents=True)
        (directory / WORKBOOK).write_text(run_id)
        (directory / KAB / "desa" / "5203012001.xlsx").write_text(run_id)
        if fail is not None:
            raise fail

    return ReportsRelease(root, QUARTER, run_id, build)


def assert_paired(engine, root: Path) -> str | None:
    """The invariant: one run behind the warehouse's quarter, its reports, every report file and every
    published row; `run` and `run_attempt` agree; nothing staged is left over. Returns that run."""
    published = warehouse_run(engine, QUARTER)
    assert published_run(root, QUARTER) == published
    with engine.connect() as c:
        runs = set(c.execute(text("SELECT run_id FROM run")).scalars())
        attempts = set(c.execute(text("SELECT run_id FROM run_attempt WHERE status = 'PUBLISHED'")).scalars())
        row_runs = set(c.execute(text("SELECT DISTINCT run_id FROM dtks_snapshot WHERE quarter = :q"), {"q": QUARTER}))
    assert runs == attempts
    if engine.dialect.name == "postgresql":  # and nothing unpublished or retired left in the staging schema
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'dtks_staging'")).scalar() == 0
    if published is None:
        assert not (root / QUARTER).exists() and row_runs == set()
        return None
    directory = published_dir(root, QUARTER)
    assert (directory / WORKBOOK).read_text() == published
    assert (directory / KAB / "desa" / "5203012001.xlsx").read_text() == published
    assert row_runs == {(published,)}
    assert [p for p in (root / RUNS / QUARTER).iterdir()] == [directory]
    return published


def test_publication_switches_reports_with_the_warehouse(engine, tmp_path):
    root = tmp_path / "reports"
    publish(engine, publication("run-1"), reports_of("run-1", root))
    assert assert_paired(engine, root) == "run-1"
    assert (root / QUARTER).is_symlink() and not os.path.isabs(os.readlink(root / QUARTER))
    publish(engine, publication("run-2", persons=4), reports_of("run-2", root))
    assert assert_paired(engine, root) == "run-2"  # run-1's reports were pruned after the commit
    with engine.connect() as c:
        recorded = c.execute(text("SELECT reports FROM run WHERE run_id = 'run-2'")).scalar()
    assert '"files": 2' in recorded and "manifest_sha256" in recorded  # the workbook and the village file


def test_failure_before_the_swap_keeps_the_previous_publication_and_its_reports(engine, tmp_path):
    root = tmp_path / "reports"
    publish(engine, publication("run-1"), reports_of("run-1", root))
    disk_full = OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(OSError, match="No space"):
        publish(engine, publication("run-2", persons=4), reports_of("run-2", root, fail=disk_full))
    with pytest.raises(Exception, match=r"(?i)null"):  # a table that cannot be written: NOT NULL category
        publish(engine, publication("run-3", persons=5, broken=True), reports_of("run-3", root))
    assert assert_paired(engine, root) == "run-1"


def test_failure_in_the_rename_changes_nothing(engine, tmp_path, monkeypatch):
    root = tmp_path / "reports"
    publish(engine, publication("run-1"), reports_of("run-1", root))
    real_replace = os.replace

    def replace(source, target):
        if Path(target) == root / QUARTER:
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(release_module.os, "replace", replace)
    with pytest.raises(OSError, match="Input/output"):
        publish(engine, publication("run-2", persons=4), reports_of("run-2", root))
    monkeypatch.undo()
    assert assert_paired(engine, root) == "run-1"
    assert not list(root.glob(f".{QUARTER}.*.link"))  # the half-made symlink was removed too


def test_failure_between_the_reports_switch_and_the_commit_puts_the_reports_back(engine, tmp_path):
    root = tmp_path / "reports"
    publish(engine, publication("run-1"), reports_of("run-1", root))
    release = reports_of("run-2", root)
    real_switch = release.switch

    def switch_then_fail() -> None:
        real_switch()
        assert published_run(root, QUARTER) == "run-2"
        raise RuntimeError("injected after the reports switch")

    release.switch = switch_then_fail
    with pytest.raises(RuntimeError, match="injected"):
        publish(engine, publication("run-2", persons=4), release)
    assert assert_paired(engine, root) == "run-1"


def test_commit_reported_failed_but_done_is_reconciled_forward(engine, tmp_path, monkeypatch):
    """The client never learns whether the commit went through (the connection drops while committing):
    the reports go back, the staged ones stay, and the next holder of the lock (the run's `finish`, the
    next publication) sets the reports to what the warehouse did."""
    root = tmp_path / "reports"
    publish(engine, publication("run-1"), reports_of("run-1", root))
    real_commit = publish_module._commit

    def commit_then_lose_the_answer(commit, companion) -> None:
        real_commit(commit, companion)
        companion.undo()
        raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setattr(publish_module, "_commit", commit_then_lose_the_answer)
    with pytest.raises(ConnectionError):
        publish(engine, publication("run-2", persons=4), reports_of("run-2", root))
    monkeypatch.undo()
    assert warehouse_run(engine, QUARTER) == "run-2" and published_run(root, QUARTER) == "run-1"
    assert reconcile(engine, QUARTER, ReportsRelease(root, QUARTER, "finish"))
    assert assert_paired(engine, root) == "run-2"


def test_two_runs_of_one_quarter_at_once(engine, tmp_path):
    """Run A stages its reports while run B tries to publish the same quarter: B is refused (PostgreSQL;
    Airflow retries it) or waits (SQLite), and publishes after A. The quarter ends as B's, in the warehouse
    and in the reports, and neither run's reports were mixed with the other's."""
    root = tmp_path / "reports"
    publish(engine, publication("run-0"), reports_of("run-0", root))
    a_staging, b_tried = threading.Event(), threading.Event()
    refusals: list[str] = []

    def slow_build(directory: Path) -> None:
        reports_of("run-a", root).build(directory)
        a_staging.set()
        assert b_tried.wait(30)
        time.sleep(0.3)  # SQLite: B is waiting for the write lock by now

    def run_a() -> None:
        publish(engine, publication("run-a", persons=4), ReportsRelease(root, QUARTER, "run-a", slow_build))

    def run_b() -> None:
        assert a_staging.wait(30)
        while True:  # the task's retries
            try:
                b_tried.set()
                publish(engine, publication("run-b", persons=5), reports_of("run-b", root))
                return
            except PublicationConflict as exc:
                refusals.append(str(exc))
                time.sleep(0.2)

    errors: list[BaseException] = []

    def guarded(fn):
        def wrapped():
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)

        return wrapped

    threads = [threading.Thread(target=guarded(run_a)), threading.Thread(target=guarded(run_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert assert_paired(engine, root) == "run-b"
    with engine.connect() as c:
        statuses = dict(c.execute(text("SELECT run_id, status FROM run")).all())
    assert statuses == {"run-0": "SUPERSEDED", "run-a": "SUPERSEDED", "run-b": "PUBLISHED"}
    if engine.dialect.name == "postgresql":
        assert refusals and "right now" in refusals[0]


def test_a_plain_quarter_directory_of_an_earlier_release_is_adopted(engine, tmp_path):
    root = tmp_path / "reports"
    (root / QUARTER / KAB).mkdir(parents=True)
    (root / QUARTER / WORKBOOK).write_text("before symlinks")
    publish(engine, publication("run-1"), reports_of("run-1", root))
    assert assert_paired(engine, root) == "run-1"


# Through the stages: `publish`, then `deliver` failing, then `finish`.


def make_run(tmp_path: Path, url: str, run_id: str, persons: int = 3) -> RunContext:
    """A run whose decide and reports stages are done (their files written as those stages write them)."""
    ctx = RunContext(
        run_id=run_id,
        quarter=QUARTER,
        landing=str(tmp_path / "landing"),
        warehouse_conn_id=DEFAULT_CONN_ID,
        reports_dir=str(tmp_path / "reports"),
        work_dir=str(tmp_path / "work"),
        config=stages.context.config_dict(stages.context.load_config({})),
        code_version="test",
    )
    frames = publication(run_id, persons=persons).tables

    def place(artefact: str) -> Path:  # where the registry puts the kabupaten's artefact
        return ctx.root / ARTEFACTS[artefact].pattern.format(kab=KAB)

    for name in stages.publishing.PUBLISHED_FILES:
        write_frame(place(f"decide.{name}"), frames.get(name, pd.DataFrame({"source_file": []})))
    write_json(place("ingest.files"), [])
    write_json(place("discover.landing"), {"quarter": QUARTER, "unexpected": 0, "listed": []})
    write_json(place("link.diagnostics"), {})
    staged = ctx.stage_dir("reports") / KAB
    (staged / "desa").mkdir(parents=True)
    (staged / f"laporan_dtks_{KAB}_{QUARTER}.xlsx").write_text(run_id)
    (staged / "desa" / "5203012001.xlsx").write_text(run_id)
    write_json(staged / "summary.json", {"kode_kab": KAB, "files": {}})
    return ctx


def attempts(engine) -> dict[str, tuple]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT run_id, status, failed_stage, delivery_status FROM run_attempt")).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_finish_never_downgrades_a_published_run(url, tmp_path):
    engine = connect(url)
    try:
        first = make_run(tmp_path, url, "run-1")
        stages.publish(first)
        published = (first.root / "published.json").read_text()
        (first.root / "published.json").unlink()  # the task died right after the commit
        error = "DeliveryFailed: 1 report e-mail(s) not sent"
        write_json(first.root / "deliver" / "delivery.json", {"status": "FAILED", "messages": []})
        result = stages.finish(first, started_at=None, failed_stage="deliver", error=error)
        assert result["status"] == "PUBLISHED" and result["failed_stage"] is None
        assert result["delivery_status"] == "FAILED"
        assert attempts(engine)["run-1"] == ("PUBLISHED", None, "FAILED")
        assert '"run_id": "run-1"' in published

        second = make_run(tmp_path, url, "run-2", persons=4)
        candidates = second.root / ARTEFACTS["decide.link_candidate"].pattern.format(kab=KAB)
        candidates.write_text("not parquet")  # publish fails
        with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises
            stages.publish(second)
        result = stages.finish(second, started_at=None, failed_stage="publish", error="ArrowInvalid: ...")
        assert result["status"] == "FAILED"
        assert attempts(engine) == {"run-1": ("PUBLISHED", None, "FAILED"), "run-2": ("FAILED", "publish", None)}
        assert assert_paired(engine, tmp_path / "reports") == "run-1"
    finally:
        engine.dispose()


def test_deliver_sends_only_its_own_published_reports(url, tmp_path):
    first = make_run(tmp_path, url, "run-1")
    stages.publish(first)
    second = make_run(tmp_path, url, "run-2", persons=4)
    stages.publish(second)
    summary = stages.deliver(first, send=lambda message: pytest.fail("a superseded run sent e-mail"))
    assert summary["status"] == "SKIPPED"
    notes = (first.root / "deliver" / "delivery.json").read_text()
    assert "run-2" in notes


def test_a_run_failing_before_any_publication_is_recorded(url, tmp_path):
    """The warehouse has never been published to (no tables yet): the failed attempt is still recorded."""
    ctx = make_run(tmp_path, url, "run-early")
    result = stages.finish(ctx, started_at=None, failed_stage="ingest", error="ValueError: broken landing")
    assert result["status"] == "FAILED"
    engine = connect(url)
    try:
        assert attempts(engine) == {"run-early": ("FAILED", "ingest", None)}
        assert assert_paired(engine, tmp_path / "reports") is None
    finally:
        engine.dispose()
