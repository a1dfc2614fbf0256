"""The reports stage (one task per kabupaten): the Dinsos workbook, a feedback file per submitted file and
the HTML summaries, staged in the run directory until the quarter is published."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.stages.context import stage_summaries, staged
from pipelines.workspace import RunContext, read_frame, read_json

if TYPE_CHECKING:
    from pipelines.stages.io import StageIO

log = logging.getLogger(__name__)


def _submission_prefix(ctx: RunContext, kode_kab: str) -> str:
    return f"{ctx.quarter}/submissions/{kode_kab}/"


def _read_kabupaten(
    path: Path, prefix: str, columns: list[str] | None = None, also: Sequence[str] = ()
) -> pd.DataFrame:
    """The rows of `path` whose `source_file` starts with `prefix` or is one of `also` (the kabupaten's
    villages' files found elsewhere in the landing area, read and rejected), filtered while reading: a
    kabupaten's task then never turns the other kabupaten's rows into Python objects. (The cast: an empty
    or all-null column is stored with the null type, which `starts_with` does not take.)"""
    source = pc.field("source_file").cast(pa.string())
    in_kabupaten = pc.starts_with(source, prefix)
    if also:
        in_kabupaten = in_kabupaten | source.isin(list(also))
    return read_frame(path, columns=columns, filters=in_kabupaten)


def _kabupaten_tables(io: StageIO, kode_kab: str, also: Sequence[str]) -> dict[str, pd.DataFrame]:
    prefix = _submission_prefix(io.ctx, kode_kab)
    return {
        "row_outcome": _read_kabupaten(io.input_path("decide.row_outcome"), prefix, also=also),
        "discrepancy": _read_kabupaten(io.input_path("decide.discrepancy"), prefix, also=also),
        "context": _read_kabupaten(
            io.input_path("validate.rows"),
            prefix,
            columns=["source_file", "source_row", "nama", "no_kk", "tanggal_lahir", "nik"],
            also=also,
        ),
        # the rows as sent, for the village files' ready-to-resubmit sheets
        "submitted": _read_kabupaten(io.input_path("ingest.submissions"), prefix, also=also),
    }


def _misplaced_files(ctx: RunContext, files: list[dict[str, Any]], kode_kab: str) -> list[str]:
    """The kabupaten's files outside its folder: misplaced village files whose name names its villages."""
    prefix = _submission_prefix(ctx, kode_kab)
    return sorted(f["source_file"] for f in files if not f["source_file"].startswith(prefix))


@staged("reports")
def reports(io: StageIO, kode_kab: str) -> dict[str, Any]:
    """The Dinsos workbook of one kabupaten, the feedback file of each file its villages sent and the
    kabupaten's HTML summary (staged in the run directory; `publish` moves them into the reports directory
    once the quarter is published). Timed like the other stages, but its summary goes to
    `reports/<kode_kab>/summary.json`: the kabupaten run as parallel tasks."""
    from pipelines.reports import write_kabupaten_workbook
    from pipelines.reports.html_summary import render_kabupaten, write_html
    from pipelines.reports.summary import count_kabupaten

    ctx = io.ctx
    files = [r for r in io.read_records("ingest.files") if r["kind"] == "submission" and r["kode_kab"] == kode_kab]
    misplaced = _misplaced_files(ctx, files, kode_kab)
    tables = _kabupaten_tables(io, kode_kab, misplaced)
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
        ]
        + _landing_problems(io, kode_kab),
        columns=["source_file", "kode_desa", "status", "message"],
    )
    staged = io.output_path("reports.staged")
    shutil.rmtree(staged, ignore_errors=True)  # a retried task must not leave an earlier attempt's files
    staged.mkdir(parents=True)
    snapshot = _persons_of(io, tables["row_outcome"])
    changes = _household_changes(ctx, kode_kab, snapshot, tables)
    workbook = write_kabupaten_workbook(
        staged / f"laporan_dtks_{kode_kab}_{ctx.quarter}.xlsx",
        kode_kab=kode_kab,
        quarter=ctx.quarter,
        run_id=ctx.run_id,
        discrepancy=tables["discrepancy"],
        row_outcome=tables["row_outcome"],
        file_problems=file_problems,
        context=tables["context"],
        snapshot=snapshot,
        changes=changes,
    )
    quarantine = _read_kabupaten(io.input_path("decide.quarantine"), _submission_prefix(ctx, kode_kab), also=misplaced)
    feedback = _write_feedback(ctx, tables, quarantine, files, staged / "desa", changes=changes)
    counts = count_kabupaten(
        kode_kab,
        row_outcome=tables["row_outcome"],
        discrepancy=tables["discrepancy"],
        quarantine=quarantine,
        files=files,
    )
    html = write_html(
        staged / f"ringkasan_{kode_kab}_{ctx.quarter}.html", render_kabupaten(counts, run_info(io, kode_kab))
    )
    return {
        "kode_kab": kode_kab,
        "workbook": str(workbook),
        "desa_feedback_files": feedback,
        "files": {"workbook": workbook.name, "summary_html": html.name, "desa_dir": "desa"},
        "counts": counts,
    }


