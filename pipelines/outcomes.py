"""Outcomes: which row represents each person (PUBLISHED), which are merged duplicates, which are
quarantined; the person keys; and the cleansed snapshot, one row per person.
"""

from __future__ import annotations

import hmac
import json

import numpy as np
import pandas as pd

from pipelines.contract import (
    AKTIF,
    ALASAN_TIDAK_LAYAK,
    MENINGGAL,
    NONAKTIF,
    OUTCOME_MERGED,
    OUTCOME_PUBLISHED,
    OUTCOME_QUARANTINED,
    SUBMISSION_COLUMNS,
)
from pipelines.nik import parse_nik
from pipelines.survivor import representatives


def nik_structure_valid(values: pd.Series) -> np.ndarray:
    return parse_nik(values.reset_index(drop=True))["valid"].to_numpy()


ROW_OUTCOME_COLUMNS = [
    "source_file",
    "source_row",
    "kode_desa",
    "outcome",
    "person_key",
    "nik_dukcapil",
    "status_padan",
    "match_probability",
    "nik_kandidat",
    "merged_into_file",
    "merged_into_row",
]
SNAPSHOT_COLUMNS = [
    "person_key",
    "kode_desa",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan_keluarga",
    "status_padan",
    "nik_dukcapil",
    "status_dtks",
    "alasan_nonaktif",
    "source_file",
    "source_row",
    "kode_kab",
    "id_dtks",
    "program",
    "jumlah_baris",
]
# The fields the outcomes and the snapshot use (a subset of SUBMISSION_COLUMNS): a narrow frame is cheap
# to add columns to, and callers need not carry the others.
_LIVE_COLUMNS = [
    "row_id",
    "source_file",
    "source_row",
    "kode_desa",
    "id_dtks",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan_keluarga",
    "status_usulan",
    "alasan_nonaktif",
    "program",
]


def person_key(secret: str, kind: str, value: str) -> str:
    """A pseudonymous, stable key: the same person gets the same key every quarter, and the key does not
    reveal the NIK it was made from without the deployment's secret."""
    digest = hmac.digest(secret.encode(), f"{kind}:{value}".encode(), "sha256").hex()  # one C call
    return "P" + digest[:19].upper()


def fallback_key_basis(rows: pd.DataFrame) -> np.ndarray:
    """What an unlinked person's key is made from (`kind:value`): the village's DTKS id, else what the
    village wrote about the person."""
    identity = rows["nik"].fillna("") + "|" + rows["nama"].fillna("") + "|" + rows["tanggal_lahir"].fillna("")
    return ("id:" + rows["id_dtks"]).fillna("row:" + identity).to_numpy(dtype=object)


