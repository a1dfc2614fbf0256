"""Canonical forms of submitted values, column at a time.

A value that can be read is rewritten to its one canonical form (`52.03.01.2001` -> `5203012001`,
`15/08/1995` -> `1995-08-15`, `Laki-laki` -> `L`); a value that cannot be read is left as typed, so the
Great Expectations suite, which checks canonical forms only, rejects it and the reason names the field.
Empty values (and a lone `-`, the forms' way of writing "none") become missing (None).

Spreadsheet damage is repaired where the repair is certain (spaces, non-breaking spaces and dots inside
numbers, a leading apostrophe, a `.0` tail, an Excel date serial) and left visible where it is not
(`3.20101E+15` has lost digits for good; a cell starting with `=`, `+`, `-` or `@` is a formula or
reads as one). The `repairs` counters say how many values each repair touched, for the run record.

The work is done with Arrow compute kernels (RE2 regular expressions, no Python loop per value), and
low-cardinality columns are mapped once per distinct value: a million rows clean in a few seconds.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import ALASAN_NONAKTIF, HUBUNGAN_KELUARGA, PROGRAMS, STATUS_USULAN, SUBMISSION_COLUMNS

# Every kind of space a spreadsheet produces (no-break, thin, ideographic, zero-width) counts as a space.
_SPACE_CLASS = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
_SPACES = f"[{_SPACE_CLASS}]+"
_ID_NOISE = f"[{_SPACE_CLASS}.'-]"
# Control characters (C0 but the spaces above, DEL, C1, the bidi controls) and the pictures the reader shows
# them as (`pipelines.ingest.readers`: NUL -> U+2400 "␀", a C1 or bidi control -> U+FFFD): dropped from every
# canonical value, counted as `<field>:karakter_kontrol`. PostgreSQL cannot store NUL, a report workbook
# cannot hold C0, and a bidi override makes a name display as another.
_CONTROLS = (
    r"\x{00}-\x{08}\x{0e}-\x{1f}\x{7f}-\x{9f}\x{061c}\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}"
    r"\x{2400}-\x{241f}\x{2421}\x{fffd}"
)
_PLACEHOLDER = r"^[-\x{2013}\x{2014}]+$"  # "-", "--", en and em dashes: the forms' "none"
# A value Excel would treat as a formula, or an Excel error left by one: it cannot be taken at face value,
# and it must never reach a report workbook where it would run.
FORMULA_PATTERN = r"^(?:[=+@]|-[^-]|#(?:NAME\?|VALUE!|REF!|DIV/0!|N/A|NUM!|NULL!|SPILL!|CALC!))"
# Excel's 1900 date system (Lotus' leap-year bug included): serial 1 = 1900-01-01, day 0 = 1899-12-30.
_EXCEL_EPOCH = np.datetime64("1899-12-30")
# Only five-digit serials are read as dates (1927-05-18 .. 2173): a four-digit number is more likely a
# year written alone than a serial, and is left to fail the date check.
_SERIAL = r"^(\d{5})(?:\.0+)?$"

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

RepairCounts = dict[str, int]


def to_arrow(values: pd.Series) -> pa.Array:
    """A column of text (object, categorical, `string[pyarrow]` or ArrowDtype) as one Arrow string array."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = to_arrow(values.cat.categories.to_series())
        codes = values.cat.codes.to_numpy()
        return pc.take(categories, pa.array(codes, mask=codes < 0))
    array = values.array
    arrow = getattr(array, "_pa_array", None)  # already Arrow-backed (string[pyarrow] or ArrowDtype)
    if arrow is not None:
        arrow = arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow
        return arrow.cast(pa.string())
    data = values.to_numpy(dtype=object)
    try:
        return pa.array(data, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None or v != v else str(v) for v in data], type=pa.string())


def categorical_series(array: pa.Array, index: pd.Index) -> pd.Series:
    """An Arrow string array as a pandas categorical: what Great Expectations filters and copies per metric
    costs an integer code per row, not a string."""
    encoded = pc.dictionary_encode(array)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    # The categories stay Arrow strings: no Python object per distinct NIK.
    categories = pd.Index(pd.arrays.ArrowStringArray(encoded.dictionary))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories)), index=index)


