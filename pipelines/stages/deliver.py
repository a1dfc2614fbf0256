"""The deliver stage: e-mail the published reports to each kabupaten's recipients."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipelines.stages.context import pipeline_config, staged
from pipelines.stages.reporting import kabupaten_reports, run_summary_path
from pipelines.workspace import RunContext, read_json

if TYPE_CHECKING:
    from pipelines.stages.io import StageIO


@staged("deliver")
def deliver(io: StageIO, send: Callable | None = None) -> dict[str, Any]:
    """E-mail each kabupaten's published reports to its recipients (`delivery` settings), only after this
    run published. The record of who got what (or the masked error) goes to `deliver/delivery.json`, which
    `finish` reports; a message that failed makes the stage raise (the task retries; what was sent is not
    sent again), and the publication stands either way. `send` replaces the Airflow SMTP connection."""
    from pipelines.reports.delivery import deliver_reports, not_published_record
    from pipelines.reports.release import manifest_of, published_dir
    from pipelines.reports.summary import combine

    ctx = io.ctx
    meta = {"run_id": ctx.run_id, "quarter": ctx.quarter, "code_version": ctx.code_version}
    record_path = io.output_path("deliver.record")
    out = record_path.parent
    if not io.input_path("publish.record").exists():
        record = io.write_json("deliver.record", not_published_record(meta))
        return {"status": read_json(record)["status"]}
    # The run's own published directory, resolved once: the e-mails carry this run's reports even if a later
    # run of the quarter switches `<reports>/<quarter>` meanwhile, and none once a later run replaced them.
    published = published_dir(ctx.reports_dir, ctx.quarter)
    io.input_path("publish.reports")
    shown = (manifest_of(published) or {}).get("run_id") if published else None
    if shown != ctx.run_id:
        note = f"the quarter's reports now belong to run {shown}: this run's are no longer published"
        record = io.write_json("deliver.record", {**not_published_record(meta), "notes": [note]})
        return {"status": read_json(record)["status"]}
    kabupaten = kabupaten_reports(ctx)
    summary_html = run_summary_path(ctx, published)
    total = combine([r["counts"] for r in kabupaten.values() if "counts" in r])
    record = deliver_reports(
        settings=pipeline_config(ctx).delivery,
        meta=meta,
        reports_dir=published,
        kabupaten={k: r for k, r in kabupaten.items() if "counts" in r},
        run_summary=(summary_html, total) if summary_html.exists() else None,
        work_dir=out,
        send=send,
    )
    return {"status": record["status"], "messages": {m["key"]: m["status"] for m in record["messages"]}}


def delivery_result(ctx: RunContext, published: bool) -> dict[str, Any] | None:
    """What `finish` says about the e-mails: the delivery record, or that the deliver stage did not run."""
    path = ctx.root / "deliver" / "delivery.json"
    if path.exists():
        return read_json(path)
    return {"status": "NOT_RUN", "messages": []} if published else None
