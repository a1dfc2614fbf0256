"""The comparison view of both sides: the same feature columns for submission rows and Dukcapil persons.

Features: `nik`, `kk`, `kk_family` (the family's card as Dukcapil knows it: a Dukcapil person's own; a
submission row's from its linked family members, filled in by `link_submissions`), `name` (normalised),
`first`/`last` name tokens, `initial` (the name's first letter, for blocking), `dob` (ISO), `year`,
`dob_swapped` (day and month exchanged, for operators who type the American way), `placeholder` (1 January
/ 1 July: the date an operator writes when the real one is unknown), `birthday` (month and day: the
birth date without its year, for a year typed wrong), `sex`, `desa`, `kec`, `mother`; and for joins,
`nik_key`/`kk_key`/`kk_family_key` (the numbers as int64) and `nik_head12`/`nik_tail10` (NIK fragments, so a mistyped
serial or region code still meets its owner). A submission row's NIK that is its own KK number (the card
typed in the NIK column) says nothing of the person: it counts as missing.

Every other text feature is a pandas Categorical: each column is factorised once and every derived value
(the normal form of a name, its first word, the swapped date, the kecamatan) is computed once per
*distinct* value, never per row. A million Dukcapil persons carry some forty thousand distinct names and
thirty thousand distinct birth dates, so this is what keeps preparation to seconds. The integer codes also
feed blocking (`blocking.py`) and the comparisons (`comparisons.py`, once per distinct pair of values)
without hashing strings again.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.names import normalise_name

FEATURES = [
    "nik",
    "kk",
    "kk_family",
    "name",
    "first",
    "last",
    "initial",
    "dob",
    "year",
    "dob_swapped",
    "placeholder",
    "birthday",
    "sex",
    "desa",
    "kec",
    "mother",
    "nik_key",
    "kk_key",
    "kk_family_key",
    "nik_head12",
    "nik_tail10",
]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _derive(codes: np.ndarray, derived: list | np.ndarray) -> pd.Categorical:
    """A categorical column from per-row codes into some uniques and a derived value per unique (None or ""
    meaning missing). Derived values may collide ("Hj. Siti" and "SITI"), so they are factorised again."""
    derived = np.asarray(derived, dtype=object)
    derived[derived == ""] = None
    sub_codes, categories = pd.factorize(derived, use_na_sentinel=True)
    full = np.append(sub_codes, -1)[codes]  # code -1 (missing) picks the appended -1
    return pd.Categorical.from_codes(full.astype(np.int32), categories=pd.Index(categories, dtype=object))


def _arrow_text(values: pd.Series) -> pa.Array:
    try:
        return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers or other objects: their text
        return pa.array([None if pd.isna(v) else str(v) for v in values], type=pa.string())


def _as_key(digits: pa.Array, mask: pa.Array) -> np.ndarray:
    """Digit strings as int64 keys (-1 where `mask` is false): blocking joins on them without hashing text."""
    none = pa.scalar(None, pa.string())
    number = pc.cast(pc.if_else(mask, digits, none), pa.int64())
    return np.asarray(number.fill_null(-1), dtype=np.int64)


def _identifier(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """NIK or KK: the digits (6 to 20, else missing) as text for comparisons; as an int64 key (number * 20 +
    length, so "0123" and "123" differ) for joins; and the head (12) and tail (10) of 16-digit numbers as
    keys for typo-tolerant blocking. NIKs are nearly all distinct, so this runs in Arrow, not per value."""
    text = _arrow_text(values)
    valid = pc.fill_null(pc.match_substring_regex(text, r"^\d{6,20}$"), False)
    length = pc.utf8_length(text)
    short = pc.and_(valid, pc.less_equal(length, 16))
    sixteen = pc.and_(valid, pc.equal(length, 16))
    full = _as_key(text, short)
    key = np.where(full >= 0, full * 20 + np.asarray(length.fill_null(0), dtype=np.int64), -1)
    head = _as_key(pc.utf8_slice_codeunits(text, 0, 12), sixteen)
    tail = _as_key(pc.utf8_slice_codeunits(text, 6, 16), sixteen)
    shown = np.where(np.asarray(valid, dtype=bool), values.to_numpy(dtype=object), None)
    return shown, key, head, tail


def identifier_keys(values: pd.Series) -> np.ndarray:
    """NIK or KK numbers as the int64 keys joins use (`nik_key`, `kk_key`; -1 where not a number)."""
    return _identifier(values)[1]


def _names(values: pd.Series) -> tuple[pd.Categorical, pd.Categorical, pd.Categorical, pd.Categorical]:
    """The normal form, its first and last words, and its first letter."""
    codes, uniques = _factorize(values)
    normal = [normalise_name(u) for u in uniques]
    words = [n.split(" ") if n else None for n in normal]
    first = [w[0] if w else None for w in words]
    last = [w[-1] if w else None for w in words]
    initial = [n[0] if n else None for n in normal]
    return _derive(codes, normal), _derive(codes, first), _derive(codes, last), _derive(codes, initial)


def _dates(
    values: pd.Series,
) -> tuple[pd.Categorical, pd.Categorical, pd.Categorical, pd.Categorical, np.ndarray]:
    """ISO date, year, day-month swap (only where the day could be a month), month and day, and the
    placeholder flag (whose month and day say nothing: no `birthday` for it)."""
    codes, uniques = _factorize(values)
    iso = [u if isinstance(u, str) and _ISO_DATE.fullmatch(u) else None for u in uniques]
    year = [d[:4] if d else None for d in iso]
    swapped = [f"{d[:4]}-{d[8:10]}-{d[5:7]}" if d and int(d[8:10]) <= 12 and d[8:10] != d[5:7] else None for d in iso]
    placeholder = np.array([bool(d) and d[8:10] == "01" and d[5:7] in ("01", "07") for d in iso] + [False])
    birthday = [d[5:] if d and not p else None for d, p in zip(iso, placeholder, strict=False)]
    return (
        _derive(codes, iso),
        _derive(codes, year),
        _derive(codes, swapped),
        _derive(codes, birthday),
        placeholder[codes],
    )


def _plain(values: pd.Series) -> pd.Categorical:
    codes, uniques = _factorize(values)
    return _derive(codes, [str(u) for u in uniques])


def _frame(nik, kk, names, dob, sex, desa, mother, index, *, family_is_own_card: bool) -> pd.DataFrame:
    nik_text, nik_key, head, tail = _identifier(nik)
    kk_text, kk_key, _, _ = _identifier(kk)
    if not family_is_own_card:  # a submission row: its KK typed as its NIK is no NIK
        card = (nik_key >= 0) & (nik_key == kk_key)
        nik_text = np.where(card, None, nik_text)
        nik_key, head, tail = (np.where(card, -1, k) for k in (nik_key, head, tail))
    name, first, last, initial = _names(names)
    iso, year, swapped, birthday, placeholder = _dates(dob)
    desa_codes, desa_uniques = _factorize(desa)
    mother_c, *_ = _names(mother)
    return pd.DataFrame(
        {
            "nik": nik_text,
            "kk": kk_text,
            "kk_family": kk_text if family_is_own_card else np.full(len(kk_text), None, dtype=object),
            "kk_family_key": kk_key if family_is_own_card else np.full(len(kk_key), -1, dtype=np.int64),
            "name": name,
            "first": first,
            "last": last,
            "initial": initial,
            "dob": iso,
            "year": year,
            "dob_swapped": swapped,
            "placeholder": placeholder,
            "birthday": birthday,
            "sex": _plain(sex),
            "desa": _derive(desa_codes, [str(u) for u in desa_uniques]),
            "kec": _derive(desa_codes, [str(u)[:6] for u in desa_uniques]),
            "mother": mother_c,
            "nik_key": nik_key,
            "kk_key": kk_key,
            "nik_head12": head,
            "nik_tail10": tail,
        },
        index=index,
    )


def prepare_submissions(rows: pd.DataFrame) -> pd.DataFrame:
    """Indexed by `row_id`."""
    r = rows[["row_id", "nik", "no_kk", "nama", "tanggal_lahir", "jenis_kelamin", "kode_desa", "nama_ibu_kandung"]]
    r = r.set_index("row_id", drop=False)
    return _frame(
        r["nik"],
        r["no_kk"],
        r["nama"],
        r["tanggal_lahir"],
        r["jenis_kelamin"],
        r["kode_desa"],
        r["nama_ibu_kandung"],
        r.index,
        family_is_own_card=False,  # filled in by the linker after the exact pass
    )


def prepare_dukcapil(persons: pd.DataFrame) -> pd.DataFrame:
    """Indexed by position in `persons` (0..n-1)."""
    p = persons[["NIK", "NO_KK", "NAMA_LGKP", "TGL_LHR", "JENIS_KLMIN", "kode_desa", "NAMA_LGKP_IBU"]]
    p = p.reset_index(drop=True)
    return _frame(
        p["NIK"],
        p["NO_KK"],
        p["NAMA_LGKP"],
        p["TGL_LHR"],
        p["JENIS_KLMIN"],
        p["kode_desa"],
        p["NAMA_LGKP_IBU"],
        pd.RangeIndex(len(p)),
        family_is_own_card=True,
    )


def text_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A feature column as an object array of strings ("" where missing) and its presence mask; works for
    the categorical columns made here and for plain object columns alike."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        categories = values.cat.categories.to_numpy(dtype=object)
        return np.append(categories, "")[codes], codes >= 0
    raw = values.to_numpy(dtype=object)
    present = ~pd.isna(raw)
    return np.where(present, raw, ""), present
