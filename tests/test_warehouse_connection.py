"""The warehouse as an Airflow connection: the mapping between connections and SQLAlchemy URLs (exact, both
ways, for the forms Airflow itself parses), the lookup outside a task, the embedded metadata store, and
that a run's context, conf and messages never carry a URL."""

from __future__ import annotations

import json
import os
import stat

import pytest
from airflow.sdk import Connection
from sqlalchemy.engine import make_url

from pipelines.warehouse import connection
from pipelines.warehouse.connection import (
    DEFAULT_CONN_ID,
    ConnectionFields,
    WarehouseConnectionError,
    environment_variable,
    fields_of,
    from_sqlalchemy_url,
    redact,
    remember_secret,
    resolve,
    to_sqlalchemy_url,
)

# Every character a URL must escape, and some that need not be.
PASSWORD = "p@ss:w/rd?#%&= +ü'\"~"


def url_text(url) -> str:
    return url.render_as_string(hide_password=False)


def from_airflow_uri(uri: str):
    """What Airflow makes of `AIRFLOW_CONN_<ID>=uri`, mapped to SQLAlchemy."""
    return to_sqlalchemy_url(fields_of(Connection.from_uri(uri, conn_id="x")))


# --- Airflow connection -> SQLAlchemy URL ----------------------------------------------------------


def test_postgres_connection_maps_every_field():
    fields = ConnectionFields(
        conn_type="postgres",
        host="db.dinsos.go.id",
        schema="dtks",
        login="pipeline",
        password=PASSWORD,
        port=6432,
        extra={"sslmode": "verify-full", "sslrootcert": "/etc/ssl/ca.pem", "connect_timeout": 10},
    )
    url = to_sqlalchemy_url(fields)
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "db.dinsos.go.id",
        6432,
        "dtks",
        "pipeline",
        PASSWORD,
    )
    assert dict(url.query) == {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/ca.pem", "connect_timeout": "10"}
    assert make_url(url_text(url)).password == PASSWORD  # survives rendering and parsing again
    assert PASSWORD not in str(url)  # str() hides it


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "postgres://pipeline:p%40ss%3Aw%2Frd@db.example.go.id:5433/dtks?sslmode=require",
            "postgresql+psycopg2://pipeline:p%40ss%3Aw%2Frd@db.example.go.id:5433/dtks?sslmode=require",
        ),
        ("postgresql://pipeline@db.example.go.id/dtks", "postgresql+psycopg2://pipeline@db.example.go.id/dtks"),
        (  # a Unix socket: no host in the URI, libpq's `host` option instead
            "postgres://pipeline@/dtks?host=%2Fvar%2Frun%2Fpostgresql",
            "postgresql+psycopg2://pipeline@/dtks?host=%2Fvar%2Frun%2Fpostgresql",
        ),
        (
            "postgres://u:secret@h:5432/d?__extra__=%7B%22sslmode%22%3A+%22require%22%2C+%22cursor%22%3A+%22dictcursor%22%7D",
            "postgresql+psycopg2://u:secret@h:5432/d?sslmode=require",
        ),
        ("sqlite:///srv/dtks/warehouse.sqlite", "sqlite:////srv/dtks/warehouse.sqlite"),
        ("sqlite://relative/warehouse.sqlite", "sqlite:///relative/warehouse.sqlite"),
    ],
)
def test_airflow_uri_forms(uri, expected, monkeypatch):
    assert url_text(from_airflow_uri(uri)) == expected
    # `resolve` reads the same variable without importing Airflow, and makes the same of it
    monkeypatch.setenv("AIRFLOW_CONN_URI_FORM", uri)
    fields = connection._fields_from_environment_uri("uri_form")
    assert fields is not None and url_text(to_sqlalchemy_url(fields)) == expected
    assert fields == fields_of(Connection.from_uri(uri, conn_id="x"))


def test_airflow_json_form_and_sqlite_host():
    conn = Connection.from_json(json.dumps({"conn_type": "sqlite", "host": "/srv/dtks/w.sqlite"}), conn_id="x")
    assert url_text(to_sqlalchemy_url(fields_of(conn))) == "sqlite:////srv/dtks/w.sqlite"
    memory = to_sqlalchemy_url(ConnectionFields(conn_type="sqlite"))
    assert memory.database is None and url_text(memory) == "sqlite://"


def test_sqlalchemy_query_extra_is_merged():
    fields = ConnectionFields(conn_type="postgres", host="h", extra={"sqlalchemy_query": {"application_name": "dtks"}})
    assert dict(to_sqlalchemy_url(fields).query) == {"application_name": "dtks"}


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (ConnectionFields(conn_type="mysql", host="h"), "postgres or sqlite"),
        (ConnectionFields(conn_type="postgres", host="h", extra={"iam": True}), "token authentication"),
        (ConnectionFields(conn_type="postgres", extra={"sqlalchemy_scheme": "postgresql+asyncpg"}), "psycopg2"),
        (ConnectionFields(conn_type="postgres", extra={"options": {"nested": 1}}), "string or a number"),
    ],
)
def test_unusable_connections_are_refused_clearly(fields, match):
    with pytest.raises(WarehouseConnectionError, match=match):
        to_sqlalchemy_url(fields)