def _persons_of(io: StageIO, row_outcome: pd.DataFrame) -> pd.DataFrame:
    """The published persons of the kabupaten's rows (a merged row's person may be published elsewhere):
    their DTKS status, the row kept for them, their corrected identity."""
    keys = [k for k in pd.unique(row_outcome.get("person_key", pd.Series(dtype=object))) if isinstance(k, str)]
    return io.read_frame("decide.dtks_snapshot", filters=pc.field("person_key").cast(pa.string()).isin(keys))


def _household_changes(ctx: RunContext, kode_kab: str, snapshot: pd.DataFrame, tables: dict[str, pd.DataFrame]):
    """Households in, out or changed since the quarter the warehouse published last before this one."""
    from pipelines.reports.changes import household_changes, previous_snapshot
    from pipelines.stages.context import warehouse_url
    from pipelines.warehouse import connect

    engine = connect(warehouse_url(ctx))
    try:
        previous_quarter, previous = previous_snapshot(engine, ctx.quarter, kode_kab)
    finally:
        engine.dispose()
    current = snapshot[snapshot["kode_desa"].astype("string").str.startswith(kode_kab).fillna(False)]
    submitted = tables["row_outcome"][["source_file", "source_row", "outcome"]].merge(
        tables["context"][["source_file", "source_row", "no_kk"]], on=["source_file", "source_row"], how="left"
    )
    return household_changes(previous_quarter, previous, current, submitted)


def run_info(io: StageIO, kode_kab: str | None = None):
    """What the HTML summary says about the run: ids, start, time per finished stage, Dukcapil rows (of one
    kabupaten, or of the run) and the quality gate."""
    from pipelines.reports.html_summary import RunInfo

    ctx = io.ctx
    summaries = stage_summaries(ctx)
    if kode_kab is not None:  # the kabupaten's own times and gate; the quarter's stages as they are
        summaries = {
            k: v["per_kabupaten"].get(kode_kab, {}) if "per_kabupaten" in v else v for k, v in summaries.items()
        }
    run = read_json(ctx.root / "run.json") if (ctx.root / "run.json").exists() else {}  # start's record
    files = io.read_records("ingest.files")
    dukcapil = [f for f in files if f["kind"] == "dukcapil" and kode_kab in (None, f["kode_kab"])]
    excluded = io.read_frame("validate.persons_excluded", columns=["source_file"])
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
        landing=landing_account(io, kode_kab),
        held_back=_held_back(io) if kode_kab is None else {},
    )


def _held_back(io: StageIO) -> dict[str, list[str]]:
    from pipelines.stages.inputs import failed_gates

    return failed_gates(io.read_json_each("validate.gate"), io.read_json_each("decide.gate"))


def landing_account(io: StageIO, kode_kab: str | None = None) -> dict[str, Any] | None:
    """discover's account of the landing area (`discover/landing.json`): whole, or with only the listed
    entries that belong to one kabupaten/kota (its folder's, or files whose name names one of its villages)."""
    if not io.input_path("discover.landing").exists():
        return None
    landing = io.read_json("discover.landing")
    if kode_kab is not None:
        landing["listed"] = [e for e in landing.get("listed", []) if e.get("kode_kab") == kode_kab]
    return landing


