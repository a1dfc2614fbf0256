"""Which families each village submits, and the rows it would write if it made no mistake.

Most villages of the kabupaten take part. A family is submitted by the village it lived in when DTKS last
saw it: for a family that has moved, that is the old village (Dukcapil already has the new one). Rows also
carry the truth the ground truth needs (`t_*` columns: the person's Dukcapil record, empty when unknown).
Error injection (errors.py) then edits the written values, never the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import occupations
from pipelines.synth.config import SynthConfig
from pipelines.synth.population import Population
from pipelines.synth.unknown import build_unknown

PARTICIPATION = 0.93  # share of villages sending a file this quarter
_PROGRAM_P = {"PKH": 0.30, "BPNT": 0.45, "PBI-JK": 0.80, "BST": 0.05, "BLT-DD": 0.10}
DUP_NONE, DUP_SAME, DUP_OTHER = 0, 1, 2


def participating_villages(rng: np.random.Generator, desa: np.ndarray) -> np.ndarray:
    """Sorted codes of the villages that send a file (at least one)."""
    takes_part = rng.random(len(desa)) < PARTICIPATION
    if not takes_part.any():
        takes_part[0] = True
    return np.sort(desa[takes_part])


def _programs(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for name, p in _PROGRAM_P.items():
        has = rng.random(n) < p
        out = np.where(has, np.where(out == "", name, out + ";" + name), out)
    return out


def _rows_of(pop: Population, fam_ix: np.ndarray, known: bool, rng: np.random.Generator) -> pd.DataFrame:
    """Clean rows for every member of the given families."""
    f, p = pop.families, pop.persons
    wanted = np.zeros(len(f), dtype=bool)
    wanted[fam_ix] = True
    members = p[wanted[p["family"].to_numpy()]]
    fam = members["family"].to_numpy()
    nik = members["nik"].to_numpy()
    head_nik = p["nik"].to_numpy()[f["head"].to_numpy()[fam]]
    sex = np.where(members["female"].to_numpy(), "P", "L").astype(object)
    birth = members["birth"].to_numpy()
    empty = np.full(len(members), "", dtype=object)
    return pd.DataFrame(
        {
            "person_id": members["person_id"].to_numpy(),
            "known": known,
            "family_key": members["person_id"].str.slice(0, 5).to_numpy() + fam.astype(str).astype(object),
            "family": fam,
            "role": members["role"].to_numpy(),
            "age": members["age"].to_numpy(),
            "female": members["female"].to_numpy(),
            "moved": f["moved"].to_numpy()[fam],
            "head_nik": head_nik,
            "prev_kk": f["prev_kk"].to_numpy()[fam],
            # Truth: the Dukcapil record, or nothing for a person Dukcapil does not know.
            "t_nik": nik if known else empty,
            "t_kk": f["kk"].to_numpy()[fam] if known else empty,
            "t_name": members["name"].to_numpy() if known else empty,
            "t_birth": birth if known else empty,
            "t_sex": sex if known else empty,
            "t_desa": f["desa"].to_numpy()[fam] if known else empty,
            "t_dead": members["death"].to_numpy() != "" if known else np.zeros(len(members), dtype=bool),
            "t_ineligible": members["ineligible"].to_numpy() if known else np.zeros(len(members), dtype=bool),
            # What the village writes (before mistakes); the village knows the old address of a mover.
            "kode_desa": f["old_desa"].to_numpy()[fam],
            "no_kk": f["kk"].to_numpy()[fam],
            "nik": nik,
            "nama": members["name"].to_numpy(),
            "sex": sex,
            "tempat_lahir": members["birthplace"].to_numpy(),
            "birth": birth,
            "hubungan_keluarga": members["role"].to_numpy(),
            "nama_ibu_kandung": np.where(rng.random(len(members)) < 0.1, "", members["mother"].to_numpy()),
            "alamat": f["old_alamat"].to_numpy()[fam],
            "rt": f["old_rt"].to_numpy()[fam],
            "rw": f["old_rw"].to_numpy()[fam],
            "pekerjaan": occupations.reported_occupation(
                rng, members["job"].to_numpy().copy(), members["ineligible"].to_numpy()
            ),
        }
    )


def _statuses(rng: np.random.Generator, rows: pd.DataFrame) -> None:
    """status_usulan, alasan_nonaktif, id_dtks and program, per family with personal exceptions."""
    fam_codes, fam_uniques = pd.factorize(rows["family_key"])
    n_fam, n = len(fam_uniques), len(rows)
    known = rows["known"].to_numpy()
    u = rng.random(n_fam)[fam_codes]
    status = np.where(
        known,
        np.select([u < 0.5, u < 0.8], ["TETAP", "PERBAIKAN"], default="BARU"),
        np.where(u < 0.85, "BARU", "PERBAIKAN"),
    ).astype(object)
    reason = np.full(n, "", dtype=object)

    def deactivate(mask: np.ndarray, why: str) -> None:
        status[mask] = "NONAKTIF"
        reason[mask] = why

    deactivate(known & (rng.random(n_fam)[fam_codes] < 0.01), "MAMPU")
    deactivate(rows["t_ineligible"].to_numpy() & (rng.random(n) < 0.1), "MAMPU")
    deactivate(rows["moved"].to_numpy() & known & (rng.random(n_fam)[fam_codes] < 0.35), "PINDAH")
    deactivate(known & (rng.random(n) < 0.003), "TIDAK_DITEMUKAN")
    deactivate(rows["t_dead"].to_numpy() & (rng.random(n) < 0.4), "MENINGGAL")
    rows["status_usulan"] = status
    rows["alasan_nonaktif"] = reason
    serial = pd.Series(rows["person_id"].str.slice(5).astype(np.int64) + np.where(known, 0, 5_000_000_000))
    # The person's own kabupaten (in `person_id`): a family submitted from another kabupaten keeps its id.
    dtks_id = (rows["person_id"].str.slice(1, 5) + serial.astype(str).str.zfill(10)).to_numpy(dtype=object)
    rows["id_dtks"] = np.where(status == "BARU", "", dtks_id).astype(object)
    family_programs = _programs(rng, n_fam)[fam_codes]
    rows["program"] = np.where(status == "BARU", np.where(rng.random(n) < 0.2, "BLT-DD", ""), family_programs).astype(
        object
    )


def _kecamatan_spans(villages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each village (sorted codes), first index and count of the villages of its kecamatan."""
    kec = np.array([v[:6] for v in villages])
    uniq, first, counts = np.unique(kec, return_index=True, return_counts=True)
    group = np.searchsorted(uniq, kec)
    return first[group], counts[group]


