"""Shared helpers for writing the report workbooks with openpyxl in write-only mode.

- Every value that comes from the input is written as *text*, never as a formula: a string that starts
  with `=`, `+`, `-`, `@`, a tab or a carriage return (or equals an Excel error code) is stored as a
  string cell with the "quote prefix" flag, so Excel neither evaluates it on opening nor when the
  officer edits the cell. NIK and KK are always text with the `@` number format.
- Column widths are computed from the data before the rows are streamed (write-only mode needs them
  first).
- Large tables go through `FastRows`, which serialises data rows to SpreadsheetML directly; openpyxl
  without lxml spends ~50 µs per cell, which made a 30k-finding workbook take 15 s.
- `save_deterministic` makes the same input produce the same bytes: fixed document properties and fixed
  timestamps on every zip member.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring
from pandas.api.types import is_integer_dtype

CREATOR: Final = "dtks-pipeline"
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS: Final = 32767
TEXT_FORMAT: Final = "@"
MIN_WIDTH: Final = 6
MAX_WIDTH: Final = 60

T = TypeVar("T")

_THIN = Side(style="thin", color="A6A6A6")
# characters XML 1.0 cannot hold (openpyxl's own check misses U+FFFE/U+FFFF and lone surrogates)
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Style:
    """A cell style; the same objects are reused so the stylesheet stays small."""

    font: Font | None = None
    fill: PatternFill | None = None
    alignment: Alignment | None = None
    border: Border | None = None
    number_format: str | None = None


TITLE: Final = Style(font=Font(bold=True, size=14, color="1F3864"))
SUBTITLE: Final = Style(font=Font(bold=True, size=12))
SECTION: Final = Style(font=Font(bold=True, size=11, color="1F3864"))
LABEL: Final = Style(font=Font(bold=True))
NOTE: Final = Style(font=Font(italic=True, color="595959"))
HEADER: Final = Style(
    font=Font(bold=True, color="FFFFFF"),
    fill=PatternFill(fill_type="solid", fgColor="305496"),
    alignment=Alignment(wrap_text=True, vertical="top"),
    border=Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN),
)
TOTAL: Final = Style(font=Font(bold=True), fill=PatternFill(fill_type="solid", fgColor="D9E1F2"))
# narrow count columns: the header reads upwards, so no word is cut
HEADER_ROTATED: Final = Style(
    font=Font(bold=True, color="FFFFFF"),
    fill=PatternFill(fill_type="solid", fgColor="305496"),
    alignment=Alignment(text_rotation=90, vertical="bottom", horizontal="center"),
    border=Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN),
)
HEADER_CENTER: Final = Style(
    font=Font(bold=True, color="FFFFFF"),
    fill=PatternFill(fill_type="solid", fgColor="305496"),
    alignment=Alignment(wrap_text=True, vertical="top", horizontal="center"),
    border=Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN),
)
WRAP: Final = Style(alignment=Alignment(wrap_text=True, vertical="top"))
TOP: Final = Style(alignment=Alignment(vertical="top"))
LABEL_TOP: Final = Style(font=Font(bold=True), alignment=Alignment(vertical="top"))
LABEL_WRAP: Final = Style(alignment=Alignment(wrap_text=True, vertical="top"))
ID_TEXT: Final = Style(number_format=TEXT_FORMAT)
PERCENT: Final = Style(number_format="0.0%")
# counts with a thousands separator (Excel and LibreOffice show the reader's own: 12.345 in Indonesian)
COUNT_FORMAT: Final = "#,##0"
COUNT: Final = Style(number_format=COUNT_FORMAT)
TOTAL_COUNT: Final = Style(
    font=Font(bold=True), fill=PatternFill(fill_type="solid", fgColor="D9E1F2"), number_format=COUNT_FORMAT
)
TOTAL_PERCENT: Final = Style(font=TOTAL.font, fill=TOTAL.fill, number_format="0.0%")


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if type(value) in _PRESENT:  # the common case, kept fast
        return False
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value)) if not isinstance(value, str | bytes) else False
    except (TypeError, ValueError):
        return False


_PRESENT: Final = frozenset({str, int, bool, bytes})


def as_text(value: Any) -> str | None:
    """Input value -> the text to show, or None for a missing value.

    Integral numbers lose a spurious `.0` (an ID read as float), dates become ISO dates, characters that
    XML cannot hold are dropped, and text longer than an Excel cell allows is cut.
    """
    if type(value) is str:  # the common case, kept fast
        text = value
        if _ILLEGAL_XML.search(text):
            text = _ILLEGAL_XML.sub("", text)
        return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"
    if is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, bool | int):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    elif isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
    else:
        text = str(value)
    text = _ILLEGAL_XML.sub("", text)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def looks_like_formula(text: str) -> bool:
    """True when Excel (or openpyxl) would treat the text as a formula or an error value."""
    return text.startswith(FORMULA_TRIGGERS) or text in ERROR_CODES


def _apply(cell: Cell, style: Style | None) -> Cell:
    """Give `cell` the style. The first cell of a workbook with a style registers its parts (openpyxl
    hashes each font, fill, ... to find it in the stylesheet, about 0.2 ms a part); later cells copy the
    result, which keeps a village file's fixed cost down when a kabupaten has hundreds of them."""
    if style is None:
        return cell
    cache: dict[int, tuple[Style, Any]] = cell.parent.parent.__dict__.setdefault("_dtks_style_arrays", {})
    known = cache.get(id(style))
    quote_prefix = getattr(cell._style, "quotePrefix", 0)  # set by `text_cell` for a formula-looking value
    if known is not None:
        cell._style = copy.copy(known[1])
        cell._style.quotePrefix = quote_prefix
        return cell
    if style.font is not None:
        cell.font = style.font
    if style.fill is not None:
        cell.fill = style.fill
    if style.alignment is not None:
        cell.alignment = style.alignment
    if style.border is not None:
        cell.border = style.border
    if style.number_format is not None:
        cell.number_format = style.number_format
    array = copy.copy(cell._style)
    array.quotePrefix = 0
    cache[id(style)] = (style, array)  # the style is kept, so its id stays its own
    return cell


