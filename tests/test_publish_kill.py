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
from pipelines.warehouse.publish import publish
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
