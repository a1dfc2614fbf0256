"""The fast XLSX reader gives exactly what openpyxl's read-only, data-only mode gives, or steps aside."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from pipelines.ingest import readers
from pipelines.synth import SynthConfig, generate

CORPUS = Path(__file__).parent / "corpus" / "cases"


def both(data: bytes):
    fast = readers._fast_sheets(data)
    assert fast is not None, "the fast path stepped aside"
    assert fast == readers._openpyxl_sheets(data)
    return fast


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


@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS.glob("*") if list(p.rglob("*.xlsx"))))
def test_corpus_workbooks(case):
    for path in (CORPUS / case).rglob("*.xlsx"):
        data = path.read_bytes()
        if not data.startswith(readers.ZIP_MAGIC) or readers._fast_sheets(data) is None:
            with pytest.raises(readers.UnreadableFile):  # damaged: openpyxl reads it and says why
                readers._openpyxl_sheets(data)
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
