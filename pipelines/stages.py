"""The quarterly run, stage by stage: what each Airflow task calls.

Each stage reads the previous stages' files from the run's work directory, writes its own, and returns a
small JSON summary (for XCom and the run record). Nothing here imports Airflow, so every stage can be
run and tested on its own: `run_all` chains them for tests and benchmarks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

import pipelines
from pipelines import contract
from pipelines.config import PipelineConfig, load_config
from pipelines.workspace import RunContext, read_frame, read_json, write_frame, write_json

log = logging.getLogger(__name__)

STAGES = ("discover", "ingest", "validate", "link", "decide", "reports", "publish")


class QualityGateFailed(RuntimeError):
    """Too many rows quarantined: the quarter is not published (the previous publication stays)."""


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
    warehouse = (
        conf.get("warehouse") or os.environ.get("DTKS_WAREHOUSE_URL") or f"sqlite:///{base / 'warehouse.sqlite'}"
    )
    reports = conf.get("reports") or os.environ.get("DTKS_REPORTS") or str(base / "reports")
    work = conf.get("work") or os.environ.get("DTKS_WORK") or str(base / "work")
    config = load_config(conf.get("config") or {})
    return RunContext(
        run_id=run_id,
        quarter=str(quarter),
        landing=str(Path(landing).resolve()),
        warehouse_url=warehouse,
        reports_dir=str(Path(reports).resolve()),
        work_dir=str(Path(work).resolve()),
        config=config_dict(config),
        code_version=code_version(),
    )


def config_dict(config: PipelineConfig) -> dict[str, Any]:
    """The effective settings, for XCom and the run record; the person-key secret never leaves the process
    (each stage reads it from the environment again)."""
    data = dataclasses.asdict(config)
    data.pop("person_key_secret")
    return data


def pipeline_config(ctx: RunContext) -> PipelineConfig:
    return load_config(ctx.config)


def _timed(stage: str) -> Callable:
    """Records the stage's wall time and summary in `<run>/<stage>/summary.json`."""

    def wrap(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(fn)
        def run(ctx: RunContext, *args, **kwargs) -> dict[str, Any]:
            start = time.perf_counter()
            summary = fn(ctx, *args, **kwargs)
            summary["seconds"] = round(time.perf_counter() - start, 3)
            write_json(ctx.stage_dir(stage) / "summary.json", summary)
            log.info("Stage %s done in %.1f s", stage, summary["seconds"])
            return summary

        return run

    return wrap


@_timed("discover")
def discover(ctx: RunContext) -> dict[str, Any]:
    from pipelines.discover import discover_quarter

    files = discover_quarter(ctx.landing, ctx.quarter)
    write_json(ctx.stage_dir("discover") / "files.json", [f.to_dict() for f in files])
    from pipelines import regions

    folders = {f.kode_kab for f in files if f.kind == "submission"}
    # One Dinsos workbook per real kabupaten/kota; files in a folder that is none are rejected at
    # ingest and reported in the run's summary and record, with no workbook of their own.
    kabupaten = sorted(k for k in folders if regions.is_kabupaten(k))
    return {
        "submission_files": sum(f.kind == "submission" for f in files),
        "dukcapil_files": sum(f.kind == "dukcapil" for f in files),
        "kabupaten": kabupaten,
        "other_folders": sorted(folders - set(kabupaten)),
    }


def _input_files(ctx: RunContext):
    from pipelines.discover import InputFile

    items = read_json(ctx.root / "discover" / "files.json")
    return [InputFile(**{**i, "problems": tuple(tuple(p) for p in i["problems"])}) for i in items]


@_timed("ingest")
def ingest(ctx: RunContext) -> dict[str, Any]:
    from pipelines.ingest.intake import ingest_dukcapil, ingest_submissions

    files = _input_files(ctx)
    out = ctx.stage_dir("ingest")
    submissions, sub_reports = ingest_submissions([f for f in files if f.kind == "submission"])
    persons, duk_reports = ingest_dukcapil([f for f in files if f.kind == "dukcapil"])
    write_frame(out / "submissions.parquet", submissions)
    write_frame(out / "dukcapil.parquet", persons)
    reports = [r.to_dict() for r in sub_reports + duk_reports]
    write_json(out / "files.json", reports)
    statuses = pd.Series([r["status"] for r in reports]).value_counts().to_dict()
    return {"submission_rows": len(submissions), "dukcapil_rows": len(persons), "file_statuses": statuses}


def _file_reports(ctx: RunContext):
    from pipelines.ingest.intake import FileReport

    return [FileReport(**r) for r in read_json(ctx.root / "ingest" / "files.json")]


@_timed("validate")
def validate(ctx: RunContext) -> dict[str, Any]:
    from pipelines.validate import quality_gate, validate_dukcapil, validate_submissions
    from pipelines.validate.suites import GxSession

    config = pipeline_config(ctx)
    out = ctx.stage_dir("validate")
    # Both suites run in one GX session named after the Airflow run, which renders the run's Data Docs
    # (counts only: no row ids, no values) into the run's work directory.
    docs_dir = out / "data_docs"
    shutil.rmtree(docs_dir, ignore_errors=True)  # a retried task must not show an earlier attempt's pages
    session = GxSession(ctx.run_id, docs_dir)
    # Read as Arrow-backed columns: validation works on Arrow arrays, so no Python string per value is made.
    raw = pd.read_parquet(ctx.root / "ingest" / "submissions.parquet", dtype_backend="pyarrow")
    files = _file_reports(ctx)
    today = dt.date.today()
    sub = validate_submissions(
        raw,
        files,
        run_name=ctx.run_id,
        today=today,
        results_path=out / "gx_dtks_submission.json",
        session=session,
    )
    del raw
    write_frame(out / "rows.parquet", sub.rows)
    write_frame(out / "reasons.parquet", sub.reasons)
    write_frame(out / "warnings.parquet", sub.warnings)
    duk = validate_dukcapil(
        pd.read_parquet(ctx.root / "ingest" / "dukcapil.parquet", dtype_backend="pyarrow"),
        run_name=ctx.run_id,
        results_path=out / "gx_dukcapil_extract.json",
        session=session,
    )
    write_frame(out / "persons.parquet", duk.persons)
    write_frame(out / "persons_excluded.parquet", duk.excluded)
    persons_per_kab = duk.persons["source_file"].str.rsplit("/", n=1).str[-1].str.removesuffix(".csv").value_counts()
    gate = quality_gate(sub.rows, files, config.quality_gate, persons_per_kab.to_dict())
    write_json(out / "gate.json", gate)
    data_docs = session.build_data_docs()
    return {"submissions": sub.summary, "dukcapil": duk.summary, "gate": gate, "data_docs": data_docs}


def check_quality_gate(ctx: RunContext) -> dict[str, Any]:
    gate = read_json(ctx.root / "validate" / "gate.json")
    if not gate["passed"]:
        raise QualityGateFailed(
            "Quality gate failed, the quarter is not published (the previous publication stays): "
            + " ".join(gate["problems"])
        )
    return gate


@_timed("link")
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


@_timed("decide")
def decide(ctx: RunContext) -> dict[str, Any]:
    from pipelines.findings import decide_findings
    from pipelines.outcomes import decide_outcomes, quarantine_records

    config = pipeline_config(ctx)
    rows = read_frame(ctx.root / "validate" / "rows.parquet")
    reasons = read_frame(ctx.root / "validate" / "reasons.parquet")
    persons = read_frame(ctx.root / "validate" / "persons.parquet")
    decisions = read_frame(ctx.root / "link" / "decisions.parquet")
    discrepancy, per_row = decide_findings(rows, reasons, decisions, persons, config.ineligible_occupations)
    row_outcome, snapshot = decide_outcomes(rows, decisions, per_row, persons, config.person_key_secret)

    raw = read_frame(ctx.root / "ingest" / "submissions.parquet").reset_index(drop=True)
    raw["row_id"] = range(len(raw))
    raw = raw.merge(rows[["row_id", "file_kode_desa"]].rename(columns={"file_kode_desa": "_fk"}), on="row_id").drop(
        columns="_fk"
    )
    quarantine = quarantine_records(raw, reasons, rows.loc[rows["quarantined"], "row_id"].to_numpy())
    excluded = read_frame(ctx.root / "validate" / "persons_excluded.parquet")
    if len(excluded):
        quarantine = pd.concat([quarantine, _dukcapil_quarantine(excluded)], ignore_index=True)

    source = rows.set_index("row_id")[["source_file", "source_row"]]
    candidates, edges = _explanations(ctx, source, persons)
    out = ctx.stage_dir("decide")
    write_frame(out / "row_outcome.parquet", row_outcome.drop(columns=["row_id"]))
    write_frame(out / "dtks_snapshot.parquet", snapshot)
    write_frame(out / "discrepancy.parquet", discrepancy.drop(columns=["row_id"]))
    write_frame(out / "quarantine.parquet", quarantine)
    write_frame(out / "link_candidate.parquet", candidates)
    write_frame(out / "duplicate_edge.parquet", edges)
    write_frame(out / "validation_result.parquet", reasons.drop(columns=["row_id"]))
    return {
        "rows": len(row_outcome),
        "outcomes": row_outcome["outcome"].value_counts().to_dict(),
        "status_padan": row_outcome["status_padan"].value_counts().to_dict(),
        "persons": len(snapshot),
        "status_dtks": snapshot["status_dtks"].value_counts().to_dict(),
        "findings": discrepancy["category"].value_counts().reindex(contract.CATEGORIES, fill_value=0).to_dict(),
        "quarantine_records": len(quarantine),
    }


def _dukcapil_quarantine(excluded: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": excluded["source_file"],
            "source_row": excluded["source_row"],
            "kode_desa": None,
            "raw_fields": "{}",
            "reasons": [
                json.dumps([{"category": "DUKCAPIL", "field": "NIK", "message": r}], ensure_ascii=False)
                for r in excluded["reasons"]
            ],
            "categories": "DUKCAPIL",
        }
    )


