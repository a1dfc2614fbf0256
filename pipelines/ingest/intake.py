"""Ingest: read every input file of the quarter into one frame per kind, and report on each file.

Every readable submission row comes out here with its `source_file` and `source_row` and its original
text; what happens to it later is decided by validation and linkage. Files that cannot be used at all
are reported (with the reason in Indonesian) and their rows, where readable, are marked for quarantine.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.config import DUKCAPIL_LIMITS, SUBMISSION_LIMITS, FileLimits
from pipelines.contract import (
    DATA_TIDAK_LENGKAP,
    DUKCAPIL_COLUMNS,
    DUKCAPIL_REQUIRED,
    FORMAT_TIDAK_VALID,
    SUBMISSION_COLUMNS,
    SUBMISSION_REQUIRED,
)
from pipelines.discover import REJECTING_PROBLEMS, InputFile
from pipelines.ingest.readers import RawTable, UnreadableFile, header_key, read_table
from pipelines.landing import LandingReadError, read_landing_file

# File statuses in the run record.
ACCEPTED = "ACCEPTED"  # rows go on to validation
REJECTED = "REJECTED"  # readable, but unusable as a whole: every row is quarantined
UNREADABLE = "UNREADABLE"  # not readable at all (damaged, or beyond a limit): no rows, FORMAT_TIDAK_VALID
EMPTY = "EMPTY"  # readable, no data rows

# Where a header row is looked for when the first row is not one (a title above the table, say).
_HEADER_SEARCH_ROWS = 10
# A file is rejected as a whole when more than this share of its rows name another village.
_FOREIGN_ROWS_SHARE = 0.5
# Headers operators often write instead of the contract's names: named in the rejection message as a hint.
_HEADER_HINTS = {
    "tgl_lahir": "tanggal_lahir",
    "tanggal_lahir_(dd/mm/yyyy)": "tanggal_lahir",
    "jk": "jenis_kelamin",
    "l/p": "jenis_kelamin",
    "nomor_kk": "no_kk",
    "no_kartu_keluarga": "no_kk",
    "kk": "no_kk",
    "nama_lengkap": "nama",
    "shdk": "hubungan_keluarga",
    "hubungan": "hubungan_keluarga",
    "status": "status_usulan",
    "kode_wilayah": "kode_desa",
    "kode_kelurahan": "kode_desa",
}


@dataclass
class FileReport:
    source_file: str
    kind: str
    kode_kab: str
    kode_desa: str | None
    format: str
    sha256: str = ""
    size_bytes: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    data_rows: int = 0
    blank_rows: int = 0
    status: str = ACCEPTED
    # The contract category of a rejected file (DATA_TIDAK_LENGKAP or FORMAT_TIDAK_VALID), and of an unreadable
    # one (FORMAT_TIDAK_VALID: its content cannot be parsed).
    rejection_category: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)  # {"code", "message"} in Indonesian

    def to_dict(self) -> dict:
        return asdict(self)

    def add(self, code: str, message: str) -> None:
        self.problems.append({"code": code, "message": message})


def landing_bytes(item: InputFile, max_bytes: int = SUBMISSION_LIMITS.max_file_bytes) -> bytes:
    """The file's bytes, read from the landing root without following any symlink below it."""
    landing = item.path[: -len(item.source_file)] if item.path.endswith(item.source_file) else None
    if landing is None:
        raise LandingReadError("jalur_tidak_sah", "Berkas berada di luar area landing; tidak dibaca.")
    return read_landing_file(landing, item.source_file, max_bytes)


def _unreadable(report: FileReport, code: str, message: str) -> None:
    """The file cannot be read: no rows, the reason (which names the file) in its report. Run-level failures
    (the disk, memory) are not caught on the way here: they fail the run."""
    report.status, report.rejection_category = UNREADABLE, FORMAT_TIDAK_VALID
    report.add(code, message)


def _named(item: InputFile, message: str) -> str:
    return f"{Path(item.source_file).name}: {message}"


