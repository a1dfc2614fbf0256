"""Reports for Dinsos and the desa: write small inputs, read the files back with openpyxl."""

from __future__ import annotations

import json
import re
import zipfile
from html import escape
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from pipelines import contract as c
from pipelines.config import DeliverySettings, load_config
from pipelines.regions import desa_of_kabupaten, region_name
from pipelines.reports import excel as x
from pipelines.reports import feedback as fb
from pipelines.reports import guidance as g
from pipelines.reports import readable as rd
from pipelines.reports import write_desa_feedback, write_kabupaten_workbook
from pipelines.reports.feedback import desa_reason, feedback_file_names, merged_reference
from pipelines.reports.html_summary import RunInfo, render_kabupaten, render_run, write_html
from pipelines.reports.mail import kabupaten_message
from pipelines.reports.printable import MAX_PRINT_WIDTH
from pipelines.reports.suggestions import PERSON_COLUMNS
from pipelines.reports.summary import combine, count_kabupaten
from pipelines.reports.workbook import (
    ALL_FINDINGS_SHEET,
    CHANGES_SHEET,
    DESA_SHEET,
    FILE_PROBLEMS_SHEET,
    KECAMATAN_SHEET,
    SUMMARY_SHEET,
    sheet_name,
)

KAB = "5203"
QUARTER = "2026Q3"
RUN = "manual__2026-10-01T02:03:04+00:00"
FORMULAS = ('=HYPERLINK("x")', "+62812", "@SUM(A1)", "-1+1", "\tTAB", "#N/A")

_DESA = list(desa_of_kabupaten(KAB))
D1, D2 = _DESA[0], _DESA[1]  # same kecamatan (Keruak)
D3 = next(d for d in _DESA if d[:6] != D1[:6])  # another kecamatan


def sf(desa: str, ext: str = "csv") -> str:
    return f"{QUARTER}/submissions/{KAB}/{desa}.{ext}"


def make_inputs() -> dict[str, pd.DataFrame]:
    row_outcome = pd.DataFrame(
        [
            (sf(D1), "1", D1, c.OUTCOME_PUBLISHED, "p1", "5203014101900001", c.PADAN, "0.99"),
            (sf(D1), "2", D1, c.OUTCOME_PUBLISHED, "p2", "5203014101900002", c.PADAN_DENGAN_KOREKSI, "0.95"),
            (sf(D1), "3", D1, c.OUTCOME_QUARANTINED, None, None, c.TIDAK_PADAN, None),
            (sf(D2), "1", D2, c.OUTCOME_MERGED, "p1", "5203014101900001", c.PADAN, "0.99"),
            (sf(D2), "2", D2, c.OUTCOME_PUBLISHED, "p3", None, c.PERLU_VERIFIKASI, None),
            (sf(D3), "1", D3, c.OUTCOME_PUBLISHED, "p4", None, c.TIDAK_PADAN, None),
            (sf(D3), "2", D3, c.OUTCOME_PUBLISHED, "p5", "5203014101900005", c.PADAN, "0.97"),
        ],
        columns=[
            "source_file",
            "source_row",
            "kode_desa",
            "outcome",
            "person_key",
            "nik_dukcapil",
            "status_padan",
            "match_probability",
        ],
    )
    discrepancy = pd.DataFrame(
        [
            (D1, sf(D1), "1", "5203014101900001", c.GANDA, f"sama dengan {sf(D2)} baris 1", None),
            (D2, sf(D2), "1", "5203014101900001", c.GANDA, f"sama dengan {sf(D1)} baris 1", None),
            (D1, sf(D1), "2", "5203014101900099", c.NIK_BERBEDA, "NIK berbeda", "5203014101900002"),
            (D1, sf(D1), "2", "5203014101900099", c.KK_BERBEDA, "KK berbeda", "5203010101000009"),
            (D1, sf(D1), "3", "", c.NIK_TIDAK_VALID, "NIK kosong", None),
            (D1, sf(D1), "3", "", c.DATA_TIDAK_LENGKAP, "tanggal_lahir kosong", None),
            (D2, sf(D2), "2", "5203019999990001", c.KEMUNGKINAN_PADAN, "kemiripan 0,7", "5203014101900003"),
            (D3, sf(D3), "1", "5203010000000000", c.NIK_TIDAK_DITEMUKAN, "tidak ada di Dukcapil", None),
            (D3, sf(D3), "2", "5203014101900005", c.MENINGGAL, "TGL_MATI 2025-02-01", None),
        ],
        columns=["kode_desa", "source_file", "source_row", "nik", "category", "detail", "suggested_value"],
    )
    context = pd.DataFrame(
        [
            (sf(D1), "1", "SITI AMINAH", "5203010101000001", "1990-01-01"),
            (sf(D1), "2", "AHMAD", "5203010101000002", "1985-05-05"),
            (sf(D2), "1", "SITI AMINAH", "5203010101000001", "1990-01-01"),
            (sf(D3), "2", "BAIQ NURUL", "5203010101000005", "1950-12-31"),
        ],
        columns=["source_file", "source_row", "nama", "no_kk", "tanggal_lahir"],
    )
    file_problems = pd.DataFrame(
        [(sf(D3, "xlsx"), D3, "UNREADABLE", "Berkas tidak dapat dibuka (rusak).")],
        columns=["source_file", "kode_desa", "status", "message"],
    )
    snapshot = pd.DataFrame(
        [
            ("p1", "SITI AMINAH", "1990-01-01", "P", "5203010101000001", c.AKTIF, None, sf(D1), 1),
            ("p2", "AHMAD", "1985-05-05", "L", "5203010101000009", c.AKTIF, None, sf(D1), 2),
            ("p3", "X", "1980-01-01", "L", "5203010101000003", c.AKTIF, None, sf(D2), 2),
            ("p4", "Y", "1980-01-01", "L", "5203010101000004", c.AKTIF, None, sf(D3), 1),
            ("p5", "BAIQ NURUL", "1950-12-31", "P", "5203010101000005", c.NONAKTIF, "MENINGGAL", sf(D3), 2),
        ],
        columns=list(PERSON_COLUMNS),
    )
    return {
        "row_outcome": row_outcome,
        "discrepancy": discrepancy,
        "context": context,
        "file_problems": file_problems,
        "snapshot": snapshot,
    }


@pytest.fixture
def inputs() -> dict[str, pd.DataFrame]:
    return make_inputs()


@pytest.fixture(scope="module")
def standard(tmp_path_factory) -> tuple[Path, openpyxl.Workbook]:
    """The workbook for `make_inputs()`, written and read once for the read-only tests."""
    path = write(tmp_path_factory.mktemp("standard"), **make_inputs())
    return path, openpyxl.load_workbook(path)


def write(tmp_path: Path, name: str = "lap.xlsx", **frames: pd.DataFrame) -> Path:
    return write_kabupaten_workbook(tmp_path / name, kode_kab=KAB, quarter=QUARTER, run_id=RUN, **frames)


def rows_of(ws) -> list[tuple]:
    return [r for r in ws.iter_rows(values_only=True)]


def row_starting(ws, label: str) -> tuple:
    for r in ws.iter_rows(values_only=True):
        if r and r[0] == label:
            return r
    raise AssertionError(f"no row {label!r} in {ws.title}")


def header_value(ws, label: str) -> str:
    """The text of a "Label: text" line of a village file's header block."""
    for r in ws.iter_rows(values_only=True):
        if r and isinstance(r[0], str) and r[0].startswith(f"{label}: "):
            return r[0][len(label) + 2 :]
    raise AssertionError(f"no line {label!r} in {ws.title}")


