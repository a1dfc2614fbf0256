"""The worksheets of an XLSX file as cell values, read straight from their XML.

openpyxl's read-only mode builds a dictionary per cell and a rich-text object per string, and for a sheet
without a `<dimension>` element (files written by scripts, the generator's among them) it parses the whole
sheet once more just to learn that: about 200 µs per row, so a kabupaten whose villages send XLSX spends
a minute here. This reader takes the workbook-level parts from openpyxl itself (package manifest, sheet
order, the 1904 flag, which cell styles are dates) and walks each sheet's XML once with the C ElementTree
parser, converting values exactly as openpyxl's `iter_rows(values_only=True)` on a read-only, data-only
workbook does: shared and inline strings, numbers, dates by the cell's number format and the workbook's
epoch, booleans, error codes, cached formula results, and the same padding of rows.

It is a fast path, not a second opinion: whatever it does not expect raises, and `readers.read_xlsx_bytes`
then reads the file with openpyxl, which also owns every message about a damaged file.
"""

from __future__ import annotations

import gc
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import iterparse, parse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, from_excel, from_ISO8601
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

_NS = f"{{{SHEET_MAIN_NS}}}"
_ROW, _CELL, _VALUE, _INLINE = f"{_NS}row", f"{_NS}c", f"{_NS}v", f"{_NS}is"
_TEXT, _RUN, _SHARED_ITEM, _DIMENSION = f"{_NS}t", f"{_NS}r", f"{_NS}si", f"{_NS}dimension"
_SHEET_DATA = f"{_NS}sheetData"


@dataclass
class Workbook:
    """What the ingest needs of a workbook: its worksheets' parts, in order, and how to read their cells."""

    archive: zipfile.ZipFile
    sheet_paths: list[str]
    shared_strings: list[str]
    date_styles: frozenset[int]
    timedelta_styles: frozenset[int]
    epoch: object

    @property
    def mac_epoch(self) -> bool:
        return self.epoch == CALENDAR_MAC_1904

    def rows(self, index: int, max_rows: int | None = None) -> list[list[object]]:
        # A sheet is a few hundred thousand short-lived elements: the cyclic garbage collector would scan
        # the whole heap many times over while they are made (twice the parse time in a busy process),
        # and none of them is part of a cycle.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.archive.open(self.sheet_paths[index]) as source:
                bounds, rows = _parsed_rows(source, self)
                return _padded_rows(bounds, rows, max_rows)
        finally:
            if collecting:
                gc.enable()


def open_workbook(data: bytes) -> Workbook:
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    wb = reader.wb
    paths = [
        rel.target
        for _sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type
    ]
    part = reader.package.find(SHARED_STRINGS)
    strings = []
    if part is not None:
        with reader.archive.open(part.PartName[1:]) as source:
            strings = _shared_strings(source)
    return Workbook(
        archive=reader.archive,
        sheet_paths=paths,
        shared_strings=strings,
        date_styles=frozenset(wb._date_formats),
        timedelta_styles=frozenset(wb._timedelta_formats),
        epoch=wb.epoch,
    )


def _text_content(node) -> str:
    """openpyxl's `Text.content`: the plain `t` and the `t` of each rich-text run; phonetic runs left out."""
    plain = None
    runs = []
    for child in node:
        if child.tag == _TEXT:
            plain = child.text  # the last `t` wins, as in openpyxl
        elif child.tag == _RUN:
            for part in child:
                if part.tag == _TEXT and part.text is not None:
                    runs.append(part.text)
    return "".join(([plain] if plain is not None else []) + runs)


def _shared_strings(source) -> list[str]:
    strings = []
    for _event, node in iterparse(source):
        if node.tag == _SHARED_ITEM:
            strings.append(_text_content(node).replace("x005F_", ""))
            node.clear()
    return strings


def _cast_number(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


_Bounds = tuple[int, int, int, int] | None
_Row = tuple[int, list[tuple[int, object]]]


def _parsed_rows(source, book: Workbook) -> tuple[_Bounds, Iterator[_Row]]:
    """The dimension's bounds (or None), and (row number, [(column, value)]) per `<row>`.

    The sheet is parsed whole (a village file is a few megabytes at most): one call into the C parser
    instead of a Python event per element."""
    root = parse(source).getroot()
    dimension = root.find(_DIMENSION)
    bounds = range_boundaries(dimension.get("ref")) if dimension is not None else None
    data = root.find(_SHEET_DATA)
    return bounds, (_rows(data, book) if data is not None else iter(()))


def _rows(data, book: Workbook) -> Iterator[_Row]:
    strings, dates, deltas, epoch = book.shared_strings, book.date_styles, book.timedelta_styles, book.epoch
    columns: dict[str, int] = {}  # column letters -> index, computed once per letters
    row_counter = 0
    for element in data.iterfind(_ROW):
        r = element.get("r")
        row_counter = _row_number(r) if r is not None else row_counter + 1
        cells = []
        col_counter = 0
        for cell in element:
            if cell.tag != _CELL:
                continue
            coordinate = cell.get("r")
            if coordinate:
                letters = coordinate.rstrip("0123456789")
                col_counter = columns.get(letters) or columns.setdefault(letters, column_index_from_string(letters))
            else:
                col_counter += 1
            cells.append((col_counter, _value(cell, strings, dates, deltas, epoch)))
        yield row_counter, cells


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise
        return int(number)


def _value(cell, strings, dates, deltas, epoch) -> object:
    data_type = cell.get("t", "n")
    if data_type == "inlineStr":
        child = cell.find(_INLINE)
        return _text_content(child) if child is not None else None
    value = cell.findtext(_VALUE) or None
    if value is None:
        return None
    if data_type == "n":
        number = _cast_number(value)
        style = cell.get("s")
        style_id = int(style) if style else 0
        if style_id in dates:
            try:
                return from_excel(number, epoch, timedelta=style_id in deltas)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
    if data_type == "s":
        return strings[int(value)]
    if data_type == "b":
        return bool(int(value))
    if data_type == "d":
        return from_ISO8601(value)
    return value  # "str" (a formula's text result), "e" (an error code such as #N/A)


def _padded_rows(bounds: _Bounds, parsed: Iterator[_Row], max_rows: int | None) -> list[list[object]]:
    """openpyxl's `ReadOnlyWorksheet._cells_by_row` with `min_col=min_row=1`: rows missing from the XML
    are empty, each row reaches the dimension's last column (or its own last cell), and rows beyond the
    dimension are cut off."""
    max_col = max_row = None
    if bounds is not None:
        _min_col, _min_row, max_col, max_row = bounds
    if max_rows is not None:
        max_row = max_rows
    empty = [None] * max_col if max_col is not None else []
    out: list[list[object]] = []
    counter, idx = 1, 1
    for idx, cells in parsed:
        if max_row is not None and idx > max_row:
            break
        while counter < idx:
            out.append(list(empty))
            counter += 1
        if counter <= idx:
            out.append(_row_values(cells, max_col))
            counter += 1
    if max_row is not None and max_row < idx:
        while counter <= max_row:
            out.append(list(empty))
            counter += 1
    return out


def _row_values(cells: list[tuple[int, object]], max_col: int | None) -> list[object]:
    if not cells and not max_col:
        return []
    width = max_col or cells[-1][0]
    row: list[object] = [None] * width
    for column, value in cells:
        if 1 <= column <= width:
            row[column - 1] = value
    return row
