"""Validate: canonicalise, run the Great Expectations suites, and split rows into those that go on to
linkage and those that are quarantined, each failure with its reason. A row whose only problem is a
readable but implausible value goes on to linkage, held (`pipelines.held`): it is quarantined after
linkage if it is not linked.
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
from pipelines.gate import quality_gate as quality_gate  # its home before pipelines/gate.py
from pipelines.held import HELD, QUARANTINE, QUARANTINE_UNLINKED, findings_of_quarantined_dropped
from pipelines.ingest.intake import REJECTED, FileReport
from pipelines.plausible import birth_date_bounds
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
    # row_id, source_file, source_row, file_kode_desa, canonical columns, quarantined, and HELD (the row
    # goes on to linkage, and is quarantined if it is not linked)
    rows: pd.DataFrame
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
            "action": QUARANTINE,
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
            "tanggal lahir (NIK: " + encoded + "; usulan: " + rows["tanggal_lahir"].fillna("").astype(str) + ")",
            "",
        )
    )
    sex = pd.Series(
        np.where(
            d["jenis_kelamin"],
            "jenis kelamin (NIK: "
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
    earliest, latest = birth_date_bounds(today)
    parameters = {"min_birth_date": earliest, "max_birth_date": latest}
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
    quarantined_ids = set(reasons.loc[reasons["action"] == QUARANTINE, ROW_ID])
    held_ids = set(reasons.loc[reasons["action"] == QUARANTINE_UNLINKED, ROW_ID]) - quarantined_ids
    # The NIK/biodata comparison is a finding on rows that go on to linkage only (docs/findings.md).
    reasons = findings_of_quarantined_dropped(reasons, quarantined_ids)
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
    rows[HELD] = rows[ROW_ID].isin(held_ids)
    summary = {
        "rows": len(rows),
        "quarantined": int(rows["quarantined"].sum()),
        "held_for_linkage": len(held_ids),
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
