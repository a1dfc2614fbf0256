"""The warehouse as an Airflow connection (`dtks_warehouse` by default).

What travels through DAG-run conf, XCom, rendered fields, run records and lineage is the connection id,
never a URL: each task that needs the warehouse resolves the connection when it runs (`resolve`), so the
password lives only in Airflow's connection store (encrypted with the Fernet key) or in the secret the
deployment provides.

`resolve` reads `AIRFLOW_CONN_<ID>` itself when it is set (Airflow's JSON or URI form, as Airflow reads
them), which is the common case of a deployment and costs no import of Airflow; otherwise it uses Airflow's
own lookup, `airflow.sdk.Connection.get`, imported at call time so that this module imports without Airflow:
- inside an Airflow task: the environment variable `AIRFLOW_CONN_<ID>`, the configured secrets backend, then
  the metadata database (through the task's execution API);
- anywhere else (`run_all`, tests, the CLI): `AIRFLOW_CONN_<ID>` and the configured secrets backend only.
  `environment_variable(url)` gives the variable for a SQLAlchemy URL, in Airflow's JSON form.

`to_sqlalchemy_url` maps a connection to the SQLAlchemy URL the pipeline connects with; `from_sqlalchemy_url`
maps a URL (`dtks run --warehouse URL`) to the connection's fields. Both are exact: special characters in
any part, ports, and query options such as `sslmode` survive the round trip.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from sqlalchemy.engine import URL, make_url

DEFAULT_CONN_ID: Final = "dtks_warehouse"
CONN_ID_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,250}$"  # Airflow allows more; a URL never matches this
POSTGRES_DRIVER: Final = "postgresql+psycopg2"

# Extras the Postgres provider's hook reads itself rather than passing them to libpq.
_HOOK_ONLY_EXTRAS: Final = frozenset({"cursor", "sqlalchemy_scheme", "sqlalchemy_query"})
# Extras that make the provider fetch a token (cloud IAM): the warehouse engine cannot do that.
_TOKEN_AUTH_EXTRAS: Final = frozenset(
    {"iam", "redshift", "redshift-serverless", "aws_conn_id", "azure_conn_id", "cluster-identifier", "workgroup-name"}
)


class WarehouseConnectionError(ValueError):
    """The warehouse connection is missing, unreadable or of a kind the pipeline cannot use. The message
    names the connection id and never holds a URL or a password."""


@dataclass(frozen=True)
class ConnectionFields:
    """An Airflow connection's fields (the names Airflow uses; `schema` is the database)."""

    conn_type: str
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_airflow_json(self) -> str:
        """Airflow's JSON form of a connection (`AIRFLOW_CONN_<ID>`, `airflow connections import`)."""
        data = {k: v for k, v in asdict(self).items() if v not in (None, "", {})}
        return json.dumps(data)


def env_var_name(conn_id: str) -> str:
    """Where Airflow looks for the connection in the environment."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _query_value(conn_id: str, key: str, value: object) -> str:
    # The provider's hook hands extras to psycopg2.connect, which writes each value with str(): so do we.
    if isinstance(value, str | int | float | bool):
        return str(value)
    raise WarehouseConnectionError(f"Extra {key!r} of connection {conn_id!r} must be a string or a number.")


def _sqlite_database(fields: ConnectionFields) -> str | None:
    """The file as the SQLite provider finds it: the host (JSON form, `"host": "/data/w.sqlite"`), or the
    URI's path (`sqlite:///data/w.sqlite` parses to an empty host and schema `data/w.sqlite`)."""
    host, schema = fields.host or "", fields.schema or ""
    path = f"{host}/{schema}" if schema else host
    return path or None  # nothing: an in-memory database


