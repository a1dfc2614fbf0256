"""`apply`: a kabupaten's link decisions amended by the province's facts; `with_foreign_persons`: the
persons of other extracts its decisions now name, for the findings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pipelines.decisions import DUPLICATE, EXACT, LINK, NONE, PROBABILISTIC, REVIEW
from pipelines.province.offer import PERSON_FIELDS
from pipelines.province.resolve import LINKED, OWNER, TOGETHER

MAX_LISTED = 10  # as the findings list a group's other rows
_RANK = {EXACT: 0, PROBABILISTIC: 1, DUPLICATE: 2}
GROUP_COLUMNS = ["person_nik", "person_kab", "group_elsewhere", "group_rep_file", "group_rep_row", "group_key"]


def chosen_links(facts: pd.DataFrame) -> pd.DataFrame:
    """Per row of any kabupaten, the link to another extract that the province makes: its best candidate
    over every bucket (a link before a review, exact before probabilistic, then the probability), taken
    where it beats what its own kabupaten decided. The same on every kabupaten's call."""
    links = _ranked(facts)
    if links.empty:
        return links
    best = links.drop_duplicates(["kode_kab", "row_id"])
    local_prob = best["local_probability"].astype(float).fillna(0.0)
    prob = best["match_probability"].astype(float).fillna(0.0)
    local = best["local_decision"]
    better = np.where(
        best["decision"].eq(LINK),
        local.ne(LINK) | best["method"].eq(EXACT) | (prob > local_prob),
        local.eq(NONE) | (local.eq(REVIEW) & (prob > local_prob)),
    )
    return best[better].drop(columns=["_decision", "_method", "_prob"]).reset_index(drop=True)


def _ranked(facts: pd.DataFrame) -> pd.DataFrame:
    """The `link` facts, each row's best first (a link before a review, exact before probabilistic, then
    the probability), with the ranking columns `chosen_links` drops."""
    links = facts[facts["kind"] == LINKED]
    return links.assign(
        _decision=links["decision"].ne(LINK).astype(int),
        _method=links["method"].map(_RANK).fillna(9),
        _prob=-links["match_probability"].astype(float).fillna(0.0),
    ).sort_values(["kode_kab", "row_id", "_decision", "_method", "_prob", "NIK"], kind="stable")


class _Groups:
    """Union-find over local groups (a kabupaten's cluster, or a person no row here links to yet); a group
    holds at most one Dukcapil person, as in the linker."""

    def __init__(self) -> None:
        self.parent: dict[tuple, tuple] = {}
        self.nik: dict[tuple, str | None] = {}

    def add(self, node: tuple, nik: str | None) -> None:
        if node not in self.parent:
            self.parent[node] = node
            self.nik[node] = nik

    def find(self, node: tuple) -> tuple:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: tuple, b: tuple) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb or (self.nik[ra] and self.nik[rb] and self.nik[ra] != self.nik[rb]):
            return
        ra, rb = min(ra, rb), max(ra, rb)
        self.parent[rb] = ra
        self.nik[ra] = self.nik[ra] or self.nik[rb]


def _groups(facts: pd.DataFrame, links: pd.DataFrame) -> tuple[_Groups, dict[tuple, dict]]:
    """The groups spanning kabupaten: local groups joined by the chosen links and by `together` facts."""
    groups, info = _Groups(), {}

    def node_of(text: object, fallback: tuple, nik: str | None) -> tuple:
        if isinstance(text, str):
            node = json.loads(text)
            key = (node["kab"], node["cluster"])
            info.setdefault(key, node)
        else:
            key = fallback
            info.setdefault(key, {"kab": fallback[0], "members": [], "rep": None, "key": None, "nik": nik})
        groups.add(key, info[key].get("nik") or nik)
        return key

    moved = links["local_decision"].eq(LINK).to_numpy()  # left a person of their own extract: alone now
    for i, row in enumerate(links.itertuples(index=False)):
        label = f"{row.source_file} baris {row.source_row}"
        if moved[i]:
            mine = (row.kode_kab, f"row{row.row_id}")
            info[mine] = {"kab": row.kode_kab, "members": [label], "rep": None, "key": None, "nik": None}
            groups.add(mine, None)
        else:
            mine = node_of(row.node, (row.kode_kab, f"row{row.row_id}"), None)
        if row.decision != LINK:
            continue
        theirs = node_of(row.person_node, (row.person_kab, f"nik{row.NIK}"), row.NIK)
        groups.nik[theirs] = groups.nik[theirs] or row.NIK
        info[mine].setdefault("links", []).append(
            [_RANK.get(row.method, 9), -float(row.match_probability or 0), row.source_file, int(row.source_row)]
        )
        groups.union(mine, theirs)
    together = facts[facts["kind"] == TOGETHER]
    linked_rows = set(zip(links.loc[links["decision"].eq(LINK), "kode_kab"], links["row_id"], strict=False))
    first: dict[str, tuple] = {}
    for row in together.itertuples(index=False):
        if (row.kode_kab, row.row_id) in linked_rows:
            continue
        mine = node_of(row.node, (row.kode_kab, f"row{row.row_id}"), None)
        groups.union(mine, first.setdefault(row.group, mine))
    return groups, info


