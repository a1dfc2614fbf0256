"""The embedded Airflow home's secrets: its Fernet key, and the warehouse connection in its metadata
database (the SQLite `airflow.db` under `$DTKS_HOME/airflow`).

- The Fernet key that encrypts connection passwords and extras is `<airflow home>/fernet.key`, created once
  with mode 0600 in a 0700 home. Airflow gets it through `AIRFLOW__CORE__FERNET_KEY` in its environment,
  which only the same user can read; it is never on a command line.
- `store_connection` creates or replaces a connection; `load_connection` reads one back. Both run a short
  child Python process with the embedded home's Airflow environment (so this process's own Airflow
  configuration, if any, is untouched) and pass the connection over the child's stdin and a private pipe,
  never on a command line.

`python -m pipelines.airflow_metadata (store|load) CONN_ID` is that child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from pipelines.privacy import mask_text
from pipelines.warehouse.connection import ConnectionFields, redact

FERNET_ENV: Final = "AIRFLOW__CORE__FERNET_KEY"
_RESULT_FD_ENV: Final = "DTKS_RESULT_FD"


class MetadataError(RuntimeError):
    """The embedded metadata could not be read or written (the message holds no secret)."""


def secure_home(airflow_home: Path) -> None:
    """The embedded home holds the metadata (encrypted connections, XCom) and the key: owner only."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.chmod(airflow_home, 0o700)


def kept_secret(path: Path, make: str) -> str:
    """The secret in `path`, written as `make` (mode 0600) when there is none yet; a file others can read
    is tightened, and a symlink or anything but a regular file refused (ValueError)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        if path.is_symlink() or not path.is_file():
            raise ValueError(f"{path} must be a regular file.") from None
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(make + "\n")
    return make


def fernet_key(airflow_home: Path) -> str:
    """The home's Fernet key, created on first use (0600). A key file others can read is tightened."""
    from cryptography.fernet import Fernet

    path = airflow_home / "fernet.key"
    secure_home(airflow_home)
    try:
        key = kept_secret(path, Fernet.generate_key().decode("ascii"))
    except ValueError as exc:
        raise MetadataError(str(exc)) from None
    try:
        Fernet(key.encode("ascii"))
    except ValueError:
        raise MetadataError(f"{path} does not hold a valid Fernet key.") from None
    return key


def secret_environment(airflow_home: Path) -> dict[str, str]:
    """What Airflow processes of the embedded home need beyond `airflow_environment`: the Fernet key."""
    return {FERNET_ENV: fernet_key(airflow_home)}


def _child(env: dict[str, str], command: str, conn_id: str, payload: dict | None) -> dict | None:
    """Run this module as a child; the answer comes back over a pipe of its own (Airflow may print on
    stdout and stderr)."""
    read_end, write_end = os.pipe()
    child_env = {**env, _RESULT_FD_ENV: str(write_end)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.airflow_metadata", command, conn_id],
            input=json.dumps(payload) if payload is not None else "",
            env=child_env,
            capture_output=True,
            text=True,
            pass_fds=(write_end,),
            check=False,
        )
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "r", encoding="utf-8") as answer:
            read_end = -1
            text = answer.read()
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    if done.returncode != 0:
        tail = redact(mask_text(done.stderr[-2000:]))
        raise MetadataError(f"Could not {command} Airflow connection {conn_id!r} in the embedded metadata:\n{tail}")
    return json.loads(text) if text.strip() else None


def store_connection(env: dict[str, str], conn_id: str, fields: ConnectionFields) -> None:
    """Create connection `conn_id`, or replace every field of it, in the metadata `env` points at."""
    _child(env, "store", conn_id, asdict(fields))


def load_connection(env: dict[str, str], conn_id: str) -> ConnectionFields | None:
    """Connection `conn_id` from the metadata `env` points at, or None when it has none."""
    answer = _child(env, "load", conn_id, None)
    return ConnectionFields(**answer) if answer else None


# --- the child ---------------------------------------------------------------------------------------


def _connection_model() -> Any:
    """The metadata's ORM model (not the Task SDK's Connection): these helpers write and read the metadata
    database itself, as `airflow connections add` does."""
    from airflow.models.connection import Connection

    return Connection


def _store(conn_id: str, fields: ConnectionFields) -> None:
    from airflow.utils.session import create_session
    from sqlalchemy import select

    model = _connection_model()
    with create_session() as session:
        # Replaced whole: Airflow's password setter keeps an old password when given an empty one.
        for old in session.scalars(select(model).where(model.conn_id == conn_id)):
            session.delete(old)
        session.flush()
        session.add(
            model(
                conn_id=conn_id,
                conn_type=fields.conn_type,
                description="DTKS warehouse (written by `dtks run`)",
                host=fields.host,
                schema=fields.schema,
                login=fields.login,
                password=fields.password,
                port=fields.port,
                extra=json.dumps(fields.extra) if fields.extra else None,
            )
        )


def _load(conn_id: str) -> ConnectionFields | None:
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from pipelines.warehouse.connection import fields_of

    model = _connection_model()
    with create_session() as session:
        conn = session.scalar(select(model).where(model.conn_id == conn_id))
        return fields_of(conn) if conn is not None else None


def main(argv: list[str]) -> int:
    command, conn_id = argv
    answer = os.fdopen(int(os.environ.pop(_RESULT_FD_ENV)), "w", encoding="utf-8")
    if not os.environ.get(FERNET_ENV):
        print("No Fernet key in the environment: refusing to store a password unencrypted.", file=sys.stderr)
        return 2
    with answer:
        if command == "store":
            _store(conn_id, ConnectionFields(**json.loads(sys.stdin.read())))
        elif command == "load":
            fields = _load(conn_id)
            answer.write(json.dumps(asdict(fields)) if fields else "")
        else:
            print(f"Unknown command {command!r}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
