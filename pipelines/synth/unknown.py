"""People the villages submit but Dukcapil does not know: new arrivals, unregistered families.

They are built like Dukcapil families (same villages, same naming), with NIK and KK numbers that no
Dukcapil person or card holds. To keep the ground truth honest they must be clearly different people:
nobody in Dukcapil born on the same day, or in the same village in the same year, has a name that agrees
with theirs (`pipelines.names.names_agree`), otherwise a linker would be right to link them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from pipelines.names import names_agree, normalise_names
from pipelines.synth import names
from pipelines.synth.population import Population, build_population

log = logging.getLogger(__name__)
EMPTY_NIK_SHARE = 0.3  # unknown people without any NIK on the form


def build_unknown(
    rng: np.random.Generator,
    known: Population,
    n_persons: int,
    ref_date: np.datetime64,
    village_weights: np.ndarray,
) -> Population:
    """`n_persons` unknown people living in the weighted villages, clearly distinct from `known`."""
    taken = np.concatenate(
        [
            known.persons["nik"].to_numpy().astype(np.int64),
            known.families["kk"].to_numpy().astype(np.int64),
            known.families["prev_kk"].to_numpy().astype(np.int64),
        ]
    )
    pop = build_population(
        rng, known.kode_kab, n_persons, ref_date, village_weights=village_weights, taken_ids=taken, id_prefix="U"
    )
    _rename_lookalikes(rng, pop, known)
    no_nik = rng.random(len(pop.persons)) < EMPTY_NIK_SHARE
    pop.persons["nik"] = np.where(no_nik, "", pop.persons["nik"].to_numpy()).astype(object)
    return pop


def _lookalikes(unknown: pd.DataFrame, known: pd.DataFrame) -> np.ndarray:
    """Positions (in `unknown`) of persons whose name agrees with a Dukcapil person born the same day, or
    born the same year in the same village. Frames hold `pos`, `birth`, `year`, `desa`, `norm`."""
    by_day = unknown[["pos", "birth", "norm"]].merge(known[["birth", "norm"]], on="birth", suffixes=("", "_k"))
    by_village = unknown[["pos", "desa", "year", "norm"]].merge(
        known[["desa", "year", "norm"]], on=["desa", "year"], suffixes=("", "_k")
    )
    pairs = pd.concat([by_day[["pos", "norm", "norm_k"]], by_village[["pos", "norm", "norm_k"]]], ignore_index=True)
    if pairs.empty:
        return np.zeros(0, dtype=np.int64)
    agree = names_agree(pairs["norm"], pairs["norm_k"]).to_numpy()
    return np.unique(pairs["pos"].to_numpy()[agree])


def _comparable(pop: Population, persons: np.ndarray | None = None) -> pd.DataFrame:
    p = pop.persons if persons is None else pop.persons.iloc[persons]
    birth = p["birth"]
    return pd.DataFrame(
        {
            "pos": np.arange(len(pop.persons)) if persons is None else persons,
            "birth": birth.to_numpy(),
            "year": birth.str.slice(0, 4).to_numpy(),
            "desa": pop.families["desa"].to_numpy()[p["family"].to_numpy()],
            "norm": normalise_names(p["name"]).to_numpy(),
        }
    )


def _rename_lookalikes(rng: np.random.Generator, unknown: Population, known: Population) -> None:
    """Draws new names for unknown people who resemble a Dukcapil person, until none does."""
    candidates = _comparable(unknown)
    k = known.persons
    # Only the Dukcapil people who could clash at all: same birth day, or same village and year.
    k_birth = k["birth"]
    k_desa = known.families["desa"].to_numpy()[k["family"].to_numpy()]
    near = k_birth.isin(candidates["birth"]).to_numpy() | (
        pd.Series(k_desa + k_birth.str.slice(0, 4).to_numpy()).isin(candidates["desa"] + candidates["year"]).to_numpy()
    )
    k_frame = _comparable(known, np.flatnonzero(near))
    p = unknown.persons
    clash = _lookalikes(candidates, k_frame)
    for _ in range(50):
        if not len(clash):
            return
        old = p["name"].to_numpy()[clash]
        fresh = names.compose_names(
            rng,
            p["tradition"].to_numpy()[clash],
            p["female"].to_numpy()[clash],
            p["age"].to_numpy()[clash],
            p["birth_order"].to_numpy()[clash],
            p["noble"].to_numpy()[clash],
        )
        p.loc[p.index[clash], "name"] = fresh
        # Children of a renamed mother carry her new name.
        renamed = pd.DataFrame({"family": p["family"].to_numpy()[clash], "old": old, "new": fresh})
        children = p.reset_index().merge(renamed, left_on=["family", "mother"], right_on=["family", "old"])
        p.loc[children["index"].to_numpy(), "mother"] = children["new"].to_numpy()
        clash = _lookalikes(_comparable(unknown, clash), k_frame)
    log.warning("%d unknown persons still resemble a Dukcapil person", len(clash))
