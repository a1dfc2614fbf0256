"""The province step's second round: rows linked by their family's card, as the whole quarter links them.

The whole quarter's linker gives a row the family card Dukcapil knows, from the other members of its
submitted card that the exact pass linked (`pipelines.link.family_cards`, feature `kk_family`), or from
the owner of the NIK it carries when that is another person (a head's NIK copied to a member). A family
that moved to another kabupaten with a stale KK, whose member has no NIK of their own, is linked through
it. In the first round a bucket holds that row but not its family's links, which land in the buckets of
their own NIKs. So:

1. `cards(facts)`: from the first round's facts, each row's family card: the Dukcapil KK of the persons
   of another extract that rows of its submitted KK were linked to exactly, else that of the owner of its
   NIK in another extract (an `owner` fact).
2. `select(records, cards)`: per bucket, the rows with a card that the first round did not link exactly,
   and the persons on those cards (each person is in the bucket of its KK), with the models.
3. `second_round(selected, config, cards)`: those rows linked again against those persons, their family
   card given (`resolve(..., second_round=True)`). They are the few rows of moved families (hundreds at
   3 x 300k persons), so this is one small link, whatever the size of the province.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipelines.decisions import EXACT, LINK
from pipelines.province.offer import MODEL, PERSON, PERSON_FIELDS, ROW
from pipelines.province.resolve import LINKED, OWNER, _empty, resolve

_NUMBER = r"^\d{6,20}$"  # a KK the linker can compare (`prepare._identifier`)


@dataclass
class Cards:
    """Family cards found by the first round: by submitted KK, and by row (`kode_kab:row_id`) from the
    owner of its NIK; and the rows linked exactly, which their own NIK settles."""

    by_kk: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    by_row: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    exact_rows: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))

    def __len__(self) -> int:
        return len(self.by_kk) + len(self.by_row)

    def of(self, rows: pd.DataFrame) -> pd.Series:
        """Each row's card (None: none), its submitted KK's first."""
        by_kk = rows["no_kk"].map(self.by_kk)
        by_row = pd.Series(_row_keys(rows), index=rows.index).map(self.by_row)
        return by_kk.where(by_kk.notna(), by_row)

    def numbers(self) -> set:
        return set(self.by_kk.to_numpy()) | set(self.by_row.to_numpy())


def _row_keys(frame: pd.DataFrame) -> np.ndarray:
    return (frame["kode_kab"].astype(str) + ":" + frame["row_id"].astype("int64").astype(str)).to_numpy(dtype=object)


def _valid(values: pd.Series) -> np.ndarray:
    return values.astype("string").str.fullmatch(_NUMBER).fillna(False).to_numpy(dtype=bool)


def cards(facts: pd.DataFrame | None) -> Cards:
    """The family cards the first round's facts show (see `Cards`)."""
    if facts is None or facts.empty or "row_no_kk" not in facts:
        return Cards()
    exact = facts[facts["kind"].eq(LINKED) & facts["decision"].eq(LINK) & facts["method"].eq(EXACT)]
    exact_rows = pd.Index(_row_keys(exact)).unique()
    by_kk = exact[_valid(exact["row_no_kk"]) & _valid(exact["NO_KK"])]
    by_kk = by_kk.sort_values(["row_no_kk", "kode_kab", "row_id"], kind="stable").drop_duplicates("row_no_kk")
    owners = facts[facts["kind"].eq(OWNER)]
    owners = owners[_valid(owners["NO_KK"])]
    keys = _row_keys(owners)
    owners = owners.assign(_key=keys).drop_duplicates("_key")
    return Cards(
        by_kk=pd.Series(by_kk["NO_KK"].to_numpy(dtype=object), index=by_kk["row_no_kk"].to_numpy(dtype=object)),
        by_row=pd.Series(owners["NO_KK"].to_numpy(dtype=object), index=owners["_key"].to_numpy(dtype=object)),
        exact_rows=exact_rows,
    )


def select(records: pd.DataFrame, found: Cards) -> pd.DataFrame:
    """A bucket's records the second round needs: rows with a card not linked exactly, the persons on the
    cards, and the models."""
    kind = records["kind"].to_numpy()
    keep = (kind == MODEL) | ((kind == PERSON) & records["NO_KK"].isin(found.numbers()).to_numpy())
    at = np.flatnonzero(kind == ROW)
    rows = records.iloc[at]
    exact = pd.Index(_row_keys(rows)).isin(found.exact_rows)  # a hash lookup: np.isin sorts objects
    keep[at[found.of(rows).notna().to_numpy() & ~exact]] = True
    return records[keep].reset_index(drop=True)  # one selection, no concatenation of unlike columns


def second_round(selected: list[pd.DataFrame], config: Any, found: Cards) -> pd.DataFrame:
    """The `link` facts of the rows selected over every bucket, linked with their family's card."""
    selected = [s for s in selected if len(s)]
    if not selected or not len(found):
        return _empty()
    records = pd.concat(selected, ignore_index=True)
    kind = records["kind"]
    models = records[kind.eq(MODEL)].drop_duplicates("kode_kab")
    rows = records[kind.eq(ROW)].drop_duplicates(["kode_kab", "row_id"])
    persons = records[kind.eq(PERSON)].drop_duplicates(["kode_kab", *PERSON_FIELDS])
    if rows.empty or persons.empty:
        return _empty()
    rows = rows.assign(family_card=found.of(rows).to_numpy(dtype=object))
    return resolve([pd.concat([models, rows, persons], ignore_index=True)], config, second_round=True)
