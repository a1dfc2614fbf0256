"""The feedback file for one desa/kelurahan: the fate of every row its operator submitted this quarter.

One sheet, "Hasil Usulan": a header block naming the desa, kecamatan, kabupaten, quarter and run, then one
row per submitted row with its outcome, its status padan, its findings and what to fix. See
docs/reports.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from pipelines import contract as c
from pipelines.regions import dotted, region_name
from pipelines.reports import excel as x
from pipelines.reports import guidance as g
from pipelines.reports.workbook import PRIVACY_NOTE, Regions

SHEET: Final = "Hasil Usulan"
HEADERS: Final = (
    "Baris",
    "NIK",
    "Nama",
    "Hasil",
    "Digabung dengan",
    "Status padan",
    "Temuan",
    "Alasan",
    "Saran perbaikan",
)
_MIN_WIDTHS: Final = {
    "NIK": 17,
    "Nama": 24,
    "Hasil": 12,
    "Digabung dengan": 16,
    "Status padan": 16,
    "Temuan": 24,
    "Alasan": 30,
    "Saran perbaikan": 40,
}
EXPLANATION: Final = (
    "Setiap baris usulan yang dikirim desa tercantum di bawah ini beserta hasilnya. Hasil 'diterima': "
    "baris masuk DTKS hasil pemutakhiran; 'digabung sebagai data ganda': orang yang sama sudah diusulkan "
    "pada baris lain (kolom 'Digabung dengan'); 'dikarantina': baris belum masuk DTKS, perbaiki sesuai "
    "kolom 'Alasan' dan 'Saran perbaikan', lalu kirim ulang pada usulan berikutnya."
)
NO_ROWS: Final = "Tidak ada baris usulan yang dapat dibaca dari desa ini pada periode ini."

_MERGED_REF = re.compile(
    r"^(?P<file>.*?\.(?:csv|xlsx|xls))\s*(?:[:#/,;|]|\s)\s*(?:baris\s*)?(?P<row>\d+)\s*$", re.IGNORECASE
)


def _split_categories(value: Any) -> list[str]:
    text = x.as_text(value) or ""
    seen: list[str] = []
    for part in re.split(r"[;,]", text):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def merged_reference(value: Any, kode_desa: str) -> str | None:
    """`merged_into` in words: `baris 12` in the same desa's file, else the other desa's row."""
    text = x.as_text(value)
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.isdigit():
        return f"baris {int(text)}"
    m = _MERGED_REF.match(text)
    if not m:
        return text
    stem = m.group("file").replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    row = int(m.group("row"))
    if stem == kode_desa:
        return f"baris {row}"
    name = region_name(stem) if len(stem) == 10 and stem.isdigit() else None
    where = f"desa {name} ({stem})" if name else m.group("file")
    return f"baris {row} pada usulan {where}"


def _summary_text(outcomes: pd.Series) -> str:
    if outcomes.empty:
        return NO_ROWS
    counts = outcomes.value_counts()
    parts = [f"{int(counts.get(o, 0))} {g.OUTCOME_LABELS[o]}" for o in c.OUTCOMES]
    extra = [f"{int(n)} {k or '(kosong)'}" for k, n in counts.items() if k not in c.OUTCOMES]
    return f"{len(outcomes)} baris usulan: " + ", ".join(parts + extra) + "."


def write_desa_feedback(path: Path, *, kode_desa: str, quarter: str, run_id: str, rows: pd.DataFrame) -> Path:
    """Write the desa's feedback workbook to `path` (replacing it atomically) and return the path."""
    code = (x.as_text(kode_desa) or "").strip().replace(".", "")
    regions = Regions(code[:4])
    r = rows.copy() if rows is not None else pd.DataFrame()
    for name in (
        "source_row",
        "nik",
        "nama",
        "outcome",
        "status_padan",
        "merged_into",
        "categories",
        "reasons",
    ):
        if name not in r:
            r[name] = pd.Series(None, index=r.index, dtype="object")
    r = r.reset_index(drop=True)
    r["_rownum"] = pd.to_numeric(r["source_row"].map(x.row_number), errors="coerce")
    r["_rowtext"] = r["source_row"].map(lambda v: x.as_text(v) or "")
    r = r.sort_values(["_rownum", "_rowtext"], kind="stable")
    outcomes = r["outcome"].map(lambda v: x.as_text(v) or "")
    categories = r["categories"].map(_split_categories)

    values = {
        "Baris": r["source_row"].map(x.row_number),
        "NIK": r["nik"],
        "Nama": r["nama"],
        "Hasil": outcomes.map(lambda o: g.outcome_label(o) or None),
        "Digabung dengan": [
            merged_reference(m, code) if o == c.OUTCOME_MERGED else None
            for o, m in zip(outcomes, r["merged_into"], strict=True)
        ],
        "Status padan": r["status_padan"].map(g.status_padan_label),
        "Temuan": categories.map(lambda cats: "; ".join(g.guidance_for(k).title for k in cats) or None),
        "Alasan": r["reasons"],
        "Saran perbaikan": categories.map(lambda cats: " ".join(g.guidance_for(k).desa_advice for k in cats) or None),
    }
    columns = [list(values[h]) for h in HEADERS]

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    widths = x.table_widths(HEADERS, columns)
    widths[0] = max(widths[0], 16)  # the labels of the header block sit in column A
    widths = [max(w, _MIN_WIDTHS.get(h, 0)) for h, w in zip(HEADERS, widths, strict=True)]

    desa_name = regions.desa_name(code) if code else "(kosong)"
    shown_code = dotted(code) if len(code) == 10 and code.isdigit() else code
    kec_code = code[:6]
    kec_name = region_name(kec_code) if len(kec_code) == 6 and kec_code.isdigit() else None
    kab_name = regions.kab_name()
    header_block = [
        ("Desa/Kelurahan", f"{desa_name} ({shown_code})" if code else desa_name),
        ("Kecamatan", kec_name or "(tidak diketahui)"),
        ("Kabupaten/Kota", kab_name),
        ("Periode", g.period_text(quarter)),
        ("ID proses", run_id),
        ("Ringkasan", _summary_text(outcomes)),
        ("Keterangan", EXPLANATION),
        ("Perhatian", PRIVACY_NOTE),
    ]
    header_row = len(header_block) + 3  # title, header block, blank row
    widths = x.prepare_sheet(ws, widths, freeze_row=header_row + 1)
    ws.append(x.cells(ws, ["Hasil Pemeriksaan Usulan Pemutakhiran DTKS"], x.TITLE))
    for i, (label, text) in enumerate(header_block, 2):
        if len(text) > 60:
            ws.append(x.text_block(ws, i, label, text, widths, target=110))
        else:
            ws.append([x.text_cell(ws, label, x.LABEL), x.text_cell(ws, text)])
    ws.append([])
    ws.append(x.cells(ws, HEADERS, x.HEADER))
    fast = x.FastRows(ws, header_row + 1, len(HEADERS), [HEADERS.index("NIK")], number_columns=[0])
    for record in zip(*columns, strict=True):
        fast.append(record)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(HEADERS))}{header_row + len(r)}"
    ws.print_title_rows = f"{header_row}:{header_row}"

    title = f"Hasil usulan DTKS {desa_name} {quarter}"
    return x.save_deterministic(
        wb, Path(path), timestamp=x.fixed_timestamp(run_id, quarter), title=title, fast_rows=[fast]
    )
