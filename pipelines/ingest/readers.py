"""Turn the bytes of one input file into a header and rows of strings, exactly as the operator typed them.

No value is changed here (cleaning is `pipelines.clean`), so a quarantined row can be shown
with its original content. Rows keep their position: `source_row` n is the n-th row after the header,
which is Excel row n+1, even when blank rows sit in between (blank rows are not data rows).

What the file itself gets wrong is said in `RawTable.notes` (code, Indonesian message): a file that is
not UTF-8, a CSV that is really a workbook, a runaway quote, identifiers stored as Excel numbers, formulas
without a stored result. Where the damage makes the rows untrustworthy, `RawTable.rejection` says why.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

csv.field_size_limit(10_000_000)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls
# Excel keeps 15 significant digits: a 16-digit number typed into a number cell loses its last digit.
_HEADER_SPACE = re.compile(r"[\s\u00a0\-]+")
_EXACT_INTEGER_LIMIT = 10**15
_FLOAT_EXACT_LIMIT = 2**53


def header_key(name: str) -> str:
    """Contract header names are case-insensitive and trimmed; inner spaces and dashes count as `_`."""
    return _HEADER_SPACE.sub("_", name.strip().strip("\ufeff").lower()).strip("_")


class UnreadableFile(ValueError):
    """The file cannot be read at all (corrupt, not the format its name says, wrong encoding)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RawTable:
    header: list[str]
    rows: list[list[str]]  # data rows, blank ones included, each as long as it was in the file
    encoding: str = "utf-8"
    delimiter: str | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, Indonesian message), file level
    rejection: tuple[str, str] | None = None  # (code, Indonesian message): the rows cannot be trusted
    format: str = "csv"  # what the bytes are, whatever the file name says


def _decode(data: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" is UTF-16 with a BOM (and tab-separated): readable, but not the template.
        note = "Berkas disimpan dalam UTF-16 (Unicode Text); dibaca. Simpan sebagai 'CSV UTF-8'."
        return data.decode("utf-16", errors="replace"), "utf-16", [("encoding_bukan_utf8", note)]
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8", []
    except UnicodeDecodeError:
        pass
    # Excel on Windows saves "CSV" as cp1252; decoding it as such loses nothing and is reported.
    try:
        text, encoding = body.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = body.decode("latin-1"), "latin-1"
    label = "Windows-1252 (Latin-1)" if encoding == "cp1252" else "Latin-1"
    note = f"Berkas tidak dalam UTF-8; dibaca sebagai {label}. Simpan sebagai 'CSV UTF-8'."
    return text, encoding, [("encoding_bukan_utf8", note)]


def _sniff_delimiter(text: str) -> str:
    """`,` or `;` (or a tab), whichever splits the header line into the most fields outside quotes."""
    first_line = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _runaway_quote(records: list[list[str]], delimiter: str) -> int | None:
    """The record number (1 = header) where an unclosed `"` swallowed the following lines, if any.

    A quoted field may hold a line break (a name typed on two lines); one that holds a line break *and*
    the delimiter is the rest of the file read as one value.
    """
    for n, record in enumerate(records, start=1):
        for value in record:
            if "\n" in value and delimiter in value:
                return n
    return None


def _physical_lines(text: str, delimiter: str) -> list[list[str]]:
    """Each line of the file as one record, quotes kept as typed: nothing is lost when quoting is broken."""
    return [line.split(delimiter) for line in text.splitlines()]


def read_csv_bytes(data: bytes) -> RawTable:
    if data.startswith(ZIP_MAGIC):
        table = read_xlsx_bytes(data)
        table.notes.insert(
            0, ("format_tidak_sesuai_nama", "Berkas bernama .csv tetapi isinya XLSX; dibaca sebagai XLSX.")
        )
        return table
    text, encoding, notes = _decode(data)
    if "\x00" in text[:4096]:
        raise UnreadableFile("berkas_rusak", "Berkas berisi data biner, bukan teks CSV (rusak atau salah format).")
    if not text.strip():
        return RawTable([], [], encoding, None, notes)
    delimiter = _sniff_delimiter(text)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    rejection = None
    runaway = _runaway_quote(records, delimiter)
    if runaway is not None:
        records = _physical_lines(text, delimiter)
        rejection = (
            "tanda_petik_tidak_tertutup",
            f'Tanda petik (") tidak tertutup mulai baris {runaway} berkas, sehingga baris-baris sesudahnya '
            "terbaca sebagai satu isian. Seluruh baris ditolak; hapus atau tutup tanda petik tersebut.",
        )
    header, rows = records[0], records[1:]
    while rows and not any(v.strip() for v in rows[-1]):
        rows.pop()  # trailing blank lines are the file's end, not rows
    return RawTable(header, rows, encoding, delimiter, notes, rejection)


def _cell_text(value: object) -> tuple[str, bool]:
    """An XLSX cell as the text the operator saw, and whether it was a number too long to be exact.

    Numbers and dates are kept recognisable for cleaning. A whole number of 16 digits or more (a NIK or
    KK typed into a number cell) is exact only if it did not pass through Excel's 15 significant digits:
    one ending in 0, or too large for a float, is written in scientific notation (`3.20101150895E+15`),
    the way Excel shows it, so it is flagged as damaged instead of being read as somebody else's number.
    """
    if value is None:
        return "", False
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")), False
    if isinstance(value, dt.date):
        return value.isoformat(), False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, float) and value.is_integer():
        if abs(value) < _EXACT_INTEGER_LIMIT:
            return str(int(value)), False
        if abs(value) < _FLOAT_EXACT_LIMIT and int(value) % 10:
            return str(int(value)), True
        return format(value, ".15G"), True
    if isinstance(value, int):
        if abs(value) < _EXACT_INTEGER_LIMIT:
            return str(value), False
        return (str(value), True) if value % 10 else (format(float(value), ".15G"), True)
    return str(value), False


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


