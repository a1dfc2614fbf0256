"""NIK and KK structure, checked for a whole column at once.

NIK: PP KK CC DDMMYY SSSS = province, kabupaten, kecamatan (Kemendagri codes at issue), birth date with
40 added to the day for women, serial. KK: the same region part, then the card's issue date, then a serial.
The rules match lokal-id's `parse_nik` (tests/test_nik.py checks that row by row); this module does them
vectorised because a quarter has millions of values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines import regions

# Problem codes, in the order they are checked; the first problem found is reported.
EMPTY = "kosong"
NOT_16_DIGITS = "bukan_16_digit"
UNKNOWN_PROVINCE = "provinsi_tidak_dikenal"
ZERO_REGION = "wilayah_00"
BAD_DATE = "tanggal_tidak_valid"
ZERO_SERIAL = "nomor_urut_0000"

MESSAGES = {
    EMPTY: "NIK kosong.",
    NOT_16_DIGITS: "NIK harus terdiri dari 16 digit angka.",
    UNKNOWN_PROVINCE: "Kode provinsi di NIK tidak dikenal.",
    ZERO_REGION: "Kode kabupaten/kota dan kecamatan di NIK tidak boleh 00.",
    BAD_DATE: "Tanggal lahir yang tersandi di NIK tidak valid.",
    ZERO_SERIAL: "Nomor urut NIK tidak boleh 0000.",
}
KK_MESSAGES = {
    EMPTY: "Nomor KK kosong.",
    NOT_16_DIGITS: "Nomor KK harus terdiri dari 16 digit angka.",
    UNKNOWN_PROVINCE: "Kode provinsi di nomor KK tidak dikenal.",
    ZERO_REGION: "Kode kabupaten/kota dan kecamatan di nomor KK tidak boleh 00.",
    BAD_DATE: "Tanggal yang tersandi di nomor KK tidak valid.",
    ZERO_SERIAL: "Nomor urut KK tidak boleh 0000.",
}

_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _date_ok(day: np.ndarray, month: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """True where day/month is a real date in 19yy or 20yy (29 February needs a leap year)."""
    month_ok = (month >= 1) & (month <= 12)
    limit = _DAYS_IN_MONTH[np.where(month_ok, month, 0)]
    ok = month_ok & (day >= 1) & (day <= limit)
    # 29 Feb: 2000 is a leap year, 1900 is not, so any yy divisible by 4 has one century where it exists.
    return ok & ~((month == 2) & (day == 29) & (yy % 4 != 0))


def parse_ids(values: pd.Series, *, encodes_sex: bool) -> pd.DataFrame:
    """Structure of a column of 16-digit identifiers (already stripped of spreadsheet damage).

    Returns, aligned with `values`: `valid`, `problem` (a code above, or None), `sex` (`L`/`P` for a NIK),
    `day`, `month`, `yy` (the encoded date) and `kecamatan_known` (False for a code that is no longer
    current, e.g. after a pemekaran: a warning, not a rejection).
    """
    text = values.astype("string").fillna("")
    n = len(text)
    is16 = ((text.str.len() == 16) & text.str.isdigit()).fillna(False).to_numpy(dtype=bool)
    # One row of 16 digit values per identifier: numeric slicing is ~20x faster than string slicing.
    packed = np.array(text.where(is16, "0" * 16).tolist(), dtype="S16")
    d = (np.frombuffer(packed.tobytes(), dtype=np.uint8).reshape(n, 16) - 48).astype(np.int64)

    def number(start: int, stop: int) -> np.ndarray:
        width = stop - start
        return d[:, start:stop] @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))

    raw_day, month, yy = number(6, 8), number(8, 10), number(10, 12)
    female = raw_day > 40 if encodes_sex else np.zeros(n, dtype=bool)
    day = np.where(female, raw_day - 40, raw_day)
    prov, kec = number(0, 2), number(0, 6)

    province_ok = np.isin(prov, [int(p) for p in regions.province_codes()])
    region_nonzero = (number(2, 4) != 0) & (number(4, 6) != 0)
    date_ok = _date_ok(day, month, yy)
    serial_ok = number(12, 16) != 0

    empty = (text == "").to_numpy(dtype=bool)
    problem = np.select(
        [empty, ~is16, ~province_ok, ~region_nonzero, ~date_ok, ~serial_ok],
        [EMPTY, NOT_16_DIGITS, UNKNOWN_PROVINCE, ZERO_REGION, BAD_DATE, ZERO_SERIAL],
        default="",
    )
    valid = problem == ""
    idx = values.index
    out = pd.DataFrame(
        {
            "valid": valid,
            "problem": pd.Series(problem, index=idx, dtype=object).replace("", None),
            "sex": pd.Series(np.where(female, "P", "L"), index=idx, dtype=object).where(valid & encodes_sex),
            "day": pd.Series(day, index=idx).where(is16).astype("Int64"),
            "month": pd.Series(month, index=idx).where(is16).astype("Int64"),
            "yy": pd.Series(yy, index=idx).where(is16).astype("Int64"),
            "kecamatan_known": np.isin(kec, [int(k) for k in regions.kecamatan_codes()]) & is16,
        },
        index=idx,
    )
    return out


def parse_nik(values: pd.Series) -> pd.DataFrame:
    return parse_ids(values, encodes_sex=True)


def parse_kk(values: pd.Series) -> pd.DataFrame:
    return parse_ids(values, encodes_sex=False)


def encode_nik(kode_kec: str, birth_date: str, sex: str, serial: int) -> str:
    """Builds a NIK: kecamatan code (6 digits), ISO birth date, `L`/`P`, serial 1..9999."""
    year, month, day = birth_date[:4], birth_date[5:7], int(birth_date[8:10])
    return f"{kode_kec}{day + (40 if sex == 'P' else 0):02d}{month}{year[2:]}{serial:04d}"


def birth_date_agrees(parsed: pd.DataFrame, tanggal_lahir: pd.Series) -> pd.Series:
    """Whether the NIK's encoded day, month and two-digit year equal an ISO `tanggal_lahir` (NA if unknown)."""
    iso = tanggal_lahir.astype("string")
    known = parsed["valid"] & iso.notna()
    same = (
        (iso.str.slice(8, 10).astype("Int64") == parsed["day"])
        & (iso.str.slice(5, 7).astype("Int64") == parsed["month"])
        & (iso.str.slice(2, 4).astype("Int64") == parsed["yy"])
    )
    return same.where(known).astype("boolean")
