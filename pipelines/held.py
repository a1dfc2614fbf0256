"""Rows held for linkage: a readable but implausible value (a birth date in the future or more than 120
years ago) does not quarantine a row on its own. The row goes on to linkage; linked, it takes Dukcapil's
value and the finding names the field (`findings`); not linked, it is quarantined after linkage with the
reason validation gave it, as if validation had quarantined it.

The suite marks such checks with the action `QUARANTINE_UNLINKED` (expectations/dtks_submission.json).
Light on purpose: the decide stage imports it without Great Expectations or the linkage machinery.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from pipelines.contract import NIK_TIDAK_VALID
from pipelines.decisions import LINK

QUARANTINE: Final = "quarantine"
QUARANTINE_UNLINKED: Final = "quarantine_unlinked"
FINDING: Final = "finding"
# The validation column of a row held for linkage (validate/rows.parquet).
HELD: Final = "quarantine_if_unlinked"


def findings_of_quarantined_dropped(reasons: pd.DataFrame, quarantined_ids) -> pd.DataFrame:
    """A quarantined row gets no finding but NIK_TIDAK_VALID (so the village can fix everything at once):
    its other `finding` reasons (the NIK against the birth date, say) are dropped."""
    other = reasons["action"].eq(FINDING) & ~reasons["category"].eq(NIK_TIDAK_VALID)
    return reasons[~(other & reasons["row_id"].isin(quarantined_ids))].reset_index(drop=True)


def settle_held_rows(
    rows: pd.DataFrame, reasons: pd.DataFrame, decisions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """After linkage: the held rows that were not linked are quarantined. Returns `rows` with `quarantined`
    final, `reasons` without the findings of the rows quarantined now, and those rows' ids."""
    if HELD not in rows.columns:  # rows validated before rows could be held
        return rows, reasons, np.empty(0, dtype=np.int64)
    linked = set(decisions.loc[decisions["decision"].eq(LINK), "row_id"])
    held = rows[HELD].fillna(False).to_numpy(dtype=bool) & ~rows["quarantined"].to_numpy(dtype=bool)
    now = held & ~rows["row_id"].isin(linked).to_numpy()
    ids = rows.loc[now, "row_id"].to_numpy()
    if not len(ids):
        return rows, reasons, ids
    rows = rows.assign(quarantined=rows["quarantined"].to_numpy(dtype=bool) | now)
    return rows, findings_of_quarantined_dropped(reasons, ids), ids
