"""Before a run does any work: the folders it writes can be written, and the warehouse answers. A run
that could never publish fails in seconds, at `start`, instead of after ingest and linkage."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path
from typing import Final

from pipelines.stages.context import warehouse_url
from pipelines.stages.failures import FolderNotWritable, WarehouseUnreachable, failure_message
from pipelines.workspace import RunContext

CONNECT_TIMEOUT_SECONDS: Final = 15  # libpq waits forever by default on a host that drops packets


def check_writable(folder: Path) -> None:
    """`folder` exists (created if need be) and takes a file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".dtks-write-check-"):
            pass
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # classified as a full disk
        raise FolderNotWritable(
            exc.errno or errno.EACCES, f"The run cannot write to {folder}: {exc.strerror or exc}"
        ) from exc


def check_warehouse(ctx: RunContext) -> None:
    """Resolve the run's warehouse connection and open one session on it."""
    from sqlalchemy.exc import DBAPIError

    from pipelines.warehouse import connect
    from pipelines.warehouse.connection import describe

    url = warehouse_url(ctx)
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    engine = connect(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        cause = exc.orig if isinstance(exc.orig, BaseException) else exc
        raise WarehouseUnreachable(
            f"{describe(url)} (connection {ctx.warehouse_conn_id}): {failure_message(cause)}"
        ) from exc
    finally:
        engine.dispose()