def _sheet_has_formulas(data: bytes, sheet_path: str | None) -> bool:
    if not sheet_path:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return bool(_FORMULA_TAG.search(archive.read(sheet_path.lstrip("/"))))
    except (KeyError, zipfile.BadZipFile):
        return False


def _formula_texts(data: bytes) -> list[list[object]]:
    """The first sheet with formulas as their text (`=B2&C2`), for cells Excel stored no result for."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


_Sheets = tuple[list[list[object]], bool, str | None, bool]  # first sheet, other sheets have data, path, 1904


def _has_data(rows: list[list[object]]) -> bool:
    return any(v not in (None, "") for row in rows for v in row)


def _fast_sheets(data: bytes) -> _Sheets | None:
    """The first sheet's values by `xlsx.py`, or None for openpyxl to read the file instead (a workbook
    without worksheets too, so that openpyxl decides what such a file is)."""
    from pipelines.ingest import xlsx  # imports openpyxl: only when an XLSX file is present

    try:
        book = xlsx.open_workbook(data)
    except Exception:  # anything unexpected: openpyxl reads it, and reports the damage if there is any
        return None
    try:
        if not book.sheet_paths:
            return None
        others = any(_has_data(book.rows(i, max_rows=5)) for i in range(1, len(book.sheet_paths)))
        return book.rows(0), others, book.sheet_paths[0], book.mac_epoch
    except Exception:
        return None
    finally:
        book.archive.close()


def _openpyxl_sheets(data: bytes) -> _Sheets | None:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UnreadableFile(
            "berkas_rusak", f"Berkas XLSX tidak dapat dibuka (rusak atau bukan XLSX): {type(exc).__name__}."
        ) from exc
    try:
        if not workbook.worksheets:
            return None
        sheet = workbook.worksheets[0]
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        others_have_data = any(_has_data(ws.iter_rows(max_row=5, values_only=True)) for ws in workbook.worksheets[1:])
        mac_epoch = workbook.epoch == dt.datetime(1904, 1, 1)
        return values, others_have_data, getattr(sheet, "_worksheet_path", None), mac_epoch
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UnreadableFile(
            "berkas_rusak", f"Isi lembar kerja XLSX rusak dan tidak dapat dibaca: {type(exc).__name__}."
        ) from exc
    finally:
        workbook.close()


def read_xlsx_bytes(data: bytes) -> RawTable:
    if not data.startswith(ZIP_MAGIC) and b"\x00" not in data[:4096]:
        # A CSV saved with an .xlsx name: read as what it is, and say so.
        table = read_csv_bytes(data)
        table.notes.insert(
            0, ("format_tidak_sesuai_nama", "Berkas bernama .xlsx tetapi isinya teks CSV; dibaca sebagai CSV.")
        )
        return table
    sheets = _fast_sheets(data) or _openpyxl_sheets(data)
    if sheets is None:
        return RawTable([], [], "xlsx", None, [], format="xlsx")
    values, others_have_data, sheet_path, mac_epoch = sheets
    notes: list[tuple[str, str]] = []

    if _sheet_has_formulas(data, sheet_path):
        formulas = _formula_texts(data)
        missing = 0
        for r, row in enumerate(values):
            for c, value in enumerate(row):
                if value is None and r < len(formulas) and c < len(formulas[r]):
                    text = formulas[r][c]
                    text = getattr(text, "text", text)  # array formulas come as objects
                    if isinstance(text, str) and text.startswith("="):
                        row[c] = text  # no stored result: the formula itself, flagged by validation
                        missing += 1
        message = "Berkas berisi rumus Excel; yang dibaca adalah hasil rumus yang tersimpan."
        if missing:
            message += f" {missing} sel rumus tidak memiliki hasil tersimpan dan dibaca sebagai rumusnya."
        notes.append(("berisi_rumus", message))

    records: list[list[str]] = []
    inexact = 0
    for row in values:
        texts = []
        for value in row:
            text, lossy = _cell_text(value)
            inexact += lossy
            texts.append(text)
        records.append(texts)
    if inexact:
        notes.append(
            (
                "angka_panjang",
                f"{inexact} sel berisi angka 16 digit atau lebih yang disimpan sebagai angka, bukan teks "
                "(misalnya NIK atau nomor KK). Excel hanya menyimpan 15 digit: format kolom NIK dan KK sebagai Teks.",
            )
        )
    while records and not any(v.strip() for v in records[-1]):
        records.pop()
    if not records:
        if others_have_data:
            notes.append(
                (
                    "lembar_pertama_kosong",
                    "Lembar pertama kosong, tetapi lembar lain berisi data; data harus berada di lembar pertama.",
                )
            )
        return RawTable([], [], "xlsx", None, notes, format="xlsx")
    header = records[0]
    while header and not header[-1].strip():
        header.pop()  # formatted but empty columns to the right
    if mac_epoch:
        notes.append(_dates_from_1904_serials(header, values, records))
    return RawTable(header, records[1:], "xlsx", None, notes, format="xlsx")


_SERIAL_RANGE = range(10_000, 100_000)  # the five-digit day numbers that cleaning reads as dates


def _dates_from_1904_serials(header: list[str], values: list[list[object]], records: list[list[str]]) -> tuple:
    """A workbook in Excel's 1904 date system (old Mac Excel): date cells are already right (openpyxl
    applies the workbook's epoch), but a birth date typed as a plain number counts days from 1904-01-01,
    not from 1899-12-30 as cleaning assumes. Those numbers in `tanggal_lahir` become dates here, and the
    file says so; other columns keep their numbers."""
    columns = [i for i, name in enumerate(header) if header_key(name) == "tanggal_lahir"]
    converted = 0
    for raw, texts in zip(values[1:], records[1:], strict=False):
        for i in columns:
            value = raw[i] if i < len(raw) else None
            number = isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()
            if number and int(value) in _SERIAL_RANGE:
                texts[i] = (dt.date(1904, 1, 1) + dt.timedelta(days=int(value))).isoformat()
                converted += 1
    message = "Buku kerja memakai sistem tanggal 1904 (Excel Mac lama)."
    if converted:
        message += f" {converted} tanggal lahir berupa angka seri dibaca menurut sistem itu; periksa hasilnya."
    return ("sistem_tanggal_1904", message)


def read_table(data: bytes, fmt: str) -> RawTable:
    if not data.strip():
        return RawTable([], [], "", None, [], format=fmt)
    if data.startswith(OLE_MAGIC):
        raise UnreadableFile(
            "format_xls",
            "Berkas berformat Excel 97-2003 (.xls), bukan XLSX atau CSV; "
            "simpan ulang sebagai 'Excel Workbook (.xlsx)'.",
        )
    if fmt == "csv":
        return read_csv_bytes(data)
    if fmt == "xlsx":
        return read_xlsx_bytes(data)
    raise UnreadableFile("format_tidak_didukung", f"Format '{fmt}' tidak didukung; gunakan CSV atau XLSX.")