# A date in wrapped text breaks after its hyphens ("28-02-" / "2026") in LibreOffice and Excel: in wrapped
# cells its hyphens are non-breaking (U+2011, which the fonts of both draw as a hyphen).
NON_BREAKING_HYPHEN: Final = "\u2011"
_SHOWN_DATE = re.compile(r"\b(\d{2})-(\d{2})-(\d{4})\b")


def keep_dates_whole(text: str) -> str:
    """`text` with each DD-MM-YYYY date's hyphens non-breaking, so a wrapped cell never splits a date."""
    if "-" not in text:
        return text
    return _SHOWN_DATE.sub(lambda m: NON_BREAKING_HYPHEN.join(m.groups()), text)


def text_cell(ws: Any, value: Any, style: Style | None = None) -> Any:
    """A cell for a value from the input: always text, never a formula.

    Returns the plain string when no styling or neutralising is needed (cheapest in write-only mode).
    """
    text = as_text(value)
    if text is None:
        return _apply(WriteOnlyCell(ws), style) if style is not None else None
    risky = looks_like_formula(text)
    if not risky and style is None:
        return text
    if style is not None and style.alignment is not None and style.alignment.wrap_text:
        text = keep_dates_whole(text)
    cell = WriteOnlyCell(ws)
    cell._value = text
    cell.data_type = "s"
    if risky:
        cell.quotePrefix = True
    return _apply(cell, style)


def number_cell(ws: Any, value: int | float | None, style: Style | None = None) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _apply(WriteOnlyCell(ws), style) if style is not None else None
    if style is None:
        return value
    return _apply(WriteOnlyCell(ws, value=value), style)


def row_number(value: Any) -> int | str | None:
    """`source_row` as an integer when it is one (so the officer can sort by it), else as text."""
    if is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return as_text(value)
    return int(number) if number.is_integer() else as_text(value)


def exact_ints(values: pd.Series) -> bool:
    """An integer column without missing values, each exact as a float: `row_number(v)` is then `v`."""
    if not is_integer_dtype(values.dtype) or values.hasnans:
        return False
    return values.empty or bool(values.min() > -(2**53) and values.max() < 2**53)


def row_numbers(values: pd.Series) -> list[Any]:
    """`values.map(row_number).tolist()`; an integer column (the usual case) without a call per row."""
    return values.astype("int64").tolist() if exact_ints(values) else values.map(row_number).tolist()


