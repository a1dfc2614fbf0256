"""Injects the village operators' mistakes into clean submission rows, recording each one.

Per row: at most one NIK error, one birth-date error and one name typo (an old spelling or a title may
come on top of the typo), and at most one quarantine cause, so every row stays linkable in principle.
Kinds with a precondition are drawn among the rows that qualify, with the probability scaled so the
realised share of all rows matches the configured rate where enough rows qualify.
Quarantine causes are only chosen here (`q_field`); layout.py writes them, because what an unparseable
date looks like depends on the file's date format.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import name_errors
from pipelines.synth.config import ERROR_KINDS, ErrorRates
from pipelines.synth.submissions import DUP_OTHER, DUP_SAME

BIT = {kind: 1 << i for i, kind in enumerate(ERROR_KINDS)}

# Quarantine causes: (field variant, weight). The variants are rendered by layout.quarantine_value.
UNPARSEABLE_FIELDS = {
    "tanggal_lahir:invalid": 0.35,
    "tanggal_lahir:partial": 0.20,
    "jenis_kelamin": 0.15,
    "kode_desa": 0.10,
    "hubungan_keluarga": 0.10,
    "no_kk": 0.10,
}
MISSING_FIELDS = {
    "nama": 0.20,
    "tanggal_lahir": 0.25,
    "jenis_kelamin": 0.15,
    "hubungan_keluarga": 0.15,
    "no_kk": 0.15,
    "status_usulan": 0.05,
    "kode_desa": 0.05,
}
PLACEHOLDER_JULY_SHARE = 0.15


def _scaled_draw(rng: np.random.Generator, eligible: np.ndarray, rate: float, n_total: int) -> np.ndarray:
    """Rows chosen among `eligible` so that about `rate * n_total` are chosen."""
    count = int(eligible.sum())
    if count == 0 or rate <= 0:
        return np.zeros(len(eligible), dtype=bool)
    return eligible & (rng.random(len(eligible)) < min(1.0, rate * n_total / count))


def _choice(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(table), dtype=object)
    p = np.array(list(table.values()))
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _digits(values: np.ndarray) -> np.ndarray:
    """16-digit strings as an (n, 16) uint8 array of ASCII codes."""
    return np.frombuffer(np.array(values.tolist(), dtype="S16").tobytes(), dtype=np.uint8).reshape(-1, 16).copy()


def _from_digits(d: np.ndarray) -> np.ndarray:
    return np.array([row.tobytes().decode() for row in d], dtype=object)


def nik_typos(rng: np.random.Generator, niks: np.ndarray) -> np.ndarray:
    """One digit changed at a random position."""
    d = _digits(niks)
    rows = np.arange(len(d))
    at = rng.integers(0, 16, len(d))
    d[rows, at] = (d[rows, at] - 48 + rng.integers(1, 10, len(d))) % 10 + 48
    return _from_digits(d)


def nik_transpositions(rng: np.random.Generator, niks: np.ndarray) -> np.ndarray:
    """Two neighbouring, different digits swapped (callers pass NIKs that have such a pair)."""
    d = _digits(niks)
    differs = d[:, :-1] != d[:, 1:]
    at = np.argmax(rng.random(differs.shape) * differs, axis=1)
    rows = np.arange(len(d))
    left = d[rows, at].copy()
    d[rows, at] = d[rows, at + 1]
    d[rows, at + 1] = left
    return _from_digits(d)


def _unit_uniform(rng: np.random.Generator, units: np.ndarray) -> np.ndarray:
    """One uniform per unit (e.g. per family), repeated on each of its rows."""
    codes, uniques = pd.factorize(units)
    return rng.random(len(uniques))[codes]


def inject(rng: np.random.Generator, rows: pd.DataFrame, rates: ErrorRates, lombok: bool) -> None:
    """Edits `nik`, `no_kk`, `nama` and `birth` of `rows` in place; adds `injected` (bit mask of
    ERROR_KINDS) and `q_field` (the quarantine cause to render, or "")."""
    n = len(rows)
    injected = np.zeros(n, dtype=np.int64)
    dup = rows["dup"].to_numpy()
    injected[dup == DUP_SAME] |= BIT["duplicate_same_village"]
    injected[dup == DUP_OTHER] |= BIT["duplicate_other_village"]
    known = rows["known"].to_numpy()

    # Quarantine causes, one at most per row.
    unparseable = rng.random(n) < rates.unparseable
    missing = ~unparseable & (rng.random(n) < rates.missing_required / max(1e-9, 1 - rates.unparseable))
    q_field = np.full(n, "", dtype=object)
    q_field[unparseable] = _choice(rng, UNPARSEABLE_FIELDS, int(unparseable.sum()))
    q_field[missing] = "missing:" + _choice(rng, MISSING_FIELDS, int(missing.sum()))
    injected[unparseable] |= BIT["unparseable"]
    injected[missing] |= BIT["missing_required"]
    q_kk = np.isin(q_field, ["no_kk", "missing:no_kk"])
    q_date = pd.Series(q_field).str.contains("tanggal_lahir").to_numpy()
    q_name = q_field == "missing:nama"

    # Stale KK: decided per family (a village keeps one card per family), per row for duplicate copies.
    # Movers almost always still hold their old card; the others are scaled to keep the overall rate.
    moved = rows["moved"].to_numpy()
    eligible = known & ~q_kk
    copy_key = ("dup" + pd.Series(np.arange(n)).astype(str)).to_numpy(dtype=object)
    units = np.where(dup == 0, rows["family_key"].to_numpy(), copy_key)
    u = _unit_uniform(rng, units)
    n_elig, n_moved = int(eligible.sum()), int((eligible & moved).sum())
    p_moved = min(0.6, rates.stale_kk * n / max(n_moved, 1))
    p_rest = max(0.0, rates.stale_kk * n - p_moved * n_moved) / max(n_elig - n_moved, 1)
    stale = eligible & (u < np.where(moved, p_moved, p_rest))
    rows.loc[stale, "no_kk"] = rows.loc[stale, "prev_kk"]
    injected[stale] |= BIT["stale_kk"]

    # NIK errors, exclusive.
    nik = rows["nik"].to_numpy().copy()
    has_nik = nik != ""
    nik_taken = np.zeros(n, dtype=bool)

    def take(kind: str, eligible: np.ndarray) -> np.ndarray:
        chosen = _scaled_draw(rng, eligible & ~nik_taken, getattr(rates, kind), n)
        nik_taken[chosen] = True
        injected[chosen] |= BIT[kind]
        return chosen

    chosen = take("nik_missing", has_nik)
    nik[chosen] = ""
    chosen = take("nik_typo", has_nik)
    nik[chosen] = nik_typos(rng, nik[chosen])
    swappable = has_nik.copy()
    swappable[has_nik] = (_digits(nik[has_nik])[:, :-1] != _digits(nik[has_nik])[:, 1:]).any(axis=1)
    chosen = take("nik_transposition", swappable)
    nik[chosen] = nik_transpositions(rng, nik[chosen])
    chosen = take("kk_as_nik", np.ones(n, dtype=bool))
    nik[chosen] = rows["no_kk"].to_numpy()[chosen]
    head_nik = rows["head_nik"].to_numpy()
    member = (rows["role"].to_numpy() != "KEPALA KELUARGA") & (head_nik != "") & (head_nik != nik)
    chosen = take("head_nik_to_member", member)
    nik[chosen] = head_nik[chosen]
    rows["nik"] = nik

    # Birth-date errors, exclusive: a placeholder (1 January, sometimes 1 July) or day/month swapped.
    birth = rows["birth"].to_numpy().copy()
    year = np.array([b[:4] for b in birth], dtype=object)
    month = np.array([int(b[5:7]) for b in birth])
    day = np.array([int(b[8:10]) for b in birth])
    # Never for the youngest birth year: a placeholder or a swap there can land after the run date, which
    # validation rightly quarantines as implausible, and the truth would then be wrong.
    recent = np.array([int(y) for y in year]) >= max((int(y) for y in year), default=0)
    placeholder = _scaled_draw(rng, ~q_date & ~recent, rates.placeholder_dob, n)
    july = rng.random(n) < PLACEHOLDER_JULY_SHARE
    july = np.where((month == 1) & (day == 1), True, np.where((month == 7) & (day == 1), False, july))
    birth[placeholder] = year[placeholder] + np.where(july[placeholder], "-07-01", "-01-01")
    injected[placeholder] |= BIT["placeholder_dob"]
    swappable = ~q_date & ~recent & ~placeholder & (day <= 12) & (day != month)
    swap = _scaled_draw(rng, swappable, rates.dob_swap, n)
    birth[swap] = [f"{y}-{d:02d}-{m:02d}" for y, d, m in zip(year[swap], day[swap], month[swap], strict=True)]
    injected[swap] |= BIT["dob_swap"]
    rows["birth"] = birth

    # Names: a typo, then an old spelling, then a title (these may combine).
    names = rows["nama"].to_numpy().copy()
    typo = _scaled_draw(rng, ~q_name, rates.name_typo, n)
    draws = rng.random((n, 4))
    for i in np.flatnonzero(typo):
        names[i] = name_errors.typo(names[i], draws[i])
    injected[typo] |= BIT["name_typo"]

    applicable = ~q_name & np.array(name_errors.has_variant(names.tolist()), dtype=bool)
    draws = rng.random((n, 4))
    for i in np.flatnonzero(_scaled_draw(rng, applicable, rates.name_variant, n)):
        changed = name_errors.variant(names[i], draws[i])
        if changed is not None:
            names[i] = changed
            injected[i] |= BIT["name_variant"]

    age, female = rows["age"].to_numpy(), rows["female"].to_numpy()
    draws = rng.random((n, 4))
    for i in np.flatnonzero(_scaled_draw(rng, ~q_name & (age >= 23), rates.title, n)):
        changed = name_errors.title(names[i], bool(female[i]), int(age[i]), lombok, draws[i])
        if changed is not None:
            names[i] = changed
            injected[i] |= BIT["title"]
    rows["nama"] = names
    rows["injected"] = injected
    rows["q_field"] = q_field


def injected_labels(mask: np.ndarray) -> np.ndarray:
    """Bit masks to `;`-joined kind names (sorted)."""
    distinct, codes = np.unique(mask, return_inverse=True)
    labels = [";".join(k for k in sorted(ERROR_KINDS) if m & BIT[k]) for m in distinct.tolist()]
    return np.array(labels, dtype=object)[codes]