def table(ws, first_header: str) -> list[dict]:
    """The table whose header row starts with `first_header`, as dicts (ends at the first empty row)."""
    rows = rows_of(ws)
    start = next(i for i, r in enumerate(rows) if r[0] == first_header)
    header = [h for h in rows[start] if h is not None]
    out = []
    for r in rows[start + 1 :]:
        if all(v is None for v in r):
            break
        out.append(dict(zip(header, [typed(v) for v in r], strict=False)))
    return out


def typed(value):
    """A cell's text as typed: a date's hyphens in a wrapped cell are non-breaking (`x.keep_dates_whole`)."""
    return value.replace(x.NON_BREAKING_HYPHEN, "-") if isinstance(value, str) else value


def all_cells(path: Path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def assert_no_formulas(path: Path) -> None:
    for cell in all_cells(path):
        assert cell.data_type != "f", f"{cell.parent.title}!{cell.coordinate} is a formula: {cell.value!r}"
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


# --- workbook -----------------------------------------------------------------------------------------


def sheet(wb, category: str):
    return wb[sheet_name(category)]


SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[A-Z]+_[A-Z_]+\b")


def test_workbook_has_summary_every_category_and_file_problems(standard):
    _, wb = standard
    assert wb.sheetnames == [
        SUMMARY_SHEET,
        KECAMATAN_SHEET,
        DESA_SHEET,
        CHANGES_SHEET,
        ALL_FINDINGS_SHEET,
        *[g.guidance_for(cat).short for cat in c.CATEGORIES],
        FILE_PROBLEMS_SHEET,
    ]
    assert all(len(name) <= 31 and not SNAKE.search(name) for name in wb.sheetnames)  # tabs in words
    summary = wb[SUMMARY_SHEET]
    text = "\n".join(str(v) for r in rows_of(summary) for v in r if v is not None)
    assert region_name(KAB) in text  # Kabupaten Lombok Timur
    assert QUARTER in text and "Triwulan III 2026" in text and RUN in text
    assert "dtks-pipeline" in text
    assert g.CHANGES_FIRST_QUARTER in text  # no previous quarter given: it says so
    assert wb.properties.creator == "dtks-pipeline"


def test_summary_counts_equal_inputs(standard, inputs):
    wb = standard[1]
    ws = wb[SUMMARY_SHEET]
    ro = inputs["row_outcome"]
    for outcome in c.OUTCOMES:
        assert row_starting(ws, g.OUTCOME_DESCRIPTIONS[outcome])[1] == (ro["outcome"] == outcome).sum()
    assert row_starting(ws, "Jumlah")[1] == len(ro)
    assert ws["B12"].number_format == "#,##0"  # counts show a thousands separator

    per_cat = table(ws, "Kategori")
    disc = inputs["discrepancy"]
    by_title = {r["Kategori"]: r for r in per_cat}
    for cat in c.CATEGORIES:
        assert by_title[g.GUIDANCE[cat].title]["Jumlah temuan"] == (disc["category"] == cat).sum()
        assert by_title[g.GUIDANCE[cat].title]["Lembar"] == sheet_name(cat)
    assert by_title["Jumlah"]["Jumlah temuan"] == len(disc)

    per_kec = {r["Kecamatan"]: r for r in table(wb[KECAMATAN_SHEET], "Kecamatan")}
    keruak, other = region_name(D1[:6]), region_name(D3[:6])
    assert per_kec[keruak]["Jumlah temuan"] == disc["kode_desa"].isin([D1, D2]).sum()
    assert per_kec[other]["Jumlah temuan"] == (disc["kode_desa"] == D3).sum()
    assert per_kec[keruak]["Baris usulan"] == 5 and per_kec[keruak]["Dikarantina"] == 1
    assert per_kec["Jumlah"]["Jumlah temuan"] == len(disc)
    for kec in pd.unique(pd.Series([d[:6] for d in _DESA])):  # every kecamatan, even without findings
        assert region_name(kec) in per_kec

    per_desa = {r["Kode desa"]: r for r in table(wb[DESA_SHEET], "Kecamatan")}
    assert set(per_desa) == set(_DESA)  # every desa of the kabupaten, in code order
    assert per_desa[D1]["Desa/Kelurahan"] == desa_of_kabupaten(KAB)[D1]
    assert per_desa[D1]["Kecamatan"] == keruak
    assert per_desa[D1]["Baris usulan"] == 3 and per_desa[D1]["Dikarantina"] == 1
    assert per_desa[D1]["Jumlah temuan"] == (disc["kode_desa"] == D1).sum()
    assert per_desa[D1][g.GUIDANCE[c.GANDA].short] == 1
    assert per_desa[D3]["Berkas bermasalah"] == 1
    assert sum(r["Jumlah temuan"] for r in per_desa.values()) == len(disc)


def test_summary_chart_labels_show_the_value_only(standard):
    path, wb = standard
    ws = wb[SUMMARY_SHEET]
    assert len(ws._charts) == 1 and ws._charts[0].tagname == "barChart"
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/charts/chart1.xml").decode()
    assert "Ringkasan" in xml and "Jumlah temuan per kategori" in xml
    # LibreOffice reads a flag that is left out as "show": each one is written, only the value is shown
    for flag, shown in (
        ("showVal", 1),
        ("showCatName", 0),
        ("showSerName", 0),
        ("showLegendKey", 0),
        ("showPercent", 0),
    ):
        assert f'<{flag} val="{shown}" />' in xml, flag


def test_category_sheet_holds_guidance_and_rows(standard):
    wb = standard[1]
    ws = sheet(wb, c.GANDA)
    assert row_starting(ws, "Arti")[1] == g.GUIDANCE[c.GANDA].meaning
    assert row_starting(ws, "Tindak lanjut")[1].startswith("1. ")
    rows = table(ws, "Desa/Kelurahan")
    assert [(r["Kode desa"], r["Baris"]) for r in rows] == [(D1, 2), (D2, 2)]  # rows as Excel numbers them
    first, second = rows
    assert first["Desa/Kelurahan"] == desa_of_kabupaten(KAB)[D1]
    assert first["Berkas"] == f"{D1}.csv"  # the file's name, never its path in the landing area
    assert first["Nama"] == "SITI AMINAH" and first["No. KK"] == "5203010101000001"
    assert first["Tanggal lahir"] == "01-01-1990"
    assert first["Kelompok"] == second["Kelompok"] == 1
    assert first["Nilai yang disarankan"] == g.GANDA_KEPT  # p1 is published from D1 row 1
    assert second["Nilai yang disarankan"] == f"Dipertahankan: desa {desa_of_kabupaten(KAB)[D1]} ({D1}.csv) baris 2"
    assert first["Tindakan"] == g.ROW_ACTIONS[c.GANDA, "kept"]
    assert second["Tindakan"] == g.ROW_ACTIONS[c.GANDA, "merged"]
    assert first["Status DTKS"] == "AKTIF" and second["Status DTKS"] == "AKTIF" + g.STATUS_DTKS_VIA_OTHER_ROW
    assert first["Keterangan"] == f"sama dengan desa {desa_of_kabupaten(KAB)[D2]} ({D2}.csv) baris 2"
    assert first["Hasil baris"] == "diterima" and second["Hasil baris"] == "digabung sebagai data ganda"
    assert first["Status padan"] == g.STATUS_PADAN_LABELS[c.PADAN]
    header_row = next(i for i, r in enumerate(rows_of(ws), 1) if r[0] == "Desa/Kelurahan")
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.auto_filter.ref.startswith(f"A{header_row}:")
    assert ws.auto_filter.ref.endswith(str(header_row + 2))

    nb = table(sheet(wb, c.NIK_BERBEDA), "Desa/Kelurahan")
    assert nb[0]["Nilai yang disarankan"] == "5203014101900002"
    assert nb[0]["Keterangan"] == "NIK berbeda"
    dead = table(sheet(wb, c.MENINGGAL), "Desa/Kelurahan")
    assert dead[0]["Nilai yang disarankan"] == "NONAKTIF (meninggal 01-02-2025)"
    assert dead[0]["Status DTKS"] == "NONAKTIF (meninggal)"
    assert dead[0]["Keterangan"] == "TGL_MATI 01-02-2025".replace("TGL_MATI", "tanggal meninggal")
    assert table(sheet(wb, c.PINDAH_DOMISILI), "Desa/Kelurahan") == []  # empty but present
    assert "tidak ada temuan" in str(rows_of(sheet(wb, c.PINDAH_DOMISILI))[1][0])


def test_all_findings_sheet_has_one_row_per_submitted_row(standard, inputs):
    rows = table(standard[1][ALL_FINDINGS_SHEET], "Desa/Kelurahan")
    disc = inputs["discrepancy"]
    assert len(rows) == len(disc[["source_file", "source_row"]].drop_duplicates())
    two = next(r for r in rows if r["Kode desa"] == D1 and r["Baris"] == 3)  # NIK and KK berbeda
    assert two["Temuan"] == f"• {g.GUIDANCE[c.NIK_BERBEDA].title}\n• {g.GUIDANCE[c.KK_BERBEDA].title}"
    assert two["Nilai yang disarankan"] == "• NIK: 5203014101900002\n• No. KK: 5203010101000009"
    assert two["Tindakan"].count("•") == 2
    assert two["Hasil baris"] == g.outcome_label(c.OUTCOME_PUBLISHED)  # the row's outcome shows here
    ws = standard[1][ALL_FINDINGS_SHEET]
    header = row_starting(ws, "Desa/Kelurahan")
    shown = [h for i, h in enumerate(header, 1) if h and not ws.column_dimensions[get_column_letter(i)].hidden]
    assert "Hasil baris" in shown and "Status DTKS" in shown and "Berkas" not in shown


def test_every_finding_on_a_linked_row_carries_its_suggestion(tmp_path):
    """On a linked row the pipeline knows the value to use for every finding: the linked person's NIK (also
    for NIK_TIDAK_VALID), KK, identity and DTKS status, and for GANDA the row kept."""
    f = sf(D1)
    ro = pd.DataFrame(
        [
            (f, 1, D1, c.OUTCOME_PUBLISHED, "p1", "5203014101900001", c.PADAN_DENGAN_KOREKSI),
            (f, 2, D1, c.OUTCOME_PUBLISHED, "p2", "5203014101900002", c.PADAN),
            (f, 3, D1, c.OUTCOME_MERGED, "p2", "5203014101900002", c.PADAN),
            (f, 4, D1, c.OUTCOME_PUBLISHED, "p4", None, c.TIDAK_PADAN),
        ],
        columns=["source_file", "source_row", "kode_desa", "outcome", "person_key", "nik_dukcapil", "status_padan"],
    )
    disc = pd.DataFrame(
        [
            (D1, f, 1, "", c.NIK_TIDAK_VALID, "NIK kosong.", None),
            (D1, f, 1, "", c.NIK_BERBEDA, "NIK kosong; NIK Dukcapil ditemukan.", "5203014101900001"),
            (
                D1,
                f,
                2,
                "5203014101900002",
                c.IDENTITAS_TIDAK_SESUAI,
                "nama (usulan: SITI; Dukcapil: SITI AMINAH)",
                None,
            ),
            (D1, f, 2, "5203014101900002", c.PEKERJAAN_TIDAK_LAYAK, "Pekerjaan menurut Dukcapil: KEPALA DESA", None),
            (D1, f, 2, "5203014101900002", c.GANDA, f"Data ganda dengan: {f} baris 3", None),
            (D1, f, 3, "5203014101900002", c.GANDA, f"Data ganda dengan: {f} baris 2", None),
            (
                D1,
                f,
                3,
                "5203014101900002",
                c.BIODATA_TIDAK_SESUAI_NIK,
                "tanggal_lahir (NIK: 01-01-..90; usulan: 1991-01-01).",
                None,
            ),
            (D1, f, 4, "5203019999990001", c.NIK_TIDAK_DITEMUKAN, "NIK tidak terdaftar.", None),
        ],
        columns=["kode_desa", "source_file", "source_row", "nik", "category", "detail", "suggested_value"],
    )
    snapshot = pd.DataFrame(
        [
            ("p1", "SITI", "1990-01-01", "P", "5203010101000001", c.AKTIF, None, f, 1),
            ("p2", "SITI AMINAH", "1990-01-01", "P", "5203010101000001", c.NONAKTIF, "PEKERJAAN_TIDAK_LAYAK", f, 2),
        ],
        columns=list(PERSON_COLUMNS),
    )
    path = write(
        tmp_path,
        discrepancy=disc,
        row_outcome=ro,
        file_problems=pd.DataFrame(),
        context=pd.DataFrame(),
        snapshot=snapshot,
    )
    wb = openpyxl.load_workbook(path)
    seen = set()
    for cat in disc["category"].unique():
        for row in table(sheet(wb, cat), "Desa/Kelurahan"):
            linked = row["Status padan"] in (
                g.STATUS_PADAN_LABELS[c.PADAN],
                g.STATUS_PADAN_LABELS[c.PADAN_DENGAN_KOREKSI],
            )
            assert row["Tindakan"], (cat, row)
            assert not SNAKE.search(row["Keterangan"] or ""), row["Keterangan"]
            if linked:
                assert row["Nilai yang disarankan"], (cat, row)
                seen.add(cat)
    assert seen == set(disc["category"]) - {c.NIK_TIDAK_DITEMUKAN}
    by_cat = {cat: table(sheet(wb, cat), "Desa/Kelurahan") for cat in disc["category"].unique()}
    assert by_cat[c.NIK_TIDAK_VALID][0]["Nilai yang disarankan"] == "5203014101900001"
    assert by_cat[c.IDENTITAS_TIDAK_SESUAI][0]["Nilai yang disarankan"] == "nama: SITI AMINAH"
    assert by_cat[c.IDENTITAS_TIDAK_SESUAI][0]["Keterangan"] == "nama: usulan SITI, Dukcapil SITI AMINAH"
    assert by_cat[c.PEKERJAAN_TIDAK_LAYAK][0]["Status DTKS"] == "NONAKTIF (pekerjaan tidak layak)"
    assert (
        by_cat[c.BIODATA_TIDAK_SESUAI_NIK][0]["Nilai yang disarankan"]
        == "tanggal lahir: 01-01-1990; jenis kelamin: perempuan"
    )
    assert (
        by_cat[c.BIODATA_TIDAK_SESUAI_NIK][0]["Keterangan"]
        == "tanggal lahir: tersandi di NIK 01-01-..90, usulan 01-01-1991."
    )
    assert by_cat[c.NIK_TIDAK_DITEMUKAN][0]["Nilai yang disarankan"] is None  # not linked: nothing is known


def test_every_sheet_prints_on_a4(standard):
    path, _ = standard
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.paperSize == 9 and setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert "Halaman &P dari &N" in ws.oddFooter.right.text and "data pribadi" in ws.oddFooter.left.text
        shown = [
            ws.column_dimensions[get_column_letter(i)].width or 13
            for i in range(1, ws.max_column + 1)
            if not ws.column_dimensions[get_column_letter(i)].hidden
        ]
        assert sum(shown) <= MAX_PRINT_WIDTH[setup.orientation], (ws.title, sum(shown))
        if ws.title != SUMMARY_SHEET:
            assert ws.print_title_rows, ws.title  # the table's header on every page


def test_formula_looking_input_is_stored_as_text(tmp_path, inputs):
    disc = inputs["discrepancy"].copy()
    disc.loc[0, "nik"] = FORMULAS[0]
    disc.loc[1, "detail"] = FORMULAS[1]
    disc.loc[2, "suggested_value"] = FORMULAS[2]
    disc.loc[3, "detail"] = FORMULAS[3]
    disc.loc[4, "detail"] = FORMULAS[4]
    disc.loc[5, "detail"] = FORMULAS[5]
    ctx = inputs["context"].copy()
    ctx.loc[0, "nama"] = '=cmd|" /C calc"!A0'
    ctx.loc[1, "no_kk"] = "@SUM(A1)"
    problems = inputs["file_problems"].copy()
    problems.loc[0, "message"] = '=HYPERLINK("http://x","klik")'
    path = write(tmp_path, discrepancy=disc, row_outcome=inputs["row_outcome"], file_problems=problems, context=ctx)

    assert_no_formulas(path)
    values = {cell.value: cell for cell in all_cells(path) if isinstance(cell.value, str)}
    for text in (*FORMULAS, '=cmd|" /C calc"!A0', "@SUM(A1)", '=HYPERLINK("http://x","klik")'):
        assert text in values, text
        assert values[text].data_type == "s"
        assert values[text].quotePrefix  # Excel keeps it text even when the officer edits the cell


def test_empty_inputs(tmp_path):
    empty = pd.DataFrame()
    path = write(tmp_path, discrepancy=empty, row_outcome=empty, file_problems=empty, context=empty)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-len(c.CATEGORIES) - 1 : -1] == [sheet_name(cat) for cat in c.CATEGORIES]
    ws = wb[SUMMARY_SHEET]
    assert row_starting(ws, "Jumlah")[1] == 0
    assert all(r["Jumlah temuan"] == 0 for r in table(ws, "Kategori"))
    assert len(ws._charts) == 1
    for cat in c.CATEGORIES:
        assert table(sheet(wb, cat), "Desa/Kelurahan") == []
    assert table(wb[ALL_FINDINGS_SHEET], "Desa/Kelurahan") == []
    assert table(wb[FILE_PROBLEMS_SHEET], "Kecamatan") == []


