"""The auditors' role on PostgreSQL reads the published warehouse and nothing else, and can change nothing:
not with read-only transactions switched off, not in a temporary table, a large object, another schema or
another database; its password never travels in plain text."""

import io
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from psycopg2.extras import LoggingConnection
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from pipelines import cli
from pipelines.reports.release import ReportsRelease
from pipelines.warehouse import connect
from pipelines.warehouse.publish import publish
from pipelines.warehouse.roles import grant_auditor
from tests.conftest import ADMIN_URL
from tests.test_warehouse import publication

pytestmark = pytest.mark.postgres

FORBIDDEN = [
    "INSERT INTO dtks.run (run_id, quarter, status) VALUES ('x', '2026Q3', 'PUBLISHED')",
    "UPDATE dtks.dtks_snapshot SET status_dtks = 'NONAKTIF'",
    "DELETE FROM dtks.row_outcome",
    "TRUNCATE dtks.discrepancy",
    "CREATE TABLE dtks.mine (x int)",
    "DROP TABLE dtks.quarantine",
    "ALTER TABLE dtks.run ADD COLUMN x int",
    "CREATE TABLE public.mine (x int)",
]


def test_auditor_reads_and_cannot_change(pg_url):
    engine = connect(pg_url)
    publish(engine, publication("run-1"))
    suffix = uuid.uuid4().hex[:8]
    role, login = f"dtks_auditor_{suffix}", f"auditor_{suffix}"
    grant_auditor(engine, role, login=login, password="rahasia-uji")
    auditor = create_engine(pg_url.replace("postgres@", f"{login}:rahasia-uji@"), isolation_level="AUTOCOMMIT")
    try:
        with auditor.connect() as c:
            assert c.execute(text("SELECT count(*) FROM dtks_snapshot")).scalar() == 3
            assert c.execute(text("SELECT count(*) FROM quarter_changes")).scalar() == 0
            for statement in FORBIDDEN:
                with pytest.raises(DBAPIError, match=r"permission denied|read-only"):
                    c.execute(text(statement))
            # Even with read-only transactions switched off, privileges still refuse.
            c.execute(text("SET default_transaction_read_only = off"))
            with pytest.raises(DBAPIError, match="permission denied"):
                c.execute(text("DELETE FROM dtks.row_outcome"))
        # A table added later (the next migration) is readable too.
        with engine.begin() as c:
            c.execute(text("CREATE TABLE dtks.added_later (x int)"))
        with auditor.connect() as c:
            assert c.execute(text("SELECT count(*) FROM dtks.added_later")).scalar() == 0
    finally:
        auditor.dispose()
        with engine.begin() as c:
            for name in (login, role):
                c.execute(text(f'DROP OWNED BY "{name}"'))
                c.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        engine.dispose()


def test_sqlite_has_no_roles(tmp_path):
    with pytest.raises(ValueError, match="PostgreSQL"):
        grant_auditor(connect(f"sqlite:///{tmp_path / 'w.sqlite'}"))


PASSWORD = "rahasia uji 'kutip' 2026"


@dataclass
class Names:
    group: str
    login: str
    publisher: str
    powerful: str

    def all(self) -> list[str]:
        return [self.login, self.group, self.publisher, self.powerful]


def _dsn(url: str, **overrides) -> str:
    """A libpq DSN from a SQLAlchemy URL, with another user, password or database."""
    parsed = make_url(url)
    parts = {"host": parsed.host, "port": parsed.port or 5432, "dbname": parsed.database, "user": parsed.username}
    parts.update(overrides)
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v is not None)


def _quoted(password: str) -> str:
    return password.replace("\\", "\\\\").replace("'", "\\'")


def as_login(url: str, login: str, database: str | None = None):
    """A connection as the auditor's login (autocommit: each statement its own transaction)."""
    connection = psycopg2.connect(
        _dsn(url, user=login, password=_quoted(PASSWORD), **({"dbname": database} if database else {}))
    )
    connection.autocommit = True
    return connection


