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


class KabupatenHeldBack(QualityGateFailed):
    """Gate policy `publish_others`: this kabupaten/kota failed its gate and is held back from the
    publication; the others go on (its remaining stages are skipped)."""


def failed_gates(*gates_by_kab: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The kabupaten/kota whose quality gate failed (before linkage or after it), with the problems."""
    held: dict[str, list[str]] = {}
    for gates in gates_by_kab:
        for kab, gate in gates.items():
            if not gate["passed"]:
                held.setdefault(kab, gate["problems"])
    return dict(sorted(held.items()))


def gate_failure(policy: str, kode_kab: str, gate: dict[str, Any]) -> QualityGateFailed:
    """What a failed gate of one kabupaten/kota raises under the run's gate policy."""
    problems = " ".join(gate["problems"])
    if policy == "publish_others":
        return KabupatenHeldBack(
            f"Quality gate failed for kabupaten/kota {kode_kab}: held back, the others publish. {problems}"
        )
    return QualityGateFailed(
        f"Quality gate failed for kabupaten/kota {kode_kab}, the quarter is not published (the previous "
        f"publication stays): {problems}"
    )


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
        # The work is partitioned by kode_kab: every kabupaten/kota with an input (its villages' files, or
        # only its Dukcapil extract), and each other folder's rejected files on their own.
        "partitions": sorted({f.kode_kab for f in files if f.kode_kab}),
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
def ingest(io: StageIO, kode_kab: str) -> dict[str, Any]:
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
def validate(io: StageIO, kode_kab: str) -> dict[str, Any]:
    from pipelines.gate import quality_gate
    from pipelines.validate import validate_dukcapil, validate_submissions
    from pipelines.validate.suites import GxSession

    ctx = io.ctx
    config = pipeline_config(ctx)
    gate_limits = _gate_limits(config.quality_gate, kode_kab)
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
    gate = quality_gate(sub.rows, files, gate_limits, persons_per_kab.to_dict())
    io.write_json("validate.gate", gate)
    data_docs = session.build_data_docs()
    return {"submissions": sub.summary, "dukcapil": duk.summary, "gate": gate, "data_docs": data_docs}


def _gate_limits(limits, kode_kab: str | None):
    """The gate's limits for one partition. A folder that is no kabupaten/kota holds only files rejected at
    ingest (reported in the run's summary): their share of rejected files is not a reason to stop."""
    from pipelines import regions

    if kode_kab is None or regions.is_kabupaten(kode_kab):
        return limits
    return limits.model_copy(update={"max_rejected_file_share": 1.0})


@staged("quality_gate")
def check_quality_gate(io: StageIO, kode_kab: str) -> dict[str, Any]:
    gate = io.read_json("validate.gate")
    if not gate["passed"]:
        raise gate_failure(pipeline_config(io.ctx).quality_gate.policy, kode_kab, gate)
    return gate
