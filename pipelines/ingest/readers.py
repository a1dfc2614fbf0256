"""Turn the bytes of one input file into a header and rows of strings, exactly as the operator typed them.

No value is changed here (cleaning is `pipelines.clean`), so a quarantined row can be shown with its
original content, with one exception: control characters (NUL and the other C0 controls but tab, CR and
LF; DEL; the C1 controls; Unicode's bidirectional overrides and marks) are made visible, each C0 control
and DEL as its Unicode control picture (NUL -> U+2400 "␀"), the others as U+FFFD "�". A value holding
them cannot go to PostgreSQL (NUL), a report workbook (XML) or a terminal (escape sequences) as it is, and
a bidi override makes a name display as another; cleaning then drops the pictures from the canonical
value, and the file carries the note `karakter_kontrol`. Rows keep their position: `source_row` n is the
n-th row after the header, which is Excel row n+1, even when blank rows sit in between (blank rows are not
data rows).

Reading is bounded: `FileLimits` (pipelines/config.py) caps rows, columns and the length of a value, and
for XLSX the zip's members and their inflated size (`pipelines/ingest/xlsx.py`). Whatever a file's content
makes go wrong ends as `UnreadableFile(code, message)`, an Indonesian message that names the row and
column where they are known and never echoes a value (a header cell can hold a NIK as well as a name).

What the file itself gets wrong is said in `RawTable.notes` (code, Indonesian message): a file that is
not UTF-8, a CSV that is really a workbook, a runaway quote, identifiers stored as Excel numbers, formulas
without a stored result. Where the damage makes the rows untrustworthy, `RawTable.rejection` says why.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import traceback
from dataclasses import dataclass, field

from pipelines.config import SUBMISSION_LIMITS, FileLimits

log = logging.getLogger(__name__)

# Every field fits: a file is bounded by `max_file_mb`, and values by `max_field_chars`, checked here with
# the row and column named (the csv module's own limit would end the file with a message naming neither).
csv.field_size_limit(2**31 - 1)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls, and Excel's password-protected .xlsx
_OLE_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # the stream an encrypted OOXML file keeps its zip in
# Excel keeps 15 significant digits: a 16-digit number typed into a number cell loses its last digit.
_HEADER_SPACE = re.compile(r"[\s\u00a0\-]+")
_EXACT_INTEGER_LIMIT = 10**15
_FLOAT_EXACT_LIMIT = 2**53
_NEWLINE = re.compile(r"\r\n|\r|\n")
# More than this share of control characters: the bytes are no text (an image, an archive, a zero-filled
# file), whatever its name says. Fewer are damage inside fields, made visible and noted.
_BINARY_SHARE = 0.10

# The characters made visible (module docstring): C0 but tab/LF/CR, DEL, C1, and the bidi controls.
_C0 = [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
VISIBLE_CONTROLS = {c: 0x2400 + c for c in _C0} | {0x7F: 0x2421} | {c: 0xFFFD for c in (*range(0x80, 0xA0), *_BIDI)}
CONTROL_CHARACTERS = re.compile("[" + "".join(re.escape(chr(c)) for c in VISIBLE_CONTROLS) + "]")
# The pictures the reader puts in their place (cleaning drops them from canonical values).
CONTROL_PICTURES = "\u2400-\u241f\u2421\ufffd"
_PICTURE = re.compile(f"[{CONTROL_PICTURES}]")
_BINARY_CONTROLS = {c: None for c in (*_C0, 0x7F, *range(0x80, 0xA0))}


def header_key(name: str) -> str:
    """Contract header names are case-insensitive and trimmed; inner spaces and dashes count as `_`; a
    control character (shown as its picture) is dropped, as cleaning drops it from values."""
    return _HEADER_SPACE.sub("_", _PICTURE.sub("", name).strip().strip("\ufeff").lower()).strip("_")


class UnreadableFile(ValueError):
    """The file cannot be read at all (corrupt, not the format its name says, beyond a limit)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RawTable:
    header: list[str]
    rows: list[list[str]]  # data rows, blank ones included ([] or as typed), each as long as it was in the file
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


def _is_binary(text: str) -> bool:
    """Whether the decoded bytes are no text at all: judged on the whole file, so a NUL is damage inside a
    field wherever it sits, and a file of garbage is garbage wherever its text ends."""
    controls = len(text) - len(text.translate(_BINARY_CONTROLS))
    return controls > _BINARY_SHARE * len(text)


def _sniff_delimiter(text: str) -> str:
    """`,` or `;` (or a tab), whichever splits the header line into the most fields outside quotes."""
    first_line = _NEWLINE.split(text, maxsplit=1)[0]  # CRLF, LF, or CR alone (Excel for Mac's "CSV")
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _column_label(column: int) -> str:
    return f"kolom {column}"