GROUP = "group"  # a record of `split`: one group spanning kabupaten, as one kabupaten applies it
GROUP_RECORD_COLUMNS = ["clusters", "rows_alone", "group_elsewhere", "group_key", "group_rep_file", "group_rep_row"]


def _group_records(facts: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Per kabupaten and group spanning kabupaten (or joining several of its local groups through a person
    of another extract): its local clusters and lone rows, the other kabupaten's rows (labels as the
    findings write them), the key of the person and the group's representative when it is elsewhere. The
    groups are built once for the province, from every bucket's facts, so every kabupaten applies the same."""
    groups, info = _groups(facts, links)
    members: dict[tuple, list[tuple]] = {}
    for node in info:
        members.setdefault(groups.find(node), []).append(node)
    out = []
    for root, nodes in members.items():
        kabs = {info[n]["kab"] for n in nodes if info[n]["members"]}  # a person alone has no rows
        reps = [(info[n]["rep"], n) for n in nodes if info[n].get("rep")]
        reps += [(link, n) for n in nodes for link in info[n].get("links", [])]
        rep, rep_node = min(reps, key=lambda r: tuple(r[0])) if reps else (None, None)
        nik = groups.nik[root]
        key = f"nik:{nik}" if nik else (info[rep_node]["key"] if rep_node else None)
        for kode_kab in sorted(kabs):
            here = [n for n in nodes if info[n]["kab"] == kode_kab and info[n]["members"]]
            # Rows of several kabupaten, or several groups here that one person of another extract joins.
            if len(kabs) < 2 and len(here) < 2:
                continue
            elsewhere = sorted(m for n in nodes if info[n]["kab"] != kode_kab for m in info[n]["members"])
            local = [n[1] for n in nodes if info[n]["kab"] == kode_kab]
            clusters = [int(c) for c in local if isinstance(c, int | np.integer)]
            rows_alone = [int(c[3:]) for c in local if isinstance(c, str) and c.startswith("row")]
            rep_elsewhere = rep is not None and info[rep_node]["kab"] != kode_kab
            out.append(
                {
                    "kind": GROUP,
                    "kode_kab": kode_kab,
                    "clusters": json.dumps(clusters),
                    "rows_alone": json.dumps(rows_alone),
                    "group_elsewhere": (
                        "; ".join(elsewhere[:MAX_LISTED]) + (" (dan lainnya)" if len(elsewhere) > MAX_LISTED else "")
                    )
                    if elsewhere
                    else None,
                    "group_key": key,
                    "group_rep_file": rep[2] if rep_elsewhere else None,
                    "group_rep_row": rep[3] if rep_elsewhere else None,
                }
            )
    return pd.DataFrame(out, columns=["kind", "kode_kab", *GROUP_RECORD_COLUMNS])


