"""The publish stage: the quarter's tables into the warehouse and the staged reports into the reports
directory, as one unit under the warehouse's lock (`pipelines.warehouse.publish`,
`pipelines.reports.release`)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.registry import PUBLISHED_TABLES
from pipelines.stages.context import stage_summaries, staged, warehouse_url
from pipelines.stages.reporting import write_run_summary

if TYPE_CHECKING:
    from pipelines.reports.release import ReportsRelease
    from pipelines.stages.io import StageIO

log = logging.getLogger(__name__)

PUBLISHED_FILES = PUBLISHED_TABLES


@staged("publish")
def publish(io: StageIO, started_at: str | None = None) -> dict[str, Any]:
    from pipelines.stages.inputs import QualityGateFailed, failed_gates
    from pipelines.warehouse import connect
    from pipelines.warehouse.publish import Publication
    from pipelines.warehouse.publish import publish as publish_tables

    ctx = io.ctx
    summaries = stage_summaries(ctx)
    # Held back by their gate (policy publish_others): named in the run record; their rows are not published.
    held = failed_gates(io.read_json_each("validate.gate"), io.read_json_each("decide.gate"))
    kabupaten = summaries.get("discover", {}).get("kabupaten") or []
    if kabupaten and set(kabupaten) <= set(held):
        raise QualityGateFailed(
            "Quality gate failed for every kabupaten/kota with submissions, the quarter is not published (the "
            "previous publication stays): " + " ".join(f"{kab}: {' '.join(p)}" for kab, p in held.items())
        )
    # Arrow-backed columns: the COPY's CSV is written from them without a Python object per value (2-4 times
    # faster to encode at a million rows; the same bytes).
    tables = {name: io.read_frame(f"decide.{name}", dtype_backend="pyarrow") for name in PUBLISHED_TABLES}
    files = io.read_records("ingest.files")
    linkage = _linkage(io.read_json_each("link.diagnostics"))
    run_record = {
        "started_at": started_at,
        "code_version": ctx.code_version,
        "config": ctx.config,
        "input_files": files,
        "counts": summaries.get("decide", {}),
        "validation": {
            "submissions": summaries.get("validate", {}).get("submissions"),
            "dukcapil": summaries.get("validate", {}).get("dukcapil"),
            "gate": summaries.get("validate", {}).get("gate"),
        },
        "linkage": linkage,
        "stage_seconds": {k: v.get("seconds") for k, v in summaries.items()},
        "data_docs": summaries.get("validate", {}).get("data_docs"),
        "paths": {"landing": ctx.landing, "reports": ctx.reports_dir, "work": str(ctx.root)},
        "landing": io.read_json("discover.landing"),
        "held_back": held,
    }
    reports, placed = release(io)
    engine = connect(warehouse_url(ctx))
    try:
        written = publish_tables(engine, Publication(ctx.quarter, ctx.run_id, tables, run_record), reports)
    finally:
        engine.dispose()
    io.write_json(
        "publish.record",
        {"run_id": ctx.run_id, "quarter": ctx.quarter, "tables": written, "reports": str(reports.staged)},
    )
    return {"tables": written, "reports": placed, "held_back": sorted(held)}


def _linkage(per_kabupaten: dict[str, Any]) -> dict[str, Any]:
    """The run record's linkage: each kabupaten's model and counts (linked within the kabupaten); a
    quarter of one kabupaten keeps them at the top, as before the fan-out, for `dtks trace`."""
    single = next(iter(per_kabupaten.values())) if len(per_kabupaten) == 1 else {}
    return {**single, "per_kabupaten": per_kabupaten}


def release(io: StageIO) -> tuple[ReportsRelease, list[str]]:
    """The run's reports for `<reports>/<quarter>` - each kabupaten's staged folder (`<kode_kab>/`: workbook,
    HTML summary, village feedback files) and the run's HTML summary `ringkasan_<quarter>.html` - and the
    list of what it placed there, filled in when the publication stages them."""
    from pipelines.reports.release import ReportsRelease, link_or_copy

    ctx = io.ctx
    placed: list[str] = []
    published = io.output_path("publish.reports")
    staged_reports = io.input_paths("reports.staged")

    def build(directory: Path) -> None:
        placed.clear()  # staged once per publication; a retried task builds a fresh list
        for folder in staged_reports:
            shutil.copytree(
                folder,
                directory / folder.name,
                ignore=shutil.ignore_patterns("summary.json"),
                copy_function=link_or_copy,
            )
            placed.append(str(published / folder.name))
        try:  # a summary page that cannot be drawn must not stop the publication
            placed.append(str(published / write_run_summary(io, directory).name))
        except Exception as exc:
            from pipelines.privacy import mask_text

            log.error("The run's HTML summary was not written: %s", mask_text(f"{type(exc).__name__}: {exc}"))

    return ReportsRelease(ctx.reports_dir, ctx.quarter, ctx.run_id, build), placed