class _Collector:
    """Keeps records within the limits: a blank record is counted and made (as `[]`) only when a record
    with a value follows, so blank lines after the last row cost nothing; columns past `max_columns` are
    dropped when empty and refused when not."""

    def __init__(self, limits: FileLimits) -> None:
        self.limits = limits
        self.records: list[list[str]] = []
        self.pending_blanks = 0

    def add(self, number: int, record: list[str]) -> None:
        """`number`: the record's number in the file (1 = the header row)."""
        limits = self.limits
        if record and max(map(len, record)) > limits.max_field_chars:  # at C speed; the loop names the column
            i = next(i for i, value in enumerate(record) if len(value) > limits.max_field_chars)
            raise UnreadableFile(
                "isian_terlalu_panjang",
                f"Isian di baris {number} berkas, {_column_label(i + 1)} berisi lebih dari "
                f"{limits.max_field_chars} karakter; isian sepanjang itu bukan data usulan. Periksa baris itu "
                "(kemungkinan ada tanda petik yang tidak tertutup).",
            )
        if len(record) > limits.max_columns:
            beyond = next((i for i, v in enumerate(record) if i >= limits.max_columns and v.strip()), None)
            if beyond is not None:
                raise UnreadableFile(
                    "kolom_terlalu_banyak",
                    f"Baris {number} berkas berisi data di {_column_label(beyond + 1)}; batasnya "
                    f"{limits.max_columns} kolom. Hapus isian di luar tabel lalu kirim kembali.",
                )
            record = record[: limits.max_columns]
        if self.records and not any(v.strip() for v in record):
            self.pending_blanks += 1
            return
        if number - 1 > limits.max_rows:
            raise UnreadableFile(
                "baris_terlalu_banyak",
                f"Berkas berisi data di baris {number}, melebihi batas {limits.max_rows} baris data per berkas. "
                "Hapus baris di luar tabel, atau bagi berkas bila memang sebanyak itu.",
            )
        self.records.extend([] for _ in range(self.pending_blanks))
        self.pending_blanks = 0
        self.records.append(record)


def _records(text: str, delimiter: str, limits: FileLimits) -> tuple[list[list[str]], int | None]:
    """The CSV's records, and the record number (1 = header) where an unclosed `"` swallowed the following
    lines, if any: a quoted field may hold a line break (a name typed on two lines); one that holds a line
    break *and* the delimiter is the rest of the file read as one value."""
    collector = _Collector(limits)
    number = 0
    quoted = '"' in text  # without a quote no field can hold a line break: the check below is skipped
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            number += 1
            if quoted and any(("\n" in v or "\r" in v) and delimiter in v for v in record):
                return [], number
            collector.add(number, record)
    except csv.Error as exc:
        raise UnreadableFile(
            "berkas_rusak", f"Berkas tidak dapat dibaca sebagai CSV (sekitar baris {number + 1} berkas)."
        ) from exc
    return collector.records, None


def _physical_lines(text: str, delimiter: str, limits: FileLimits) -> list[list[str]]:
    """Each line of the file as one record, quotes kept as typed: nothing is lost when quoting is broken."""
    collector = _Collector(limits)
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        collector.add(number, line.rstrip("\r\n").split(delimiter))
    return collector.records


def _control_note(count: int, header: list[str], rows: list[list[str]]) -> tuple[str, str]:
    where = ""
    for number, record in enumerate([header, *rows], start=1):
        column = next((i for i, v in enumerate(record) if _PICTURE.search(v)), None)
        if column is not None:
            where = f" (pertama di baris {number} berkas, {_column_label(column + 1)})"
            break
    return (
        "karakter_kontrol",
        f"{count} karakter kontrol (mis. NUL) atau pengatur arah teks ditemukan di dalam isian{where}. Pada data "
        "asli karakter itu ditampilkan sebagai ␀ atau �, dan dihapus dari nilai yang diproses. Periksa "
        "aplikasi yang membuat berkas.",
    )


def read_csv_bytes(data: bytes, limits: FileLimits = SUBMISSION_LIMITS) -> RawTable:
    if data.startswith(ZIP_MAGIC):
        table = read_xlsx_bytes(data, limits)
        table.notes.insert(
            0, ("format_tidak_sesuai_nama", "Berkas bernama .csv tetapi isinya XLSX; dibaca sebagai XLSX.")
        )
        return table
    text, encoding, notes = _decode(data)
    if _is_binary(text):
        raise UnreadableFile("berkas_rusak", "Berkas berisi data biner, bukan teks CSV (rusak atau salah format).")
    controls = len(CONTROL_CHARACTERS.findall(text)) if CONTROL_CHARACTERS.search(text) else 0
    if controls:
        text = text.translate(VISIBLE_CONTROLS)
    if not text.strip():
        return RawTable([], [], encoding, None, notes)
    delimiter = _sniff_delimiter(text)
    records, runaway = _records(text, delimiter, limits)
    rejection = None
    if runaway is not None:
        records = _physical_lines(text, delimiter, limits)
        rejection = (
            "tanda_petik_tidak_tertutup",
            f'Tanda petik (") tidak tertutup mulai baris {runaway} berkas, sehingga baris-baris sesudahnya '
            "terbaca sebagai satu isian. Seluruh baris ditolak; hapus atau tutup tanda petik tersebut.",
        )
    header, rows = records[0], records[1:]
    if controls:
        notes.append(_control_note(controls, header, rows))
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


