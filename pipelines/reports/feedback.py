"""The feedback file for one desa/kelurahan's submission: the fate of every row its operator submitted
this quarter (one file per submitted file, so a desa that sent a .csv and a .xlsx gets two).

One sheet, "Hasil Usulan": a header block naming the desa, kecamatan, kabupaten, quarter, run and file
(with the file's problem, if it had one), then one row per submitted row with its outcome, its status
padan, its findings, why, and what to fix. `feedback_rows` assembles those rows from the pipeline's tables;
`feedback_file_names` names the files. See docs/reports.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from pipelines import contract as c
from pipelines.privacy import mask_text
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
NO_ROWS: Final = "Tidak ada baris usulan yang dapat dibaca dari berkas ini pada periode ini."

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


def _finding_titles(value: Any) -> str | None:
    return "; ".join(g.guidance_for(k).title for k in _split_categories(value)) or None


def _finding_advice(value: Any) -> str | None:
    return " ".join(g.guidance_for(k).desa_advice for k in _split_categories(value)) or None


def _in_row_order(r: pd.DataFrame) -> pd.DataFrame:
    """The rows sorted by row number, then by the row's text (for a row number that is not a number)."""
    if x.exact_ints(r["source_row"]):
        return r.sort_values("source_row", kind="stable")  # the same order, without two calls per row
    r["_rownum"] = pd.to_numeric(r["source_row"].map(x.row_number), errors="coerce")
    r["_rowtext"] = r["source_row"].map(lambda v: x.as_text(v) or "")
    return r.sort_values(["_rownum", "_rowtext"], kind="stable")


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def merged_reference(value: Any, kode_desa: str, source_file: str | None = None) -> str | None:
    """`merged_into` in words: `baris 12` in the same file, `baris 12 pada berkas 5203012001.csv` in the
    desa's other file, else the other desa's row. Without `source_file`, any file of the desa counts as
    the same file."""
    text = x.as_text(value)
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.isdigit():
        return f"baris {int(text)}"
    m = _MERGED_REF.match(text)
    if not m:
        return text
    name = _file_name(m.group("file"))
    stem = name.rsplit(".", 1)[0]
    row = int(m.group("row"))
    if source_file is not None and name == _file_name(source_file):
        return f"baris {row}"
    if stem == kode_desa:
        return f"baris {row}" if source_file is None else f"baris {row} pada berkas {name}"
    desa = region_name(stem) if len(stem) == 10 and stem.isdigit() else None
    where = f"desa {desa} ({stem})" if desa else m.group("file")
    return f"baris {row} pada usulan {where}"


def _summary_text(outcomes: pd.Series) -> str:
    if outcomes.empty:
        return NO_ROWS
    counts = outcomes.value_counts()
    parts = [f"{int(counts.get(o, 0))} {g.OUTCOME_LABELS[o]}" for o in c.OUTCOMES]
    extra = [f"{int(n)} {k or '(kosong)'}" for k, n in counts.items() if k not in c.OUTCOMES]
    return f"{len(outcomes)} baris usulan: " + ", ".join(parts + extra) + "."


def _odd(file_status: str | None) -> bool:
    return bool(file_status) and file_status not in ("ACCEPTED", "DITERIMA")


