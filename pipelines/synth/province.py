"""What makes a quarter a province's: people who cross the borders between kabupaten/kota.

- Families that moved to another kabupaten (`SynthConfig.moved_kabupaten_rate`): Dukcapil lists them in
  the extract of the kabupaten they live in now, while the village of their old kabupaten still submits
  them. A share of them (`moved_kabupaten_same_domicile`) is listed by the new kabupaten's extract with
  the old village still as domicile (registered there, the address not yet changed): linked across the
  border, but no PINDAH_DOMISILI.
- People submitted by villages of two kabupaten (`ErrorRates.duplicate_other_kabupaten`): a copy of a row
  lands in a village of another kabupaten, with its own errors later, like the duplicates within one.

Both draw from streams of their own, and only when their rate is above 0 and the quarter has more than one
kabupaten, so a quarter without them is byte for byte what it was before they existed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import regions
from pipelines.synth import places
from pipelines.synth.population import Population
from pipelines.synth.submissions import propose_again

DUP_OTHER_KAB = 3  # `dup` of a row copied into another kabupaten's village (submissions.DUP_* are 0..2)


def move_families(
    rng: np.random.Generator, pops: dict[str, Population], rate: float, same_domicile: float
) -> dict[str, list[tuple[Population, np.ndarray]]]:
    """Moves a share `rate` of each kabupaten's families' old village into another kabupaten (edits the
    populations' `families` in place). Returns, per submitting kabupaten, the (population, family
    positions) its villages submit although another kabupaten's extract lists them."""
    kabs = list(pops)
    guests: dict[str, list[tuple[Population, np.ndarray]]] = {k: [] for k in kabs}
    for kab in kabs:
        f = pops[kab].families
        picked = np.flatnonzero(rng.random(len(f)) < rate)
        if not len(picked):
            continue
        others = [k for k in kabs if k != kab]
        target = rng.integers(0, len(others), len(picked))
        keep_domicile = rng.random(len(picked)) < same_domicile
        old = np.empty(len(picked), dtype=object)
        for t, other in enumerate(others):
            hit = target == t
            desa = np.array(sorted(regions.desa_of_kabupaten(other)), dtype=object)
            old[hit] = desa[rng.integers(0, len(desa), int(hit.sum()))]
            if hit.any():
                guests[other].append((pops[kab], picked[hit]))
        alamat, rt, rw = places.addresses(rng, old)
        f.loc[picked, "old_desa"] = old
        f.loc[picked, ["old_alamat", "old_rt", "old_rw"]] = np.column_stack([alamat, rt, rw])
        # Listed with the old village as domicile: Dukcapil's address is the village's, nobody moved.
        kept = picked[keep_domicile]
        f.loc[kept, "desa"] = old[keep_domicile]
        f.loc[kept, ["alamat", "rt", "rw"]] = f.loc[kept, ["old_alamat", "old_rt", "old_rw"]].to_numpy()
        f.loc[picked, "moved"] = ~keep_domicile
    return guests


def copy_to_other_kabupaten(
    rng: np.random.Generator, rows: dict[str, pd.DataFrame], rate: float
) -> dict[str, pd.DataFrame]:
    """A copy of a share `rate` of each kabupaten's first submissions (not its own duplicates) in a
    submitting village of another kabupaten; returns every kabupaten's rows with the copies it received."""
    kabs = list(rows)
    villages = {k: np.array(sorted(set(rows[k]["kode_desa"])), dtype=object) for k in kabs}
    received: dict[str, list[pd.DataFrame]] = {k: [] for k in kabs}
    for kab in kabs:
        own = rows[kab]
        first = np.flatnonzero(own["dup"].to_numpy() == 0)
        picked = first[rng.random(len(first)) < rate]
        if not len(picked):
            continue
        others = [k for k in kabs if k != kab]
        target = rng.integers(0, len(others), len(picked))
        for t, other in enumerate(others):
            hit = picked[target == t]
            if not len(hit):
                continue
            copies = own.iloc[hit].copy()
            copies["dup"] = DUP_OTHER_KAB
            copies["kode_desa"] = villages[other][rng.integers(0, len(villages[other]), len(hit))]
            propose_again(copies, rng.random(len(hit)))
            received[other].append(copies)
    return {k: pd.concat([rows[k], *received[k]], ignore_index=True) if received[k] else rows[k] for k in kabs}