@pytest.fixture
def names(pg_url) -> Iterator[Names]:
    """Role names of this test, dropped afterwards with whatever they hold in its database."""
    suffix = uuid.uuid4().hex[:8]
    made = Names(f"dtks_auditor_{suffix}", f"auditor_{suffix}", f"publisher_{suffix}", f"powerful_{suffix}")
    yield made
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            existing = set(
                c.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:n)"), {"n": made.all()}).scalars()
            )
            for name in [n for n in made.all() if n in existing]:
                c.execute(text(f'DROP OWNED BY "{name}"'))
            c.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(:n)"),
                {"n": made.all()},
            )
            c.execute(text(f'ALTER DATABASE "{make_url(pg_url).database}" OWNER TO CURRENT_USER'))
            for name in [n for n in made.all() if n in existing]:
                c.execute(text(f'DROP ROLE "{name}"'))
    finally:
        admin.dispose()


def _error(connection, statement: str, data: str | None = None) -> tuple[str, str]:
    """The SQLSTATE and the message's first line of a statement that must fail."""
    with connection.cursor() as cursor:
        try:
            if data is None:
                cursor.execute(statement)
            else:
                cursor.copy_expert(statement, io.StringIO(data))
        except psycopg2.Error as exc:
            return exc.pgcode, exc.pgerror.splitlines()[0]
    pytest.fail(f"succeeded as the auditor: {statement}")


