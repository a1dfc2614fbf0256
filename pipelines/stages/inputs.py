"""The stages that read the quarter: discover its files, ingest them, validate them with the GX suites,
and the quality gate that stops a bad quarter before linkage."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.stages.context import pipeline_config, staged

if TYPE_CHECKING:
    from pipelines.discover import LandingSurvey
    from pipelines.ingest.intake import FileReport
    from pipelines.stages.io import StageIO

log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):
    """Too many rows quarantined: the quarter is not published (the previous publication stays)."""


@staged("discover")
def discover(io: StageIO) -> dict[str, Any]:
    from pipelines import regions
    from pipelines.discover import survey_quarter

    ctx = io.ctx
    io.input_path("landing.quarter")
    survey = survey_quarter(ctx.landing, ctx.quarter, pipeline_config(ctx).landing)
    files = survey.inputs
    io.write_json("discover.files", [f.to_dict() for f in files])
    io.write_json("discover.landing", survey.to_dict())
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


@staged("ingest")
def ingest(io: StageIO, *partition: str) -> dict[str, Any]:
    from pipelines.discover import InputFile
    from pipelines.ingest.intake import ingest_dukcapil, ingest_submissions

    files = [InputFile(**{**i, "problems": tuple(tuple(p) for p in i["problems"])}) for i in io.landing_files()]
    limits = pipeline_config(io.ctx).intake
    submissions, sub_reports = ingest_submissions([f for f in files if f.kind == "submission"], limits.submission)
    persons, duk_reports = ingest_dukcapil([f for f in files if f.kind == "dukcapil"], limits.dukcapil)
    io.write_frame("ingest.submissions", submissions)
    io.write_frame("ingest.dukcapil", persons)
    reports = [r.to_dict() for r in sub_reports + duk_reports]
    io.write_json("ingest.files", reports)
    statuses = pd.Series([r["status"] for r in reports]).value_counts().to_dict()
    return {"submission_rows": len(submissions), "dukcapil_rows": len(persons), "file_statuses": statuses}


def file_reports(io: StageIO) -> list[FileReport]:
    from pipelines.ingest.intake import FileReport

    return [FileReport(**r) for r in io.read_json("ingest.files")]


@staged("validate")
def validate(io: StageIO, *partition: str) -> dict[str, Any]:
    from pipelines.gate import quality_gate
    from pipelines.validate import validate_dukcapil, validate_submissions
    from pipelines.validate.suites import GxSession

    ctx = io.ctx
    config = pipeline_config(ctx)
    # Both suites run in one GX session named after the Airflow run, which renders the run's Data Docs
    # (counts only: no row ids, no values) into the run's work directory.
    docs_dir = io.output_path("validate.data_docs")
    shutil.rmtree(docs_dir, ignore_errors=True)  # a retried task must not show an earlier attempt's pages
    session = GxSession(ctx.run_id, docs_dir)
    # Read as Arrow-backed columns: validation works on Arrow arrays, so no Python string per value is made.
    raw = io.read_frame("ingest.submissions", dtype_backend="pyarrow")
    files = file_reports(io)
    today = dt.date.today()
    sub = validate_submissions(
        raw,
        files,
        run_name=ctx.run_id,
        today=today,
        results_path=io.output_path("validate.gx_submission"),
        session=session,
    )
    del raw
    io.write_frame("validate.rows", sub.rows)
    io.write_frame("validate.reasons", sub.reasons)
    io.write_frame("validate.warnings", sub.warnings)
    duk = validate_dukcapil(
        io.read_frame("ingest.dukcapil", dtype_backend="pyarrow"),
        run_name=ctx.run_id,
        results_path=io.output_path("validate.gx_dukcapil"),
        session=session,
    )
    io.write_frame("validate.persons", duk.persons)
    io.write_frame("validate.persons_excluded", duk.excluded)
    persons_per_kab = duk.persons["source_file"].str.rsplit("/", n=1).str[-1].str.removesuffix(".csv").value_counts()
    gate = quality_gate(sub.rows, files, config.quality_gate, persons_per_kab.to_dict())
    io.write_json("validate.gate", gate)
    data_docs = session.build_data_docs()
    return {"submissions": sub.summary, "dukcapil": duk.summary, "gate": gate, "data_docs": data_docs}


@staged("quality_gate")
def check_quality_gate(io: StageIO, *partition: str) -> dict[str, Any]:
    gate = io.read_json("validate.gate")
    if not gate["passed"]:
        raise QualityGateFailed(
            "Quality gate failed, the quarter is not published (the previous publication stays): "
            + " ".join(gate["problems"])
        )
    return gate
