"""What a plausible birth date is: not after the reference day (the run's date), and not more than
`MAX_AGE_YEARS` before it. Shared by validation (the suite's parameters), the findings (which way a
date is implausible) and the synthetic generator's ground truth, so all three mean the same thing.

An implausible date is still a readable date: it never quarantines a row on its own. The row goes on
to linkage, and only an unlinked row is quarantined for it (docs/findings.md).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

MAX_AGE_YEARS = 120
FUTURE = "future"
TOO_OLD = "too_old"


def birth_date_bounds(reference: dt.date) -> tuple[str, str]:
    """The earliest and latest plausible birth date on `reference`, as ISO text (ISO dates compare as
    text). 29 February of a reference year maps to 1 March of a year without one."""
    year = reference.year - MAX_AGE_YEARS
    try:
        earliest = reference.replace(year=year)
    except ValueError:  # 29 February, MAX_AGE_YEARS back is no leap year
        earliest = dt.date(year, 3, 1)
    return earliest.isoformat(), reference.isoformat()


def implausible_kind(iso_dates: pd.Series, reference: dt.date) -> pd.Series:
    """Per value, `FUTURE`, `TOO_OLD` or None (plausible, missing, or not an ISO date: another check's)."""
    earliest, latest = birth_date_bounds(reference)
    text = iso_dates.astype("string")
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).to_numpy(dtype=bool)
    after = iso & (text > latest).fillna(False).to_numpy(dtype=bool)
    before = iso & (text < earliest).fillna(False).to_numpy(dtype=bool)
    return pd.Series(np.select([after, before], [FUTURE, TOO_OLD], None), index=iso_dates.index, dtype=object)
