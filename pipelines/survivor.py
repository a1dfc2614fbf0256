"""Duplicate groups: how rows came to be one person, which row is published, and why; declared once.

The linker records the comparison of each merged row with the row that survives (`pipelines.link`), the
outcomes publish that row (`pipelines.outcomes`), and the auditor's trace says which step of the rule
chose it. Pandas and the linkage's vocabulary only: no linkage machinery.

The rule: the most certain link first (the NIK Dukcapil knows with agreeing identity, then a probabilistic
link, then a link through a duplicate row, then no link), then the higher match probability, then the
first by file name and row number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from pipelines.decisions import DUPLICATE, EXACT, PROBABILISTIC

METHOD_RANK: Final = {EXACT: 0, PROBABILISTIC: 1, DUPLICATE: 2}
UNLINKED_RANK: Final = 9

# The steps of the rule, in order, as recorded in `duplicate_edge.survivor_rule`.
BY_METHOD: Final = "METODE_TAUTAN"
BY_PROBABILITY: Final = "PELUANG"
BY_POSITION: Final = "URUTAN_BERKAS"
RULES: Final = (BY_METHOD, BY_PROBABILITY, BY_POSITION)

# How the two rows of a duplicate edge came to be one person (`duplicate_edge.basis`; empty: they did not).
SAME_DUKCAPIL_PERSON: Final = "NIK_DUKCAPIL_SAMA"  # each row was linked to the same Dukcapil person
ROW_COMPARISON: Final = "PERBANDINGAN_BARIS"  # this comparison of the two rows joined them
THROUGH_OTHER_ROWS: Final = "LEWAT_BARIS_LAIN"  # joined through other rows of the group
BASES: Final = (SAME_DUKCAPIL_PERSON, ROW_COMPARISON, THROUGH_OTHER_ROWS)


def _sort_keys(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        _method=frame["method"].map(METHOD_RANK).fillna(UNLINKED_RANK),
        _prob=-frame["match_probability"].astype(float).fillna(0.0),
    )


def representative_order(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows ranked as representatives are chosen, cluster by cluster (`rows`: row_id, cluster, method,
    match_probability, source_file, source_row)."""
    return _sort_keys(rows).sort_values(["cluster", "_method", "_prob", "source_file", "source_row"], kind="stable")


def representatives(rows: pd.DataFrame) -> pd.Series:
    """Per cluster, the row_id of the row that represents the person."""
    return representative_order(rows).groupby("cluster")["row_id"].first()


def deciding_step(kept: Mapping[str, Any], other: Mapping[str, Any]) -> str:
    """The step of the rule that put `kept` before `other` (each: method, match_probability, source_file,
    source_row)."""

    def rank(row: Mapping[str, Any]) -> float:
        return METHOD_RANK.get(row.get("method"), UNLINKED_RANK)  # type: ignore[arg-type]

    def probability(row: Mapping[str, Any]) -> float:
        value = row.get("match_probability")
        return 0.0 if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)

    if rank(kept) != rank(other):
        return BY_METHOD
    if probability(kept) != probability(other):
        return BY_PROBABILITY
    return BY_POSITION