def _landing_problems(io: StageIO, kode_kab: str) -> list[dict[str, Any]]:
    """Rows for the workbook's "Berkas Bermasalah": the kabupaten's landing entries that were not read (a
    symlink, a lock file, a folder too deep, ...). Those read have a file report of their own, and a folder
    whose entries were examined has each of them listed."""
    from pipelines.discover import READ_NOTED, READ_REJECTED, WALKED

    landing = landing_account(io, kode_kab) or {}
    return [
        {"source_file": e["path"], "kode_desa": None, "status": "TIDAK DIBACA", "message": e["reason"]}
        for e in landing.get("listed", [])
        if e["action"] not in (READ_REJECTED, READ_NOTED, WALKED)
    ]


_STATUS_ID = {"ACCEPTED": "DITERIMA", "REJECTED": "DITOLAK", "UNREADABLE": "TIDAK TERBACA", "EMPTY": "KOSONG"}


def _write_feedback(
    ctx: RunContext,
    tables: dict[str, pd.DataFrame],
    quarantine: pd.DataFrame,
    files: list[dict[str, Any]],
    desa_dir: Path,
    changes: Any = None,
) -> int:
    """One feedback file per submitted file of the kabupaten, also for a file that could not be read (it
    says why); a desa that sent a .csv and a .xlsx gets two files with distinct names."""
    from pipelines.reports.feedback import feedback_file_names, feedback_rows, write_desa_feedback

    rows = feedback_rows(tables["row_outcome"], tables["context"], tables["discrepancy"], quarantine)
    groups = {source_file: group for source_file, group in rows.groupby("source_file", sort=True)}
    sent = tables.get("submitted")
    sent_groups = {f: group for f, group in sent.groupby("source_file", sort=False)} if sent is not None else {}
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
            submitted=sent_groups.get(source_file),
            changes=changes,
        )
    return len(names)


def kabupaten_reports(ctx: RunContext) -> dict[str, dict[str, Any]]:
    return stage_summaries(ctx).get("reports", {}).get("per_kabupaten", {})


def run_summary_path(ctx: RunContext, quarter_dir: Path | None = None) -> Path:
    """The run's HTML summary in `quarter_dir` (default: the reports directory's `<quarter>`)."""
    return (quarter_dir or Path(ctx.reports_dir) / ctx.quarter) / f"ringkasan_{ctx.quarter}.html"


def write_run_summary(io: StageIO, quarter_dir: Path | None = None) -> Path:
    from pipelines.reports.html_summary import render_run, write_html
    from pipelines.reports.summary import combine

    counts = [r["counts"] for r in kabupaten_reports(io.ctx).values() if "counts" in r]
    return write_html(
        run_summary_path(io.ctx, quarter_dir), render_run(combine([*counts, *_unassigned_counts(io)]), run_info(io))
    )


def _unassigned_counts(io: StageIO) -> list[dict[str, Any]]:
    """Counts of the files in no real kabupaten folder (rejected at ingest): they have no workbook, so the
    run's summary is where they are reported."""
    from pipelines import regions
    from pipelines.reports.summary import count_kabupaten

    files = [
        f
        for f in io.read_records("ingest.files")
        if f["kind"] == "submission" and not regions.is_kabupaten(f["kode_kab"])
    ]
    if not files:
        return []
    names = {f["source_file"] for f in files}
    outcome = io.read_frame("decide.row_outcome")
    discrepancy = io.read_frame("decide.discrepancy")
    quarantine = io.read_frame("decide.quarantine")
    return [
        count_kabupaten(
            "0000",
            row_outcome=outcome[outcome["source_file"].isin(names)],
            discrepancy=discrepancy[discrepancy["source_file"].isin(names)],
            quarantine=quarantine[quarantine["source_file"].isin(names)],
            files=files,
        )
    ]
