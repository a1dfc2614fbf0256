"""Validate: canonicalise, run the Great Expectations suites, and split rows into those that go on to
linkage and those that are quarantined, each failure with its reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines import nik, regions
from pipelines.contract import NIK_TIDAK_VALID, SUBMISSION_COLUMNS
from pipelines.ingest import REJECTED, FileReport
from pipelines.validate.clean import clean_dukcapil, clean_submissions
from pipelines.validate.suites import ROW_ID, SuiteRun, run_suite

REASON_COLUMNS = [ROW_ID, "source_file", "source_row", "expectation", "category", "field", "action", "message"]


@dataclass
class SubmissionValidation:
    rows: pd.DataFrame  # row_id, source_file, source_row, file_kode_desa, canonical columns, quarantined
    reasons: pd.DataFrame  # REASON_COLUMNS: every failed check of every row (quarantine and finding)
    summary: dict[str, Any]


def _file_rejections(raw: pd.DataFrame, files: list[FileReport]) -> pd.DataFrame:
    """One reason per row of a rejected file, quoting the file's problem."""
    rejected = {f.source_file: f for f in files if f.status == REJECTED}
    hit = raw[raw["source_file"].isin(rejected)]
    if hit.empty:
        return pd.DataFrame(columns=REASON_COLUMNS)
    messages = {s: " ".join(p["message"] for p in f.problems) for s, f in rejected.items()}
    return pd.DataFrame(
        {
            ROW_ID: hit[ROW_ID].to_numpy(),
            "source_file": hit["source_file"].to_numpy(),
            "source_row": hit["source_row"].to_numpy(),
            "expectation": "file:rejected",
            "category": hit["source_file"].map({s: f.rejection_category for s, f in rejected.items()}).to_numpy(),
            "field": None,
            "action": "quarantine",
            "message": hit["source_file"].map(messages).to_numpy(),
        }
    )


def validate_submissions(
    raw: pd.DataFrame,
    files: list[FileReport],
    *,
    run_name: str,
    today: dt.date,
    results_path=None,
) -> SubmissionValidation:
    raw = raw.reset_index(drop=True)
    raw[ROW_ID] = range(len(raw))
    clean = clean_submissions(raw)
    frame = pd.concat([raw[[ROW_ID, "_row_problem"]], clean], axis=1)
    kabupaten = sorted({f.kode_kab for f in files if f.kind == "submission" and regions.is_kabupaten(f.kode_kab)})
    parameters = {
        "known_desa": sorted(code for kab in kabupaten for code in regions.desa_of_kabupaten(kab)),
        "min_birth_date": today.replace(year=today.year - 120).isoformat(),
        "max_birth_date": today.isoformat(),
    }
    run: SuiteRun = run_suite(
        frame, "dtks_submission", run_name=run_name, parameters=parameters, results_path=results_path
    )

    reasons = run.failures.merge(raw[[ROW_ID, "source_file", "source_row"]], on=ROW_ID, how="left")
    # The NIK message says which structural rule failed, not just "invalid".
    nik_rows = reasons["category"].eq(NIK_TIDAK_VALID) & reasons["expectation"].str.startswith(
        "expect_column_values_to_be_valid_nik"
    )
    if nik_rows.any():
        problems = nik.parse_nik(clean.loc[reasons.loc[nik_rows, ROW_ID], "nik"])["problem"]
        reasons.loc[nik_rows, "message"] = problems.map(nik.MESSAGES).to_numpy()
    reasons = pd.concat([reasons[REASON_COLUMNS], _file_rejections(raw, files)], ignore_index=True)
    reasons = reasons.sort_values([ROW_ID, "category", "field"], na_position="first", kind="stable").reset_index(
        drop=True
    )

    quarantined_ids = set(reasons.loc[reasons["action"] == "quarantine", ROW_ID])
    rows = pd.concat([raw[[ROW_ID, "source_file", "source_row", "file_kode_kab", "file_kode_desa"]], clean], axis=1)
    rows["quarantined"] = rows[ROW_ID].isin(quarantined_ids)
    summary = {
        "rows": len(rows),
        "quarantined": int(rows["quarantined"].sum()),
        "findings": int((reasons["action"] == "finding").sum()),
        "gx": run.summary,
    }
    return SubmissionValidation(rows, reasons, summary)


