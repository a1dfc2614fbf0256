"""PLACEHOLDER for the province step (issue 11, item 2): the findings that need more than one kabupaten/kota.

The real package (written separately) replaces this file at merge. Until then each function keeps the
interface the stages call and changes nothing, so a quarter's results are those of its kabupaten alone:
- `offer`: per kabupaten, after linkage, what it contributes to each hash bucket (its rows, its validated
  Dukcapil persons, its link decisions);
- `resolve`: per bucket, the cross-kabupaten facts from every kabupaten's piece of that bucket;
- `apply`: per kabupaten, before its findings, its link decisions amended by the facts (linked to another
  kabupaten's person, GANDA across kabupaten, not NIK_TIDAK_DITEMUKAN when another extract knows the person).
  The facts carry the other person's columns the findings need (NIK, KK, name, birth date, domicile codes,
  death, occupation).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def offer(
    kode_kab: str, rows: pd.DataFrame, persons: pd.DataFrame, decisions: pd.DataFrame, n_buckets: int
) -> dict[int, pd.DataFrame]:
    """PLACEHOLDER: contributes nothing."""
    return {}


def resolve(pieces: list[pd.DataFrame], config: Any) -> pd.DataFrame:
    """PLACEHOLDER: no cross-kabupaten facts."""
    return pd.DataFrame()


def apply(kode_kab: str, decisions: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """PLACEHOLDER: the decisions unchanged."""
    return decisions