def _read(item: InputFile, report: FileReport, limits: FileLimits) -> RawTable | None:
    try:
        data = landing_bytes(item, limits.max_file_bytes)
    except LandingReadError as exc:
        _unreadable(report, exc.code, exc.message)
        return None
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.size_bytes = len(data)
    try:
        table = read_table(data, item.format, limits)
    except UnreadableFile as exc:
        _unreadable(report, exc.code, _named(item, exc.message))
        return None
    report.encoding, report.delimiter = table.encoding, table.delimiter
    for code, message in table.notes:
        report.add(code, message)
    if table.rejection is not None:
        code, message = table.rejection
        report.status, report.rejection_category = REJECTED, FORMAT_TIDAK_VALID
        report.add(code, _named(item, message))
    return table


# A first row that is data, not column names: an identifier (8 digits or more, maybe with separators, or in
# Excel's exponent form) or a date. Only decided when no cell of the row is a known column name.
_DATA_VALUE = re.compile(
    "^'?(?:"
    + "|".join(
        (
            r"\d[\d .'-]{6,}\d(?:\.0)?",  # a NIK, KK or kode_desa, maybe grouped
            r"\d(?:[.,]\d+)?E\+?\d+",  # ... shown by Excel in exponent form
            r"\d{4}-\d{1,2}-\d{1,2}(?: 00:00:00)?",  # a date
            r"\d{1,2}[-/]\d{1,2}[-/]\d{4}",
        )
    )
    + ")$",
    re.IGNORECASE,
)


def _headerless(table: RawTable) -> bool:
    keys = {header_key(h) for h in table.header}
    if keys & (set(SUBMISSION_COLUMNS) | set(_HEADER_HINTS)):
        return False
    return any(_DATA_VALUE.match(h.strip()) for h in table.header)


def _positions(columns: list[int]) -> str:
    return " dan ".join(str(c) for c in columns)


def _header_elsewhere(table: RawTable) -> int | None:
    """The file row (1 = first) of a row among the first few that holds every required column, if any."""
    for n, row in enumerate(table.rows[:_HEADER_SEARCH_ROWS], start=2):
        keys = {header_key(v) for v in row}
        if all(c in keys for c in SUBMISSION_REQUIRED):
            return n
    return None


def _submission_columns(table: RawTable, report: FileReport) -> dict[str, int]:
    """Map contract column -> position; mark the file rejected when columns are missing or doubled."""
    keys = [header_key(h) for h in table.header]
    positions: dict[str, int] = {}
    doubled = sorted({k for k in keys if k and keys.count(k) > 1}, key=keys.index)
    for i, key in enumerate(keys):
        positions.setdefault(key, i)
    missing = [c for c in SUBMISSION_REQUIRED if c not in positions]
    if doubled:
        # Named by position: a header cell can hold anything (a NIK, a name); a contract column's own name
        # is safe to repeat.
        named = []
        for key in doubled:
            columns = _positions([i + 1 for i, k in enumerate(keys) if k == key])
            named.append(f"{key} (kolom {columns})" if key in SUBMISSION_COLUMNS else f"kolom {columns}")
        report.status, report.rejection_category = REJECTED, FORMAT_TIDAK_VALID
        report.add(
            "kolom_ganda",
            f"Judul kolom yang sama muncul lebih dari sekali: {'; '.join(named)}. Beri setiap kolom judul sesuai "
            "templat, satu kali saja.",
        )
    if missing:
        report.status, report.rejection_category = REJECTED, DATA_TIDAK_LENGKAP
        message = f"Kolom wajib tidak ada: {', '.join(missing)}."
        hints = [
            f"'{header_key(h)}' di kolom {i + 1} untuk {_HEADER_HINTS[header_key(h)]}"
            for i, h in enumerate(table.header)
            if header_key(h) in _HEADER_HINTS
        ]
        if hints:
            message += f" Judul kolom harus persis seperti templat (ditemukan {', '.join(hints)})."
        elsewhere = _header_elsewhere(table)
        if elsewhere is not None:
            message += f" Judul kolom ditemukan di baris {elsewhere}; judul kolom harus berada di baris pertama."
        report.add("kolom_wajib_tidak_ada", message)
    return positions


