"""The first worksheet of an XLSX file as rows of cell values, read within limits whatever the file holds.

An XLSX file is a zip of XML parts, and every layer can be turned against a reader: a zip bomb (a member
that inflates a thousandfold, or whose declared size lies), an encrypted or Deflate64 member, an XML
entity bomb in the shared strings, a `<dimension>` claiming `A1:XFD1048576` that makes a reader pad every
row to 16,384 columns, millions of empty rows or cells. So:

- `check_archive` opens the zip and inflates every member once, counting bytes as they come out, before
  any XML parser sees it: too many members, an encrypted or not-deflate member, a member or a total beyond
  the limits, a corrupt deflate stream or CRC, and a DTD in any XML part are each refused with their own
  code. Later reads of the same bytes are then bounded too.
- The workbook-level parts (package manifest, sheet order, the 1904 flag, which cell styles are dates) are
  read by openpyxl's own reader classes, which parse XML through defusedxml when it is installed (it is a
  dependency of this project: `tests/test_xlsx.py` checks openpyxl uses it).
- The shared strings and the sheet are read by expat callbacks (`xml.parsers.expat`, with the handlers
  defusedxml sets: any DTD, entity declaration or external reference raises), building no tree: memory is
  what the rows hold. `<dimension>` is never read; a row is as long as its last non-empty cell; empty rows
  after the last one with a value are never made; a value beyond `max_rows`, `max_columns` or longer than
  `max_field_chars` stops the parse with the row and column named.

Values are converted as openpyxl's `iter_rows(values_only=True)` on a read-only, data-only workbook does
(shared and inline strings, numbers, dates by the cell's number format and the workbook's epoch, booleans,
error codes, cached formula results; `tests/test_xlsx.py` compares the two on every corpus and generated
workbook), and a formula without a stored result is read as its text (`=B2&C2`).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.parsers import expat

from openpyxl.formula.translate import Translator
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, from_excel, from_ISO8601
from openpyxl.xml.constants import ARC_STYLE, SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import fromstring

from pipelines.config import SUBMISSION_LIMITS, FileLimits
from pipelines.ingest.readers import UnreadableFile

_SEP = " "  # expat's namespace separator: element names arrive as "<namespace> <local name>"
_MAIN = f"{SHEET_MAIN_NS}{_SEP}"
_SHEET_DATA, _ROW, _CELL, _VALUE, _FORMULA = (f"{_MAIN}{n}" for n in ("sheetData", "row", "c", "v", "f"))
_INLINE, _TEXT, _RUN, _PHONETIC, _ITEM = (f"{_MAIN}{n}" for n in ("is", "t", "r", "rPh", "si"))
_CHUNK = 1 << 16
_SAFE_PART = re.compile(r"^[A-Za-z0-9_./\[\]-]{1,80}$")
_CELL_REF = re.compile(r"^([A-Za-z]{1,3})\d*$")


def _part(name: str) -> str:
    """A member's name for a message: the name itself when it is an ordinary part name (it comes from the
    file, so anything else is not echoed)."""
    return name if _SAFE_PART.match(name) else "salah satu bagian"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".replace(".", ",")


# ---------------------------------------------------------------------------------------------- the archive


class _RootReached(Exception):
    """The XML prolog has been read without a DTD: the rest of the part cannot declare an entity."""


def _forbid(*_args: object) -> None:
    raise UnreadableFile("xml_tidak_aman", "")  # the message names the part: see `_check_prolog`


def _defused(parser: expat.XMLParserType) -> expat.XMLParserType:
    """The handlers defusedxml sets, and DTDs forbidden outright (no OOXML part has one)."""
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    return parser


def _unsafe_xml(name: str) -> UnreadableFile:
    return UnreadableFile(
        "xml_tidak_aman",
        f"Berkas XLSX berisi deklarasi DTD atau entitas XML (di {_part(name)}); Excel tidak pernah menulisnya, "
        "dan bentuk itu dapat dipakai untuk melumpuhkan sistem. Berkas tidak dibaca; simpan ulang dengan Excel.",
    )


def _check_prolog(name: str, head: bytes, prolog: expat.XMLParserType | None) -> expat.XMLParserType | None:
    """Feeds the start of an XML part to a defused parser until its root element begins. A DTD can only
    stand before the root, so a part that gets there without one holds no entity declaration: openpyxl's
    parts then cannot expand entities even where defusedxml were missing. Non-XML members (images) fail
    this parse at once, as they would fail any later XML parse: only a DTD is an error here."""
    if prolog is None:
        return None
    try:
        prolog.Parse(head, False)
    except _RootReached:
        return None
    except UnreadableFile:
        raise _unsafe_xml(name) from None
    except expat.ExpatError:
        return None
    return prolog


def _root_reached(*_args: object) -> None:
    raise _RootReached


def _member_check(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, limits: FileLimits) -> int:
    """Inflates one member, counting; returns its real size. The declared size is not trusted."""
    name = _part(info.filename)
    if info.flag_bits & 0x1:
        raise UnreadableFile(
            "xlsx_terenkripsi",
            "Berkas XLSX dilindungi kata sandi (terenkripsi); simpan ulang tanpa kata sandi lalu kirim kembali.",
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnreadableFile(
            "kompresi_tidak_didukung",
            f"Bagian {name} dalam berkas XLSX dimampatkan dengan metode yang tidak dipakai Excel "
            f"(nomor {info.compress_type}, mis. Deflate64); buka dan simpan ulang berkas dengan Excel.",
        )
    cap = min(limits.max_member_bytes, budget)
    if info.file_size > cap:
        raise _too_big(name, info.file_size, limits, member=info.file_size > limits.max_member_bytes)
    prolog = _defused(expat.ParserCreate())
    prolog.StartElementHandler = _root_reached
    size = 0
    with archive.open(info) as source:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise _too_big(name, size, limits, member=size > limits.max_member_bytes)
            prolog = _check_prolog(info.filename, chunk, prolog)
    return size


def _too_big(name: str, size: int, limits: FileLimits, *, member: bool) -> UnreadableFile:
    if member:
        detail = f"bagian {name} lebih dari {_mb(limits.max_member_bytes)} MB setelah diekstrak"
    else:
        detail = f"seluruh isinya lebih dari {_mb(limits.max_uncompressed_bytes)} MB setelah diekstrak"
    return UnreadableFile(
        "isi_xlsx_terlalu_besar",
        f"Isi berkas XLSX melebihi batas: {detail} (berkas terkompresi secara tidak wajar atau terlalu besar "
        "untuk satu desa). Berkas tidak dibaca.",
    )


def check_archive(data: bytes, limits: FileLimits = SUBMISSION_LIMITS) -> None:
    """Refuses the zip unless every member inflates, within the limits, to a DTD-free part (see module)."""
    # Each directory entry costs a ZipInfo: count them (an upper bound) before zipfile builds them.
    if data.count(b"PK\x01\x02") > limits.max_xlsx_members:
        raise UnreadableFile(
            "bagian_xlsx_terlalu_banyak",
            f"Berkas XLSX berisi lebih dari {limits.max_xlsx_members} bagian (berkas di dalam arsip zip); "
            "buku kerja Excel biasa hanya belasan. Berkas tidak dibaca.",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            budget = limits.max_uncompressed_bytes
            for info in archive.infolist():
                if info.is_dir():
                    continue
                budget -= _member_check(archive, info, budget, limits)
    except UnreadableFile:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise UnreadableFile(
            "berkas_rusak",
            "Berkas XLSX rusak atau terpotong (arsip zip tidak utuh atau isinya tidak dapat diekstrak: "
            f"{type(exc).__name__}); simpan ulang dengan Excel lalu kirim kembali.",
        ) from exc
    except (ValueError, OSError, RuntimeError) as exc:  # a malformed header zipfile does not name
        if isinstance(exc, MemoryError):
            raise
        raise UnreadableFile(
            "berkas_rusak",
            f"Berkas XLSX rusak (struktur arsip zip tidak valid: {type(exc).__name__}); simpan ulang dengan Excel.",
        ) from exc


# -------------------------------------------------------------------------------------- the workbook parts


@dataclass
class Sheet:
    """A worksheet's values: row n of the sheet is `rows[n - 1]`; an empty row is `[]`; a row ends at its
    last non-empty cell; there are no rows after the last one with a value."""

    rows: list[list[object]]
    formulas: int = 0  # cells with a formula
    formulas_without_result: int = 0  # ... and no stored result: read as the formula's text


@dataclass
class Workbook:
    """What the ingest needs of a workbook: its worksheets' parts, in order, and how to read their cells."""

    data: bytes
    sheet_paths: list[str]
    shared_strings: list[str]
    date_styles: frozenset[int]
    timedelta_styles: frozenset[int]
    epoch: object
    limits: FileLimits = field(default=SUBMISSION_LIMITS)

    @property
    def mac_epoch(self) -> bool:
        return self.epoch == CALENDAR_MAC_1904

    def sheet(self, index: int, max_rows: int | None = None) -> Sheet:
        """The sheet's rows; with `max_rows`, only its first rows (and no limit applies past them)."""
        reader = _SheetReader(self, max_rows)
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive, archive.open(self.sheet_paths[index]) as source:
            _parse(self.sheet_paths[index], source, reader)
        return reader.result()


