"""The comparison view of both sides: the same feature columns for submission rows and Dukcapil persons.

Features: `nik`, `kk`, `name` (normalised), `first`/`last` name tokens, `dob` (ISO), `dob_swapped` (day and
month exchanged, for operators who type the American way), `placeholder` (1 January / 1 July: the date
an operator writes when the real one is unknown), `sex`, `desa`, `kec`, `mother`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.names import normalise_names

FEATURES = ["nik", "kk", "name", "first", "last", "dob", "dob_swapped", "placeholder", "sex", "desa", "kec", "mother"]


def _tokens(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    split = names.str.split(" ")
    first = split.str[0].where(names != "")
    last = split.str[-1].where(names != "")
    return first, last


def _dates(dob: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    iso = dob.where(dob.astype("string").str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool))
    text = iso.astype("string")
    year, month, day = text.str.slice(0, 4), text.str.slice(5, 7), text.str.slice(8, 10)
    swapped = (year + "-" + day + "-" + month).where((day.astype("Int64") <= 12) & (day != month))
    placeholder = ((day == "01") & month.isin(["01", "07"])).fillna(False).astype(bool)
    return iso.astype(object), swapped.astype(object), placeholder


def _frame(nik, kk, names, dob, sex, desa, mother, index) -> pd.DataFrame:
    name = normalise_names(names)
    first, last = _tokens(name.astype("string"))
    iso, swapped, placeholder = _dates(dob)
    out = pd.DataFrame(
        {
            "nik": nik.where(nik.astype("string").str.fullmatch(r"\d{6,20}").fillna(False).astype(bool)),
            "kk": kk.where(kk.astype("string").str.fullmatch(r"\d{6,20}").fillna(False).astype(bool)),
            "name": name.where(name != ""),
            "first": first.astype(object),
            "last": last.astype(object),
            "dob": iso,
            "dob_swapped": swapped,
            "placeholder": placeholder.to_numpy(),
            "sex": sex,
            "desa": desa,
            "kec": desa.astype("string").str.slice(0, 6).astype(object),
            "mother": normalise_names(mother).replace("", None),
        },
        index=index,
    )
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].where(out[column].notna(), None)
    return out


def prepare_submissions(rows: pd.DataFrame) -> pd.DataFrame:
    """Indexed by `row_id`."""
    r = rows.set_index("row_id", drop=False)
    return _frame(
        r["nik"],
        r["no_kk"],
        r["nama"],
        r["tanggal_lahir"],
        r["jenis_kelamin"],
        r["kode_desa"],
        r["nama_ibu_kandung"],
        r.index,
    )


def prepare_dukcapil(persons: pd.DataFrame) -> pd.DataFrame:
    """Indexed by position in `persons` (0..n-1)."""
    p = persons.reset_index(drop=True)
    return _frame(
        p["NIK"],
        p["NO_KK"],
        p["NAMA_LGKP"],
        p["TGL_LHR"],
        p["JENIS_KLMIN"],
        p["kode_desa"],
        p["NAMA_LGKP_IBU"],
        pd.RangeIndex(len(p)),
    )


def as_codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Both columns as integer codes over their joint values (-1 for missing): cheap equality tests."""
    joint = pd.concat([left, right], ignore_index=True)
    codes, _ = pd.factorize(joint, use_na_sentinel=True)
    return codes[: len(left)], codes[len(left) :]
