"""How a report sheet prints: A4, the page's orientation, all columns across one page width, the table's
header repeated on every page, narrow margins, the sheet's name and the place in the header, "Halaman x
dari y" and the personal-data notice in the footer.

Text must stay readable on paper (at least 8 pt). A sheet is shrunk to fit its page width, so the columns
that print must fit in about `MAX_PRINT_WIDTH` characters: long texts wrap inside narrower columns, and
the technical columns (village code, file name, status padan, ...) are hidden, still there for a filter or
a copy after unhiding them. `tests/test_rendering.py` prints the files with LibreOffice and measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

A4: Final = 9
# Column widths (characters) that print at >= 8 pt when the sheet is fitted to the width of A4 paper
# with these margins: 11 pt text at 0.73 scale or more. Measured with LibreOffice: 100 characters print
# at 100 %, 150 at 74 %, 200 at 56 %.
MAX_PRINT_WIDTH: Final = {"landscape": 148, "portrait": 90}
FOOTER_NOTICE: Final = "RAHASIA - memuat data pribadi (UU No. 27 Tahun 2022 tentang PDP)"
PAGE_NUMBER: Final = "Halaman &P dari &N"
FOOTER_SIZE: Final = 11  # shrunk with the sheet: 11 pt prints at >= 8 pt


def page_setup(
    ws: Any, *, orientation: str = "landscape", header_left: str = "", title_rows: str | None = None
) -> None:
    """A4 in `orientation`, fitted to one page width (as many pages down as needed), with the header and
    footer; `title_rows` ("7:7") repeats on every page. Call before the first row of a write-only sheet."""
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.7, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = False
    if header_left:
        ws.oddHeader.left.text = header_left.replace("&", "&&")
        ws.oddHeader.left.size = FOOTER_SIZE
    ws.oddHeader.right.text = "&A"  # the sheet's name: a loose page still says where it belongs
    ws.oddHeader.right.size = FOOTER_SIZE
    ws.oddFooter.left.text = FOOTER_NOTICE
    ws.oddFooter.left.size = FOOTER_SIZE
    ws.oddFooter.right.text = PAGE_NUMBER
    ws.oddFooter.right.size = FOOTER_SIZE
    if title_rows:
        ws.print_title_rows = title_rows


def hide_columns(ws: Any, headers: Sequence[str], hidden: Sequence[str]) -> None:
    """Hide the named columns on screen and on paper (the officer can unhide them)."""
    for idx, header in enumerate(headers, 1):
        if header in hidden:
            ws.column_dimensions[get_column_letter(idx)].hidden = True


def printed_width(widths: Sequence[float], headers: Sequence[str], hidden: Sequence[str] = ()) -> float:
    """The width (characters) of the columns that print."""
    return sum(w for w, h in zip(widths, headers, strict=True) if h not in hidden)