# --- SQLAlchemy URL -> Airflow connection (dtks run --warehouse) -----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://pipeline:p%40ss%3Aw%2Frd%3F%23%25%26%3D%20%2B%C3%BC@db.example.go.id:6432/dtks"
        "?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fca.pem",
        "postgresql://pipeline@db.example.go.id/dtks",
        "postgresql+psycopg2://pipeline@/dtks?host=%2Fvar%2Frun%2Fpostgresql",
        "postgresql+psycopg2://[::1]:5432/dtks",
    ],
)
def test_postgres_url_round_trip(url):
    fields = from_sqlalchemy_url(url)
    assert fields.conn_type == "postgres"
    back = to_sqlalchemy_url(fields)
    original = make_url(url).set(drivername="postgresql+psycopg2")
    assert url_text(back) == url_text(original)
    # ... and through Airflow's own JSON form, as the metadata and AIRFLOW_CONN_<ID> hold it.
    stored = Connection.from_json(fields.as_airflow_json(), conn_id="x")
    assert url_text(to_sqlalchemy_url(fields_of(stored))) == url_text(original)


def test_sqlite_url_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fields = from_sqlalchemy_url("sqlite:///w.sqlite")
    assert fields.host == str(tmp_path / "w.sqlite")
    assert url_text(to_sqlalchemy_url(fields)) == f"sqlite:///{tmp_path / 'w.sqlite'}"


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u:pw@h/d", "Unsupported"),
        ("postgresql+asyncpg://u@h/d", "psycopg2"),
        ("postgresql://u@h/d?sslmode=a&sslmode=b", "more than once"),
    ],
)
def test_unusable_urls_are_refused(url, match):
    with pytest.raises(WarehouseConnectionError, match=match):
        from_sqlalchemy_url(url)


def test_an_unparseable_url_is_refused_without_echoing_it():
    with pytest.raises(WarehouseConnectionError) as caught:
        from_sqlalchemy_url("postgres ql://u:Rahasia123@h/d")
    assert "Rahasia123" not in str(caught.value)
    assert caught.value.__suppress_context__  # a traceback does not show the parser's exception


# --- the lookup outside a task -------------------------------------------------------------------


def test_resolve_reads_airflow_conn_environment_variable(monkeypatch, tmp_path):
    url = f"postgresql+psycopg2://pipeline:{'s3cret%2Fpw'}@127.0.0.1:5432/dtks?sslmode=disable"
    name, value = environment_variable(url)
    assert name == "AIRFLOW_CONN_DTKS_WAREHOUSE"
    monkeypatch.setenv(name, value)
    resolved = resolve()
    assert url_text(resolved) == url and resolved.password == "s3cret/pw"
    # Airflow's URI form works the same.
    monkeypatch.setenv("AIRFLOW_CONN_OTHER_WH", "postgres://pipeline:s3cret%2Fpw@127.0.0.1:5432/dtks?sslmode=disable")
    assert url_text(resolve("other_wh")) == url


