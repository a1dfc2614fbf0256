"""Candidate pairs: several blocking rules, each cheap, together forgiving of any single error.

A row is found by at least one rule unless it has errors in everything the rules key on. Each rule is
an equi-join on one or more feature columns; the union is taken on integer pair codes (recordlinkage's
own `Index.union` of MultiIndexes is far slower at millions of pairs). `MultiBlock` is a recordlinkage
index algorithm, so it composes with the rest of the toolkit.
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


# Submission rows against Dukcapil persons.
LINK_RULES: tuple[BlockingRule, ...] = (
    rule("nik", "nik"),
    rule("kk", "kk"),
    rule("dob+desa", "dob", "desa"),
    rule("first+desa", "first", "desa"),
    rule("last+dob", "last", "dob"),
    rule("first+dob", "first", "dob"),
    rule("swapped_dob+desa", "dob_swapped", "desa", right=("dob", "desa")),
    rule("name+kec", "name", "kec"),
    rule("nik_head12", "nik_head12"),
    rule("nik_tail10", "nik_tail10"),
)

# Submission rows against each other (duplicates among rows Dukcapil does not know).
DEDUPE_RULES: tuple[BlockingRule, ...] = (
    rule("nik", "nik"),
    rule("name+dob", "name", "dob"),
    rule("name+desa", "name", "desa"),
    rule("first+dob+desa", "first", "dob", "desa"),
    rule("kk+first", "kk", "first"),
)


def add_nik_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """NIK fragments for typo-tolerant blocking: a mistyped serial keeps the first 12 digits, a mistyped
    region code keeps the last 10."""
    nik = frame["nik"].astype("string")
    sixteen = nik.str.len() == 16
    return frame.assign(
        nik_head12=nik.str.slice(0, 12).where(sixteen).astype(object),
        nik_tail10=nik.str.slice(6, 16).where(sixteen).astype(object),
    )


def _rule_pairs(left: pd.DataFrame, right: pd.DataFrame, r: BlockingRule) -> tuple[np.ndarray, np.ndarray]:
    a = left[list(r.left_on)].copy()
    a.columns = list(r.right_on)
    a["_l"] = np.arange(len(left))
    b = right[list(r.right_on)].copy()
    b["_r"] = np.arange(len(right))
    a = a.dropna(subset=list(r.right_on))
    b = b.dropna(subset=list(r.right_on))
    merged = a.merge(b, on=list(r.right_on), how="inner", sort=False)
    return merged["_l"].to_numpy(np.int64), merged["_r"].to_numpy(np.int64)


class MultiBlock(BaseIndexAlgorithm):
    """Union of blocking rules. After `index`, `rule_counts` holds the pairs each rule produced."""

    def __init__(self, rules: tuple[BlockingRule, ...], *, max_block_pairs: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rules = rules
        self.max_block_pairs = max_block_pairs
        self.rule_counts: dict[str, int] = {}

    def _union(self, left: pd.DataFrame, right: pd.DataFrame, dedupe: bool) -> tuple[np.ndarray, np.ndarray]:
        width = np.int64(len(right))
        codes = []
        for r in self.rules:
            li, ri = _rule_pairs(left, right, r)
            if dedupe:
                keep = li < ri  # each unordered pair once, no self-pairs
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
