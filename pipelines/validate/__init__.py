"""Validate: canonicalise, run the Great Expectations suites, and split rows into those that go on to
linkage and those that are quarantined, each failure with its reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines import nik
from pipelines.clean import (
    canonical_dukcapil,
    canonical_submissions,
    categorical_series,
    dukcapil_frame,
    formula_fields,
    to_objects,
)
from pipelines.contract import BIODATA_TIDAK_SESUAI_NIK
from pipelines.ingest.intake import ACCEPTED, EMPTY, REJECTED, FileReport
from pipelines.validate.expectations import biodata_disagreement
from pipelines.validate.suites import ROW_ID, GxSession, SuiteRun, run_suite

REASON_COLUMNS = [ROW_ID, "source_file", "source_row", "expectation", "category", "field", "action", "message"]
# The columns the submission suite looks at (the others are only checked for formula-looking values,
# which `formula_fields` gathers in `_formula`): a narrow batch keeps GX's per-metric copies cheap.
SUBMISSION_CHECKED = (
    "kode_desa",
    "file_kode_kab",
    "file_kode_desa",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan_keluarga",
    "status_usulan",
    "alasan_nonaktif",
    "program",
    "_row_problem",
    "_formula",
)
DUKCAPIL_CHECKED = ("NIK", "NO_KK", "NAMA_LGKP", "JENIS_KLMIN", "TGL_LHR", "TGL_MATI", "kode_desa")
SEX_WORDS = {"L": "laki-laki", "P": "perempuan"}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Arrow-backed columns (the stage may read its parquet that way) as numpy/object ones."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.ArrowDtype | pd.StringDtype):
            kind = getattr(values.dtype, "pyarrow_dtype", None)
            numeric = kind is not None and (pa.types.is_integer(kind) or pa.types.is_floating(kind))
            values = values.to_numpy() if numeric else values.astype(object).where(values.notna(), None)
        out[column] = values
    return out


@dataclass
class SubmissionValidation:
    rows: pd.DataFrame  # row_id, source_file, source_row, file_kode_desa, canonical columns, quarantined
    reasons: pd.DataFrame  # REASON_COLUMNS: every failed check of every row (quarantine and finding)
    summary: dict[str, Any]
    # REASON_COLUMNS of the `warning` checks (a kecamatan code gone after a pemekaran, a KK's structure):
    # counted in the run record, never a finding or a quarantine.
    warnings: pd.DataFrame | None = None


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


def _nik_messages(reasons: pd.DataFrame, clean: pd.DataFrame) -> None:
    """The NIK structure message says which rule failed, not just "invalid"."""
    hit = reasons["expectation"].eq("expect_column_values_to_be_valid_nik:nik").to_numpy()
    if hit.any():
        problems = nik.parse_nik(clean.loc[reasons.loc[hit, ROW_ID], "nik"])["problem"]
        reasons.loc[hit, "message"] = problems.map(nik.MESSAGES).to_numpy()


def _formula_messages(reasons: pd.DataFrame, clean: pd.DataFrame) -> None:
    """The formula check runs on one gathered column; the reason names the fields it found."""
    hit = reasons["expectation"].eq("expect_column_values_to_be_null:_formula").to_numpy()
    if hit.any():
        fields = clean.loc[reasons.loc[hit, ROW_ID], "_formula"].astype(str).to_numpy()
        reasons.loc[hit, "field"] = fields
        reasons.loc[hit, "message"] = [
            f"Isian kolom {f.replace(';', ', ')} diawali tanda =, +, - atau @, atau berisi pesan kesalahan Excel "
            "(mis. #NAME?): terbaca sebagai rumus. Tulis isian sebagai teks biasa."
            for f in fields
        ]


def _two_digits(values: pd.Series) -> pd.Series:
    return values.astype("Int64").astype(str).str.zfill(2)


def _biodata_messages(reasons: pd.DataFrame, clean: pd.DataFrame) -> None:
    """What the NIK encodes against what the row says, field by field (the century is not encoded)."""
    hit = reasons["category"].eq(BIODATA_TIDAK_SESUAI_NIK).to_numpy()
    if not hit.any():
        return
    rows = clean.loc[reasons.loc[hit, ROW_ID]].reset_index(drop=True)
    d = biodata_disagreement(rows["nik"], rows["tanggal_lahir"], rows["jenis_kelamin"])
    encoded = _two_digits(d["day"]) + "-" + _two_digits(d["month"]) + "-.." + _two_digits(d["yy"])
    birth = pd.Series(
        np.where(
            d["tanggal_lahir"],
            "tanggal_lahir (NIK: " + encoded + "; usulan: " + rows["tanggal_lahir"].fillna("").astype(str) + ")",
            "",
        )
    )
    sex = pd.Series(
        np.where(
            d["jenis_kelamin"],
            "jenis_kelamin (NIK: "
            + d["sex"].map(SEX_WORDS).fillna("").astype(str)
            + "; usulan: "
            + rows["jenis_kelamin"].map(SEX_WORDS).fillna("").astype(str)
            + ")",
            "",
        )
    )
    both = d["tanggal_lahir"].to_numpy() & d["jenis_kelamin"].to_numpy()
    details = birth + np.where(both, "; ", "") + sex
    reasons.loc[hit, "field"] = np.select(
        [both, d["tanggal_lahir"].to_numpy()], ["tanggal_lahir;jenis_kelamin", "tanggal_lahir"], "jenis_kelamin"
    )
    reasons.loc[hit, "message"] = ("Biodata tidak sesuai dengan yang tersandi di NIK: " + details + ".").to_numpy()


def validate_submissions(
    raw: pd.DataFrame,
    files: list[FileReport],
    *,
    run_name: str,
    today: dt.date,
    results_path: Path | None = None,
    session: GxSession | None = None,
) -> SubmissionValidation:
    raw = raw.reset_index(drop=True)
    meta = _plain(raw[["source_file", "source_row", "file_kode_kab", "file_kode_desa", "_row_problem"]])
    meta.insert(0, ROW_ID, np.arange(len(raw)))
    repairs: dict[str, int] = {}
    found: dict[str, np.ndarray] = {}
    canonical = canonical_submissions(raw, repairs, found)
    formulas = formula_fields(found, len(raw))
    # GX checks a categorical copy (filtered and copied per metric at the cost of an integer per row); the
    # stages after this one get plain object columns.
    index = pd.Index(meta[ROW_ID].to_numpy(), name=ROW_ID)
    checked = pd.DataFrame(
        {
            c: categorical_series(canonical[c], index)
            if c in canonical
            else pd.Series(meta[c].to_numpy(), index=index, dtype="category")
            for c in SUBMISSION_CHECKED
            if c != "_formula"
        }
    )
    checked["_formula"] = pd.Series(formulas, index=index, dtype="category")
    clean = pd.DataFrame({c: to_objects(a) for c, a in canonical.items()}, index=raw.index)
    clean["_formula"] = formulas
    parameters = {
        "min_birth_date": today.replace(year=today.year - 120).isoformat(),
        "max_birth_date": today.isoformat(),
    }
    run: SuiteRun = run_suite(
        checked,
        "dtks_submission",
        run_name=run_name,
        parameters=parameters,
        results_path=results_path,
        session=session,
    )
    failures = run.failures
    warning = failures["action"].eq("warning")
    warnings = failures[warning].groupby("expectation").size().astype(int).to_dict()
    warning_rows = failures[warning].merge(meta[[ROW_ID, "source_file", "source_row"]], on=ROW_ID, how="left")

    reasons = failures[~warning].merge(meta[[ROW_ID, "source_file", "source_row"]], on=ROW_ID, how="left")
    _nik_messages(reasons, clean)
    _formula_messages(reasons, clean)
    reasons = pd.concat([reasons[REASON_COLUMNS], _file_rejections(meta, files)], ignore_index=True)
    quarantined_ids = set(reasons.loc[reasons["action"] == "quarantine", ROW_ID])
    # The NIK/biodata comparison is a finding on rows that go on to linkage only (docs/findings.md).
    reasons = reasons[~(reasons["category"].eq(BIODATA_TIDAK_SESUAI_NIK) & reasons[ROW_ID].isin(quarantined_ids))]
    reasons = reasons.reset_index(drop=True)
    _biodata_messages(reasons, clean)
    reasons = reasons.sort_values([ROW_ID, "category", "field"], na_position="first", kind="stable").reset_index(
        drop=True
    )

    rows = pd.concat(
        [
            meta[[ROW_ID, "source_file", "source_row", "file_kode_kab", "file_kode_desa"]],
            clean.drop(columns="_formula"),
        ],
        axis=1,
    )
    rows["quarantined"] = rows[ROW_ID].isin(quarantined_ids)
    summary = {
        "rows": len(rows),
        "quarantined": int(rows["quarantined"].sum()),
        "findings": int((reasons["action"] == "finding").sum()),
        "warnings": warnings,
        "repairs": dict(sorted(repairs.items())),
        "gx": run.summary,
    }
    return SubmissionValidation(rows, reasons, summary, warning_rows[REASON_COLUMNS].reset_index(drop=True))


@dataclass
class DukcapilValidation:
    persons: pd.DataFrame  # usable persons, canonical columns plus kode_desa
    excluded: pd.DataFrame  # rows set aside: source_file, source_row, reasons
    summary: dict[str, Any]


def validate_dukcapil(
    raw: pd.DataFrame, *, run_name: str, results_path: Path | None = None, session: GxSession | None = None
) -> DukcapilValidation:
    raw = raw.reset_index(drop=True)
    canonical = canonical_dukcapil(raw)
    index = pd.Index(np.arange(len(raw)), name=ROW_ID)
    checked = pd.DataFrame({c: categorical_series(canonical[c], index) for c in DUKCAPIL_CHECKED})
    run = run_suite(checked, "dukcapil_extract", run_name=run_name, results_path=results_path, session=session)
    del checked
    clean = dukcapil_frame(canonical, _plain(raw[["source_file", "source_row"]]))
    clean[ROW_ID] = np.arange(len(clean))
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
    warnings = failures[failures["action"] == "warning"].groupby("expectation").size().astype(int).to_dict()
    summary = {"rows": len(clean), "excluded": len(excluded), "warnings": warnings, "gx": run.summary}
    return DukcapilValidation(persons, excluded.reset_index(drop=True), summary)


def quality_gate(
    rows: pd.DataFrame, files: list[FileReport], gate, dukcapil_persons: dict[str, int] | None = None
) -> dict[str, Any]:
    """Shares of quarantined rows per file and for the quarter, against the configured limits.

    A rejected or unreadable file is reported as a whole (run record, "Berkas Bermasalah") and counts
    neither against its own share nor the quarter's: the other villages' files still go through. Its
    weight is judged on its own: more than `max_rejected_file_share` of the quarter's files unusable
    stops the quarter too (a template change, a broken export).
    """
    submissions = [f for f in files if f.kind == "submission"]
    accepted = {f.source_file for f in submissions if f.status == ACCEPTED}
    unusable = sorted(f.source_file for f in submissions if f.status not in (ACCEPTED, EMPTY))
    judged_rows = rows[rows["source_file"].isin(accepted)]
    per_file = judged_rows.groupby("source_file")["quarantined"].agg(["size", "sum"])
    per_file["share"] = per_file["sum"] / per_file["size"]
    judged = per_file[per_file["size"] >= gate.min_rows_for_file_share]
    bad_files = judged[judged["share"] > gate.max_file_quarantine_share].sort_values("share", ascending=False)
    quarter_share = float(judged_rows["quarantined"].mean()) if len(judged_rows) else 0.0
    unusable_share = len(unusable) / len(submissions) if submissions else 0.0

    problems = []
    if len(bad_files):
        listed = ", ".join(f"{s} ({r.share:.1%} of {int(r['size'])} rows)" for s, r in bad_files.head(50).iterrows())
        more = f" and {len(bad_files) - 50} more" if len(bad_files) > 50 else ""
        problems.append(
            f"{len(bad_files)} file(s) have more than {gate.max_file_quarantine_share:.0%} of their rows "
            f"quarantined: {listed}{more}."
        )
    if quarter_share > gate.max_quarter_quarantine_share:
        problems.append(
            f"{quarter_share:.1%} of the quarter's rows in accepted files are quarantined "
            f"({int(judged_rows['quarantined'].sum())} of {len(judged_rows)}; limit "
            f"{gate.max_quarter_quarantine_share:.0%})."
        )
    if dukcapil_persons is not None:
        # Linking a kabupaten's rows against nobody would report every NIK as unknown: stop instead.
        with_rows = sorted({f.kode_kab for f in submissions if f.source_file in accepted and f.data_rows})
        missing = [k for k in with_rows if not dukcapil_persons.get(k)]
        if missing:
            problems.append(
                f"No usable Dukcapil persons for kabupaten/kota {', '.join(missing)} (extract missing, empty or "
                "all rows set aside): their submissions cannot be linked."
            )
    if unusable_share > gate.max_rejected_file_share:
        problems.append(
            f"{len(unusable)} of {len(submissions)} submission files ({unusable_share:.0%}) were rejected or "
            f"unreadable (limit {gate.max_rejected_file_share:.0%}): {', '.join(unusable[:50])}."
        )
    return {
        "passed": not problems,
        "problems": problems,
        "quarter_quarantine_share": round(quarter_share, 6),
        "files_over_limit": bad_files.index.tolist(),
        "file_shares_over_limit": {s: round(float(r.share), 6) for s, r in bad_files.iterrows()},
        "files_not_accepted": unusable,
        "rejected_file_share": round(unusable_share, 6),
        "limits": {
            "max_file_quarantine_share": gate.max_file_quarantine_share,
            "max_quarter_quarantine_share": gate.max_quarter_quarantine_share,
            "max_rejected_file_share": gate.max_rejected_file_share,
            "min_rows_for_file_share": gate.min_rows_for_file_share,
        },
    }
