"""Canonical forms of submitted values, column at a time.

A value that can be read is rewritten to its one canonical form (`52.03.01.2001` -> `5203012001`,
`15/08/1995` -> `1995-08-15`, `Laki-laki` -> `L`); a value that cannot be read is left as typed, so the
Great Expectations suite, which checks canonical forms only, rejects it and the reason names the field.
Empty values become missing (None).
"""

from __future__ import annotations

import re

import pandas as pd

from pipelines.contract import ALASAN_NONAKTIF, HUBUNGAN_KELUARGA, PROGRAMS, STATUS_USULAN

# Every kind of space a spreadsheet produces (no-break, thin, ideographic, zero-width) counts as a space.
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_ID_NOISE = re.compile(r"[\s\u00a0\u200b.\-']")
_INTEGER_FLOAT = re.compile(r"^(\d+)\.0+$")

JENIS_KELAMIN = {
    "L": "L",
    "P": "P",
    "LAKI-LAKI": "L",
    "LAKI LAKI": "L",
    "LAKILAKI": "L",
    "PEREMPUAN": "P",
    "1": "L",
    "2": "P",
}


def clean_text(values: pd.Series) -> pd.Series:
    """Trim, unify spaces, empty -> None."""
    text = values.astype("string").str.replace(_SPACES, " ", regex=True).str.strip()
    return text.where(text != "").astype(object).where(lambda s: s.notna(), None)


def clean_digits(values: pd.Series) -> pd.Series:
    """An identifier as digits only: spaces, dots, dashes, a leading apostrophe and a `.0` tail removed.

    A value in scientific notation (`3.20101E+15`) has lost digits for good: it is left as typed, so it
    fails the 16-digit check instead of being silently "repaired" into somebody else's number.
    """
    text = clean_text(values).astype("string")
    text = text.str.replace(_INTEGER_FLOAT, r"\1", regex=True)
    stripped = text.str.replace(_ID_NOISE, "", regex=True)
    canonical = stripped.where(stripped.str.fullmatch(r"\d+").fillna(False), text)
    return canonical.astype(object).where(canonical.notna(), None)


_DATE_FORMATS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), ("d", "m", "y")),
)


def clean_date(values: pd.Series) -> pd.Series:
    """`YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY` (or an XLSX date cell) -> ISO; impossible dates stay as typed."""
    text = clean_text(values).astype("string")
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    for pattern, order in _DATE_FORMATS:
        parts = text.str.extract(pattern)
        parts.columns = list(order)
        found = parts["y"].notna() & out.isna()
        if not found.any():
            continue
        iso = (
            parts.loc[found, "y"] + "-" + parts.loc[found, "m"].str.zfill(2) + "-" + parts.loc[found, "d"].str.zfill(2)
        )
        real = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").notna()
        out.loc[iso.index[real.to_numpy()]] = iso[real]
    result = out.fillna(text)
    return result.astype(object).where(result.notna(), None)


def clean_enum(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Upper-cased, spaces and underscores unified, then mapped to the canonical spelling."""
    text = clean_text(values).astype("string")
    key = text.str.upper().str.replace(r"[_\s]+", " ", regex=True).str.strip()
    mapped = key.map(mapping)
    result = mapped.fillna(text)
    return result.astype(object).where(result.notna(), None)


def _canonical(options: tuple[str, ...]) -> dict[str, str]:
    """Each option under its own spelling and with `_` and spaces interchanged."""
    return {o.replace("_", " "): o for o in options} | {o: o for o in options}


def clean_programs(values: pd.Series) -> pd.Series:
    """`pkh, bpnt` -> `PKH;BPNT`; a list with an unknown program is left as typed."""
    text = clean_text(values).astype("string")
    known = set(PROGRAMS)

    def one(value: str) -> str:
        parts = [p.strip().upper() for p in re.split(r"[;,/]", value) if p.strip()]
        return ";".join(dict.fromkeys(parts)) if parts and all(p in known for p in parts) else value

    uniques = text.dropna().unique()
    mapping = {u: one(u) for u in uniques}
    result = text.map(mapping)
    return result.astype(object).where(result.notna(), None)


def clean_submissions(raw: pd.DataFrame) -> pd.DataFrame:
    """The submission columns in canonical form (same index as `raw`)."""
    out = pd.DataFrame(index=raw.index)
    out["kode_desa"] = clean_digits(raw["kode_desa"])
    out["id_dtks"] = clean_text(raw["id_dtks"])
    out["no_kk"] = clean_digits(raw["no_kk"])
    out["nik"] = clean_digits(raw["nik"])
    out["nama"] = clean_text(raw["nama"]).str.upper().where(lambda s: s.notna(), None)
    out["jenis_kelamin"] = clean_enum(raw["jenis_kelamin"], JENIS_KELAMIN)
    out["tempat_lahir"] = clean_text(raw["tempat_lahir"])
    out["tanggal_lahir"] = clean_date(raw["tanggal_lahir"])
    out["hubungan_keluarga"] = clean_enum(raw["hubungan_keluarga"], _canonical(HUBUNGAN_KELUARGA))
    out["nama_ibu_kandung"] = clean_text(raw["nama_ibu_kandung"]).str.upper().where(lambda s: s.notna(), None)
    for column in ("alamat", "rt", "rw", "pekerjaan"):
        out[column] = clean_text(raw[column])
    out["status_usulan"] = clean_enum(raw["status_usulan"], _canonical(STATUS_USULAN))
    out["alasan_nonaktif"] = clean_enum(raw["alasan_nonaktif"], _canonical(ALASAN_NONAKTIF))
    out["program"] = clean_programs(raw["program"])
    return out


def clean_dukcapil(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.copy()
    for column in out.columns:
        if out[column].dtype == object and column not in ("source_file",):
            out[column] = clean_text(out[column])
    for column in ("NIK", "NO_KK"):
        out[column] = clean_digits(out[column])
    out["NAMA_LGKP"] = out["NAMA_LGKP"].str.upper()
    out["JENIS_KLMIN"] = clean_enum(out["JENIS_KLMIN"], JENIS_KELAMIN)
    out["TGL_LHR"] = clean_date(out["TGL_LHR"])
    out["TGL_MATI"] = clean_date(out["TGL_MATI"])
    out["kode_desa"] = (
        out["NO_PROP"].fillna("").str.zfill(2)
        + out["NO_KAB"].fillna("").str.zfill(2)
        + out["NO_KEC"].fillna("").str.zfill(2)
        + out["NO_KEL"].fillna("").str.zfill(4)
    )
    out["JENIS_PKRJN"] = clean_text(out["JENIS_PKRJN"]).str.upper().where(lambda s: s.notna(), None)
    return out