def test_empty_frames_with_columns(tmp_path, inputs):
    frames = {k: v.iloc[0:0] for k, v in inputs.items()}
    path = write(tmp_path, **frames)
    ws = openpyxl.load_workbook(path)[SUMMARY_SHEET]
    assert row_starting(ws, "Jumlah")[1] == 0


def test_unknown_codes_and_extra_categories_do_not_break(tmp_path, inputs):
    disc = pd.concat(
        [
            inputs["discrepancy"],
            pd.DataFrame(
                [
                    ("9999999999", "2026Q3/submissions/5203/lain.csv", "7", "1", c.FORMAT_TIDAK_VALID, "x", None),
                    (None, None, None, None, "KATEGORI_BARU", "baru", None),
                ],
                columns=inputs["discrepancy"].columns,
            ),
        ],
        ignore_index=True,
    )
    path = write(tmp_path, **{**inputs, "discrepancy": disc})
    wb = openpyxl.load_workbook(path)
    assert "Kategori baru" in wb.sheetnames
    fmt = table(sheet(wb, c.FORMAT_TIDAK_VALID), "Desa/Kelurahan")
    assert fmt[0]["Kecamatan"] == "(tidak diketahui)" and fmt[0]["Kode desa"] == "9999999999"
    total = next(r for r in table(wb[SUMMARY_SHEET], "Kategori") if r["Kategori"] == "Jumlah")
    assert total["Jumlah temuan"] == len(disc)