def per_value(column: pd.Series, fn: Callable[[pa.Array], pa.Array | np.ndarray]) -> np.ndarray:
    """`fn` (Arrow strings -> booleans) for each row; on a categorical, evaluated once per category."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = to_arrow(column.cat.categories.to_series())
        result = np.asarray(_numpy(fn(categories)), dtype=bool)
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, result[np.maximum(codes, 0)] if len(result) else False, False)
    return np.asarray(_numpy(fn(to_arrow(column))), dtype=bool)


def _numpy(values: pa.Array | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def to_objects(array: pa.Array) -> np.ndarray:
    """Back to the pipeline's form: an object array, None for missing, one Python string per distinct value
    (a million `"L"`s would cost 50 MB; the extract's low-cardinality columns would cost gigabytes)."""
    encoded = pc.dictionary_encode(array)
    lookup = np.append(encoded.dictionary.to_numpy(zero_copy_only=False).astype(object), None)
    codes = pc.fill_null(encoded.indices, len(lookup) - 1).to_numpy(zero_copy_only=False)
    return lookup[codes]


def _series(array: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(to_objects(array), index=index, dtype=object)


def _count(repairs: RepairCounts | None, key: str, mask: pa.Array | np.ndarray) -> None:
    if repairs is not None:
        if isinstance(mask, np.ndarray):
            n = int(mask.sum())
        else:
            n = pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0
        if n:
            repairs[key] = repairs.get(key, 0) + n


# One pass finds the values that need more than a look: any space other than a single inner " ", an
# Excel apostrophe, a dash placeholder, a first character that makes a spreadsheet formula. Most values
# need nothing.
_NEEDS_TEXT_WORK = (
    f"^[{_SPACE_CLASS}]|[{_SPACE_CLASS}]$|[{_SPACE_CLASS}]{{2}}|[{_SPACE_CLASS.replace(' ', '')}]|^'|^[-=+@#]"
    f"|[{_CONTROLS}]"
)


def _text(
    array: pa.Array,
    field: str = "",
    repairs: RepairCounts | None = None,
    formulas: dict[str, np.ndarray] | None = None,
) -> pa.Array:
    """Trim, unify spaces, drop Excel's leading apostrophe; empty and a lone dash -> null.

    With `formulas`, the positions of values that look like a spreadsheet formula are recorded under `field`.
    """
    mask = pc.fill_null(pc.match_substring_regex(array, _NEEDS_TEXT_WORK), False)
    if pc.any(mask).as_py():
        # The (usually few) values that need work, with the same kernels: fast whatever their number.
        subset = pc.filter(array, mask)
        controls = pc.match_substring_regex(subset, f"[{_CONTROLS}]")
        if pc.any(controls).as_py():
            _count(repairs, f"{field}:karakter_kontrol", controls)
            subset = pc.replace_substring_regex(subset, f"[{_CONTROLS}]+", "")
        _count(repairs, f"{field}:apostrof_awal", pc.match_substring_regex(subset, f"^[{_SPACE_CLASS}]*'"))
        subset = pc.utf8_trim(pc.replace_substring_regex(subset, _SPACES, " "), " ")
        subset = pc.utf8_trim(pc.replace_substring_regex(subset, "^'", ""), " ")
        subset = pc.if_else(pc.match_substring_regex(subset, _PLACEHOLDER), "", subset)
        if formulas is not None:
            looks = pc.fill_null(pc.match_substring_regex(subset, FORMULA_PATTERN), False).to_numpy(
                zero_copy_only=False
            )
            if looks.any():
                positions = np.flatnonzero(mask.to_numpy(zero_copy_only=False))[looks]
                formulas[field] = np.union1d(formulas.get(field, np.array([], dtype=np.int64)), positions)
        array = pc.replace_with_mask(array, mask, subset)
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _map_unique(array: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    """`fn` applied once per distinct value (enumerations, dates: a few thousand values per million)."""
    encoded = pc.dictionary_encode(array)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], type=pa.string())
    return pc.take(mapped, encoded.indices)


def clean_text(values: pd.Series) -> pd.Series:
    """Trim, unify spaces, empty -> None."""
    return _series(_text(to_arrow(values)), values.index)


def _digits(array: pa.Array, field: str = "", repairs: RepairCounts | None = None) -> pa.Array:
    return _as_digits(_text(array, field, repairs), field, repairs)


def _as_digits(text: pa.Array, field: str = "", repairs: RepairCounts | None = None) -> pa.Array:
    other = pc.invert(pc.fill_null(pc.match_substring_regex(text, r"^\d+$"), True))
    if not pc.any(other).as_py():
        return text
    subset = pc.filter(text, other)
    integer_float = pc.match_substring_regex(subset, r"^\d+\.0+$")
    dezeroed = pc.replace_substring_regex(subset, r"^(\d+)\.0+$", r"\1")
    stripped = pc.replace_substring_regex(dezeroed, _ID_NOISE, "")
    digits = pc.match_substring_regex(stripped, r"^\d+$")
    _count(repairs, f"{field}:akhiran_.0", pc.and_(integer_float, digits))
    _count(repairs, f"{field}:spasi_titik_dalam_angka", pc.and_(digits, pc.not_equal(stripped, dezeroed)))
    return pc.replace_with_mask(text, other, pc.if_else(digits, stripped, dezeroed))


def clean_digits(values: pd.Series, field: str = "", repairs: RepairCounts | None = None) -> pd.Series:
    """An identifier as digits only: spaces, dots, dashes, a leading apostrophe and a `.0` tail removed.

    A value in scientific notation (`3.20101E+15`) has lost digits for good: it is left as typed, so it
    fails the 16-digit check instead of being silently "repaired" into somebody else's number.
    """
    return _series(_digits(to_arrow(values), field, repairs), values.index)


_DATE_FORMATS = tuple(
    re.compile(p, re.ASCII)
    for p in (
        r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]00:00(?::00)?)?$",
        r"^(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4})$",
        r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$",
    )
)