def _file_status_text(file_status: str | None, problems: Sequence[str]) -> str:
    label = g.file_status_label(file_status) if _odd(file_status) else "diterima dengan catatan"
    return " ".join([_sentence(label) + ".", *(mask_text(str(p)) for p in problems if p)])


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def write_desa_feedback(
    path: Path,
    *,
    kode_desa: str,
    quarter: str,
    run_id: str,
    rows: pd.DataFrame,
    source_file: str | None = None,
    file_status: str | None = None,
    file_problems: Sequence[str] = (),
) -> Path:
    """Write the feedback workbook of one submitted file of the desa to `path` (replacing it atomically)
    and return the path. `rows` as `feedback_rows` makes them; `source_file`, `file_status` (the ingest
    status) and `file_problems` (file-level messages) name the file and say what was wrong with it, which
    is all a desa learns when its file could not be read."""
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
    r = _in_row_order(r.reset_index(drop=True))
    # one value per row; labels are looked up once per distinct value (a file has ~1,500 rows, few labels)
    outcomes = x.map_distinct(r["outcome"], lambda v: x.as_text(v) or "")
    values = {
        "Baris": x.row_numbers(r["source_row"]),
        "NIK": list(r["nik"]),
        "Nama": list(r["nama"]),
        "Hasil": x.map_distinct(outcomes, lambda o: g.outcome_label(o) or None),
        "Digabung dengan": [
            merged_reference(m, code, source_file) if o == c.OUTCOME_MERGED else None
            for o, m in zip(outcomes, r["merged_into"], strict=True)
        ],
        "Status padan": x.map_distinct(r["status_padan"], g.status_padan_label),
        "Temuan": x.map_distinct(r["categories"], _finding_titles),
        "Alasan": list(r["reasons"]),
        "Saran perbaikan": x.map_distinct(r["categories"], _finding_advice),
    }
    columns = [values[h] for h in HEADERS]

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
        *([("Berkas usulan", _file_name(source_file))] if source_file else []),
        *(
            [("Status berkas", _file_status_text(file_status, file_problems))]
            if file_problems or _odd(file_status)
            else []
        ),
        ("Ringkasan", _summary_text(pd.Series(outcomes, dtype="object"))),
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
    fast.extend(columns)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(HEADERS))}{header_row + len(r)}"
    ws.print_title_rows = f"{header_row}:{header_row}"

    title = f"Hasil usulan DTKS {desa_name} {quarter}"
    return x.save_deterministic(
        wb, Path(path), timestamp=x.fixed_timestamp(run_id, quarter), title=title, fast_rows=[fast]
    )


# --- what the pipeline passes in ------------------------------------------------------------------------

_IDENTITY_FIELD = re.compile(r"(?:^|; |\. )(" + "|".join(g.IDENTITY_FIELDS) + r") \(usulan:")
_NAME_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def desa_reason(category: str, detail: Any) -> str | None:
    """What the desa file says about one finding: its `detail` where that only describes the desa's own row
    (`guidance.DESA_DETAIL_CATEGORIES`); for IDENTITAS_TIDAK_SESUAI only the fields that differ, never the
    Dukcapil values (the NIK may be someone else's), after what validation said of the row when it leads
    the detail (an implausible birth date: `pipelines.findings`; it comes before any value); nothing for
    other categories."""
    text = (x.as_text(detail) or "").strip()
    if category == c.IDENTITAS_TIDAK_SESUAI:
        first = _IDENTITY_FIELD.search(text)
        note = text[: first.start(1)].strip() + " " if first and first.start(1) else ""
        fields = [g.IDENTITY_FIELDS[f] for f in dict.fromkeys(_IDENTITY_FIELD.findall(text))]
        reason = g.IDENTITY_REASON.format(fields=", ".join(fields)) if fields else g.IDENTITY_REASON.split(":")[0] + "."
        return note + reason
    if category in g.DESA_DETAIL_CATEGORIES and text:
        return text
    return None


def _quarantine_reasons(quarantine: pd.DataFrame) -> dict[tuple[Any, Any], tuple[list[str], set[str]]]:
    """Per quarantined row (source_file, source_row): its messages and the categories they come from."""
    out: dict[tuple[Any, Any], tuple[list[str], set[str]]] = {}
    if quarantine is None or not len(quarantine):
        return out
    for source_file, source_row, text in zip(
        quarantine["source_file"], quarantine["source_row"], quarantine["reasons"], strict=True
    ):
        try:
            reasons = json.loads(text) if text else []
        except (TypeError, ValueError):
            reasons = []
        messages = [str(r.get("message", "")).strip() for r in reasons]
        categories = {str(r.get("category", "")) for r in reasons}
        out[(source_file, source_row)] = (list(dict.fromkeys(m for m in messages if m)), categories)
    return out


