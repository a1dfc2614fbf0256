"""Link: submission rows to Dukcapil persons, and submission rows to each other.

1. Exact pass: a row whose NIK Dukcapil knows, and whose name and birth date (allowing a placeholder,
   swapped or one-part-wrong date) agree with that person, is linked at once. Most rows end here, before
   any fuzzy work; their family cards then help the rest (`family_cards`).
2. The other rows are blocked against Dukcapil (`blocking.LINK_RULES`), compared level by level
   (`comparisons`), and scored with a Fellegi-Sunter model (`model`) whose u comes from random pairs and
   whose m comes from EM over the candidate pairs. The best candidate of each row is linked above the
   link threshold, sent to a clerk between the review and link thresholds, and dropped below.
3. Rows still unlinked are compared with all rows (`blocking.DEDUPE_RULES`); confident pairs join the
   rows into one person. A cluster never holds two Dukcapil persons. A row held for linkage (an
   implausible birth date) is one person with other rows only through its Dukcapil person.
Every decision keeps its comparison levels and weights (`candidates`, `row_edges`) for the auditor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipelines import survivor
from pipelines.config import LinkSettings
from pipelines.decisions import DUPLICATE, EXACT, LINK, NONE, PROBABILISTIC, REVIEW
from pipelines.held import HELD
from pipelines.link.blocking import DEDUPE_RULES, LINK_RULES, MultiBlock
from pipelines.link.comparisons import COMPARISONS, MISSING, compare_pairs
from pipelines.link.model import FellegiSunter
from pipelines.link.prepare import identifier_keys, prepare_dukcapil, prepare_submissions
from pipelines.names import distinct_words_agree

log = logging.getLogger(__name__)

TOP_CANDIDATES = 3


@dataclass
class LinkResult:
    rows: pd.DataFrame  # per row_id: cluster, person_index, decision, method, match_weight, match_probability
    candidates: pd.DataFrame  # row_id, rank, person_index, levels (lvl_*), weights (w_*), match_weight, probability
    row_edges: pd.DataFrame  # row_id_a, row_id_b, levels, weights, match_weight, probability, accepted, basis
    diagnostics: dict[str, Any] = field(default_factory=dict)
    pairs: pd.DataFrame | None = None  # row_id, person_index, source ("exact"/"blocking"): every pair considered


def _pairs(left_pos: np.ndarray, right_pos: np.ndarray, left_index, right_index) -> pd.MultiIndex:
    return pd.MultiIndex(levels=[left_index, right_index], codes=[left_pos, right_pos], verify_integrity=False)


def _identity_agrees(levels: pd.DataFrame) -> np.ndarray:
    """The exact pass's test: the NIK's owner has the row's name and (nearly) its birth date. Sex alone is
    not enough: a son named after his father, given his father's NIK, has the same name and sex."""
    name_ok = (levels["name"] >= 2) | (levels["name_tokens"] == 2)
    return (name_ok & (levels["dob"] >= 1)).to_numpy()


def name_frequencies(D: pd.DataFrame) -> pd.Series:
    """Share of Dukcapil persons bearing each normalised name: the u of exact agreement on that name."""
    return D["name"].value_counts(normalize=True)


def with_name_tf(levels: pd.DataFrame, names: pd.Series, frequencies: pd.Series, floor: float) -> pd.DataFrame:
    """Adds `tf_name` (the name's frequency, where the pair agrees exactly on it)."""
    tf = names.map(frequencies).to_numpy(dtype=float)
    tf = np.where(levels["name"].to_numpy() == 3, np.maximum(np.nan_to_num(tf, nan=floor), floor), np.nan)
    return levels.assign(tf_name=tf)


def training_sessions(levels: pd.DataFrame) -> list[tuple[str, np.ndarray, set[str]]]:
    """Which pairs train which comparisons (see `FellegiSunter.fit_m`)."""
    return [
        ("nik sama", (levels["nik"] == 3).to_numpy(), {"nik"}),
        (
            "nama dan tanggal lahir sama",
            ((levels["name"] == 3) & (levels["dob"] == 5)).to_numpy(),
            {"name", "name_tokens", "dob"},
        ),
    ]


