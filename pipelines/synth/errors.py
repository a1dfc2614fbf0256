"""Injects the village operators' mistakes into clean submission rows, recording each one.

Per row: at most one NIK error, one birth-date error and one name typo (an old spelling or a title may
come on top of the typo), and at most one quarantine cause, so every row stays linkable in principle.
Kinds with a precondition are drawn among the rows that qualify, with the probability scaled so the
realised share of all rows matches the configured rate where enough rows qualify.
Quarantine causes are only chosen here (`q_field`); layout.py writes them, because what an unparseable
date looks like depends on the file's date format.
The implausible birth years are drawn after every other kind and the two-error rows come from a stream
of their own, so adding them left the earlier kinds' draws as they were (with their rates at 0, a quarter
is the same as before they existed).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.plausible import birth_date_bounds
from pipelines.synth import name_errors
from pipelines.synth.config import ERROR_KINDS, ErrorRates
from pipelines.synth.province import DUP_OTHER_KAB
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
# A year typed into the future lands at least this long after the quarter's end, so it is still in the
# future when the quarter is run (within half a year of its end) and the ground truth holds.
FUTURE_MARGIN_DAYS = 183
# `two_errors`: an identity error and a birth-date error in one row.
IDENTITY_KINDS = (
    "nik_typo",
    "nik_transposition",
    "nik_missing",
    "kk_as_nik",
    "head_nik_to_member",
    "name_typo",
    "name_variant",
)
BIRTH_KINDS = ("placeholder_dob", "dob_swap", "dob_future", "dob_too_old")


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


def year_typos(birth: np.ndarray, ref: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """The one-slip year typos of each ISO birth date that make it implausible, as (n, k) object arrays
    of ISO dates ("" where a typo does not apply): into the future (last or tens digit one up, a 19xx
    birth typed 20xx), at least FUTURE_MARGIN_DAYS after `ref`; and more than 120 years back (a 20xx
    birth typed 19xx, a 19xx birth typed 18xx), before `ref`'s earliest plausible date. 29 February is
    left alone: the typo would make it no date at all, which is another kind (`unparseable`)."""
    year = np.array([int(b[:4]) for b in birth], dtype=np.int64)
    tail = np.array([b[4:] for b in birth], dtype=object)
    usable = tail != "-02-29"
    latest = (ref + dt.timedelta(days=FUTURE_MARGIN_DAYS)).isoformat()
    earliest, _ = birth_date_bounds(ref)

    def typed(new_year: np.ndarray, applies: np.ndarray, implausible) -> np.ndarray:
        text = np.char.zfill(new_year.astype(str), 4).astype(object) + tail
        return np.where(applies & usable & implausible(text), text, "")

    def after(text: np.ndarray) -> np.ndarray:
        return (text > latest).astype(bool)

    def before(text: np.ndarray) -> np.ndarray:
        return (text < earliest).astype(bool)

    future = np.stack(
        [
            typed(year + 1, year % 10 != 9, after),
            typed(year + 10, (year // 10) % 10 != 9, after),
            typed(year + 100, (year >= 1900) & (year < 2000), after),
        ],
        axis=1,
    )
    old = np.stack([typed(year - 100, (year >= 1900) & (year < 2100), before)], axis=1)
    return future, old


def _pick_option(rng: np.random.Generator, options: np.ndarray) -> np.ndarray:
    """One non-empty option per row (rows without one get "")."""
    scores = rng.random(options.shape) * (options != "")
    return options[np.arange(len(options)), np.argmax(scores, axis=1)] if len(options) else options[:, 0]


def _unit_uniform(rng: np.random.Generator, units: np.ndarray) -> np.ndarray:
    """One uniform per unit (e.g. per family), repeated on each of its rows."""
    codes, uniques = pd.factorize(units)
    return rng.random(len(uniques))[codes]


def _plan_pairs(
    rng: np.random.Generator, rates: ErrorRates, free: np.ndarray, ok: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`two_errors`: the rows that get an identity error and a birth-date error at once (among the `free`
    ones), and per kind the rows planned for it. Each row's two kinds are drawn among those it qualifies
    for (`ok`), in proportion to their own rates: two independent slips, only more of them."""
    n = len(free)
    keys = {}
    for group in (IDENTITY_KINDS, BIRTH_KINDS):
        weight = np.array([getattr(rates, k) for k in group])
        allowed = np.stack([ok[k] for k in group], axis=1) & (weight > 0)
        # Weighted sampling without a loop: the largest log(u) / weight wins with probability ~ weight.
        with np.errstate(divide="ignore"):
            keys[group] = np.where(allowed, np.log(rng.random((n, len(group)))) / weight, -np.inf)
    candidates = free & np.isfinite(keys[IDENTITY_KINDS]).any(axis=1) & np.isfinite(keys[BIRTH_KINDS]).any(axis=1)
    pair = _scaled_draw(rng, candidates, rates.two_errors, n)
    planned = {}
    for group, key in keys.items():
        picked = np.argmax(key, axis=1)
        for i, kind in enumerate(group):
            planned[kind] = pair & (picked == i)
    return pair, planned


