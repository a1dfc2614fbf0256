"""Expected findings per submission row, computed from the truth as docs/findings.md states the rules.

The truth is the generator's own knowledge: which person each row is (`person_id`), that person's
Dukcapil record (`t_*` columns, empty when Dukcapil does not know the person), and what the row says
(the written contract columns). It never looks at any pipeline output. A perfect linker links every row of
a known person to that person and no other row.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from pipelines import contract as c
from pipelines.names import names_agree, normalise_names
from pipelines.nik import birth_date_agrees, parse_nik
from pipelines.plausible import implausible_kind

_REQUIRED_BUT_NIK = tuple(col for col in c.SUBMISSION_REQUIRED if col != "nik")
_SEX = {"L": "L", "LAKI-LAKI": "L", "1": "L", "P": "P", "PEREMPUAN": "P", "2": "P"}
_KODE_DESA = re.compile(r"^(\d{10}|\d{2}\.\d{2}\.\d{2}\.\d{4})$")
# The accepted written forms (contract 1.1), and where year, month and day sit in each.
_DATE_FORMS = (
    (r"\d{4}-\d{2}-\d{2}", slice(0, 4), slice(5, 7), slice(8, 10)),
    (r"\d{2}-\d{2}-\d{4}", slice(6, 10), slice(3, 5), slice(0, 2)),
    (r"\d{2}/\d{2}/\d{4}", slice(6, 10), slice(3, 5), slice(0, 2)),
)


def parse_dates(values: pd.Series) -> pd.Series:
    """Written birth dates (any accepted format) as ISO `YYYY-MM-DD`; "" where not a real date."""
    text = values.fillna("").astype(str).str.strip()
    iso = pd.Series("", index=values.index, dtype=object)
    for pattern, y, m, d in _DATE_FORMS:
        hit = text.str.fullmatch(pattern).to_numpy(dtype=bool)
        part = text[hit]
        iso[hit] = (
            part.str.slice(y.start, y.stop)
            + "-"
            + part.str.slice(m.start, m.stop)
            + "-"
            + part.str.slice(d.start, d.stop)
        )
    real = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").notna()
    return iso.where(real, "")


def _digits(values: pd.Series, width: int) -> np.ndarray:
    return (values.str.len() == width).to_numpy() & values.str.isdigit().to_numpy()


def expected_findings(rows: pd.DataFrame, dukcapil_niks: pd.Index, reference: dt.date) -> pd.DataFrame:
    """`expected_quarantine` (0/1) and `expected_categories` (`;`-joined, sorted) for each row.

    `dukcapil_niks` holds every NIK of the quarter's Dukcapil extracts; `reference` is the day birth dates
    are judged on (the quarter's last day: the generator keeps implausible dates implausible for a run
    within half a year of it, and plausible ones plausible).
    """
    w = {col: rows[col].fillna("").astype(str).str.strip() for col in c.SUBMISSION_REQUIRED}
    incomplete = np.zeros(len(rows), dtype=bool)
    for col in _REQUIRED_BUT_NIK:
        incomplete |= (w[col] == "").to_numpy()
    birth_iso = parse_dates(w["tanggal_lahir"])
    sex = w["jenis_kelamin"].str.upper().map(_SEX)
    bad_format = (
        ((w["kode_desa"] != "") & ~w["kode_desa"].str.match(_KODE_DESA))
        | ((w["no_kk"] != "") & ~_digits(w["no_kk"], 16))
        | ((w["jenis_kelamin"] != "") & sex.isna())
        | ((w["tanggal_lahir"] != "") & (birth_iso == ""))
        | ((w["hubungan_keluarga"] != "") & ~w["hubungan_keluarga"].str.upper().isin(c.HUBUNGAN_KELUARGA))
        | ((w["status_usulan"] != "") & ~w["status_usulan"].str.upper().isin(c.STATUS_USULAN))
    ).to_numpy()
    # A readable but implausible birth date quarantines only a row that is not linked (a perfect linker
    # links every row of a person Dukcapil knows); a row quarantined anyway lists it among its reasons.
    known = rows["known"].to_numpy(dtype=bool)
    implausible = implausible_kind(birth_iso.where(birth_iso != ""), reference).notna().to_numpy()
    quarantined = incomplete | bad_format | (implausible & ~known)
    bad_format |= implausible & quarantined
    linked_on = ~quarantined

    nik = w["nik"]
    parsed = parse_nik(nik)
    nik_valid = parsed["valid"].to_numpy(dtype=bool)
    # What the NIK encodes against what the row says (day, month, two-digit year; sex by day + 40).
    birth_known = birth_iso != ""
    date_differs = birth_known & ~birth_date_agrees(parsed, birth_iso.where(birth_known)).fillna(True)
    sex_differs = sex.notna() & (sex != parsed["sex"])
    biodata_differs = nik_valid & (date_differs | sex_differs).to_numpy(dtype=bool)
    nik_known = nik.isin(dukcapil_niks).to_numpy()
    t_nik = rows["t_nik"].astype(str)
    right_nik = (nik == t_nik).to_numpy()
    agree = names_agree(normalise_names(w["nama"]), normalise_names(rows["t_name"].astype(str))).to_numpy()
    identity_differs = ~agree | (birth_iso != rows["t_birth"]).to_numpy() | (sex != rows["t_sex"]).to_numpy()
    kode_desa = w["kode_desa"].str.replace(".", "", regex=False)

    on_known = linked_on & known
    on_unknown = linked_on & ~known
    counts = rows.loc[linked_on, "person_id"].value_counts()
    repeated = rows["person_id"].map(counts).fillna(0).to_numpy() > 1

    flags = {
        c.DATA_TIDAK_LENGKAP: incomplete,
        c.FORMAT_TIDAK_VALID: bad_format,
        c.NIK_TIDAK_VALID: ~nik_valid,
        c.NIK_BERBEDA: on_known & ~right_nik,
        c.KK_BERBEDA: on_known & (w["no_kk"] != rows["t_kk"]).to_numpy(),
        c.IDENTITAS_TIDAK_SESUAI: (on_known & right_nik & identity_differs) | (on_unknown & nik_valid & nik_known),
        c.MENINGGAL: on_known & rows["t_dead"].to_numpy(dtype=bool),
        c.PEKERJAAN_TIDAK_LAYAK: on_known & rows["t_ineligible"].to_numpy(dtype=bool),
        c.PINDAH_DOMISILI: on_known & (kode_desa != rows["t_desa"]).to_numpy(),
        c.NIK_TIDAK_DITEMUKAN: on_unknown & nik_valid & ~nik_known,
        c.GANDA: linked_on & repeated,
        c.BIODATA_TIDAK_SESUAI_NIK: linked_on & biodata_differs,
    }
    categories = np.full(len(rows), "", dtype=object)
    for name in sorted(flags):
        hit = flags[name]
        categories = np.where(hit, np.where(categories == "", name, categories + ";" + name), categories)
    return pd.DataFrame(
        {"expected_quarantine": quarantined.astype(int), "expected_categories": categories}, index=rows.index
    )
