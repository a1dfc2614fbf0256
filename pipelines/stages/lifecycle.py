"""A run from start to finish: resolve and discover, run one stage (recording a failure, masked, for the
end), record the attempt in the warehouse and write the result `dtks run` reads. `run_all` chains every
stage in one process for tests and benchmarks; production runs go through the Airflow DAG."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines import registry
from pipelines.config import person_key_secret
from pipelines.stages.context import make_context, pipeline_config, stage_summaries, warehouse_url
from pipelines.stages.deliver import delivery_result
from pipelines.stages.failures import Failure, classify, failure_message
from pipelines.stages.inputs import KabupatenHeldBack, failed_gates
from pipelines.stages.io import partition_of, resolve, stage_label
from pipelines.stages.preflight import check_warehouse, check_writable
from pipelines.workspace import RunContext, read_json, write_json

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = logging.getLogger(__name__)


def finish(
    ctx: RunContext,
    *,
    started_at: str | None,
    failed_stage: str | None,
    error: str | None,
    failure_kind: str | None = None,
) -> dict[str, Any]:
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
    engine = url = None
    try:
        url = warehouse_url(ctx)
        engine = connect(url)
        upgrade(engine)  # a warehouse no run has published to yet has no tables
        published = was_published(engine, ctx.run_id)
    except Exception as exc:  # the warehouse may be the reason the run failed
        log.error("Could not reach the warehouse to finish the run: %s", failure_message(exc))
        if engine is not None:
            engine.dispose()
        engine = None
    if engine is not None:
        try:  # a run killed between switching the reports and the warehouse's commit left them disagreeing
            reconcile(engine, ctx.quarter, ReportsRelease(ctx.reports_dir, ctx.quarter, ctx.run_id))
        except Exception as exc:
            log.error("The quarter's reports were not checked against the warehouse: %s", failure_message(exc))
    # Stopped by a quality gate, not by some other failure after a kabupaten was held back.
    gate_rejected = _gate_rejected(ctx) and failure_kind in (None, "quality_gate")
    status = "PUBLISHED" if published else ("GATE_REJECTED" if gate_rejected else "FAILED")
    held = held_back(ctx) if _gate_rejected(ctx) else {}
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
        # The kabupaten/kota whose gate failed: held back from a publication (`publish_others`), or the
        # reason nothing was published.
        "held_back": sorted(held) or None,
    }
    if engine is not None:
        try:
            record_attempt(engine, attempt)
        except Exception as exc:
            log.error("Could not record the run attempt in the warehouse: %s", failure_message(exc))
        finally:
            engine.dispose()
    result = {
        **{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in attempt.items()},
        "work_dir": str(ctx.root),
        "warehouse": _describe_warehouse(ctx, url),
        "reports_dir": str(Path(ctx.reports_dir) / ctx.quarter),
        "summaries": summaries,
        "delivery": delivery,
    }
    if delivery and delivery["status"] == "FAILED":
        log.warning("Quarter %s is published, but report e-mails failed: see `delivery` in the result", ctx.quarter)
    try:
        write_json(ctx.root / "result.json", result)
    except OSError as exc:  # a full or unwritable work disk: the result file `dtks run` reads still gets it
        log.error("The run's result.json was not written: %s", failure_message(exc))
    return result


def _describe_warehouse(ctx: RunContext, url: URL | None) -> str:
    """The warehouse for the result lines: its URL without password, and the connection it came from."""
    from pipelines.warehouse.connection import describe

    where = describe(url) if url is not None else "not resolved"
    return f"{where} (connection {ctx.warehouse_conn_id})"


GATES = ("validate.gate", "decide.gate")  # the quality gate before linkage, and after it


def held_back(ctx: RunContext, gates: Iterable[str] = GATES) -> dict[str, list[str]]:
    """The kabupaten/kota whose quality gate failed (before linkage, or after it), with the gate's
    problems. Under the policy `publish_others` they are held back and the others publish."""
    return failed_gates(*({partition_of(ctx, p, name): read_json(p) for p in resolve(ctx, name)} for name in gates))


def is_held_back(run: dict[str, Any], stage: str, *args: Any) -> bool:
    """Under `publish_others`, a kabupaten's stage does not run once a gate before it failed for that
    kabupaten (the `quality_gate` task itself says so, by raising `KabupatenHeldBack`)."""
    declared = registry.stage(stage)
    if declared.over != registry.KABUPATEN or stage == "quality_gate":
        return False
    ctx = RunContext.from_dict(run["context"])
    if pipeline_config(ctx).quality_gate.policy != "publish_others":
        return False
    order = [s.name for s in registry.STAGES]
    before = [g for g in GATES if order.index(registry.producer(g)) < order.index(stage)]
    return args[0] in held_back(ctx, before)


def _gate_rejected(ctx: RunContext) -> bool:
    """The quality gate stopped the run: before linkage (validate's result) or after (decide's)."""
    for name in ("decide.gate", "validate.gate"):
        for path in resolve(ctx, name):
            if path.exists() and not read_json(path)["passed"]:
                return True
    return False


def stage_function(stage: str) -> Callable[..., dict[str, Any]]:
    """The function a registered stage runs (imported when it runs: the DAG file stays light)."""
    module, _, attribute = registry.stage(stage).function.partition(":")
    return getattr(importlib.import_module(module), attribute)


def previous_quarter(day: dt.date) -> str:
    """The quarter that ended before `day`: a run on 15 January 2027 cleanses 2026Q4."""
    q = (day.month - 1) // 3  # 0-based quarter of `day`
    return f"{day.year - 1}Q4" if q == 0 else f"{day.year}Q{q}"


def run_conf(params: dict[str, Any], logical_date: dt.datetime | None = None) -> dict[str, Any]:
    """The run's conf from the DAG params: unset values dropped, the quarter of a scheduled run filled in."""
    conf = {k: v for k, v in params.items() if v not in (None, "", {})}
    if "quarter" not in conf and logical_date is not None:
        conf["quarter"] = previous_quarter(logical_date.date())
    return conf


