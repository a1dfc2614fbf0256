"""`offer`: what one kabupaten sends to each bucket of the province step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from pipelines.decisions import EXACT, LINK
from pipelines.held import HELD
from pipelines.link.prepare import prepare_dukcapil, prepare_submissions
from pipelines.outcomes import fallback_key_basis
from pipelines.province.keys import PARTITION_KEYS, bucket_of_each_key, key_hashes
from pipelines.survivor import representative_order

ROW, PERSON, MODEL = "row", "person", "model"
ROW_FIELDS = ["row_id", "source_file", "source_row", "kode_desa", "nik", "no_kk", "nama", "tanggal_lahir"]
ROW_FIELDS += ["jenis_kelamin", "nama_ibu_kandung"]
# The person columns linkage compares and the findings and the snapshot read (contract 1.2).
PERSON_FIELDS = ["NIK", "NO_KK", "NAMA_LGKP", "TGL_LHR", "JENIS_KLMIN", "NAMA_LGKP_IBU", "TGL_MATI"]
PERSON_FIELDS += ["JENIS_PKRJN", "STAT_HBKEL"]
MAX_MEMBERS = 11  # labels a group carries: the findings list ten others
KEY_COLUMNS = [f"key_{name}" for name, _ in PARTITION_KEYS]


def label(source_file: pd.Series, source_row: pd.Series) -> pd.Series:
    """How the findings name a row: `<file> baris <row>`."""
    return source_file.astype(str) + " baris " + source_row.astype(str)


def _nodes(kode_kab: str, live: pd.DataFrame, person_nik: np.ndarray) -> pd.Series:
    """Per local cluster, what the rest of the province must know of it to decide a group spanning
    kabupaten the same way everywhere (JSON): its rows' labels, its representative's rank and the key an
    unlinked person would get from it, and its Dukcapil person."""
    ordered = representative_order(live.assign(_nik=person_nik, _key=fallback_key_basis(live)))  # by cluster
    cluster = ordered["cluster"].to_numpy()
    start = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]]) if len(cluster) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[start, len(cluster)])
    labels = label(ordered["source_file"], ordered["source_row"]).to_numpy(dtype=object)
    nik = ordered.groupby("cluster", sort=True)["_nik"].first().to_numpy(dtype=object)
    method, prob = ordered["_method"].to_numpy()[start], ordered["_prob"].to_numpy()[start]
    files, rows = ordered["source_file"].to_numpy()[start], ordered["source_row"].to_numpy()[start]
    keys = ordered["_key"].to_numpy()[start]
    text = [
        json.dumps(
            {
                "kab": kode_kab,
                "cluster": int(cluster[s]),
                "members": labels[s : s + min(n, MAX_MEMBERS)].tolist(),
                "size": int(n),
                "rep": [float(m), float(p), f, int(r)],
                "key": k,
                "nik": v if isinstance(v, str) else None,
            },
            ensure_ascii=False,
        )
        for s, n, m, p, f, r, k, v in zip(start, sizes, method, prob, files, rows, keys, nik, strict=True)
    ]
    return pd.Series(text, index=cluster[start], dtype=object)


def offer_pieces(
    kode_kab: str,
    rows: pd.DataFrame,
    persons: pd.DataFrame,
    decisions: pd.DataFrame,
    n_buckets: int,
    link_diagnostics: dict[str, Any] | None = None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """One kabupaten's contribution to each bucket, one bucket at a time ((bucket, records); buckets it
    has nothing for are left out). `rows`, `persons` and `decisions` are its validate rows, validate persons and link
    decisions; `link_diagnostics` its link diagnostics (the fitted model, so the province scores its rows
    as it did; without it each bucket fits its own).

    - Every submission row the kabupaten did not link exactly: another extract may know its person, or
      another kabupaten's rows may be the same person. A row linked exactly (its NIK Dukcapil knows, with
      agreeing identity) keeps its person wherever else that NIK is looked for, since NIKs are unique.
    - Every Dukcapil person: another kabupaten's row may be theirs. A person with rows linked here carries
      their group (`node`), so a row elsewhere that links to them joins it.
    - The model, in every bucket (one record).
    Records go to the bucket of each of their partition keys (`keys.PARTITION_KEYS`)."""
    live = rows.loc[~rows["quarantined"].to_numpy(dtype=bool)]
    live = live.merge(
        decisions[["row_id", "decision", "method", "match_probability", "person_index", "cluster"]],
        on="row_id",
        how="inner",
    ).reset_index(drop=True)
    linked = live["decision"].eq(LINK).to_numpy()
    person_index = live["person_index"].fillna(-1).astype(np.int64).to_numpy()
    person_nik = np.where(linked & (person_index >= 0), persons["NIK"].to_numpy()[np.maximum(person_index, 0)], None)
    extra = [c for c in ("id_dtks", "status_usulan") if c in live.columns]
    nodes = _nodes(kode_kab, live[[*ROW_FIELDS, *extra, "cluster", "method", "match_probability"]], person_nik)

    offered = live[~live["method"].eq(EXACT).to_numpy()]
    row_records = offered[ROW_FIELDS].copy()
    row_records[HELD] = offered[HELD].fillna(False).astype(bool) if HELD in offered else False
    row_records["local_decision"] = offered["decision"].to_numpy()
    row_records["local_probability"] = offered["match_probability"].to_numpy()
    row_records["local_nik"] = person_nik[~live["method"].eq(EXACT).to_numpy()]
    row_records["node"] = offered["cluster"].map(nodes).to_numpy()
    row_records.insert(0, "kind", ROW)

    prepared_persons = prepare_dukcapil(persons)
    person_records = persons[PERSON_FIELDS].reset_index(drop=True).copy()
    person_records["domicile"] = persons["kode_desa"].to_numpy()
    counts = prepared_persons["name"].value_counts()
    person_records["name_norm"] = prepared_persons["name"].astype(object).to_numpy()
    person_records["name_count"] = prepared_persons["name"].map(counts).astype(float).fillna(0).to_numpy()
    cluster_of_person = pd.Series(live.loc[linked, "cluster"].to_numpy(), index=person_index[linked])
    cluster_of_person = cluster_of_person[~cluster_of_person.index.duplicated()]
    person_records["node"] = pd.Series(np.arange(len(persons))).map(cluster_of_person).map(nodes).to_numpy()
    person_records.insert(0, "kind", PERSON)

    row_keys, person_keys = key_hashes(prepare_submissions(offered)), key_hashes(prepared_persons)
    for i, name in enumerate(KEY_COLUMNS):  # a bucket keeps only the persons that share a key with its rows
        row_records[name] = row_keys[:, i]
        person_records[name] = person_keys[:, i]
    row_pos, row_bucket = bucket_of_each_key(row_keys, n_buckets)
    person_pos, person_bucket = bucket_of_each_key(person_keys, n_buckets)
    model = pd.DataFrame({"kind": [MODEL], "detail": [json.dumps(_model_record(persons, live, link_diagnostics))]})
    row_groups = pd.Series(row_pos).groupby(row_bucket).indices
    person_groups = pd.Series(person_pos).groupby(person_bucket).indices
    for bucket in sorted(set(row_groups) | set(person_groups)):
        parts = [model]
        if bucket in row_groups:
            parts.append(row_records.iloc[row_pos[row_groups[bucket]]])
        if bucket in person_groups:
            parts.append(person_records.iloc[person_pos[person_groups[bucket]]])
        piece = pd.concat(parts, ignore_index=True)
        piece["kode_kab"] = kode_kab
        yield int(bucket), piece


def offer(
    kode_kab: str,
    rows: pd.DataFrame,
    persons: pd.DataFrame,
    decisions: pd.DataFrame,
    n_buckets: int,
    link_diagnostics: dict[str, Any] | None = None,
) -> dict[int, pd.DataFrame]:
    """`offer_pieces` as one dict (bucket -> records): for tests and the in-process reference; a task
    writes each piece as it comes (`offer_pieces`), so it never holds all of them (some nine records per
    person)."""
    return dict(offer_pieces(kode_kab, rows, persons, decisions, n_buckets, link_diagnostics))


def _model_record(persons: pd.DataFrame, live: pd.DataFrame, diagnostics: dict[str, Any] | None) -> dict[str, Any]:
    """The kabupaten's model and the sizes it was fitted on: a bucket restates the priors for the
    province from them (`resolve.province_model`)."""
    diagnostics = diagnostics or {}
    linked = int(live["decision"].eq(LINK).sum())
    return {
        "model": diagnostics.get("model"),
        "persons": len(persons),
        "rows": len(live),
        "rows_blocked": int(diagnostics.get("rows_blocked", len(live))),
        "unlinked_rows": len(live) - linked,
    }
