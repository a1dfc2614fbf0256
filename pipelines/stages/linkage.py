"""The link stage: submission rows to Dukcapil persons and to each other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.stages.context import pipeline_config, staged

if TYPE_CHECKING:
    from pipelines.stages.io import StageIO


@staged("link")
def link(io: StageIO, kode_kab: str) -> dict[str, Any]:
    from pipelines.link import link_submissions

    config = pipeline_config(io.ctx)
    rows = io.read_frame("validate.rows")
    persons = io.read_frame("validate.persons")
    live = rows[~rows["quarantined"]]
    result = link_submissions(live, persons, config.link)
    io.write_frame("link.decisions", result.rows)
    io.write_frame("link.candidates", result.candidates)
    io.write_frame("link.row_edges", result.row_edges)
    io.write_json("link.diagnostics", result.diagnostics)
    return {k: v for k, v in result.diagnostics.items() if k != "model"}