def start_run(params: dict[str, Any], run_id: str, logical_date: dt.datetime | None = None) -> dict[str, Any]:
    """Resolve the run's context from the DAG params, check that the run can write its folders and reach
    its warehouse (so a run that could never publish fails now), and discover the quarter's files."""
    ctx = make_context(run_conf(params, logical_date), run_id)
    run = {
        "context": ctx.to_dict(),
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "result_file": params.get("result_file"),
    }
    stage = "start"
    try:
        person_key_secret(pipeline_config(ctx))  # a run on the public demo key stops before any work
        check_writable(ctx.root)
        write_json(ctx.root / "run.json", run)
        check_writable(Path(ctx.reports_dir))
        check_warehouse(ctx)
        stage = "discover"
        summary = stage_function("discover")(ctx)
    except Exception as exc:
        _record_error(ctx, stage, exc)
        raise
    return {**run, "kabupaten": summary["kabupaten"], "partitions": summary["partitions"]}


def stage_summary(run: dict[str, Any], stage: str) -> dict[str, Any]:
    """A finished stage's summary, as written to `<run>/<stage>/summary.json`."""
    path = RunContext.from_dict(run["context"]).root / stage / "summary.json"
    return read_json(path) if path.exists() else {}


def _record_error(ctx: RunContext, stage: str, exc: BaseException) -> Failure:
    """Keep the failure, classified and masked, in `<run>/errors/<stage>.json` for `finish`. A work folder
    that cannot take it (full, unwritable) is logged: the DAG also hands the failure to `finish` in XCom."""
    failure = classify(stage, exc)
    try:
        write_json(ctx.stage_dir("errors") / f"{stage}.json", failure.as_dict())
    except OSError as write_error:
        log.error("The failure of %s could not be recorded in the work folder: %s", stage, failure_message(write_error))
    return failure