def feedback_rows(
    row_outcome: pd.DataFrame, context: pd.DataFrame, discrepancy: pd.DataFrame, quarantine: pd.DataFrame
) -> pd.DataFrame:
    """The rows of the desa feedback files, for every submitted row of `row_outcome`: `source_file`,
    `source_row`, `nik` and `nama` (from `context`, as submitted), `outcome`, `status_padan`, `person_key`,
    `merged_into` (`<file> baris <n>`), `categories` (`;`-separated) and `reasons` (the quarantine
    messages, then what `desa_reason` shows of each other finding). Plain loops, not groupby: a kabupaten
    has ~100k findings and pandas' per-group Python calls took seconds."""
    key = ["source_file", "source_row"]
    if len(context):
        ctx = context[[*key, "nik", "nama"]].drop_duplicates(key)
    else:
        ctx = pd.DataFrame(columns=[*key, "nik", "nama"])
    rows = row_outcome.merge(ctx, on=key, how="left")
    for name in ("merged_into_file", "merged_into_row"):
        if name not in rows:
            rows[name] = None
    rows["merged_into"] = np.where(
        rows["merged_into_file"].notna(),
        rows["merged_into_file"].fillna("").astype(str)
        + " baris "
        + rows["merged_into_row"].astype("string").fillna(""),
        None,
    )

    quarantined = _quarantine_reasons(quarantine)
    categories: dict[tuple[Any, Any], dict[str, None]] = {}
    reasons: dict[tuple[Any, Any], dict[str, None]] = {}
    if len(discrepancy):
        for source_file, source_row, category, detail in zip(
            discrepancy["source_file"],
            discrepancy["source_row"],
            discrepancy["category"],
            discrepancy["detail"],
            strict=True,
        ):
            k = (source_file, source_row)
            categories.setdefault(k, {})[category] = None
            q = quarantined.get(k)
            if q is not None and category in q[1]:
                continue  # the quarantine messages already say it
            reason = desa_reason(category, detail)
            if reason:
                reasons.setdefault(k, {})[reason] = None
    row_keys = list(zip(rows["source_file"], rows["source_row"], strict=True))
    rows["categories"] = [";".join(categories[k]) if k in categories else None for k in row_keys]
    rows["reasons"] = [
        " ".join(dict.fromkeys([*quarantined.get(k, ((), ()))[0], *reasons.get(k, {})])) or None
        if k in quarantined or k in reasons
        else None
        for k in row_keys
    ]
    columns = [*key, "nik", "nama", "outcome", "status_padan", "person_key", "merged_into", "categories", "reasons"]
    for name in columns:
        if name not in rows:
            rows[name] = None
    return rows[columns]


def feedback_file_names(source_files: Sequence[str], quarter: str) -> dict[str, str]:
    """The feedback file name of each submitted file: `hasil_usulan_<kode_desa>_<quarter>.xlsx`, and
    `hasil_usulan_<kode_desa>_<ext>_<quarter>.xlsx` when a desa sent more than one file (a .csv and a .xlsx),
    so that neither overwrites the other."""
    files = list(dict.fromkeys(source_files))
    stems = [_NAME_SAFE.sub("_", _file_name(f).rsplit(".", 1)[0]) or "berkas" for f in files]
    shared = {s.lower() for s in stems if sum(t.lower() == s.lower() for t in stems) > 1}
    names: dict[str, str] = {}
    used: set[str] = set()
    for source_file, stem in zip(files, stems, strict=True):
        name = _file_name(source_file)
        ext = _NAME_SAFE.sub("_", name.rsplit(".", 1)[1]).lower() if "." in name else "tanpa_ekstensi"
        base = f"hasil_usulan_{stem}_{ext}" if stem.lower() in shared else f"hasil_usulan_{stem}"
        candidate, n = f"{base}_{quarter}.xlsx", 2
        while candidate.lower() in used:  # e.g. `A.CSV` and `a.csv` on a case-sensitive file system
            candidate, n = f"{base}_{n}_{quarter}.xlsx", n + 1
        used.add(candidate.lower())
        names[source_file] = candidate
    return names