def _check_rows_name_the_file(item: InputFile, frame: pd.DataFrame, report: FileReport) -> None:
    """A file whose rows mostly name another village than its file name is rejected: which one is right
    cannot be told. A few such rows are quarantined one by one by validation instead."""
    from pipelines.clean import clean_digits

    if report.status != ACCEPTED or item.kode_desa is None or frame.empty:
        return
    codes = pd.Series(clean_digits(frame["kode_desa"]).to_numpy(), dtype=object)
    formed = codes[codes.astype("string").str.fullmatch(r"\d{10}").fillna(False).astype(bool)]
    foreign = formed[formed != item.kode_desa]
    if len(formed) and len(foreign) / len(formed) > _FOREIGN_ROWS_SHARE:
        common = ", ".join(foreign.value_counts().index[:3])
        report.status, report.rejection_category = REJECTED, FORMAT_TIDAK_VALID
        report.add(
            "kode_desa_tidak_sesuai_nama_berkas",
            f"Nama berkas menyebut desa {item.kode_desa}, tetapi {len(foreign)} dari {len(frame)} baris "
            f"berisi kode desa lain ({common}). Periksa apakah berkas tertukar atau salah nama.",
        )


def _submission_frame(item: InputFile, table: RawTable, report: FileReport) -> pd.DataFrame:
    if not any(h.strip() for h in table.header) and not table.rows:
        report.status = EMPTY
        report.add("berkas_kosong", "Berkas kosong (tidak ada judul kolom maupun baris data).")
        return pd.DataFrame()
    if _headerless(table):
        # The first line is a person, not column names: every line is a data row (source_row 1 is the first
        # line), its values kept under their column number; the file is rejected as a whole.
        table = RawTable([], [table.header, *table.rows], table.encoding, table.delimiter, table.notes, table.rejection)
        report.status, report.rejection_category = REJECTED, DATA_TIDAK_LENGKAP
        report.add(
            "judul_kolom_tidak_ada",
            f"{Path(item.source_file).name}: baris judul kolom tidak ada. Baris pertama berkas sudah berisi data "
            "(nomor identitas atau tanggal), bukan nama kolom, sehingga isi kolom tidak dapat dikenali. Seluruh "
            "baris ditolak; tambahkan baris judul sesuai templat (kode_desa, no_kk, nik, nama, ...) di baris "
            "pertama lalu kirim kembali.",
        )
        positions: dict[str, int] = {}
    else:
        positions = _submission_columns(table, report)
    width = len(table.header)
    # A row is blank when all its values are whitespace: the same as `any(v.strip() ...)`, joined at C speed.
    numbered = [(n, row) for n, row in enumerate(table.rows, start=1) if "".join(row).strip()]
    report.data_rows = len(numbered)
    report.blank_rows = len(table.rows) - len(numbered)
    if not numbered:
        if report.status == ACCEPTED:
            report.status = EMPTY
            report.add("berkas_kosong", "Berkas tidak berisi baris data (hanya judul kolom atau kosong).")
        return pd.DataFrame()

    rows = [row for _, row in numbered]
    data: dict[str, list] = {
        "source_file": [item.source_file] * len(rows),
        "source_row": [n for n, _ in numbered],
    }
    used = [i for i in positions.values() if i is not None]
    # Every row long enough for every contract column (the usual file): the columns by one transposition.
    by_position = list(zip(*rows, strict=False)) if used and min(map(len, rows)) > max(used) else None
    for column in SUBMISSION_COLUMNS:
        i = positions.get(column)
        if by_position is not None:
            data[column] = list(by_position[i]) if i is not None else [None] * len(rows)
        else:
            data[column] = [row[i] if i is not None and i < len(row) else None for row in rows]
    # Columns that are not the contract's, and second copies of doubled ones, are kept under their header
    # (with the column number when a header repeats), so a quarantined row shows everything it held.
    keys = [header_key(h) for h in table.header]
    extra_columns = [
        (h if keys.count(keys[i]) == 1 else f"{h} (kolom {i + 1})", i)
        for i, h in enumerate(table.header)
        if keys[i] not in SUBMISSION_COLUMNS or positions.get(keys[i]) != i
    ]

    def extras(row: list[str]) -> str | None:
        values = {h: row[i] for h, i in extra_columns if i < len(row)}
        # Values beyond the last header column are kept too, under the column number they sit in.
        values.update({f"(kolom {i + 1} tanpa judul)": v for i, v in enumerate(row[width:], start=width) if v.strip()})
        return json.dumps(values, ensure_ascii=False) if values else None

    data["_extra"] = [extras(row) for row in rows]
    # More values than header columns: something shifted (an unquoted separator in a name, usually).
    data["_row_problem"] = [
        "jumlah_kolom" if width and len(row) > width and any(v.strip() for v in row[width:]) else None for row in rows
    ]
    frame = pd.DataFrame(data)
    frame["file_kode_kab"] = item.kode_kab
    frame["file_kode_desa"] = item.kode_desa
    _check_rows_name_the_file(item, frame, report)
    frame["_file_rejection"] = report.rejection_category
    return frame


