"""Shared fixtures: a throw-away PostgreSQL database per test, and small landing areas."""

from __future__ import annotations

import ctypes
import os
import struct
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ADMIN_URL = os.environ.get("DTKS_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
# The tests' person-key secret: every run needs one (only `dtks demo` runs on the public demo key). Set in
# the environment, as a deployment does, so runs through Airflow (subprocesses) get it as well.
TEST_PERSON_KEY_SECRET = "tests-only-person-key-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True)
def person_key_secret() -> Iterator[str]:
    """Every test runs with the tests' own person-key secret and without the demo's opt-in; a test of the
    refusal takes the secret away with `monkeypatch.delenv`."""
    from pipelines.config import DEMO_KEY_ENV, PERSON_KEY_ENV

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PERSON_KEY_ENV, TEST_PERSON_KEY_SECRET)
        patch.delenv(DEMO_KEY_ENV, raising=False)
        yield TEST_PERSON_KEY_SECRET


def _admin_engine():
    from sqlalchemy import create_engine

    return create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


@contextmanager
def postgres_database(prefix: str = "dtks_test") -> Iterator[str]:
    """A new, empty PostgreSQL database named `<prefix>_<random>`, dropped afterwards. Unreachable
    PostgreSQL fails in CI, skips locally."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    admin = _admin_engine()
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except OperationalError as exc:
        message = f"PostgreSQL is not reachable at {ADMIN_URL}: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards. Unreachable PostgreSQL fails in CI, skips locally."""
    with postgres_database() as url:
        yield url


# --- hostile landing areas (tests/test_landing.py, the landing cases of tests/test_corpus.py) ---------------

QUARTER = "2026Q3"
# What the files outside the landing root hold: a well-formed village file, so that reading one would
# put these words into the quarantine, the reports or a log.
OUTSIDE_MARK = "RAHASIA DI LUAR AREA LANDING"
_IN_ACCESS, _IN_OPEN = 0x1, 0x20
_EVENT = struct.Struct("iIII")


