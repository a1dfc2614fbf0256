"""OpenLineage for every task: which datasets a stage read and wrote, and how many rows, never what.

`datasets_for` says, from a stage's summary, which files and warehouse tables it read and wrote, named
by the OpenLineage naming conventions (files: namespace `file`, the absolute path; PostgreSQL: namespace
`postgres://host:port`, `database.schema.table`; the embedded SQLite warehouse: namespace
`sqlite://<file>`, `main.<table>`), and the stage's counts. The DAG attaches them to the running task so
the OpenLineage provider puts them in the task's COMPLETE event, the counts as run facet `dtks_counts`.
The warehouse is resolved from its Airflow connection inside the publish task; only its host, port and
database enter the names.
Dataset names are paths and table names, counts are numbers: no value of any row enters an event.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from pipelines.workspace import RunContext, read_json

Dataset = tuple[str, str]  # (namespace, name)


def _file(path: Path | str) -> Dataset:
    return ("file", str(Path(path).resolve()))


def table_dataset(warehouse_url: str | URL, table: str) -> Dataset:
    """A warehouse table, named from the URL's host, port and database only (never its credentials)."""
    url = make_url(warehouse_url)
    if url.get_backend_name() == "postgresql":
        return (f"postgres://{url.host or 'localhost'}:{url.port or 5432}", f"{url.database}.dtks.{table}")
    return (f"sqlite://{Path(url.database or 'warehouse.sqlite').resolve()}", f"main.{table}")


MAX_DEPTH = 3  # summaries nest per-area counts (kecamatan, desa) that belong in reports, not in events


def _numbers(data: Any, prefix: str = "", depth: int = 0) -> dict[str, float]:
    """The numeric leaves of a summary, flattened: counts only, no strings, no lists."""
    out: dict[str, float] = {}
    if isinstance(data, dict):
        if depth >= MAX_DEPTH:
            return out
        for key, value in data.items():
            if key != "areas":
                out.update(_numbers(value, f"{prefix}{key}.", depth + 1))
    elif isinstance(data, bool):
        out[prefix.rstrip(".")] = float(data)
    elif isinstance(data, int | float):
        out[prefix.rstrip(".")] = data
    return out


def datasets_for(stage: str, ctx: RunContext, summary: dict[str, Any]) -> dict[str, Any]:
    """Inputs and outputs ((namespace, name) pairs) and counts of one stage of a run."""
    root = ctx.root
    landing = Path(ctx.landing)
    inputs: list[Dataset] = []
    outputs: list[Dataset] = []
    if stage == "discover":
        inputs = [_file(landing / ctx.quarter)]
        outputs = [_file(root / "discover" / "files.json")]
    elif stage == "ingest":
        files = read_json(root / "discover" / "files.json")
        inputs = [_file(landing / f["source_file"]) for f in files]
        outputs = [_file(root / "ingest" / n) for n in ("submissions.parquet", "dukcapil.parquet", "files.json")]
    elif stage in ("validate", "quality_gate"):
        inputs = [_file(root / "ingest" / n) for n in ("submissions.parquet", "dukcapil.parquet")]
        outputs = [_file(root / "validate" / n) for n in ("rows.parquet", "reasons.parquet", "persons.parquet")]
    elif stage == "link":
        inputs = [_file(root / "validate" / n) for n in ("rows.parquet", "persons.parquet")]
        outputs = [_file(root / "link" / n) for n in ("decisions.parquet", "candidates.parquet", "row_edges.parquet")]
    elif stage == "decide":
        inputs = [_file(root / "link" / "decisions.parquet"), _file(root / "validate" / "rows.parquet")]
        outputs = [_file(root / "decide")]
    elif stage == "reports":
        inputs = [_file(root / "decide")]
        outputs = [_file(root / "reports" / str(summary.get("kode_kab", "")))]
    elif stage == "deliver":
        inputs = [_file(Path(ctx.reports_dir) / ctx.quarter)]
    elif stage == "publish":
        inputs = [_file(root / "decide")]
        from pipelines.warehouse.connection import resolve

        warehouse = resolve(ctx.warehouse_conn_id)  # in the publish task, like the publication itself
        outputs = [table_dataset(warehouse, t) for t in [*sorted(summary.get("tables", {})), "run"]]
    return {"inputs": inputs, "outputs": outputs, "counts": _numbers(summary)}


@functools.cache
def counts_facet_class() -> type:
    """The run facet carrying a stage's counts (defined lazily: only tasks import openlineage)."""
    import attr
    from openlineage.client.facet_v2 import RunFacet

    @attr.define
    class DtksCountsRunFacet(RunFacet):
        stage: str
        counts: dict[str, float]

    return DtksCountsRunFacet
