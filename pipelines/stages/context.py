"""What every stage shares: the run's context resolved from the DAG conf, the effective settings,
the code version, and the timing and summary each stage leaves in its directory."""

from __future__ import annotations

import functools
import logging
import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pipelines
from pipelines import contract, registry
from pipelines.config import PipelineConfig, load_config, settings_dict, stored_config
from pipelines.warehouse.connection import CONN_ID_PATTERN, DEFAULT_CONN_ID
from pipelines.workspace import RunContext, read_json, write_json

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = logging.getLogger(__name__)


def home() -> Path:
    return Path(os.environ.get("DTKS_HOME", ".dtks")).resolve()


@functools.cache
def code_version() -> str:
    version = pipelines.__version__
    root = Path(pipelines.__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return f"{version}+g{sha}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return version


def make_context(conf: dict[str, Any], run_id: str) -> RunContext:
    """Resolve a DAG run's conf (and the environment's defaults) into the run's context."""
    quarter = conf.get("quarter")
    if not quarter or not contract.quarter_is_valid(str(quarter)):
        raise ValueError(f"The run needs a quarter of the form YYYYQn in its conf, got {quarter!r}.")
    base = home()
    landing = conf.get("landing") or os.environ.get("DTKS_LANDING")
    if not landing:
        raise ValueError("The run needs a landing directory: conf 'landing' or DTKS_LANDING.")
    if conf.get("warehouse"):
        raise ValueError(
            "The run's conf may not carry the warehouse ('warehouse'): it is the Airflow connection named by "
            f"'warehouse_conn_id' (default {DEFAULT_CONN_ID}), so that no credential is stored with the run."
        )
    warehouse_conn_id = str(conf.get("warehouse_conn_id") or DEFAULT_CONN_ID)
    if not re.fullmatch(CONN_ID_PATTERN, warehouse_conn_id):
        raise ValueError("'warehouse_conn_id' must be an Airflow connection id (letters, digits, '_', '.', '-').")
    reports = conf.get("reports") or os.environ.get("DTKS_REPORTS") or str(base / "reports")
    work = conf.get("work") or os.environ.get("DTKS_WORK") or str(base / "work")
    config = load_config(conf.get("config") or {})
    return RunContext(
        run_id=run_id,
        quarter=str(quarter),
        landing=str(Path(landing).resolve()),
        warehouse_conn_id=warehouse_conn_id,
        reports_dir=str(Path(reports).resolve()),
        work_dir=str(Path(work).resolve()),
        config=config_dict(config),
        code_version=code_version(),
    )


def warehouse_url(ctx: RunContext) -> URL:
    """The run's warehouse, resolved from its Airflow connection now, inside the task that needs it."""
    from pipelines.warehouse.connection import resolve

    return resolve(ctx.warehouse_conn_id)


def config_dict(config: PipelineConfig) -> dict[str, Any]:
    """The effective settings, for XCom and the run record: secrets are never dumped (each stage that needs
    the person-key secret reads it from the environment again)."""
    return settings_dict(config)


def pipeline_config(ctx: RunContext) -> PipelineConfig:
    """The run's settings as resolved at its start (a settings file changed since does not apply)."""
    return stored_config(ctx.config)


def summary_path(ctx: RunContext, stage: registry.Stage, kab: str | None = None) -> Path:
    return ctx.root / stage.summary_pattern.format(stage=stage.name, kab=kab if kab is not None else "*")


def staged(name: str) -> Callable:
    """Make a function a stage of the registry: it gets its `StageIO` (the artefacts it declared) instead of
    the run's context; its wall time and summary go to its summary file, what it read and wrote to
    `<run>/io/<label>.json`. Called with the run's context, like every stage."""
    declared = registry.stage(name)

    def wrap(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(fn)
        def run(ctx: RunContext, *args, **kwargs) -> dict[str, Any]:
            from pipelines.stages.io import StageIO, stage_label

            kab = args[0] if declared.over == registry.KABUPATEN else None
            io = StageIO(ctx, declared, kab)
            start = time.perf_counter()
            summary = fn(io, *args, **kwargs)
            summary["seconds"] = round(time.perf_counter() - start, 3)
            write_json(summary_path(ctx, declared, kab), summary)
            io.save(stage_label(name, *(() if kab is None else (kab,))))
            log.info("Stage %s done in %.1f s", stage_label(name, *(() if kab is None else (kab,))), summary["seconds"])
            return summary

        return run

    return wrap


def stage_summaries(ctx: RunContext) -> dict[str, Any]:
    """Every finished stage's summary, in run order. A stage mapped over the kabupaten/kota gives the
    quarter's view (`combine_summaries`) with each kabupaten's own under `per_kabupaten`."""
    out: dict[str, Any] = {}
    for stage in registry.STAGES:
        if stage.over == registry.QUARTER:
            path = summary_path(ctx, stage)
            if path.exists():
                out[stage.name] = read_json(path)
            continue
        pattern = stage.summary_pattern.format(stage=stage.name, kab="{kab}")
        at = Path(pattern).parts.index("{kab}")
        each = {
            path.relative_to(ctx.root).parts[at]: read_json(path)
            for path in sorted(ctx.root.glob(pattern.format(kab="*")))
        }
        if each:
            out[stage.name] = {**combine_summaries(list(each.values())), "per_kabupaten": each}
    return out


def combine_summaries(summaries: list[Any]) -> Any:
    """The quarter's view of per-kabupaten summaries: counts and seconds added up, a share the largest (the
    worst kabupaten's), flags true only when true for every kabupaten, lists joined, other values kept
    when all agree."""
    first = summaries[0]
    if len(summaries) == 1:
        return first
    if isinstance(first, dict):
        keys = list(dict.fromkeys(k for s in summaries if isinstance(s, dict) for k in s))
        out = {}
        for key in keys:
            values = [s[key] for s in summaries if isinstance(s, dict) and key in s]
            if "share" in key and all(isinstance(v, int | float) for v in values):
                out[key] = max(values)
            else:
                out[key] = combine_summaries(values)
        return out
    if isinstance(first, bool):
        return all(bool(v) for v in summaries)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in summaries)
    if isinstance(first, int | float) and numbers:
        total = sum(summaries)
        return round(total, 6) if isinstance(total, float) else total
    if isinstance(first, list):
        return [item for s in summaries if isinstance(s, list) for item in s]
    return first if all(v == first for v in summaries) else None