def raw_fields(raw: pd.DataFrame) -> pd.Series:
    """Each row's original fields as a dict (contract columns that were present, plus extra columns)."""
    import json

    present = [c for c in SUBMISSION_COLUMNS if c in raw.columns]
    records = raw[present].to_dict("records")
    extras = raw["_extra"].tolist() if "_extra" in raw.columns else [None] * len(raw)
    out = []
    for record, extra in zip(records, extras, strict=True):
        fields = {k: v for k, v in record.items() if v is not None}
        if extra:
            fields.update(json.loads(extra))
        out.append(fields)
    return pd.Series(out, index=raw.index, dtype=object)


@dataclass
class DukcapilValidation:
    persons: pd.DataFrame  # usable persons, canonical columns plus kode_desa
    excluded: pd.DataFrame  # rows set aside: source_file, source_row, reasons
    summary: dict[str, Any]


def validate_dukcapil(raw: pd.DataFrame, *, run_name: str, results_path=None) -> DukcapilValidation:
    clean = clean_dukcapil(raw.reset_index(drop=True))
    clean[ROW_ID] = range(len(clean))
    run = run_suite(clean, "dukcapil_extract", run_name=run_name, results_path=results_path)
    failures = run.failures
    excluded_ids = failures.loc[failures["action"] == "exclude", ROW_ID].unique()
    excluded_reasons = (
        failures[failures[ROW_ID].isin(excluded_ids)]
        .groupby(ROW_ID)["message"]
        .agg(lambda m: " ".join(dict.fromkeys(m)))
    )
    excluded = clean.loc[excluded_reasons.index, ["source_file", "source_row"]].assign(
        reasons=excluded_reasons.to_numpy()
    )
    persons = clean[~clean[ROW_ID].isin(excluded_ids)].drop(columns=[ROW_ID]).reset_index(drop=True)
    warnings = failures[failures["action"] == "warning"].groupby("expectation").size().to_dict()
    summary = {"rows": len(clean), "excluded": len(excluded), "warnings": warnings, "gx": run.summary}
    return DukcapilValidation(persons, excluded.reset_index(drop=True), summary)


def quality_gate(rows: pd.DataFrame, files: list[FileReport], gate) -> dict[str, Any]:
    """Shares of quarantined rows per file and for the quarter, against the configured limits."""
    per_file = rows.groupby("source_file")["quarantined"].agg(["size", "sum"])
    per_file["share"] = per_file["sum"] / per_file["size"]
    # A rejected file is already reported as a whole; the per-file rule looks for damage inside accepted
    # files (a whole column typed wrongly), which a clean-looking header hides.
    accepted = {f.source_file for f in files if f.status == "ACCEPTED"}
    judged = per_file[(per_file["size"] >= gate.min_rows_for_file_share) & per_file.index.isin(accepted)]
    bad_files = judged[judged["share"] > gate.max_file_quarantine_share]
    quarter_share = float(rows["quarantined"].mean()) if len(rows) else 0.0
    unreadable = [f.source_file for f in files if f.kind == "submission" and f.status not in ("ACCEPTED", "EMPTY")]
    problems = []
    if len(bad_files):
        problems.append(
            f"{len(bad_files)} file(s) have more than {gate.max_file_quarantine_share:.0%} of their rows quarantined: "
            + ", ".join(f"{s} ({r.share:.0%})" for s, r in bad_files.head(10).iterrows())
        )
    if quarter_share > gate.max_quarter_quarantine_share:
        problems.append(
            f"{quarter_share:.1%} of the quarter's rows are quarantined "
            f"(limit {gate.max_quarter_quarantine_share:.0%})."
        )
    return {
        "passed": not problems,
        "problems": problems,
        "quarter_quarantine_share": round(quarter_share, 6),
        "files_over_limit": bad_files.index.tolist(),
        "files_not_accepted": unreadable,
    }
