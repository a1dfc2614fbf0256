"""The link stage: submission rows to Dukcapil persons and to each other."""

from __future__ import annotations

from typing import Any

from pipelines.stages.context import pipeline_config, timed
from pipelines.workspace import RunContext, read_frame, write_frame, write_json


@timed("link")
def link(ctx: RunContext) -> dict[str, Any]:
    from pipelines.link import link_submissions

    config = pipeline_config(ctx)
    rows = read_frame(ctx.root / "validate" / "rows.parquet")
    persons = read_frame(ctx.root / "validate" / "persons.parquet")
    live = rows[~rows["quarantined"]]
    result = link_submissions(live, persons, config.link)
    out = ctx.stage_dir("link")
    write_frame(out / "decisions.parquet", result.rows)
    write_frame(out / "candidates.parquet", result.candidates)
    write_frame(out / "row_edges.parquet", result.row_edges)
    write_json(out / "diagnostics.json", result.diagnostics)
    return {k: v for k, v in result.diagnostics.items() if k != "model"}
