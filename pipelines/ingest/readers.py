"""Turn the bytes of one input file into a header and rows of strings, exactly as the operator typed them.

No value is changed here (cleaning is `pipelines.validate.clean`), so a quarantined row can be shown
with its original content. Rows keep their position: `source_row` n is the n-th row after the header,
which is Excel row n+1, even when blank rows sit in between (blank rows are not data rows).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

csv.field_size_limit(10_000_000)


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


def _decode(data: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig", []
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" as cp1252; decoding it as such loses nothing and is reported.
        try:
            return (
                data.decode("cp1252"),
                "cp1252",
                [
                    (
                        "encoding_bukan_utf8",
                        "Berkas tidak dalam UTF-8; dibaca sebagai Windows-1252 (Latin-1). Simpan sebagai 'CSV UTF-8'.",
                    )
                ],
            )
        except UnicodeDecodeError:
            return (
                data.decode("latin-1"),
                "latin-1",
                [
                    (
                        "encoding_bukan_utf8",
                        "Berkas tidak dalam UTF-8; dibaca sebagai Latin-1. Simpan sebagai 'CSV UTF-8'.",
                    )
                ],
            )


def _sniff_delimiter(text: str) -> str:
    """`,` or `;` (or a tab), whichever splits the header line into the most fields outside quotes."""
    first_line = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def read_csv_bytes(data: bytes) -> RawTable:
    if b"\x00" in data[:4096]:
        raise UnreadableFile("berkas_rusak", "Berkas berisi data biner, bukan teks CSV (rusak atau salah format).")
    text, encoding, notes = _decode(data)
    if not text.strip():
        return RawTable([], [], encoding, None, notes)
    delimiter = _sniff_delimiter(text)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header, rows = records[0], records[1:]
    while rows and not any(v.strip() for v in rows[-1]):
        rows.pop()  # trailing blank lines are the file's end, not rows
    return RawTable(header, rows, encoding, delimiter, notes)


def _cell_text(value: object) -> str:
    """An XLSX cell as the text the operator saw; numbers and dates are kept recognisable for cleaning."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def read_xlsx_bytes(data: bytes) -> RawTable:
    from openpyxl import load_workbook  # heavy; only when an XLSX file is present

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(
            "berkas_rusak", f"Berkas XLSX tidak dapat dibuka (rusak atau bukan XLSX): {type(exc).__name__}."
        ) from exc
    try:
        if not workbook.worksheets:
            return RawTable([], [], "xlsx", None, [])
        records = [[_cell_text(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    while records and not any(v.strip() for v in records[-1]):
        records.pop()
    if not records:
        return RawTable([], [], "xlsx", None, [])
    header = records[0]
    while header and not header[-1].strip():
        header.pop()  # formatted but empty columns to the right
    return RawTable(header, records[1:], "xlsx", None, [])


def read_table(data: bytes, fmt: str) -> RawTable:
    if fmt == "csv":
        return read_csv_bytes(data)
    if fmt == "xlsx":
        return read_xlsx_bytes(data)
    raise UnreadableFile("format_tidak_didukung", f"Format '{fmt}' tidak didukung; gunakan CSV atau XLSX.")