def test_missing_or_malformed_connections_say_what_to_do(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_DTKS_WAREHOUSE", raising=False)
    monkeypatch.setenv("DTKS_WAREHOUSE_URL", "postgresql://u:Rahasia123@h/d")
    with pytest.raises(WarehouseConnectionError, match="not defined") as caught:
        resolve()
    assert "DTKS_WAREHOUSE_URL is no longer read" in str(caught.value)
    assert "Rahasia123" not in str(caught.value)
    monkeypatch.setenv("AIRFLOW_CONN_DTKS_WAREHOUSE", "postgres://u:Rahasia123@h:notaport/d")
    with pytest.raises(WarehouseConnectionError, match="cannot parse") as caught:
        resolve()
    assert "Rahasia123" not in str(caught.value)


def test_redact_removes_resolved_passwords_in_every_encoding():
    remember_secret(ConnectionFields(conn_type="postgres", password="Kata Sandi/9@x"))
    text = "failed: Kata Sandi/9@x, Kata%20Sandi%2F9%40x and Kata%20Sandi/9%40x"
    assert redact(text) == "failed: ***, *** and ***"
    remember_secret(ConnectionFields(conn_type="postgres", password="abc"))  # too short to mask safely
    assert redact("abc") == "abc"


# --- a run's context never carries the URL ----------------------------------------------------------


def test_context_names_the_connection_and_refuses_a_url_in_conf(tmp_path, monkeypatch):
    from pipelines.stages.context import make_context

    monkeypatch.setenv("DTKS_HOME", str(tmp_path))
    conf = {"quarter": "2026Q3", "landing": str(tmp_path)}
    ctx = make_context(conf, "manual__1")
    assert ctx.warehouse_conn_id == DEFAULT_CONN_ID and "warehouse_url" not in ctx.to_dict()
    assert make_context({**conf, "warehouse_conn_id": "wh_prod"}, "manual__1").warehouse_conn_id == "wh_prod"
    secret_url = "postgresql://u:Rahasia123@h/d"
    for bad in ({"warehouse": secret_url}, {"warehouse_conn_id": secret_url}):
        with pytest.raises(ValueError) as caught:
            make_context({**conf, **bad}, "manual__1")
        assert "Rahasia123" not in str(caught.value)


def test_dag_param_takes_a_connection_id_never_a_url():
    from airflow.sdk.definitions.param import Param
    from airflow.sdk.exceptions import ParamValidationError

    from pipelines.warehouse.connection import CONN_ID_PATTERN

    param = Param(DEFAULT_CONN_ID, type="string", pattern=CONN_ID_PATTERN)
    assert param.resolve("wh.prod-2") == "wh.prod-2"
    for url in ("postgresql://u:pw@h/d", "postgres://h/d", "sqlite:///x"):
        with pytest.raises(ParamValidationError):
            param.resolve(url)


# --- the embedded metadata ---------------------------------------------------------------------------


@pytest.mark.slow
def test_embedded_metadata_stores_the_connection_encrypted(tmp_path):
    """`dtks run --warehouse` stores the URL as a connection through a child process (stdin, never argv):
    Fernet-encrypted under a 0600 key in a 0700 home; replacing it drops the old password."""
    import sqlite3

    from pipelines.airflow_metadata import load_connection, store_connection
    from pipelines.airflow_runner import embedded_environment

    env = embedded_environment(tmp_path)
    home = tmp_path / "airflow"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "fernet.key").stat().st_mode) == 0o600
    url = f"postgresql+psycopg2://pipeline:{'Rahasia%40123'}@db.example.go.id:6432/dtks?sslmode=require"
    store_connection(env, DEFAULT_CONN_ID, from_sqlalchemy_url(url))
    with sqlite3.connect(home / "airflow.db") as db:
        dump = "\n".join(db.iterdump())
        row = db.execute("SELECT password, extra, is_encrypted, is_extra_encrypted FROM connection").fetchone()
    assert "Rahasia" not in dump and row[2] == 1 and row[3] == 1
    assert url_text(to_sqlalchemy_url(load_connection(env, DEFAULT_CONN_ID))) == url
    store_connection(env, DEFAULT_CONN_ID, from_sqlalchemy_url("postgresql+psycopg2://pipeline@db.example.go.id/dtks"))
    assert load_connection(env, DEFAULT_CONN_ID).password is None
    assert load_connection(env, "no_such_connection") is None
    assert os.environ.get("AIRFLOW__CORE__FERNET_KEY") != env["AIRFLOW__CORE__FERNET_KEY"]


@pytest.mark.slow
def test_dtks_run_without_warehouse_stores_the_embedded_sqlite_file(tmp_path, monkeypatch):
    """Without --warehouse the embedded SQLite file is the connection (replacing a URL given before),
    unless the environment defines the connection; a URL given on the run wins over the environment."""
    from pipelines.airflow_metadata import load_connection
    from pipelines.airflow_runner import embedded_environment, prepare_warehouse_connection

    env = embedded_environment(tmp_path)
    prepare_warehouse_connection(env, tmp_path, "postgresql+psycopg2://u@db/dtks", DEFAULT_CONN_ID)
    prepare_warehouse_connection(env, tmp_path, None, DEFAULT_CONN_ID)
    stored = to_sqlalchemy_url(load_connection(env, DEFAULT_CONN_ID))
    assert url_text(stored) == f"sqlite:///{tmp_path / 'warehouse.sqlite'}"

    name, value = environment_variable("postgresql+psycopg2://u@db/other")
    from_env = {**env, name: value}
    prepare_warehouse_connection(from_env, tmp_path, None, DEFAULT_CONN_ID)
    assert from_env[name] == value  # used as it is: Airflow reads it first inside the tasks
    prepare_warehouse_connection(from_env, tmp_path, "postgresql+psycopg2://u@db/given", DEFAULT_CONN_ID)
    assert name not in from_env
    assert to_sqlalchemy_url(load_connection(env, DEFAULT_CONN_ID)).database == "given"


def test_one_dtks_run_at_a_time_per_embedded_home(tmp_path):
    """The connection a run writes is the home's: a second run waits instead of repointing the first."""
    import fcntl

    from pipelines.airflow_runner import one_run_per_home

    with one_run_per_home(tmp_path), open(tmp_path / "run.lock") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(tmp_path / "run.lock") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released afterwards
