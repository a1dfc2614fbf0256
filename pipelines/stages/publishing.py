"""The publish stage: the quarter's tables into the warehouse in one atomic swap, then the staged reports
into the reports directory."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from pipelines.stages.context import stage_summaries, timed, warehouse_url
from pipelines.stages.reporting import write_run_summary
from pipelines.workspace import RunContext, read_frame, read_json, write_json

log = logging.getLogger(__name__)


PUBLISHED_FILES = (
    "row_outcome",
    "dtks_snapshot",
    "discrepancy",
    "quarantine",
    "link_candidate",
    "duplicate_edge",
    "validation_result",
)


@timed("publish")
def publish(ctx: RunContext, started_at: str | None = None) -> dict[str, Any]:
    from pipelines.warehouse import connect
    from pipelines.warehouse.publish import Publication
    from pipelines.warehouse.publish import publish as publish_tables

    decide_dir = ctx.root / "decide"
    tables = {name: read_frame(decide_dir / f"{name}.parquet") for name in PUBLISHED_FILES}
    summaries = stage_summaries(ctx)
    files = read_json(ctx.root / "ingest" / "files.json")
    linkage = read_json(ctx.root / "link" / "diagnostics.json")
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
        "landing": read_json(ctx.root / "discover" / "landing.json"),
    }
    engine = connect(warehouse_url(ctx))
    try:
        written = publish_tables(engine, Publication(ctx.quarter, ctx.run_id, tables, run_record))
    finally:
        engine.dispose()
    delivered = _deliver_reports(ctx)
    write_json(ctx.root / "published.json", {"run_id": ctx.run_id, "quarter": ctx.quarter, "tables": written})
    return {"tables": written, "reports": delivered}


def _deliver_reports(ctx: RunContext) -> list[str]:
    """Move the staged reports into `<reports>/<quarter>/<kode_kab>/`, replacing the quarter's old ones, and
    write the run's HTML summary `<reports>/<quarter>/ringkasan_<quarter>.html`."""
    delivered = []
    for staged in sorted(p for p in (ctx.root / "reports").glob("*") if p.is_dir()):
        target = Path(ctx.reports_dir) / ctx.quarter / staged.name
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(staged, tmp, ignore=shutil.ignore_patterns("summary.json"))
        shutil.rmtree(target, ignore_errors=True)
        tmp.replace(target)
        delivered.append(str(target))
    try:  # a summary page that cannot be drawn must not fail a publication that has happened
        delivered.append(str(write_run_summary(ctx)))
    except Exception as exc:
        from pipelines.privacy import mask_text

        log.error("The run's HTML summary was not written: %s", mask_text(f"{type(exc).__name__}: {exc}"))
    return delivered