def test_auditor_cannot_write_with_read_only_switched_off(pg_url, names, tmp_path):
    engine = connect(pg_url)
    publish(engine, publication("run-1"), ReportsRelease(tmp_path, "2026Q3", "run-1", lambda d: None))
    granted = grant_auditor(engine, names.group, login=names.login, password=PASSWORD)
    assert granted.open_paths == [] and granted.unreadable == []
    database = make_url(pg_url).database
    assert f"TEMPORARY on database {database} revoked from PUBLIC" in granted.changes
    assert "EXECUTE on function lo_create(oid) revoked from PUBLIC" in granted.changes
    with engine.connect() as c:
        tables = list(
            c.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'dtks' AND c.relkind IN ('r', 'p') ORDER BY 1"
                )
            ).scalars()
        )
        schemas = list(
            c.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%temp\\_%' ORDER BY 1")
            ).scalars()
        )
        before = {t: c.execute(text(f'SELECT count(*) FROM dtks."{t}"')).scalar() for t in tables}
    assert {"run", "run_attempt", "row_outcome", "row_outcome__2026q3", "alembic_version_dtks"} <= set(tables)
    assert {"dtks", "dtks_staging", "public", "pg_catalog", "information_schema"} <= set(schemas)

    denied = "permission denied for"
    expected: list[tuple[str, str, str]] = []  # statement, SQLSTATE, message
    for t in tables:
        for statement in (
            f'INSERT INTO dtks."{t}" DEFAULT VALUES',
            f'UPDATE dtks."{t}" SET {"version_num" if t == "alembic_version_dtks" else "quarter"} = NULL',
            f'DELETE FROM dtks."{t}"',
            f'TRUNCATE dtks."{t}"',
            f'SELECT 1 FROM dtks."{t}" FOR UPDATE',
        ):
            expected.append((statement, "42501", f"{denied} table {t}"))
    for schema in schemas:
        expected += [
            (f'CREATE TABLE "{schema}".auditor_probe (x int)', "42501", f"{denied} schema {schema}"),
            (
                f'CREATE FUNCTION "{schema}".auditor_probe() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
                "42501",
                f"{denied} schema {schema}",
            ),
        ]
    temporary = f'permission denied to create temporary tables in database "{database}"'
    expected += [
        ("CREATE TEMP TABLE auditor_probe (x int)", "42501", temporary),
        ("CREATE TEMP VIEW auditor_probe AS SELECT 1", "42501", temporary),
        ("CREATE FUNCTION pg_temp.auditor_probe() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", "42501", temporary),
        ("CREATE SCHEMA auditor_probe", "42501", f"{denied} database {database}"),
        ("CREATE EXTENSION pgcrypto", "42501", 'permission denied to create extension "pgcrypto"'),
        ("SELECT lo_create(0)", "42501", f"{denied} function lo_create"),
        ("SELECT lo_creat(-1)", "42501", f"{denied} function lo_creat"),
        ("SELECT lo_from_bytea(0, 'x')", "42501", f"{denied} function lo_from_bytea"),
        ("SELECT lo_import('/etc/hostname')", "42501", f"{denied} function lo_import"),
        (
            "COPY dtks.run TO '/tmp/dtks_auditor_probe'",
            "42501",
            "must be superuser or have privileges of the pg_write_server_files role to COPY to a file",
        ),
        (
            "COPY dtks.run FROM '/etc/hostname'",
            "42501",
            "must be superuser or have privileges of the pg_read_server_files role to COPY from a file",
        ),
        (
            "COPY (SELECT 1) TO PROGRAM 'true'",
            "42501",
            "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an "
            "external program",
        ),
        ("ALTER TABLE dtks.run ADD COLUMN auditor_probe int", "42501", "must be owner of table run"),
        ("DROP TABLE dtks.quarantine", "42501", "must be owner of table quarantine"),
        ("CREATE INDEX ON dtks.run (quarter)", "42501", "must be owner of table run"),
        ("COMMENT ON TABLE dtks.run IS 'x'", "42501", "must be owner of table run"),
        ("DROP VIEW dtks.quarter_changes", "42501", "must be owner of view quarter_changes"),
    ]

    auditor = as_login(pg_url, names.login)
    try:
        with auditor.cursor() as cursor:
            cursor.execute("SHOW transaction_read_only")
            assert cursor.fetchone() == ("on",)  # the login's default ...
            cursor.execute("SET default_transaction_read_only = off")  # ... which any role may switch off
            cursor.execute("SHOW transaction_read_only")
            assert cursor.fetchone() == ("off",)
        for statement, code, message in expected:
            assert _error(auditor, statement) == (code, f"ERROR:  {message}"), statement
        copy_in = _error(auditor, "COPY dtks.run (run_id, quarter, status) FROM STDIN", "x\t2026Q3\tPUBLISHED\n")
        assert copy_in == ("42501", f"ERROR:  {denied} table run")
        # Other ways to a read-write transaction: the same refusals.
        auditor.autocommit = False
        with auditor.cursor() as cursor:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        auditor.commit()
        assert _error(auditor, "DELETE FROM dtks.row_outcome") == ("42501", f"ERROR:  {denied} table row_outcome")
        auditor.rollback()
        with auditor.cursor() as cursor:
            cursor.execute("BEGIN READ WRITE")
            cursor.execute("SHOW transaction_read_only")
            assert cursor.fetchone() == ("off",)
        assert _error(auditor, "LOCK TABLE dtks.run IN EXCLUSIVE MODE") == ("42501", f"ERROR:  {denied} table run")
        auditor.rollback()
        # A GRANT without the privilege only warns, and changes nothing.
        auditor.autocommit = True
        with auditor.cursor() as cursor:
            cursor.execute("GRANT INSERT ON dtks.run TO PUBLIC")
    finally:
        auditor.close()
    with engine.connect() as c:
        assert not c.execute(text("SELECT has_table_privilege('public', 'dtks.run', 'INSERT')")).scalar()
        assert {t: c.execute(text(f'SELECT count(*) FROM dtks."{t}"')).scalar() for t in tables} == before
        assert c.execute(text("SELECT count(*) FROM pg_largeobject_metadata")).scalar() == 0
    engine.dispose()