def _no_submissions() -> pd.DataFrame:
    """The submission rows of a kabupaten/kota that sent none (it has only its Dukcapil extract): no row,
    every column a read file has, so validation and linkage handle it like any other."""
    columns = ["source_file", "source_row", *SUBMISSION_COLUMNS, "_extra", "_row_problem"]
    columns += ["file_kode_kab", "file_kode_desa", "_file_rejection"]
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return frame.astype({"source_row": "int64"})


def _flag_villages_with_several_files(reports: list[FileReport]) -> None:
    """Two accepted files for one village (a CSV and an XLSX, say) are both used; the duplicates they share
    are found by linkage (GANDA), and both files carry a note. A rejected copy (one in the wrong folder, say)
    is no second submission: its rows are all quarantined, and its own report says why."""
    by_desa: dict[str, list[FileReport]] = {}
    for report in reports:
        if report.kode_desa and report.status == ACCEPTED:
            by_desa.setdefault(report.kode_desa, []).append(report)
    for desa, group in by_desa.items():
        if len(group) > 1:
            names = ", ".join(r.source_file for r in group)
            for report in group:
                report.add(
                    "desa_lebih_dari_satu_berkas",
                    f"Desa {desa} mengirim lebih dari satu berkas ({names}); semua dibaca, baris yang sama "
                    "ditandai sebagai data ganda. Kirim satu berkas per desa.",
                )


def ingest_submissions(
    files: list[InputFile], limits: FileLimits = SUBMISSION_LIMITS
) -> tuple[pd.DataFrame, list[FileReport]]:
    frames, reports = [], []
    for item in files:
        report = FileReport(item.source_file, item.kind, item.kode_kab, item.kode_desa, item.format)
        for code, message in item.problems:
            report.add(code, message)
            if code in REJECTING_PROBLEMS:
                # The file cannot be attributed to a village of this kabupaten: its rows are read and kept,
                # all quarantined.
                report.status, report.rejection_category = REJECTED, FORMAT_TIDAK_VALID
        table = _read(item, report, limits)
        if table is not None:
            frame = _submission_frame(item, table, report)
            if len(frame):
                frames.append(frame)
        reports.append(report)
    _flag_villages_with_several_files(reports)
    rows = pd.concat(frames, ignore_index=True) if frames else _no_submissions()
    return rows, reports


# Control characters in the UTF-8 bytes of an extract (C0 but tab/LF/CR, DEL, C1, the bidi controls): noted;
# NUL is made visible before parsing (pandas' C parser would cut the field at it), cleaning drops them all.
_CONTROL_BYTES = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
)
_NUL_PICTURE = "\u2400".encode()