def test_file_desa_is_used_when_row_code_is_missing(tmp_path, inputs):
    disc = inputs["discrepancy"].copy()
    disc.loc[disc["category"] == c.MENINGGAL, "kode_desa"] = None
    path = write(tmp_path, **{**inputs, "discrepancy": disc})
    rows = table(sheet(openpyxl.load_workbook(path), c.MENINGGAL), "Desa/Kelurahan")
    assert rows[0]["Kode desa"] == D3


def test_file_problems_sheet(standard):
    rows = table(standard[1][FILE_PROBLEMS_SHEET], "Kecamatan")
    assert rows == [
        {
            "Kecamatan": region_name(D3[:6]),
            "Kode desa": D3,
            "Desa/Kelurahan": desa_of_kabupaten(KAB)[D3],
            "Berkas": sf(D3, "xlsx"),
            "Status": "tidak dapat dibaca",
            "Keterangan": "Berkas tidak dapat dibuka (rusak).",
            "Catatan petugas": None,
        }
    ]


def test_workbook_is_deterministic(tmp_path, standard, inputs):
    path, wb = standard
    again = write(tmp_path, "again.xlsx", **inputs)
    assert again.read_bytes() == path.read_bytes()
    assert wb.properties.created == wb.properties.modified
    assert wb.properties.created.year == 2026 and wb.properties.created.month == 10


def test_control_characters_and_odd_types(tmp_path, inputs):
    disc = inputs["discrepancy"].copy()
    disc.loc[0, "detail"] = "a\x00b\x1fc\ufffe"
    disc["source_row"] = disc["source_row"].astype(int)  # ints instead of strings still join
    ctx = inputs["context"].copy()
    ctx["no_kk"] = ctx["no_kk"].astype(float)  # an ID read as float keeps its 16 digits, no ".0"
    path = write(tmp_path, **{**inputs, "discrepancy": disc, "context": ctx})
    rows = table(sheet(openpyxl.load_workbook(path), c.GANDA), "Desa/Kelurahan")
    assert rows[0]["Keterangan"] == "abc"
    assert rows[0]["Nama"] == "SITI AMINAH"
    assert rows[0]["No. KK"] == "5203010101000001"


def test_readable_text():
    names = {D1: "Desa Satu"}.get
    assert rd.readable("tanggal_lahir (usulan: 2023-01-01; Dukcapil: 2023-12-05)") == (
        "tanggal lahir: usulan 01-01-2023, Dukcapil 05-12-2023"
    )
    assert (
        rd.readable(f"Data ganda dengan: {sf(D1)} baris 17", names)
        == f"Data ganda dengan: desa Desa Satu ({D1}.csv) baris 18"
    )
    assert rd.readable("Nomor KK wajib diisi; no_kk kosong") == "Nomor KK wajib diisi; nomor KK kosong"
    assert "YYYY" not in rd.readable("bukan tanggal yang valid dalam format YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY.")
    assert rd.shown_row(1) == 2 and rd.shown_row("12") == 13 and rd.shown_row(None) is None
    assert (
        rd.bullet_list(["NIK kosong.", "NIK kosong.", "Nomor KK wajib diisi."])
        == "• NIK kosong.\n• Nomor KK wajib diisi."
    )


# --- desa feedback ------------------------------------------------------------------------------------


