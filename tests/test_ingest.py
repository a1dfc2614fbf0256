"""Reading village files exactly as typed: delimiters, BOM, encodings, XLSX cells, blank rows, bad headers."""

import datetime as dt
import io

import pandas as pd
import pytest
from openpyxl import Workbook

from pipelines.discover import discover_quarter
from pipelines.ingest.intake import ACCEPTED, EMPTY, REJECTED, UNREADABLE, header_key, ingest_submissions
from pipelines.ingest.readers import read_csv_bytes, read_xlsx_bytes

HEADER = "kode_desa,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan_keluarga,status_usulan"
ROW = "5203012001,5203010101150001,5203011508800001,LALU AHMAD,L,1980-08-15,KEPALA KELUARGA,TETAP"


def landing(tmp_path, files: dict[str, bytes]):
    root = tmp_path / "landing"
    for name, data in files.items():
        path = root / "2026Q3" / "submissions" / "5203" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    extract = root / "2026Q3" / "dukcapil" / "5203.csv"
    extract.parent.mkdir(parents=True, exist_ok=True)
    extract.write_text("NIK,NO_KK,NAMA_LGKP,JENIS_KLMIN,TGL_LHR,NO_PROP,NO_KAB,NO_KEC,NO_KEL\n")
    return root


def ingest(tmp_path, files):
    found = discover_quarter(landing(tmp_path, files), "2026Q3")
    return ingest_submissions([f for f in found if f.kind == "submission"])


def test_semicolon_bom_and_crlf(tmp_path):
    data = ("\ufeff" + HEADER.replace(",", ";") + "\r\n" + ROW.replace(",", ";") + "\r\n").encode("utf-8")
    rows, reports = ingest(tmp_path, {"5203012001.csv": data})
    assert reports[0].delimiter == ";" and reports[0].status == ACCEPTED
    assert rows.loc[0, "nama"] == "LALU AHMAD" and rows.loc[0, "source_row"] == 1
    assert rows.loc[0, "source_file"] == "2026Q3/submissions/5203/5203012001.csv"


def test_quoted_newline_is_one_record(tmp_path):
    row = ROW.replace("LALU AHMAD", '"LALU\nAHMAD"')
    rows, _ = ingest(tmp_path, {"5203012001.csv": f"{HEADER}\n{row}\n{ROW}\n".encode()})
    assert rows["source_row"].tolist() == [1, 2]


def test_blank_rows_keep_numbering_but_are_not_data_rows(tmp_path):
    rows, reports = ingest(tmp_path, {"5203012001.csv": f"{HEADER}\n{ROW}\n,,,,,,,\n{ROW}\n\n\n".encode()})
    assert rows["source_row"].tolist() == [1, 3]
    assert (reports[0].data_rows, reports[0].blank_rows) == (2, 1)


def test_latin1_file_is_read_and_flagged(tmp_path):
    data = f"{HEADER}\n{ROW.replace('LALU AHMAD', 'JOSÉ')}\n".encode("cp1252")
    rows, reports = ingest(tmp_path, {"5203012001.csv": data})
    assert rows.loc[0, "nama"] == "JOSÉ"
    assert reports[0].encoding == "cp1252" and reports[0].problems[0]["code"] == "encoding_bukan_utf8"


def test_missing_required_column_rejects_the_file_but_keeps_its_rows(tmp_path):
    header = HEADER.replace(",nama", "")
    row = ROW.replace(",LALU AHMAD", "")
    rows, reports = ingest(tmp_path, {"5203012001.csv": f"{header}\n{row}\n{row}\n".encode()})
    assert reports[0].status == REJECTED and reports[0].rejection_category == "DATA_TIDAK_LENGKAP"
    assert len(rows) == 2 and set(rows["_file_rejection"]) == {"DATA_TIDAK_LENGKAP"}


def test_duplicate_header_rejects(tmp_path):
    _rows, reports = ingest(tmp_path, {"5203012001.csv": f"{HEADER},NAMA\n{ROW},X\n".encode()})
    assert reports[0].status == REJECTED and "kolom_ganda" in [p["code"] for p in reports[0].problems]


def test_header_only_and_empty(tmp_path):
    rows, reports = ingest(tmp_path, {"5203012001.csv": f"{HEADER}\n".encode(), "5203012002.csv": b""})
    assert [r.status for r in reports] == [EMPTY, EMPTY] and rows.empty


def test_corrupt_xlsx_is_unreadable(tmp_path):
    _rows, reports = ingest(tmp_path, {"5203012001.xlsx": b"PK\x03\x04 not really a zip"})
    assert reports[0].status == UNREADABLE and reports[0].sha256