def open_workbook(data: bytes, limits: FileLimits = SUBMISSION_LIMITS) -> Workbook:
    """The workbook's parts, after `check_archive`. Raises `UnreadableFile` for anything it cannot use."""
    check_archive(data, limits)
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        try:
            reader.read_manifest()
            reader.read_workbook()
            paths = [
                rel.target
                for _sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type
            ]
            date_styles, timedelta_styles = _styles(reader.archive)
            epoch = reader.wb.epoch
            part = reader.package.find(SHARED_STRINGS)
            strings_path = part.PartName[1:] if part is not None else None
        finally:
            reader.archive.close()
    except UnreadableFile:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # the parts are the file's content: whatever openpyxl cannot parse is damage
        raise UnreadableFile(
            "berkas_rusak",
            "Struktur buku kerja XLSX rusak atau tidak lengkap (daftar lembar, gaya sel atau manifest tidak "
            f"dapat dibaca: {type(exc).__name__}); simpan ulang dengan Excel lalu kirim kembali.",
        ) from exc
    strings: list[str] = []
    if strings_path:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if strings_path not in archive.namelist():
                raise UnreadableFile("berkas_rusak", "Berkas XLSX rusak: bagian teks bersama (sharedStrings) hilang.")
            with archive.open(strings_path) as source:
                strings = _shared_strings(strings_path, source)
    return Workbook(data, paths, strings, date_styles, timedelta_styles, epoch, limits)