@pytest.fixture
def feedback_rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("3", "", "BUDI", c.OUTCOME_QUARANTINED, None, None, None,
             f"{c.NIK_TIDAK_VALID};{c.DATA_TIDAK_LENGKAP}", "Tanggal lahir wajib diisi.\nNIK kosong."),
            ("1", "5203014101900001", "SITI AMINAH", c.OUTCOME_PUBLISHED, c.PADAN, "p1", None, c.GANDA,
             "@SUM(A1)"),
            ("2", "5203014101900099", "AHMAD", c.OUTCOME_MERGED, c.PADAN_DENGAN_KOREKSI, "p2",
             f"{sf(D1)}:1", f"{c.GANDA};{c.NIK_BERBEDA}", None),
            ("10", "+62812", '=HYPERLINK("x")', c.OUTCOME_MERGED, c.PADAN, "p1", f"{sf(D2)}:1", c.GANDA,
             None),
        ],
        columns=["source_row", "nik", "nama", "outcome", "status_padan", "person_key", "merged_into",
                 "categories", "reasons"],
    )  # fmt: skip


def write_feedback(tmp_path: Path, rows: pd.DataFrame, name: str = "fb.xlsx") -> Path:
    return write_desa_feedback(tmp_path / name, kode_desa=D1, quarter=QUARTER, run_id=RUN, rows=rows)


def test_feedback_header_and_rows(tmp_path, feedback_rows):
    path = write_feedback(tmp_path, feedback_rows)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Hasil Usulan", "Siap Kirim Ulang", "Perubahan KK"]
    ws = wb["Hasil Usulan"]
    assert desa_of_kabupaten(KAB)[D1] in header_value(ws, "Desa/Kelurahan")
    assert header_value(ws, "Kecamatan") == region_name(D1[:6])
    assert header_value(ws, "Kabupaten/Kota") == region_name(KAB)
    assert QUARTER in header_value(ws, "Periode")
    assert header_value(ws, "Tanggal proses") == "1 Oktober 2026"  # the run's day in WITA, not its UTC id
    block = rows_of(ws)[: next(i for i, r in enumerate(rows_of(ws)) if r[0] == "Baris")]
    assert all(RUN not in str(v) for r in block for v in r)  # no run id in the header block
    assert {r["ID proses"] for r in table(ws, "Baris")} == {RUN}  # kept for support, in a hidden column
    assert ws.column_dimensions[get_column_letter(fb.HEADERS.index("ID proses") + 1)].hidden
    assert fb.processed_on("manual__2026-10-01T18:30:00+00:00", QUARTER, D1) == "2 Oktober 2026"  # 02.30 WITA
    assert header_value(ws, "Ringkasan").startswith("4 baris usulan: 1 diterima, 2 digabung")
    assert header_value(ws, "Perlu tindakan") == "4 baris (bertanda 'YA')."

    rows = table(ws, "Baris")
    assert [r["Baris"] for r in rows] == [2, 3, 4, 11]  # in row order, as Excel numbers them (header = 1)
    by_row = {r["Baris"]: r for r in rows}
    assert by_row[2]["Hasil"] == "diterima" and by_row[2]["Perlu tindakan"] == "YA"
    assert by_row[2]["Status padan"] == g.STATUS_PADAN_LABELS[c.PADAN]
    assert by_row[2]["Temuan"] == g.GUIDANCE[c.GANDA].title
    assert by_row[3]["Hasil"] == "digabung sebagai data ganda"
    assert by_row[3]["Digabung dengan"] == "baris 2"  # same desa's file
    assert by_row[3]["Alasan"] == "Digabung ke baris 2 (baris yang dipertahankan)."
    assert by_row[3]["Temuan"] == f"• {g.GUIDANCE[c.GANDA].title}\n• {g.GUIDANCE[c.NIK_BERBEDA].title}"
    assert by_row[4]["Hasil"] == "dikarantina"
    assert by_row[4]["Alasan"] == "• Tanggal lahir wajib diisi.\n• NIK kosong."  # one per line, each once
    assert by_row[4]["Status padan"] == g.STATUS_PADAN_EMPTY
    assert g.GUIDANCE[c.DATA_TIDAK_LENGKAP].desa_advice in by_row[4]["Saran perbaikan"]
    assert by_row[11]["Digabung dengan"] == f"baris 2 pada usulan desa {desa_of_kabupaten(KAB)[D2]} ({D2})"
    header = next(r for r in ws.iter_rows() if r[0].value == "Baris")
    assert ws.freeze_panes == f"A{header[0].row + 1}"
    nik_col = next(cell.column for cell in header if cell.value == "NIK")
    for (cell,) in ws.iter_rows(min_row=header[0].row + 1, min_col=nik_col, max_col=nik_col):
        if cell.value:
            assert cell.data_type == "s" and cell.number_format == "@"
    assert g.CHANGES_FIRST_QUARTER in str(rows_of(wb["Perubahan KK"]))  # no earlier quarter: it says so


def test_feedback_neutralises_formulas(tmp_path, feedback_rows):
    path = write_feedback(tmp_path, feedback_rows)
    assert_no_formulas(path)
    values = {cell.value: cell for cell in all_cells(path) if isinstance(cell.value, str)}
    for text in ("+62812", '=HYPERLINK("x")', "@SUM(A1)"):
        assert values[text].data_type == "s" and values[text].quotePrefix


def test_feedback_empty_and_deterministic(tmp_path, feedback_rows):
    path = write_feedback(tmp_path, pd.DataFrame())
    ws = openpyxl.load_workbook(path)["Hasil Usulan"]
    assert "Tidak ada baris usulan" in header_value(ws, "Ringkasan")
    assert table(ws, "Baris") == []
    a = write_feedback(tmp_path, feedback_rows, "a.xlsx")
    b = write_feedback(tmp_path, feedback_rows, "b.xlsx")
    assert a.read_bytes() == b.read_bytes()


def test_merged_reference_forms():
    # data row 12 is row 13 in Excel (the header is row 1)
    assert merged_reference(f"{sf(D1)}:12", D1) == "baris 13"
    assert merged_reference(f"{sf(D1, 'xlsx')}#12", D1) == "baris 13"
    assert merged_reference("12", D1) == "baris 13"
    assert merged_reference(f"{sf(D1)} baris 3", D1) == "baris 4"  # the form pipelines.stages passes
    assert merged_reference(f"{sf(D2)}/7", D1).startswith("baris 8 pada usulan desa ")
    assert (
        merged_reference(f"{QUARTER}/submissions/{KAB}/lain.csv baris 1", D1) == "baris 2 pada usulan berkas lain.csv"
    )
    assert merged_reference("sesuatu yang lain", D1) == "sesuatu yang lain"
    assert merged_reference(None, D1) is None


# --- speed-ups that must not change the output -------------------------------------------------------

ODD_VALUES = [*FORMULAS, " a", "a&<b>", "x\x00y", "", None, float("nan"), pd.NA, 1, True, 1.0, -0.0, 0.0, 12, "12"]


def test_map_distinct_equals_a_call_per_value():
    # 1, True and 1.0 are equal in Python but written differently: they must not share a cached result
    assert x.map_distinct(ODD_VALUES, repr) == [repr(v) for v in ODD_VALUES]


