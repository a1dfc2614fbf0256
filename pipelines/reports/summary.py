"""Counts for the run's HTML summary and the report e-mails: per kabupaten/kota from its tables, and for the
whole run by adding those up.

Counts only, as plain JSON (they travel in the `reports` stage summary and the run result): nothing here
carries a NIK, KK, name or birth date. File-level messages are masked all the same (`mask_text`), in case
an identifier slipped into one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from pipelines import contract as c
from pipelines.privacy import mask_text
from pipelines.reports import excel as x
from pipelines.reports.workbook import UNKNOWN_KEC, Regions, _map_unique

EMPTY_STATUS = "(kosong)"
SUM_KEYS = ("rows", "rows_with_findings", "findings_total")
DICT_KEYS = ("outcomes", "status_padan", "findings", "file_statuses", "file_formats")


def _normal(series: pd.Series) -> pd.Series:
    """Values as trimmed text, `(kosong)` for missing or blank (computed once per distinct value)."""
    return _map_unique(series, lambda v: (x.as_text(v) or "").strip() or EMPTY_STATUS)


def _value_counts(series: pd.Series, known: Sequence[str]) -> dict[str, int]:
    """Counts per value of a `_normal` series: every known value (0 when absent) in contract order, then
    any other value."""
    counts = series.value_counts()
    out = {key: int(counts.get(key, 0)) for key in known}
    out.update({str(k): int(n) for k, n in sorted(counts.items()) if k not in out})
    return out


def _group(groups: dict[str, pd.Series] | None, key: str) -> pd.Series:
    return (groups or {}).get(key, pd.Series([], dtype="object"))


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype="object")


def categories_of(findings: Iterable[str]) -> list[str]:
    """The contract's categories (every one, even at 0) and then any category added since, sorted."""
    return [*c.CATEGORIES, *sorted(set(findings) - set(c.CATEGORIES))]


