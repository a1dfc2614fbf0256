"""Findings: one row per (submission row, category), following docs/findings.md rule by rule.

Inputs are the validated rows, their validation reasons, the linkage decisions and the Dukcapil persons;
the output is the contract's `discrepancy` table (plus `row_id` and `status_padan` for the next step).
A linked row that validation held for linkage (a readable but implausible value, `pipelines.held`) gets no
validation finding for it: the finding that compares it with Dukcapil (IDENTITAS_TIDAK_SESUAI, or
NIK_BERBEDA when linked through another NIK) says why, before its own detail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import regions
from pipelines.contract import (
    GANDA,
    IDENTITAS_TIDAK_SESUAI,
    KEMUNGKINAN_PADAN,
    KK_BERBEDA,
    MENINGGAL,
    NIK_BERBEDA,
    NIK_TIDAK_DITEMUKAN,
    NIK_TIDAK_VALID,
    PADAN,
    PADAN_DENGAN_KOREKSI,
    PEKERJAAN_TIDAK_LAYAK,
    PERLU_VERIFIKASI,
    PINDAH_DOMISILI,
    TIDAK_PADAN,
)
from pipelines.decisions import LINK, REVIEW
from pipelines.field_words import field_words
from pipelines.held import QUARANTINE_UNLINKED
from pipelines.names import names_agree, normalise_names

DISCREPANCY_COLUMNS = [
    "row_id",
    "kode_desa",
    "source_file",
    "source_row",
    "nik",
    "category",
    "detail",
    "suggested_value",
]
MAX_LISTED_DUPLICATES = 10
# The row fields the findings look at: a narrow frame keeps pandas from copying every column per step.
_LIVE_COLUMNS = [
    "row_id",
    "kode_desa",
    "source_file",
    "source_row",
    "nik",
    "no_kk",
    "nama",
    "tanggal_lahir",
    "jenis_kelamin",
]
SEX_WORDS = {"L": "laki-laki", "P": "perempuan"}


def _finding(rows: pd.DataFrame, mask, category: str, detail, suggested=None) -> pd.DataFrame:
    hit = rows[np.asarray(mask, dtype=bool)]
    if hit.empty:
        return pd.DataFrame(columns=DISCREPANCY_COLUMNS)
    out = hit[["row_id", "kode_desa", "source_file", "source_row", "nik"]].copy()
    out["category"] = category
    out["detail"] = detail[np.asarray(mask, dtype=bool)] if isinstance(detail, pd.Series) else detail
    if isinstance(suggested, pd.Series):
        out["suggested_value"] = suggested[np.asarray(mask, dtype=bool)]
    else:
        out["suggested_value"] = suggested
    return out[DISCREPANCY_COLUMNS]


def _with_note(note: pd.Series, detail: pd.Series) -> pd.Series:
    """`detail`, led by `note` where there is one (what validation said of a row held for linkage)."""
    if not note.notna().any():
        return detail
    return (note.astype(object) + " " + detail).where(note.notna(), detail)


def _messages_per_category(reasons: pd.DataFrame) -> pd.DataFrame:
    """One row per (row, category) with its distinct messages joined, in order of first appearance; most
    pairs have one message, so only the others are grouped (a Python call per group is what costs)."""
    distinct = reasons[["row_id", "category", "message"]].drop_duplicates()
    repeated = distinct.duplicated(["row_id", "category"], keep=False).to_numpy()
    joined = distinct[repeated].groupby(["row_id", "category"], sort=False)["message"].agg(" ".join).reset_index()
    joined.index = distinct[repeated].drop_duplicates(["row_id", "category"]).index
    return pd.concat([distinct[~repeated], joined]).sort_index().reset_index(drop=True)


def identity_differences(rows: pd.DataFrame, person: pd.DataFrame) -> pd.DataFrame:
    """Per row, whether name, birth date and sex disagree with a Dukcapil person (aligned frames)."""
    name_ok = names_agree(normalise_names(rows["nama"]), normalise_names(person["NAMA_LGKP"])).to_numpy()
    dob_ok = rows["tanggal_lahir"].to_numpy() == person["TGL_LHR"].to_numpy()
    sex_ok = rows["jenis_kelamin"].to_numpy() == person["JENIS_KLMIN"].to_numpy()
    return pd.DataFrame({"nama": ~name_ok, "tanggal_lahir": ~dob_ok, "jenis_kelamin": ~sex_ok}, index=rows.index)


def _identity_detail(rows: pd.DataFrame, person: pd.DataFrame, diff: pd.DataFrame) -> pd.Series:
    """What differs, in words, for the rows where something does ("" elsewhere)."""
    differs = diff.any(axis=1).to_numpy()
    detail = pd.Series("", index=rows.index, dtype=object)
    if differs.any():
        detail[differs] = _differences_in_words(rows[differs], person[differs], diff[differs])
    return detail


def _differences_in_words(rows: pd.DataFrame, person: pd.DataFrame, diff: pd.DataFrame) -> pd.Series:
    parts = []
    for field, theirs in (("nama", "NAMA_LGKP"), ("tanggal_lahir", "TGL_LHR"), ("jenis_kelamin", "JENIS_KLMIN")):
        ours = rows[field].fillna("(kosong)").astype(str)
        dukcapil = person[theirs].fillna("(kosong)").astype(str).to_numpy()
        text = field_words(field) + " (usulan: " + ours + "; Dukcapil: " + dukcapil + ")"
        parts.append(text.where(diff[field].to_numpy(), ""))
    joined = parts[0].str.cat(parts[1:], sep="; ").str.replace(r"(^(; )+|(; )+$)", "", regex=True)
    return joined.str.replace(r"(; ){2,}", "; ", regex=True)


def decide_findings(
    rows: pd.DataFrame,
    reasons: pd.DataFrame,
    decisions: pd.DataFrame,
    persons: pd.DataFrame,
    ineligible: tuple[str, ...],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (discrepancy, per-row status): `rows` holds every validated row with `quarantined`;
    `decisions` holds, per non-quarantined row_id, `decision`, `person_index`, `cluster`."""
    found: list[pd.DataFrame] = []

    # Held for linkage and linked: not a validation finding; what validation said leads the finding that
    # compares the row with Dukcapil (`held_notes`).
    held = reasons["action"].eq(QUARANTINE_UNLINKED) & reasons["row_id"].isin(rows.loc[~rows["quarantined"], "row_id"])
    held_notes = reasons[held].groupby("row_id", sort=False)["message"].agg(lambda m: " ".join(dict.fromkeys(m)))
    reasons = reasons[~held]

    # Validation: quarantine categories and NIK_TIDAK_VALID, one finding per (row, category).
    by_category = _messages_per_category(reasons)
    validation = by_category.merge(
        rows[["row_id", "kode_desa", "file_kode_desa", "source_file", "source_row", "nik"]], on="row_id"
    )
    validation["kode_desa"] = validation["kode_desa"].where(
        validation["kode_desa"].astype("string").str.fullmatch(r"\d{10}").fillna(False).astype(bool),
        validation["file_kode_desa"],
    )
    validation = validation.rename(columns={"message": "detail"}).assign(suggested_value=None)
    found.append(validation[DISCREPANCY_COLUMNS])

    # `group_elsewhere`: the rows of other kabupaten in the person's group (`pipelines.province.apply`).
    elsewhere_column = ["group_elsewhere"] if "group_elsewhere" in decisions.columns else []
    live = rows.loc[~rows["quarantined"], _LIVE_COLUMNS].merge(
        decisions[["row_id", "decision", "person_index", "cluster", "match_probability", *elsewhere_column]],
        on="row_id",
        how="left",
    )
    live = live.reset_index(drop=True)
    linked = live["decision"].eq(LINK).to_numpy()
    review = live["decision"].eq(REVIEW).to_numpy()
    person_idx = live["person_index"].fillna(-1).astype(np.int64).to_numpy()
    has_person = person_idx >= 0
    # Rows without a person read a placeholder row (masked out below); with an empty extract it is blank.
    needed = ["NIK", "NO_KK", "NAMA_LGKP", "TGL_LHR", "JENIS_KLMIN", "TGL_MATI", "JENIS_PKRJN", "kode_desa"]
    lookup = persons[needed] if len(persons) else persons[needed].reindex([0])
    person = lookup.iloc[np.where(has_person, person_idx, 0)].reset_index(drop=True)
    person_nik = pd.Series(np.where(has_person, person["NIK"].to_numpy(), None), index=live.index)

    # The owner of the submitted NIK, where Dukcapil knows it.
    owner_pos = live["nik"].map(
        pd.Series(np.arange(len(persons)), index=persons["NIK"].to_numpy()).loc[lambda s: ~s.index.duplicated()]
    )
    nik_known = owner_pos.notna().to_numpy()
    owner = lookup.iloc[owner_pos.fillna(0).astype(np.int64).to_numpy()].reset_index(drop=True)
    nik_valid = ~live["row_id"].isin(reasons.loc[reasons["category"] == NIK_TIDAK_VALID, "row_id"]).to_numpy()

    # Linked rows.
    nik_differs = linked & (live["nik"].fillna("").to_numpy() != person["NIK"].to_numpy())
    same_as_kk = live["nik"].notna() & (live["nik"] == live["no_kk"])
    nik_detail = pd.Series("NIK pada usulan berbeda dari NIK Dukcapil orang yang sama.", index=live.index)
    nik_detail = nik_detail.mask(
        live["nik"].isna(), "NIK kosong; NIK Dukcapil ditemukan dari nama, tanggal lahir dan keluarga."
    )
    nik_detail = nik_detail.mask(
        ~nik_valid & live["nik"].notna(), "NIK pada usulan tidak valid; NIK Dukcapil ditemukan dari data lain."
    )
    nik_detail = nik_detail.mask(
        nik_known & nik_differs, "NIK pada usulan milik orang lain di Dukcapil (mis. anggota keluarga)."
    )
    nik_detail = nik_detail.mask(same_as_kk, "Yang diisi sebagai NIK adalah nomor KK.")
    note = live["row_id"].map(held_notes)
    found.append(_finding(live, nik_differs, NIK_BERBEDA, _with_note(note, nik_detail), person_nik))

    kk_differs = linked & (live["no_kk"].fillna("").to_numpy() != person["NO_KK"].fillna("").to_numpy())
    found.append(
        _finding(
            live,
            kk_differs,
            KK_BERBEDA,
            "Nomor KK pada usulan berbeda dari nomor KK di Dukcapil.",
            pd.Series(person["NO_KK"].to_numpy(), index=live.index),
        )
    )

    # IDENTITAS_TIDAK_SESUAI: the NIK is known and is the linked person's own, or the row is not linked.
    # Linked to the NIK's owner, the row's birth date is corrected to Dukcapil's: that is the suggestion.
    diff_owner = identity_differences(live, owner)
    any_diff = diff_owner.any(axis=1).to_numpy()
    own = linked & ~nik_differs
    identity = nik_known & any_diff & (own | ~linked)
    birth_fix = own & diff_owner["tanggal_lahir"].to_numpy()
    suggested_birth = pd.Series(np.where(birth_fix, owner["TGL_LHR"].to_numpy(), None), index=live.index)
    detail = _with_note(note, _identity_detail(live, owner, diff_owner))
    found.append(_finding(live, identity, IDENTITAS_TIDAK_SESUAI, detail, suggested_birth))

    dead = linked & person["TGL_MATI"].notna().to_numpy()
    found.append(
        _finding(
            live, dead, MENINGGAL, "Tercatat meninggal di Dukcapil pada " + person["TGL_MATI"].fillna("").astype(str)
        )
    )

    occupation = person["JENIS_PKRJN"].fillna("").to_numpy()
    not_eligible = linked & np.isin(occupation, list(ineligible))
    found.append(
        _finding(
            live,
            not_eligible,
            PEKERJAAN_TIDAK_LAYAK,
            "Pekerjaan menurut Dukcapil: " + pd.Series(occupation, index=live.index),
        )
    )

    domicile = pd.Series(person["kode_desa"].to_numpy(), index=live.index)
    moved = linked & (domicile.to_numpy() != live["kode_desa"].to_numpy())
    desa_names = pd.Series("?", index=live.index, dtype=object)
    desa_names[moved] = domicile[moved].map(lambda c: regions.region_name(c) or "?")  # only the moved rows
    found.append(
        _finding(
            live,
            moved,
            PINDAH_DOMISILI,
            "Domisili menurut Dukcapil: desa " + domicile + " (" + desa_names + ")",
            domicile,
        )
    )

    # Not linked.
    unknown = ~linked & ~review & nik_valid & live["nik"].notna().to_numpy() & ~nik_known
    found.append(
        _finding(live, unknown, NIK_TIDAK_DITEMUKAN, "NIK tidak terdaftar di Dukcapil dan tidak ditemukan kecocokan.")
    )
    candidate_nik = pd.Series(np.where(review & has_person, person["NIK"].to_numpy(), None), index=live.index)
    probability = live["match_probability"].fillna(0).map(lambda p: f"{p:.2f}").astype(str)
    found.append(
        _finding(
            live,
            review,
            KEMUNGKINAN_PADAN,
            "Kemungkinan sama dengan penduduk Dukcapil (probabilitas " + probability + "); perlu diperiksa petugas.",
            candidate_nik,
        )
    )

    # GANDA: every row of a person with more than one non-quarantined row, in this kabupaten or another.
    sizes = live.groupby("cluster")["row_id"].transform("size").to_numpy()
    elsewhere = live["group_elsewhere"] if elsewhere_column else pd.Series(None, index=live.index, dtype=object)
    in_group = (sizes > 1) | elsewhere.notna().to_numpy()
    if in_group.any():
        group = live.loc[in_group, ["cluster", "source_file", "source_row"]]
        labels = group["source_file"] + " baris " + group["source_row"].astype(str)
        listed = labels.groupby(group["cluster"]).agg(list)
        other = elsewhere[in_group].to_numpy()
        detail = pd.Series(
            [
                "Data ganda dengan: "
                + "; ".join(
                    ([x for x in listed[c] if x != me] + ([o] if isinstance(o, str) else []))[:MAX_LISTED_DUPLICATES]
                )
                + (" (dan lainnya)" if len(listed[c]) - 1 > MAX_LISTED_DUPLICATES else "")
                for c, me, o in zip(group["cluster"], labels, other, strict=True)
            ],
            index=group.index,
        )
        found.append(_finding(live, in_group, GANDA, detail.reindex(live.index)))

    discrepancy = (
        pd.concat([f for f in found if len(f)], ignore_index=True)
        if any(len(f) for f in found)
        else pd.DataFrame(columns=DISCREPANCY_COLUMNS)
    )
    discrepancy = discrepancy.sort_values(["source_file", "source_row", "category"], kind="stable").reset_index(
        drop=True
    )

    corrected = live["row_id"].isin(
        discrepancy.loc[discrepancy["category"].isin([NIK_BERBEDA, KK_BERBEDA, IDENTITAS_TIDAK_SESUAI]), "row_id"]
    )
    status = np.select(
        [linked & corrected.to_numpy(), linked, review], [PADAN_DENGAN_KOREKSI, PADAN, PERLU_VERIFIKASI], TIDAK_PADAN
    )
    per_row = pd.DataFrame(
        {
            "row_id": live["row_id"],
            "status_padan": status,
            "nik_dukcapil": np.where(linked, person_nik, None),
            "nik_kandidat": candidate_nik.to_numpy(),
            "dead": dead,
            "ineligible": not_eligible,
        }
    )
    return discrepancy, per_row