def decide_outcomes(
    rows: pd.DataFrame,
    decisions: pd.DataFrame,
    per_row: pd.DataFrame,
    persons: pd.DataFrame,
    secret: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (row_outcome, dtks_snapshot)."""
    # Only the columns used below: each column added to a wide frame makes pandas copy all of it.
    # A group spanning kabupaten (`pipelines.province.apply`): its key, and its representative when that
    # is another kabupaten's row (the whole group here is then merged into it).
    group = [c for c in ("group_key", "group_rep_file", "group_rep_row") if c in decisions.columns]
    live = (
        rows.loc[~rows["quarantined"], _LIVE_COLUMNS]
        .merge(
            decisions[["row_id", "person_index", "method", "match_probability", "cluster", *group]],
            on="row_id",
            how="left",
        )
        .merge(per_row, on="row_id", how="left")
    )
    rep_elsewhere = live["group_rep_file"].notna().to_numpy() if group else np.zeros(len(live), dtype=bool)
    representative = representatives(live[~rep_elsewhere])
    rep_rows = live.set_index("row_id").loc[representative.to_numpy()]

    # Person keys: from the Dukcapil NIK when linked, else from the village's own identifiers.
    has_person = rep_rows["nik_dukcapil"].notna()
    # Unlinked persons: the village's DTKS id, else what the village wrote about them. A wrong NIK can be
    # shared by two people (a head's NIK copied to a member), so it never identifies anyone on its own.
    fallback = fallback_key_basis(rep_rows)
    # Two clusters must never share a key, whatever their rows say: the representative row decides.
    taken = pd.Series(fallback).duplicated(keep=False).to_numpy() & ~has_person.to_numpy()
    fallback[taken] = (
        fallback[taken] + "#" + (rep_rows["source_file"] + "#" + rep_rows["source_row"].astype(str)).to_numpy()[taken]
    )
    linked_nik = rep_rows["nik_dukcapil"].to_numpy(dtype=object)
    keys = [
        person_key(secret, "nik", nik) if linked else person_key(secret, *other.split(":", 1))
        for linked, nik, other in zip(has_person.to_numpy(), linked_nik, fallback, strict=True)
    ]
    key_of_cluster = pd.Series(keys, index=representative.index)
    live["person_key"] = live["cluster"].map(key_of_cluster)
    if group:
        basis = live["group_key"]
        keyed = basis.notna().to_numpy()
        live.loc[keyed, "person_key"] = [person_key(secret, *b.split(":", 1)) for b in basis[keyed]]
    rep_of_cluster = representative
    live["is_rep"] = live["row_id"].isin(representative.to_numpy())
    rep_source = live.set_index("row_id").loc[rep_of_cluster.to_numpy(), ["source_file", "source_row"]]
    rep_source.index = rep_of_cluster.index
    live["merged_into_file"] = np.where(live["is_rep"], None, live["cluster"].map(rep_source["source_file"]))
    live["merged_into_row"] = np.where(live["is_rep"], None, live["cluster"].map(rep_source["source_row"]))
    if rep_elsewhere.any():
        live.loc[rep_elsewhere, "merged_into_file"] = live.loc[rep_elsewhere, "group_rep_file"]
        live.loc[rep_elsewhere, "merged_into_row"] = live.loc[rep_elsewhere, "group_rep_row"]

    outcome_live = pd.DataFrame(
        {
            "row_id": live["row_id"],
            "source_file": live["source_file"],
            "source_row": live["source_row"],
            "kode_desa": live["kode_desa"],
            "outcome": np.where(live["is_rep"], OUTCOME_PUBLISHED, OUTCOME_MERGED),
            "person_key": live["person_key"],
            "nik_dukcapil": live["nik_dukcapil"],
            "status_padan": live["status_padan"],
            "match_probability": live["match_probability"].where(live["nik_dukcapil"].notna()).round(6),
            "nik_kandidat": live["nik_kandidat"],
            "merged_into_file": live["merged_into_file"],
            "merged_into_row": live["merged_into_row"],
        }
    )
    quarantined = rows[rows["quarantined"]]
    kode_desa_q = quarantined["kode_desa"].where(
        quarantined["kode_desa"].astype("string").str.fullmatch(r"\d{10}").fillna(False).astype(bool),
        quarantined["file_kode_desa"],
    )
    outcome_q = pd.DataFrame(
        {
            "row_id": quarantined["row_id"],
            "source_file": quarantined["source_file"],
            "source_row": quarantined["source_row"],
            "kode_desa": kode_desa_q,
            "outcome": OUTCOME_QUARANTINED,
            "person_key": None,
            "nik_dukcapil": None,
            "status_padan": None,
            "match_probability": np.nan,
            "nik_kandidat": None,
            "merged_into_file": None,
            "merged_into_row": None,
        }
    )
    row_outcome = (
        pd.concat([outcome_live, outcome_q], ignore_index=True)
        .sort_values(["source_file", "source_row"], kind="stable")
        .reset_index(drop=True)
    )
    row_outcome["merged_into_row"] = row_outcome["merged_into_row"].astype("Int64")

    snapshot = _snapshot(live[live["is_rep"]], live, persons)
    return row_outcome, snapshot


def _snapshot(reps: pd.DataFrame, live: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    idx = reps["person_index"].fillna(-1).astype(np.int64).to_numpy()
    linked = reps["nik_dukcapil"].notna().to_numpy()
    columns = ["NO_KK", "NIK", "NAMA_LGKP", "JENIS_KLMIN", "TGL_LHR", "STAT_HBKEL"]
    lookup = persons[columns] if len(persons) else persons[columns].reindex([0])  # blank when no extract
    person = lookup.iloc[np.where(linked, idx, 0)].reset_index(drop=True)
    reps = reps.reset_index(drop=True)

    def pick(dukcapil_column: str, row_column: str) -> np.ndarray:
        return np.where(linked, person[dukcapil_column].to_numpy(), reps[row_column].to_numpy())

    counts = live.groupby("cluster").size()
    dead, ineligible = reps["dead"].fillna(False).to_numpy(bool), reps["ineligible"].fillna(False).to_numpy(bool)
    proposed_removal = reps["status_usulan"].eq("NONAKTIF").to_numpy()
    status = np.where(dead | ineligible | proposed_removal, NONAKTIF, AKTIF)
    reason = np.select(
        [dead, ineligible, proposed_removal], [MENINGGAL, ALASAN_TIDAK_LAYAK, reps["alasan_nonaktif"].to_numpy()], None
    )
    # An unlinked person keeps the NIK the village wrote only if it can be theirs: well-formed, not a
    # Dukcapil person's, and claimed by nobody else in the snapshot. The finding says why it is empty.
    nik = pick("NIK", "nik")
    own_nik = ~linked & reps["nik"].isin(persons["NIK"]).to_numpy()
    well_formed = nik_structure_valid(reps["nik"])
    nik[~linked & (own_nik | ~well_formed)] = None
    claimed = pd.Series(nik)
    shared = (claimed.notna() & claimed.duplicated(keep=False)).to_numpy()
    nik[shared & ~linked] = None
    relation = pick("STAT_HBKEL", "hubungan_keluarga")
    relation = np.where(pd.isna(relation), reps["hubungan_keluarga"].to_numpy(), relation)
    # Built once and ordered once: every later change to a wide frame of strings would copy all of it.
    snapshot = pd.DataFrame(
        {
            "person_key": reps["person_key"],
            "kode_desa": reps["kode_desa"],
            "no_kk": pick("NO_KK", "no_kk"),
            "nik": nik,
            "nama": pick("NAMA_LGKP", "nama"),
            "jenis_kelamin": pick("JENIS_KLMIN", "jenis_kelamin"),
            "tanggal_lahir": pick("TGL_LHR", "tanggal_lahir"),
            "hubungan_keluarga": relation,
            "status_padan": reps["status_padan"],
            "nik_dukcapil": reps["nik_dukcapil"],
            "status_dtks": status,
            "alasan_nonaktif": reason,
            "source_file": reps["source_file"],
            "source_row": reps["source_row"],
            "kode_kab": reps["kode_desa"].str.slice(0, 4),
            "id_dtks": reps["id_dtks"],
            "program": reps["program"],
            "jumlah_baris": reps["cluster"].map(counts).to_numpy(),
        }
    )
    keys = ["kode_desa", "no_kk", "person_key"]
    order = snapshot[keys].sort_values(keys, kind="stable").index.to_numpy()
    return snapshot.take(order).reset_index(drop=True)


QUARANTINE_COLUMNS = ["source_file", "source_row", "kode_desa", "raw_fields", "reasons", "categories"]


def quarantine_records(raw: pd.DataFrame, reasons: pd.DataFrame, quarantined_ids: np.ndarray) -> pd.DataFrame:
    """The `quarantine` table: each quarantined row's original fields and all its reasons."""
    if len(quarantined_ids) == 0:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    subset = raw.set_index("row_id").loc[quarantined_ids]
    fields = raw_fields(subset)
    mine = reasons[reasons["row_id"].isin(quarantined_ids)]
    listed: dict[int, list[dict]] = {}
    for row_id, category, field, message in zip(
        mine["row_id"], mine["category"], mine["field"], mine["message"], strict=True
    ):
        listed.setdefault(row_id, []).append({"category": category, "field": field, "message": message})
    return pd.DataFrame(
        {
            "source_file": subset["source_file"].to_numpy(),
            "source_row": subset["source_row"].to_numpy(),
            "kode_desa": subset["file_kode_desa"].to_numpy(),
            "raw_fields": [json.dumps(f, ensure_ascii=False) for f in fields],
            "reasons": [json.dumps(listed.get(i, []), ensure_ascii=False) for i in subset.index],
            "categories": [";".join(sorted({r["category"] for r in listed.get(i, [])})) for i in subset.index],
        },
        columns=QUARANTINE_COLUMNS,
    )


def raw_fields(raw: pd.DataFrame) -> pd.Series:
    """Each row's original fields as a dict (contract columns that were present, plus extra columns)."""
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