# Values of these types are cached by value: equal values of them always have the same text, and no value
# of one equals a value of another (not so for floats, -0.0 == 0.0, nor for datetimes across time zones).
_CACHEABLE: Final = frozenset({str, int, type(None)})
_MISSING: Final = object()


def map_distinct(values: Iterable[Any], func: Callable[[Any], T]) -> list[T]:
    """`[func(v) for v in values]`, calling `func` once per distinct str/int/None value: a 400k-row
    kabupaten has few distinct outcomes, statuses, categories and places."""
    cache: dict[Any, T] = {}
    out: list[T] = []
    append, cacheable, get, missing = out.append, _CACHEABLE, cache.get, _MISSING
    for value in values:  # one pass: this runs over every cell of a large table
        if type(value) in cacheable:
            result = get(value, missing)
            if result is missing:
                result = cache[value] = func(value)
            append(result)
        else:
            append(func(value))
    return out


def cells(ws: Any, values: Iterable[Any], style: Style | None = None) -> list[Any]:
    """A row of text cells (numbers stay numbers) with one style."""
    out = []
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(number_cell(ws, v, style))
        else:
            out.append(text_cell(ws, v, style))
    return out


def text_width(values: pd.Series | Sequence[Any]) -> int:
    """The longest text among the values (missing values count 0)."""
    if not isinstance(values, pd.Series) or values.dtype == object:
        items = values.tolist() if isinstance(values, pd.Series) else list(values)
        kinds = set(map(type, items))
        # plain str/int columns (nearly all) without building a Series; the same result as below
        if kinds <= {str, type(None)}:
            return max(map(len, filter(None, items)), default=0)
        if kinds <= {int, type(None)}:
            return max((len(str(v)) for v in items if v is not None), default=0)
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="object")
    if series.empty:
        return 0
    lengths = series.dropna().astype(str).str.len()
    return int(lengths.max()) if not lengths.empty else 0


def set_widths(ws: Any, widths: Sequence[int], *, minimum: int = MIN_WIDTH, maximum: int = MAX_WIDTH) -> list[int]:
    """Column widths in characters, clamped (returned); before the first row in write-only mode."""
    clamped = [max(minimum, min(maximum, width + 2)) for width in widths]
    for idx, width in enumerate(clamped, 1):
        ws.column_dimensions[get_column_letter(idx)].width = width
    return clamped


def wide_line(
    ws: Any, row: int, label: str, text: str, widths: Sequence[float], *, bold_label: bool = True
) -> list[Any]:
    """A row of the header block of a table sheet: "Label: text" across the table's width (merged, wrapped,
    with the height that shows every line), so a narrow first column neither cuts the label nor widens
    the printed page."""
    last = len(widths)
    ws.merged_cells.add(f"A{row}:{get_column_letter(last)}{row}")
    shown = f"{label}: {text}" if label else text
    lines = text_lines(shown, sum(widths) * 0.95)
    if lines > 1:
        ws.row_dimensions[row].height = LINE_HEIGHT * lines
    return [text_cell(ws, shown, WRAP if not bold_label else LABEL_WRAP)]


def text_block(
    ws: Any,
    row: int,
    label: str | None,
    text: str,
    widths: Sequence[int],
    *,
    target: int = 100,
    label_style: Style = LABEL_TOP,
) -> list[Any]:
    """A row with a bold label in column A and a long text wrapped over columns B.. (merged up to about
    `target` characters wide), with a row height that shows every line. `row` is the row this list
    will be appended as; merges and heights must be registered before it is written."""
    total, end = 0, 2
    for col in range(2, len(widths) + 1):
        total, end = total + widths[col - 1], col
        if total >= target:
            break
    if end > 2:
        ws.merged_cells.add(f"B{row}:{get_column_letter(end)}{row}")
    per_line = max(1.0, total * 1.1)  # a width unit is one digit; sentences fit about 1.15 characters a unit
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
    if lines > 1:
        ws.row_dimensions[row].height = 15 * lines
    return [text_cell(ws, label, label_style) if label else None, text_cell(ws, text, WRAP)]


def table_widths(headers: Sequence[str], columns: Sequence[pd.Series | Sequence[Any]]) -> list[int]:
    """Width per column: the longer of the header's longest word run and the data's longest text."""
    widths = []
    for header, column in zip(headers, columns, strict=True):
        header_width = min(len(header), max(12, max((len(w) for w in header.split()), default=0)))
        widths.append(max(header_width, text_width(column)))
    return widths