def _loaded_staging_table(engine, table: str, rows: int) -> str:
    """The name of `table`'s staging table once the publication's COPY into it has committed."""
    deadline = time.time() + 60
    while time.time() < deadline:
        with engine.connect() as c:
            name = c.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'dtks_staging' AND tablename LIKE :t"),
                {"t": f"{table}%"},
            ).scalar()
            if name and c.execute(text(f'SELECT count(*) FROM dtks_staging."{name}"')).scalar() == rows:
                return name
        time.sleep(0.05)
    pytest.fail(f"{table} was never loaded into dtks_staging")


def test_auditor_reads_published_data_only(pg_url, names, tmp_path):
    """While a publication has loaded its tables (in dtks_staging) and not yet swapped them in, the auditor
    reads the previous publication and cannot reach the staging tables; afterwards it reads the new one,
    whose new partitions it reads through their parents."""
    engine = connect(pg_url)
    publish(engine, publication("run-1", persons=3))
    grant_auditor(engine, names.group, login=names.login, password=PASSWORD)
    holding, go_on = threading.Event(), threading.Event()

    def hold(directory: Path) -> None:
        holding.set()  # the tables load meanwhile
        assert go_on.wait(60)

    errors: list[BaseException] = []

    def run_2() -> None:
        try:
            publish(engine, publication("run-2", persons=5), ReportsRelease(tmp_path, "2026Q3", "run-2", hold))
        except BaseException as exc:
            errors.append(exc)

    publisher = threading.Thread(target=run_2)
    publisher.start()
    auditor = as_login(pg_url, names.login)
    try:
        assert holding.wait(60)
        staged = _loaded_staging_table(engine, "dtks_snapshot", rows=5)
        assert _error(auditor, f'SELECT * FROM dtks_staging."{staged}"') == (
            "42501",
            "ERROR:  permission denied for schema dtks_staging",
        )
        with auditor.cursor() as cursor:
            cursor.execute("SELECT count(*), min(run_id) FROM dtks_snapshot")
            assert cursor.fetchone() == (3, "run-1")
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'dtks' AND c.relkind = 'r' AND NOT c.relispartition "
                "AND c.relname LIKE '%\\_\\_2026q3%'"
            )
            assert cursor.fetchone() == (0,)  # nothing unattached in the schema the auditor reads
        go_on.set()
        publisher.join(60)
        assert not errors, errors
        with auditor.cursor() as cursor:
            cursor.execute("SELECT count(*), min(run_id) FROM dtks_snapshot")
            assert cursor.fetchone() == (5, "run-2")
        # Partitions are read through their parents only; a retired one sits in dtks_staging until dropped.
        assert _error(auditor, "SELECT * FROM dtks.dtks_snapshot__2026q3") == (
            "42501",
            "ERROR:  permission denied for table dtks_snapshot__2026q3",
        )
    finally:
        go_on.set()
        publisher.join(60)
        auditor.close()
        engine.dispose()


def test_default_privileges_cover_the_publishing_role(pg_url, names):
    """The warehouse belongs to a publishing role; a superuser runs grant-auditor. Tables the publisher
    creates later (a migration) and partitions of later publications are readable, and grant-auditor
    migrated nothing as itself."""
    database = make_url(pg_url).database
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE ROLE {names.publisher} LOGIN PASSWORD 'penerbit'"))
        c.execute(text(f'ALTER DATABASE "{database}" OWNER TO {names.publisher}'))
    publisher_url = str(make_url(pg_url).set(username=names.publisher, password="penerbit"))
    as_publisher = connect(publisher_url)
    publish(as_publisher, publication("run-1"))
    engine = connect(pg_url)
    granted = grant_auditor(engine, names.group, login=names.login, password=PASSWORD)
    assert (
        granted.publishers == [names.publisher]
        and granted.open_paths == []
        and granted.for_the_dba
        == [
            "# pg_hba.conf, above any line that would admit these roles elsewhere, then reload:",
            f"host  {database}  +{names.group}  all  scram-sha-256",
            f"host  all  +{names.group}  all  reject",
            f"local  all  +{names.group}  reject",
        ]
    )
    with as_publisher.begin() as c:
        c.execute(text("CREATE TABLE dtks.added_later (x int)"))
    publish(as_publisher, publication("run-q4", quarter="2026Q4", persons=2))
    auditor = as_login(pg_url, names.login)
    try:
        with auditor.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM dtks.added_later")
            assert cursor.fetchone() == (0,)
            cursor.execute("SELECT quarter, count(*) FROM dtks_snapshot GROUP BY 1 ORDER BY 1")
            assert cursor.fetchall() == [("2026Q3", 3), ("2026Q4", 2)]
    finally:
        auditor.close()
    with admin.connect() as c:
        owners = set(
            c.execute(
                text(
                    "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname IN ('dtks', 'dtks_staging')"
                )
            ).scalars()
        )
    assert owners == {names.publisher}
    admin.dispose()
    as_publisher.dispose()
    engine.dispose()


