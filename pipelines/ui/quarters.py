"""The published quarters, newest first, each with its run and its changes from the quarter published before
it: persons ADDED, REMOVED and STATUS_CHANGED, counted from the warehouse's `quarter_changes` view. Counts
only: the persons themselves are in the view, for those allowed to read the warehouse."""

from __future__ import annotations

import json
from typing import Any, Final

from sqlalchemy import Engine, func, literal_column, select, table

from pipelines.warehouse.schema import run

CHANGES: Final = ("ADDED", "REMOVED", "STATUS_CHANGED")
# The view (migration 0002) as a selectable; the engine maps it into schema `dtks` on PostgreSQL.
_changes = table("quarter_changes", literal_column("quarter"), literal_column("previous_quarter"))


def _change_counts(engine: Engine) -> dict[str, dict[str, Any]]:
    change = literal_column("change")
    statement = select(_changes.c.quarter, _changes.c.previous_quarter, change, func.count().label("n")).group_by(
        _changes.c.quarter, _changes.c.previous_quarter, change
    )
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for quarter, previous, kind, n in connection.execute(statement):
            entry = out.setdefault(quarter, {"previous_quarter": previous, **dict.fromkeys(CHANGES, 0)})
            entry[kind] = int(n)
    return out


def published_quarters(engine: Engine) -> list[dict[str, Any]]:
    """Every quarter with a published run, newest first: the run, when it published, its rows and persons,
    and its changes from the previous published quarter (None for the first one)."""
    columns = (run.c.quarter, run.c.run_id, run.c.published_at, run.c.code_version, run.c.counts, run.c.held_back)
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).where(run.c.status == "PUBLISHED").order_by(run.c.quarter.desc()))
        published = [dict(r._mapping) for r in rows]
    changes = _change_counts(engine)
    quarters = [p["quarter"] for p in published]
    out = []
    for p in published:
        counts = json.loads(p["counts"]) if isinstance(p["counts"], str) else (p["counts"] or {})
        held = json.loads(p["held_back"]) if isinstance(p["held_back"], str) else (p["held_back"] or {})
        earlier = [q for q in quarters if q < p["quarter"]]
        change = changes.get(p["quarter"])
        if change is None and earlier:  # nothing changed at all since the previous quarter
            change = {"previous_quarter": max(earlier), **dict.fromkeys(CHANGES, 0)}
        published_at = p["published_at"]
        out.append(
            {
                "quarter": p["quarter"],
                "run_id": p["run_id"],
                "published_at": published_at.isoformat() if hasattr(published_at, "isoformat") else published_at,
                "code_version": p["code_version"],
                "rows": counts.get("rows"),
                "persons": counts.get("persons"),
                "status_dtks": counts.get("status_dtks") or {},
                "held_back": sorted(held),
                "changes": change,
            }
        )
    return out