def _explanations(ctx: RunContext, source: pd.DataFrame, persons: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Link candidates and duplicate edges in warehouse form: levels and weights as JSON per pair."""
    decisions = read_frame(ctx.root / "link" / "decisions.parquet").set_index("row_id")
    cand = read_frame(ctx.root / "link" / "candidates.parquet")
    # The comparisons in the linker's order, from its own output: no linkage code to import here.
    names = [c.removeprefix("lvl_") for c in cand.columns if c.startswith("lvl_")]

    def as_json(frame: pd.DataFrame, prefix: str) -> list[str]:
        # Compact JSON, encoded once per distinct combination: a million exact links share a handful.
        cache: dict[tuple, str] = {}
        out = []
        for row in map(tuple, frame[[f"{prefix}{n}" for n in names]].to_numpy().tolist()):
            text = cache.get(row)
            if text is None:
                text = cache[row] = json.dumps(dict(zip(names, row, strict=True)), separators=(",", ":"))
            out.append(text)
        return out

    chosen_person = decisions["person_index"].reindex(cand["row_id"]).to_numpy()
    chosen = (chosen_person == cand["person_index"].to_numpy()) & decisions["decision"].reindex(cand["row_id"]).eq(
        "link"
    ).to_numpy()
    candidates = pd.DataFrame(
        {
            "source_file": source["source_file"].reindex(cand["row_id"]).to_numpy(),
            "source_row": source["source_row"].reindex(cand["row_id"]).to_numpy(),
            "rank": cand["rank"].to_numpy(),
            "candidate_nik": persons["NIK"].to_numpy()[cand["person_index"].to_numpy()],
            "method": cand["method"].to_numpy(),
            "chosen": chosen,
            "match_weight": cand["match_weight"].to_numpy(),
            "match_probability": cand["match_probability"].to_numpy(),
            "levels": as_json(cand, "lvl_"),
            "weights": as_json(cand, "w_"),
        }
    )
    e = read_frame(ctx.root / "link" / "row_edges.parquet")
    e = e[(e["match_probability"] >= 0.5) | e["accepted"]]  # the rest are blocking noise, not decisions
    edges = pd.DataFrame(
        {
            "source_file_a": source["source_file"].reindex(e["row_id_a"]).to_numpy(),
            "source_row_a": source["source_row"].reindex(e["row_id_a"]).to_numpy(),
            "source_file_b": source["source_file"].reindex(e["row_id_b"]).to_numpy(),
            "source_row_b": source["source_row"].reindex(e["row_id_b"]).to_numpy(),
            "accepted": e["accepted"].to_numpy(),
            "match_weight": e["match_weight"].to_numpy(),
            "match_probability": e["match_probability"].to_numpy(),
            "levels": as_json(e, "lvl_"),
            "weights": as_json(e, "w_"),
        }
    )
    return candidates, edges


def _kabupaten_tables(ctx: RunContext, kode_kab: str) -> dict[str, pd.DataFrame]:
    decide_dir = ctx.root / "decide"
    prefix = f"{ctx.quarter}/submissions/{kode_kab}/"
    outcome = read_frame(decide_dir / "row_outcome.parquet")
    discrepancy = read_frame(decide_dir / "discrepancy.parquet")
    rows = read_frame(
        ctx.root / "validate" / "rows.parquet",
        columns=["source_file", "source_row", "nama", "no_kk", "tanggal_lahir", "nik"],
    )
    return {
        "row_outcome": outcome[outcome["source_file"].str.startswith(prefix)],
        "discrepancy": discrepancy[discrepancy["source_file"].str.startswith(prefix)],
        "context": rows[rows["source_file"].str.startswith(prefix)],
    }


def reports(ctx: RunContext, kode_kab: str) -> dict[str, Any]:
    """The Dinsos workbook of one kabupaten, the feedback file of each file its villages sent and the
    kabupaten's HTML summary (staged in the run directory; `publish` moves them into the reports directory
    once the quarter is published). Timed like the other stages, but its summary goes to
    `reports/<kode_kab>/summary.json`: the kabupaten run as parallel tasks."""
    from pipelines.reports import write_kabupaten_workbook
    from pipelines.reports.html_summary import render_kabupaten, write_html
    from pipelines.reports.summary import count_kabupaten

    start = time.perf_counter()
    tables = _kabupaten_tables(ctx, kode_kab)
    files = [
        r
        for r in read_json(ctx.root / "ingest" / "files.json")
        if r["kind"] == "submission" and r["kode_kab"] == kode_kab
    ]
    file_problems = pd.DataFrame(
        [
            {
                "source_file": f["source_file"],
                "kode_desa": f["kode_desa"],
                "status": _STATUS_ID.get(f["status"], f["status"]),
                "message": " ".join(p["message"] for p in f["problems"]),
            }
            for f in files
            if f["problems"] or f["status"] != "ACCEPTED"
        ],
        columns=["source_file", "kode_desa", "status", "message"],
    )
    staged = ctx.stage_dir("reports") / kode_kab
    shutil.rmtree(staged, ignore_errors=True)  # a retried task must not leave an earlier attempt's files
    staged.mkdir(parents=True)
    workbook = write_kabupaten_workbook(
        staged / f"laporan_dtks_{kode_kab}_{ctx.quarter}.xlsx",
        kode_kab=kode_kab,
        quarter=ctx.quarter,
        run_id=ctx.run_id,
        discrepancy=tables["discrepancy"],
        row_outcome=tables["row_outcome"],
        file_problems=file_problems,
        context=tables["context"],
    )
    quarantine = read_frame(ctx.root / "decide" / "quarantine.parquet")
    quarantine = quarantine[quarantine["source_file"].str.startswith(f"{ctx.quarter}/submissions/{kode_kab}/")]
    feedback = _write_feedback(ctx, tables, quarantine, files, staged / "desa")
    counts = count_kabupaten(
        kode_kab,
        row_outcome=tables["row_outcome"],
        discrepancy=tables["discrepancy"],
        quarantine=quarantine,
        files=files,
    )
    html = write_html(
        staged / f"ringkasan_{kode_kab}_{ctx.quarter}.html", render_kabupaten(counts, _run_info(ctx, kode_kab))
    )
    summary = {
        "kode_kab": kode_kab,
        "workbook": str(workbook),
        "desa_feedback_files": feedback,
        "files": {"workbook": workbook.name, "summary_html": html.name, "desa_dir": "desa"},
        "counts": counts,
        "seconds": round(time.perf_counter() - start, 3),
    }
    write_json(staged / "summary.json", summary)
    log.info("Stage reports (%s) done in %.1f s", kode_kab, summary["seconds"])
    return summary


def _run_info(ctx: RunContext, kode_kab: str | None = None):
    """What the HTML summary says about the run: ids, start, time per finished stage, Dukcapil rows (of one
    kabupaten, or of the run) and the quality gate."""
    from pipelines.reports.html_summary import RunInfo

    summaries = _stage_summaries(ctx)
    run = read_json(ctx.root / "run.json") if (ctx.root / "run.json").exists() else {}
    files = read_json(ctx.root / "ingest" / "files.json")
    dukcapil = [f for f in files if f["kind"] == "dukcapil" and kode_kab in (None, f["kode_kab"])]
    excluded = read_frame(ctx.root / "validate" / "persons_excluded.parquet", columns=["source_file"])
    sources = {f["source_file"] for f in dukcapil}
    return RunInfo(
        run_id=ctx.run_id,
        quarter=ctx.quarter,
        code_version=ctx.code_version,
        started_at=run.get("started_at"),
        stage_seconds={
            k: v.get("seconds")
            for k, v in summaries.items()
            if k != "publish" and (kode_kab is None or not k.startswith("reports"))
        },
        dukcapil_rows=sum(int(f.get("data_rows") or 0) for f in dukcapil),
        dukcapil_excluded=int(excluded["source_file"].isin(sources).sum()),
        gate=summaries.get("validate", {}).get("gate"),
    )


_STATUS_ID = {"ACCEPTED": "DITERIMA", "REJECTED": "DITOLAK", "UNREADABLE": "TIDAK TERBACA", "EMPTY": "KOSONG"}


def _write_feedback(
    ctx: RunContext,
    tables: dict[str, pd.DataFrame],
    quarantine: pd.DataFrame,
    files: list[dict[str, Any]],
    desa_dir: Path,
) -> int:
    """One feedback file per submitted file of the kabupaten, also for a file that could not be read (it
    says why); a desa that sent a .csv and a .xlsx gets two files with distinct names."""
    from pipelines.reports.feedback import feedback_file_names, feedback_rows, write_desa_feedback

    rows = feedback_rows(tables["row_outcome"], tables["context"], tables["discrepancy"], quarantine)
    groups = {source_file: group for source_file, group in rows.groupby("source_file", sort=True)}
    reports = {f["source_file"]: f for f in files}
    names = feedback_file_names(sorted({*reports, *groups}), ctx.quarter)
    for source_file, name in names.items():
        report = reports.get(source_file, {})
        write_desa_feedback(
            desa_dir / name,
            kode_desa=report.get("kode_desa") or Path(source_file).stem,
            quarter=ctx.quarter,
            run_id=ctx.run_id,
            rows=groups.get(source_file, rows.iloc[0:0]),
            source_file=source_file,
            file_status=report.get("status"),
            file_problems=[p["message"] for p in report.get("problems", [])],
        )
    return len(names)


def _stage_summaries(ctx: RunContext) -> dict[str, Any]:
    out = {}
    for stage in STAGES:
        path = ctx.root / stage / "summary.json"
        if path.exists():
            out[stage] = read_json(path)
    for path in sorted((ctx.root / "reports").glob("*/summary.json")):
        out[f"reports/{path.parent.name}"] = read_json(path)
    return out


PUBLISHED_FILES = (
    "row_outcome",
    "dtks_snapshot",
    "discrepancy",
    "quarantine",
    "link_candidate",
    "duplicate_edge",
    "validation_result",
)


@_timed("publish")
def publish(ctx: RunContext, started_at: str | None = None) -> dict[str, Any]:
    from pipelines.warehouse import connect
    from pipelines.warehouse.publish import Publication
    from pipelines.warehouse.publish import publish as publish_tables

    decide_dir = ctx.root / "decide"
    tables = {name: read_frame(decide_dir / f"{name}.parquet") for name in PUBLISHED_FILES}
    summaries = _stage_summaries(ctx)
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
    }
    engine = connect(ctx.warehouse_url)
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
        delivered.append(str(_write_run_summary(ctx)))
    except Exception as exc:
        from pipelines.privacy import mask_text

        log.error("The run's HTML summary was not written: %s", mask_text(f"{type(exc).__name__}: {exc}"))
    return delivered


def _kabupaten_reports(ctx: RunContext) -> dict[str, dict[str, Any]]:
    return {p.parent.name: read_json(p) for p in sorted((ctx.root / "reports").glob("*/summary.json"))}


def _run_summary_path(ctx: RunContext) -> Path:
    return Path(ctx.reports_dir) / ctx.quarter / f"ringkasan_{ctx.quarter}.html"


def _write_run_summary(ctx: RunContext) -> Path:
    from pipelines.reports.html_summary import render_run, write_html
    from pipelines.reports.summary import combine

    counts = [r["counts"] for r in _kabupaten_reports(ctx).values() if "counts" in r]
    return write_html(_run_summary_path(ctx), render_run(combine([*counts, *_unassigned_counts(ctx)]), _run_info(ctx)))


def _unassigned_counts(ctx: RunContext) -> list[dict[str, Any]]:
    """Counts of the files in no real kabupaten folder (rejected at ingest): they have no workbook, so the
    run's summary is where they are reported."""
    from pipelines import regions
    from pipelines.reports.summary import count_kabupaten

    files = [
        f
        for f in read_json(ctx.root / "ingest" / "files.json")
        if f["kind"] == "submission" and not regions.is_kabupaten(f["kode_kab"])
    ]
    if not files:
        return []
    names = {f["source_file"] for f in files}
    outcome = read_frame(ctx.root / "decide" / "row_outcome.parquet")
    discrepancy = read_frame(ctx.root / "decide" / "discrepancy.parquet")
    quarantine = read_frame(ctx.root / "decide" / "quarantine.parquet")
    return [
        count_kabupaten(
            "0000",
            row_outcome=outcome[outcome["source_file"].isin(names)],
            discrepancy=discrepancy[discrepancy["source_file"].isin(names)],
            quarantine=quarantine[quarantine["source_file"].isin(names)],
            files=files,
        )
    ]


