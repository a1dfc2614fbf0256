"""What the officer's workbook says about each finding besides the finding itself: the value to use wherever
the pipeline knows it, the action in plain words, the person's DTKS status, and for GANDA the group and the
row that was kept.

The value to use is decided with the finding (`pipelines.finding_suggestions`, the warehouse's
`discrepancy.suggestion`) and read here; the action, the DTKS status and the group numbers come from the
row's outcome and the published person (`dtks_snapshot`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

import pandas as pd

from pipelines import contract as c
from pipelines import finding_suggestions as fs
from pipelines.reports import excel as x
from pipelines.reports import guidance as g
from pipelines.reports import readable as r

PERSON_COLUMNS: Final = (
    "person_key",
    "nama",
    "tanggal_lahir",
    "jenis_kelamin",
    "no_kk",
    "status_dtks",
    "alasan_nonaktif",
    "source_file",
    "source_row",
)
LINKED: Final = fs.LINKED


def _text(value: Any) -> str:
    return (x.as_text(value) or "").strip()


def status_dtks_text(outcome: Any, person: dict[str, Any] | None) -> str | None:
    """The row's place in the published DTKS: AKTIF, or NONAKTIF with its reason in words."""
    if _text(outcome) == c.OUTCOME_QUARANTINED:
        return g.STATUS_DTKS_QUARANTINED
    if person is None:
        return None
    status = _text(person.get("status_dtks"))
    reason = _text(person.get("alasan_nonaktif"))
    text = f"{status} ({g.alasan_label(reason)})" if status == c.NONAKTIF and reason else status
    if _text(outcome) == c.OUTCOME_MERGED:
        text += g.STATUS_DTKS_VIA_OTHER_ROW
    return text or None


def annotate(
    findings: pd.DataFrame,
    persons: pd.DataFrame | None,
    desa_name: Callable[[str], str | None],
) -> pd.DataFrame:
    """`findings` (one row per finding, with the row's `outcome`, `status_padan`, `person_key`,
    `nik_dukcapil`, `nik_kandidat`, in the order they are shown) plus `shown_detail`, `suggestion`,
    `action`, `status_dtks` (in words) and `ganda_group` (1, 2, ... per duplicate group, else None)."""
    people = fs.people_of(findings, persons)
    if fs.COLUMN in findings:  # decided with the findings (`discrepancy.suggestion`)
        values = [None if x.is_missing(v) else v for v in findings[fs.COLUMN]]
    else:  # a publication from before migration 0009: worded here the same way
        values = fs.suggestions(findings, persons, desa_name)
    row_action = functools.cache(g.row_action)  # a handful of (category, variant) pairs per kabupaten
    statuses: dict[tuple[Any, str | None], str | None] = {}
    missing = object()
    groups: dict[str, int] = {}
    shown_text: dict[str, str | None] = {}  # most details repeat ("NIK kosong.")
    shown, action, status, group = [], [], [], []
    columns = ["category", "detail", "outcome", "status_padan", "person_key", "nik_dukcapil", "nik_kandidat"]
    columns += ["_file", "_row"]
    frame = findings.reindex(columns=columns).astype(object)
    frame = frame.where(frame.notna(), None)  # missing is None below: no `is_missing` per value
    for cat, detail, outcome, padan, key, nik_dukcapil, kandidat, file, row in frame.itertuples(index=False, name=None):
        key = None if key is None else str(key)
        person = people.get(key) if key else None
        linked = padan in LINKED and nik_dukcapil is not None
        text = shown_text.get(detail) if isinstance(detail, str) else None
        if text is None:
            text = r.readable(detail, desa_name)
            if isinstance(detail, str):
                shown_text[detail] = text
        variant = "linked" if linked else "unlinked"
        number = None
        if cat == c.NIK_TIDAK_VALID and not linked and kandidat is not None:
            variant = "candidate"
        elif cat == c.GANDA and key:
            number = groups.setdefault(key, len(groups) + 1)
            variant = "kept" if fs.is_kept(person, file, row) else "merged"
        shown.append(text)
        action.append(row_action(cat, variant))
        state = statuses.get((outcome, key), missing)
        if state is missing:  # once per person and outcome: a person's rows share it
            state = statuses[outcome, key] = status_dtks_text(outcome, person)
        status.append(state)
        group.append(number)
    out = findings.copy()
    out["shown_detail"] = shown
    out["suggestion"] = values
    out["action"] = action
    out["status_dtks"] = status
    out["ganda_group"] = pd.array(group, dtype="Int64")
    return out
