"""A run from start to finish: resolve and discover, run one stage (recording a failure, masked, for the
end), record the attempt in the warehouse and write the result `dtks run` reads. `run_all` chains every
stage in one process for tests and benchmarks; production runs go through the Airflow DAG."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from pipelines.stages.context import make_context, stage_summaries
from pipelines.stages.decide import decide
from pipelines.stages.deliver import deliver, delivery_result
from pipelines.stages.inputs import QualityGateFailed, check_quality_gate, discover, ingest, validate
from pipelines.stages.linkage import link
from pipelines.stages.publishing import publish
from pipelines.stages.reporting import reports
from pipelines.workspace import RunContext, read_json, write_json

log = logging.getLogger(__name__)


def finish(ctx: RunContext, *, started_at: str | None, failed_stage: str | None, error: str | None) -> dict[str, Any]:
    """Make the quarter's reports agree with the warehouse, record the attempt (published or not) and write
    the result file `dtks run` reads.

    The warehouse says whether the run published (its `run` row, committed with the swap and the attempt's
    PUBLISHED row): a later failure - the e-mails, this task - never turns a published run into a failed
    one; `delivery_status` says what happened to the e-mails. The run's own files decide only when the
    warehouse cannot be reached."""
    from pipelines.privacy import mask_text
    from pipelines.reports.release import ReportsRelease
    from pipelines.warehouse import connect, upgrade
    from pipelines.warehouse.publish import reconcile, record_attempt, was_published

    published = (ctx.root / "published.json").exists()
    engine = None
    try:
        engine = connect(ctx.warehouse_url)
        upgrade(engine)  # a warehouse no run has published to yet has no tables
        published = was_published(engine, ctx.run_id)
    except Exception as exc:  # the warehouse may be the reason the run failed
        log.error("Could not reach the warehouse to finish the run: %s", mask_text(str(exc)))
        if engine is not None:
            engine.dispose()
        engine = None
    if engine is not None:
        try:  # a run killed between switching the reports and the warehouse's commit left them disagreeing
            reconcile(engine, ctx.quarter, ReportsRelease(ctx.reports_dir, ctx.quarter, ctx.run_id))
        except Exception as exc:
            log.error("The quarter's reports were not checked against the warehouse: %s", mask_text(str(exc)))
    gate = ctx.root / "validate" / "gate.json"
    gate_rejected = gate.exists() and not read_json(gate)["passed"]
    status = "PUBLISHED" if published else ("GATE_REJECTED" if gate_rejected else "FAILED")
    summaries = stage_summaries(ctx)
    delivery = delivery_result(ctx, published)
    attempt = {
        "run_id": ctx.run_id,
        "quarter": ctx.quarter,
        "status": status,
        "started_at": dt.datetime.fromisoformat(started_at) if started_at else None,
        "finished_at": dt.datetime.now(dt.UTC),
        "failed_stage": None if published else failed_stage,
        "message": mask_text(error)[:4000] if error and not published else None,
        "code_version": ctx.code_version,
        "delivery_status": delivery["status"] if delivery else None,
    }
    if engine is not None:
        try:
            record_attempt(engine, attempt)
        except Exception as exc:
            log.error("Could not record the run attempt in the warehouse: %s", mask_text(str(exc)))
        finally:
            engine.dispose()
    result = {
        **{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in attempt.items()},
        "work_dir": str(ctx.root),
        "warehouse": _redact_url(ctx.warehouse_url),
        "reports_dir": str(Path(ctx.reports_dir) / ctx.quarter),
        "summaries": summaries,
        "delivery": delivery,
    }
    if delivery and delivery["status"] == "FAILED":
        log.warning("Quarter %s is published, but report e-mails failed: see `delivery` in the result", ctx.quarter)
    write_json(ctx.root / "result.json", result)
    return result


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


PERMANENT_ERRORS: tuple[type[Exception], ...] = (ValueError, KeyError, QualityGateFailed)


ORDER = ("discover", "ingest", "validate", "quality_gate", "link", "decide", "reports", "publish")


def previous_quarter(day: dt.date) -> str:
    """The quarter that ended before `day`: a run on 15 January 2027 cleanses 2026Q4."""
    q = (day.month - 1) // 3  # 0-based quarter of `day`
    return f"{day.year - 1}Q4" if q == 0 else f"{day.year}Q{q}"


def start_run(params: dict[str, Any], run_id: str, logical_date: dt.datetime | None = None) -> dict[str, Any]:
    """Resolve the run's context from the DAG params and discover the quarter's files."""
    conf = {k: v for k, v in params.items() if v not in (None, "", {})}
    if "quarter" not in conf and logical_date is not None:
        conf["quarter"] = previous_quarter(logical_date.date())
    ctx = make_context(conf, run_id)
    run = {
        "context": ctx.to_dict(),
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "result_file": params.get("result_file"),
    }
    write_json(ctx.root / "run.json", run)
    try:
        summary = discover(ctx)
    except Exception as exc:
        _record_error(ctx, "discover", exc)
        raise
    return {**run, "kabupaten": summary["kabupaten"]}


def stage_summary(run: dict[str, Any], stage: str) -> dict[str, Any]:
    """A finished stage's summary, as written to `<run>/<stage>/summary.json`."""
    path = RunContext.from_dict(run["context"]).root / stage / "summary.json"
    return read_json(path) if path.exists() else {}


def _record_error(ctx: RunContext, stage: str, exc: BaseException) -> None:
    from pipelines.privacy import mask_text

    write_json(
        ctx.stage_dir("errors") / f"{stage}.json", {"stage": stage, "error": mask_text(f"{type(exc).__name__}: {exc}")}
    )


def run_stage(stage: str, run: dict[str, Any], *args: Any) -> dict[str, Any]:
    """Run one stage of a started run; a failure is recorded (masked) for `finish_run` before it propagates."""
    ctx = RunContext.from_dict(run["context"])
    functions = {
        "ingest": ingest,
        "validate": validate,
        "quality_gate": check_quality_gate,
        "link": link,
        "decide": decide,
        "reports": reports,
        "publish": lambda c: publish(c, run.get("started_at")),
        "deliver": deliver,
    }
    try:
        return functions[stage](ctx, *args)
    except Exception as exc:
        _record_error(ctx, stage if not args else f"{stage}_{args[0]}", exc)
        raise


def finish_run(run: dict[str, Any]) -> dict[str, Any]:
    ctx = RunContext.from_dict(run["context"])
    errors = sorted((ctx.root / "errors").glob("*.json"), key=lambda p: p.stat().st_mtime)
    last = read_json(errors[-1]) if errors else None
    result = finish(
        ctx,
        started_at=run.get("started_at"),
        failed_stage=last["stage"] if last else None,
        error=last["error"] if last else None,
    )
    if run.get("result_file"):
        write_json(Path(run["result_file"]), result)
    return result


def run_all(conf: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Every stage in order, in this process, the way the DAG chains them (tests and benchmarks; production
    runs go through Airflow)."""
    run = start_run(conf, run_id)
    try:
        for stage in ("ingest", "validate", "quality_gate", "link", "decide"):
            run_stage(stage, run)
        for kab in run["kabupaten"]:
            run_stage("reports", run, kab)
        run_stage("publish", run)
        run_stage("deliver", run)
    except Exception:
        log.exception("Run %s failed", run_id)
    return finish_run(run)