def _date(array: pa.Array, field: str = "", repairs: RepairCounts | None = None) -> pa.Array:
    return _as_date(_text(array, field, repairs), field, repairs)


def _as_date(text: pa.Array, field: str = "", repairs: RepairCounts | None = None) -> pa.Array:
    def one(value: str) -> str:
        for pattern in _DATE_FORMATS:
            match = pattern.match(value)
            if match:
                y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
                if 1 <= m <= 12 and 1 <= d <= calendar.monthrange(max(y, 1), m)[1]:
                    return f"{y:04d}-{m:02d}-{d:02d}"
                return value
        serial = re.match(_SERIAL, value, re.ASCII)
        if serial:
            return str(_EXCEL_EPOCH + np.timedelta64(int(serial.group(1)), "D"))
        return value

    out = _map_unique(text, one)
    _count(repairs, f"{field}:nomor_seri_excel", pc.match_substring_regex(text, _SERIAL))
    return out


def clean_date(values: pd.Series, field: str = "", repairs: RepairCounts | None = None) -> pd.Series:
    """`YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY` (or an XLSX date cell, or an Excel date serial) -> ISO;
    impossible dates stay as typed."""
    return _series(_date(to_arrow(values), field, repairs), values.index)


def _enum_key(value: str) -> str:
    return re.sub(r"[_\s]+", " ", value.upper()).strip()


def _as_enum(text: pa.Array, mapping: dict[str, str]) -> pa.Array:
    return _map_unique(text, lambda v: mapping.get(_enum_key(v), v))


