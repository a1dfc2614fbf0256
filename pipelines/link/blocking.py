"""Candidate pairs: several blocking rules, each cheap, together forgiving of any single error.

A row is found by at least one rule unless it has errors in everything the rules key on. Each rule is
an equi-join on one or more feature columns. Joins run on integer keys: the categorical codes of
`prepare.py` (mapped into one code space for both sides) and the int64 identifier keys, combined per
rule into one int64 key, then matched by sorting and binary search. The union over rules is taken on
integer pair codes (recordlinkage's own `Index.union` of MultiIndexes is far slower at millions of
pairs). `MultiBlock` is a recordlinkage index algorithm, so it composes with the rest of the toolkit.

The rules are chosen by measured pair completeness on generated quarters (`benchmarks/bench_link.py`
reports it): birth year joins the name-based rules because village operators get the year right even
when they write a placeholder day or swap day and month, and it cuts the blocks of common first names
(MUHAMMAD, SITI, BAIQ) by two orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from recordlinkage.base import BaseIndexAlgorithm


@dataclass(frozen=True)
class BlockingRule:
    name: str
    left_on: tuple[str, ...]
    right_on: tuple[str, ...]


def rule(name: str, *left: str, right: tuple[str, ...] | None = None) -> BlockingRule:
    return BlockingRule(name, tuple(left), tuple(right) if right else tuple(left))


# Submission rows against Dukcapil persons (the rows the exact pass left).
LINK_RULES: tuple[BlockingRule, ...] = (
    rule("nik", "nik_key"),
    rule("kk", "kk_key"),
    # The family's card as Dukcapil knows it (from members linked exactly): a family that moved, with a
    # stale KK, whose member has no usable NIK and a birth date or village that no other rule meets.
    rule("kk_family", "kk_family_key"),
    rule("dob+kec", "dob", "kec"),
    rule("first+year+desa", "first", "year", "desa"),
    rule("last+dob", "last", "dob"),
    rule("first+dob", "first", "dob"),
    rule("dob+initial", "dob", "initial"),
    rule("swapped_dob+kec", "dob_swapped", "kec", right=("dob", "kec")),
    rule("name+year+kec", "name", "year", "kec"),
    rule("first+year+mother", "first", "year", "mother"),
    # A birth year typed wrong (into the future, a century back) with no usable NIK or KK: the whole name,
    # or the mother's name and the sex, with the month and day of birth, over every extract.
    rule("name+birthday", "name", "birthday"),
    rule("mother+birthday+sex", "mother", "birthday", "sex"),
    rule("nik_head12", "nik_head12"),
    rule("nik_tail10", "nik_tail10"),
)

# Submission rows against each other (duplicates among rows Dukcapil does not know).
DEDUPE_RULES: tuple[BlockingRule, ...] = (
    rule("nik", "nik_key"),
    rule("name+dob", "name", "dob"),
    rule("name+desa", "name", "desa"),
    rule("first+dob+desa", "first", "dob", "desa"),
    rule("kk+first", "kk_key", "first"),
    rule("kk+dob", "kk_key", "dob"),  # a misspelt first name; twins meet here too, and are told apart later
)


def _column_codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Both columns as non-negative integer codes in one space (-1 where missing, or where a left value
    does not occur on the right), and an upper bound of the codes."""
    if isinstance(right.dtype, pd.CategoricalDtype):
        r_codes = right.cat.codes.to_numpy().astype(np.int64)
        bound = len(right.cat.categories)
        if isinstance(left.dtype, pd.CategoricalDtype):
            l_cats, r_cats = left.cat.categories, right.cat.categories
            l_codes = left.cat.codes.to_numpy().astype(np.int64)
            if l_cats is not r_cats and not (len(l_cats) == len(r_cats) and l_cats.equals(r_cats)):
                mapping = np.append(r_cats.get_indexer(l_cats), -1)
                l_codes = mapping[l_codes]
            return l_codes, r_codes, bound
        l_codes = right.cat.categories.get_indexer(left.to_numpy(dtype=object)).astype(np.int64)
        return l_codes, r_codes, bound
    if pd.api.types.is_integer_dtype(right.dtype) and pd.api.types.is_integer_dtype(left.dtype):
        l_codes, r_codes = left.to_numpy(np.int64), right.to_numpy(np.int64)
        return l_codes, r_codes, int(max(l_codes.max(initial=-1), r_codes.max(initial=-1))) + 1
    codes, uniques = pd.factorize(pd.concat([left, right], ignore_index=True), use_na_sentinel=True)
    return codes[: len(left)].astype(np.int64), codes[len(left) :].astype(np.int64), len(uniques)


