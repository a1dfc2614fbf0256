"""One file per village: its format and habits (date format, sex codes, header case, delimiter, ...),
the written form of every value, the quarantine causes rendered in that form, and the row order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.contract import SUBMISSION_COLUMNS
from pipelines.synth.submissions import DUP_NONE

DATE_FORMATS = ("YYYY-MM-DD", "DD-MM-YYYY", "DD/MM/YYYY")
SEX_STYLES = {"LP": ("L", "P"), "WORDS": ("LAKI-LAKI", "PEREMPUAN"), "DIGITS": ("1", "2")}
HEADER_STYLES = ("lower", "upper", "padded")
_INVALID_DAY_MONTH = ((31, 2), (30, 2), (31, 4), (31, 6), (31, 9), (31, 11), (15, 13))
_BAD_RELATIONS = np.array(["TEMAN", "KEPONAKAN", "ADIK"], dtype=object)


@dataclass(frozen=True)
class FileStyle:
    """How one village writes its file."""

    kode_kab: str
    kode_desa: str
    xlsx: bool
    date_format: str
    sex_style: str
    delimiter: str
    bom: bool
    crlf: bool
    header_style: str
    dotted_kode: bool
    title_case: bool
    date_cells: bool  # XLSX only: valid birth dates as real Excel date cells

    def relative_path(self, quarter: str) -> str:
        ext = "xlsx" if self.xlsx else "csv"
        return f"{quarter}/submissions/{self.kode_kab}/{self.kode_desa}.{ext}"

    def header(self) -> list[str]:
        if self.header_style == "upper":
            return [c.upper() for c in SUBMISSION_COLUMNS]
        if self.header_style == "padded":
            return [f" {c.title()} " for c in SUBMISSION_COLUMNS]
        return list(SUBMISSION_COLUMNS)


def draw_styles(rng: np.random.Generator, kode_kab: str, villages: np.ndarray, xlsx_share: float) -> list[FileStyle]:
    """A style for each village file, in village code order."""
    n = len(villages)
    xlsx = rng.random(n) < xlsx_share
    date_format = rng.choice(len(DATE_FORMATS), size=n, p=[0.4, 0.3, 0.3])
    sex = rng.choice(len(SEX_STYLES), size=n, p=[0.75, 0.15, 0.10])
    semicolon, bom, crlf = rng.random(n) < 0.35, rng.random(n) < 0.2, rng.random(n) < 0.3
    header = rng.choice(len(HEADER_STYLES), size=n, p=[0.7, 0.15, 0.15])
    dotted, title_case, date_cells = rng.random(n) < 0.1, rng.random(n) < 0.1, rng.random(n) < 0.6
    sex_names = list(SEX_STYLES)
    return [
        FileStyle(
            kode_kab=kode_kab,
            kode_desa=str(villages[i]),
            xlsx=bool(xlsx[i]),
            date_format=DATE_FORMATS[date_format[i]],
            sex_style=sex_names[sex[i]],
            delimiter=";" if semicolon[i] and not xlsx[i] else ",",
            bom=bool(bom[i] and not xlsx[i]),
            crlf=bool(crlf[i] and not xlsx[i]),
            header_style=HEADER_STYLES[header[i]],
            dotted_kode=bool(dotted[i]),
            title_case=bool(title_case[i]),
            date_cells=bool(date_cells[i] and xlsx[i]),
        )
        for i in range(n)
    ]


def _render_dates(y: np.ndarray, m: np.ndarray, d: np.ndarray, fmt: np.ndarray) -> np.ndarray:
    """Date parts (strings) in each row's file format."""
    return np.select(
        [fmt == DATE_FORMATS[0], fmt == DATE_FORMATS[1]],
        [y + "-" + m + "-" + d, d + "-" + m + "-" + y],
        default=d + "/" + m + "/" + y,
    ).astype(object)