def _styles(archive: zipfile.ZipFile) -> tuple[frozenset[int], frozenset[int]]:
    """The cell styles (by index) whose number format is a date, and those that are a duration."""
    if ARC_STYLE not in archive.namelist():
        return frozenset(), frozenset()
    stylesheet = Stylesheet.from_tree(fromstring(archive.read(ARC_STYLE)))
    return frozenset(stylesheet.date_formats), frozenset(stylesheet.timedelta_formats)


# ------------------------------------------------------------------------------------------- the XML parts


def _parse(name: str, source, handler: _Handler) -> None:
    parser = _defused(expat.ParserCreate(namespace_separator=_SEP))
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.text
    handler.parser = parser
    try:
        while chunk := source.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Enough:
        return
    except UnreadableFile as exc:
        if exc.code == "xml_tidak_aman":
            raise _unsafe_xml(name) from None
        raise
    except expat.ExpatError as exc:
        raise UnreadableFile(
            "berkas_rusak",
            f"Isi berkas XLSX rusak: XML {_part(name)} tidak valid atau terpotong (baris XML {exc.lineno}: "
            f"{expat.ErrorString(exc.code)}); simpan ulang dengan Excel lalu kirim kembali.",
        ) from None


class _Enough(Exception):
    """The rows asked for have been read."""


class _Handler:
    parser: expat.XMLParserType

    def start(self, name: str, attrs: dict[str, str]) -> None: ...

    def end(self, name: str) -> None: ...

    def text(self, data: str) -> None: ...


