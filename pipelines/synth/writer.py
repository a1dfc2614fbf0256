"""Writes the quarter to disk: Dukcapil extracts, village CSV/XLSX files, and the ground truth.

Byte-for-byte reproducible: CSVs are written by pandas from fixed data; XLSX files get fixed document
timestamps and fixed zip entry times (openpyxl and zipfile would otherwise stamp the current time).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from openpyxl import Workbook

from pipelines.contract import SUBMISSION_COLUMNS
from pipelines.synth.layout import FileStyle

_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")
GROUND_TRUTH_COLUMNS = (
    "source_file",
    "source_row",
    "person_id",
    "true_nik",
    "expected_quarantine",
    "expected_categories",
    "injected",
)


def write_dukcapil(path: Path, extract: pd.DataFrame) -> None:
    """Plain UTF-8 CSV, `,`, no quoting (no value holds a comma or quote; pandas takes over if one does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(extract, preserve_index=False)
    try:  # pyarrow writes a million rows ~3x faster than pandas
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="none", quoting_header="none"))
    except pa.ArrowInvalid:
        extract.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_csv(path: Path, rows: pd.DataFrame, style: FileStyle) -> None:
    frame = rows.loc[:, list(SUBMISSION_COLUMNS)]
    frame.columns = style.header()
    frame.to_csv(
        path,
        index=False,
        sep=style.delimiter,
        encoding="utf-8-sig" if style.bom else "utf-8",
        lineterminator="\r\n" if style.crlf else "\n",
    )


def _stable_zip(data: bytes, stamp: str) -> bytes:
    """The same workbook with fixed entry times and document timestamps."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = _CORE_TIMES.sub(lambda m: m.group(1) + stamp.encode() + m.group(3), content)
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, content)
    return out.getvalue()


def write_xlsx(path: Path, rows: pd.DataFrame, style: FileStyle, stamp: str) -> None:
    """First sheet, header in row 1, every value a text cell except birth dates marked `date_cell`."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "Operator Desa"
    ws = wb.create_sheet("Usulan")
    ws.append(style.header())
    values = rows.loc[:, list(SUBMISSION_COLUMNS)].to_numpy(dtype=object)
    values[values == ""] = None
    birth_col = SUBMISSION_COLUMNS.index("tanggal_lahir")
    date_cell = rows["date_cell"].to_numpy(dtype=bool)
    births = rows["birth"].to_numpy()
    for i, row in enumerate(values.tolist()):
        if date_cell[i]:
            b = births[i]
            row[birth_col] = dt.date(int(b[:4]), int(b[5:7]), int(b[8:10]))
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_stable_zip(buffer.getvalue(), stamp))


def write_submissions(
    landing: Path, quarter: str, rows: pd.DataFrame, styles: list[FileStyle], pool: Executor | None = None
) -> tuple[list[Path], list[Future[None]]]:
    """One file per style (village), rows in `source_row` order.

    XLSX files go to `pool` when given (openpyxl needs ~20 µs per cell, the slowest part of a big
    quarter); the caller waits on the returned futures. Returns the paths and those futures.
    """
    stamp = f"{quarter[:4]}-{int(quarter[-1]) * 3:02d}-01T08:00:00Z"
    paths: list[Path] = []
    futures: list[Future[None]] = []
    file_ix = rows["file_ix"].to_numpy()
    bounds = np.searchsorted(file_ix, np.arange(len(styles) + 1))
    for i, style in enumerate(styles):
        part = rows.iloc[bounds[i] : bounds[i + 1]]
        if part.empty:
            continue
        path = landing / style.relative_path(quarter)
        path.parent.mkdir(parents=True, exist_ok=True)
        if style.xlsx:
            slim = part.loc[:, [*SUBMISSION_COLUMNS, "date_cell", "birth"]]
            if pool is None:
                write_xlsx(path, slim, style, stamp)
            else:
                futures.append(pool.submit(write_xlsx, path, slim, style, stamp))
        else:
            write_csv(path, part, style)
        paths.append(path)
    return paths, futures


def write_ground_truth(directory: Path, truth: pd.DataFrame, meta: dict[str, Any]) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    rows_path, meta_path = directory / "rows.csv", directory / "meta.json"
    truth.loc[:, list(GROUND_TRUTH_COLUMNS)].to_csv(rows_path, index=False, encoding="utf-8", lineterminator="\n")
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return rows_path, meta_path