def _has_data(rows: list[list[object]]) -> bool:
    return any(v not in (None, "") for row in rows for v in row)


def _formula_note(formulas: int, without_result: int) -> tuple[str, str]:
    message = "Berkas berisi rumus Excel; yang dibaca adalah hasil rumus yang tersimpan."
    if without_result:
        message += f" {without_result} sel rumus tidak memiliki hasil tersimpan dan dibaca sebagai rumusnya."
    return ("berisi_rumus", message)


def read_xlsx_bytes(data: bytes, limits: FileLimits = SUBMISSION_LIMITS) -> RawTable:
    if not data.startswith(ZIP_MAGIC):
        # A CSV saved with an .xlsx name: read as what it is, and say so (binary garbage is refused there).
        table = read_csv_bytes(data, limits)
        table.notes.insert(
            0, ("format_tidak_sesuai_nama", "Berkas bernama .xlsx tetapi isinya teks CSV; dibaca sebagai CSV.")
        )
        return table
    from pipelines.ingest import xlsx  # imports openpyxl: only when an XLSX file is present

    book = xlsx.open_workbook(data, limits)
    if not book.sheet_paths:
        return RawTable([], [], "xlsx", None, [], format="xlsx")
    sheet = book.sheet(0)
    values = sheet.rows
    notes: list[tuple[str, str]] = []
    if sheet.formulas:
        notes.append(_formula_note(sheet.formulas, sheet.formulas_without_result))

    records: list[list[str]] = []
    inexact = controls = 0
    for row in values:
        texts = []
        for value in row:
            text, lossy = _cell_text(value)
            inexact += lossy
            if CONTROL_CHARACTERS.search(text):
                controls += len(CONTROL_CHARACTERS.findall(text))
                text = text.translate(VISIBLE_CONTROLS)
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
        # Only now are the other sheets looked at (their first rows): is the data on the wrong sheet?
        if any(_has_data(book.sheet(i, max_rows=5).rows) for i in range(1, len(book.sheet_paths))):
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
    if book.mac_epoch:
        notes.append(_dates_from_1904_serials(header, values, records))
    if controls:
        notes.append(_control_note(controls, header, records[1:]))
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


def _read(data: bytes, fmt: str, limits: FileLimits) -> RawTable:
    if not data.strip():
        return RawTable([], [], "", None, [], format=fmt)
    if data.startswith(OLE_MAGIC):
        if _OLE_ENCRYPTED in data:
            raise UnreadableFile(
                "xlsx_terenkripsi",
                "Berkas Excel dilindungi kata sandi (terenkripsi); simpan ulang tanpa kata sandi lalu kirim kembali.",
            )
        raise UnreadableFile(
            "format_xls",
            "Berkas berformat Excel 97-2003 (.xls), bukan XLSX atau CSV; "
            "simpan ulang sebagai 'Excel Workbook (.xlsx)'.",
        )
    if fmt == "csv":
        return read_csv_bytes(data, limits)
    if fmt == "xlsx":
        return read_xlsx_bytes(data, limits)
    shown = fmt if re.fullmatch(r"[A-Za-z0-9]{1,8}", fmt) else "ini"
    raise UnreadableFile("format_tidak_didukung", f"Format '{shown}' tidak didukung; gunakan CSV atau XLSX.")


def read_table(data: bytes, fmt: str, limits: FileLimits | None = None) -> RawTable:
    """The file's header and rows as typed, within `limits` (the village files' by default).

    Reading works on bytes in memory, so whatever goes wrong is caused by the content: it is raised as
    `UnreadableFile` with a reason. A failure nobody foresaw is reported the same way (and logged with
    where it happened, never with its message, which may quote a value); only MemoryError goes through.
    """
    try:
        return _read(data, fmt, limits or SUBMISSION_LIMITS)
    except (UnreadableFile, MemoryError):
        raise
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.warning("Unforeseen %s while reading a file, at %s:%s", type(exc).__name__, frame.filename, frame.lineno)
        raise UnreadableFile(
            "berkas_rusak", f"Berkas tidak dapat dibaca (isinya rusak atau tidak wajar: {type(exc).__name__})."
        ) from exc