class _RichText:
    """openpyxl's `Text.content`: the plain `t` (the last one wins) followed by the `t` of each rich-text run;
    phonetic runs (`rPh`) left out. Text is collected only inside a `t`, and never beyond `limit` characters."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.plain: str | None = None
        self.runs: list[str] = []
        self.size = 0
        self.in_run = self.in_phonetic = False
        self.buffer: list[str] | None = None

    def start(self, name: str) -> None:
        if name == _TEXT and not self.in_phonetic:
            self.buffer = []
        elif name == _RUN:
            self.in_run = True
        elif name == _PHONETIC:
            self.in_phonetic = True

    def end(self, name: str) -> None:
        if name == _TEXT and self.buffer is not None:
            text = "".join(self.buffer)
            self.buffer = None
            if self.in_run:
                self.runs.append(text)
            else:
                self.plain = text
        elif name == _RUN:
            self.in_run = False
        elif name == _PHONETIC:
            self.in_phonetic = False

    def text(self, data: str) -> bool:
        """False when the text grew past the limit."""
        if self.buffer is None:
            return True
        self.buffer.append(data)
        self.size += len(data)
        return self.size <= self.limit

    def content(self) -> str:
        return "".join(([self.plain] if self.plain is not None else []) + self.runs)


class _SharedStrings(_Handler):
    def __init__(self) -> None:
        self.strings: list[str] = []
        self.item: _RichText | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == _ITEM:
            # A shared string is only checked against the field limit where a cell uses it.
            self.item = _RichText(limit=1 << 62)
        elif self.item is not None:
            self.item.start(name)

    def end(self, name: str) -> None:
        if name == _ITEM and self.item is not None:
            self.strings.append(self.item.content().replace("x005F_", ""))  # as openpyxl reads them
            self.item = None
        elif self.item is not None:
            self.item.end(name)

    def text(self, data: str) -> None:
        if self.item is not None:
            self.item.text(data)


def _shared_strings(name: str, source) -> list[str]:
    handler = _SharedStrings()
    _parse(name, source, handler)
    return handler.strings


def _cast_number(text: str) -> int | float | str:
    try:
        if "." in text or "E" in text or "e" in text:
            return float(text)
        return int(text)
    except (ValueError, OverflowError):
        return text  # not a number after all (a damaged cell): kept as written, validation says the rest


class _SheetReader(_Handler):
    """Turns a sheet's events into rows, one cell at a time: nothing of the XML is kept."""

    def __init__(self, book: Workbook, max_rows: int | None) -> None:
        self.book = book
        self.limits = book.limits
        self.stop_after = max_rows  # only the first rows are wanted (a glance at another sheet)
        self.rows: dict[int, list[tuple[int, object]]] = {}
        self.in_data = False
        self.row_number = 0
        self.cells: list[tuple[int, object]] | None = None
        self.column = 0
        self.cell: dict[str, str] | None = None
        self.value: list[str] | None = None
        self.value_size = 0
        self.formula: dict[str, str] | None = None
        self.formula_text: list[str] | None = None
        self.inline: _RichText | None = None
        self.shared_formulas: dict[str, tuple[str, str]] = {}
        self.formulas = self.formulas_without_result = 0

    # rows

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.cell is not None:
            self._cell_start(name, attrs)
        elif name == _CELL and self.cells is not None:
            self._open_cell(attrs)
        elif name == _ROW and self.in_data:
            number = attrs.get("r")
            self.row_number = _row_number(number) if number is not None else self.row_number + 1
            if self.row_number in self.rows:
                raise UnreadableFile(
                    "berkas_rusak",
                    f"Isi lembar kerja XLSX rusak: baris {self.row_number} tercatat lebih dari sekali.",
                )
            self.cells, self.column = [], 0
        elif name == _SHEET_DATA:
            self.in_data = True

    def end(self, name: str) -> None:
        if self.cell is not None:
            if name == _CELL:
                self._close_cell()
            else:
                self._cell_end(name)
        elif name == _ROW and self.cells is not None:
            if self.cells:
                self.rows[self.row_number] = self.cells
            self.cells = None
            if self.stop_after is not None and self.row_number >= self.stop_after:
                raise _Enough
        elif name == _SHEET_DATA:
            self.in_data = False

    def text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)
            self.value_size += len(data)
            if self.value_size > self.limits.max_field_chars:
                self._too_long()
        elif self.formula_text is not None:
            self.formula_text.append(data)
        elif self.inline is not None and not self.inline.text(data):
            self._too_long()

    # cells

    def _open_cell(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        if ref:
            match = _CELL_REF.match(ref)
            try:
                self.column = column_index_from_string(match.group(1).upper()) if match else 0
            except ValueError:
                self.column = 0
            if not self.column:
                raise UnreadableFile(
                    "berkas_rusak", f"Isi lembar kerja XLSX rusak: alamat sel tidak valid di baris {self.row_number}."
                )
        else:
            self.column += 1
        self.cell = attrs
        self.value, self.value_size, self.formula, self.formula_text, self.inline = None, 0, None, None, None

    def _cell_start(self, name: str, attrs: dict[str, str]) -> None:
        if name == _VALUE:
            self.value, self.value_size = [], 0
        elif name == _FORMULA:
            self.formula, self.formula_text = attrs, []
        elif name == _INLINE:
            self.inline = _RichText(self.limits.max_field_chars)
        elif self.inline is not None:
            self.inline.start(name)

    def _cell_end(self, name: str) -> None:
        if name == _VALUE and self.value is not None:
            self.cell = {**self.cell, "\0v": "".join(self.value)}  # the value's text, under a key no attribute has
            self.value = None
        elif name == _FORMULA and self.formula_text is not None:
            self.formula = {**self.formula, "\0text": "".join(self.formula_text)}
            self.formula_text = None
        elif self.inline is not None and name != _INLINE:
            self.inline.end(name)

    def _close_cell(self) -> None:
        cell, self.cell = self.cell, None
        value = self._value(cell)
        if self.formula is not None:
            self.formulas += 1
            if value is None:
                value = self._formula_text(self.formula)
                if value is not None:
                    self.formulas_without_result += 1
        if value is None or value == "":
            return
        if isinstance(value, str) and len(value) > self.limits.max_field_chars:
            self._too_long()
        if self.column > self.limits.max_columns:
            raise UnreadableFile(
                "kolom_terlalu_banyak",
                f"Baris {self.row_number} berkas berisi data di kolom {self.column} "
                f"({get_column_letter(self.column)}); batasnya {self.limits.max_columns} kolom. Hapus isian di "
                "luar tabel lalu kirim kembali.",
            )
        if self.row_number - 1 > self.limits.max_rows:
            raise UnreadableFile(
                "baris_terlalu_banyak",
                f"Berkas berisi data di baris {self.row_number}, melebihi batas {self.limits.max_rows} baris data "
                "per berkas. Hapus baris di luar tabel, atau bagi berkas bila memang sebanyak itu.",
            )
        self.cells.append((self.column, value))

    def _value(self, cell: dict[str, str]) -> object:
        data_type = cell.get("t", "n")
        if data_type == "inlineStr":
            return self.inline.content() if self.inline is not None else None
        value = cell.get("\0v") or None
        if value is None:
            return None
        if data_type == "n":
            number = _cast_number(value)
            style = cell.get("s")
            style_id = int(style) if style and style.isdigit() else 0
            if style_id in self.book.date_styles and not isinstance(number, str):
                try:
                    return from_excel(number, self.book.epoch, timedelta=style_id in self.book.timedelta_styles)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if data_type == "s":
            try:
                return self.book.shared_strings[int(value)]
            except (ValueError, IndexError):
                raise UnreadableFile(
                    "berkas_rusak",
                    f"Isi lembar kerja XLSX rusak: sel {get_column_letter(self.column)}{self.row_number} merujuk "
                    "teks bersama (sharedStrings) yang tidak ada.",
                ) from None
        if data_type == "b":
            return bool(int(value)) if value in ("0", "1") else value
        if data_type == "d":
            try:
                return from_ISO8601(value)
            except ValueError:
                return value
        return value  # "str" (a formula's text result), "e" (an error code such as #N/A)

    def _formula_text(self, formula: dict[str, str]) -> str | None:
        """A formula without a stored result as its text, the way openpyxl shows it (shared formulas
        translated from their first cell)."""
        text = formula.get("\0text") or ""
        here = f"{get_column_letter(self.column)}{self.row_number}"
        if formula.get("t") == "shared" and formula.get("si") is not None:
            si = formula["si"]
            if text:
                self.shared_formulas[si] = (text, here)
            elif si in self.shared_formulas:
                origin_text, origin = self.shared_formulas[si]
                try:
                    return Translator(f"={origin_text}", origin).translate_formula(here)
                except Exception:  # a formula openpyxl cannot translate: its first cell's text
                    return f"={origin_text}"
        return f"={text}" if text else None

    def _too_long(self) -> None:
        raise UnreadableFile(
            "isian_terlalu_panjang",
            f"Isian di baris {self.row_number} berkas, kolom {self.column} ({get_column_letter(self.column)}) "
            f"berisi lebih dari {self.limits.max_field_chars} karakter; isian sepanjang itu bukan data usulan. "
            "Periksa sel tersebut.",
        )

    def result(self) -> Sheet:
        last = max(self.rows, default=0)
        rows: list[list[object]] = []
        for number in range(1, last + 1):
            cells = self.rows.get(number)
            if not cells:
                rows.append([])
                continue
            row: list[object] = [None] * max(column for column, _ in cells)
            for column, value in cells:
                row[column - 1] = value  # a column written twice: the later cell wins, as in openpyxl
            rows.append(row)
        return Sheet(rows, self.formulas, self.formulas_without_result)


def _row_number(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        number = int(value) if value.is_integer() else 0
    if not 1 <= number <= 1_048_576:
        raise UnreadableFile("berkas_rusak", "Isi lembar kerja XLSX rusak: nomor baris tidak valid.")
    return number