def test_without_a_superuser_what_is_left_is_reported(pg_url, names):
    """Run by the warehouse's owner (CREATEROLE, not a superuser): the large-object functions belong to the
    bootstrap superuser, so they stay open and grant-auditor says so, with the statement to run."""
    database = make_url(pg_url).database
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE ROLE {names.publisher} LOGIN CREATEROLE PASSWORD 'penerbit'"))
        c.execute(text(f'ALTER DATABASE "{database}" OWNER TO {names.publisher}'))
    owner = connect(str(make_url(pg_url).set(username=names.publisher, password="penerbit")))
    publish(owner, publication("run-1"))
    granted = grant_auditor(owner, names.group, login=names.login, password=PASSWORD)
    assert granted.changes == [f"TEMPORARY on database {database} revoked from PUBLIC"]
    assert granted.open_paths == [
        "EXECUTE on function lo_creat(integer) (creates large objects)",
        "EXECUTE on function lo_create(oid) (creates large objects)",
        "EXECUTE on function lo_from_bytea(oid,bytea) (creates large objects)",
    ]
    assert "REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid) FROM PUBLIC;  -- as a superuser" in granted.for_the_dba
    auditor = as_login(pg_url, names.login)
    try:
        with auditor.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")
            cursor.execute("SELECT lo_create(0) > 0")  # the path the report names is real
            assert cursor.fetchone() == (True,)
    finally:
        auditor.close()
    owner.dispose()
    admin.dispose()


def test_connect_is_restricted_only_where_asked(pg_url, names):
    engine = connect(pg_url)
    publish(engine, publication("run-1"))
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    other = f"{make_url(pg_url).database}_other"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{other}"'))
    try:
        public_connect = text("SELECT datname, has_database_privilege('public', oid, 'CONNECT') FROM pg_database")
        with admin.connect() as c:
            before = dict(c.execute(public_connect).all())
        granted = grant_auditor(engine, names.group, login=names.login, password=PASSWORD)
        assert other in granted.other_databases
        as_login(pg_url, names.login, database=other).close()  # PUBLIC's CONNECT: the auditor gets in
        with pytest.raises(ValueError, match="warehouse database"):
            grant_auditor(engine, names.group, revoke_public_connect=[make_url(pg_url).database])
        with pytest.raises(ValueError, match="No database named"):
            grant_auditor(engine, names.group, revoke_public_connect=[f"{other}_missing"])
        granted = grant_auditor(
            engine, names.group, login=names.login, password=PASSWORD, revoke_public_connect=[other]
        )
        assert f"CONNECT on database {other} revoked from PUBLIC" in granted.changes
        assert other not in granted.other_databases
        with pytest.raises(psycopg2.OperationalError) as refused:
            as_login(pg_url, names.login, database=other)
        assert f'permission denied for database "{other}"' in str(refused.value)
        assert "User does not have CONNECT privilege." in str(refused.value)
        as_login(pg_url, names.login).close()  # the warehouse database still lets it in
        # No other database of the server was touched (the server is shared: other tests change their own
        # databases meanwhile, so the check is what this command could have changed).
        with admin.connect() as c:
            after = dict(c.execute(public_connect).all())
            mentioning = set(
                c.execute(
                    text("SELECT datname FROM pg_database WHERE datacl::text ~ :names"),
                    {"names": f"{names.group}|{names.login}"},
                ).scalars()
            )
        assert {d for d in before.keys() & after.keys() if before[d] != after[d]} == {other}
        assert mentioning == {make_url(pg_url).database}
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)'))
        admin.dispose()
        engine.dispose()