def to_sqlalchemy_url(fields: ConnectionFields, conn_id: str = DEFAULT_CONN_ID) -> URL:
    """The SQLAlchemy URL for a connection: `postgres` -> `postgresql+psycopg2` (schema = database, extras
    = libpq options such as `sslmode`), `sqlite` -> `sqlite:///<file>`."""
    conn_type = (fields.conn_type or "").replace("-", "_")
    extra = dict(fields.extra or {})
    if conn_type in ("postgres", "postgresql"):
        token_auth = sorted(_TOKEN_AUTH_EXTRAS & extra.keys())
        if token_auth:
            raise WarehouseConnectionError(
                f"Connection {conn_id!r} asks for token authentication ({', '.join(token_auth)}), which the "
                "warehouse does not support: give it a login and password (or use PGPASSFILE)."
            )
        scheme = extra.get("sqlalchemy_scheme") or POSTGRES_DRIVER
        if scheme not in ("postgresql", POSTGRES_DRIVER):
            raise WarehouseConnectionError(f"Connection {conn_id!r}: the warehouse connects with {POSTGRES_DRIVER}.")
        query = {k: _query_value(conn_id, k, v) for k, v in extra.items() if k not in _HOOK_ONLY_EXTRAS}
        nested = extra.get("sqlalchemy_query") or {}
        if not isinstance(nested, dict):
            raise WarehouseConnectionError(f"Extra 'sqlalchemy_query' of connection {conn_id!r} must be an object.")
        query.update({k: _query_value(conn_id, k, v) for k, v in nested.items()})
        return URL.create(
            POSTGRES_DRIVER,
            username=_text(fields.login),
            password=_text(fields.password),
            host=_text(fields.host),
            port=int(fields.port) if fields.port else None,
            database=_text(fields.schema),
            query=query,
        )
    if conn_type == "sqlite":
        query = {k: _query_value(conn_id, k, v) for k, v in extra.items()}
        return URL.create("sqlite", database=_sqlite_database(fields), query=query)
    raise WarehouseConnectionError(
        f"Connection {conn_id!r} is of type {conn_type or 'none'!r}: "
        "the warehouse needs a postgres or sqlite connection."
    )


def from_sqlalchemy_url(url: str | URL) -> ConnectionFields:
    """The connection fields for a warehouse URL (`postgresql[+psycopg2]://...` or `sqlite:///<file>`).
    Relative SQLite paths are made absolute here, since tasks may run in another directory."""
    try:
        parsed = make_url(url)
    except Exception:  # the parser's messages may quote the URL, password included
        raise WarehouseConnectionError(
            "The warehouse is not a valid SQLAlchemy URL (postgresql+psycopg2://user@host:port/database "
            "or sqlite:///path)."
        ) from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    repeated = sorted(k for k, v in parsed.query.items() if not isinstance(v, str))
    if repeated:
        raise WarehouseConnectionError(f"Warehouse URL option(s) given more than once: {', '.join(repeated)}.")
    if backend in ("postgresql", "postgres"):
        if "+" in parsed.drivername and driver != "psycopg2":
            raise WarehouseConnectionError(f"The warehouse connects with {POSTGRES_DRIVER}, not {parsed.drivername}.")
        return ConnectionFields(
            conn_type="postgres",
            host=parsed.host,
            schema=parsed.database,
            login=parsed.username,
            password=parsed.password if parsed.password else None,
            port=parsed.port,
            extra=dict(parsed.query),
        )
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise WarehouseConnectionError(
                "An in-memory SQLite warehouse disappears when each task ends: give a file (sqlite:///path)."
            )
        database = parsed.database
        if not database.startswith("file:"):
            database = str(Path(database).expanduser().resolve())
        return ConnectionFields(conn_type="sqlite", host=database, extra=dict(parsed.query))
    raise WarehouseConnectionError(
        f"Unsupported warehouse {backend!r}: use postgresql+psycopg2://... or sqlite:///path."
    )


def environment_variable(url: str | URL, conn_id: str = DEFAULT_CONN_ID) -> tuple[str, str]:
    """(`AIRFLOW_CONN_<ID>`, the connection as Airflow's JSON): the non-Airflow way to name the warehouse
    for `run_all`, tests and the CLI, and the same variable a deployment sets."""
    return env_var_name(conn_id), from_sqlalchemy_url(url).as_airflow_json()


def fields_of(conn: Any) -> ConnectionFields:
    """The fields of an Airflow connection object (Task SDK or metadata model: same attribute names)."""
    raw = getattr(conn, "extra", None)
    try:
        extra = json.loads(raw) if isinstance(raw, str) and raw else dict(raw or {})
    except json.JSONDecodeError:
        raise WarehouseConnectionError(
            f"The extra of connection {getattr(conn, 'conn_id', '?')!r} is not JSON."
        ) from None
    return ConnectionFields(
        conn_type=conn.conn_type or "",
        host=conn.host,
        schema=conn.schema,
        login=conn.login,
        password=conn.password,
        port=conn.port,
        extra=extra if isinstance(extra, dict) else {},
    )


_RESOLVED_SECRETS: set[str] = set()


def remember_secret(fields: ConnectionFields) -> None:
    """Keep the connection's password so `redact` takes it out of what this process records. Passwords
    under 5 characters are left alone, as Airflow's own secrets masker does (they would mask ordinary words)."""
    if fields.password and len(fields.password) >= 5:
        _RESOLVED_SECRETS.update({fields.password, quote(fields.password, safe=""), quote(fields.password)})