@_timed("deliver")
def deliver(ctx: RunContext, send: Callable | None = None) -> dict[str, Any]:
    """E-mail each kabupaten's published reports to its recipients (`delivery` settings), only after this
    run published. The record of who got what (or the masked error) goes to `deliver/delivery.json`, which
    `finish` reports; a message that failed makes the stage raise (the task retries; what was sent is not
    sent again), and the publication stands either way. `send` replaces the Airflow SMTP connection."""
    from pipelines.reports.delivery import deliver_reports, not_published_record
    from pipelines.reports.summary import combine

    meta = {"run_id": ctx.run_id, "quarter": ctx.quarter, "code_version": ctx.code_version}
    out = ctx.stage_dir("deliver")
    if not (ctx.root / "published.json").exists():
        record = write_json(out / "delivery.json", not_published_record(meta))
        return {"status": read_json(record)["status"]}
    kabupaten = _kabupaten_reports(ctx)
    summary_html = _run_summary_path(ctx)
    total = combine([r["counts"] for r in kabupaten.values() if "counts" in r])
    record = deliver_reports(
        settings=pipeline_config(ctx).delivery,
        meta=meta,
        reports_dir=Path(ctx.reports_dir) / ctx.quarter,
        kabupaten={k: r for k, r in kabupaten.items() if "counts" in r},
        run_summary=(summary_html, total) if summary_html.exists() else None,
        work_dir=out,
        send=send,
    )
    return {"status": record["status"], "messages": {m["key"]: m["status"] for m in record["messages"]}}