def clean_enum(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Upper-cased, spaces and underscores unified, then mapped to the canonical spelling."""
    return _series(_as_enum(_text(to_arrow(values)), mapping), values.index)


def _canonical(options: tuple[str, ...]) -> dict[str, str]:
    """Each option under its own spelling and with `_` and spaces interchanged."""
    return {o.replace("_", " "): o for o in options} | {o: o for o in options}


def _one_program_list(value: str) -> str:
    parts = [p.strip().upper() for p in re.split(r"[;,/]", value) if p.strip()]
    return ";".join(dict.fromkeys(parts)) if parts and all(p in PROGRAMS for p in parts) else value


def clean_programs(values: pd.Series) -> pd.Series:
    """`pkh, bpnt` -> `PKH;BPNT`; a list with an unknown program is left as typed."""
    return _series(_map_unique(_text(to_arrow(values)), _one_program_list), values.index)


def _upper(array: pa.Array) -> pa.Array:
    return pc.utf8_upper(array)


def canonical_submissions(
    raw: pd.DataFrame, repairs: RepairCounts | None = None, formulas: dict[str, np.ndarray] | None = None
) -> dict[str, pa.Array]:
    """The submission columns in canonical form, as Arrow arrays aligned with `raw`'s rows.

    With `formulas`, the row positions of formula-looking values are recorded per field.
    """
    text = {column: _text(to_arrow(raw[column]), column, repairs, formulas) for column in SUBMISSION_COLUMNS}
    out = dict(text)
    for column in ("kode_desa", "no_kk", "nik"):
        out[column] = _as_digits(text[column], column, repairs)
    for column in ("nama", "nama_ibu_kandung"):
        out[column] = _upper(text[column])
    out["jenis_kelamin"] = _as_enum(text["jenis_kelamin"], JENIS_KELAMIN)
    out["tanggal_lahir"] = _as_date(text["tanggal_lahir"], "tanggal_lahir", repairs)
    out["hubungan_keluarga"] = _as_enum(text["hubungan_keluarga"], _canonical(HUBUNGAN_KELUARGA))
    out["status_usulan"] = _as_enum(text["status_usulan"], _canonical(STATUS_USULAN))
    out["alasan_nonaktif"] = _as_enum(text["alasan_nonaktif"], _canonical(ALASAN_NONAKTIF))
    out["program"] = _map_unique(text["program"], _one_program_list)
    return out


def formula_fields(formulas: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per row, the `;`-joined fields (NIK aside: its own check says it) whose value looks like a formula."""
    out = np.full(n, None, dtype=object)
    for name in SUBMISSION_COLUMNS:
        at = formulas.get(name)
        if name == "nik" or at is None or not len(at):
            continue
        out[at] = np.where(pd.isna(out[at]), name, out[at].astype(str) + ";" + name)
    return out


def clean_submissions(raw: pd.DataFrame, repairs: RepairCounts | None = None) -> pd.DataFrame:
    """The submission columns in canonical form (same index as `raw`, object dtype), plus `_formula`: the
    fields of each row whose value looks like a spreadsheet formula (None when there is none)."""
    formulas: dict[str, np.ndarray] = {}
    canonical = canonical_submissions(raw, repairs, formulas)
    frame = pd.DataFrame({name: _series(array, raw.index) for name, array in canonical.items()}, index=raw.index)
    frame["_formula"] = formula_fields(formulas, len(raw))
    return frame


def clean_dukcapil(raw: pd.DataFrame) -> pd.DataFrame:
    return dukcapil_frame(canonical_dukcapil(raw), raw)


def canonical_dukcapil(raw: pd.DataFrame) -> dict[str, pa.Array]:
    """The extract's text columns in canonical form, plus `kode_desa` from NO_PROP..NO_KEL."""
    arrays: dict[str, pa.Array] = {}
    for column in raw.columns:
        if column not in ("source_file", "source_row"):  # every other column of an extract is text
            arrays[column] = _text(to_arrow(raw[column]))
    for column in ("NIK", "NO_KK"):
        arrays[column] = _as_digits(arrays[column])
    arrays["NAMA_LGKP"] = _upper(arrays["NAMA_LGKP"])
    arrays["JENIS_KLMIN"] = _map_unique(arrays["JENIS_KLMIN"], lambda v: JENIS_KELAMIN.get(_enum_key(v), v))
    arrays["TGL_LHR"] = _as_date(arrays["TGL_LHR"])
    arrays["TGL_MATI"] = _as_date(arrays["TGL_MATI"])
    parts = [
        pc.utf8_lpad(pc.fill_null(arrays[c], ""), width, "0")
        for c, width in (("NO_PROP", 2), ("NO_KAB", 2), ("NO_KEC", 2), ("NO_KEL", 4))
    ]
    arrays["kode_desa"] = pc.binary_join_element_wise(*parts, "")
    arrays["JENIS_PKRJN"] = _upper(arrays["JENIS_PKRJN"])
    return arrays


def dukcapil_frame(arrays: dict[str, pa.Array], raw: pd.DataFrame) -> pd.DataFrame:
    """The extract in canonical form (object columns, None for missing) for the stages that follow: `raw`'s
    columns in order, canonical where `arrays` has them, then the new ones (`kode_desa`)."""
    out = pd.DataFrame(index=raw.index)
    for column in (*raw.columns, *(c for c in arrays if c not in raw.columns)):
        out[column] = _series(arrays[column], raw.index) if column in arrays else raw[column]
    return out
