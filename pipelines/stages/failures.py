"""What a stage's failure means for the run: retried, or failed at once, and what the record says.

Per-file problems never get here: ingest rejects an unreadable file with a reason and the quarter goes on.
What reaches this module is a failure of the run itself, and the rule is:

Retried (Airflow tries the task again after its retry delay), because the same task a little later can
succeed without anyone changing anything:
- `publication_conflict`: another run is publishing the same quarter (the publication's advisory lock);
- `transaction_conflict`: PostgreSQL serialization failure (40001) or deadlock (40P01);
- `lock_timeout`: PostgreSQL lock_not_available (55P03), a reader held a partition past `lock_timeout`;
- `database_busy`: SQLite still locked by another writer after the connection's timeout;
- `delivery`: an e-mail server refused or was down; the retry sends only what failed.

Failed at once, everything else: the same code on the same files and settings gives the same error, so
a retry only delays the alarm. Among them, named so the record says what to fix:
- `warehouse_unreachable`: connection refused, unknown host, login refused, no such database;
- `warehouse_connection`: the Airflow connection is missing or unusable;
- `disk_full`: no space (or quota) left, on a work/reports disk or the warehouse's;
- `permission_denied`: the work or reports folder (or a file in it) cannot be written;
- `quality_gate`, `invalid_input` (bad conf or data: ValueError, KeyError) and `error` (anything else).

The message is masked (`privacy.mask_text`) and any warehouse password this process resolved is taken
out (`warehouse.connection.redact`), so it can go to the run record, the result and the task log.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from pipelines.config import SettingsError
from pipelines.privacy import mask_text
from pipelines.warehouse.connection import WarehouseConnectionError, redact

MAX_MESSAGE: Final = 4000

RETRIED: Final = frozenset(
    {"publication_conflict", "transaction_conflict", "lock_timeout", "database_busy", "delivery"}
)

_LEADS: Final = {
    "warehouse_unreachable": "The warehouse cannot be reached: ",
    "disk_full": "The disk is full: ",
    "permission_denied": "Permission denied: ",
    "database_busy": "The warehouse is locked by another writer: ",
    "publication_conflict": "",
    "lock_timeout": "The warehouse lock was not granted in time: ",
    "transaction_conflict": "The warehouse transaction conflicted with another: ",
}

_PG_TRANSACTION_CONFLICT: Final = frozenset({"40001", "40P01"})
_PG_LOCK_TIMEOUT: Final = "55P03"
_PG_DISK_FULL: Final = "53100"
# Connection exceptions (08), invalid authorization (28), no such database (3D000), server shutting down.
_PG_UNREACHABLE_PREFIXES: Final = ("08", "28", "3D", "57P")
_SQLITE_BUSY: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class WarehouseUnreachable(RuntimeError):
    """The warehouse did not answer before the run started its work."""


class FolderNotWritable(PermissionError):
    """The run cannot write a folder it needs (work or reports)."""


@dataclass(frozen=True)
class Failure:
    stage: str
    kind: str
    message: str
    retry: bool

    def as_dict(self) -> dict[str, Any]:
        # `error` is the key the run record has always read the message from.
        return {"stage": self.stage, "kind": self.kind, "retry": self.retry, "error": self.message}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (`orig` of SQLAlchemy's DBAPIError) and what caused it, outermost first."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending and len(seen) < 20:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__]


def _kind_of(exc: BaseException) -> str | None:
    from pipelines.reports.delivery import DeliveryFailed
    from pipelines.stages.inputs import QualityGateFailed
    from pipelines.warehouse.publish import PublicationConflict

    if isinstance(exc, PublicationConflict):
        return "publication_conflict"
    if isinstance(exc, DeliveryFailed):
        return "delivery"
    if isinstance(exc, QualityGateFailed):
        return "quality_gate"
    if isinstance(exc, WarehouseConnectionError):
        return "warehouse_connection"
    if isinstance(exc, WarehouseUnreachable):
        return "warehouse_unreachable"
    pgcode = getattr(exc, "pgcode", None)
    if isinstance(pgcode, str):
        if pgcode in _PG_TRANSACTION_CONFLICT:
            return "transaction_conflict"
        if pgcode == _PG_LOCK_TIMEOUT:
            return "lock_timeout"
        if pgcode == _PG_DISK_FULL:
            return "disk_full"
        if pgcode.startswith(_PG_UNREACHABLE_PREFIXES):
            return "warehouse_unreachable"
    if _is_psycopg2_connection_failure(exc):
        return "warehouse_unreachable"
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        if primary in _SQLITE_BUSY:
            return "database_busy"
        if primary == sqlite3.SQLITE_FULL:
            return "disk_full"
        if primary == sqlite3.SQLITE_CANTOPEN:
            return "warehouse_unreachable"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "disk_full"
        if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return "permission_denied"
    return None


def _is_psycopg2_connection_failure(exc: BaseException) -> bool:
    """psycopg2 raises OperationalError without an SQLSTATE when it cannot connect at all."""
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        return False
    return isinstance(exc, psycopg2.OperationalError) and getattr(exc, "pgcode", None) is None


def _fallback_kind(exc: BaseException) -> str:
    return "invalid_input" if isinstance(exc, ValueError | KeyError) else "error"


def failure_message(exc: BaseException, lead: str = "") -> str:
    """`Type: message` on one line (the run's own errors without the type: their text says it all),
    masked and without credentials, for records, result lines and task logs."""
    own = isinstance(exc, WarehouseUnreachable | FolderNotWritable | WarehouseConnectionError | SettingsError)
    text = f"{lead}{exc}" if own else f"{lead}{type(exc).__name__}: {exc}"
    return redact(mask_text(" ".join(text.split())))[:MAX_MESSAGE]


def classify(stage: str, exc: BaseException) -> Failure:
    """What `exc`, raised by `stage`, means for the run (see the module's docstring)."""
    kind = next((k for k in map(_kind_of, _chain(exc)) if k is not None), None) or _fallback_kind(exc)
    return Failure(stage=stage, kind=kind, message=failure_message(exc, _LEADS.get(kind, "")), retry=kind in RETRIED)