def test_fast_rows_extend_equals_append():
    columns = [ODD_VALUES, ODD_VALUES[::-1], list(range(len(ODD_VALUES)))]
    by_row, by_column = (
        x.FastRows(Workbook(write_only=True).create_sheet("s"), 5, 3, id_columns=[1], number_columns=[0])
        for _ in range(2)
    )
    for record in zip(*columns, strict=True):
        by_row.append(record)
    by_column.extend(columns)
    assert by_column.xml() == by_row.xml() and by_column.next_row == by_row.next_row == 5 + len(ODD_VALUES)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([3, 1, 2]),
        pd.Series([1, None], dtype="Int64"),
        pd.Series([1.0, float("nan")]),
        pd.Series(["2", "2a", None], dtype="object"),
        pd.Series([2**60]),
    ],
)
def test_row_numbers_equal_row_number_per_value(values):
    assert repr(x.row_numbers(values)) == repr(values.map(x.row_number).tolist())


def test_reports_stage_reads_only_its_kabupaten(tmp_path):
    from pipelines.stages.reporting import _read_kabupaten

    frame = pd.DataFrame({"source_file": [sf(D1), "2026Q3/submissions/5201/x.csv", sf(D2), None], "v": [1, 2, 3, 4]})
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    assert _read_kabupaten(tmp_path / "t.parquet", f"{QUARTER}/submissions/{KAB}/")["v"].tolist() == [1, 3]
    empty = pd.DataFrame({"source_file": pd.Series([], dtype="object")})  # stored with the null type
    empty.to_parquet(tmp_path / "e.parquet", index=False)
    assert _read_kabupaten(tmp_path / "e.parquet", f"{QUARTER}/submissions/{KAB}/").empty


# --- guidance -----------------------------------------------------------------------------------------


def test_every_category_has_indonesian_guidance():
    assert set(c.CATEGORIES) <= set(g.GUIDANCE)
    titles = [g.GUIDANCE[cat].title for cat in c.CATEGORIES]
    assert len(set(titles)) == len(titles)
    for cat in c.CATEGORIES:
        guide = g.GUIDANCE[cat]
        assert guide.meaning and guide.actions and guide.desa_advice and guide.short
    assert g.OUTCOME_LABELS == {
        c.OUTCOME_PUBLISHED: "diterima",
        c.OUTCOME_MERGED: "digabung sebagai data ganda",
        c.OUTCOME_QUARANTINED: "dikarantina",
    }
    assert set(g.STATUS_PADAN_LABELS) == set(c.STATUS_PADAN)
    assert g.quarter_label("2026Q1") == "Triwulan I 2026"
    assert g.guidance_for("BELUM_ADA").actions  # unknown categories get a generic text


def test_new_category_gets_its_sheet_and_wording(tmp_path, inputs):
    """A category another stage adds (here the NIK's encoded birth date against the row) is handled like
    the contract's: its own sheet with Indonesian guidance, a summary row and a column per desa."""
    new = "BIODATA_TIDAK_SESUAI_NIK"
    extra = pd.DataFrame(
        [(D1, sf(D1), "1", "5203014101900001", new, "tanggal lahir pada NIK: 1990-01-41", None)],
        columns=inputs["discrepancy"].columns,
    )
    disc = pd.concat([inputs["discrepancy"], extra], ignore_index=True)
    wb = openpyxl.load_workbook(write(tmp_path, **{**inputs, "discrepancy": disc}))
    guide = g.guidance_for(new)
    assert guide.short in wb.sheetnames and wb.sheetnames[-1] == FILE_PROBLEMS_SHEET
    assert guide.title == "Biodata tidak sesuai dengan NIK"
    assert row_starting(wb[guide.short], "Arti")[1] == guide.meaning
    assert [r["Baris"] for r in table(wb[guide.short], "Desa/Kelurahan")] == [2]
    by_title = {r["Kategori"]: r for r in table(wb[SUMMARY_SHEET], "Kategori")}
    assert by_title[guide.title]["Jumlah temuan"] == 1
    per_desa = {r["Kode desa"]: r for r in table(wb[DESA_SHEET], "Kecamatan")}
    assert per_desa[D1][guide.short] == 1


# --- desa feedback: what the pipeline passes in -------------------------------------------------------


def test_feedback_file_names_never_collide():
    files = [sf(D1), sf(D1, "xlsx"), sf(D2), f"{QUARTER}/submissions/{KAB}/nama aneh!.csv"]
    names = feedback_file_names(files, QUARTER)
    assert names[sf(D2)] == f"hasil_usulan_{D2}_{QUARTER}.xlsx"  # one file: the usual name
    assert names[sf(D1)] == f"hasil_usulan_{D1}_csv_{QUARTER}.xlsx"
    assert names[sf(D1, "xlsx")] == f"hasil_usulan_{D1}_xlsx_{QUARTER}.xlsx"
    assert names[files[3]] == f"hasil_usulan_nama_aneh__{QUARTER}.xlsx"
    assert len(set(names.values())) == len(files)
    upper = feedback_file_names([sf(D1), sf(D1).replace(".csv", ".CSV")], QUARTER)
    assert len({n.lower() for n in upper.values()}) == 2


def test_desa_reason_never_shows_another_persons_data():
    detail = "nama (usulan: SITI; Dukcapil: RINA WATI); tanggal_lahir (usulan: 1990-01-01; Dukcapil: 1971-02-03)"
    reason = desa_reason(c.IDENTITAS_TIDAK_SESUAI, detail)
    assert reason == "Berbeda dengan data Dukcapil: nama, tanggal lahir."
    assert "RINA" not in reason and "1971" not in reason
    assert desa_reason(c.MENINGGAL, "Tercatat meninggal di Dukcapil pada 2024-05-06").endswith("06-05-2024")
    assert desa_reason("KATEGORI_BARU", "apa saja") is None  # unknown categories: title and advice only


def test_feedback_rows_join_outcomes_findings_and_quarantine(inputs):
    quarantine = pd.DataFrame(
        {
            "source_file": [sf(D1)],
            "source_row": ["3"],
            "reasons": [
                json.dumps(
                    [
                        {
                            "category": c.DATA_TIDAK_LENGKAP,
                            "field": "tanggal_lahir",
                            "message": "Tanggal lahir wajib diisi.",
                        },
                        {"category": c.NIK_TIDAK_VALID, "field": "nik", "message": "NIK kosong."},
                    ]
                )
            ],
        }
    )
    ro = inputs["row_outcome"].assign(merged_into_file=None, merged_into_row=None)
    ro.loc[3, ["merged_into_file", "merged_into_row"]] = [sf(D1), 1]
    ctx = inputs["context"].assign(nik=["5203014101900001", "5203014101900099", "5203014101900001", "5203014101900005"])
    rows = fb.feedback_rows(ro, ctx, inputs["discrepancy"], quarantine).set_index(["source_file", "source_row"])
    assert len(rows) == len(ro)  # every submitted row, once
    assert rows.loc[(sf(D1), "3"), "reasons"] == "Tanggal lahir wajib diisi.\nNIK kosong."  # quarantine reasons once
    assert rows.loc[(sf(D1), "3"), "categories"] == f"{c.NIK_TIDAK_VALID};{c.DATA_TIDAK_LENGKAP}"
    assert rows.loc[(sf(D2), "1"), "merged_into"] == f"{sf(D1)} baris 1"
    assert rows.loc[(sf(D1), "2"), "reasons"] == "NIK berbeda\nKK berbeda"
    # the person's own Dukcapil NIK and KK, for the advice and the ready-to-resubmit sheet
    assert rows.loc[(sf(D1), "2"), "fix_nik"] == "5203014101900002"
    assert rows.loc[(sf(D1), "2"), "fix_no_kk"] == "5203010101000009"
    assert rows.loc[(sf(D3), "2"), "fix_nonaktif"] == "MENINGGAL"
    assert rows.loc[(sf(D1), "1"), "nama"] == "SITI AMINAH"
    assert pd.isna(rows.loc[(sf(D3), "1"), "nama"])  # no context: empty, not an error