def _arrow_frame(data: bytes) -> pd.DataFrame | None:
    """The extract read by Arrow's multi-threaded CSV reader into Arrow-backed string columns (several times
    faster than pandas' reader into Python strings at a million rows), or None when the file is anything
    but plain (a header naming a column twice or not at all, a row of another length, bytes that are not
    UTF-8...): pandas' reader then reads it, and says what is wrong, exactly as before. The values are the
    same either way: every field as text, an empty field as "", blank lines skipped."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    first_line = body.split(b"\n", 1)[0]
    if b"\r" in first_line.rstrip(b"\r") or b'"' in first_line:
        return None  # old Mac line ends, or quoted header names: left to pandas
    try:
        names = first_line.rstrip(b"\r").decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None  # pandas renames repeated and unnamed columns (`NIK.1`, `Unnamed: 3`)
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            parse_options=pacsv.ParseOptions(newlines_in_values=b'"' in body),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:
        return None
    if table.column_names != names:
        return None
    return table.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)


def _pandas_frame(data: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except MemoryError:
        raise
    except UnicodeDecodeError as exc:
        raise UnreadableFile("berkas_rusak", "Ekstrak Dukcapil tidak dalam UTF-8; minta ekstrak ulang.") from exc
    except pd.errors.EmptyDataError as exc:
        raise UnreadableFile("berkas_kosong", "Ekstrak Dukcapil kosong.") from exc
    except Exception as exc:  # pandas' parser on this content: its message may quote a value, its type does not
        raise UnreadableFile(
            "berkas_rusak",
            f"Ekstrak Dukcapil tidak dapat dibaca sebagai CSV ({type(exc).__name__}); minta ekstrak ulang.",
        ) from exc


def _dukcapil_frame(data: bytes, limits: FileLimits) -> pd.DataFrame:
    """The extract as text columns, within the limits. Raises UnreadableFile."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise UnreadableFile("berkas_rusak", "Ekstrak Dukcapil berupa buku kerja Excel, bukan teks CSV.")
    if b"\x00" in data:
        data = data.replace(b"\x00", _NUL_PICTURE)
    frame = _arrow_frame(data)
    if frame is None:
        frame = _pandas_frame(data)
    if len(frame) > limits.max_rows:
        raise UnreadableFile(
            "baris_terlalu_banyak",
            f"Ekstrak Dukcapil berisi {len(frame)} baris, melebihi batas {limits.max_rows} baris "
            "(pengaturan intake.dukcapil.max_rows).",
        )
    if len(frame.columns) > limits.max_columns:
        raise UnreadableFile(
            "kolom_terlalu_banyak",
            f"Ekstrak Dukcapil berisi {len(frame.columns)} kolom, melebihi batas {limits.max_columns} kolom.",
        )
    # A field can only be too long where a line is: most extracts are checked by their longest line alone.
    if max(map(len, data.split(b"\n")), default=0) > limits.max_field_chars:
        for i, column in enumerate(frame.columns):
            lengths = frame[column].str.len()
            if len(lengths) and lengths.max() > limits.max_field_chars:
                raise UnreadableFile(
                    "isian_terlalu_panjang",
                    f"Ekstrak Dukcapil: isian di baris {int(lengths.idxmax()) + 1}, kolom {i + 1} berisi lebih dari "
                    f"{limits.max_field_chars} karakter.",
                )
    return frame


def ingest_dukcapil(
    files: list[InputFile], limits: FileLimits = DUKCAPIL_LIMITS
) -> tuple[pd.DataFrame, list[FileReport]]:
    """Dukcapil extracts are large and machine-made: parsed with Arrow's reader (pandas' C reader for any
    extract that is not plain), columns by exact name. An
    extract that cannot be read is reported (its persons cannot be linked against) and the quarter goes on."""
    frames, reports = [], []
    for item in files:
        report = FileReport(item.source_file, item.kind, item.kode_kab, None, item.format)
        reports.append(report)
        for code, message in item.problems:
            report.add(code, message)
        try:
            data = landing_bytes(item, limits.max_file_bytes)
        except LandingReadError as exc:
            _unreadable(report, exc.code, exc.message)
            continue
        report.sha256, report.size_bytes = hashlib.sha256(data).hexdigest(), len(data)
        if item.format != "csv":
            report.status, report.rejection_category = UNREADABLE, FORMAT_TIDAK_VALID
            continue
        controls = len(_CONTROL_BYTES.findall(data)) if _CONTROL_BYTES.search(data) else 0
        try:
            frame = _dukcapil_frame(data, limits)
        except UnreadableFile as exc:
            _unreadable(report, exc.code, _named(item, exc.message))
            continue
        del data
        if controls:
            report.add(
                "karakter_kontrol",
                f"{controls} karakter kontrol (mis. NUL) atau pengatur arah teks di dalam isian ekstrak; dihapus dari "
                "nilai yang diproses.",
            )
        frame.columns = [c.strip().upper() for c in frame.columns]
        missing = [c for c in DUKCAPIL_REQUIRED if c not in frame.columns]
        if missing:
            report.status, report.rejection_category = REJECTED, DATA_TIDAK_LENGKAP
            report.add("kolom_wajib_tidak_ada", f"Kolom wajib tidak ada di ekstrak Dukcapil: {', '.join(missing)}.")
            continue
        for column in DUKCAPIL_COLUMNS:
            if column not in frame.columns:
                frame[column] = ""
        frame = frame[list(DUKCAPIL_COLUMNS)]
        frame.insert(0, "source_row", range(1, len(frame) + 1))
        frame.insert(0, "source_file", item.source_file)
        report.data_rows = len(frame)
        frames.append(frame)
    persons = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["source_file", "source_row", *DUKCAPIL_COLUMNS])
    )
    return persons, reports
