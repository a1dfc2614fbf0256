"""What the officer's workbook says about each finding besides the finding itself: the value to use wherever
the pipeline knows it, the action in plain words, the person's DTKS status, and for GANDA the group and the
row that was kept.

The pipeline knows the value to use for every finding on a linked row: the linked person's Dukcapil NIK
(also for NIK_TIDAK_VALID: the row was linked through its other data), KK and identity, their DTKS status
(NONAKTIF for a death or an ineligible occupation) and, for a duplicate, the row kept. `annotate` reads
those from the row's outcome and the published person (`dtks_snapshot`), so the warehouse's
`discrepancy.suggested_value` stays as the contract defines it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pandas as pd

from pipelines import contract as c
from pipelines.regions import dotted
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
LINKED: Final = frozenset({c.PADAN, c.PADAN_DENGAN_KOREKSI})
_SEX_WORDS: Final = {"L": "laki-laki", "P": "perempuan"}


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


def _identity_values(detail: Any, person: dict[str, Any] | None, suggested: Any) -> str | None:
    """The Dukcapil values of the fields that differ (the linked person's own), in words."""
    values = r.compared_values(detail, "Dukcapil")
    if not values and not x.is_missing(suggested):
        values = {"tanggal_lahir": _text(suggested)}
    if not values and person is not None and person.get("tanggal_lahir"):
        values = {"tanggal_lahir": _text(person["tanggal_lahir"])}
    parts = []
    for field, value in values.items():
        shown = _SEX_WORDS.get(value, value) if field == "jenis_kelamin" else r.date_text(value)
        parts.append(f"{r.FIELD_WORDS.get(field, field)}: {shown}")
    return "; ".join(parts) or None


def _biodata_values(person: dict[str, Any] | None) -> str | None:
    if person is None:
        return None
    born, sex = _text(person.get("tanggal_lahir")), _text(person.get("jenis_kelamin"))
    parts = [
        f"tanggal lahir: {r.date_text(born)}" if born else "",
        f"jenis kelamin: {_SEX_WORDS.get(sex, sex)}" if sex else "",
    ]
    return "; ".join(p for p in parts if p) or None


def _death_date(detail: Any) -> str:
    dates = r.ISO_DATE.findall(_text(detail))
    return f" {dates[-1][2]}-{dates[-1][1]}-{dates[-1][0]}" if dates else ""


def annotate(
    findings: pd.DataFrame,
    persons: pd.DataFrame | None,
    desa_name: Callable[[str], str | None],
) -> pd.DataFrame:
    """`findings` (one row per finding, with the row's `outcome`, `status_padan`, `person_key`,
    `nik_dukcapil`, `nik_kandidat`, in the order they are shown) plus `shown_detail`, `suggestion`,
    `action`, `status_dtks` (in words) and `ganda_group` (1, 2, ... per duplicate group, else None)."""
    people: dict[str, dict[str, Any]] = {}
    if persons is not None and len(persons) and "person_key" in persons:
        cols = [col for col in PERSON_COLUMNS if col in persons]
        wanted = persons[persons["person_key"].isin(set(findings["person_key"].dropna()))]  # not the whole DTKS
        people = {rec["person_key"]: rec for rec in wanted[cols].drop_duplicates("person_key").to_dict("records")}

    groups: dict[str, int] = {}
    shown_text: dict[str, str | None] = {}  # most details repeat ("NIK kosong.")
    shown, suggestion, action, status, group = [], [], [], [], []
    columns = ["category", "detail", "suggested_value", "outcome", "status_padan", "person_key", "nik_dukcapil"]
    columns += ["nik_kandidat", "_file", "_row"]
    frame = findings.reindex(columns=columns).astype(object)
    frame = frame.where(frame.notna(), None)  # missing is None below: no `is_missing` per value
    for cat, detail, suggested, outcome, padan, key, nik_dukcapil, kandidat, file, row in frame.itertuples(
        index=False, name=None
    ):
        key = None if key is None else str(key)
        person = people.get(key) if key else None
        linked = padan in LINKED and nik_dukcapil is not None
        text = shown_text.get(detail) if isinstance(detail, str) else None
        if text is None:
            text = r.readable(detail, desa_name)
            if isinstance(detail, str):
                shown_text[detail] = text
        value: str | None = None if suggested is None else _text(suggested) or None
        variant = "linked" if linked else "unlinked"
        number = None
        if cat == c.NIK_TIDAK_VALID and linked:
            value = _text(nik_dukcapil)
        elif cat == c.NIK_TIDAK_VALID and kandidat is not None:
            value, variant = _text(kandidat), "candidate"
        elif cat == c.IDENTITAS_TIDAK_SESUAI:
            value = _identity_values(detail, person, suggested) if linked else None
        elif cat == c.BIODATA_TIDAK_SESUAI_NIK:
            value = _biodata_values(person) if linked else None
        elif cat == c.MENINGGAL:
            value = f"{c.NONAKTIF} (meninggal{_death_date(detail)})"
        elif cat == c.PEKERJAAN_TIDAK_LAYAK:
            value = f"{c.NONAKTIF} ({g.alasan_label(c.ALASAN_TIDAK_LAYAK)})"
        elif cat == c.PINDAH_DOMISILI and value and value.isdigit() and len(value) == 10:
            value = f"desa {desa_name(value) or value} ({dotted(value)})"
        elif cat == c.GANDA and key:
            number = groups.setdefault(key, len(groups) + 1)
            kept = person is not None and (
                _text(person.get("source_file")),
                x.row_number(person.get("source_row")),
            ) == (
                _text(file),
                x.row_number(row),
            )
            variant = "kept" if kept else "merged"
            if kept:
                value = g.GANDA_KEPT
            elif person is not None:
                value = "Dipertahankan: " + r.source_reference(
                    person.get("source_file"), person.get("source_row"), desa_name
                )
        shown.append(text)
        suggestion.append(value)
        action.append(g.row_action(cat, variant))
        status.append(status_dtks_text(outcome, person))
        group.append(number)
    out = findings.copy()
    out["shown_detail"] = shown
    out["suggestion"] = suggestion
    out["action"] = action
    out["status_dtks"] = status
    out["ganda_group"] = pd.array(group, dtype="Int64")
    return out