def test_feedback_names_the_file_and_its_problem(tmp_path, feedback_rows):
    path = write_desa_feedback(
        tmp_path / "x.xlsx",
        kode_desa=D1,
        quarter=QUARTER,
        run_id=RUN,
        rows=pd.DataFrame(),
        source_file=sf(D1, "xlsx"),
        file_status="UNREADABLE",
        file_problems=["Berkas XLSX rusak atau bukan XLSX."],
    )
    ws = openpyxl.load_workbook(path)["Hasil Usulan"]
    assert header_value(ws, "Berkas usulan") == f"{D1}.xlsx"
    assert header_value(ws, "Status berkas") == "Tidak dapat dibaca. Berkas XLSX rusak atau bukan XLSX."
    assert "Tidak ada baris usulan" in header_value(ws, "Ringkasan")
    # a merged row of the desa's .xlsx that points at its .csv names the other file
    rows = feedback_rows_for_merge(feedback_rows)
    path = write_desa_feedback(
        tmp_path / "y.xlsx", kode_desa=D1, quarter=QUARTER, run_id=RUN, rows=rows, source_file=sf(D1, "xlsx")
    )
    by_row = {r["Baris"]: r for r in table(openpyxl.load_workbook(path)["Hasil Usulan"], "Baris")}
    assert by_row[3]["Digabung dengan"] == f"baris 2 pada berkas {D1}.csv"
    assert merged_reference(f"{sf(D1, 'xlsx')} baris 4", D1, sf(D1, "xlsx")) == "baris 5"


