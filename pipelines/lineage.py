"""OpenLineage for every task: which datasets a stage read and wrote, and how many rows, never what.

`datasets_for` says, from the stage's declaration in `pipelines.registry` and its summary, which files and
warehouse tables it read and wrote, named by the OpenLineage naming conventions (files: namespace `file`,
the absolute path; PostgreSQL: namespace `postgres://host:port`, `database.schema.table`; the embedded
SQLite warehouse: namespace `sqlite://<file>`, `main.<table>`), and the stage's counts. The DAG attaches
them to the running task so the OpenLineage provider puts them in the task's COMPLETE event, the counts as
run facet `dtks_counts`. The warehouse is resolved from its Airflow connection inside the publish task; only
its host, port and database enter the names. Dataset names are paths and table names, counts are numbers: no
value of any row enters an event.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from pipelines import registry
from pipelines.workspace import RunContext

Dataset = tuple[str, str]  # (namespace, name)


def _file(path: Path | str) -> Dataset:
    from pipelines.stages.io import dataset_name

    return ("file", dataset_name(path))


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


def datasets_for(stage: str, ctx: RunContext, summary: dict[str, Any], kab: str | None = None) -> dict[str, Any]:
    """Inputs and outputs ((namespace, name) pairs) and counts of one stage of a run (of one kabupaten/kota,
    for a stage mapped over them), generated from the stage's declaration in `pipelines.registry`: the same
    resolution its `StageIO` opens the files by."""
    from pipelines.stages.io import resolve

    declared = registry.stage(stage)
    if declared.over == registry.KABUPATEN and kab is None:
        kab = summary.get("kode_kab")

    def datasets(names: tuple[str, ...]) -> list[Dataset]:
        out: list[Dataset] = []
        for name in names:
            if registry.ARTEFACTS[name].kind == "warehouse":
                out.extend(_tables(ctx, summary))
            else:
                out.extend(_file(p) for p in resolve(ctx, name, kab))
        return out

    return {"inputs": datasets(declared.inputs), "outputs": datasets(declared.outputs), "counts": _numbers(summary)}


def _tables(ctx: RunContext, summary: dict[str, Any]) -> list[Dataset]:
    from pipelines.warehouse.connection import resolve

    warehouse = resolve(ctx.warehouse_conn_id)  # in the publish task, like the publication itself
    return [table_dataset(warehouse, t) for t in [*sorted(summary.get("tables", {})), "run"]]


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
