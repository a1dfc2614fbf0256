"""Multi-level comparisons, as recordlinkage compare features computed with rapidfuzz over whole columns.

Each comparison turns a pair of values into an agreement level: -1 when either side is missing (no
evidence either way), 0 for disagreement, and higher levels for closer agreement. The Fellegi-Sunter
model (`model.py`) gives each level of each comparison its own weight, so "one typo apart" counts for
less than "equal" but for far more than "different".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist
from recordlinkage.base import BaseCompareFeature

from pipelines.link.prepare import text_values
from pipelines.names import allowed_edits
from pipelines.waterfall import MISSING  # the level of a comparison with a value missing


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[str, ...]  # label of level 0, 1, 2, ... (0 = disagreement)

    @property
    def n_levels(self) -> int:
        return len(self.levels)


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("nik", ("berbeda", "beda 2 digit", "beda 1 digit/tertukar", "sama")),
    Comparison("name", ("berbeda", "mirip", "beda satu-dua huruf", "sama")),
    Comparison("name_tokens", ("tidak ada kata sama", "kata-kata satu nama ada di nama lain", "kata-kata sama")),
    Comparison(
        "dob",
        (
            "berbeda",
            "dua dari tiga bagian sama",
            "tanggal pengganti, tahun sama",
            "hari-bulan tertukar",
            "sama (tanggal pengganti)",
            "sama",
        ),
    ),
    Comparison("sex", ("berbeda", "sama")),
    Comparison("kk", ("berbeda", "beda 1 digit", "sama")),
    Comparison("kk_family", ("berbeda", "sama")),
    Comparison("desa", ("kabupaten lain", "kabupaten sama", "kecamatan sama", "desa sama")),
    Comparison("mother", ("berbeda", "mirip", "sama")),
)
BY_NAME = {c.name: c for c in COMPARISONS}


def _text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return text_values(values)


def _on_distinct(levels_of, left: pd.Series, right: pd.Series) -> np.ndarray:
    """`levels_of(a, present_a, b, present_b)` for every pair, computed once per distinct pair of values
    when both columns are categorical (names repeat: exact-pass pairs are mostly a name and itself)."""
    if not (isinstance(left.dtype, pd.CategoricalDtype) and isinstance(right.dtype, pd.CategoricalDtype)):
        a, pa = _text(left)
        b, pb = _text(right)
        return levels_of(a, pa, b, pb)
    width = np.int64(len(right.cat.categories) + 1)
    key = (left.cat.codes.to_numpy().astype(np.int64) + 1) * width + (right.cat.codes.to_numpy() + 1)
    distinct, inverse = np.unique(key, return_inverse=True)
    code_a, code_b = distinct // width - 1, distinct % width - 1
    a = np.append(left.cat.categories.to_numpy(dtype=object), "")[code_a]
    b = np.append(right.cat.categories.to_numpy(dtype=object), "")[code_b]
    return levels_of(a, code_a >= 0, b, code_b >= 0)[inverse.reshape(-1)]


def _pairwise(scorer, left: np.ndarray, right: np.ndarray, dtype=np.float32) -> np.ndarray:
    if len(left) == 0:
        return np.empty(0, dtype=dtype)
    return cpdist(left, right, scorer=scorer, dtype=dtype, workers=-1)


def _lengths(values: np.ndarray) -> np.ndarray:
    return np.fromiter(map(len, values), dtype=np.int32, count=len(values))


def _missing(level: np.ndarray, present: np.ndarray) -> np.ndarray:
    return np.where(present, level, MISSING).astype(np.int8)


class IdentifierLevels(BaseCompareFeature):
    """NIK or KK: equal; one edit apart (a typo or two neighbouring digits swapped); two edits; different."""

    def __init__(self, left_on: str, right_on: str, label: str, *, two_edit_level: bool) -> None:
        super().__init__(left_on, right_on, label=label)
        self.two_edit_level = two_edit_level

    def _compute_vectorized(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        a, pa = _text(left)
        b, pb = _text(right)
        distance = _pairwise(OSA.distance, a, b, dtype=np.int32)
        if self.two_edit_level:
            level = np.select([distance == 0, distance == 1, distance == 2], [3, 2, 1], 0)
        else:
            level = np.select([distance == 0, distance == 1], [2, 1], 0)
        return _missing(level, pa & pb)


class NameLevels(BaseCompareFeature):
    """Whole normalised names: equal; a typo apart (the tolerance of docs/findings.md: one edit, two for
    names of 12 letters or more); similar (Jaro-Winkler >= 0.85); different. Jaro-Winkler alone would
    call "SUKMAWATI" and "SUKMAWATI RAHMI" (mother and daughter) nearly equal, hence the edit distance."""

    @staticmethod
    def levels(a: np.ndarray, pa: np.ndarray, b: np.ndarray, pb: np.ndarray) -> np.ndarray:
        edits = _pairwise(OSA.distance, a, b, dtype=np.int32)
        longest = np.maximum(_lengths(a), _lengths(b))
        similarity = _pairwise(JaroWinkler.normalized_similarity, a, b)
        level = np.select([a == b, edits <= allowed_edits(longest), similarity >= 0.85], [3, 2, 1], 0)
        return _missing(level, pa & pb)

    def _compute_vectorized(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        return _on_distinct(self.levels, left, right)


class NameTokenLevels(BaseCompareFeature):
    """Words of the names regardless of order: the same words (a typo allowed); one name's words inside
    the other's (a dropped second name, or a father and son: weaker); none in common."""

    @staticmethod
    def levels(a: np.ndarray, pa: np.ndarray, b: np.ndarray, pb: np.ndarray) -> np.ndarray:
        same_words = _pairwise(fuzz.token_sort_ratio, a, b)
        contained = _pairwise(fuzz.token_set_ratio, a, b)
        level = np.select([same_words >= 95, contained >= 90], [2, 1], 0)
        return _missing(level, pa & pb)

    def _compute_vectorized(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        return _on_distinct(self.levels, left, right)


class BirthDateLevels(BaseCompareFeature):
    """Birth dates, with the two habits of village operators treated as near-agreement: a placeholder
    date (1 January/1 July) in place of the real one, and day and month typed the other way round."""

    def __init__(self, label: str = "dob") -> None:
        super().__init__(["dob", "dob_swapped", "placeholder"], ["dob", "placeholder"], label=label)

    def _compute_vectorized(self, dob_a, swapped_a, placeholder_a, dob_b, placeholder_b) -> np.ndarray:
        a, pa = _text(dob_a)
        b, pb = _text(dob_b)
        swap, _ = _text(swapped_a)
        placeholder = placeholder_a.to_numpy(bool) | placeholder_b.to_numpy(bool)
        same = a == b
        (ya, ma, da), (yb, mb, db) = _date_parts(a), _date_parts(b)
        parts_equal = (ya == yb).astype(np.int8) + (ma == mb) + (da == db)
        level = np.select(
            [same & ~placeholder, same, (swap == b) & (swap != ""), placeholder & (ya == yb), parts_equal == 2],
            [5, 4, 3, 2, 1],
            0,
        )
        return _missing(level, pa & pb)


def _date_parts(iso: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of ISO date strings as integers, without a Python loop ("" gives garbage,
    which the caller masks as missing)."""
    chars = np.frombuffer(iso.astype("U10").tobytes(), dtype=np.uint32).reshape(-1, 10).astype(np.int64) - 48
    year = chars[:, 0] * 1000 + chars[:, 1] * 100 + chars[:, 2] * 10 + chars[:, 3]
    return year, chars[:, 5] * 10 + chars[:, 6], chars[:, 8] * 10 + chars[:, 9]


class ExactLevels(BaseCompareFeature):
    """Equal or not: sex; and `kk_family`, the family card as Dukcapil knows it. A submission row's
    `kk_family` is the Dukcapil KK of another member of its submitted family card whom the exact pass
    linked, so a family that moved and still shows its old card is recognised by its members' new one."""

    @staticmethod
    def levels(a: np.ndarray, pa: np.ndarray, b: np.ndarray, pb: np.ndarray) -> np.ndarray:
        return _missing((a == b).astype(np.int8), pa & pb)

    def _compute_vectorized(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        return _on_distinct(self.levels, left, right)


class RegionLevels(BaseCompareFeature):
    """Villages by code: same desa, same kecamatan (6 digits), same kabupaten (4 digits), elsewhere."""

    @staticmethod
    def levels(a: np.ndarray, pa: np.ndarray, b: np.ndarray, pb: np.ndarray) -> np.ndarray:
        a10, b10 = a.astype("U10"), b.astype("U10")
        level = np.select(
            [a10 == b10, a10.astype("U6") == b10.astype("U6"), a10.astype("U4") == b10.astype("U4")], [3, 2, 1], 0
        )
        return _missing(level, pa & pb)

    def _compute_vectorized(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        return _on_distinct(self.levels, left, right)


class MotherNameLevels(BaseCompareFeature):
    """Mother's name: equal or Jaro-Winkler >= 0.92; >= 0.80; different."""

    @staticmethod
    def levels(a: np.ndarray, pa: np.ndarray, b: np.ndarray, pb: np.ndarray) -> np.ndarray:
        similarity = _pairwise(JaroWinkler.normalized_similarity, a, b)
        level = np.select([(a == b) | (similarity >= 0.92), similarity >= 0.80], [2, 1], 0)
        return _missing(level, pa & pb)

    def _compute_vectorized(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        return _on_distinct(self.levels, left, right)


def build_compare() -> recordlinkage.Compare:
    """The recordlinkage `Compare` object with every comparison, in the order of COMPARISONS."""
    compare = recordlinkage.Compare(n_jobs=1)
    compare.add(IdentifierLevels("nik", "nik", "nik", two_edit_level=True))
    compare.add(NameLevels("name", "name", label="name"))
    compare.add(NameTokenLevels("name", "name", label="name_tokens"))
    compare.add(BirthDateLevels("dob"))
    compare.add(ExactLevels("sex", "sex", label="sex"))
    compare.add(IdentifierLevels("kk", "kk", "kk", two_edit_level=False))
    compare.add(ExactLevels("kk_family", "kk_family", label="kk_family"))
    compare.add(RegionLevels("desa", "desa", label="desa"))
    compare.add(MotherNameLevels("mother", "mother", label="mother"))
    return compare


def compare_pairs(
    pairs: pd.MultiIndex, left: pd.DataFrame, right: pd.DataFrame | None = None, *, only: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Agreement levels (int8) for every pair, one column per comparison (or only the comparisons named)."""
    names = list(only) or [c.name for c in COMPARISONS]
    if len(pairs) == 0:
        return pd.DataFrame({n: pd.Series(dtype=np.int8) for n in names}, index=pairs)
    compare = build_compare()
    if only:
        kept = recordlinkage.Compare(n_jobs=1)
        for feature in compare.features:
            if feature.label in only:
                kept.add(feature)
        compare = kept
    levels = compare.compute(pairs, left, right)
    return levels[names].astype(np.int8)
