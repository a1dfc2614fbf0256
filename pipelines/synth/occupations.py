"""JENIS_PKRJN: occupations from the Dukcapil (SIAK) list, by age and sex, plus the ineligible ones."""

from __future__ import annotations

import numpy as np

from pipelines.contract import INELIGIBLE_OCCUPATIONS

NOT_WORKING = "BELUM/TIDAK BEKERJA"
HOUSEWORK = "MENGURUS RUMAH TANGGA"
STUDENT = "PELAJAR/MAHASISWA"
RETIRED = "PENSIUNAN"

_ADULT_MEN = {
    "PETANI/PEKEBUN": 0.30,
    "BURUH HARIAN LEPAS": 0.14,
    "WIRASWASTA": 0.12,
    "BURUH TANI/PERKEBUNAN": 0.08,
    "PEDAGANG": 0.06,
    "KARYAWAN SWASTA": 0.06,
    "NELAYAN/PERIKANAN": 0.04,
    "TUKANG BATU": 0.04,
    NOT_WORKING: 0.04,
    "SOPIR": 0.03,
    "TUKANG KAYU": 0.02,
    "PETERNAK": 0.02,
    "KARYAWAN HONORER": 0.02,
    "LAINNYA": 0.02,
    "GURU": 0.01,
}
_ADULT_WOMEN = {
    HOUSEWORK: 0.50,
    "PETANI/PEKEBUN": 0.12,
    "WIRASWASTA": 0.07,
    "PEDAGANG": 0.07,
    "BURUH HARIAN LEPAS": 0.06,
    "BURUH TANI/PERKEBUNAN": 0.05,
    "KARYAWAN SWASTA": 0.04,
    NOT_WORKING: 0.02,
    "PEMBANTU RUMAH TANGGA": 0.02,
    "TUKANG JAHIT": 0.02,
    "KARYAWAN HONORER": 0.02,
    "GURU": 0.01,
}
# Ineligible occupations met in village registries, civil servants and village officials above all.
_INELIGIBLE = {
    "PEGAWAI NEGERI SIPIL (PNS)": 0.42,
    "PERANGKAT DESA": 0.16,
    "KARYAWAN BUMN": 0.09,
    "TENTARA NASIONAL INDONESIA (TNI)": 0.08,
    "KEPOLISIAN RI (POLRI)": 0.08,
    "KARYAWAN BUMD": 0.05,
    "KEPALA DESA": 0.03,
    "ANGGOTA DPRD KABUPATEN/KOTA": 0.03,
    "ANGGOTA DPRD PROVINSI": 0.01,
}
assert set(_INELIGIBLE) <= set(INELIGIBLE_OCCUPATIONS)  # labels must match the contract exactly
INELIGIBLE_AGES = (20, 57)  # serving officials; older ones are retired (PENSIUNAN)


def _draw(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    labels = np.array(list(table), dtype=object)
    p = np.array(list(table.values()))
    return labels[rng.choice(len(labels), size=n, p=p / p.sum())]


def occupations(rng: np.random.Generator, age: np.ndarray, female: np.ndarray) -> np.ndarray:
    """An eligible occupation for everyone (the ineligible ones are added by `assign_ineligible`)."""
    n = len(age)
    adult = np.where(female, _draw(rng, _ADULT_WOMEN, n), _draw(rng, _ADULT_MEN, n))
    u, v = rng.random(n), rng.random(n)
    return np.select(
        [
            age < 5,
            age < 18,
            (age < 23) & (u < 0.4),
            (age >= 58) & (v < 0.08),
            (age >= 65) & (u < 0.4),
        ],
        [NOT_WORKING, np.where(u < 0.08 + 0.5 * (age < 7), NOT_WORKING, STUDENT), STUDENT, RETIRED, NOT_WORKING],
        default=adult,
    ).astype(object)


def assign_ineligible(rng: np.random.Generator, jobs: np.ndarray, age: np.ndarray, rate: float) -> np.ndarray:
    """Marks `rate` of the adults (18+) as holding an ineligible occupation; returns the boolean mask.

    Only working ages qualify, so the chance among them is scaled up to keep `rate` over all adults.
    """
    adults = int((age >= 18).sum())
    candidates = (age >= INELIGIBLE_AGES[0]) & (age <= INELIGIBLE_AGES[1])
    p = min(1.0, rate * adults / max(int(candidates.sum()), 1))
    chosen = candidates & (rng.random(len(age)) < p)
    jobs[chosen] = _draw(rng, _INELIGIBLE, int(chosen.sum()))
    return chosen


def reported_occupation(rng: np.random.Generator, jobs: np.ndarray, ineligible: np.ndarray) -> np.ndarray:
    """What the village writes in `pekerjaan`: usually the same, but ineligible jobs are often left out."""
    hidden = ineligible & (rng.random(len(jobs)) < 0.6)
    cover = np.array(["PETANI/PEKEBUN", "WIRASWASTA", "PEDAGANG", "BURUH HARIAN LEPAS"], dtype=object)
    return np.where(hidden, cover[rng.integers(0, len(cover), len(jobs))], jobs).astype(object)