def _sample_pairs(left_keys: np.ndarray, right_keys: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the pairs u is estimated on: every (left, right) whose keys hash into the same one of B
    buckets, B the power of two that gives closest to n pairs (0.7n to 1.4n; every pair when there are fewer).

    A pair is sampled for its two rows' own keys, never their positions or the quarter's size: rows added
    anywhere else (another kabupaten's files, a village's resubmission) bring their own pairs and leave every
    other pair, so the rest of the quarter is scored by the same model. Drawing n pairs by position instead
    resampled everything whenever a row was added, and at a million persons that moved some probabilities
    by up to 0.7."""
    n_left, n_right = len(left_keys), len(right_keys)
    if not n_left or not n_right:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    buckets = 1 << max(0, round(np.log2(max(n_left * n_right / max(n, 1), 1.0))))
    salt = np.uint64(seed * int(_GOLDEN) % 2**64)
    left = pd.util.hash_array(left_keys ^ salt) & np.uint64(buckets - 1)
    right = pd.util.hash_array(right_keys ^ salt) & np.uint64(buckets - 1)
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    low, high = np.searchsorted(ordered, left, "left"), np.searchsorted(ordered, left, "right")
    counts = (high - low).astype(np.int64)
    total = int(counts.sum())
    left_pos = np.repeat(np.arange(n_left, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts  # where each left row's pairs start in the output
    right_pos = order[np.repeat(low - first, counts) + np.arange(total)]
    return left_pos, right_pos.astype(np.int64)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # spreads small integers over 64 bits before hashing


def _row_keys(rows: pd.DataFrame) -> np.ndarray:
    """A submission row's identity that no other row changes, as 64 bits: its file's name and its row number
    (the file's hash, not its position among the quarter's files, which another file can shift)."""
    codes, files = pd.factorize(rows["source_file"])
    file_hash = pd.util.hash_array(np.asarray(files, dtype=object))
    return file_hash[codes] ^ (rows["source_row"].to_numpy().astype(np.uint64) * _GOLDEN)


def _person_keys(prepared: pd.DataFrame, persons: pd.DataFrame) -> np.ndarray:
    """A Dukcapil person's identity as 64 bits: the NIK's number (the text's hash for a NIK that is none)."""
    numbers = prepared["nik_key"].to_numpy()
    keys = numbers.astype(np.uint64)
    odd = numbers < 0
    if odd.any():
        keys[odd] = pd.util.hash_array(persons["NIK"].astype(str).to_numpy()[odd].astype(object))
    return keys


def _with_weights(
    model: FellegiSunter, pairs_frame: pd.DataFrame, levels: pd.DataFrame, prior: float | None = None
) -> pd.DataFrame:
    weights = model.weights(levels)
    out = pairs_frame.copy()
    for c in COMPARISONS:
        out[f"lvl_{c.name}"] = levels[c.name].to_numpy()
        out[f"w_{c.name}"] = weights[c.name].to_numpy().round(4)
    out["match_weight"] = weights.sum(axis=1).to_numpy().round(4)
    out["match_probability"] = model.probability(levels, prior).round(6)
    return out


class _Clusters:
    """Union-find over submission rows; a cluster remembers its Dukcapil person, if any."""

    def __init__(self, n: int, person: np.ndarray) -> None:
        self.parent = np.arange(n)
        self.person = person.copy()  # per root: Dukcapil index or -1

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        pa, pb = self.person[ra], self.person[rb]
        if pa >= 0 and pb >= 0 and pa != pb:
            return False  # two different Dukcapil persons are never one person
        self.parent[rb] = ra
        self.person[ra] = pa if pa >= 0 else pb
        return True


def _owner_positions(s_key: np.ndarray, d_key: np.ndarray) -> np.ndarray:
    """For each submission key, the position of the first Dukcapil person with that key (-1: none)."""
    if len(d_key) == 0:
        return np.full(len(s_key), -1, dtype=np.int64)
    order = np.argsort(d_key, kind="stable")
    ordered = d_key[order]
    at = np.clip(np.searchsorted(ordered, s_key), 0, len(ordered) - 1)
    return np.where((ordered[at] == s_key) & (s_key >= 0), order[at], -1).astype(np.int64)


def family_cards(s_card: np.ndarray, exact_rows: np.ndarray, exact_cards: np.ndarray) -> np.ndarray:
    """Per submission row, the Dukcapil KK of *another* row of its submitted family card (`s_card`, int keys)
    that the exact pass linked (`exact_rows` positions, `exact_cards` their Dukcapil KK); None if none."""
    n = len(s_card)
    out = np.full(n, None, dtype=object)
    family = s_card[exact_rows]
    keep = family >= 0
    if not keep.any():
        return out
    family, rows, cards = family[keep], exact_rows[keep], exact_cards[keep]
    order = np.argsort(family, kind="stable")
    family, rows, cards = family[order], rows[order], cards[order]
    start = np.searchsorted(family, s_card, side="left")
    count = np.searchsorted(family, s_card, side="right") - start
    has = (s_card >= 0) & (count > 0)
    first = np.clip(start, 0, len(family) - 1)
    use_first = has & (rows[first] != np.arange(n))
    use_second = has & ~use_first & (count > 1)
    out[use_first] = cards[first[use_first]]
    out[use_second] = cards[np.clip(first[use_second] + 1, 0, len(family) - 1)]
    return out


def family_card_keys(cards: pd.Series) -> np.ndarray:
    """The family cards as the int64 keys blocking joins on (-1: none), like `kk_key`."""
    present = cards.notna().to_numpy()
    out = np.full(len(cards), -1, dtype=np.int64)
    if present.any():
        out[present] = identifier_keys(cards[present].reset_index(drop=True))
    return out


def _roots(parent: np.ndarray) -> np.ndarray:
    """Every element's root in a union-find parent array (pointer jumping, no Python loop)."""
    roots = parent.copy()
    while True:
        nxt = roots[roots]
        if np.array_equal(nxt, roots):
            return roots
        roots = nxt


def _cluster(person_of_row: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[_Clusters, np.ndarray]:
    """Union-find over the rows: those linked to one Dukcapil person start as one cluster (rooted at the
    first of them), then the pairs (a, b) join in order, each unless it would make two persons one.
    Returns the clusters and, per pair, whether it joined."""
    clusters = _Clusters(len(person_of_row), person_of_row)
    linked_pos = np.flatnonzero(person_of_row >= 0)
    clusters.parent[linked_pos] = pd.Series(linked_pos).groupby(person_of_row[linked_pos]).transform("min").to_numpy()
    joined = np.array([clusters.union(int(i), int(j)) for i, j in zip(a, b, strict=True)], dtype=bool)
    return clusters, joined


def _family_nik_owners(S: pd.DataFrame, D: pd.DataFrame, rows: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Per submission row, the Dukcapil person whose NIK it carries when that person is another member of
    the row's family (the exact pass rejected the pair, and the owner's card is the row's card or its
    family's): the head's NIK copied to a child says which family, not which member. -1 elsewhere."""
    out = np.full(len(S), -1, dtype=np.int64)
    card = D["kk"].to_numpy()[owners]
    own, family = S["kk"].to_numpy()[rows], S["kk_family"].to_numpy()[rows]
    same = pd.notna(card) & (((card == own) & pd.notna(own)) | ((card == family) & pd.notna(family)))
    out[rows[same]] = owners[same]
    return out


def _held(rows: pd.DataFrame, order: pd.Index) -> np.ndarray:
    """Per row (in `order`, row ids), whether validation held it for linkage."""
    if HELD not in rows.columns:
        return np.zeros(len(order), dtype=bool)
    held = rows.set_index("row_id")[HELD].fillna(False).astype(bool)
    return held.reindex(order, fill_value=False).to_numpy(dtype=bool)


def _group_edges(
    edges: pd.DataFrame,
    decided: pd.DataFrame,
    rows: pd.DataFrame,
    S: pd.DataFrame,
    model: FellegiSunter,
    frequencies: pd.Series,
    tf_floor: float,
) -> pd.DataFrame:
    """The duplicate edges with, for every row merged into another, its comparison with the row its group
    publishes (`survivor.representatives`), and each edge's `basis`: how its two rows came to be one person.

    Most merged rows were never compared with each other: rows linked to the same Dukcapil person are one
    person through that link, and only unlinked rows are compared with other rows. Their comparison is
    computed here, for the auditor, with the duplicate model; it decides nothing. `accepted` is then true
    for every pair of rows that ended as one person."""
    ids = S.index.to_numpy()
    source = rows.set_index("row_id").reindex(ids)
    frame = decided.assign(source_file=source["source_file"].to_numpy(), source_row=source["source_row"].to_numpy())
    sizes = frame["cluster"].map(frame["cluster"].value_counts())
    grouped = frame[(sizes > 1).to_numpy()]
    reps = survivor.representatives(grouped) if len(grouped) else pd.Series(dtype=np.int64)
    members = grouped[~grouped["row_id"].isin(reps.to_numpy())]
    kept, other = members["cluster"].map(reps).to_numpy(dtype=np.int64), members["row_id"].to_numpy(dtype=np.int64)
    recorded = pd.MultiIndex.from_arrays([edges["row_id_a"], edges["row_id_b"]])
    wanted = pd.MultiIndex.from_arrays([kept, other])
    reverse = pd.MultiIndex.from_arrays([other, kept])
    new = ~(wanted.isin(recorded) | reverse.isin(recorded))
    if new.any():
        a_pos = S.index.get_indexer(kept[new])
        b_pos = S.index.get_indexer(other[new])
        pairs = _pairs(a_pos, b_pos, S.index, S.index)
        levels = with_name_tf(compare_pairs(pairs, S, S), S["name"].iloc[b_pos], frequencies, tf_floor)
        added = pd.DataFrame({"row_id_a": ids[a_pos], "row_id_b": ids[b_pos]})
        added = _with_weights(model, added, levels, prior=model.dedupe_prior).assign(accepted=False)
        edges = pd.concat([edges, added], ignore_index=True)
    by_row = frame.set_index("row_id")
    cluster_a = by_row["cluster"].reindex(edges["row_id_a"]).to_numpy()
    cluster_b = by_row["cluster"].reindex(edges["row_id_b"]).to_numpy()
    own_link = by_row["method"].isin((EXACT, PROBABILISTIC)) & by_row["decision"].eq(LINK)
    person = by_row["person_index"].where(own_link, -1)
    person_a = person.reindex(edges["row_id_a"]).to_numpy()
    person_b = person.reindex(edges["row_id_b"]).to_numpy()
    one_person = cluster_a == cluster_b
    edges["basis"] = np.select(
        [one_person & (person_a >= 0) & (person_a == person_b), one_person & edges["accepted"].to_numpy(), one_person],
        [survivor.SAME_DUKCAPIL_PERSON, survivor.ROW_COMPARISON, survivor.THROUGH_OTHER_ROWS],
        None,
    )
    edges["accepted"] = one_person
    return edges


def link_submissions(
    rows: pd.DataFrame,
    persons: pd.DataFrame,
    settings: LinkSettings,
    *,
    model: FellegiSunter | None = None,
    frequencies: pd.Series | None = None,
    population: int | None = None,
    known_family_cards: pd.Series | None = None,
) -> LinkResult:
    """Links `rows` to `persons` and to each other. With a fitted `model`, the names' `frequencies` and the
    `population` they are shares of, nothing is estimated: a piece of a province (`pipelines.province`) is
    scored by its kabupaten's parameters, not by what a handful of rows and persons would say.
    `known_family_cards` (by row_id: a Dukcapil KK) gives rows the family card that family members linked
    elsewhere showed (the province's second round), where the exact pass here finds none."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    S = prepare_submissions(rows)
    D = prepare_dukcapil(persons)
    n_s, n_d = len(S), len(D)
    timings["prepare"] = time.perf_counter() - t0

    # 1. Exact pass on NIK.
    t = time.perf_counter()
    owner = _owner_positions(S["nik_key"].to_numpy(), D["nik_key"].to_numpy())
    exact_s = np.flatnonzero(owner >= 0)
    exact_d = owner[exact_s]
    exact_pairs = _pairs(exact_s, exact_d, S.index, D.index)
    frequencies = name_frequencies(D) if frequencies is None else frequencies
    tf_floor = 1.0 / max(population or n_d, 1)  # a name seen once
    exact_levels = with_name_tf(compare_pairs(exact_pairs, S, D), D["name"].iloc[exact_d], frequencies, tf_floor)
    accepted = _identity_agrees(exact_levels)
    # The family card as Dukcapil knows it, from the family members just linked.
    S["kk_family"] = family_cards(S["kk_key"].to_numpy(), exact_s[accepted], D["kk"].to_numpy()[exact_d[accepted]])
    if known_family_cards is not None:
        known = known_family_cards.reindex(S.index).to_numpy(dtype=object)
        S["kk_family"] = np.where(pd.isna(S["kk_family"].to_numpy()) & pd.notna(known), known, S["kk_family"])
    exact_levels["kk_family"] = compare_pairs(exact_pairs, S, D, only=("kk_family",))["kk_family"].to_numpy()
    family_nik = _family_nik_owners(S, D, exact_s[~accepted], exact_d[~accepted])
    # A NIK whose owner is someone else names a family: a head's NIK copied to a member, where the submitted
    # KK is stale (a family that moved) and no member linked exactly to tell the family's card. The row
    # takes its owner's card, and against the owner's family the NIK is no evidence either way (below).
    rejected_owner = np.full(n_s, -1, dtype=np.int64)
    rejected_owner[exact_s[~accepted]] = exact_d[~accepted]
    no_card = pd.isna(S["kk_family"].to_numpy()) & (rejected_owner >= 0)
    if no_card.any():
        cards = S["kk_family"].to_numpy(dtype=object).copy()
        cards[no_card] = D["kk"].to_numpy()[rejected_owner[no_card]]
        S["kk_family"] = cards
    S["kk_family_key"] = family_card_keys(S["kk_family"])
    timings["exact_pass"] = time.perf_counter() - t

    # 2. Block the rest against Dukcapil.
    t = time.perf_counter()
    rest_mask = np.ones(n_s, dtype=bool)
    rest_mask[exact_s[accepted]] = False
    S_rest = S[rest_mask]
    indexer = MultiBlock(LINK_RULES)
    candidate_pairs = indexer.index(S_rest, D)
    timings["blocking"] = time.perf_counter() - t

    t = time.perf_counter()
    candidate_levels = with_name_tf(
        compare_pairs(candidate_pairs, S_rest, D), D["name"].iloc[candidate_pairs.codes[1]], frequencies, tf_floor
    )
    # Against anyone but its owner, a NIK of another member of the row's family is no evidence either way;
    # nor is a NIK whose owner is not the row's person against the owner's own family.
    pair_rows, pair_persons = np.flatnonzero(rest_mask)[candidate_pairs.codes[0]], candidate_pairs.codes[1]
    owner_of_nik = family_nik[pair_rows]
    other = (owner_of_nik >= 0) & (pair_persons != owner_of_nik)
    owner, card = rejected_owner[pair_rows], D["kk_key"].to_numpy()
    owner_card = np.where(owner >= 0, card[np.maximum(owner, 0)], -1)
    other |= (owner >= 0) & (pair_persons != owner) & (owner_card >= 0) & (card[pair_persons] == owner_card)
    candidate_levels["nik"] = np.where(other, MISSING, candidate_levels["nik"].to_numpy()).astype(np.int8)
    timings["compare"] = time.perf_counter() - t

    # 3. Fit the model: u from random pairs, m by EM over all candidate pairs (exact ones included:
    #    they are the bulk of true pairs and show how often true pairs disagree on each field).
    t = time.perf_counter()
    fitted = model is not None
    if model is None:
        model = FellegiSunter()
        rs, rd = _sample_pairs(_row_keys(rows), _person_keys(D, persons), settings.u_sample_pairs, settings.seed)
        model.fit_u(compare_pairs(_pairs(rs, rd, S.index, D.index), S, D))
        training = pd.concat([exact_levels, candidate_levels], ignore_index=True)
        model.fit_m(training, training_sessions(training), max_iterations=settings.em_max_iterations)
        # The prior: matches among the candidates of the rows the exact pass left, per random pair.
        model.fit_prior(candidate_levels, left=len(S_rest), right=n_d)
    timings["train"] = time.perf_counter() - t

    # 4. Decide each rest row's best candidate.
    t = time.perf_counter()
    s_codes = candidate_pairs.codes[0]
    cand = pd.DataFrame(
        {"row_id": S_rest.index.to_numpy()[s_codes], "person_index": candidate_pairs.codes[1].astype(np.int64)}
    )
    cand = _with_weights(model, cand, candidate_levels)
    cand = cand.sort_values(["row_id", "match_weight", "person_index"], ascending=[True, False, True], kind="stable")
    cand["rank"] = cand.groupby("row_id").cumcount() + 1
    top = cand[cand["rank"] <= TOP_CANDIDATES].copy()
    top["method"] = PROBABILISTIC

    exact = pd.DataFrame({"row_id": S.index.to_numpy()[exact_s], "person_index": exact_d})
    exact = _with_weights(model, exact, exact_levels)
    exact["rank"] = 1
    exact["method"] = np.where(accepted, EXACT, "exact_rejected")
    exact_rejected = exact[~accepted]
    candidates = pd.concat([exact[accepted], top], ignore_index=True)

    decided = pd.DataFrame({"row_id": S.index.to_numpy()})
    best = pd.concat([exact[accepted], top[top["rank"] == 1]], ignore_index=True).set_index("row_id")
    decided = decided.join(best[["person_index", "method", "match_weight", "match_probability"]], on="row_id")
    p = decided["match_probability"].fillna(0.0)
    decided["decision"] = np.select(
        [decided["method"].eq(EXACT), p >= settings.link_threshold, p >= settings.review_threshold],
        [LINK, LINK, REVIEW],
        NONE,
    )
    decided.loc[decided["decision"] == NONE, "method"] = NONE
    decided["person_index"] = decided["person_index"].fillna(-1).astype(np.int64)
    timings["decide"] = time.perf_counter() - t

    # 5. Duplicates among rows: each unlinked row against every row.
    t = time.perf_counter()
    linked = decided["decision"].eq(LINK).to_numpy()
    dedupe_pairs = MultiBlock(DEDUPE_RULES, left_subset=np.flatnonzero(~linked)).index(S)
    a_idx, b_idx = dedupe_pairs.codes[0].astype(np.int64), dedupe_pairs.codes[1].astype(np.int64)
    edge_levels = with_name_tf(compare_pairs(dedupe_pairs, S, S), S["name"].iloc[b_idx], frequencies, tf_floor)
    if not fitted:
        model.fit_dedupe_prior(edge_levels, left=int((~linked).sum()), right=n_s)
    edges = pd.DataFrame({"row_id_a": S.index.to_numpy()[a_idx], "row_id_b": S.index.to_numpy()[b_idx]})
    edges = _with_weights(model, edges, edge_levels, prior=model.dedupe_prior)

    person_of_row = np.where(linked, decided["person_index"].to_numpy(), -1)
    confident = np.flatnonzero(edges["match_probability"].to_numpy() >= settings.link_threshold)
    # Twins agree on everything but the words of their names that tell them apart: merging them would
    # drop a child from the registry, so those words must agree too.
    names = S["name"].astype(object).where(S["name"].notna(), "").to_numpy()
    twins = [not distinct_words_agree(names[a_idx[i]], names[b_idx[i]]) for i in confident]
    confident = confident[~np.array(twins, dtype=bool)]
    order = confident[np.argsort(-edges["match_weight"].to_numpy()[confident], kind="stable")]
    clusters, accepted_edges = _cluster(person_of_row, a_idx[order], b_idx[order])
    roots = _roots(clusters.parent)
    cluster_person = clusters.person[roots]
    # A row held for linkage (an implausible birth date: `pipelines.held`) that ends without a Dukcapil
    # person is quarantined: it must not hold other rows together, so they are clustered again without it.
    held = _held(rows, S.index)
    alone = held & (cluster_person < 0) & (np.bincount(roots, minlength=n_s)[roots] > 1)
    if alone.any():
        keep = ~(alone[a_idx[order]] | alone[b_idx[order]])
        clusters, kept_accepted = _cluster(person_of_row, a_idx[order][keep], b_idx[order][keep])
        accepted_edges = np.zeros(len(order), dtype=bool)
        accepted_edges[keep] = kept_accepted
        roots = _roots(clusters.parent)
        cluster_person = clusters.person[roots]
    joined = np.zeros(len(edges), dtype=bool)
    joined[order] = accepted_edges
    edges["accepted"] = joined
    timings["dedupe"] = time.perf_counter() - t

    # A row joined to a linked person's cluster through a confident duplicate edge is that person too.
    via_dup = (~linked) & (cluster_person >= 0)
    if via_dup.any():
        taken = edges[edges["accepted"]]
        edge_prob = (
            pd.concat(
                [
                    taken[["row_id_a", "match_probability"]].rename(columns={"row_id_a": "row_id"}),
                    taken[["row_id_b", "match_probability"]].rename(columns={"row_id_b": "row_id"}),
                ]
            )
            .groupby("row_id")["match_probability"]
            .max()
        )
        ids = S.index.to_numpy()[via_dup]
        decided.loc[via_dup, "person_index"] = cluster_person[via_dup]
        decided.loc[via_dup, "decision"] = LINK
        decided.loc[via_dup, "method"] = DUPLICATE
        decided.loc[via_dup, "match_probability"] = edge_prob.reindex(ids).to_numpy()
        decided.loc[via_dup, "match_weight"] = np.nan
    decided["cluster"] = roots
    decided["match_probability"] = decided["match_probability"].where(decided["decision"] != NONE)
    joined_by_comparison = int(edges["accepted"].sum())
    edges = _group_edges(edges, decided, rows, S, model, frequencies, tf_floor)

    candidates_all = pd.concat([candidates, exact_rejected], ignore_index=True)
    diagnostics = {
        "submission_rows": n_s,
        "dukcapil_persons": n_d,
        "exact_links": int(accepted.sum()),
        "exact_nik_rejected": int((~accepted).sum()),
        "rows_blocked": len(S_rest),
        "candidate_pairs": len(candidate_pairs),
        "pairs_per_rule": indexer.rule_counts,
        "reduction_ratio": float(1 - len(candidate_pairs) / max(len(S_rest) * n_d, 1)),
        "dedupe_pairs": len(edges),
        "dedupe_edges_accepted": joined_by_comparison,
        "group_edges": int(edges["basis"].notna().sum()),
        "decisions": decided["decision"].value_counts().to_dict(),
        "methods": decided["method"].value_counts().to_dict(),
        "model": model.describe(),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    log.info("Linkage: %s", {k: v for k, v in diagnostics.items() if k not in ("model",)})
    pairs = pd.concat(
        [
            pd.DataFrame(
                {"row_id": S.index.to_numpy()[exact_s[accepted]], "person_index": exact_d[accepted], "source": "exact"}
            ),
            pd.DataFrame({"row_id": cand["row_id"].to_numpy(), "person_index": cand["person_index"].to_numpy()}).assign(
                source="blocking"
            ),
        ],
        ignore_index=True,
    )
    return LinkResult(decided, candidates_all, edges, diagnostics, pairs)