def _compress(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Non-negative values of both arrays renumbered 0..k-1 (-1 stays -1)."""
    both = np.concatenate([a, b])
    valid = both >= 0
    uniques, inverse = np.unique(both[valid], return_inverse=True)
    out = np.full(len(both), -1, dtype=np.int64)
    out[valid] = inverse
    return out[: len(a)], out[len(a) :], len(uniques)


def _rule_keys(left: pd.DataFrame, right: pd.DataFrame, r: BlockingRule) -> tuple[np.ndarray, np.ndarray]:
    """One int64 key per record for the rule (-1 where any of its columns is missing). Integer columns are
    used as they are (negative = missing); others through their categorical codes."""
    l_key = np.zeros(len(left), dtype=np.int64)
    r_key = np.zeros(len(right), dtype=np.int64)
    bound = 1
    for l_col, r_col in zip(r.left_on, r.right_on, strict=True):
        lc, rc, card = _column_codes(left[l_col], right[r_col])
        if bound * card >= 2**62:  # keep the combined key inside int64
            l_key, r_key, bound = _compress(l_key, r_key)
            if bound * card >= 2**62:
                lc, rc, card = _compress(lc, rc)
        l_key = np.where((l_key >= 0) & (lc >= 0), l_key * card + lc, -1)
        r_key = np.where((r_key >= 0) & (rc >= 0), r_key * card + rc, -1)
        bound *= max(card, 1)
    return l_key, r_key


def join_keys(l_key: np.ndarray, r_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (left position, right position) with equal non-negative keys. The smaller side is sorted into
    runs of equal keys; each key of the other side finds its run through a hash table."""
    if len(l_key) > len(r_key):
        right_pos, left_pos = join_keys(r_key, l_key)
        return left_pos, right_pos
    order = np.argsort(l_key, kind="stable")
    valid = order[l_key[order] >= 0]
    keys, run_start, run_length = np.unique(l_key[valid], return_index=True, return_counts=True)
    run = pd.Index(keys).get_indexer(r_key)  # -1: no left record has this key (or it is missing)
    start = np.append(run_start, 0)[run]  # run -1 picks the appended 0
    counts = np.append(run_length, 0)[run]
    total = int(counts.sum())
    right_pos = np.repeat(np.arange(len(r_key), dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    left_pos = valid[np.repeat(start, counts) + offsets].astype(np.int64)
    return left_pos, right_pos


def _rule_pairs(left: pd.DataFrame, right: pd.DataFrame, r: BlockingRule) -> tuple[np.ndarray, np.ndarray]:
    l_key, r_key = _rule_keys(left, right, r)
    return join_keys(l_key, r_key)


class MultiBlock(BaseIndexAlgorithm):
    """Union of blocking rules. After `index`, `rule_counts` holds the pairs each rule produced.

    `left_subset` (positions in the first frame) restricts the left side, for dedupe of a few rows against
    all: pairs are then every (i, j), i in the subset, j any other row, each unordered pair once."""

    def __init__(self, rules: tuple[BlockingRule, ...], *, left_subset: np.ndarray | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rules = rules
        self.left_subset = left_subset
        self.rule_counts: dict[str, int] = {}

    def _union(self, left: pd.DataFrame, right: pd.DataFrame, dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
        width = np.int64(len(right))
        subset = self.left_subset if dedupe else None
        codes = []
        for r in self.rules:
            l_key, r_key = _rule_keys(left, right, r)
            if subset is not None:
                li, ri = join_keys(l_key[subset], r_key)
                li = subset[li]
                li, ri = np.minimum(li, ri), np.maximum(li, ri)
                keep = li < ri
            else:
                li, ri = join_keys(l_key, r_key)
                keep = li < ri if dedupe else slice(None)  # each unordered pair once, no self-pairs
            li, ri = li[keep], ri[keep]
            self.rule_counts[r.name] = len(li)
            codes.append(li * width + ri)
        joined = np.unique(np.concatenate(codes)) if codes else np.empty(0, np.int64)
        return joined // width, joined % width

    def _link_index(self, df_a: pd.DataFrame, df_b: pd.DataFrame) -> pd.MultiIndex:
        li, ri = self._union(df_a, df_b, dedupe=False)
        return pd.MultiIndex(levels=[df_a.index.values, df_b.index.values], codes=[li, ri], verify_integrity=False)

    def _dedup_index(self, df_a: pd.DataFrame) -> pd.MultiIndex:
        li, ri = self._union(df_a, df_a, dedupe=True)
        return pd.MultiIndex(levels=[df_a.index.values, df_a.index.values], codes=[li, ri], verify_integrity=False)
