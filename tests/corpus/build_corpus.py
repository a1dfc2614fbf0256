"""Writes the damaged-input corpus: `tests/corpus/cases/<case>/`, each with its input file(s) and an
`expected.json` saying what the intake must make of it (tests/test_corpus.py checks every case).

The files are committed; this script is how they were made, so a case can be reviewed and re-made:
`.venv/bin/python tests/corpus/build_corpus.py`. Each case is one village of Kabupaten Lombok Timur (5203)
with its own desa code, so all cases run together in one landing area.

expected.json:
- `covers`: the issue item and bullet the case stands for; `description`: the damage, in a sentence.
- `files`: the inputs and where each goes under `<landing>/<quarter>/submissions/`.
- `file`: the file report: `status`, problem `codes` it must carry, `data_rows`, `rejection_category`.
- `rows`: one entry per data row (conservation: exactly these rows, each once): `quarantined`, the
  `categories` of its reasons (warnings aside), `fields` its reasons must name, `messages` (substrings)
  its reasons must hold, `warnings` (expectation labels), and `canonical` values after repair;
  `held_for_linkage` when a readable but implausible value holds the row for linkage (quarantined after
  linkage only if it is not linked).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent.parent))

from openpyxl import Workbook  # noqa: E402

from pipelines import regions  # noqa: E402
from pipelines.contract import SUBMISSION_COLUMNS  # noqa: E402

CASES = ROOT / "cases"
KAB = "5203"
DESA = list(regions.desa_of_kabupaten(KAB))
HEADER = list(SUBMISSION_COLUMNS)
NAMES = ("LALU AHMAD", "BAIQ SITI AMINAH", "MUHAMMAD ZAINI", "NURUL HIDAYATI", "SUPARDI", "HJ MAEMUNAH")
_FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def nik_for(desa: str, birth: str, sex: str, serial: int) -> str:
    day = int(birth[8:10]) + (40 if sex == "P" else 0)
    return f"{desa[:6]}{day:02d}{birth[5:7]}{birth[2:4]}{serial:04d}"


def person(desa: str, i: int, **changes: str) -> dict[str, str]:
    """A clean row: a valid NIK that agrees with the birth date and sex, a valid KK, accepted spellings."""
    sex = "L" if i % 2 == 0 else "P"
    birth = f"{1961 + 7 * i}-{(i % 12) + 1:02d}-{(3 * i) % 27 + 1:02d}"
    row = {
        "kode_desa": desa,
        "id_dtks": "",
        "no_kk": f"{desa[:6]}0101150{i // 3 + 1:03d}",
        "nik": nik_for(desa, birth, sex, i + 1),
        "nama": NAMES[i % len(NAMES)],
        "jenis_kelamin": sex,
        "tempat_lahir": "SELONG",
        "tanggal_lahir": birth,
        "hubungan_keluarga": "KEPALA KELUARGA" if i % 3 == 0 else "ANAK",
        "nama_ibu_kandung": "INAQ RAHMAH",
        "alamat": "DUSUN TIMUR",
        "rt": "001",
        "rw": "002",
        "pekerjaan": "PETANI",
        "status_usulan": "TETAP",
        "alasan_nonaktif": "",
        "program": "PKH;BPNT",
    }
    row.update(changes)
    return row


def csv_bytes(
    rows: list[dict[str, str]] | list[list[str]],
    *,
    header: list[str] | None = None,
    delimiter: str = ",",
    newline: str = "\n",
    encoding: str = "utf-8",
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    columns = header or HEADER
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in HEADER] if isinstance(row, dict) else row)
    return out.getvalue().encode(encoding)


def _stable(data: bytes) -> bytes:
    """A workbook with fixed zip entry times and document dates, so the corpus is byte-for-byte stable."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>2026-01-01T00:00:00Z\g<3>",
                    content,
                )
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()