def _delivery_result(ctx: RunContext, published: bool) -> dict[str, Any] | None:
    """What `finish` says about the e-mails: the delivery record, or that the deliver stage did not run."""
    path = ctx.root / "deliver" / "delivery.json"
    if path.exists():
        return read_json(path)
    return {"status": "NOT_RUN", "messages": []} if published else None


def finish(ctx: RunContext, *, started_at: str | None, failed_stage: str | None, error: str | None) -> dict[str, Any]:
    """Record the attempt (published or not) and write the result file `dtks run` reads."""
    from pipelines.privacy import mask_text
    from pipelines.warehouse import connect
    from pipelines.warehouse.publish import record_attempt

    published = (ctx.root / "published.json").exists()
    gate = ctx.root / "validate" / "gate.json"
    gate_rejected = gate.exists() and not read_json(gate)["passed"]
    status = "PUBLISHED" if published else ("GATE_REJECTED" if gate_rejected else "FAILED")
    summaries = _stage_summaries(ctx)
    attempt = {
        "run_id": ctx.run_id,
        "quarter": ctx.quarter,
        "status": status,
        "started_at": dt.datetime.fromisoformat(started_at) if started_at else None,
        "finished_at": dt.datetime.now(dt.UTC),
        "failed_stage": None if published else failed_stage,
        "message": mask_text(error)[:4000] if error and not published else None,
        "code_version": ctx.code_version,
    }
    try:
        engine = connect(ctx.warehouse_url)
        record_attempt(engine, attempt)
        engine.dispose()
    except Exception as exc:  # the warehouse may be the reason the run failed
        log.error("Could not record the run attempt in the warehouse: %s", mask_text(str(exc)))
    result = {
        **{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in attempt.items()},
        "work_dir": str(ctx.root),
        "warehouse": _redact_url(ctx.warehouse_url),
        "reports_dir": str(Path(ctx.reports_dir) / ctx.quarter),
        "summaries": summaries,
        "delivery": _delivery_result(ctx, published),
    }
    if result["delivery"] and result["delivery"]["status"] == "FAILED":
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
