"""Link explanations in the warehouse as small integer columns: per comparison, its level (`lvl_<name>`,
SMALLINT) and its weight in ten-thousandths of a bit (`w_<name>`, INTEGER; the linker rounds weights to
4 decimals, so nothing is lost). A million candidates cost 60 bytes each instead of two JSON texts of
about 170 bytes. Quarters published before migration 0010 keep their JSON `levels`/`weights`; `expand`
gives both forms the same shape for `dtks trace` and the waterfall. (pandas is imported where it is used:
`dtks trace` imports this module and should start quickly.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipelines.warehouse.schema import EXPLAINED_COMPARISONS, WEIGHT_SCALE, level_column, weight_column

if TYPE_CHECKING:
    import pandas as pd


def _decoded(texts: pd.Series) -> pd.DataFrame:
    """A JSON `{comparison: value}` per row as one column per comparison, each distinct text parsed once."""
    import json

    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(texts, use_na_sentinel=True)
    parsed = [json.loads(t) if isinstance(t, str) and t else {} for t in distinct]
    table = pd.DataFrame.from_records(parsed, columns=list(EXPLAINED_COMPARISONS)) if parsed else None
    out = {}
    for name in EXPLAINED_COMPARISONS:
        values = table[name].to_numpy(dtype=float, na_value=np.nan) if table is not None else np.empty(0, dtype=float)
        taken = values[codes] if len(values) else np.full(len(codes), np.nan)
        out[name] = np.where(codes < 0, np.nan, taken)
    return pd.DataFrame(out, index=texts.index)


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (link candidates in warehouse form) with its levels and weights as integer columns and the JSON
    columns empty. Takes either the JSON columns (the decide stage's form) or `lvl_*`/`w_*` columns."""
    import numpy as np
    import pandas as pd

    frame = frame.copy()
    has_columns = all(level_column(n) in frame for n in EXPLAINED_COMPARISONS)
    if not has_columns and "levels" in frame:
        levels, weights = _decoded(frame["levels"]), _decoded(frame["weights"])
    else:
        levels = pd.DataFrame({n: frame.get(level_column(n)) for n in EXPLAINED_COMPARISONS}, index=frame.index)
        weights = pd.DataFrame({n: frame.get(weight_column(n)) for n in EXPLAINED_COMPARISONS}, index=frame.index)
    for name in EXPLAINED_COMPARISONS:
        frame[level_column(name)] = pd.array(levels[name].to_numpy(dtype=float), dtype="Float64").astype("Int16")
        scaled = np.round(pd.to_numeric(weights[name]).to_numpy(dtype=float) * WEIGHT_SCALE)
        frame[weight_column(name)] = pd.array(scaled, dtype="Float64").astype("Int32")
    frame["levels"], frame["weights"] = None, None
    return frame


def expand(candidate: Mapping[str, Any]) -> dict[str, Any]:
    """A `link_candidate` row with `levels` and `weights` as `{comparison: value}` mappings, from whichever
    form it was stored in (the integer columns, or JSON before migration 0010)."""
    import json

    out = dict(candidate)
    if out.get("levels") is None and any(out.get(level_column(n)) is not None for n in EXPLAINED_COMPARISONS):
        present = [n for n in EXPLAINED_COMPARISONS if out.get(level_column(n)) is not None]
        out["levels"] = {n: int(out[level_column(n)]) for n in present}
        out["weights"] = {n: int(out.get(weight_column(n)) or 0) / WEIGHT_SCALE for n in present}
    for key in ("levels", "weights"):
        if isinstance(out.get(key), str) and out[key]:
            out[key] = json.loads(out[key])
    for name in EXPLAINED_COMPARISONS:
        out.pop(level_column(name), None)
        out.pop(weight_column(name), None)
    return out