def run_stage(stage: str, run: dict[str, Any], *args: Any) -> dict[str, Any]:
    """Run one stage of a started run; a failure is recorded (masked) for `finish_run` before it propagates."""
    ctx = RunContext.from_dict(run["context"])
    if stage == "publish":  # the run record says when the run started
        args = (run.get("started_at"),)
    label = stage_label(stage, *(() if stage == "publish" else args))
    try:
        summary = stage_function(stage)(ctx, *args)
    except Exception as exc:
        _record_error(ctx, label, exc)
        raise
    (ctx.root / "errors" / f"{label}.json").unlink(missing_ok=True)  # an earlier try's failure, now retried
    return summary


def _last_failure(ctx: RunContext, failures: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The run's last recorded failure: from the work folder, else from what the tasks handed over."""
    try:
        errors = sorted((ctx.root / "errors").glob("*.json"), key=lambda p: p.stat().st_mtime)
        if errors:
            return read_json(errors[-1])
    except OSError as exc:
        log.error("The run's recorded failures could not be read: %s", failure_message(exc))
    handed_over = [f for f in failures if f]
    return handed_over[-1] if handed_over else None


def finish_run(run: dict[str, Any], failures: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """Record the attempt of a started run and write the result file `dtks run` reads. `failures` are the
    failures the DAG's tasks handed over in XCom, used when the work folder holds none."""
    ctx = RunContext.from_dict(run["context"])
    last = _last_failure(ctx, failures)
    result = finish(
        ctx,
        started_at=run.get("started_at"),
        failed_stage=last["stage"] if last else None,
        error=last["error"] if last else None,
        failure_kind=last.get("kind") if last else None,
    )
    if run.get("result_file"):
        write_json(Path(run["result_file"]), result)
    return result


def finish_unstarted(
    params: dict[str, Any],
    run_id: str,
    logical_date: dt.datetime | None = None,
    failures: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """`finish` for a run whose `start` failed, so that no context came through XCom: the context is
    resolved again from the params; when that is what failed, the result says why, and no attempt can be
    recorded (there is no valid quarter or warehouse to record it in)."""
    try:
        ctx = make_context(run_conf(params, logical_date), run_id)
    except Exception as exc:
        failure = classify("start", exc)
        result = {
            "run_id": run_id,
            "quarter": params.get("quarter"),
            "status": "FAILED",
            "failed_stage": failure.stage,
            "message": failure.message,
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        if params.get("result_file"):
            write_json(Path(params["result_file"]), result)
        return result
    handed_over = [f for f in failures if f] or [{"stage": "start", "error": "The run did not start; see the log."}]
    try:  # written by `start` once the work folder could take it
        started_at = read_json(ctx.root / "run.json")["started_at"]
    except (OSError, ValueError, KeyError):
        started_at = None
    started = {"context": ctx.to_dict(), "started_at": started_at, "result_file": params.get("result_file")}
    return finish_run(started, handed_over)


def run_all(conf: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Every stage in order, in this process, the way the DAG chains them (tests and benchmarks; production
    runs go through Airflow). A run that cannot start gets its result as the DAG's would."""
    try:
        run = start_run(conf, run_id)
    except Exception as exc:
        log.error("Run %s did not start: %s", run_id, failure_message(exc))
        return finish_unstarted(conf, run_id)
    try:
        for stage in registry.STAGES[1:]:  # discover ran in start
            for partition in partitions(run, stage):
                if is_held_back(run, stage.name, *partition):
                    continue
                try:
                    run_stage(stage.name, run, *partition)
                except KabupatenHeldBack as exc:  # the others go on (gate policy `publish_others`)
                    log.warning("%s", failure_message(exc))
    except Exception:
        log.exception("Run %s failed", run_id)
    return finish_run(run)


def partitions(run: dict[str, Any], stage: registry.Stage) -> list[tuple[str, ...]]:
    """The arguments of each of a stage's runs: one per kabupaten/kota, or one for the quarter."""
    if stage.over == registry.KABUPATEN:
        return [(kab,) for kab in run[stage.each]]
    return [()]
