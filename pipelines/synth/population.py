"""Dukcapil families of one kabupaten/kota: members, roles, ages, NIK and KK numbers, names, jobs, deaths.

Everything is drawn for the whole population at once with numpy. Identifiers follow the real structure
(`pipelines.nik.encode_nik`; region codes from `pipelines.regions`): a NIK is the kecamatan where it was
issued + birth date (+40 for women) + serial, a KK the kecamatan + issue date + serial; NIKs are unique,
KK numbers are unique and never equal to a NIK.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import regions
from pipelines.contract import DUKCAPIL_COLUMNS
from pipelines.nik import encode_nik
from pipelines.synth import names, occupations, places

# Relationship to the family head (STAT_HBKEL), held as small integer codes while generating.
ROLE_LABELS = (
    "KEPALA KELUARGA", "ISTRI", "SUAMI", "ANAK", "CUCU", "ORANG TUA", "MERTUA", "MENANTU", "FAMILI LAIN", "LAINNYA",
)  # fmt: skip
HEAD, WIFE, HUSBAND, CHILD, GRANDCHILD, PARENT, PARENT_IN_LAW, CHILD_IN_LAW, RELATIVE, OTHER = range(10)
# Members after the head and spouse: mostly children.
_OTHER_ROLES = {
    CHILD: 0.86,
    GRANDCHILD: 0.04,
    PARENT: 0.025,
    PARENT_IN_LAW: 0.025,
    CHILD_IN_LAW: 0.02,
    RELATIVE: 0.025,
    OTHER: 0.005,
}
FAMILY_SIZE_P = np.array([0.09, 0.16, 0.22, 0.23, 0.15, 0.08, 0.04, 0.03])  # 1..8 members
_DAY = np.timedelta64(1, "D")
_EARLIEST_KK = np.datetime64("2000-01-01")


@dataclass
class Population:
    """One kabupaten's people. `families` is indexed by family number, `persons` by person number."""

    kode_kab: str
    families: pd.DataFrame
    persons: pd.DataFrame


def _years(years: np.ndarray) -> np.ndarray:
    """A duration of this many (fractional) years, in whole days."""
    return np.round(years * 365.2425).astype(np.int64) * _DAY