def _quarantine_reasons(quarantine: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows per (category, column) among the quarantined rows; a row with two reasons counts in both."""
    counts: Counter[tuple[str, str]] = Counter()
    if quarantine is not None and len(quarantine) and "reasons" in quarantine:
        for text in quarantine["reasons"].dropna():
            try:
                reasons = json.loads(text)
            except (TypeError, ValueError):
                continue
            pairs = {(str(r.get("category") or EMPTY_STATUS), str(r.get("field") or "")) for r in reasons}
            counts.update(pairs)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"category": cat, "field": field, "rows": n} for (cat, field), n in ordered]


def _file_counts(regions: Regions, files: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    problems = []
    for f in files:
        messages = [mask_text(str(p.get("message", ""))) for p in f.get("problems") or []]
        if messages or f.get("status") != "ACCEPTED":
            kode_desa = str(f.get("kode_desa") or "")
            problems.append(
                {
                    "source_file": str(f.get("source_file", "")),
                    "kode_desa": kode_desa,
                    "desa": regions.desa_name(kode_desa) if kode_desa else None,
                    "status": str(f.get("status", "")),
                    "messages": messages,
                }
            )
    return {
        "files": len(files),
        "file_statuses": dict(sorted(Counter(str(f.get("status", "")) for f in files).items())),
        "file_formats": dict(sorted(Counter(str(f.get("format", "")) for f in files).items())),
        "file_problems": problems,
        "desa_with_files": len({f.get("kode_desa") for f in files if f.get("kode_desa")}),
    }


def count_kabupaten(
    kode_kab: str,
    *,
    row_outcome: pd.DataFrame,
    discrepancy: pd.DataFrame,
    quarantine: pd.DataFrame,
    files: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The counts of one kabupaten/kota: its `row_outcome`, `discrepancy` and quarantined rows (submissions
    only) and its submission files' ingest reports (`pipelines.ingest.FileReport.to_dict()`)."""
    regions = Regions(kode_kab)
    ro = row_outcome if row_outcome is not None else pd.DataFrame()
    disc = discrepancy if discrepancy is not None else pd.DataFrame()
    ro_kec = _map_unique(regions.resolve(ro), regions.kec_of) if len(ro) else pd.Series(dtype="object")
    disc_kec = _map_unique(regions.resolve(disc), regions.kec_of) if len(disc) else pd.Series(dtype="object")
    outcome = _normal(_col(ro, "outcome"))
    category = _normal(_col(disc, "category")).replace(EMPTY_STATUS, "LAINNYA")
    categories = categories_of(category.unique().tolist())

    kecamatan = list(regions.kecamatan)
    if (ro_kec == UNKNOWN_KEC).any() or (disc_kec == UNKNOWN_KEC).any():
        kecamatan.append(UNKNOWN_KEC)
    outcomes_by_kec = dict(list(outcome.groupby(ro_kec.to_numpy()))) if len(ro) else None
    findings_by_kec = dict(list(category.groupby(disc_kec.to_numpy()))) if len(disc) else None
    by_kec: dict[str, dict[str, Any]] = {}
    for kec in kecamatan:
        in_kec = _group(outcomes_by_kec, kec)
        by_kec[kec] = {
            "name": regions.kec_name(kec),
            "rows": len(in_kec),
            "outcomes": _value_counts(in_kec, c.OUTCOMES),
            "findings": _value_counts(_group(findings_by_kec, kec), categories),
        }
    with_findings = disc[["source_file", "source_row"]].drop_duplicates() if len(disc) else disc
    return {
        "kode_kab": regions.kode_kab,
        "name": regions.kab_name(),
        "rows": len(ro),
        "outcomes": _value_counts(outcome, c.OUTCOMES),
        "status_padan": _value_counts(_normal(_col(ro, "status_padan")), c.STATUS_PADAN),
        "findings": _value_counts(category, categories),
        "findings_total": len(disc),
        "rows_with_findings": len(with_findings),
        "areas": by_kec,
        "quarantine_reasons": _quarantine_reasons(quarantine),
        "desa_total": len(regions.desa),
        **_file_counts(regions, files),
    }


def _add(into: dict[str, int], counts: Mapping[str, int]) -> None:
    for key, n in counts.items():
        into[key] = into.get(key, 0) + int(n)


def combine(kabupaten: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The run's counts: the kabupaten counts added up, with one area per kabupaten/kota."""
    total: dict[str, Any] = {key: 0 for key in SUM_KEYS}
    for key in DICT_KEYS:
        total[key] = {}
    total["outcomes"] = dict.fromkeys(c.OUTCOMES, 0)
    total["status_padan"] = dict.fromkeys(c.STATUS_PADAN, 0)
    total["findings"] = dict.fromkeys(c.CATEGORIES, 0)
    reasons: Counter[tuple[str, str]] = Counter()
    total.update(areas={}, file_problems=[], files=0, desa_total=0, desa_with_files=0)
    for kab in kabupaten:
        for key in SUM_KEYS:
            total[key] += int(kab.get(key, 0))
        for key in DICT_KEYS:
            _add(total[key], kab.get(key, {}))
        for r in kab.get("quarantine_reasons", []):
            reasons[(r["category"], r["field"])] += int(r["rows"])
        for key in ("files", "desa_total", "desa_with_files"):
            total[key] += int(kab.get(key, 0))
        total["file_problems"].extend(kab.get("file_problems", []))
        total["areas"][kab["kode_kab"]] = {
            "name": kab["name"],
            "rows": kab["rows"],
            "outcomes": dict(kab["outcomes"]),
            "findings": dict(kab["findings"]),
        }
    total["findings"] = {cat: total["findings"].get(cat, 0) for cat in categories_of(total["findings"])}
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    total["quarantine_reasons"] = [{"category": cat, "field": f, "rows": n} for (cat, f), n in ordered]
    total["kabupaten"] = len(kabupaten)
    return total
