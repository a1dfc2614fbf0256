"""The reports stage (one task per kabupaten): the Dinsos workbook, a feedback file per submitted file and
the HTML summaries, staged in the run directory until the quarter is published."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.stages.context import stage_summaries
from pipelines.workspace import RunContext, read_frame, read_json, write_json

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


def _kabupaten_tables(ctx: RunContext, kode_kab: str, also: Sequence[str]) -> dict[str, pd.DataFrame]:
    decide_dir = ctx.root / "decide"
    prefix = _submission_prefix(ctx, kode_kab)
    return {
        "row_outcome": _read_kabupaten(decide_dir / "row_outcome.parquet", prefix, also=also),
        "discrepancy": _read_kabupaten(decide_dir / "discrepancy.parquet", prefix, also=also),
        "context": _read_kabupaten(
            ctx.root / "validate" / "rows.parquet",
            prefix,
            columns=["source_file", "source_row", "nama", "no_kk", "tanggal_lahir", "nik"],
            also=also,
        ),
        # the rows as sent, for the village files' ready-to-resubmit sheets
        "submitted": _read_kabupaten(ctx.root / "ingest" / "submissions.parquet", prefix, also=also),
    }


def _misplaced_files(ctx: RunContext, files: list[dict[str, Any]], kode_kab: str) -> list[str]:
    """The kabupaten's files outside its folder: misplaced village files whose name names its villages."""
    prefix = _submission_prefix(ctx, kode_kab)
    return sorted(f["source_file"] for f in files if not f["source_file"].startswith(prefix))


def reports(ctx: RunContext, kode_kab: str) -> dict[str, Any]:
    """The Dinsos workbook of one kabupaten, the feedback file of each file its villages sent and the
    kabupaten's HTML summary (staged in the run directory; `publish` moves them into the reports directory
    once the quarter is published). Timed like the other stages, but its summary goes to
    `reports/<kode_kab>/summary.json`: the kabupaten run as parallel tasks."""
    from pipelines.reports import write_kabupaten_workbook
    from pipelines.reports.html_summary import render_kabupaten, write_html
    from pipelines.reports.summary import count_kabupaten

    start = time.perf_counter()
    files = [
        r
        for r in read_json(ctx.root / "ingest" / "files.json")
        if r["kind"] == "submission" and r["kode_kab"] == kode_kab
    ]
    misplaced = _misplaced_files(ctx, files, kode_kab)
    tables = _kabupaten_tables(ctx, kode_kab, misplaced)
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
        + _landing_problems(ctx, kode_kab),
        columns=["source_file", "kode_desa", "status", "message"],
    )
    staged = ctx.stage_dir("reports") / kode_kab
    shutil.rmtree(staged, ignore_errors=True)  # a retried task must not leave an earlier attempt's files
    staged.mkdir(parents=True)
    snapshot = _persons_of(ctx, tables["row_outcome"])
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
    quarantine = _read_kabupaten(
        ctx.root / "decide" / "quarantine.parquet", _submission_prefix(ctx, kode_kab), also=misplaced
    )
    feedback = _write_feedback(ctx, tables, quarantine, files, staged / "desa", changes=changes)
    counts = count_kabupaten(
        kode_kab,
        row_outcome=tables["row_outcome"],
        discrepancy=tables["discrepancy"],
        quarantine=quarantine,
        files=files,
    )
    html = write_html(
        staged / f"ringkasan_{kode_kab}_{ctx.quarter}.html", render_kabupaten(counts, run_info(ctx, kode_kab))
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


def _persons_of(ctx: RunContext, row_outcome: pd.DataFrame) -> pd.DataFrame:
    """The published persons of the kabupaten's rows (a merged row's person may be published elsewhere):
    their DTKS status, the row kept for them, their corrected identity."""
    keys = [k for k in pd.unique(row_outcome.get("person_key", pd.Series(dtype=object))) if isinstance(k, str)]
    return read_frame(
        ctx.root / "decide" / "dtks_snapshot.parquet", filters=pc.field("person_key").cast(pa.string()).isin(keys)
    )


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


def run_info(ctx: RunContext, kode_kab: str | None = None):
    """What the HTML summary says about the run: ids, start, time per finished stage, Dukcapil rows (of one
    kabupaten, or of the run) and the quality gate."""
    from pipelines.reports.html_summary import RunInfo

    summaries = stage_summaries(ctx)
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
        landing=landing_account(ctx, kode_kab),
    )


def landing_account(ctx: RunContext, kode_kab: str | None = None) -> dict[str, Any] | None:
    """discover's account of the landing area (`discover/landing.json`): whole, or with only the listed
    entries that belong to one kabupaten/kota (its folder's, or files whose name names one of its villages)."""
    path = ctx.root / "discover" / "landing.json"
    if not path.exists():
        return None
    landing = read_json(path)
    if kode_kab is not None:
        landing["listed"] = [e for e in landing.get("listed", []) if e.get("kode_kab") == kode_kab]
    return landing


def _landing_problems(ctx: RunContext, kode_kab: str) -> list[dict[str, Any]]:
    """Rows for the workbook's "Berkas Bermasalah": the kabupaten's landing entries that were not read (a
    symlink, a lock file, a folder too deep, ...). Those read have a file report of their own, and a folder
    whose entries were examined has each of them listed."""
    from pipelines.discover import READ_NOTED, READ_REJECTED, WALKED

    landing = landing_account(ctx, kode_kab) or {}
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
    return {p.parent.name: read_json(p) for p in sorted((ctx.root / "reports").glob("*/summary.json"))}


def run_summary_path(ctx: RunContext, quarter_dir: Path | None = None) -> Path:
    """The run's HTML summary in `quarter_dir` (default: the reports directory's `<quarter>`)."""
    return (quarter_dir or Path(ctx.reports_dir) / ctx.quarter) / f"ringkasan_{ctx.quarter}.html"


def write_run_summary(ctx: RunContext, quarter_dir: Path | None = None) -> Path:
    from pipelines.reports.html_summary import render_run, write_html
    from pipelines.reports.summary import combine

    counts = [r["counts"] for r in kabupaten_reports(ctx).values() if "counts" in r]
    return write_html(
        run_summary_path(ctx, quarter_dir), render_run(combine([*counts, *_unassigned_counts(ctx)]), run_info(ctx))
    )


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