def _quarantine_values(rng: np.random.Generator, rows: pd.DataFrame, fmt: np.ndarray) -> None:
    """Writes each chosen quarantine cause (errors.q_field) into the row's written values."""
    q = rows["q_field"].to_numpy()
    for field in np.unique(q[q != ""]):
        at = np.flatnonzero(q == field)
        k = len(at)
        if field.startswith("missing:"):
            rows.iloc[at, rows.columns.get_loc(field.split(":", 1)[1])] = ""
        elif field == "tanggal_lahir:invalid":
            pairs = np.array(_INVALID_DAY_MONTH)[rng.integers(0, len(_INVALID_DAY_MONTH), k)]
            year = np.array([b[:4] for b in rows["birth"].to_numpy()[at]], dtype=object)
            day = np.char.zfill(pairs[:, 0].astype(str), 2).astype(object)
            month = np.char.zfill(pairs[:, 1].astype(str), 2).astype(object)
            rows.iloc[at, rows.columns.get_loc("tanggal_lahir")] = _render_dates(year, month, day, fmt[at])
        elif field == "tanggal_lahir:partial":
            birth = rows["birth"].to_numpy()[at]
            rows.iloc[at, rows.columns.get_loc("tanggal_lahir")] = [f"{b[5:7]}/{b[:4]}" for b in birth]
        elif field == "jenis_kelamin":
            rows.iloc[at, rows.columns.get_loc("jenis_kelamin")] = np.where(rng.random(k) < 0.7, "X", "W")
        elif field == "kode_desa":
            codes = rows["file_desa"].to_numpy()[at]
            short = rng.random(k) < 0.5
            rows.iloc[at, rows.columns.get_loc("kode_desa")] = [
                c[:9] if s else f"{c[:2]}.{c[2:4]}.{c[4]}" for c, s in zip(codes, short, strict=True)
            ]
        elif field == "hubungan_keluarga":
            rows.iloc[at, rows.columns.get_loc("hubungan_keluarga")] = _BAD_RELATIONS[rng.integers(0, 3, k)]
        elif field == "no_kk":
            kk = rows["no_kk"].to_numpy()[at]
            extra = rng.integers(0, 10, k)
            rows.iloc[at, rows.columns.get_loc("no_kk")] = [
                c[:15] if e < 5 else c + str(e) for c, e in zip(kk, extra, strict=True)
            ]
        else:  # pragma: no cover - errors.py and this function must agree
            raise ValueError(f"unknown quarantine cause {field!r}")


def render(rng: np.random.Generator, rows: pd.DataFrame, styles: list[FileStyle], quarter: str) -> pd.DataFrame:
    """The rows as each village writes them, in file order, with `source_file` and `source_row`.

    The contract columns hold the written text; `date_cell` marks XLSX birth dates to write as date cells.
    """
    by_desa = {s.kode_desa: i for i, s in enumerate(styles)}
    rows = rows.rename(columns={"kode_desa": "file_desa"})
    file_ix = rows["file_desa"].map(by_desa).to_numpy(dtype=np.int64)

    def per_row(attribute: str, dtype: type) -> np.ndarray:
        return np.array([getattr(s, attribute) for s in styles], dtype=dtype)[file_ix]

    fmt, sex_style = per_row("date_format", object), per_row("sex_style", object)
    dotted, title_case = per_row("dotted_kode", bool), per_row("title_case", bool)
    date_cells = per_row("date_cells", bool)

    birth = rows["birth"].to_numpy()
    y = np.array([b[:4] for b in birth], dtype=object)
    m = np.array([b[5:7] for b in birth], dtype=object)
    d = np.array([b[8:10] for b in birth], dtype=object)
    rows["tanggal_lahir"] = _render_dates(y, m, d, fmt)
    female = rows["sex"].to_numpy() == "P"
    rows["jenis_kelamin"] = np.select(
        [sex_style == style for style in SEX_STYLES],
        [np.where(female, p, lk) for lk, p in SEX_STYLES.values()],
        default="",
    ).astype(object)
    code = rows["file_desa"].to_numpy()
    rows["kode_desa"] = np.where(dotted, [f"{c[:2]}.{c[2:4]}.{c[4:6]}.{c[6:]}" for c in code], code).astype(object)
    for column in ("nama", "nama_ibu_kandung", "tempat_lahir", "alamat"):
        values = rows[column]
        rows[column] = np.where(title_case, values.str.title(), values).astype(object)
    _quarantine_values(rng, rows, fmt)
    # Excel has no date cells before 1 March 1900 (its day numbers start in 1900, with a phantom 29
    # February): an operator typing 1885-05-05 gets text.
    rows["date_cell"] = (
        date_cells
        & ~rows["q_field"].str.startswith("tanggal_lahir").to_numpy()
        & ~(rows["q_field"].to_numpy() == "missing:tanggal_lahir")
        & (rows["birth"].to_numpy().astype(str) >= "1900-03-01")
    )

    # Row order: families as collected; a duplicate lands anywhere in its file.
    base = rows["dup"].to_numpy() == DUP_NONE
    rank = rows.groupby(file_ix).cumcount().to_numpy().astype(float)
    n_base = pd.Series(base).groupby(file_ix).transform("sum").to_numpy()
    rows["order"] = np.where(base, rank, rng.random(len(rows)) * n_base)
    rows["file_ix"] = file_ix
    rows = rows.sort_values(["file_ix", "order"], kind="mergesort").reset_index(drop=True)
    paths = np.array([s.relative_path(quarter) for s in styles], dtype=object)
    rows["source_file"] = paths[rows["file_ix"].to_numpy()]
    rows["source_row"] = rows.groupby("file_ix").cumcount().to_numpy() + 1
    return rows
