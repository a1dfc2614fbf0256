"""The value to use for each finding, in words, decided with the finding (`discrepancy.suggestion`).

The pipeline knows the value to use for every finding on a linked row: the linked person's Dukcapil NIK
(also for NIK_TIDAK_VALID: the row was linked through its other data), the Dukcapil values of the identity
fields that differ, NONAKTIF for a death or an ineligible occupation, the other desa of a move and, for a
duplicate, the row that was kept. The decide stage writes it beside `suggested_value` (which keeps the
contract's meaning: the bare NIK, KK or desa code), so every reader of the warehouse (the officer's
workbook, the village file, `dtks trace`, the UI) says the same thing without working it out again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pandas as pd

from pipelines import contract as c
from pipelines.regions import dotted, region_name
from pipelines.reports import excel as x
from pipelines.reports import guidance as g
from pipelines.reports import readable as r

COLUMN: Final = "suggestion"
# What is needed of the published person (`dtks_snapshot`) to word a suggestion.
PERSON_COLUMNS: Final = ("person_key", "tanggal_lahir", "jenis_kelamin", "source_file", "source_row")
# What is needed of each finding's row besides the finding.
ROW_COLUMNS: Final = ("status_padan", "person_key", "nik_dukcapil", "nik_kandidat")
LINKED: Final = frozenset({c.PADAN, c.PADAN_DENGAN_KOREKSI})
_SEX_WORDS: Final = {"L": "laki-laki", "P": "perempuan"}


def _text(value: Any) -> str:
    return (x.as_text(value) or "").strip()


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


def is_kept(person: dict[str, Any] | None, source_file: Any, source_row: Any) -> bool:
    """Whether the row is the one published for its person (a duplicate group's kept row)."""
    return person is not None and (
        _text(person.get("source_file")),
        x.row_number(person.get("source_row")),
    ) == (_text(source_file), x.row_number(source_row))


def people_of(findings: pd.DataFrame, persons: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """The published persons of the findings' rows, by `person_key` (not the whole DTKS)."""
    if persons is None or not len(persons) or "person_key" not in persons or "person_key" not in findings:
        return {}
    cols = [col for col in dict.fromkeys([*PERSON_COLUMNS, "status_dtks", "alasan_nonaktif"]) if col in persons]
    wanted = persons[persons["person_key"].isin(set(findings["person_key"].dropna()))]
    return {rec["person_key"]: rec for rec in wanted[cols].drop_duplicates("person_key").to_dict("records")}


def suggestion(
    category: Any,
    detail: Any,
    suggested: Any,
    *,
    linked: bool,
    nik_dukcapil: Any,
    nik_kandidat: Any,
    person: dict[str, Any] | None,
    source_file: Any,
    source_row: Any,
    desa_name: Callable[[str], str | None],
) -> str | None:
    """The value to use for one finding, in words; None where the pipeline does not know it."""
    value: str | None = None if x.is_missing(suggested) else _text(suggested) or None
    if category == c.NIK_TIDAK_VALID:
        if linked:
            return _text(nik_dukcapil) or None
        return None if x.is_missing(nik_kandidat) else _text(nik_kandidat) or None
    if category == c.IDENTITAS_TIDAK_SESUAI:
        return _identity_values(detail, person, suggested) if linked else None
    if category == c.BIODATA_TIDAK_SESUAI_NIK:
        return _biodata_values(person) if linked else None
    if category == c.MENINGGAL:
        return f"{c.NONAKTIF} (meninggal{_death_date(detail)})"
    if category == c.PEKERJAAN_TIDAK_LAYAK:
        return f"{c.NONAKTIF} ({g.alasan_label(c.ALASAN_TIDAK_LAYAK)})"
    if category == c.PINDAH_DOMISILI and value and value.isdigit() and len(value) == 10:
        return f"desa {desa_name(value) or value} ({dotted(value)})"
    if category == c.GANDA:
        if is_kept(person, source_file, source_row):
            return g.GANDA_KEPT
        if person is not None:
            kept = r.source_reference(person.get("source_file"), person.get("source_row"), desa_name)
            return "Dipertahankan: " + kept
        return None
    return value


def suggestions(
    findings: pd.DataFrame,
    persons: pd.DataFrame | None,
    desa_name: Callable[[str], str | None] = region_name,
) -> list[str | None]:
    """`suggestion` for each finding of `findings` (the discrepancy columns plus `ROW_COLUMNS` of its row);
    `persons` the published persons (`dtks_snapshot`)."""
    people = people_of(findings, persons)
    columns = ["category", "detail", "suggested_value", *ROW_COLUMNS, "source_file", "source_row"]
    frame = findings.reindex(columns=columns).astype(object)
    frame = frame.where(frame.notna(), None)  # missing is None below: no `is_missing` per value
    out: list[str | None] = []
    for cat, detail, suggested, padan, key, nik_dukcapil, kandidat, file, row in frame.itertuples(
        index=False, name=None
    ):
        out.append(
            suggestion(
                cat,
                detail,
                suggested,
                linked=padan in LINKED and nik_dukcapil is not None,
                nik_dukcapil=nik_dukcapil,
                nik_kandidat=kandidat,
                person=people.get(str(key)) if key is not None else None,
                source_file=file,
                source_row=row,
                desa_name=desa_name,
            )
        )
    return out


def with_suggestions(
    discrepancy: pd.DataFrame, per_row: pd.DataFrame, row_outcome: pd.DataFrame, snapshot: pd.DataFrame
) -> pd.DataFrame:
    """`discrepancy` (with `row_id`) plus `suggestion`, at the decide stage: `per_row` as
    `findings.decide_findings` returns it, `row_outcome` (with `row_id`) and the snapshot as
    `outcomes.decide_outcomes` returns them."""
    rows = per_row.reindex(columns=["row_id", "status_padan", "nik_dukcapil", "nik_kandidat"]).merge(
        row_outcome.reindex(columns=["row_id", "person_key"]), on="row_id", how="outer"
    )
    joined = discrepancy[["row_id"]].merge(rows.drop_duplicates("row_id"), on="row_id", how="left")
    joined.index = discrepancy.index
    frame = pd.concat([discrepancy, joined.drop(columns="row_id")], axis=1)
    return discrepancy.assign(**{COLUMN: suggestions(frame, snapshot)})