def test_xlsx_cells(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            " KODE_DESA ",
            "No KK",
            "NIK",
            "Nama",
            "jenis_kelamin",
            "tanggal_lahir",
            "hubungan_keluarga",
            "status_usulan",
            None,
        ]
    )
    ws.append(
        [
            "5203012001",
            "5203010101150001",
            "5203011508800001",
            "LALU",
            "L",
            dt.datetime(1980, 8, 15),
            "ANAK",
            "BARU",
            None,
        ]
    )
    ws.append([None] * 8)
    buffer = io.BytesIO()
    wb.save(buffer)
    rows, reports = ingest(tmp_path, {"5203012001.xlsx": buffer.getvalue()})
    assert reports[0].status == ACCEPTED
    assert rows.loc[0, "tanggal_lahir"] == "1980-08-15" and rows.loc[0, "no_kk"] == "5203010101150001"


def test_extra_values_beyond_the_header_are_kept_and_flagged():
    table = read_csv_bytes(f"{HEADER}\n{ROW},PKH,BPNT\n".encode())
    assert len(table.rows[0]) == 10


def test_file_name_problems(tmp_path):
    found = discover_quarter(
        landing(tmp_path, {"desa-baru.csv": b"x", "5201012001.csv": b"x", "~$5203012001.xlsx": b""}), "2026Q3"
    )
    problems = {f.source_file.rsplit("/", 1)[1]: [p[0] for p in f.problems] for f in found if f.kind == "submission"}
    assert problems == {"5201012001.csv": ["desa_di_luar_kabupaten"], "desa-baru.csv": ["nama_berkas_tidak_sesuai"]}


@pytest.mark.parametrize(("raw", "key"), [(" Kode Desa ", "kode_desa"), ("NO-KK", "no_kk"), ("\ufeffnik", "nik")])
def test_header_keys(raw, key):
    assert header_key(raw) == key


def test_xlsx_reader_drops_trailing_empty_columns():
    wb = Workbook()
    wb.active.append(["nik", "nama", None, None])
    buffer = io.BytesIO()
    wb.save(buffer)
    assert read_xlsx_bytes(buffer.getvalue()).header == ["nik", "nama"]


def test_rows_frame_has_every_contract_column(tmp_path):
    rows, _ = ingest(tmp_path, {"5203012001.csv": f"{HEADER}\n{ROW}\n".encode()})
    assert {"id_dtks", "program", "alasan_nonaktif"} <= set(rows.columns)
    assert pd.isna(rows.loc[0, "program"])


@pytest.mark.parametrize(
    ("value", "text", "lossy"),
    [
        (3201011508950000.0, "3.20101150895E+15", True),  # Excel kept 15 digits: the 16th is gone
        (3201011508950001, "3201011508950001", True),  # all 16 digits, not from Excel: kept, noted
        (5203012001.0, "5203012001", False),
        (29448, "29448", False),
        (dt.datetime(1980, 8, 15), "1980-08-15", False),
        (None, "", False),
    ],
)
def test_xlsx_cell_text(value, text, lossy):
    from pipelines.ingest.readers import _cell_text

    assert _cell_text(value) == (text, lossy)


def test_utf16_and_renamed_files_are_read_with_a_note():
    from pipelines.ingest.readers import read_table

    utf16 = read_csv_bytes(b"\xff\xfe" + f"{HEADER}\n{ROW}\n".replace(",", "\t").encode("utf-16-le"))
    assert utf16.delimiter == "\t" and utf16.rows[0][3] == "LALU AHMAD" and utf16.notes[0][0] == "encoding_bukan_utf8"
    as_text = read_table(f"{HEADER}\n{ROW}\n".encode(), "xlsx")
    assert as_text.rows[0][3] == "LALU AHMAD" and as_text.notes[0][0] == "format_tidak_sesuai_nama"


def test_runaway_quote_keeps_every_line_and_rejects():
    broken = ROW.replace("LALU AHMAD", '"LALU AHMAD')
    table = read_csv_bytes(f"{HEADER}\n{ROW}\n{broken}\n{ROW}\n".encode())
    assert len(table.rows) == 3 and table.rejection[0] == "tanda_petik_tidak_tertutup"


def test_xlsx_in_the_1904_date_system():
    """Old Mac Excel counts days from 1904-01-01: date cells are right already, plain day numbers in
    tanggal_lahir are converted with that epoch, other numbers are left alone, and the file says so."""
    wb = Workbook()
    wb.epoch = dt.datetime(1904, 1, 1)
    ws = wb.active
    ws.append(["nama", "tanggal_lahir", "no_urut"])
    ws.append(["A", 30000, 30000])
    ws.append(["B", dt.datetime(1985, 3, 4), 2])
    buffer = io.BytesIO()
    wb.save(buffer)
    table = read_xlsx_bytes(buffer.getvalue())
    assert table.rows[0] == ["A", (dt.date(1904, 1, 1) + dt.timedelta(days=30000)).isoformat(), "30000"]
    assert table.rows[1][1] == "1985-03-04"
    assert [code for code, _ in table.notes] == ["sistem_tanggal_1904"]
    assert "1 tanggal lahir" in table.notes[0][1]

    wb.epoch = dt.datetime(1899, 12, 30)  # the usual system: the number stays for cleaning to convert
    buffer = io.BytesIO()
    wb.save(buffer)
    table = read_xlsx_bytes(buffer.getvalue())
    assert table.rows[0][1] == "30000" and not table.notes