def inject(
    rng: np.random.Generator,
    rows: pd.DataFrame,
    rates: ErrorRates,
    lombok: bool,
    ref: dt.date,
    pair_rng: np.random.Generator,
) -> None:
    """Edits `nik`, `no_kk`, `nama` and `birth` of `rows` in place; adds `injected` (bit mask of
    ERROR_KINDS) and `q_field` (the quarantine cause to render, or ""). `ref` is the quarter's last day.

    The two-error rows are planned first, from their own stream (`pair_rng`), and count towards their
    kinds' rates: each kind's own draw is left the rest of its rate and skips the planned rows."""
    n = len(rows)
    injected = np.zeros(n, dtype=np.int64)
    dup = rows["dup"].to_numpy()
    injected[dup == DUP_SAME] |= BIT["duplicate_same_village"]
    injected[dup == DUP_OTHER] |= BIT["duplicate_other_village"]
    injected[dup == DUP_OTHER_KAB] |= BIT["duplicate_other_kabupaten"]
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

    # What each kind needs, on the rows as the village would write them without mistakes.
    nik = rows["nik"].to_numpy().copy()
    has_nik = nik != ""
    head_nik = rows["head_nik"].to_numpy()
    birth = rows["birth"].to_numpy().copy()
    year = np.array([b[:4] for b in birth], dtype=object)
    month = np.array([int(b[5:7]) for b in birth])
    day = np.array([int(b[8:10]) for b in birth])
    # Never for the youngest birth year: a placeholder or a swap there can land after the run date, which
    # makes the date implausible, a kind of its own.
    recent = np.array([int(y) for y in year]) >= max((int(y) for y in year), default=0)
    future, old = year_typos(birth, ref)
    names = rows["nama"].to_numpy().copy()
    applicable = ~q_name & np.array(name_errors.has_variant(names.tolist()), dtype=bool)

    def swappable_digits(values: np.ndarray, present: np.ndarray) -> np.ndarray:
        out = present.copy()
        out[present] = (_digits(values[present])[:, :-1] != _digits(values[present])[:, 1:]).any(axis=1)
        return out

    pair, planned = _plan_pairs(
        pair_rng,
        rates,
        q_field == "",
        {
            "nik_typo": has_nik,
            "nik_transposition": swappable_digits(nik, has_nik),
            "nik_missing": has_nik,
            "kk_as_nik": np.ones(n, dtype=bool),
            "head_nik_to_member": (rows["role"].to_numpy() != "KEPALA KELUARGA") & (head_nik != "") & (head_nik != nik),
            "name_typo": ~q_name,
            "name_variant": applicable,
            "placeholder_dob": ~recent,
            "dob_swap": ~recent & (day <= 12) & (day != month),
            "dob_future": (future != "").any(axis=1),
            "dob_too_old": (old != "").any(axis=1),
        },
    )
    injected[pair] |= BIT["two_errors"]

    def draw(kind: str, eligible: np.ndarray) -> np.ndarray:
        """The planned rows of `kind`, and the rest of its rate drawn among the other eligible rows."""
        forced = planned.get(kind, np.zeros(n, dtype=bool))
        rest = max(0.0, getattr(rates, kind) - forced.sum() / max(n, 1))
        chosen = forced | _scaled_draw(rng, eligible & ~pair, rest, n)
        injected[chosen] |= BIT[kind]
        return chosen

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
    nik_taken = np.zeros(n, dtype=bool)

    def take(kind: str, eligible: np.ndarray) -> np.ndarray:
        chosen = draw(kind, eligible & ~nik_taken)
        nik_taken[chosen] = True
        return chosen

    chosen = take("nik_missing", has_nik)
    nik[chosen] = ""
    chosen = take("nik_typo", has_nik)
    nik[chosen] = nik_typos(rng, nik[chosen])
    chosen = take("nik_transposition", swappable_digits(nik, has_nik))
    nik[chosen] = nik_transpositions(rng, nik[chosen])
    chosen = take("kk_as_nik", np.ones(n, dtype=bool))
    nik[chosen] = rows["no_kk"].to_numpy()[chosen]
    member = (rows["role"].to_numpy() != "KEPALA KELUARGA") & (head_nik != "") & (head_nik != nik)
    chosen = take("head_nik_to_member", member)
    nik[chosen] = head_nik[chosen]
    rows["nik"] = nik

    # Birth-date errors, exclusive: a placeholder (1 January, sometimes 1 July) or day/month swapped.
    placeholder = draw("placeholder_dob", ~q_date & ~recent)
    july = rng.random(n) < PLACEHOLDER_JULY_SHARE
    july = np.where((month == 1) & (day == 1), True, np.where((month == 7) & (day == 1), False, july))
    birth[placeholder] = year[placeholder] + np.where(july[placeholder], "-07-01", "-01-01")
    swap = draw("dob_swap", ~q_date & ~recent & ~placeholder & (day <= 12) & (day != month))
    birth[swap] = [f"{y}-{d:02d}-{m:02d}" for y, d, m in zip(year[swap], day[swap], month[swap], strict=True)]

    # Names: a typo, then an old spelling, then a title (these may combine).
    typo = draw("name_typo", ~q_name)
    draws = rng.random((n, 4))
    for i in np.flatnonzero(typo):
        names[i] = name_errors.typo(names[i], draws[i])

    draws = rng.random((n, 4))
    applicable = ~q_name & np.array(name_errors.has_variant(names.tolist()), dtype=bool)  # after the typos
    for i in np.flatnonzero(planned["name_variant"] | _scaled_draw(rng, applicable & ~pair, rates.name_variant, n)):
        changed = name_errors.variant(names[i], draws[i])
        if changed is not None:
            names[i] = changed
            injected[i] |= BIT["name_variant"]
        elif pair[i]:  # a planned variant that has none after all: the identity error is a typo instead
            names[i] = name_errors.typo(names[i], draws[i])
            injected[i] |= BIT["name_typo"]

    age, female = rows["age"].to_numpy(), rows["female"].to_numpy()
    draws = rng.random((n, 4))
    for i in np.flatnonzero(_scaled_draw(rng, ~q_name & (age >= 23), rates.title, n)):
        changed = name_errors.title(names[i], bool(female[i]), int(age[i]), lombok, draws[i])
        if changed is not None:
            names[i] = changed
            injected[i] |= BIT["title"]
    rows["nama"] = names

    # A year typed into the future or more than 120 years back: readable, but implausible. Drawn last, so
    # the draws above are the same as before these kinds existed (module docstring).
    birth_free = ~q_date & ~placeholder & ~swap
    chosen = draw("dob_future", birth_free & (future != "").any(axis=1))
    birth[chosen] = _pick_option(rng, future[chosen])
    chosen = draw("dob_too_old", birth_free & ~chosen & (old != "").any(axis=1))
    birth[chosen] = _pick_option(rng, old[chosen])
    rows["birth"] = birth
    rows["injected"] = injected
    rows["q_field"] = q_field


def injected_labels(mask: np.ndarray) -> np.ndarray:
    """Bit masks to `;`-joined kind names (sorted)."""
    distinct, codes = np.unique(mask, return_inverse=True)
    labels = [";".join(k for k in sorted(ERROR_KINDS) if m & BIT[k]) for m in distinct.tolist()]
    return np.array(labels, dtype=object)[codes]
