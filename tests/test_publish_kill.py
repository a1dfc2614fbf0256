"""A publication killed half-way leaves the previous one exactly as it was (PostgreSQL)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from pipelines.warehouse import connect
from pipelines.warehouse.publish import PublicationConflict, publish
from tests.test_warehouse import count, publication

pytestmark = pytest.mark.postgres

ACTIVE_COPY = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'COPY%'")
BIG_PUBLISHER = """
import sys
sys.path.insert(0, {root!r})
from pipelines.warehouse import connect
from pipelines.warehouse.publish import publish
from tests.test_warehouse import publication
publish(connect({url!r}), publication("run-killed", persons=400_000))
"""


def test_killed_publication_changes_nothing(pg_url):
    engine = connect(pg_url)
    publish(engine, publication("run-1", persons=3))
    root = str(Path(__file__).resolve().parent.parent)
    child = subprocess.Popen([sys.executable, "-c", BIG_PUBLISHER.format(root=root, url=pg_url)])
    try:
        # Wait until the child's transaction has begun writing, then kill it without warning.
        deadline = time.time() + 60
        while time.time() < deadline:
            with engine.connect() as c:
                busy = c.execute(ACTIVE_COPY).scalar()
            if busy:
                break
            assert child.poll() is None, "the publisher ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("the publisher never started copying")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    # The server rolls the dead client's transaction back; readers see the previous publication.
    deadline = time.time() + 30
    while time.time() < deadline:
        with engine.connect() as c:
            alive = c.execute(ACTIVE_COPY).scalar()
        if not alive:
            break
        time.sleep(0.1)
    assert count(engine, "dtks_snapshot") == 3 and count(engine, "row_outcome") == 3
    with engine.connect() as c:
        runs = dict(c.execute(text("SELECT run_id, status FROM run")).all())
    assert runs == {"run-1": "PUBLISHED"}
    publish(engine, publication("run-2", persons=4))  # no lock or half-written state was left behind
    assert count(engine, "dtks_snapshot") == 4
    with engine.connect() as c:
        leftovers = c.execute(
            text(
                "SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_\\_2026q3\\_\\_%' AND relkind = 'r'"
                " AND NOT relispartition"
            )
        ).scalar()
    assert leftovers == 0  # the killed run's staging tables were dropped by the next publication
    engine.dispose()


# The reports directory is published with the warehouse (pipelines/reports/release.py): a kill at any
# point leaves the two paired or - killed between the reports' switch and the warehouse's commit - lets the
# next holder of the quarter's lock (the run's `finish`, the next publication) pair them again.

PUBLISHER_WITH_REPORTS = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from pipelines.warehouse import connect
from pipelines.warehouse.publish import publish
from tests.test_publication import reports_of
from tests.test_warehouse import publication

release = reports_of("run-killed", Path({reports!r}))
switch = release.switch

def switch_and_stall():
    switch()
    Path({marker!r}).write_text("switched")
    time.sleep(300)

release.switch = switch_and_stall
publish(connect({url!r}), publication("run-killed", persons={persons}), release)
"""


def _publisher(url: str, reports: Path, marker: Path, persons: int) -> subprocess.Popen:
    root = str(Path(__file__).resolve().parent.parent)
    script = PUBLISHER_WITH_REPORTS.format(
        root=root, url=url, reports=str(reports), marker=str(marker), persons=persons
    )
    return subprocess.Popen([sys.executable, "-c", script])


def _kill_when(child: subprocess.Popen, ready, what: str) -> None:
    try:
        deadline = time.time() + 120
        while not ready():
            assert child.poll() is None, f"the publisher ended before it {what}"
            assert time.time() < deadline, f"the publisher never {what}"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()


@pytest.fixture(params=["sqlite", "postgres"])
def any_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wh.sqlite'}"
    return request.getfixturevalue("pg_url")


def test_kill_between_the_reports_switch_and_the_commit(any_url, tmp_path):
    from pipelines.reports.release import ReportsRelease, published_run
    from pipelines.warehouse.publish import reconcile
    from tests.test_publication import QUARTER, assert_paired, reports_of

    engine = connect(any_url)
    reports, marker = tmp_path / "reports", tmp_path / "switched"
    publish(engine, publication("run-1"), reports_of("run-1", reports))
    _kill_when(_publisher(any_url, reports, marker, persons=4), marker.exists, "switched the reports")
    # The one window where the two disagree: the reports switched, the warehouse never committed.
    assert published_run(reports, QUARTER) == "run-killed"
    deadline = time.time() + 30
    while not reconcile(engine, QUARTER, ReportsRelease(reports, QUARTER, "finish")):  # what `finish` does
        assert time.time() < deadline, "the dead publisher's lock was never released"
        time.sleep(0.1)
    assert assert_paired(engine, reports) == "run-1"
    publish(engine, publication("run-2", persons=5), reports_of("run-2", reports))
    assert assert_paired(engine, reports) == "run-2"
    engine.dispose()


def test_next_publication_pairs_what_a_kill_left(any_url, tmp_path):
    """No `finish` ran after the kill: the quarter's next publication pairs the two when it takes the lock,
    even if it fails itself."""
    from tests.test_publication import assert_paired, reports_of

    engine = connect(any_url)
    reports, marker = tmp_path / "reports", tmp_path / "switched"
    publish(engine, publication("run-1"), reports_of("run-1", reports))
    _kill_when(_publisher(any_url, reports, marker, persons=4), marker.exists, "switched the reports")
    deadline = time.time() + 30
    while True:
        try:
            publish(engine, publication("run-2", broken=True), reports_of("run-2", reports))
        except PublicationConflict:  # the server has not yet noticed the dead publisher
            assert time.time() < deadline
            time.sleep(0.1)
        except Exception:
            break
    assert assert_paired(engine, reports) == "run-1"
    engine.dispose()


def test_killed_load_keeps_the_previous_reports(pg_url, tmp_path):
    """Killed while copying (as above, now with reports): the previous publication and its reports stand
    untouched, and the next publication tidies up."""
    from pipelines.reports.release import published_run
    from tests.test_publication import QUARTER, assert_paired, reports_of

    engine = connect(pg_url)
    reports, marker = tmp_path / "reports", tmp_path / "switched"
    publish(engine, publication("run-1"), reports_of("run-1", reports))

    def copying() -> bool:
        with engine.connect() as c:
            return bool(c.execute(ACTIVE_COPY).scalar())

    _kill_when(_publisher(pg_url, reports, marker, persons=400_000), copying, "started copying")
    assert not marker.exists() and published_run(reports, QUARTER) == "run-1"
    publish(engine, publication("run-2", persons=4), reports_of("run-2", reports))
    assert assert_paired(engine, reports) == "run-2"
    engine.dispose()