def redact(text: str) -> str:
    """`text` without any warehouse password this process has resolved (plain or URL-encoded)."""
    for secret in sorted(_RESOLVED_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def resolve(conn_id: str = DEFAULT_CONN_ID) -> URL:
    """The warehouse URL of Airflow connection `conn_id`, looked up now (see the module's docstring).
    Its `str()` hides the password; pass the URL object itself to `connect`."""
    fields = _fields_from_environment_json(conn_id) or _fields_from_environment_uri(conn_id)
    if fields is not None:
        remember_secret(fields)
        return to_sqlalchemy_url(fields, conn_id)
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        raise WarehouseConnectionError(_not_found(conn_id)) from None
    except Exception as exc:  # a backend's message may quote the connection's URI
        raise WarehouseConnectionError(
            f"The Airflow connection {conn_id!r} could not be read ({type(exc).__name__})."
        ) from None
    fields = fields_of(conn)
    remember_secret(fields)
    return to_sqlalchemy_url(fields, conn_id)


def _fields_from_environment_json(conn_id: str) -> ConnectionFields | None:
    """`AIRFLOW_CONN_<ID>` in Airflow's JSON form (what `environment_variable` writes), read without importing
    Airflow: importing it outside a task configures Airflow's logging over the caller's (the CLI's masking
    handler, pytest's capture) and costs seconds in `dtks trace`. The URI form is left to Airflow's parser."""
    raw = os.environ.get(env_var_name(conn_id), "").strip()
    if not raw.startswith("{"):
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise WarehouseConnectionError(f"{env_var_name(conn_id)} is not valid JSON.") from None
    if not isinstance(data, dict):
        raise WarehouseConnectionError(f"{env_var_name(conn_id)} must be a JSON object.")
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except json.JSONDecodeError:
            raise WarehouseConnectionError(f"The extra of {env_var_name(conn_id)} is not JSON.") from None
    port = data.get("port")
    return ConnectionFields(
        conn_type=str(data.get("conn_type") or ""),
        host=data.get("host"),
        schema=data.get("schema"),
        login=data.get("login"),
        password=data.get("password"),
        port=int(port) if port not in (None, "") else None,
        extra=extra if isinstance(extra, dict) else {},
    )


def _fields_from_environment_uri(conn_id: str) -> ConnectionFields | None:
    """`AIRFLOW_CONN_<ID>` in Airflow's URI form (`postgres://user:pw@host:5432/db?sslmode=require`, what
    docker-compose sets), read as Airflow's `Connection.from_uri` reads it, without importing Airflow (seconds
    per task that needs the warehouse). A host with its own protocol (`http://https://...`) is left to
    Airflow."""
    raw = os.environ.get(env_var_name(conn_id), "").strip()
    if "://" not in raw or raw.count("://") != 1 or raw.startswith("{"):
        return None
    parts = urlsplit(raw)
    conn_type = parts.scheme.replace("-", "_")
    conn_type = "postgres" if conn_type == "postgresql" else conn_type  # as Airflow normalises it
    rest = urlsplit(raw.replace(f"{parts.scheme}://", "//", 1))
    host = unquote(rest.hostname or "")
    if "/" in host:  # an encoded slash in the host: the netloc as written, without login and port
        host = unquote(rest.netloc.rsplit("@", 1)[-1].split(":", 1)[0])
    extra: dict[str, Any] = {}
    if rest.query:
        query = dict(parse_qsl(rest.query, keep_blank_values=True))
        extra = json.loads(query["__extra__"]) if "__extra__" in query else query
    try:
        port = rest.port
    except ValueError:
        return None  # Airflow says what is wrong with it
    return ConnectionFields(
        conn_type=conn_type,
        host=host,
        schema=unquote(rest.path[1:]) if rest.path[1:] else "",
        login=unquote(rest.username) if rest.username else rest.username,
        password=unquote(rest.password) if rest.password else rest.password,
        port=port,
        extra=extra if isinstance(extra, dict) else {},
    )


def _not_found(conn_id: str) -> str:
    hint = ""
    if os.environ.get(env_var_name(conn_id)):
        hint = f" {env_var_name(conn_id)} is set, but Airflow cannot parse it as a connection URI or JSON."
    elif os.environ.get("DTKS_WAREHOUSE_URL"):
        hint = f" DTKS_WAREHOUSE_URL is no longer read: define the connection instead ({env_var_name(conn_id)})."
    return (
        f"The warehouse connection {conn_id!r} is not defined: create it in Airflow (Admin > Connections, "
        f"`dtks run --warehouse URL`) or set {env_var_name(conn_id)}.{hint}"
    )


def describe(url: URL) -> str:
    """The URL for people to read: password hidden."""
    return url.render_as_string(hide_password=True)