class FastRows:
    """Data rows of a write-only sheet, serialised straight to SpreadsheetML and spliced into the sheet
    by `save_deterministic` after the rows openpyxl wrote (which must end at `first_row - 1`).

    Same rules as `text_cell`: every value is an inline string (so never a formula), values that look
    like formulas get the quote-prefix style, ID columns get the text number format `@`. Only in
    `number_columns` are ints and floats written as numbers. Column indexes are 0-based.
    """

    def __init__(
        self,
        ws: Any,
        first_row: int,
        n_columns: int,
        id_columns: Iterable[int] = (),
        number_columns: Iterable[int] = (),
        wrap_columns: Iterable[int] = (),
        widths: Sequence[float] = (),
    ) -> None:
        self.ws = ws
        self.widths = list(widths)
        self.next_row = first_row
        self.letters = [get_column_letter(i) for i in range(1, n_columns + 1)]
        self.id_columns = frozenset(id_columns)
        self.number_columns = frozenset(number_columns)
        self.wrap_columns = frozenset(wrap_columns)
        self.parts: list[str] = []
        self._style = {
            (is_id, risky, wrap): self._register(TEXT_FORMAT if is_id else None, risky, wrap)
            for is_id in (False, True)
            for risky in (False, True)
            for wrap in (False, True)
        }
        if not self.wrap_columns:  # a table without wrapped text keeps openpyxl's default alignment
            self._style[False, False, False] = None

    def _register(self, number_format: str | None, quote_prefix: bool, wrap: bool = False) -> str:
        cell = WriteOnlyCell(self.ws)
        if number_format:
            cell.number_format = number_format
        if quote_prefix:
            cell.quotePrefix = True
        if wrap:
            cell.alignment = WRAP.alignment
        elif self.wrap_columns:  # beside wrapped cells, every cell starts at the top of its row
            cell.alignment = TOP.alignment
        return str(cell.style_id)

    def _tail(self, idx: int, value: Any) -> str:
        """The XML of one cell after its `r="..."` reference, or "" when the cell is left empty."""
        if value is None:
            return ""
        if idx in self.number_columns and isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                return ""
            style = self._style[False, False, False]
            s_attr = f' s="{style}"' if style is not None else ""
            return f'{s_attr} t="n"><v>{value!r}</v></c>'
        text = as_text(value)
        if text is None:
            return ""
        if idx in self.wrap_columns:
            text = keep_dates_whole(text)
        style = self._style[idx in self.id_columns, looks_like_formula(text), idx in self.wrap_columns]
        s_attr = f' s="{style}"' if style is not None else ""
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'{s_attr} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'

    def append(self, values: Sequence[Any]) -> None:
        r = self.next_row
        tails = [self._tail(idx, value) for idx, value in enumerate(values)]
        cells = "".join(f'<c r="{self.letters[idx]}{r}"{tail}' for idx, tail in enumerate(tails) if tail)
        self.parts.append(f'<row r="{r}">{cells}</row>')
        self.next_row += 1

    def extend(self, columns: Sequence[Sequence[Any]]) -> None:
        """Append rows given column by column, the same as `append` per row; each distinct text of a
        column is serialised once (`map_distinct`), which is most of the time of a large table."""
        if not columns:
            return
        rows = range(self.next_row, self.next_row + len(columns[0]))
        cells = []
        for idx, column in enumerate(columns):
            letter = self.letters[idx]
            tails = map_distinct(column, lambda value, idx=idx: self._tail(idx, value))
            cells.append([f'<c r="{letter}{r}"{tail}' if tail else "" for r, tail in zip(rows, tails, strict=True)])
        records = zip(*cells, strict=True)
        opening = self._row_openings(columns, rows)
        self.parts.extend(f"{o}{''.join(row)}</row>" for o, row in zip(opening, records, strict=True))
        self.next_row += len(rows)

    def _row_openings(self, columns: Sequence[Sequence[Any]], rows: range) -> list[str]:
        """`<row r="..">`, with the height that shows every line of its wrapped cells: neither Excel nor
        LibreOffice fits the height of a row it reads, so a row without one shows only its first line."""
        wrapped = [i for i in self.wrap_columns if i < len(self.widths) and i < len(columns)]
        if not wrapped:
            return [f'<row r="{r}">' for r in rows]
        lines = [1] * len(rows)
        for idx in wrapped:
            width = self.widths[idx]
            counts = map_distinct(columns[idx], lambda v, width=width: text_lines(as_text(v), width))
            lines = [max(a, b) for a, b in zip(lines, counts, strict=True)]
        return [
            f'<row r="{r}" ht="{LINE_HEIGHT * n}" customHeight="1">' if n > 1 else f'<row r="{r}">'
            for r, n in zip(rows, lines, strict=True)
        ]

    def xml(self) -> bytes:
        return "".join(self.parts).encode("utf-8")


