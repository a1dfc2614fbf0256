"""The quality gate: shares of quarantined rows per file and for the quarter against the configured limits
(docs/intake.md section 6). Light, so the decide stage can judge again after linkage without Great
Expectations.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipelines.held import HELD
from pipelines.ingest.intake import ACCEPTED, EMPTY, FileReport

__all__ = ["quality_gate"]


def quality_gate(
    rows: pd.DataFrame,
    files: list[FileReport],
    gate,
    dukcapil_persons: dict[str, int] | None = None,
    *,
    after_linkage: bool = False,
) -> dict[str, Any]:
    """Shares of quarantined rows per file and for the quarter, against the configured limits.

    A rejected or unreadable file is reported as a whole (run record, "Berkas Bermasalah") and counts
    neither against its own share nor the quarter's: the other villages' files still go through. Its
    weight is judged on its own: more than `max_rejected_file_share` of the quarter's files unusable
    stops the quarter too (a template change, a broken export).

    Before linkage, rows held for linkage are not quarantined (yet): linkage may well give them Dukcapil's
    value. The decide stage judges the shares again `after_linkage`, with the held rows that were not
    linked quarantined, so a published quarter never has more quarantined rows than the limits allow.
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
    if after_linkage and problems:
        problems.insert(0, "After linkage (rows with an implausible value that were not linked are quarantined):")
    held = rows[HELD].fillna(False).astype(bool) & ~rows["quarantined"] if HELD in rows.columns else None
    return {
        "passed": not problems,
        "problems": problems,
        "judged": "after_linkage" if after_linkage else "before_linkage",
        "rows_held_for_linkage": int(held.sum()) if held is not None else 0,
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