def feedback_rows_for_merge(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(merged_into=rows["merged_into"].str.replace(":", " baris ", regex=False))


# --- counts, HTML summary, e-mail content -------------------------------------------------------------


def kab_counts(inputs: dict[str, pd.DataFrame]) -> dict:
    files = [
        {"source_file": sf(D1), "kode_desa": D1, "status": "ACCEPTED", "format": "csv", "problems": []},
        {"source_file": sf(D2), "kode_desa": D2, "status": "ACCEPTED", "format": "csv", "problems": []},
        {"source_file": sf(D3), "kode_desa": D3, "status": "ACCEPTED", "format": "csv", "problems": []},
        {
            "source_file": sf(D3, "xlsx"),
            "kode_desa": D3,
            "status": "UNREADABLE",
            "format": "xlsx",
            "problems": [{"code": "rusak", "message": "Berkas rusak; NIK 5203014101900001 di sel A2."}],
        },
    ]
    quarantine = pd.DataFrame(
        {
            "source_file": [sf(D1)],
            "source_row": ["3"],
            "reasons": [json.dumps([{"category": c.DATA_TIDAK_LENGKAP, "field": "tanggal_lahir", "message": "x"}])],
        }
    )
    return count_kabupaten(
        KAB,
        row_outcome=inputs["row_outcome"],
        discrepancy=inputs["discrepancy"],
        quarantine=quarantine,
        files=files,
    )


def test_counts_equal_inputs(inputs):
    counts = kab_counts(inputs)
    ro, disc = inputs["row_outcome"], inputs["discrepancy"]
    assert counts["rows"] == len(ro) and counts["name"] == region_name(KAB)
    assert counts["outcomes"] == {o: int((ro["outcome"] == o).sum()) for o in c.OUTCOMES}
    assert counts["status_padan"][c.PADAN] == (ro["status_padan"] == c.PADAN).sum()
    assert list(counts["findings"]) == list(c.CATEGORIES)
    assert counts["findings"][c.GANDA] == 2 and counts["findings_total"] == len(disc)
    assert counts["rows_with_findings"] == len(disc[["source_file", "source_row"]].drop_duplicates())
    keruak = counts["areas"][D1[:6]]
    assert keruak["rows"] == 5 and keruak["findings"][c.GANDA] == 2
    assert sum(a["rows"] for a in counts["areas"].values()) == len(ro)
    assert counts["quarantine_reasons"] == [{"category": c.DATA_TIDAK_LENGKAP, "field": "tanggal_lahir", "rows": 1}]
    assert counts["files"] == 4 and counts["desa_with_files"] == 3
    assert counts["file_statuses"] == {"ACCEPTED": 3, "UNREADABLE": 1}
    assert counts["file_problems"][0]["messages"] == ["Berkas rusak; NIK 5203********0001 di sel A2."]
    json.dumps(counts)  # travels as a stage summary

    twice = combine([counts, counts])
    assert twice["rows"] == 2 * len(ro) and twice["findings"][c.GANDA] == 4
    assert twice["quarantine_reasons"][0]["rows"] == 2 and twice["kabupaten"] == 2
    assert list(twice["areas"]) == [KAB]


def assert_self_contained(page: str) -> None:
    lowered = page.lower()
    for forbidden in ("<script", "http://", "https://", "src=", "href=", "@import", "url(", "<link", "<iframe"):
        assert forbidden not in lowered, forbidden
    assert "default-src 'none'" in page  # the browser may load nothing at all
    assert '<html lang="id">' in page and '<meta charset="utf-8">' in page


def assert_no_personal_data(page: str, inputs: dict[str, pd.DataFrame]) -> None:
    assert not re.search(r"(?<!\d)\d{16}(?!\d)", page), "a 16-digit number (NIK/KK) in the page"
    for name in inputs["context"]["nama"]:
        assert name not in page


def test_html_summary_of_a_kabupaten(inputs, tmp_path):
    counts = kab_counts(inputs)
    info = RunInfo(RUN, QUARTER, "0.1.0+gabc", "2026-10-01T02:03:04+00:00", {"ingest": 1.2, "link": 75.0})
    page = render_kabupaten(counts, info)
    assert_self_contained(page)
    assert_no_personal_data(page, inputs)
    for text in (
        "Ringkasan Hasil Pemutakhiran dan Pemadanan Data DTKS",
        region_name(KAB),
        "Triwulan III 2026",
        RUN,
        "0.1.0+gabc",
        "Hasil pemrosesan baris usulan",
        "Status padan dengan Dukcapil",
        "Temuan per kategori",
        "per kecamatan",
        region_name(D1[:6]),
        "Alasan karantina",
        "Berkas bermasalah",
        "tidak dapat dibaca",
        "Waktu per tahap",
        "1 menit 15 detik",
        g.GUIDANCE[c.GANDA].title,
    ):
        assert escape(text) in page, text
    charts = re.findall(r'<figure class="bars".*?</figure>', page, re.S)
    assert len(charts) >= 6
    for chart in charts:
        ElementTree.fromstring(chart)  # well-formed
    assert escape("Digabung sebagai data ganda") in page and ">7<" in page  # rows in
    path = write_html(tmp_path / "k.html", page)
    assert path.read_text(encoding="utf-8") == page


def test_html_summary_of_the_run(inputs):
    counts = kab_counts(inputs)
    gate = {"passed": True, "quarter_quarantine_share": 0.0123}
    info = RunInfo(RUN, QUARTER, "v", None, {"decide": 3.0}, dukcapil_rows=1_040_000, dukcapil_excluded=12, gate=gate)
    page = render_run(combine([counts]), info)
    assert_self_contained(page)
    assert_no_personal_data(page, inputs)
    for text in ("1 kabupaten/kota", "per kabupaten/kota", "52.03", "1.040.000", "lulus", "1,2%", f"{D3}.xlsx"):
        assert escape(text) in page, text


def test_kabupaten_message(inputs, tmp_path):
    counts = kab_counts(inputs)
    files = [tmp_path / "laporan_dtks_5203_2026Q3.xlsx", tmp_path / "ringkasan_5203_2026Q3.html"]
    message = kabupaten_message(
        counts,
        run_id=RUN,
        quarter=QUARTER,
        code_version="v",
        to=["a@lotim.go.id"],
        cc=["a@lotim.go.id", "prov@ntb.go.id"],
        attachments=files,
        feedback_note="Berkas hasil usulan desa tersedia di folder laporan.",
        msgid_domain="ntb.go.id",
    )
    assert message.subject == "[DTKS] Laporan hasil pemutakhiran Triwulan III 2026 (2026Q3) - Kabupaten Lombok Timur"
    assert message.cc == ("prov@ntb.go.id",)  # nobody twice
    for text in ("Yth. Tim Data Dinas Sosial", "telah diterbitkan", "Dikarantina", "data pribadi", RUN, files[0].name):
        assert escape(text) in message.html, text
    assert message.headers["X-DTKS-Run-Id"] == RUN and message.headers["Message-ID"].endswith("@ntb.go.id>")
    assert_no_personal_data(message.html, inputs)


def test_delivery_settings_are_checked():
    settings = DeliverySettings(recipients={5203: "a@lotim.go.id; b@lotim.go.id", "52.01": ["c@lobar.go.id"]})
    assert settings.recipients == {"5203": ("a@lotim.go.id", "b@lotim.go.id"), "5201": ("c@lobar.go.id",)}
    assert settings.smtp_conn_id == "smtp_default" and settings.enabled and not settings.attach_desa_feedback
    bad = {
        "delivery.recipients": {"recipients": {"52": ["a@b"]}},
        "delivery.cc": {"cc": ["bukan-alamat"]},
        "delivery.max_attachment_mb": {"max_attachment_mb": 0},
    }
    for path, setting in bad.items():
        with pytest.raises(ValueError, match=path):
            load_config({"delivery": setting})
    merged = load_config({"delivery": {"recipients": {"5203": ["a@lotim.go.id"]}, "cc": "p@ntb.go.id"}}).delivery
    assert merged.recipients["5203"] == ("a@lotim.go.id",) and merged.cc == ("p@ntb.go.id",)


def test_village_file_gives_the_persons_own_dukcapil_values_and_a_sheet_to_resubmit(tmp_path, inputs):
    """The operator reads the Dukcapil NIK and KK of the person (not "see the Dinsos report"), sees the
    value written wrong, and gets the rows to fix in the submission's columns, corrected where Dukcapil
    supports it, ready to send again."""
    quarantine = pd.DataFrame(
        {
            "source_file": [sf(D1)],
            "source_row": ["3"],
            "raw_fields": [json.dumps({"tanggal_lahir": "31-02-1990", "nama": "BUDI"})],
            "reasons": [
                json.dumps(
                    [
                        {
                            "category": c.FORMAT_TIDAK_VALID,
                            "field": "tanggal_lahir",
                            "message": "Tanggal lahir tidak valid.",
                        }
                    ]
                )
            ],
        }
    )
    ro = inputs["row_outcome"].assign(merged_into_file=None, merged_into_row=None)
    ctx = inputs["context"].assign(nik=["5203014101900001", "5203014101900099", "5203014101900001", "5203014101900005"])
    rows = fb.feedback_rows(ro, ctx, inputs["discrepancy"], quarantine)
    submitted = pd.DataFrame(
        [
            {**dict.fromkeys(c.SUBMISSION_COLUMNS), "source_row": 1, "nik": "5203014101900001", "nama": "SITI AMINAH"},
            {**dict.fromkeys(c.SUBMISSION_COLUMNS), "source_row": 2, "nik": "5203014101900099", "nama": "AHMAD",
             "no_kk": "5203010101000002", "kode_desa": D1, "status_usulan": "TETAP"},
            {**dict.fromkeys(c.SUBMISSION_COLUMNS), "source_row": 3, "nama": "BUDI", "tanggal_lahir": "31-02-1990"},
        ]
    )  # fmt: skip
    path = write_desa_feedback(
        tmp_path / "v.xlsx",
        kode_desa=D1,
        quarter=QUARTER,
        run_id=RUN,
        rows=rows[rows["source_file"] == sf(D1)],
        source_file=sf(D1),
        submitted=submitted,
    )
    wb = openpyxl.load_workbook(path)
    by_row = {r["Baris"]: r for r in table(wb["Hasil Usulan"], "Baris")}
    ahmad = by_row[3]
    assert ahmad["Perlu tindakan"] == "YA"
    assert ahmad["Data menurut Dukcapil"] == "NIK: 5203014101900002\nNo. KK: 5203010101000009"
    assert "Tulis NIK 5203014101900002" in ahmad["Saran perbaikan"]
    assert "lihat laporan Dinas Sosial" not in ahmad["Saran perbaikan"]
    assert by_row[4]["Alasan"].startswith("• Tanggal lahir tidak valid. Tertulis: '31-02-1990'.\n")  # echoed
    resubmit = table(wb["Siap Kirim Ulang"], "kode_desa")
    assert [r["Baris asal"] for r in resubmit] == [2, 3, 4]  # only rows to fix
    fixed = next(r for r in resubmit if r["Baris asal"] == 3)
    assert fixed["nik"] == "5203014101900002" and fixed["no_kk"] == "5203010101000009"
    assert fixed["nama"] == "AHMAD" and fixed["status_usulan"] == "TETAP" and fixed["kode_desa"] == D1
    assert list(resubmit[0])[: len(c.SUBMISSION_COLUMNS)] == list(c.SUBMISSION_COLUMNS)  # the contract's layout


def test_the_workbook_shows_the_suggestion_decided_with_the_finding(tmp_path, inputs):
    """`discrepancy.suggestion` (migration 0009) is what the workbook shows, not worked out again."""
    inputs["discrepancy"]["suggestion"] = [f"saran {i}" for i in range(len(inputs["discrepancy"]))]
    wb = openpyxl.load_workbook(write(tmp_path, **inputs))
    shown = {r["Nilai yang disarankan"] for r in table(wb[sheet_name(c.MENINGGAL)], "Desa/Kelurahan")}
    assert shown == {"saran 8"}
    every_row = table(wb[ALL_FINDINGS_SHEET], "Desa/Kelurahan")
    d = inputs["discrepancy"]
    assert len(every_row) == len(set(zip(d["source_file"], d["source_row"], strict=True)))  # one per row
    assert any(
        "saran 2" in (r["Nilai yang disarankan"] or "") and "saran 3" in r["Nilai yang disarankan"] for r in every_row
    )


def test_a_date_in_wrapped_text_is_never_split(tmp_path, inputs):
    """LibreOffice broke "28-02-" / "2026" across lines in a wrapped cell: its hyphens are non-breaking."""
    wb = openpyxl.load_workbook(write(tmp_path, **inputs))
    cells = [cell for row in wb[sheet_name(c.MENINGGAL)].iter_rows() for cell in row if isinstance(cell.value, str)]
    wrapped = [cell.value for cell in cells if cell.alignment.wrap_text]
    assert any(f"01{x.NON_BREAKING_HYPHEN}02{x.NON_BREAKING_HYPHEN}2025" in t for t in wrapped)
    assert not any(re.search(r"\d{2}-\d{2}-\d{4}", t) for t in wrapped)
    assert x.keep_dates_whole("lahir 05-12-1980, NIK 5203-0101") == "lahir 05\u201112\u20111980, NIK 5203-0101"