def test_password_travels_only_as_a_scram_verifier(pg_url, names, monkeypatch, capsys):
    """Every statement sent while granting is logged on the client: the password is in none of them, the
    verifier is, and the server stores that verifier. `dtks grant-auditor` takes it from an environment
    variable or the prompt, never from its command line."""
    sent: list[str] = []
    engine = connect(pg_url)
    publish(engine, publication("run-1"))

    @event.listens_for(engine, "do_connect")
    def logging_connection(dialect, record, cargs, cparams):
        cparams["connection_factory"] = LoggingConnection

    @event.listens_for(engine, "connect")
    def log_statements(dbapi_connection, record):
        dbapi_connection.initialize(io.StringIO())
        dbapi_connection.filter = lambda message, cursor: (
            sent.append(message.decode() if isinstance(message, bytes) else message) or message
        )

    engine.dispose()  # new connections from here on are logged
    grant_auditor(engine, names.group, login=names.login, password=PASSWORD)
    assert sent and not [s for s in sent if "rahasia" in s]
    verifiers = [s for s in sent if "SCRAM-SHA-256$4096:" in s]
    assert len(verifiers) == 1 and verifiers[0].startswith(f'ALTER ROLE "{names.login}" PASSWORD \'SCRAM-SHA-256$')
    with engine.connect() as c:
        stored = c.execute(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": names.login}).scalar()
    assert stored in verifiers[0]
    as_login(pg_url, names.login).close()
    engine.dispose()

    # The command: no --password option; the environment variable, or the prompt in a terminal.
    with pytest.raises(SystemExit):
        cli.main(["grant-auditor", "--warehouse", pg_url, "--login", names.login, "--password", PASSWORD])
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: False)
    with pytest.raises(SystemExit, match="--password-env NAME"):
        cli.main(["grant-auditor", "--warehouse", pg_url, "--role", names.group, "--login", names.login])
    monkeypatch.setenv("DTKS_AUDITOR_PASSWORD", PASSWORD + " baru")
    argv = ["grant-auditor", "--warehouse", pg_url, "--role", names.group, "--login", names.login]
    assert cli.main([*argv, "--password-env", "DTKS_AUDITOR_PASSWORD"]) == 0
    out = capsys.readouterr().out
    assert f"Ways left for {names.login} to write: none." in out and "rahasia" not in out
    psycopg2.connect(_dsn(pg_url, user=names.login, password=_quoted(PASSWORD + " baru"))).close()
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    assert cli.main(argv) == 0
    as_login(pg_url, names.login).close()


def test_an_existing_role_with_powers_is_not_made_an_auditor(pg_url, names):
    engine = connect(pg_url)
    publish(engine, publication("run-1"))
    with engine.begin() as c:
        c.execute(text(f"CREATE ROLE {names.powerful} LOGIN CREATEDB PASSWORD 'lama'"))
        before = c.execute(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": names.powerful}).scalar()
    with pytest.raises(ValueError, match=f"Role {names.powerful} exists and is not a plain auditor login .CREATEDB"):
        grant_auditor(engine, names.group, login=names.powerful, password=PASSWORD)
    with engine.connect() as c:
        after = c.execute(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": names.powerful}).scalar()
        member = c.execute(
            text("SELECT count(*) FROM pg_auth_members WHERE member = CAST(:r AS regrole)"), {"r": names.powerful}
        ).scalar()
    assert after == before and member == 0
    with pytest.raises(ValueError, match=f"No role named {names.publisher} .--publisher"):
        grant_auditor(engine, names.group, publishers=[names.publisher])
    engine.dispose()