def xlsx_bytes(
    rows: list[list[Any]], *, header: list[str] | None = None, sheets: int = 1, epoch_1904: bool = False
) -> bytes:
    workbook = Workbook()
    if epoch_1904:
        workbook.epoch = dt.datetime(1904, 1, 1)
    sheet = workbook.active
    sheet.title = "Usulan"
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    for n in range(1, sheets):
        workbook.create_sheet(f"Lembar{n + 1}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _stable(buffer.getvalue())


def values(row: dict[str, Any]) -> list[Any]:
    return [row.get(c, "") or None for c in HEADER]


def ok(n: int, **extra: Any) -> dict[str, Any]:
    return {"row": n, "quarantined": False, "categories": [], **extra}


def bad(n: int, categories: list[str], **extra: Any) -> dict[str, Any]:
    return {"row": n, "quarantined": True, "categories": sorted(categories), **extra}


def held(n: int, categories: list[str], **extra: Any) -> dict[str, Any]:
    return {"row": n, "quarantined": False, "held_for_linkage": True, "categories": sorted(categories), **extra}


class Corpus:
    def __init__(self) -> None:
        self.cases: list[tuple[str, dict[str, Any], dict[str, bytes]]] = []
        self._desa = iter(DESA)

    def desa(self) -> str:
        return next(self._desa)

    def add(
        self,
        name: str,
        covers: str,
        description: str,
        files: dict[str, bytes],
        file: dict[str, Any],
        rows: list[dict[str, Any]],
        landing: dict[str, str] | None = None,
    ) -> None:
        """`files`: input name -> bytes; `landing`: input name -> path under submissions/ (default: the kabupaten
        folder and the input's own name)."""
        number = f"{len(self.cases) + 1:02d}"
        placed = landing or {}
        expected = {
            "case": f"{number}_{name}",
            "covers": covers,
            "description": description,
            "files": [{"input": f, "landing": placed.get(f, f"{KAB}/{f}")} for f in files],
            "file": {"rejection_category": None, "codes": [], **file},
            "rows": rows,
        }
        self.cases.append((f"{number}_{name}", expected, files))

    def write(self) -> None:
        shutil.rmtree(CASES, ignore_errors=True)
        for name, expected, files in self.cases:
            directory = CASES / name
            directory.mkdir(parents=True)
            for file_name, data in files.items():
                (directory / file_name).write_bytes(data)
            (directory / "expected.json").write_text(
                json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )


def file_level(c: Corpus) -> None:
    """Issue item 3: problems of the file as a whole."""
    d = c.desa()
    c.add(
        "unreadable_binary",
        "3: unreadable file",
        "Binary garbage saved with a .csv name: no row can be read; the file is reported as unreadable.",
        {f"{d}.csv": bytes(range(256)) * 8},
        {"status": "UNREADABLE", "codes": ["berkas_rusak"], "data_rows": 0, "rejection_category": "FORMAT_TIDAK_VALID"},
        [],
    )
    d = c.desa()
    rows = [person(d, 0, nama="JOSÉ RAMÍREZ"), person(d, 1)]
    c.add(
        "encoding_cp1252",
        "3: wrong encoding",
        "A CSV saved by Excel on Windows (cp1252, not UTF-8): read as Windows-1252 and flagged, 'É' kept.",
        {f"{d}.csv": csv_bytes(rows, encoding="cp1252")},
        {"status": "ACCEPTED", "codes": ["encoding_bukan_utf8"], "data_rows": 2},
        [ok(1, canonical={"nama": "JOSÉ RAMÍREZ"}), ok(2)],
    )
    d = c.desa()
    rows = [person(d, 0), person(d, 1)]
    c.add(
        "encoding_utf16_tabs",
        "3: wrong encoding",
        "Excel's 'Unicode Text' export: UTF-16 with a BOM, tab-separated. Read, and flagged.",
        {f"{d}.csv": b"\xff\xfe" + csv_bytes(rows, delimiter="\t").decode().encode("utf-16-le")},
        {"status": "ACCEPTED", "codes": ["encoding_bukan_utf8"], "data_rows": 2},
        [ok(1), ok(2)],
    )
    d = c.desa()
    header = [h for h in HEADER if h not in ("nama", "tanggal_lahir")]
    rows = [[person(d, i)[h] for h in header] for i in range(3)]
    c.add(
        "missing_required_columns",
        "3: missing required columns",
        "The template's nama and tanggal_lahir columns were deleted: the file is rejected, its 3 rows are kept "
        "and quarantined with the file's reason.",
        {f"{d}.csv": csv_bytes(rows, header=header)},
        {
            "status": "REJECTED",
            "codes": ["kolom_wajib_tidak_ada"],
            "data_rows": 3,
            "rejection_category": "DATA_TIDAK_LENGKAP",
        },
        [bad(n, ["DATA_TIDAK_LENGKAP"], messages=["Kolom wajib tidak ada: nama, tanggal_lahir."]) for n in (1, 2, 3)],
    )
    d = c.desa()
    header = [*HEADER, "NAMA"]
    rows = [[*person(d, i).values(), f"NAMA KEDUA {i}"] for i in range(2)]
    c.add(
        "duplicate_headers",
        "3: duplicate headers",
        "Two columns are both called nama (case-insensitive): which is right cannot be told; the file is "
        "rejected and the second copy is kept in the quarantined rows' raw fields.",
        {f"{d}.csv": csv_bytes(rows, header=header)},
        {"status": "REJECTED", "codes": ["kolom_ganda"], "data_rows": 2, "rejection_category": "FORMAT_TIDAK_VALID"},
        [
            bad(1, ["FORMAT_TIDAK_VALID"], raw_fields={"NAMA (kolom 18)": "NAMA KEDUA 0"}),
            bad(2, ["FORMAT_TIDAK_VALID"], raw_fields={"NAMA (kolom 18)": "NAMA KEDUA 1"}),
        ],
    )
    d = c.desa()
    c.add(
        "empty_file",
        "3: empty",
        "A file of zero bytes: reported as empty; there are no rows to lose.",
        {f"{d}.csv": b""},
        {"status": "EMPTY", "codes": ["berkas_kosong"], "data_rows": 0},
        [],
    )
    d = c.desa()
    c.add(
        "header_only",
        "3: header only",
        "The template with its header and blank lines but no data row: reported as empty.",
        {f"{d}.csv": csv_bytes([]) + b",,,\n\n"},
        {"status": "EMPTY", "codes": ["berkas_kosong"], "data_rows": 0},
        [],
    )
    d = c.desa()
    whole = xlsx_bytes([values(person(d, 0))])
    c.add(
        "corrupt_xlsx",
        "3: corrupt XLSX",
        "A workbook cut off in transfer (the first half of a real XLSX): unreadable, reported.",
        {f"{d}.xlsx": whole[: len(whole) // 2]},
        {"status": "UNREADABLE", "codes": ["berkas_rusak"], "data_rows": 0, "rejection_category": "FORMAT_TIDAK_VALID"},
        [],
    )
    other = next(iter(regions.desa_of_kabupaten("5201")))
    rows = [person(other, 0), person(other, 1)]
    c.add(
        "village_outside_kabupaten",
        "3: a village outside the kabupaten",
        "A village of Lombok Barat (5201) filed in Lombok Timur's folder: the file is rejected, its rows are "
        "quarantined.",
        {f"{other}.csv": csv_bytes(rows)},
        {
            "status": "REJECTED",
            "codes": ["desa_di_luar_kabupaten"],
            "data_rows": 2,
            "rejection_category": "FORMAT_TIDAK_VALID",
        },
        [bad(1, ["FORMAT_TIDAK_VALID"], fields=["kode_desa"]), bad(2, ["FORMAT_TIDAK_VALID"], fields=["kode_desa"])],
    )
    d, named = c.desa(), c.desa()
    rows = [person(d, i) for i in range(3)]
    c.add(
        "file_name_disagrees_with_rows",
        "3: a file name that disagrees with its rows",
        f"Village {d}'s rows saved as {named}.csv: which is right cannot be told; the file is rejected.",
        {f"{named}.csv": csv_bytes(rows)},
        {
            "status": "REJECTED",
            "codes": ["kode_desa_tidak_sesuai_nama_berkas"],
            "data_rows": 3,
            "rejection_category": "FORMAT_TIDAK_VALID",
        },
        [bad(n, ["FORMAT_TIDAK_VALID"], fields=["kode_desa"]) for n in (1, 2, 3)],
    )
    d = c.desa()
    rows = [person(d, 0)]
    c.add(
        "file_name_not_a_desa_code",
        "3: a file name that disagrees with its rows",
        "A file named after the village's name instead of its code: it cannot be attributed; rejected.",
        {"desa_sukamaju.csv": csv_bytes(rows)},
        {
            "status": "REJECTED",
            "codes": ["nama_berkas_tidak_sesuai"],
            "data_rows": 1,
            "rejection_category": "FORMAT_TIDAK_VALID",
        },
        [bad(1, ["FORMAT_TIDAK_VALID"])],
    )
    d = c.desa()
    rows = [person(d, 0)]
    c.add(
        "unknown_kabupaten_folder",
        "3: a village outside the kabupaten",
        "A file in a folder named 'lotim' instead of the kabupaten code: rejected, rows quarantined.",
        {f"{d}.csv": csv_bytes(rows)},
        {
            "status": "REJECTED",
            "codes": ["kabupaten_tidak_dikenal"],
            "data_rows": 1,
            "rejection_category": "FORMAT_TIDAK_VALID",
        },
        [bad(1, ["FORMAT_TIDAK_VALID"])],
        landing={f"{d}.csv": f"lotim/{d}.csv"},
    )
    d = c.desa()
    rows = [person(d, 0)]
    c.add(
        "file_outside_any_folder",
        "3: a village outside the kabupaten",
        "A file dropped directly under submissions/, outside any kabupaten folder: read, reported, rejected.",
        {f"{d}.csv": csv_bytes(rows)},
        {
            "status": "REJECTED",
            "codes": ["lokasi_berkas_salah"],
            "data_rows": 1,
            "rejection_category": "FORMAT_TIDAK_VALID",
        },
        [bad(1, ["FORMAT_TIDAK_VALID"])],
        landing={f"{d}.csv": f"{d}.csv"},
    )
    d = c.desa()
    c.add(
        "old_excel_xls",
        "3: unreadable file",
        "An Excel 97-2003 workbook (.xls, OLE2): not a supported format; reported with how to save it.",
        {f"{d}.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)},
        {
            "status": "UNREADABLE",
            "codes": ["format_tidak_didukung", "format_xls"],
            "data_rows": 0,
            "rejection_category": "FORMAT_TIDAK_VALID",
        },
        [],
    )
    d = c.desa()
    workbook = Workbook()
    workbook.active.title = "Kosong"
    data_sheet = workbook.create_sheet("Data")
    data_sheet.append(HEADER)
    data_sheet.append(values(person(d, 0)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    c.add(
        "data_on_second_sheet",
        "3: empty",
        "The data sits on the workbook's second sheet and the first one is empty: reported as empty, with the reason.",
        {f"{d}.xlsx": _stable(buffer.getvalue())},
        {"status": "EMPTY", "codes": ["lembar_pertama_kosong"], "data_rows": 0},
        [],
    )
    d = c.desa()
    title = [["DAFTAR USULAN DTKS DESA"], [], HEADER, *[list(person(d, i).values()) for i in range(2)]]
    c.add(
        "header_not_on_first_row",
        "3: missing required columns",
        "A title line above the table: the first row holds no column names; rejected with where the header "
        "was found. Every row (title, blank, header, data) is kept.",
        {f"{d}.csv": csv_bytes(title[1:], header=title[0])},
        {
            "status": "REJECTED",
            "codes": ["kolom_wajib_tidak_ada"],
            "data_rows": 3,
            "rejection_category": "DATA_TIDAK_LENGKAP",
        },
        [
            bad(
                n,
                ["DATA_TIDAK_LENGKAP", "FORMAT_TIDAK_VALID", "NIK_TIDAK_VALID"],
                messages=["Judul kolom ditemukan di baris 3"],
            )
            for n in (2, 3, 4)
        ],
    )
    d = c.desa()
    plain = [",".join(person(d, i, nama='"SUPARDI' if i == 1 else NAMES[i]).values()) for i in range(3)]
    lines = ",".join(HEADER) + "\n" + "\n".join(plain) + "\n"
    c.add(
        "unclosed_quote",
        "3: unreadable file",
        'A name typed with an opening quote ("SUPARDI) swallows the lines after it: the file is read line by '
        "line instead, rejected, and every line kept as a row.",
        {f"{d}.csv": lines.encode()},
        {
            "status": "REJECTED",
            "codes": ["tanda_petik_tidak_tertutup"],
            "data_rows": 3,
            "rejection_category": "FORMAT_TIDAK_VALID",
        },
        [bad(n, ["FORMAT_TIDAK_VALID"]) for n in (1, 2, 3)],
    )
    d = c.desa()
    c.add(
        "xlsx_saved_as_csv",
        "3: unreadable file",
        "A workbook renamed to .csv: read as the XLSX it is, and flagged.",
        {f"{d}.csv": xlsx_bytes([values(person(d, 0))])},
        {"status": "ACCEPTED", "codes": ["format_tidak_sesuai_nama"], "data_rows": 1},
        [ok(1)],
    )
    d = c.desa()
    other = c.desa()
    rows = [person(d, 0), person(d, 1, kode_desa=other), person(d, 2)]
    c.add(
        "one_row_of_another_village",
        "1: kode_desa matches the file name",
        "One row of an otherwise good file carries a neighbouring village's code: that row alone is "
        "quarantined, naming kode_desa.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 3},
        [ok(1), bad(2, ["FORMAT_TIDAK_VALID"], fields=["kode_desa"], messages=["nama berkas"]), ok(3)],
    )
    d = c.desa()
    data = (
        csv_bytes([person(d, 0)]).decode()
        + ",".join([*person(d, 1, nama="SUPARDI").values()]).replace("SUPARDI", "SUPARDI,BIN AMAQ")
        + "\n"
    )
    c.add(
        "more_values_than_columns",
        "3: missing required columns",
        "An unquoted comma inside a name shifts a row by one column: the row is quarantined, the extra value "
        "kept in its raw fields.",
        {f"{d}.csv": data.encode()},
        {"status": "ACCEPTED", "data_rows": 2},
        [
            ok(1),
            bad(2, ["FORMAT_TIDAK_VALID"], fields=["_row_problem"], raw_fields={"(kolom 18 tanpa judul)": "PKH;BPNT"}),
        ],
    )
    d = c.desa()
    c.add(
        "two_files_one_village",
        "3: a file name that disagrees with its rows",
        "The same village sent a CSV and an XLSX: both are read and both carry a note; the persons in both "
        "are the same people (GANDA, found by linkage).",
        {f"{d}.csv": csv_bytes([person(d, 0)]), f"{d}.xlsx": xlsx_bytes([values(person(d, 0))])},
        {"status": "ACCEPTED", "codes": ["desa_lebih_dari_satu_berkas"], "data_rows": 1},
        [ok(1)],
    )


def damage(c: Corpus) -> None:
    """Issue item 4: spreadsheet damage, repaired or flagged, never silently kept."""
    d = c.desa()
    rows = [person(d, 0, nik="3.20301E+15"), person(d, 1, no_kk="5.20301E+15"), person(d, 2)]
    c.add(
        "nik_kk_scientific_notation",
        "4: NIK and KK read as numbers (3.20101E+15)",
        "Excel showed the NIK and KK columns as numbers and saved them in scientific notation: the digits are "
        "gone. The NIK is a finding (the row goes on to linkage), the KK quarantines the row.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 3},
        [
            ok(1, categories=["NIK_TIDAK_VALID"], fields=["nik"], messages=["notasi ilmiah"]),
            bad(2, ["FORMAT_TIDAK_VALID"], fields=["no_kk"], messages=["notasi ilmiah"]),
            ok(3),
        ],
    )
    d = c.desa()
    good, exact = person(d, 0), person(d, 1)
    lost = values(good)
    lost[HEADER.index("nik")] = float(good["nik"][:15] + "0")  # what Excel keeps of a 16-digit number
    shown = format(float(good["nik"][:15] + "0"), ".15G")
    kept = values(exact)
    kept[HEADER.index("nik")] = int(exact["nik"])  # written by software: all 16 digits, last one not 0
    c.add(
        "nik_lost_last_digit_xlsx",
        "4: a lost last digit",
        "A NIK typed into a number cell: Excel kept 15 significant digits and turned the 16th into 0. The "
        "value cannot be trusted: it is read as Excel shows it (5.2...E+15) and flagged, never used as a NIK. "
        "A number cell holding all 16 digits (last one not 0: no digit was lost) is read as the NIK; both "
        "are noted on the file.",
        {f"{d}.xlsx": xlsx_bytes([lost, kept])},
        {"status": "ACCEPTED", "codes": ["angka_panjang"], "data_rows": 2},
        [
            ok(1, categories=["NIK_TIDAK_VALID"], messages=["notasi ilmiah"], canonical={"nik": shown}),
            ok(2, canonical={"nik": exact["nik"]}),
        ],
    )
    d = c.desa()
    r = person(d, 0)
    rows = [{**r, "nik": r["nik"] + ".0", "no_kk": r["no_kk"] + ".0", "kode_desa": d + ".0"}]
    c.add(
        "dot_zero_suffixes",
        "4: .0 suffixes",
        "Identifiers that passed through a float: '3203...0001.0'. The '.0' is removed; the digits are intact.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 1},
        [ok(1, canonical={"nik": r["nik"], "no_kk": r["no_kk"], "kode_desa": d})],
    )
    d = c.desa()
    r = person(d, 0)
    rows = [
        {
            **r,
            "nik": "'" + r["nik"],
            "no_kk": "'" + r["no_kk"],
            "tanggal_lahir": "'" + r["tanggal_lahir"],
            "nama": "'" + r["nama"],
        }
    ]
    c.add(
        "leading_apostrophes",
        "4: leading apostrophes",
        "Excel's text prefix typed into the cells ('3203...): removed from every value.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 1},
        [
            ok(
                1,
                canonical={
                    "nik": r["nik"],
                    "no_kk": r["no_kk"],
                    "tanggal_lahir": r["tanggal_lahir"],
                    "nama": r["nama"],
                },
            )
        ],
    )
    d = c.desa()
    r = person(d, 0)
    spaced = " ".join(r["nik"][i : i + 4] for i in range(0, 16, 4))
    dotted_kk = ".".join(r["no_kk"][i : i + 4] for i in range(0, 16, 4))
    dotted_desa = f"{d[:2]}.{d[2:4]}.{d[4:6]}.{d[6:]}"
    rows = [{**r, "nik": spaced, "no_kk": dotted_kk, "kode_desa": dotted_desa}]
    c.add(
        "spaces_and_dots_in_numbers",
        "4: spaces and dots inside numbers",
        "A NIK written in groups of four, a KK with dots, the dotted Kemendagri code: joined back into digits.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 1},
        [ok(1, canonical={"nik": r["nik"], "no_kk": r["no_kk"], "kode_desa": d})],
    )
    d = c.desa()
    r0, r1 = person(d, 0), person(d, 1)
    serial0 = (dt.date.fromisoformat(r0["tanggal_lahir"]) - dt.date(1899, 12, 30)).days
    serial1 = (dt.date.fromisoformat(r1["tanggal_lahir"]) - dt.date(1899, 12, 30)).days
    rows = [
        {**r0, "tanggal_lahir": str(serial0)},
        {**r1, "tanggal_lahir": f"{serial1}.0"},
        person(d, 2, tanggal_lahir="1985"),
    ]
    c.add(
        "excel_date_serials",
        "4: Excel date serials",
        "Birth dates saved as Excel day numbers (a date cell formatted as General): converted from Excel's "
        "1900 date system. A four-digit year alone is no date: quarantined.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 3},
        [
            ok(1, canonical={"tanggal_lahir": r0["tanggal_lahir"]}),
            ok(2, canonical={"tanggal_lahir": r1["tanggal_lahir"]}),
            bad(3, ["FORMAT_TIDAK_VALID"], fields=["tanggal_lahir"]),
        ],
    )
    d = c.desa()
    r0, r1, r2 = person(d, 0), person(d, 1), person(d, 2)
    cells = [values(r) for r in (r0, r1, r2)]
    at = HEADER.index("tanggal_lahir")
    cells[0][at] = dt.datetime.fromisoformat(r0["tanggal_lahir"])
    cells[1][at] = (dt.date.fromisoformat(r1["tanggal_lahir"]) - dt.date(1899, 12, 30)).days
    cells[2][at] = dt.datetime.fromisoformat(r2["tanggal_lahir"]) + dt.timedelta(hours=10)
    c.add(
        "xlsx_date_cells_and_serials",
        "4: Excel date serials and date cells",
        "A real date cell, a date typed as a number cell, and a date cell with a time of day: the first two "
        "are read as the date; a time of day makes it no birth date, quarantined.",
        {f"{d}.xlsx": xlsx_bytes(cells)},
        {"status": "ACCEPTED", "data_rows": 3},
        [
            ok(1, canonical={"tanggal_lahir": r0["tanggal_lahir"]}),
            ok(2, canonical={"tanggal_lahir": r1["tanggal_lahir"]}),
            bad(3, ["FORMAT_TIDAK_VALID"], fields=["tanggal_lahir"]),
        ],
    )
    d = c.desa()
    r = person(d, 0)
    nbsp = "\u00a0"
    rows = [
        {
            **r,
            "nama": f"{nbsp}LALU{nbsp}{nbsp}AHMAD{nbsp}",
            "nik": r["nik"][:8] + nbsp + r["nik"][8:],
            "jenis_kelamin": f"L{nbsp}",
            "hubungan_keluarga": f"KEPALA{nbsp}KELUARGA",
            "rt": "\u200b001",
        }
    ]
    header = [f"{h}{nbsp}" if h in ("nik", "nama") else h for h in HEADER]
    c.add(
        "non_breaking_spaces",
        "4: non-breaking spaces",
        "Non-breaking and zero-width spaces (from web pages and WhatsApp) in values and headers: counted as "
        "spaces, trimmed, and removed from numbers.",
        {f"{d}.csv": csv_bytes([[row[h] for h in HEADER] for row in rows], header=header)},
        {"status": "ACCEPTED", "data_rows": 1},
        [
            ok(
                1,
                canonical={
                    "nama": "LALU AHMAD",
                    "nik": r["nik"],
                    "jenis_kelamin": "L",
                    "hubungan_keluarga": "KEPALA KELUARGA",
                    "rt": "001",
                },
            )
        ],
    )
    d = c.desa()
    header = [
        " Kode_Desa ",
        "ID DTKS",
        "NO-KK",
        "Nik",
        "NAMA",
        "Jenis Kelamin",
        "TEMPAT_LAHIR",
        "Tanggal_Lahir",
        "HUBUNGAN KELUARGA",
        "nama_ibu_kandung",
        "Alamat",
        "RT",
        "RW",
        "Pekerjaan",
        "STATUS_USULAN",
        "Alasan_Nonaktif",
        "PROGRAM",
    ]
    rows = [
        person(
            d,
            0,
            jenis_kelamin="Laki-laki",
            hubungan_keluarga="kepala keluarga",
            status_usulan="tetap",
            program="pkh, bpnt",
        )
    ]
    c.add(
        "mixed_case_headers_and_values",
        "4: mixed-case headers",
        "Headers in any case, with spaces or dashes; values in the accepted spellings in any case.",
        {f"{d}.csv": csv_bytes([[row[h] for h in HEADER] for row in rows], header=header)},
        {"status": "ACCEPTED", "data_rows": 1},
        [
            ok(
                1,
                canonical={
                    "jenis_kelamin": "L",
                    "hubungan_keluarga": "KEPALA KELUARGA",
                    "status_usulan": "TETAP",
                    "program": "PKH;BPNT",
                },
            )
        ],
    )
    d = c.desa()
    rows = [person(d, i) for i in range(3)]
    c.add(
        "crlf_bom_semicolon",
        "4: CRLF",
        "A CSV from Excel in an Indonesian locale: UTF-8 BOM, ';' as the delimiter, CRLF line ends.",
        {f"{d}.csv": b"\xef\xbb\xbf" + csv_bytes(rows, delimiter=";", newline="\r\n")},
        {"status": "ACCEPTED", "data_rows": 3},
        [ok(1), ok(2), ok(3)],
    )
    d = c.desa()
    rows = [person(d, 0, nama="LALU\r\nAHMAD"), person(d, 1, alamat="DUSUN\nTIMUR\nGANG 2")]
    c.add(
        "quoted_newlines",
        "4: quoted newlines",
        "A name and an address typed on two lines inside a quoted field: one record each (source_row counts "
        "records, not lines), the line break read as a space.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 2},
        [ok(1, canonical={"nama": "LALU AHMAD"}), ok(2, canonical={"alamat": "DUSUN TIMUR GANG 2"})],
    )
    d = c.desa()
    rows = [person(d, 0, alamat="JL. PERTAMA \x81"), person(d, 1, nama="ANDRÉ")]
    c.add(
        "latin1_bytes",
        "4: Latin-1 files",
        "A file with a byte Windows-1252 does not define (0x81): read as Latin-1, flagged, nothing dropped.",
        {f"{d}.csv": csv_bytes(rows, encoding="latin-1")},
        {"status": "ACCEPTED", "codes": ["encoding_bukan_utf8"], "data_rows": 2},
        [ok(1), ok(2, canonical={"nama": "ANDRÉ"})],
    )
    d = c.desa()
    rows = [
        person(d, 0, nama='=HYPERLINK("http://x","LALU")'),
        person(d, 1, alamat="+62 DUSUN TIMUR"),
        person(d, 2, pekerjaan="@PETANI"),
        person(d, 3, tempat_lahir="-SELONG"),
        person(d, 4, jenis_kelamin="#NAME?"),
        person(d, 5, rt="-", rw="--"),
    ]
    c.add(
        "formula_looking_cells",
        "4: formula-looking cells (=, +, -, @)",
        "Values Excel reads as formulas (=, +, -, @ first) or an Excel error (#NAME?): quarantined with the "
        "field named, never passed on to a report workbook. A lone '-' means 'none' and is read as empty.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 6},
        [
            bad(1, ["FORMAT_TIDAK_VALID"], fields=["nama"], messages=["rumus"]),
            bad(2, ["FORMAT_TIDAK_VALID"], fields=["alamat"]),
            bad(3, ["FORMAT_TIDAK_VALID"], fields=["pekerjaan"]),
            bad(4, ["FORMAT_TIDAK_VALID"], fields=["tempat_lahir"]),
            bad(5, ["FORMAT_TIDAK_VALID"], fields=["jenis_kelamin"]),
            ok(6, canonical={"rt": None, "rw": None}),
        ],
    )
    d = c.desa()
    cells = [values(person(d, 0)), values(person(d, 1))]
    cells[0][HEADER.index("nama")] = '=UPPER("lalu ahmad")'
    cells[1][HEADER.index("nik")] = "=A3&B3"
    c.add(
        "xlsx_formulas_without_result",
        "4: formula-looking cells (=, +, -, @)",
        "Formulas written by a tool that stores no result: read as the formula text and flagged (a NIK "
        "formula is a NIK finding; a name formula quarantines the row).",
        {f"{d}.xlsx": xlsx_bytes(cells)},
        {"status": "ACCEPTED", "codes": ["berisi_rumus"], "data_rows": 2},
        [
            bad(1, ["FORMAT_TIDAK_VALID"], fields=["nama"]),
            ok(2, categories=["NIK_TIDAK_VALID"], fields=["nik"], messages=["rumus"]),
        ],
    )
    d = c.desa()
    r = person(d, 0)
    cells = [values(r)]
    cells[0][HEADER.index("nama")] = '=UPPER("x")'
    data = _with_cached_value(xlsx_bytes(cells), "E2", r["nama"])
    c.add(
        "xlsx_formula_with_stored_result",
        "4: formula-looking cells (=, +, -, @)",
        "A name computed by a formula, with the result Excel stored: the result is what the operator saw and is "
        "used; the file carries a note.",
        {f"{d}.xlsx": data},
        {"status": "ACCEPTED", "codes": ["berisi_rumus"], "data_rows": 1},
        [ok(1, canonical={"nama": r["nama"]})],
    )


def _with_cached_value(data: bytes, ref: str, value: str) -> bytes:
    """The workbook with a stored (cached) string result for the formula cell `ref`, as Excel saves it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                pattern = rb'<c r="' + ref.encode() + rb'"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>'
                content, n = re.subn(
                    pattern,
                    lambda m: (
                        b'<c r="'
                        + ref.encode()
                        + b'" t="str"><f>'
                        + m.group(2)
                        + b"</f><v>"
                        + value.encode()
                        + b"</v></c>"
                    ),
                    content,
                )
                assert n == 1, "formula cell not found"
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()


def rows_and_values(c: Corpus) -> None:
    """Issue item 1 at row level: NIK rules, region codes, enumerations and dates."""
    d = c.desa()
    r0, r1, r7 = person(d, 0), person(d, 1), person(d, 7)
    rows = [
        {**r0, "tanggal_lahir": r0["tanggal_lahir"][:8] + ("02" if r0["tanggal_lahir"][8:] == "01" else "01")},
        {**r1, "jenis_kelamin": "L"},
        {**r7, "tanggal_lahir": "19" + r7["tanggal_lahir"][2:]},  # 2010 -> 1910: still plausible
    ]
    c.add(
        "nik_birth_date_and_sex_mismatch",
        "1: the NIK's encoded birth date and sex against tanggal_lahir and jenis_kelamin",
        "A placeholder birth day, a woman's NIK on a row marked L, and the same day and month a century "
        "apart (the century is not in the NIK: no finding). Findings, never quarantines.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 3},
        [
            ok(1, categories=["BIODATA_TIDAK_SESUAI_NIK"], fields=["tanggal_lahir"], messages=["tersandi di NIK"]),
            ok(2, categories=["BIODATA_TIDAK_SESUAI_NIK"], fields=["jenis_kelamin"], messages=["perempuan"]),
            ok(3),
        ],
    )
    d = c.desa()
    r0, r1, r2, r3, r4 = (person(d, i) for i in range(5))
    rows = [
        {**r0, "nik": "99" + r0["nik"][2:]},
        {**r1, "nik": r1["nik"][:4] + "00" + r1["nik"][6:]},
        {**r2, "nik": r2["nik"][:6] + "32" + r2["nik"][8:]},
        {**r3, "nik": r3["nik"][:12] + "0000"},
        {**r4, "nik": r4["nik"][:15]},
        person(d, 5, nik=""),
    ]
    c.add(
        "nik_structure",
        "1: NIK structure",
        "Unknown province, kecamatan 00, day 32, serial 0000, 15 digits, empty: each a NIK_TIDAK_VALID "
        "finding naming the rule; the rows go on to linkage.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 6},
        [
            ok(1, categories=["NIK_TIDAK_VALID"], messages=["Kode provinsi di NIK tidak dikenal."]),
            ok(2, categories=["NIK_TIDAK_VALID"], messages=["tidak boleh 00"]),
            ok(3, categories=["NIK_TIDAK_VALID"], messages=["tersandi di NIK tidak valid"]),
            ok(4, categories=["NIK_TIDAK_VALID"], messages=["0000"]),
            ok(5, categories=["NIK_TIDAK_VALID"], messages=["16 digit"]),
            ok(6, categories=["NIK_TIDAK_VALID"], messages=["NIK kosong."]),
        ],
    )
    d = c.desa()
    r = person(d, 0)
    gone = r["nik"][:4] + "99" + r["nik"][6:]  # 520399 is no kecamatan of Lombok Timur (today)
    kk = r["no_kk"][:4] + "99" + r["no_kk"][6:]
    c.add(
        "kecamatan_code_after_pemekaran",
        "1: a code that no longer exists after a region split (pemekaran) is a warning",
        "A NIK and KK whose kecamatan code is not in today's Kemendagri list: a warning in the run record, not "
        "a rejection and not a finding.",
        {f"{d}.csv": csv_bytes([{**r, "nik": gone, "no_kk": kk}])},
        {"status": "ACCEPTED", "data_rows": 1},
        [
            ok(
                1,
                warnings=[
                    "expect_column_values_to_have_current_kecamatan_code:nik",
                    "expect_column_values_to_have_current_kecamatan_code:no_kk",
                ],
            )
        ],
    )
    d = c.desa()
    rows = [
        person(d, 0, kode_desa=d[:9]),
        person(d, 1, kode_desa=d[:6] + "9999"),
        person(d, 2, no_kk="5203010101150"),
    ]
    c.add(
        "region_codes_and_kk",
        "1: kode_desa exists and belongs to the file's kabupaten",
        "A nine-digit kode_desa, a ten-digit code that is no Kemendagri village, a 13-digit KK: quarantined, "
        "each with its field.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 3},
        [
            bad(1, ["FORMAT_TIDAK_VALID"], fields=["kode_desa"], messages=["10 digit"]),
            bad(2, ["FORMAT_TIDAK_VALID"], fields=["kode_desa"], messages=["daftar desa/kelurahan Kemendagri"]),
            bad(3, ["FORMAT_TIDAK_VALID"], fields=["no_kk"], messages=["16 digit"]),
        ],
    )
    d = c.desa()
    rows = [
        person(d, 0, jenis_kelamin="LAKI2"),
        person(d, 1, hubungan_keluarga="ANAK KANDUNG"),
        person(d, 2, status_usulan="USULAN BARU"),
        person(d, 3, status_usulan="NONAKTIF", alasan_nonaktif="WAFAT"),
        person(d, 4, program="PKH;PIP"),
        person(
            d,
            5,
            jenis_kelamin="2",
            hubungan_keluarga="famili_lain",
            status_usulan="nonaktif",
            alasan_nonaktif="tidak ditemukan",
        ),
    ]
    c.add(
        "enumerations",
        "1: enumerations in their accepted spellings",
        "Values outside jenis_kelamin, hubungan_keluarga, status_usulan, alasan_nonaktif and program: "
        "quarantined per field; accepted spellings in any case or with '_'/' ' are canonicalised.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 6},
        [
            bad(1, ["FORMAT_TIDAK_VALID"], fields=["jenis_kelamin"]),
            bad(2, ["FORMAT_TIDAK_VALID"], fields=["hubungan_keluarga"]),
            bad(3, ["FORMAT_TIDAK_VALID"], fields=["status_usulan"]),
            bad(4, ["FORMAT_TIDAK_VALID"], fields=["alasan_nonaktif"]),
            bad(5, ["FORMAT_TIDAK_VALID"], fields=["program"]),
            ok(
                6,
                canonical={
                    "jenis_kelamin": "P",
                    "hubungan_keluarga": "FAMILI LAIN",
                    "status_usulan": "NONAKTIF",
                    "alasan_nonaktif": "TIDAK_DITEMUKAN",
                },
            ),
        ],
    )
    d = c.desa()
    r = person(d, 1)
    rows = [
        person(d, 0, tanggal_lahir="2099-01-01"),
        person(d, 2, tanggal_lahir="1890-05-05"),
        person(d, 3, tanggal_lahir="08/15/1985"),
        person(d, 4, tanggal_lahir="30-02-1990"),
        {**r, "tanggal_lahir": f"{r['tanggal_lahir'][8:]}/{r['tanggal_lahir'][5:7]}/{r['tanggal_lahir'][:4]}"},
    ]
    c.add(
        "dates_format_and_plausibility",
        "1: dates in the accepted formats and plausible",
        "A birth date in the future and one 136 years ago are readable: held for linkage (issue 10: quarantined "
        "after linkage only if not linked), their NIKs' birth dates disagree; a US-style month/day date, "
        "30 February: quarantined; DD/MM/YYYY is accepted and canonicalised.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "data_rows": 5},
        [
            held(
                1,
                ["FORMAT_TIDAK_VALID", "BIODATA_TIDAK_SESUAI_NIK"],
                fields=["tanggal_lahir"],
                messages=["tidak masuk akal"],
            ),
            held(
                2,
                ["FORMAT_TIDAK_VALID", "BIODATA_TIDAK_SESUAI_NIK"],
                fields=["tanggal_lahir"],
                messages=["tidak masuk akal"],
            ),
            bad(3, ["FORMAT_TIDAK_VALID"], fields=["tanggal_lahir"]),
            bad(4, ["FORMAT_TIDAK_VALID"], fields=["tanggal_lahir"]),
            ok(5, canonical={"tanggal_lahir": r["tanggal_lahir"]}),
        ],
    )
    d = c.desa()
    rows = [person(d, 0, nama=""), person(d, 1, no_kk="-", jenis_kelamin=" "), person(d, 2)]
    data = csv_bytes(rows[:1]) + b",,,,\n\n" + csv_bytes(rows[1:]).split(b"\n", 1)[1]
    c.add(
        "required_fields_empty_and_blank_rows",
        "2: quarantine reasons per field",
        "Empty required fields (a '-' or a space counts as empty) quarantine the row as DATA_TIDAK_LENGKAP, "
        "naming each field; blank rows in between are no data rows but keep the numbering.",
        {f"{d}.csv": data},
        {"status": "ACCEPTED", "data_rows": 3},
        [
            bad(1, ["DATA_TIDAK_LENGKAP"], fields=["nama"], messages=["Nama wajib diisi."]),
            bad(4, ["DATA_TIDAK_LENGKAP"], fields=["no_kk", "jenis_kelamin"]),
            ok(5),
        ],
    )
    d = c.desa()
    r0, r1 = person(d, 0), person(d, 1)
    cells = [values(r) for r in (r0, r1)]
    at = HEADER.index("tanggal_lahir")
    cells[0][at] = (dt.date.fromisoformat(r0["tanggal_lahir"]) - dt.date(1904, 1, 1)).days
    cells[1][at] = dt.datetime.fromisoformat(r1["tanggal_lahir"])
    c.add(
        "xlsx_1904_date_system",
        "4: Excel date serials and date cells",
        "A workbook from old Mac Excel (1904 date system): a birth date typed as a day number counts from "
        "1904-01-01, not 1899-12-30; it and a real date cell are both read as the right date, and the file "
        "says which system it uses.",
        {f"{d}.xlsx": xlsx_bytes(cells, epoch_1904=True)},
        {"status": "ACCEPTED", "codes": ["sistem_tanggal_1904"], "data_rows": 2},
        [
            ok(1, canonical={"tanggal_lahir": r0["tanggal_lahir"]}),
            ok(2, canonical={"tanggal_lahir": r1["tanggal_lahir"]}),
        ],
    )


# ------------------------------------------------------------------------------------------------------
# Issue 10: reading one file safely. Every case here is a file that used to stop the whole quarter (or take
# minutes and gigabytes); each now ends as a file status with its reason, and the quarter goes on.

_SHEET = "xl/worksheets/sheet1.xml"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()


def _with_sheet(data: bytes, sheet: bytes, **extra: bytes) -> bytes:
    members = _members(data)
    members[_SHEET] = sheet
    members.update(extra)
    return _zip(members)


def _patch_headers(data: bytes, name: str, local: dict[int, bytes], central: dict[int, bytes]) -> bytes:
    """The zip with bytes overwritten at offsets of `name`'s local header and central directory entry."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    for offset, value in local.items():
        out[info.header_offset + offset : info.header_offset + offset + len(value)] = value
    entry = next(i for i in _central_entries(data) if data[i + 46 : i + 46 + len(name)] == name.encode())
    for offset, value in central.items():
        out[entry + offset : entry + offset + len(value)] = value
    return bytes(out)


def _central_entries(data: bytes) -> list[int]:
    found, at = [], data.find(b"PK\x01\x02")
    while at != -1:
        found.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    return found


def _data_offset(data: bytes, name: str) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    header = info.header_offset
    name_len = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_len = int.from_bytes(data[header + 28 : header + 30], "little")
    return header + 30 + name_len + extra_len


def _inline_sheet(rows: list[bytes], dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="'
        + _MAIN_NS.encode()
        + b'">'
        + dim
        + b"<sheetData>"
        + b"".join(rows)
        + b"</sheetData></worksheet>"
    )


def _inline_row(number: int, values: list[str]) -> bytes:
    cells = b"".join(
        f'<c r="{_column(i + 1)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'.encode()
        for i, v in enumerate(values)
        if v
    )
    return f'<row r="{number}">'.encode() + cells + b"</row>"


def _column(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def unreadable(code: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": "UNREADABLE",
        "codes": [code],
        "data_rows": 0,
        "rejection_category": "FORMAT_TIDAK_VALID",
        **extra,
    }


def reading(c: Corpus) -> None:
    """Issue 10: files that used to stop the quarter are read, or refused with their reason."""
    d = c.desa()
    rows = [person(d, i) for i in range(3)]
    c.add(
        "csv_mac_lone_cr",
        "10: lone-CR CSV (Excel for Mac)",
        "Excel for Mac's 'CSV (Macintosh)' ends lines with a lone CR: read like any CSV, rows numbered as usual.",
        {f"{d}.csv": csv_bytes(rows, newline="\r")},
        {"status": "ACCEPTED", "data_rows": 3},
        [ok(1), ok(2), ok(3)],
    )
    d = c.desa()
    whole = xlsx_bytes([values(person(d, i)) for i in range(3)])
    sheet = _members(whole)[_SHEET]
    c.add(
        "xlsx_sheet_xml_cut_off",
        "10: an XLSX whose sheet XML is cut off",
        "The sheet's XML ends in the middle of a tag (a tool that crashed while writing): unreadable, the reason "
        "names the part; it used to fail the quarter with 'ParseError: unclosed token'.",
        {f"{d}.xlsx": _with_sheet(whole, sheet[: len(sheet) * 2 // 3])},
        unreadable("berkas_rusak"),
        [],
    )
    d = c.desa()
    entities = '<!ENTITY l0 "LOL">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    strings = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst xmlns="{_MAIN_NS}" count="1" uniqueCount="1">'
        "<si><t>&l9;</t></si></sst>"
    ).encode()
    members = _members(xlsx_bytes([values(person(d, 0))]))
    members[_SHEET] = members[_SHEET].replace(
        b'<c r="E2" t="inlineStr"><is><t>' + person(d, 0)["nama"].encode() + b"</t></is></c>",
        b'<c r="E2" t="s"><v>0</v></c>',
    )
    members["xl/sharedStrings.xml"] = strings
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>',
    )
    c.add(
        "xlsx_entity_expansion",
        "10: entity expansion in sharedStrings.xml",
        "A 'billion laughs' in the shared strings: nine nested entities that expand to 10^9 'LOL's. No DTD is "
        "parsed: refused unread, the reason says why.",
        {f"{d}.xlsx": _zip(members)},
        unreadable("xml_tidak_aman"),
        [],
    )
    d = c.desa()
    data = bytearray(xlsx_bytes([values(person(d, i)) for i in range(3)]))
    at = _data_offset(bytes(data), _SHEET)
    data[at + 20 : at + 60] = b"\xff" * 40
    c.add(
        "xlsx_corrupt_deflate",
        "10: a corrupt deflate stream",
        "Forty bytes of the sheet's compressed data overwritten (a bad disk or transfer): the deflate stream "
        "cannot be inflated (zlib.error); unreadable, reported.",
        {f"{d}.xlsx": bytes(data)},
        unreadable("berkas_rusak"),
        [],
    )
    d = c.desa()
    plain = xlsx_bytes([values(person(d, 0))])
    method = (9).to_bytes(2, "little")
    c.add(
        "xlsx_deflate64_member",
        "10: a Deflate64 member",
        "A workbook re-zipped by a tool that used Deflate64 (compression method 9), which Python cannot inflate "
        "(NotImplementedError): refused with how to fix it.",
        {f"{d}.xlsx": _patch_headers(plain, _SHEET, {8: method}, {10: method})},
        unreadable("kompresi_tidak_didukung"),
        [],
    )
    d = c.desa()
    plain = xlsx_bytes([values(person(d, 0))])
    flag = (0x1).to_bytes(2, "little")
    c.add(
        "xlsx_encrypted_member",
        "10: an encrypted member",
        "A zip whose sheet member is marked encrypted (zip password): refused as password-protected "
        "(it used to raise RuntimeError).",
        {f"{d}.xlsx": _patch_headers(plain, _SHEET, {6: flag}, {8: flag})},
        unreadable("xlsx_terenkripsi"),
        [],
    )
    d = c.desa()
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(512)
    c.add(
        "excel_password_protected",
        "10: an encrypted member",
        "A workbook saved by Excel with a password to open: Excel wraps it in an OLE2 container with an "
        "EncryptedPackage stream. Refused as password-protected, not mistaken for an Excel 97-2003 file.",
        {f"{d}.xlsx": ole},
        unreadable("xlsx_terenkripsi"),
        [],
    )
    d = c.desa()
    rows = [person(d, 0), person(d, 1, alamat="DUSUN " + "TIMUR " * 21_846)]
    c.add(
        "csv_field_beyond_csv_limit",
        "10: a CSV field longer than the csv module's limit",
        "An address of 131,082 characters (longer than the csv module's 131,072): refused with the row and "
        "column named (intake.submission.max_field_chars, 4,000 by default).",
        {f"{d}.csv": csv_bytes(rows)},
        unreadable("isian_terlalu_panjang", messages=["baris 3 berkas, kolom 11"]),
        [],
    )
    d = c.desa()
    rows = [HEADER, *[[person(d, i)[h] for h in HEADER] for i in range(2)]]
    sheet = _inline_sheet([_inline_row(n + 1, r) for n, r in enumerate(rows)], dimension="A1:XFD1048576")
    c.add(
        "xlsx_huge_dimension",
        "10: a <dimension> that claims A1:XFD1048576",
        "A 2 KB workbook whose <dimension> says A1:XFD1048576 (it took the worker down: rows were padded to "
        "16,384 columns and a million rows). The dimension is not read: two rows of 17 cells.",
        {f"{d}.xlsx": _with_sheet(xlsx_bytes([]), sheet)},
        {"status": "ACCEPTED", "data_rows": 2},
        [ok(1), ok(2)],
    )
    d = c.desa()
    rows = [HEADER, *[[person(d, i)[h] for h in HEADER] for i in range(2)]]
    styled = [f'<row r="{n}" s="1" customFormat="1"><c r="XFD{n}" s="1"/></row>'.encode() for n in range(4, 20_000)]
    sheet = _inline_sheet([_inline_row(n + 1, r) for n, r in enumerate(rows)] + styled)
    sheet = sheet.replace(b"</row>", b'<c r="XFD1" s="1"/></row>', 1)  # the header formatted to the last column
    c.add(
        "xlsx_formatted_empty_rows_and_cells",
        "10: a <dimension> that claims A1:XFD1048576",
        "Rows formatted down to row 20,000 and out to column XFD, with no value in them: no empty row or cell "
        "is made; the two data rows are read.",
        {f"{d}.xlsx": _with_sheet(xlsx_bytes([]), sheet)},
        {"status": "ACCEPTED", "data_rows": 2},
        [ok(1), ok(2)],
    )
    d = c.desa()
    sheet = _inline_sheet([_inline_row(1, HEADER), _inline_row(2, [person(d, 0)[h] for h in HEADER])])
    bomb = sheet.replace(b"</sheetData>", b" " * 49_000_000 + b"</sheetData>")
    c.add(
        "xlsx_zip_bomb",
        "10: total and per-member uncompressed size",
        "A small workbook whose sheet inflates to 49 MB of XML (more than 1000:1): refused while inflating, at "
        "the limit (intake.submission.max_member_mb, 32 MB), before any XML parser sees it.",
        {f"{d}.xlsx": _with_sheet(xlsx_bytes([]), bomb)},
        unreadable("isi_xlsx_terlalu_besar"),
        [],
    )
    d = c.desa()
    plain = xlsx_bytes([values(person(d, i)) for i in range(3)])
    small = (200).to_bytes(4, "little")
    c.add(
        "xlsx_member_size_lies",
        "10: total and per-member uncompressed size",
        "The sheet member declares 200 bytes but inflates to 5 KB: the declared size is not trusted; the "
        "inflated bytes do not match the member's checksum, so the file is refused as damaged.",
        {f"{d}.xlsx": _patch_headers(plain, _SHEET, {22: small}, {24: small})},
        unreadable("berkas_rusak"),
        [],
    )
    d = c.desa()
    sheet = _inline_sheet(
        [_inline_row(1, HEADER), _inline_row(2, [person(d, 0)[h] for h in HEADER]), _inline_row(1_048_576, ["x"])]
    )
    c.add(
        "xlsx_value_in_the_last_row",
        "10: rows and columns per sheet",
        "A stray 'x' in row 1,048,576, Excel's last: the sheet would be a million rows long. Refused, naming the "
        "row and the limit (intake.submission.max_rows, 50,000 data rows).",
        {f"{d}.xlsx": _with_sheet(xlsx_bytes([]), sheet)},
        unreadable("baris_terlalu_banyak", messages=["baris 1048576"]),
        [],
    )
    d = c.desa()
    wide = [[*person(d, 0).values(), *([""] * 282), "catatan"], list(person(d, 1).values())]
    c.add(
        "csv_value_beyond_the_last_column",
        "10: rows and columns per sheet",
        "A note typed in column 300 of a CSV: refused, naming the row and the column (the limit is "
        "intake.submission.max_columns, 256). Empty columns beyond it would be dropped.",
        {f"{d}.csv": csv_bytes(wide)},
        unreadable("kolom_terlalu_banyak", messages=["Baris 2 berkas", "kolom 300"]),
        [],
    )
    d = c.desa()
    rows = [person(d, i) for i in range(3)]
    body = b"".join(csv_bytes([r]).split(b"\n", 1)[1] for r in rows)
    headerless = [
        bad(
            n,
            ["DATA_TIDAK_LENGKAP", "NIK_TIDAK_VALID"],
            messages=["baris judul kolom tidak ada"],
            raw_fields={"(kolom 4 tanpa judul)": rows[n - 1]["nik"]},
        )
        for n in (1, 2, 3)
    ]
    c.add(
        "csv_without_header",
        "10: headerless files",
        "The header line is missing: the first person's NIK, name and birth date are no column names. Every "
        "line is a data row (source_row 1 is the first line), kept with its values under their column number; "
        "the file is rejected, and its message names no value.",
        {f"{d}.csv": body},
        {
            "status": "REJECTED",
            "codes": ["judul_kolom_tidak_ada"],
            "data_rows": 3,
            "rejection_category": "DATA_TIDAK_LENGKAP",
        },
        headerless,
    )
    d = c.desa()
    rows = [person(d, i) for i in range(2)]
    sheet = _inline_sheet([_inline_row(n + 1, [r[h] for h in HEADER]) for n, r in enumerate(rows)])
    c.add(
        "xlsx_without_header",
        "10: headerless files",
        "A workbook whose first row is already a person: rejected as headerless, both rows kept and quarantined.",
        {f"{d}.xlsx": _with_sheet(xlsx_bytes([]), sheet)},
        {
            "status": "REJECTED",
            "codes": ["judul_kolom_tidak_ada"],
            "data_rows": 2,
            "rejection_category": "DATA_TIDAK_LENGKAP",
        },
        [bad(n, ["DATA_TIDAK_LENGKAP", "NIK_TIDAK_VALID"], messages=["baris judul kolom tidak ada"]) for n in (1, 2)],
    )
    d = c.desa()
    # Long addresses, so that the last rows sit beyond the first 4 KB of the file.
    rows = [person(d, i, alamat=f"DUSUN TIMUR {i} " + "JALAN MAWAR " * 40) for i in range(9)]
    rows[0]["nama"] = "LALU\x00AHMAD"  # NUL in the first 4 KB (it used to make the file 'binary')
    rows[1]["nama"] = "BAIQ SITI\u202e AMINAH"  # a bidi override: the name would display reversed
    rows[2]["tempat_lahir"] = "SELONG\x1b[2J"  # a terminal escape sequence
    rows[7]["alamat"] = "DUSUN\x00\x00 TIMUR"  # NULs after the first 4 KB (they used to reach COPY)
    rows[8] = {**rows[8], "nama": "SUPARDI\x00", "jenis_kelamin": "X"}  # quarantined: raw fields shown
    expected = [ok(n) for n in range(1, 10)]
    expected[0] = ok(1, canonical={"nama": "LALUAHMAD"})
    expected[1] = ok(2, canonical={"nama": "BAIQ SITI AMINAH"})
    expected[2] = ok(3, canonical={"tempat_lahir": "SELONG[2J"})
    expected[7] = ok(8, canonical={"alamat": "DUSUN TIMUR"})
    expected[8] = bad(9, ["FORMAT_TIDAK_VALID"], fields=["jenis_kelamin"], raw_fields={"nama": "SUPARDI␀"})
    c.add(
        "control_characters",
        "10: control characters",
        "NUL bytes (in the first 4 KB and after it), a bidi override and a terminal escape inside fields: the "
        "file is read, the characters are dropped from the canonical values and shown as ␀ or � in the raw "
        "fields, and the file carries a note naming the first row and column.",
        {f"{d}.csv": csv_bytes(rows)},
        {"status": "ACCEPTED", "codes": ["karakter_kontrol"], "data_rows": 9},
        expected,
    )


DUKCAPIL_COLUMNS = (
    "NIK,NO_KK,NAMA_LGKP,JENIS_KLMIN,TMPT_LHR,TGL_LHR,STAT_HBKEL,JENIS_PKRJN,NAMA_LGKP_IBU,ALAMAT,NO_RT,NO_RW,"
    "NO_PROP,NO_KAB,NO_KEC,NO_KEL,TGL_MATI"
)


def dukcapil_extract(desa: list[str]) -> bytes:
    """A small extract with the persons of a few clean villages, so a full run has someone to link to."""
    lines = [DUKCAPIL_COLUMNS]
    for d in desa:
        for i in range(3):
            r = person(d, i)
            sex = "LAKI-LAKI" if r["jenis_kelamin"] == "L" else "PEREMPUAN"
            lines.append(
                ",".join(
                    [
                        r["nik"],
                        r["no_kk"],
                        r["nama"],
                        sex,
                        r["tempat_lahir"],
                        r["tanggal_lahir"],
                        r["hubungan_keluarga"],
                        "PETANI/PEKEBUN",
                        r["nama_ibu_kandung"],
                        r["alamat"],
                        r["rt"],
                        r["rw"],
                        d[:2],
                        d[2:4],
                        d[4:6],
                        d[6:],
                        "",
                    ]
                )
            )
    return ("\n".join(lines) + "\n").encode()


# --- Issue 10: the landing area (tests/corpus/landing/, checked by the landing section of test_corpus.py) ----
#
# A landing case describes a whole landing area, so that symlinks, folders, FIFOs and names no file can
# carry in its own name are expressible: `entries` are created below `<landing>/<quarter>/` (see
# tests/conftest.py `LandingBuilder`: `file` with `input` (a file of the case) or `text`, `folder`,
# `symlink` with `target` (`{outside}`: a folder beside the landing root whose files must never be read),
# `fifo`, and `repeat` to make many files from one pattern); `base` names the clean village file and the
# extract most cases hold beside them. `expected` says what must become of them:
# `listed` (exactly the entries that are not expected inputs: shown path -> [type, kind, action]), `read`
# (exactly the files read besides the case's clean village file and extract: path -> status, problem codes,
# data rows), `by_kind` (counts, when not every entry is listed), or `error` (a LandingError's message).

LANDING = ROOT / "landing"
LANDING_KAB = f"submissions/{KAB}"


class LandingCorpus:
    def __init__(self) -> None:
        self.cases: list[tuple[str, dict[str, Any], dict[str, bytes]]] = []
        self._desa = iter(reversed(DESA[:-1]))  # the last village is every case's clean one

    def desa(self) -> str:
        return next(self._desa)

    def add(
        self,
        name: str,
        covers: str,
        description: str,
        entries: list[dict[str, Any]],
        expected: dict[str, Any],
        files: dict[str, bytes] | None = None,
        *,
        base: bool = True,
        limits: dict[str, int] | None = None,
    ) -> None:
        """`base`: the area also holds one clean village file and the extract (both expected inputs)."""
        number = f"{len(self.cases) + 1:02d}"
        files = dict(files or {})
        inputs: list[dict[str, Any]] = []
        if base:
            clean = self.base_desa
            files["base.csv"] = csv_bytes([person(clean, 0), person(clean, 1)])
            files["dukcapil_5203.csv"] = dukcapil_extract([clean])
            inputs = [
                {"path": f"{LANDING_KAB}/{clean}.csv", "type": "file", "input": "base.csv"},
                {"path": f"dukcapil/{KAB}.csv", "type": "file", "input": "dukcapil_5203.csv"},
            ]
        case = {
            "case": f"{number}_{name}",
            "covers": covers,
            "description": description,
            "base": [e["path"] for e in inputs],  # the expected inputs, read as usual
            "entries": [*inputs, *entries],
            "limits": limits or {},
            "expected": {"listed": {}, "read": {}, "error": None, **expected},
        }
        self.cases.append((f"{number}_{name}", case, files))

    @property
    def base_desa(self) -> str:
        return DESA[-1]

    def write(self) -> None:
        shutil.rmtree(LANDING, ignore_errors=True)
        for name, case, files in self.cases:
            directory = LANDING / name
            directory.mkdir(parents=True)
            for file_name, data in files.items():
                (directory / file_name).write_bytes(data)
            # ASCII JSON: names with control characters or undecodable bytes (lone surrogates) stay escapes.
            (directory / "expected.json").write_text(json.dumps(case, indent=2) + "\n", encoding="utf-8")


def _link(path: str, target: str) -> dict[str, Any]:
    return {"path": path, "type": "symlink", "target": target}


def _file(path: str, input_name: str | None = None, text: str = "x") -> dict[str, Any]:
    return (
        {"path": path, "type": "file", "input": input_name}
        if input_name
        else {"path": path, "type": "file", "text": text}
    )


def _rejected(codes: list[str], rows: int = 1, status: str = "REJECTED") -> dict[str, Any]:
    return {"status": status, "codes": codes, "data_rows": rows}


NOT_FOLLOWED = ("symlink", "tautan_simbolik", "tidak_diikuti")


def landing_area(c: LandingCorpus) -> None:
    """Issue 10, "Walk the whole landing area": every kind of entry that is not an expected input."""
    absolute, relative = (f"{LANDING_KAB}/{c.desa()}.csv" for _ in range(2))
    c.add(
        "symlink_to_a_file_outside",
        "10: symlink to a file outside the landing area",
        "A village file that is a symlink to a file outside the landing root (absolute, and relative with ..): "
        "listed, never followed, not a byte of the target read.",
        [_link(absolute, "{outside}/secret.csv"), _link(relative, "../../../../outside/secret.csv")],
        {"listed": {absolute: list(NOT_FOLLOWED), relative: list(NOT_FOLLOWED)}},
    )
    inside, dangling = (f"{LANDING_KAB}/{c.desa()}.csv" for _ in range(2))
    c.add(
        "symlink_inside_and_dangling",
        "10: symlink pointing inside the landing area, dangling symlink",
        "A village file linked to another village's file of the area, and a link to nothing: neither is read "
        "(a link is never a submission, wherever it points).",
        [_link(inside, f"{c.base_desa}.csv"), _link(dangling, "hilang.csv")],
        {"listed": {inside: list(NOT_FOLLOWED), dangling: list(NOT_FOLLOWED)}},
    )
    c.add(
        "symlink_folders",
        "10: symlink to a folder, inside and outside",
        "A kabupaten folder that is a symlink to a folder outside, a loop back to the parent, and an extract "
        "symlinked from outside: none is followed or read.",
        [
            _link("submissions/5201", "{outside}/folder"),
            _link(f"{LANDING_KAB}/putaran", ".."),
            _link("dukcapil/5201.csv", "{outside}/secret.csv"),
        ],
        {
            "listed": {
                "submissions/5201": list(NOT_FOLLOWED),
                f"{LANDING_KAB}/putaran": list(NOT_FOLLOWED),
                "dukcapil/5201.csv": list(NOT_FOLLOWED),
            }
        },
    )
    c.add(
        "submissions_folder_is_a_symlink",
        "10: symlink to a folder outside (the whole submissions folder)",
        "The submissions folder is a symlink to a folder outside: nothing under it is read, and since no village "
        "file remains the quarter cannot run; the error names the symlink.",
        [_link("submissions", "{outside}/folder"), _file(f"dukcapil/{KAB}.csv", "dukcapil_5203.csv")],
        {"error": "submissions (symlink: tautan_simbolik, tidak_diikuti)"},
        {"dukcapil_5203.csv": dukcapil_extract([c.base_desa])},
        base=False,
    )
    d = c.desa()
    files = {"village.csv": csv_bytes([person(d, 0), person(d, 1)])}
    c.add(
        "village_file_in_a_subfolder",
        "10: subfolder, file in the wrong place",
        "A village file in a subfolder of the kabupaten folder (an operator's 'lama' folder) beside a note: the "
        "folder is examined, the village file read and rejected (rows quarantined, the village told where it "
        "belongs), the note listed and not read.",
        [_file(f"{LANDING_KAB}/lama/{d}.csv", "village.csv"), _file(f"{LANDING_KAB}/lama/catatan.txt")],
        {
            "listed": {
                f"{LANDING_KAB}/lama": ["folder", "folder_tak_terduga", "diperiksa"],
                f"{LANDING_KAB}/lama/{d}.csv": ["file", "lokasi_berkas_salah", "dibaca_ditolak"],
                f"{LANDING_KAB}/lama/catatan.txt": ["file", "berkas_tak_terduga", "dilewati"],
            },
            "read": {f"{LANDING_KAB}/lama/{d}.csv": _rejected(["lokasi_berkas_salah"], 2)},
        },
        files,
    )
    d = c.desa()
    files = {"village.csv": csv_bytes([person(d, 0)])}
    c.add(
        "folder_named_Submissions",
        "10: a folder named Submissions",
        "A kabupaten's files in 'Submissions/' (wrong case, as a Windows copy makes it): examined, its village "
        "files read and rejected with where they belong, the folder's name corrected in the reason.",
        [_file(f"Submissions/{KAB}/{d}.csv", "village.csv")],
        {
            "listed": {
                "Submissions": ["folder", "folder_tak_terduga", "diperiksa"],
                f"Submissions/{KAB}": ["folder", "folder_tak_terduga", "diperiksa"],
                f"Submissions/{KAB}/{d}.csv": ["file", "lokasi_berkas_salah", "dibaca_ditolak"],
            },
            "read": {f"Submissions/{KAB}/{d}.csv": _rejected(["lokasi_berkas_salah"])},
        },
        files,
    )
    d = c.desa()
    files = {"village.csv": csv_bytes([person(d, 0)])}
    c.add(
        "files_at_the_quarter_root",
        "10: a submission at the quarter root, wrong or odd name",
        "A village file, a note and a Dukcapil-named file dropped at the quarter root: the village file is read "
        "and rejected, the others listed and not read.",
        [
            _file(f"{d}.csv", "village.csv"),
            _file("README.txt"),
            _file(f"{KAB}.csv", "village.csv"),
        ],
        {
            "listed": {
                f"{d}.csv": ["file", "lokasi_berkas_salah", "dibaca_ditolak"],
                "README.txt": ["file", "berkas_tak_terduga", "dilewati"],
                f"{KAB}.csv": ["file", "ekstrak_salah_tempat", "dilewati"],
            },
            "read": {f"{d}.csv": _rejected(["lokasi_berkas_salah"])},
        },
        files,
    )
    c.add(
        "extract_under_submissions",
        "10: an extract under submissions/",
        "A Dukcapil extract (named with the kabupaten code) put in the kabupaten's submissions folder: not read "
        "as a village file, which would have quarantined a whole population.",
        [_file(f"{LANDING_KAB}/{KAB}.csv", "dukcapil_5203.csv")],
        {"listed": {f"{LANDING_KAB}/{KAB}.csv": ["file", "ekstrak_salah_tempat", "dilewati"]}},
    )
    d = c.desa()
    files = {"village.xlsx": xlsx_bytes([values(person(d, 0))])}
    c.add(
        "workbooks_under_dukcapil",
        "10: a workbook under dukcapil/",
        "An extract saved as a workbook and a village's workbook, both under dukcapil/: the extract is read and "
        "refused (extracts are CSV), the village workbook read and rejected as a misplaced village file.",
        [_file(f"dukcapil/{KAB}.xlsx", "village.xlsx"), _file(f"dukcapil/{d}.xlsx", "village.xlsx")],
        {
            "listed": {
                f"dukcapil/{KAB}.xlsx": ["file", "format_tidak_didukung", "dibaca_ditolak"],
                f"dukcapil/{d}.xlsx": ["file", "lokasi_berkas_salah", "dibaca_ditolak"],
            },
            "read": {
                f"dukcapil/{KAB}.xlsx": _rejected(["format_tidak_didukung"], 0, "UNREADABLE"),
                f"dukcapil/{d}.xlsx": _rejected(["lokasi_berkas_salah"]),
            },
        },
        files,
    )
    d = c.desa()
    c.add(
        "hidden_lock_and_system_files",
        "10: hidden file, editor lock file",
        "macOS, Excel, LibreOffice and Windows leave files beside the real ones; a hidden folder is not opened.",
        [
            _file(f"{LANDING_KAB}/.DS_Store"),
            _file(f"{LANDING_KAB}/._{d}.csv"),
            _file(f"{LANDING_KAB}/~${d}.xlsx"),
            _file(f"{LANDING_KAB}/.~lock.{d}.csv#"),
            _file(f"{LANDING_KAB}/Thumbs.db"),
            _file(f"{LANDING_KAB}/desktop.ini"),
            _file(f".Trash-1000/files/{d}.csv"),
        ],
        {
            "listed": {
                f"{LANDING_KAB}/.DS_Store": ["file", "berkas_tersembunyi", "dilewati"],
                f"{LANDING_KAB}/._{d}.csv": ["file", "berkas_tersembunyi", "dilewati"],
                f"{LANDING_KAB}/~${d}.xlsx": ["file", "berkas_kunci", "dilewati"],
                f"{LANDING_KAB}/.~lock.{d}.csv#": ["file", "berkas_kunci", "dilewati"],
                f"{LANDING_KAB}/Thumbs.db": ["file", "berkas_sistem", "dilewati"],
                f"{LANDING_KAB}/desktop.ini": ["file", "berkas_sistem", "dilewati"],
                ".Trash-1000": ["folder", "folder_tersembunyi", "tidak_diperiksa"],
            }
        },
    )
    d = c.desa()
    odd = {
        f"{d}\x1b[2J.csv": f"{d}\\x1b[2J.csv",  # clears a terminal
        f"{d}\n2026-12-01 INFO palsu.csv": f"{d}\\n2026-12-01 INFO palsu.csv",  # forges a log line
        f"{d}\u202evsc.exe": f"{d}\\u202evsc.exe",  # shows as ...exe.csv
        f"{d}\u200b.csv": f"{d}\\u200b.csv",  # looks exactly like the village's file
        f"{d}\u00a0.csv": f"{d}\\xa0.csv",  # a no-break space
        "desa\udcff.csv": "desa\\xff.csv",  # a byte that is not UTF-8
    }
    c.add(
        "control_and_invisible_characters_in_names",
        "10: control characters in names",
        "Names with a terminal escape, a line break, a right-to-left override, a zero-width space, a no-break "
        "space and an undecodable byte: not read, and shown escaped everywhere.",
        [_file(f"{LANDING_KAB}/{name}") for name in odd],
        {"listed": {f"{LANDING_KAB}/{shown}": ["file", "nama_tidak_aman", "dilewati"] for shown in odd.values()}},
    )
    c.add(
        "nik_in_a_file_name",
        "10: wrong or odd name (personal data in a name)",
        "A file named with a NIK: not read, so the NIK reaches no run record or log; shown masked.",
        [_file(f"{LANDING_KAB}/3201011508950001.csv")],
        {"listed": {f"{LANDING_KAB}/3201********0001.csv": ["file", "nama_memuat_nik", "dilewati"]}},
    )
    d = c.desa()
    wide = d.translate({ord(ch): 0xFF10 + int(ch) for ch in "0123456789"})
    files = {"village.csv": csv_bytes([person(d, 0)])}
    c.add(
        "full_width_digits",
        "10: full-width digits in names",
        "A file and a kabupaten folder named with full-width digits (which str.isdigit and \\d accept): no "
        "desa or kabupaten code; read and rejected, the reason says why.",
        [_file(f"{LANDING_KAB}/{wide}.csv", "village.csv"), _file(f"submissions/{wide[:4]}/{d}.csv", "village.csv")],
        {
            "listed": {
                f"{LANDING_KAB}/{wide}.csv": ["file", "nama_berkas_tidak_sesuai", "dibaca_ditolak"],
                f"submissions/{wide[:4]}": ["folder", "folder_kabupaten_tidak_dikenal", "diperiksa"],
                f"submissions/{wide[:4]}/{d}.csv": ["file", "kabupaten_tidak_dikenal", "dibaca_ditolak"],
            },
            "read": {
                f"{LANDING_KAB}/{wide}.csv": _rejected(["nama_berkas_tidak_sesuai"]),
                f"submissions/{wide[:4]}/{d}.csv": _rejected(["kabupaten_tidak_dikenal"]),
            },
        },
        files,
    )
    d = c.desa()
    c.add(
        "fifo",
        "10: FIFO/device",
        "A named pipe with a village file's name: never opened (reading it would block the run).",
        [{"path": f"{LANDING_KAB}/{d}.csv", "type": "fifo"}],
        {"listed": {f"{LANDING_KAB}/{d}.csv": ["fifo", "bukan_berkas_biasa", "dilewati"]}},
    )
    chain = "/".join([LANDING_KAB, *["d"] * 60])
    c.add(
        "deep_chain_of_folders",
        "10: a deep chain of folders",
        "Sixty nested folders: walked to the depth limit (6 levels below the quarter folder) and no deeper.",
        [{"path": chain, "type": "folder"}, _file(f"{chain}/{c.desa()}.csv")],
        {
            "listed": {
                **{
                    "/".join([LANDING_KAB, *["d"] * n]): ["folder", "folder_tak_terduga", "diperiksa"]
                    for n in (1, 2, 3, 4)
                },
                "/".join([LANDING_KAB, *["d"] * 5]): ["folder", "folder_terlalu_dalam", "tidak_diperiksa"],
            }
        },
    )
    c.add(
        "big_tree",
        "10: a hostile tree of many entries",
        "3,000 junk files in the kabupaten folder and 3,000 more elsewhere, against limits of 4,000 entries, 50 "
        "listed and 20 odd files read: the walk stops, lists 50, counts the rest, reads no more than 20.",
        [
            {"path": f"{LANDING_KAB}/sampah_{{i:04d}}.csv", "type": "file", "text": "x", "repeat": 3000},
            {"path": "zzz/{i:04d}.txt", "type": "file", "text": "x", "repeat": 3000},
        ],
        {
            "listed": None,
            "read": None,
            "by_kind": {
                "nama_berkas_tidak_sesuai": 20,
                "batas_berkas": 2980,
                "folder_tak_terduga": 1,
                "berkas_tak_terduga": 4000 - 3006,  # what the budget leaves for zzz/ (walked last)
            },
            "entries_examined": 4000,
            "not_examined": 2006,
            "walk_stopped": True,
            "listed_count": 50,
        },
        limits={"max_entries": 4000, "max_listed": 50, "max_unexpected_files_read": 20},
    )


def main() -> None:
    corpus = Corpus()
    file_level(corpus)
    damage(corpus)
    rows_and_values(corpus)
    reading(corpus)
    corpus.write()
    clean = [
        e["files"][0]["landing"].rsplit("/", 1)[1][:10]
        for _, e, _ in corpus.cases
        if e["case"].endswith("crlf_bom_semicolon")
    ]
    (ROOT / "dukcapil_5203.csv").write_bytes(dukcapil_extract(clean))
    print(f"{len(corpus.cases)} cases written to {CASES}")
    landing = LandingCorpus()
    landing_area(landing)
    landing.write()
    print(f"{len(landing.cases)} landing cases written to {LANDING}")


if __name__ == "__main__":
    main()
