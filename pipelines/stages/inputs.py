"""The stages that read the quarter: discover its files, ingest them, validate them with the GX suites,
and the quality gate that stops a bad quarter before linkage."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.stages.context import pipeline_config, timed
from pipelines.workspace import RunContext, read_json, write_frame, write_json

if TYPE_CHECKING:
    from pipelines.discover import LandingSurvey

log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):
    """Too many rows quarantined: the quarter is not published (the previous publication stays)."""


@timed("discover")
def discover(ctx: RunContext) -> dict[str, Any]:
    from pipelines import regions
    from pipelines.discover import survey_quarter

    survey = survey_quarter(ctx.landing, ctx.quarter, pipeline_config(ctx).landing)
    files = survey.inputs
    out = ctx.stage_dir("discover")
    write_json(out / "files.json", [f.to_dict() for f in files])
    write_json(out / "landing.json", survey.to_dict())
    _log_landing(survey)
    folders = {f.kode_kab for f in files if f.kind == "submission"}
    # One Dinsos workbook per real kabupaten/kota; files in a folder that is none are rejected at
    # ingest and reported in the run's summary and record, with no workbook of their own.
    kabupaten = sorted(k for k in folders if regions.is_kabupaten(k))
    return {
        "submission_files": sum(f.kind == "submission" for f in files),
        "dukcapil_files": sum(f.kind == "dukcapil" for f in files),
        "kabupaten": kabupaten,
        "other_folders": sorted(folders - set(kabupaten)),
        "landing": {
            "entries_examined": survey.entries_examined,
            "unexpected": survey.unexpected,
            "by_action": survey.by_action,
            "not_examined": survey.not_examined,
        },
    }


def _log_landing(survey: LandingSurvey, most: int = 20) -> None:
    """A line per unexpected entry (the first `most`; the rest are in discover/landing.json). Paths are
    escaped and masked by the survey, so a file name cannot forge a log line or colour a terminal."""
    if not survey.unexpected and not survey.walk_stopped:
        return
    log.warning(
        "Landing area %s: %d entries examined, %d not expected inputs (%s)%s",
        survey.quarter,
        survey.entries_examined,
        survey.unexpected,
        ", ".join(f"{k}: {n}" for k, n in sorted(survey.by_action.items())),
        f"; {survey.not_examined} more only counted (entry limit)" if survey.walk_stopped else "",
    )
    for entry in survey.listed[:most]:
        log.warning("Landing entry %s (%s, %s): %s", entry.path, entry.kind, entry.action, entry.reason)
    if survey.unexpected > most:
        log.warning("... and %d more unexpected entries: see discover/landing.json", survey.unexpected - most)


def _input_files(ctx: RunContext):
    from pipelines.discover import InputFile

    items = read_json(ctx.root / "discover" / "files.json")
    return [InputFile(**{**i, "problems": tuple(tuple(p) for p in i["problems"])}) for i in items]


@timed("ingest")
def ingest(ctx: RunContext) -> dict[str, Any]:
    from pipelines.ingest.intake import ingest_dukcapil, ingest_submissions

    files = _input_files(ctx)
    limits = pipeline_config(ctx).intake
    out = ctx.stage_dir("ingest")
    submissions, sub_reports = ingest_submissions([f for f in files if f.kind == "submission"], limits.submission)
    persons, duk_reports = ingest_dukcapil([f for f in files if f.kind == "dukcapil"], limits.dukcapil)
    write_frame(out / "submissions.parquet", submissions)
    write_frame(out / "dukcapil.parquet", persons)
    reports = [r.to_dict() for r in sub_reports + duk_reports]
    write_json(out / "files.json", reports)
    statuses = pd.Series([r["status"] for r in reports]).value_counts().to_dict()
    return {"submission_rows": len(submissions), "dukcapil_rows": len(persons), "file_statuses": statuses}


def file_reports(ctx: RunContext):
    from pipelines.ingest.intake import FileReport

    return [FileReport(**r) for r in read_json(ctx.root / "ingest" / "files.json")]


@timed("validate")
def validate(ctx: RunContext) -> dict[str, Any]:
    from pipelines.gate import quality_gate
    from pipelines.validate import validate_dukcapil, validate_submissions
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
    files = file_reports(ctx)
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