class LandingBuilder:
    """Builds landing areas from entry specs (plain dicts, as the corpus's landing cases store them), with a
    folder beside the landing root whose files must never be read.

    An entry: `{"path": "<below <landing>/<quarter>/>", "type": "file"|"folder"|"symlink"|"fifo", ...}`
    with `data` (bytes), `text` or `input` (a file of `base_dir`) for a file, `target` for a symlink
    (`{outside}` and `{landing}` stand for those folders' absolute paths), and `mode` (octal text) to
    set permissions, `repeat` (a count) to make that many entries from a path with `{i}` in it. Names may
    hold anything a file system allows (undecodable bytes as `\\udcXX`)."""

    MARK = OUTSIDE_MARK

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outside = root / "outside"
        self.outside.mkdir(parents=True, exist_ok=True)
        row = f"5203012001,5203010101150001,5203011508800001,{OUTSIDE_MARK},L,1980-08-15,KEPALA KELUARGA,TETAP\n"
        content = "kode_desa,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan_keluarga,status_usulan\n" + row
        (self.outside / "secret.csv").write_text(content, encoding="utf-8")
        (self.outside / "folder").mkdir(exist_ok=True)
        (self.outside / "folder" / "5203012001.csv").write_text(content, encoding="utf-8")
        self.count = 0

    def build(self, entries: list[dict], base_dir: Path | None = None, quarter: str = QUARTER) -> Path:
        self.count += 1
        landing = self.root / f"landing{self.count}"
        top = landing / quarter
        top.mkdir(parents=True)
        for spec in entries:
            self.place(top, landing, spec, base_dir)
        # Permissions last: a folder closed to everyone must still receive its entries first.
        for spec in sorted((s for s in entries if "mode" in s), key=lambda s: -len(s["path"])):
            os.chmod(top / spec["path"], int(spec["mode"], 8))
        return landing

    def place(self, top: Path, landing: Path, spec: dict, base_dir: Path | None) -> None:
        if "repeat" in spec:  # many entries from one pattern: `{i}` in the path is the number
            single = {k: v for k, v in spec.items() if k != "repeat"}
            for i in range(spec["repeat"]):
                self.place(top, landing, {**single, "path": spec["path"].format(i=i)}, base_dir)
            return
        path = top / spec["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        kind = spec["type"]
        if kind == "folder":
            path.mkdir(exist_ok=True)
        elif kind == "symlink":
            target = spec["target"].replace("{outside}", str(self.outside)).replace("{landing}", str(landing))
            os.symlink(target, path)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "file":
            if "data" in spec:
                data = spec["data"]
            elif "input" in spec:
                data = (base_dir / spec["input"]).read_bytes()
            else:
                data = spec.get("text", "").encode("utf-8")
            path.write_bytes(data)
        else:
            raise ValueError(f"unknown entry type {kind!r}")

    @contextmanager
    def watch_outside(self) -> Iterator[list[str]]:
        """Records every open or read of the outside folder and its files (inotify) while the block runs:
        the list it yields is filled when the block ends."""
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            pytest.skip("inotify is not available")
        events: list[str] = []
        try:
            for folder in (self.outside, self.outside / "folder"):
                if libc.inotify_add_watch(fd, os.fsencode(folder), _IN_ACCESS | _IN_OPEN) < 0:
                    pytest.skip("inotify_add_watch failed")
            yield events
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                data = b""
            offset = 0
            while offset < len(data):
                _, mask, _, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0").decode()
                events.append(f"{'open' if mask & _IN_OPEN else 'read'} {name or '(folder)'}")
                offset += _EVENT.size + length
        finally:
            os.close(fd)


@pytest.fixture
def landing_builder(tmp_path) -> LandingBuilder:
    return LandingBuilder(tmp_path)


@pytest.fixture
def secret_warehouse():
    """A database of its own, owned by a login role of its own whose password is distinctive (with every
    character a URL must escape); both dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import OperationalError

    admin = _admin_engine()
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc.orig}")
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_URL}")
    suffix = uuid.uuid4().hex[:12]
    token = f"Rhs{uuid.uuid4().hex[:16]}"
    password = f"{token}@:/?#%&= +ü"
    role, database = f"dtks_test_role_{suffix}", f"dtks_test_{suffix}"
    with admin.connect() as c:
        # The password as a literal is unavoidable in CREATE ROLE; the server's log is not under test.
        c.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        c.execute(text(f'CREATE DATABASE "{database}" OWNER {role}'))
    admin_url = make_url(ADMIN_URL)
    url = URL.create(
        "postgresql+psycopg2",
        username=role,
        password=password,
        host=admin_url.host,
        port=admin_url.port,
        database=database,
        query={"sslmode": "disable", "application_name": "dtks e2e"},
    )
    try:
        yield {"url": url, "password": password, "token": token, "database": database}
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            c.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


# --- a real Airflow deployment (tests/deployment.py) ---------------------------------------------------


@pytest.fixture(scope="session")
def airflow_deployment(tmp_path_factory):
    """A Celery deployment (2 workers, PostgreSQL metadata and warehouse, Redis broker) started once per test
    session (per xdist worker: mark its tests `xdist_group("airflow_deployment")` so they share it):
    `.url`, `.user`, `.password`, `.home`, `.warehouse_url`."""
    from tests.deployment import celery_deployment

    with celery_deployment(tmp_path_factory.mktemp("airflow-celery")) as deployment:
        yield deployment


@pytest.fixture(scope="session")
def deployment_quarter(airflow_deployment, tmp_path_factory):
    """The 3-kabupaten quarter run once through the Celery deployment (`dtks run --airflow-url`), shared
    by the deployment test and the plugin's (both `xdist_group("airflow_deployment")`): one run, not two."""
    from tests.deployment import DeployedQuarter, run_on, three_kabupaten_landing

    landing = three_kabupaten_landing(tmp_path_factory.mktemp("landing3"))
    reports = tmp_path_factory.mktemp("reports3")
    done, run_id = run_on(airflow_deployment, landing, reports)
    return DeployedQuarter(done, run_id, reports)