def split(facts: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Every bucket's facts as each kabupaten needs them (kode_kab -> its facts): the `link` and `owner`
    facts of its rows and its `group` records (`_group_records`). A kabupaten's decide then reads its own
    few facts, not the province's, and never builds the province's groups again."""
    if facts is None or facts.empty:
        return {}
    groups = _group_records(facts, chosen_links(facts))
    # Each row's best `link` fact per person (a row meets a person in up to nine buckets), not only the
    # chosen one: `with_foreign_persons` knows their persons, and `chosen_links` chooses the same.
    links = _ranked(facts).drop_duplicates(["kode_kab", "row_id", "NIK"])
    links = links.drop(columns=["_decision", "_method", "_prob"])
    parts = [p for p in (links, facts[facts["kind"] == OWNER], groups) if len(p)]
    if not parts:
        return {}
    every = pd.concat(parts, ignore_index=True)
    every["kode_kab"] = every["kode_kab"].astype(str)
    return {str(kab): part.reset_index(drop=True) for kab, part in every.groupby("kode_kab", sort=True)}


def apply(kode_kab: str, decisions: pd.DataFrame, facts: pd.DataFrame | None) -> pd.DataFrame:
    """This kabupaten's decisions as the whole quarter's linkage would have made them, from its facts
    (`split`: they concern the few rows that cross a border, not the province).

    - A row linked to another extract's person gets that person (`person_nik`, `person_kab`; `person_index`
      -1 until `with_foreign_persons`), `decision`, `method` and `match_probability`; rows of its local
      group that no extract knew follow it (`duplicate`), as the linker makes them that person too.
    - A row in a group spanning kabupaten gets the other kabupaten's rows (`group_elsewhere`, labels as the
      findings write them), the group's representative when it is elsewhere (`group_rep_file`,
      `group_rep_row`) and what the person's key is made from (`group_key`); its local groups in one
      province group become one cluster."""
    out = decisions.copy()
    for column in GROUP_COLUMNS:
        out[column] = None
    if facts is None or facts.empty:
        return out
    facts = facts[facts["kode_kab"].astype(str) == kode_kab]
    mine = chosen_links(facts)
    at = out.set_index("row_id").index
    pos = at.get_indexer(mine["row_id"].astype(np.int64)) if len(mine) else np.zeros(0, np.int64)
    keep = pos >= 0
    mine, pos = mine[keep], pos[keep]
    for column in ("decision", "method", "match_probability", "match_weight"):
        out.loc[out.index[pos], column] = mine[column].to_numpy()
    out.loc[out.index[pos], "person_index"] = -1
    out.loc[out.index[pos], "person_nik"] = mine["NIK"].to_numpy()
    out.loc[out.index[pos], "person_kab"] = mine["person_kab"].to_numpy()

    # Local mates of a row that now has a person, which no extract knew: that person too.
    newly = mine["decision"].eq(LINK).to_numpy() & mine["local_decision"].ne(LINK).to_numpy()
    by_cluster = pd.DataFrame(
        {
            "nik": mine["NIK"].to_numpy()[newly],
            "kab": mine["person_kab"].to_numpy()[newly],
            "probability": mine["match_probability"].to_numpy()[newly],
        },
        index=out["cluster"].to_numpy()[pos[newly]],
    )
    by_cluster = by_cluster[~by_cluster.index.duplicated()]
    follow = out["cluster"].isin(by_cluster.index).to_numpy() & out["decision"].ne(LINK).to_numpy()
    if follow.any():
        cluster = out.loc[follow, "cluster"]
        out.loc[follow, "decision"] = LINK
        out.loc[follow, "method"] = DUPLICATE
        out.loc[follow, "person_index"] = -1
        out.loc[follow, "person_nik"] = cluster.map(by_cluster["nik"]).to_numpy()
        out.loc[follow, "person_kab"] = cluster.map(by_cluster["kab"]).to_numpy()
        out.loc[follow, "match_probability"] = cluster.map(by_cluster["probability"]).to_numpy()
        out.loc[follow, "match_weight"] = np.nan

    cluster_of = out["cluster"].to_numpy()
    for group in facts[facts["kind"] == GROUP].itertuples(index=False):
        clusters, rows_alone = json.loads(group.clusters), json.loads(group.rows_alone)
        hit = np.isin(cluster_of, clusters) | out["row_id"].isin(rows_alone).to_numpy()
        if clusters:
            out.loc[hit, "cluster"] = min(clusters)
        for column in ("group_elsewhere", "group_key", "group_rep_file", "group_rep_row"):
            value = getattr(group, column)
            if isinstance(value, str) or (value is not None and pd.notna(value)):
                out.loc[hit, column] = int(value) if column == "group_rep_row" else value
    return out


def with_foreign_persons(
    kode_kab: str, persons: pd.DataFrame, decisions: pd.DataFrame, facts: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`persons` with the other extracts' persons this kabupaten's decisions link to and that own its rows'
    NIKs appended, and the decisions pointing at them (`person_index`): the findings and the snapshot then
    read them like its own (a NIK another extract knows is no NIK_TIDAK_DITEMUKAN)."""
    if facts is None or facts.empty or "person_nik" not in decisions:
        return persons, decisions
    mine = facts[(facts["kode_kab"].astype(str) == kode_kab) & facts["kind"].isin([LINKED, OWNER])]
    foreign = mine[[*PERSON_FIELDS, "domicile"]].rename(columns={"domicile": "kode_desa"})
    foreign = foreign[~foreign["NIK"].isin(persons["NIK"])].drop_duplicates("NIK")
    if foreign.empty:
        return persons, decisions
    extended = pd.concat([persons, foreign], ignore_index=True)
    position = pd.Series(np.arange(len(extended)), index=extended["NIK"].to_numpy())
    position = position[~position.index.duplicated()]
    out = decisions.copy()
    named = out["person_nik"].notna().to_numpy()
    out.loc[named, "person_index"] = out.loc[named, "person_nik"].map(position).to_numpy()
    return extended, out
