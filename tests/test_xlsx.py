"""The XLSX reader gives exactly the values openpyxl's read-only mode gives, without its padding: rows end at
their last non-empty cell, no empty rows after the last one with a value, and a formula without a stored
result is read as its text (openpyxl's `data_only=False` value), as the reader always did."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from pipelines.ingest import readers, xlsx
from pipelines.synth import SynthConfig, generate

CORPUS = Path(__file__).parent / "corpus" / "cases"


def _trimmed(rows: list[list[object]]) -> list[list[object]]:
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] in (None, ""):
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


def _openpyxl_sheet(data: bytes, index: int) -> list[list[object]]:
    values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        rows = [list(r) for r in values.worksheets[index].iter_rows(values_only=True)]
        texts = [list(r) for r in formulas.worksheets[index].iter_rows(values_only=True)]
    finally:
        values.close()
        formulas.close()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = texts[r][c] if r < len(texts) and c < len(texts[r]) else None
            text = getattr(text, "text", text)  # array formulas come as objects
            if value is None and isinstance(text, str) and text.startswith("="):
                row[c] = text
    return _trimmed(rows)


def both(data: bytes):
    """The first sheet's rows, the path, the 1904 flag; every sheet compared with openpyxl's."""
    book = xlsx.open_workbook(data)
    reference = load_workbook(io.BytesIO(data), read_only=True)
    try:
        assert len(book.sheet_paths) == len(reference.worksheets)
        mac = reference.epoch == dt.datetime(1904, 1, 1)
    finally:
        reference.close()
    assert book.mac_epoch == mac
    sheets = [book.sheet(i).rows for i in range(len(book.sheet_paths))]
    for i, rows in enumerate(sheets):
        assert rows == _trimmed(rows), "a row or the sheet ends in empty cells"
        assert rows == _openpyxl_sheet(data, i)
    others = any(readers._has_data(rows) for rows in sheets[1:])
    return sheets[0], others, book.sheet_paths[0], book.mac_epoch


def test_openpyxl_parses_through_defusedxml():
    assert openpyxl.DEFUSEDXML


def saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_values_of_every_kind():
    wb = Workbook()
    ws = wb.active
    ws.append(["nik", "nama", "tanggal_lahir", "angka", "benar", "waktu"])
    ws.append(["5203011508800001", "SITI", dt.date(1980, 8, 15), 3201011508800001, True, dt.time(7, 30)])
    ws.append([3.20101e15, "  spasi  ", dt.datetime(1990, 1, 2, 3, 4, 5), 1.5, False, dt.timedelta(hours=30)])
    ws["C4"] = 29221  # a serial in a general cell stays a number
    ws["C5"] = 29221
    ws["C5"].number_format = "dd/mm/yyyy"  # ... and becomes a date in a date cell
    ws["A7"] = "=B2&B3"  # a formula without a stored result: None both ways
    ws["H9"] = "far right, further down"  # a gap of rows and columns
    rich = CellRichText(["Hj. ", TextBlock(InlineFont(b=True), "Siti"), " Aminah"])
    ws["B6"] = rich
    wb.create_sheet("Lain")["B3"] = "data elsewhere"
    values, others, path, mac = both(saved(wb))
    assert values[1][0] == "5203011508800001" and values[1][2] == dt.datetime(1980, 8, 15)
    assert values[4][2] == dt.datetime(1980, 1, 1) and values[3][2] == 29221
    assert values[5][1] == "Hj. Siti Aminah"
    assert others and path == "xl/worksheets/sheet1.xml" and not mac


def test_1904_dates_and_empty_other_sheets():
    wb = Workbook()
    wb.epoch = dt.datetime(1904, 1, 1)
    wb.active.append(["tanggal_lahir"])
    wb.active.append([dt.date(1985, 3, 12)])
    wb.create_sheet("Kosong")
    values, others, _path, mac = both(saved(wb))
    assert mac and not others and values[1][0] == dt.datetime(1985, 3, 12)


def test_sheet_without_dimension_and_cells_without_references():
    """What scripts write: no <dimension>, rows and cells without `r`, inline strings, a row number as float."""
    wb = Workbook()
    wb.active.append(["x"])
    data = saved(wb)
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row><c t="inlineStr"><is><t>nik</t></is></c>'
        '<c t="inlineStr"><is><t xml:space="preserve"> nama </t></is></c></row>'
        '<row r="3.0"><c><v>12</v></c><c t="str"><v>hasil rumus</v></c>'
        '<c t="e"><v>#N/A</v></c><c t="b"><v>1</v></c></row>'
        '<row><c r="D4" t="inlineStr"><is><r><t>Ab</t></r><r><t>dul</t></r>'
        '<rPh sb="0" eb="1"><t>x</t></rPh></is></c></row>'
        "</sheetData></worksheet>"
    )
    values, *_ = both(_replace_part(data, "xl/worksheets/sheet1.xml", sheet.encode()))
    assert values == [["nik", " nama "], [], [12, "hasil rumus", "#N/A", True], [None, None, None, "Abdul"]]


def test_rows_are_as_long_as_their_cells_whatever_the_dimension_says():
    """openpyxl pads every row to the `<dimension>`: A1:XFD20000 made 20,000 rows of 16,384 cells."""
    wb = Workbook()
    wb.active.append(["nik", "nama"])
    wb.active.append(["1", "A"])
    data = saved(wb)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b'<dimension ref="A1:B2"/>', b'<dimension ref="A1:XFD1048576"/>')
    book = xlsx.open_workbook(_replace_part(data, "xl/worksheets/sheet1.xml", sheet))
    assert book.sheet(0).rows == [["nik", "nama"], ["1", "A"]]


@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS.glob("*") if list(p.rglob("*.xlsx"))))
def test_corpus_workbooks(case):
    import json

    refused = json.loads((CORPUS / case / "expected.json").read_text())["file"]["status"] == "UNREADABLE"
    for path in (CORPUS / case).rglob("*.xlsx"):
        data = path.read_bytes()
        if refused:  # damaged or beyond a limit (tests/test_corpus.py checks the reason)
            with pytest.raises(readers.UnreadableFile):
                book = xlsx.open_workbook(data)
                book.sheet(0)
            continue
        both(data)


def test_generated_village_files(tmp_path):
    generate(tmp_path, "2026Q3", SynthConfig(kab_codes=("5203",), persons=3_000, seed=5))
    files = sorted(tmp_path.rglob("*.xlsx"))
    assert files
    for path in files:
        both(path.read_bytes())


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, content if item.filename == name else src.read(item.filename))
    return out.getvalue()