def _date_parts(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day, month and full year of datetime64[D] values."""
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    day = (dates - months).astype(np.int64) + 1
    month = (months - years).astype(np.int64) + 1
    return day, month, years.astype(np.int64) + 1970


def _other_index(rng: np.random.Generator, own: np.ndarray, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """A random index in [start, start+count) different from `own` (requires count >= 2)."""
    pick = start + rng.integers(0, np.maximum(count - 1, 1))
    return pick + (pick >= own)


def _assign_serials(rng: np.random.Generator, prefix: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """16-digit numbers prefix*10^4 + serial, unique and outside `taken`.

    Serials start at a random small offset per prefix and count up; the rare clash with `taken` or with
    each other is resolved by moving the serial on.
    """
    codes, uniques = pd.factorize(prefix, sort=False)
    offset = rng.integers(0, 40, len(uniques))
    serial = offset[codes] + pd.Series(codes).groupby(codes).cumcount().to_numpy() + 1
    taken_set = pd.Index(taken)  # hash lookups: np.isin sorts a million values on every call
    for _ in range(200):
        number = prefix * 10_000 + serial
        clash = pd.Series(number).duplicated(keep="first").to_numpy()
        if len(taken):
            clash |= pd.Index(number).isin(taken_set)
        if not clash.any():
            break
        serial = np.where(clash, serial + rng.integers(1, 97, len(serial)), serial)
        serial = np.where(serial > 9999, rng.integers(1, 9999, len(serial)), serial)
    else:  # pragma: no cover - would need a kecamatan with ~10,000 births on one day
        raise RuntimeError("could not find free serial numbers")
    if serial.max(initial=1) > 9999 or serial.min(initial=1) < 1:  # pragma: no cover
        raise RuntimeError("serial out of range")
    return prefix * 10_000 + serial


def _village_layout(kode_kab: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Desa codes (sorted, as int64), for each desa the first index and count of its kecamatan's desa,
    and the kabupaten's kecamatan codes (int64)."""
    desa = np.array(sorted(int(d) for d in regions.desa_of_kabupaten(kode_kab)), dtype=np.int64)
    kec_of = desa // 10_000
    kecs, first, counts = np.unique(kec_of, return_index=True, return_counts=True)
    group = np.searchsorted(kecs, kec_of)
    kec_codes = np.array(sorted(int(k) for k in regions.kecamatan_of_kabupaten(kode_kab)), dtype=np.int64)
    return desa, first[group], counts[group], kec_codes


def _families(rng: np.random.Generator, n_persons: int) -> np.ndarray:
    """Family sizes (1..8) adding up to exactly `n_persons`."""
    sizes = rng.choice(np.arange(1, 9), size=n_persons // 2 + 8, p=FAMILY_SIZE_P)
    ends = np.cumsum(sizes)
    n_fam = int(np.searchsorted(ends, n_persons) + 1)
    sizes = sizes[:n_fam]
    sizes[-1] -= ends[n_fam - 1] - n_persons
    return sizes


def build_population(
    rng: np.random.Generator,
    kode_kab: str,
    n_persons: int,
    ref_date: np.datetime64,
    *,
    village_weights: np.ndarray | None = None,
    deceased_rate: float = 0.0,
    ineligible_rate: float = 0.0,
    moved_family_rate: float = 0.0,
    taken_ids: np.ndarray | None = None,
    id_prefix: str = "P",
) -> Population:
    """`n_persons` people in families living in the kabupaten's villages.

    `village_weights` (one per desa, in code order) weights where families live; `taken_ids` (int64) are
    NIK/KK numbers that must not be reused, so a second population never collides with the first.
    """
    desa, kec_start, kec_count, kec_codes = _village_layout(kode_kab)
    taken = np.zeros(0, dtype=np.int64) if taken_ids is None else taken_ids

    sizes = _families(rng, n_persons)
    n_fam = len(sizes)
    starts = np.cumsum(sizes) - sizes
    family = np.repeat(np.arange(n_fam), sizes)
    pos = np.arange(n_persons) - starts[family]

    # Where families live; movers were registered in another village before (same kecamatan half the time).
    weights = rng.gamma(2.0, 1.0, len(desa)) if village_weights is None else village_weights
    desa_ix = rng.choice(len(desa), size=n_fam, p=weights / weights.sum())
    moved = (rng.random(n_fam) < moved_family_rate) & (len(desa) > 1)
    same_kec = (rng.random(n_fam) < 0.5) & (kec_count[desa_ix] >= 2)
    old_ix = np.where(
        same_kec,
        _other_index(rng, desa_ix, kec_start[desa_ix], kec_count[desa_ix]),
        _other_index(rng, desa_ix, np.zeros(n_fam, dtype=np.int64), np.full(n_fam, len(desa))),
    )
    old_ix = np.where(moved, old_ix, desa_ix)

    # Roles.
    head_female = np.where(sizes == 1, rng.random(n_fam) < 0.45, rng.random(n_fam) < 0.12)
    has_spouse = (sizes >= 2) & np.where(head_female, rng.random(n_fam) < 0.10, rng.random(n_fam) < 0.92)
    other_roles = np.array(list(_OTHER_ROLES), dtype=np.int8)
    p_roles = np.array(list(_OTHER_ROLES.values()))
    role = other_roles[rng.choice(len(other_roles), size=n_persons, p=p_roles / p_roles.sum())]
    spouse_slot = (pos == 1) & has_spouse[family]
    role = np.where(spouse_slot, np.where(head_female[family], HUSBAND, WIFE), role)
    role = np.where(pos == 0, HEAD, role).astype(np.int8)

    # Ages consistent with roles.
    head_age = np.where(sizes == 1, 20 + rng.gamma(2.5, 14.0, n_fam), 21 + rng.gamma(3.0, 7.5, n_fam))
    head_age = np.clip(np.floor(head_age), 20, 95).astype(np.int64)
    spouse_age = head_age + np.where(head_female, rng.normal(3, 3, n_fam), -rng.normal(4, 4, n_fam))
    spouse_age = np.clip(np.floor(spouse_age), 17, 97).astype(np.int64)
    mother_age = np.where(head_female, head_age, np.where(has_spouse, spouse_age, head_age - 4))
    ha, ma = head_age[family], mother_age[family]
    u = rng.random(n_persons)
    child_age = np.clip(np.floor(ma - 18 - u * np.clip(ma - 18, 0, 24)), 0, None).astype(np.int64)
    grandchild_age = np.floor(ha - 38 - u * 15).astype(np.int64)
    elder_age = np.floor(ha + 20 + u * 15).astype(np.int64)
    in_law_age = np.floor(ha - 20 - u * 12).astype(np.int64)
    relative_age = np.floor(3 + u * 67).astype(np.int64)
    elder = (role == PARENT) | (role == PARENT_IN_LAW)
    role[(role == GRANDCHILD) & (grandchild_age < 0)] = CHILD
    role[elder & (elder_age > 97)] = RELATIVE
    role[(role == CHILD_IN_LAW) & (in_law_age < 17)] = RELATIVE
    elder = (role == PARENT) | (role == PARENT_IN_LAW)
    spouse = (role == WIFE) | (role == HUSBAND)
    age = np.select(
        [role == HEAD, spouse, role == CHILD, role == GRANDCHILD, elder, role == CHILD_IN_LAW],
        [ha, spouse_age[family], child_age, grandchild_age, elder_age, in_law_age],
        default=relative_age,
    )
    r = rng.random(n_persons)
    female = np.select(
        [role == HEAD, role == WIFE, role == HUSBAND, elder],
        [head_female[family], True, False, r < 0.65],
        default=r < 0.5,
    ).astype(bool)
    birth = ref_date - _years(age + rng.random(n_persons) * 0.999)

    # Names: a tradition per family (spouses sometimes from another), Balinese birth order among children.
    mix = names.tradition_mix(kode_kab)
    fam_tradition = rng.choice(len(mix), size=n_fam, p=mix)
    tradition = fam_tradition[family]
    married_in = (spouse | (role == CHILD_IN_LAW)) & (rng.random(n_persons) < 0.10)
    tradition = np.where(married_in, rng.choice(len(mix), size=n_persons, p=mix), tradition)
    fam_noble = (fam_tradition == names.SASAK) & (rng.random(n_fam) < 0.08)
    blood = (role == HEAD) | (role == CHILD) | (role == GRANDCHILD) | (role == PARENT)
    noble = fam_noble[family] & (tradition == names.SASAK) & (blood | (rng.random(n_persons) < 0.3))
    birth_order = rng.integers(0, 4, n_persons)
    children = np.flatnonzero(role == CHILD)
    ranked = children[np.lexsort((birth[children], family[children]))]
    birth_order[ranked] = pd.Series(family[ranked]).groupby(family[ranked]).cumcount().to_numpy()
    full_name = names.compose_names(rng, tradition, female, age, birth_order, noble)

    # Mother's name: the wife (or female head) for children; someone of the same tradition otherwise.
    fam_mother = np.full(n_fam, "", dtype=object)
    wives = np.flatnonzero(role == WIFE)
    fam_mother[family[wives]] = full_name[wives]
    female_heads = np.flatnonzero((role == HEAD) & female)
    fam_mother[family[female_heads]] = full_name[female_heads]
    stranger_mother = names.compose_names(
        rng, tradition, np.ones(n_persons, dtype=bool), age + 25, rng.integers(0, 4, n_persons), noble
    )
    own_mother = fam_mother[family]
    mother = np.where((role == CHILD) & (own_mother != ""), own_mother, stranger_mother).astype(object)

    # NIK: issued in the family's kecamatan at the time (the old one for movers), sometimes elsewhere.
    elsewhere = rng.random(n_persons) < np.where(spouse | (role == CHILD_IN_LAW), 0.30, 0.12)
    nik_kec = np.where(elsewhere, kec_codes[rng.integers(0, len(kec_codes), n_persons)], desa[old_ix][family] // 10_000)
    day, month, year = _date_parts(birth)
    nik_prefix = nik_kec * 1_000_000 + (day + 40 * female) * 10_000 + month * 100 + (year % 100)
    nik_number = _assign_serials(rng, nik_prefix, taken)

    # KK: the current card (issued where the family lives now) and the one before it.
    head_birth = birth[starts]
    high = ref_date - 30 * _DAY
    low = np.maximum(head_birth + _years(np.full(n_fam, 18.0)), np.datetime64("2005-01-01"))
    low = np.minimum(low, high - 30 * _DAY)
    issued = low + (rng.random(n_fam) * (high - low).astype(np.int64)).astype(np.int64) * _DAY
    recent = high - (rng.random(n_fam) * 690).astype(np.int64) * _DAY
    issued = np.where(moved, np.maximum(recent, low), issued)
    before_span = np.maximum((issued - 60 * _DAY - _EARLIEST_KK).astype(np.int64), 1)
    prev_issued = issued - 60 * _DAY - (rng.random(n_fam) * before_span).astype(np.int64) * _DAY
    kk_kec = np.concatenate([desa[desa_ix], desa[old_ix]]) // 10_000
    kk_day, kk_month, kk_year = _date_parts(np.concatenate([issued, prev_issued]))
    kk_prefix = kk_kec * 1_000_000 + kk_day * 10_000 + kk_month * 100 + kk_year % 100
    kk_number = _assign_serials(rng, kk_prefix, np.concatenate([taken, nik_number]))

    # Jobs, ineligible occupations, deaths (older people far more often).
    job = occupations.occupations(rng, age, female)
    ineligible = occupations.assign_ineligible(rng, job, age, ineligible_rate)
    hazard = np.exp((age - 60) / 12.0)
    dead = rng.random(n_persons) < np.clip(deceased_rate * hazard / hazard.mean(), 0, 0.95)
    days_lived = (ref_date - birth).astype(np.int64)
    died = ref_date - (rng.random(n_persons) * np.minimum(1095, days_lived)).astype(np.int64) * _DAY

    desa_str = desa.astype(str).astype(object)
    alamat, rt, rw = places.addresses(rng, desa_str[desa_ix])
    old_alamat, old_rt, old_rw = places.addresses(rng, desa_str[old_ix])
    families = pd.DataFrame(
        {
            "size": sizes,
            "desa": desa_str[desa_ix],
            "old_desa": desa_str[old_ix],
            "moved": moved,
            "kk": kk_number[:n_fam].astype(str).astype(object),
            "prev_kk": kk_number[n_fam:].astype(str).astype(object),
            "head": starts,
            "alamat": alamat,
            "rt": rt,
            "rw": rw,
            "old_alamat": np.where(moved, old_alamat, alamat),
            "old_rt": np.where(moved, old_rt, rt),
            "old_rw": np.where(moved, old_rw, rw),
        }
    )
    nik = nik_number.astype(str).astype(object)
    _check_against_encode_nik(nik[:500], nik_kec[:500], birth[:500], female[:500])
    persons = pd.DataFrame(
        {
            "person_id": (
                f"{id_prefix}{kode_kab}" + pd.Series(np.arange(1, n_persons + 1)).astype(str).str.zfill(7)
            ).to_numpy(dtype=object),
            "family": family,
            "pos": pos,
            "role": np.array(ROLE_LABELS, dtype=object)[role],
            "female": female,
            "age": age,
            "birth": np.datetime_as_string(birth, unit="D").astype(object),
            "nik": nik,
            "name": full_name,
            "mother": mother,
            "birthplace": places.birthplaces(rng, kode_kab, nik_kec.astype(str)),
            "job": job,
            "ineligible": ineligible,
            "death": np.where(dead, np.datetime_as_string(died, unit="D"), "").astype(object),
            # Kept so a name can be drawn again the same way (see unknown.py).
            "tradition": tradition.astype(np.int8),
            "noble": noble,
            "birth_order": birth_order.astype(np.int8),
        }
    )
    return Population(kode_kab=kode_kab, families=families, persons=persons)


def _check_against_encode_nik(nik: np.ndarray, kec: np.ndarray, birth: np.ndarray, female: np.ndarray) -> None:
    """Guards the vectorised NIK arithmetic: it must equal `pipelines.nik.encode_nik` on a sample."""
    iso = np.datetime_as_string(birth, unit="D")
    for value, k, b, f in zip(nik, kec, iso, female, strict=True):
        if encode_nik(str(k), str(b), "P" if f else "L", int(value[-4:])) != value:
            raise AssertionError("NIK arithmetic disagrees with encode_nik")


def dukcapil_extract(population: Population) -> pd.DataFrame:
    """The extract of contract section 1.2, upper-case columns, one row per person, by village and card."""
    p, f = population.persons, population.families
    fam_ix = p["family"].to_numpy()
    desa = f["desa"].str
    by_family = {
        "NO_KK": f["kk"],
        "ALAMAT": f["alamat"],
        "NO_RT": f["rt"],
        "NO_RW": f["rw"],
        "NO_PROP": desa.slice(0, 2),
        "NO_KAB": desa.slice(2, 4),
        "NO_KEC": desa.slice(4, 6),
        "NO_KEL": desa.slice(6, 10),
    }
    columns = {
        "NIK": p["nik"].to_numpy(),
        "NAMA_LGKP": p["name"].to_numpy(),
        "JENIS_KLMIN": np.where(p["female"].to_numpy(), "PEREMPUAN", "LAKI-LAKI").astype(object),
        "TMPT_LHR": p["birthplace"].to_numpy(),
        "TGL_LHR": p["birth"].to_numpy(),
        "STAT_HBKEL": p["role"].to_numpy(),
        "JENIS_PKRJN": p["job"].to_numpy(),
        "NAMA_LGKP_IBU": p["mother"].to_numpy(),
        "TGL_MATI": p["death"].to_numpy(),
    }
    columns |= {name: values.to_numpy()[fam_ix] for name, values in by_family.items()}
    out = pd.DataFrame({name: columns[name] for name in DUKCAPIL_COLUMNS})
    order = np.lexsort((p["pos"].to_numpy(), fam_ix, f["desa"].to_numpy().astype(np.int64)[fam_ix]))
    return out.iloc[order].reset_index(drop=True)