def propose_again(dups: pd.DataFrame, u: np.ndarray) -> None:
    """A second submission of a person is often proposed as new (BARU, no DTKS id or programme) or flagged
    for removal as a duplicate; `u` holds one uniform per copy."""
    dups["status_usulan"] = np.select([u < 0.45, u < 0.55], ["BARU", "NONAKTIF"], default=dups["status_usulan"])
    dups["alasan_nonaktif"] = np.select([u < 0.45, u < 0.55], ["", "GANDA"], default=dups["alasan_nonaktif"])
    dups["id_dtks"] = np.where(u < 0.45, "", dups["id_dtks"])
    dups["program"] = np.where(u < 0.45, "", dups["program"])


def add_duplicates(
    rng: np.random.Generator, rows: pd.DataFrame, villages: np.ndarray, config: SynthConfig
) -> pd.DataFrame:
    """Submits some persons a second time: in the same village, or in another one (mostly nearby).

    The copy starts clean and gets its own errors later; it is often proposed as new (BARU) or flagged.
    """
    n = len(rows)
    rates = config.rates
    same = rng.random(n) < rates.duplicate_same_village
    other = ~same & (rng.random(n) < rates.duplicate_other_village / max(1e-9, 1 - rates.duplicate_same_village))
    if len(villages) < 2:
        other[:] = False
    picked = np.flatnonzero(same | other)
    dups = rows.iloc[picked].copy()
    dups["dup"] = np.where(other[picked], DUP_OTHER, DUP_SAME)
    own = np.searchsorted(villages, dups["kode_desa"].to_numpy().astype(villages.dtype))
    first, count = _kecamatan_spans(villages)
    m = len(picked)
    nearby = (count[own] >= 2) & (rng.random(m) < 0.7)
    near_ix = first[own] + rng.integers(0, np.maximum(count[own] - 1, 1))
    near_ix = near_ix + (near_ix >= own)
    any_ix = rng.integers(0, max(len(villages) - 1, 1), m)
    any_ix = any_ix + (any_ix >= own)
    target = np.where(nearby, near_ix, any_ix)
    is_other = dups["dup"].to_numpy() == DUP_OTHER
    dups["kode_desa"] = np.where(is_other, villages[np.minimum(target, len(villages) - 1)], dups["kode_desa"])
    propose_again(dups, rng.random(m))
    rows = rows.assign(dup=DUP_NONE)
    return pd.concat([rows, dups], ignore_index=True)


def build_rows(
    rng: np.random.Generator,
    pop: Population,
    config: SynthConfig,
    ref_date: np.datetime64,
    desa: np.ndarray,
    persons_in_kab: int,
    guests: list[tuple[Population, np.ndarray]] = (),
    guest_rng: np.random.Generator | None = None,
) -> tuple[pd.DataFrame, np.ndarray, Population | None]:
    """Clean submission rows of one kabupaten (known and unknown persons, duplicates included).

    `guests`: families of other kabupaten's populations (positions) that this kabupaten's villages still
    submit (they moved away: `province.move_families`), drawn with `guest_rng`.
    Returns the rows, the participating villages and the population of unknown persons.
    """
    villages = participating_villages(rng, desa)
    f = pop.families
    in_village = pd.Series(f["old_desa"].to_numpy()).isin(villages).to_numpy()
    persons_there = int(f["size"].to_numpy()[in_village].sum())
    q = min(1.0, config.submitted_share * persons_in_kab / max(persons_there, 1))
    chosen = np.flatnonzero(in_village & (rng.random(len(f)) < q))
    rows = _rows_of(pop, chosen, True, rng)
    if guests:
        rows = pd.concat([rows, *(_rows_of(p, ix, True, guest_rng) for p, ix in guests)], ignore_index=True)

    unknown = None
    n_unknown = round(config.unknown_share / (1 - config.unknown_share) * len(rows))
    if n_unknown > 0:
        weights = np.where(pd.Series(desa).isin(villages).to_numpy(), rng.gamma(2.0, 1.0, len(desa)), 0.0)
        unknown = build_unknown(rng, pop, n_unknown, ref_date, weights)
        rows = pd.concat([rows, _rows_of(unknown, np.arange(len(unknown.families)), False, rng)], ignore_index=True)
    _statuses(rng, rows)
    return add_duplicates(rng, rows, villages, config), villages, unknown