LINE_HEIGHT: Final = 15  # points per line of 11 pt text


def text_lines(text: str | None, width: float, fill: float | None = None) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide, word by word. A width unit
    is one digit of the default font; LibreOffice fits about 1.2 characters of mixed-case text per unit,
    1.0 of capitals (names), which `fill` (characters per unit) follows unless given."""
    if not text or (len(text) < width - 1 and "\n" not in text):
        return 1
    if fill is None:
        fill = 1.0 if text.isupper() else 1.15
    per_line = max(1, int(width * fill) - 1)
    total = 0
    for paragraph in text.split("\n"):
        count, line = 1, 0
        for word in paragraph.split():
            while len(word) > per_line:  # a word longer than the column breaks anywhere
                count, word = count + (1 if line else 0), word[per_line:]
                line = 0
            if line and line + 1 + len(word) > per_line:
                count, line = count + 1, len(word)
            else:
                line += (1 if line else 0) + len(word)
        total += count
    return total


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


def _splice_rows(sheet_xml: bytes, rows_xml: bytes) -> bytes:
    if not rows_xml:
        return sheet_xml
    end = sheet_xml.rfind(b"</sheetData>")
    if end >= 0:
        return sheet_xml[:end] + rows_xml + sheet_xml[end:]
    empty = sheet_xml.rfind(b"<sheetData/>")
    if empty < 0:
        raise ValueError("worksheet XML without sheetData")
    return sheet_xml[:empty] + b"<sheetData>" + rows_xml + b"</sheetData>" + sheet_xml[empty + 12 :]


def prepare_sheet(
    ws: Any,
    widths: Sequence[int],
    *,
    freeze_row: int | None = None,
    orientation: str = "landscape",
    header_left: str = "",
    title_rows: str | None = None,
    clamp: bool = True,
) -> list[int]:
    """Column widths, frozen rows and print set-up (`printable.page_setup`) of a write-only sheet.

    Returns the widths as set. Must run before the first `append`: openpyxl writes these parts of the
    sheet when the first row arrives, and silently ignores later changes.
    """
    from pipelines.reports.printable import page_setup

    if ws._writer is not None:
        raise RuntimeError("prepare_sheet() must be called before the first row is written")
    if clamp:
        clamped = set_widths(ws, widths)
    else:
        clamped = list(widths)
        for idx, width in enumerate(clamped, 1):
            ws.column_dimensions[get_column_letter(idx)].width = width
    if freeze_row is not None:
        ws.freeze_panes = f"A{freeze_row}"
    page_setup(ws, orientation=orientation, header_left=header_left, title_rows=title_rows)
    return clamped


@dataclass
class TableSheet:
    """A sheet whose rows above `header_row` the caller writes (a title, notes), then one table with its
    header at `header_row`: frozen under the header, the header repeated on every printed page, a filter,
    hidden columns kept for filters and copies. Made by `table_sheet`; `write` appends the table."""

    ws: Any
    headers: tuple[str, ...]
    widths: list[float]
    header_row: int
    hidden: frozenset[str]
    id_columns: frozenset[str]
    number_columns: frozenset[str]
    wrap_columns: frozenset[str]

    def shown_widths(self) -> list[float]:
        """The widths with the hidden columns at 0, so that a merged text block spans only what shows."""
        return [0 if h in self.hidden else w for h, w in zip(self.headers, self.widths, strict=True)]

    def write(self, columns: Sequence[Sequence[Any]]) -> FastRows:
        """The header row, then the rows given column by column (in the order of `headers`)."""

        def index(names: frozenset[str]) -> list[int]:
            return [i for i, h in enumerate(self.headers) if h in names]

        self.ws.append(cells(self.ws, self.headers, HEADER))
        fast = FastRows(
            self.ws,
            self.header_row + 1,
            len(self.headers),
            index(self.id_columns),
            number_columns=index(self.number_columns),
            wrap_columns=index(self.wrap_columns),
            widths=self.widths,
        )
        fast.extend(columns)
        n = len(columns[0]) if columns else 0
        self.ws.auto_filter.ref = f"A{self.header_row}:{get_column_letter(len(self.headers))}{self.header_row + n}"
        return fast


def table_sheet(
    ws: Any,
    headers: Sequence[str],
    widths: Sequence[float],
    *,
    header_row: int,
    header_left: str,
    hidden: Iterable[str] = (),
    id_columns: Iterable[str] = (),
    number_columns: Iterable[str] = (),
    wrap_columns: Iterable[str] = (),
) -> TableSheet:
    """Set up a landscape A4 sheet for one table of findings or rows (columns named by their header); must
    run before the first row is written (`prepare_sheet`)."""
    from pipelines.reports.printable import hide_columns

    hr = header_row
    shown = prepare_sheet(ws, widths, freeze_row=hr + 1, header_left=header_left, title_rows=f"{hr}:{hr}", clamp=False)
    hide_columns(ws, headers, tuple(hidden))
    ws.row_dimensions[hr].height = header_height(headers, shown)
    return TableSheet(
        ws,
        tuple(headers),
        list(shown),
        hr,
        frozenset(hidden),
        frozenset(id_columns),
        frozenset(number_columns),
        frozenset(wrap_columns),
    )


def header_height(headers: Sequence[str], widths: Sequence[float]) -> float:
    """The height (points) of a header row whose texts wrap inside their columns, so no header is cut."""
    return LINE_HEIGHT * max((text_lines(h, w) for h, w in zip(headers, widths, strict=False)), default=1) + 2


def rotated_header_height(headers: Sequence[str]) -> float:
    """The height (points) of a header row written upwards (`HEADER_ROTATED`)."""
    return 6.5 * max((len(h) for h in headers), default=4) + 8


def fixed_timestamp(run_id: str, quarter: str) -> dt.datetime:
    """The timestamp stored in the file: taken from the run id when it holds an ISO date (Airflow run ids
    do), else the first day of the quarter; so the same run always produces the same bytes."""
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})(?:[T _](\d{2}):(\d{2})(?::(\d{2}))?)?", run_id or "")
    if m:
        parts = [int(p) if p else 0 for p in m.groups()]
        try:
            return dt.datetime(*parts[:6])
        except ValueError:
            pass
    q = re.match(r"^(\d{4})Q([1-4])$", quarter or "")
    if q:
        return dt.datetime(int(q.group(1)), 3 * int(q.group(2)) - 2, 1)
    return dt.datetime(2000, 1, 1)


# zlib level 1: a third of level 6's time on a 100k-row workbook's sheets, for a file about a fifth larger.
ZIP_LEVEL: Final = 1


def save_deterministic(
    wb: Workbook,
    path: Path,
    *,
    timestamp: dt.datetime,
    title: str,
    fast_rows: Sequence[FastRows] = (),
) -> Path:
    """Save `wb` to `path` atomically, with fixed properties and zip timestamps.

    openpyxl stamps `modified` with the wall clock and zip members with the current time; both are
    replaced here, so the same input gives byte-identical files.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ts = max(timestamp.replace(tzinfo=None, microsecond=0), dt.datetime(1980, 1, 1))
    props = wb.properties
    props.creator = CREATOR
    props.lastModifiedBy = CREATOR
    props.title = title
    props.language = "id-ID"
    props.created = ts
    props.modified = ts
    written = io.BytesIO()  # openpyxl's package is only read back here: memory, not a temporary file
    wb.save(written)
    props.modified = ts  # openpyxl overwrote it with the current time while saving
    core = tostring(props.to_tree())
    spliced = {}
    for fr in fast_rows:
        spliced.setdefault(fr.ws.path.lstrip("/"), []).append(fr.xml())
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(written) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = core if info.filename == "docProps/core.xml" else src.read(info.filename)
                if info.filename in spliced:
                    data = _splice_rows(data, b"".join(spliced[info.filename]))
                member = zipfile.ZipInfo(info.filename, date_time=ts.timetuple()[:6])
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = 0o644 << 16
                dst.writestr(member, data, compresslevel=ZIP_LEVEL)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
