"""`resolve`: one bucket's facts that cross a border between kabupaten."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from pipelines.decisions import LINK, NONE, REVIEW
from pipelines.held import HELD
from pipelines.link import link_submissions
from pipelines.link.model import FellegiSunter
from pipelines.province.keys import sharing_a_key
from pipelines.province.offer import KEY_COLUMNS, MODEL, PERSON, PERSON_FIELDS, ROW, ROW_FIELDS, label

LINKED, OWNER, TOGETHER = "link", "owner", "together"
FACT_COLUMNS = [
    "kind",
    "kode_kab",
    "row_id",
    "source_file",
    "source_row",
    "local_decision",
    "local_probability",
    "node",
    "decision",
    "method",
    "match_probability",
    "match_weight",
    "person_kab",
    "person_node",
    *PERSON_FIELDS,
    "domicile",
    "group",
    "row_no_kk",  # the row's submitted family card: a `link` by the exact pass gives its family's card
]


def province_model(records: list[dict[str, Any]]) -> FellegiSunter | None:
    """One model for the bucket from its kabupaten's: m and u averaged (weighted by the rows and persons
    each was fitted on) and the priors restated per random pair of the province, as one fit over the
    whole quarter states them: expected matches over all pairs. None when a kabupaten sent no model."""
    if not records or any(r.get("model") is None for r in records):
        return None
    models = [FellegiSunter.from_description(r["model"]) for r in records]
    blocked = np.array([r["rows_blocked"] for r in records], dtype=float)
    persons = np.array([r["persons"] for r in records], dtype=float)
    rows = np.array([r["rows"] for r in records], dtype=float)
    unlinked = np.array([r["unlinked_rows"] for r in records], dtype=float)
    matches = sum(m.prior * b * p for m, b, p in zip(models, blocked, persons, strict=True))
    duplicates = sum(m.dedupe_prior * u * r for m, u, r in zip(models, unlinked, rows, strict=True))
    out = FellegiSunter(
        prior=float(np.clip(matches / max(blocked.sum() * persons.sum(), 1), 1e-15, 0.5)),
        dedupe_prior=float(np.clip(duplicates / max(unlinked.sum() * rows.sum(), 1), 1e-15, 0.5)),
    )
    m_weight, u_weight = np.maximum(blocked, 1), np.maximum(persons, 1)
    for c in out.comparisons:
        out.m[c.name] = np.average([m.m[c.name] for m in models], axis=0, weights=m_weight)
        out.u[c.name] = np.average([m.u[c.name] for m in models], axis=0, weights=u_weight)
        seen = np.any([m._u_seen[c.name] for m in models], axis=0)
        out._u_seen[c.name] = out._m_seen[c.name] = seen
    return out


def _frequencies(persons: pd.DataFrame, total: int) -> pd.Series:
    """Each name's share of the province's persons, from the counts each kabupaten sent with its persons."""
    counts = pd.DataFrame({"kab": persons["kode_kab"], "name": persons["name_norm"], "n": persons["name_count"]})
    counts = counts.dropna(subset=["name"]).drop_duplicates(["kab", "name"])
    return counts.groupby("name")["n"].sum() / max(total, 1)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=FACT_COLUMNS)


def resolve(pieces: list[pd.DataFrame], config: Any, *, second_round: bool = False) -> pd.DataFrame:
    """One bucket's cross-kabupaten facts, from every kabupaten's piece of it. The bucket's rows are linked
    against all of its persons, and to each other, by `pipelines.link.link_submissions` scored with the
    province's model (`province_model`). Facts (`kind`):
    - `link`: a row linked (or sent to review) to a person of another kabupaten's extract, with that
      person's columns and group;
    - `owner`: a row whose NIK belongs to a person of another kabupaten's extract (so the NIK is known);
    - `together`: rows of several kabupaten that no extract knows, found to be one person (`group`).
    `config` is the pipeline config (its `link` settings) or the link settings themselves.
    `second_round` (`pipelines.province.family`): the rows carry the card of their family (`family_card`),
    every person given is a candidate, and only `link` facts come out (the first round gave the rest)."""
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return _empty()
    records = pd.concat(pieces, ignore_index=True)
    models = records[records["kind"] == MODEL].drop_duplicates("kode_kab")
    rows = records[records["kind"] == ROW].reset_index(drop=True)
    persons = records[records["kind"] == PERSON].reset_index(drop=True)
    if rows.empty or len(set(rows["kode_kab"]) | set(persons["kode_kab"])) < 2:
        return _empty()
    described = [json.loads(d) for d in models["detail"]]
    total_persons = sum(int(d["persons"]) for d in described)
    frequencies = _frequencies(persons, total_persons) if len(persons) else None
    # Only the persons that share a partition key with a row here can be its person (the bucket holds the
    # others for other buckets' keys that hash alike): the work follows the rows, not the province.
    keys = lambda frame: frame[KEY_COLUMNS].to_numpy(dtype=np.uint64)  # noqa: E731
    if not second_round:
        persons = persons[sharing_a_key(keys(persons), keys(rows))].reset_index(drop=True)
    settings = getattr(config, "link", config)
    linkable = rows[ROW_FIELDS].assign(**{HELD: rows[HELD].eq(True).to_numpy()})
    linkable["row_id"] = np.arange(len(rows))
    dukcapil = persons[PERSON_FIELDS].assign(kode_desa=persons["domicile"].to_numpy())
    result = link_submissions(
        linkable,
        dukcapil,
        settings,
        model=province_model(described),
        frequencies=frequencies,
        population=total_persons,
        known_family_cards=rows["family_card"] if second_round else None,
    )
    decided = result.rows.sort_values("row_id").reset_index(drop=True)
    person = decided["person_index"].to_numpy()
    has_person = person >= 0
    person_kab = np.full(len(person), None, dtype=object)  # a bucket may keep no person at all
    person_kab[has_person] = persons["kode_kab"].to_numpy()[person[has_person]]
    foreign = has_person & (person_kab != rows["kode_kab"].to_numpy())

    def facts(kind: str, mask: np.ndarray, person_pos: np.ndarray | None, **extra: Any) -> pd.DataFrame:
        picked = rows[mask]
        out = pd.DataFrame(
            {
                "kind": kind,
                "kode_kab": picked["kode_kab"].to_numpy(),
                "row_id": picked["row_id"].to_numpy(),
                "source_file": picked["source_file"].to_numpy(),
                "source_row": picked["source_row"].to_numpy(),
                "local_decision": picked["local_decision"].to_numpy(),
                "local_probability": picked["local_probability"].to_numpy(),
                "node": picked["node"].to_numpy(),
                "row_no_kk": picked["no_kk"].to_numpy(),
            }
        )
        for column, values in extra.items():
            out[column] = np.asarray(values)[mask]
        if person_pos is not None:
            chosen = persons.iloc[person_pos]
            out["person_kab"] = chosen["kode_kab"].to_numpy()
            out["person_node"] = chosen["node"].to_numpy()
            for column in [*PERSON_FIELDS, "domicile"]:
                out[column] = chosen[column].to_numpy()
        return out.reindex(columns=FACT_COLUMNS)

    found = [
        facts(
            LINKED,
            foreign & decided["decision"].isin([LINK, REVIEW]).to_numpy(),
            person[foreign & decided["decision"].isin([LINK, REVIEW]).to_numpy()],
            decision=decided["decision"].to_numpy(),
            method=decided["method"].to_numpy(),
            match_probability=decided["match_probability"].to_numpy(),
            match_weight=decided["match_weight"].to_numpy(),
        )
    ]
    if second_round:
        found = [f for f in found if len(f)]
        return pd.concat(found, ignore_index=True) if found else _empty()

    # The owners of the rows' NIKs in other kabupaten's extracts.
    owner = rows["nik"].map(pd.Series(np.arange(len(persons)), index=persons["NIK"]).groupby(level=0).first())
    owner_kab = persons["kode_kab"].reindex(owner.fillna(-1).astype(np.int64)).to_numpy()
    owned = owner.notna().to_numpy() & (owner_kab != rows["kode_kab"].to_numpy())
    owned &= owner.fillna(-1).to_numpy() != np.where(decided["decision"].eq(LINK), person, -2)  # linked: a `link`
    found.append(facts(OWNER, owned, owner.to_numpy()[owned].astype(np.int64)))

    # Rows of several kabupaten that no extract knows and that are one person.
    alone = (decided["decision"] != LINK).to_numpy() & (rows["local_decision"] != LINK).to_numpy()
    cluster = pd.Series(decided["cluster"].to_numpy()[alone])
    kabs = rows["kode_kab"][alone].groupby(cluster.to_numpy()).nunique()
    across = np.zeros(len(rows), dtype=bool)
    across[np.flatnonzero(alone)[cluster.map(kabs).to_numpy() > 1]] = True
    if across.any():
        names = label(rows["source_file"], rows["source_row"])
        first = names[across].groupby(decided["cluster"][across].to_numpy()).min()
        group = np.full(len(rows), None, dtype=object)
        group[across] = decided["cluster"][across].map(first).to_numpy()
        found.append(facts(TOGETHER, across, None, group=group, decision=np.full(len(rows), NONE)))
    found = [f for f in found if len(f)]
    return pd.concat(found, ignore_index=True) if found else _empty()
