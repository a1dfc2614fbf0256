"""The feedback file for one desa/kelurahan's submission: the fate of every row its operator submitted
this quarter (one file per submitted file, so a desa that sent a .csv and a .xlsx gets two).

Sheets: "Hasil Usulan", a header block naming the desa, kecamatan, kabupaten, quarter, run and file (with
the file's problem, if it had one), then one row per submitted row, numbered as Excel or a text editor shows
it, with "perlu tindakan", its outcome, its findings, why (the wrong value echoed), what to fix and the
person's own Dukcapil NIK and KK where they differ; "Siap Kirim Ulang", only the rows to fix, in
the submission's own columns with the corrections Dukcapil supports filled in, ready to send again;
"Perubahan KK", the desa's households in, out or changed since the previous quarter, with the reason.
`feedback_rows` assembles the rows from the pipeline's tables; `feedback_file_names` names the files. See
docs/reports.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from pipelines import contract as c
from pipelines.local_time import local_date, zone_of
from pipelines.privacy import mask_text
from pipelines.regions import dotted, region_name
from pipelines.reports import excel as x
from pipelines.reports import guidance as g
from pipelines.reports import readable as rd
from pipelines.reports.workbook import PRIVACY_NOTE, Regions

SHEET: Final = "Hasil Usulan"
RESUBMIT_SHEET: Final = "Siap Kirim Ulang"
CHANGES_SHEET: Final = "Perubahan KK"
ACTION_YES: Final = "YA"
ACTION_NO: Final = "tidak"
# (header, width); hidden ones stay for a filter or a copy but do not print
COLUMNS: Final = (
    ("Baris", 6),
    ("Perlu tindakan", 9),
    ("NIK", 17),
    ("Nama", 16),
    ("No. KK", 17),
    ("Hasil", 11),
    ("Temuan", 16),
    ("Alasan", 24),
    ("Saran perbaikan", 22),
    ("Data menurut Dukcapil", 17),
    ("Digabung dengan", 16),
    ("Status padan", 16),
    ("ID proses", 30),  # for support: the run that wrote the file
)
HEADERS: Final = tuple(h for h, _ in COLUMNS)
HIDDEN: Final = ("No. KK", "Digabung dengan", "Status padan", "ID proses")
_WRAPPED: Final = ("Nama", "Hasil", "Temuan", "Alasan", "Saran perbaikan", "Data menurut Dukcapil", "Digabung dengan")
EXPLANATION: Final = (
    "Setiap baris usulan tercantum di bawah ini dengan nomor baris yang sama seperti di Excel (baris 1 = "
    "judul kolom). Baris bertanda 'YA' pada kolom 'Perlu tindakan' perlu diperbaiki: lihat 'Alasan' dan "
    "'Saran perbaikan'. Hasil 'diterima': masuk DTKS; 'digabung sebagai data ganda': orang yang sama sudah "
    "diusulkan pada baris lain; 'dikarantina': belum masuk DTKS. Lembar 'Siap Kirim Ulang' memuat baris yang "
    "perlu diperbaiki dengan koreksi dari Dukcapil yang sudah diisikan."
)
RESUBMIT_NOTE: Final = (
    "Baris yang perlu diperbaiki, dalam susunan kolom usulan. Isian yang didukung data Dukcapil (NIK, nomor "
    "KK, status meninggal) sudah diperbaiki; periksa dan lengkapi isian lainnya sesuai "
    "'Alasan' di lembar 'Hasil Usulan', lalu kirim lembar ini sebagai usulan berikutnya. Baris data ganda "
    "yang digabung tidak dicantumkan: hapus dari usulan. Kolom 'Baris asal' hanya penunjuk dan boleh dihapus."
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
    return rd.bullet_list([g.guidance_for(k).title for k in _split_categories(value)])


def _finding_advice(value: Any) -> str | None:
    return rd.bullet_list([g.guidance_for(k).desa_advice for k in _split_categories(value)])


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
    """`merged_into` in words: `baris 13` in the same file, `baris 13 pada berkas 5203012001.csv` in the
    desa's other file, else the other desa's row; the row as Excel numbers it (data row 12 is row 13), the
    file by its name, never its path. Without `source_file`, any file of the desa counts as the same file."""
    text = x.as_text(value)
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.isdigit():
        return f"baris {rd.shown_row(int(text))}"
    m = _MERGED_REF.match(text)
    if not m:
        return text
    name = _file_name(m.group("file"))
    stem = name.rsplit(".", 1)[0]
    row = rd.shown_row(int(m.group("row")))
    if source_file is not None and name == _file_name(source_file):
        return f"baris {row}"
    if stem == kode_desa:
        return f"baris {row}" if source_file is None else f"baris {row} pada berkas {name}"
    desa = region_name(stem) if len(stem) == 10 and stem.isdigit() else None
    where = f"desa {desa} ({stem})" if desa else f"berkas {name}"
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
    submitted: pd.DataFrame | None = None,
    changes: Any = None,
) -> Path:
    """Write the feedback workbook of one submitted file of the desa to `path` (replacing it atomically)
    and return the path. `rows` as `feedback_rows` makes them; `source_file`, `file_status` (the ingest
    status) and `file_problems` (file-level messages) name the file and say what was wrong with it, which
    is all a desa learns when its file could not be read. `submitted` holds the file's rows as sent (the
    contract's columns, `source_row`) for the ready-to-resubmit sheet; `changes` the kabupaten's
    `changes.HouseholdChanges` (None: no earlier quarter to compare with)."""
    code = (x.as_text(kode_desa) or "").strip().replace(".", "")
    regions = Regions(code[:4])
    r = rows.copy() if rows is not None else pd.DataFrame()
    for name in (*FEEDBACK_COLUMNS, *FIX_COLUMNS):
        if name not in r:
            r[name] = pd.Series(None, index=r.index, dtype="object")
    r = _in_row_order(r.reset_index(drop=True))
    # one value per row; labels are looked up once per distinct value (a file has ~1,500 rows, few labels)
    outcomes = x.map_distinct(r["outcome"], lambda v: x.as_text(v) or "")
    act = needs_action(r)
    values = {
        "Baris": x.map_distinct(r["source_row"].tolist(), rd.shown_row),
        "Perlu tindakan": [ACTION_YES if a else ACTION_NO for a in act],
        "NIK": list(r["nik"]),
        "Nama": list(r["nama"]),
        "No. KK": list(r["no_kk"]),
        "Hasil": x.map_distinct(outcomes, lambda o: g.outcome_label(o) or None),
        "Digabung dengan": [
            merged_reference(m, code, source_file) if o == c.OUTCOME_MERGED else None
            for o, m in zip(outcomes, r["merged_into"], strict=True)
        ],
        "Status padan": x.map_distinct(r["status_padan"], g.status_padan_label),
        "Temuan": x.map_distinct(r["categories"], _finding_titles),
        "Alasan": [
            rd.bullet_list([*_merge_reason(o, m, code, source_file), *_lines(reasons)])
            for o, m, reasons in zip(outcomes, r["merged_into"], r["reasons"], strict=True)
        ],
        "Saran perbaikan": [
            _row_advice(cats, fix_nik, fix_kk)
            for cats, fix_nik, fix_kk in zip(r["categories"], r["fix_nik"], r["fix_no_kk"], strict=True)
        ],
        "Data menurut Dukcapil": [
            _dukcapil_text(fix_nik, fix_kk) for fix_nik, fix_kk in zip(r["fix_nik"], r["fix_no_kk"], strict=True)
        ],
        "ID proses": [run_id] * len(r),
    }
    columns = [values[h] for h in HEADERS]

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    widths = [w for _, w in COLUMNS]
    desa_name = regions.desa_name(code) if code else "(kosong)"
    shown_code = dotted(code) if len(code) == 10 and code.isdigit() else code
    kec_code = code[:6]
    kec_name = region_name(kec_code) if len(kec_code) == 6 and kec_code.isdigit() else None
    kab_name = regions.kab_name()
    n_action = sum(act)
    header_block = [
        ("Desa/Kelurahan", f"{desa_name} ({shown_code})" if code else desa_name),
        ("Kecamatan", kec_name or "(tidak diketahui)"),
        ("Kabupaten/Kota", kab_name),
        ("Periode", g.period_text(quarter)),
        ("Tanggal proses", processed_on(run_id, quarter, code)),
        *([("Berkas usulan", _file_name(source_file))] if source_file else []),
        *(
            [("Status berkas", _file_status_text(file_status, file_problems))]
            if file_problems or _odd(file_status)
            else []
        ),
        ("Ringkasan", _summary_text(pd.Series(outcomes, dtype="object"))),
        ("Perlu tindakan", f"{g.format_count(n_action)} baris (bertanda '{ACTION_YES}')."),
        ("Keterangan", EXPLANATION),
        ("Perhatian", PRIVACY_NOTE),
    ]
    page_title = f"{desa_name}, {g.quarter_label(quarter)}"
    table = x.table_sheet(
        ws,
        HEADERS,
        widths,
        header_row=len(header_block) + 3,  # title, header block, blank row
        header_left=page_title,
        hidden=HIDDEN,
        id_columns=("NIK", "No. KK", "Data menurut Dukcapil"),
        number_columns=("Baris",),
        wrap_columns=_WRAPPED,
    )
    ws.append(x.cells(ws, ["Hasil Pemeriksaan Usulan Pemutakhiran DTKS"], x.TITLE))
    for i, (label, text) in enumerate(header_block, 2):
        ws.append(x.wide_line(ws, i, label, text, table.shown_widths()))
    ws.append([])
    fast = table.write(columns)
    fast_rows = [fast]
    fast_rows.append(_write_resubmit(wb.create_sheet(RESUBMIT_SHEET), r, act, submitted, page_title))
    _write_changes(wb.create_sheet(CHANGES_SHEET), code, changes, page_title)

    title = f"Hasil usulan DTKS {desa_name} {quarter}"
    return x.save_deterministic(
        wb, Path(path), timestamp=x.fixed_timestamp(run_id, quarter), title=title, fast_rows=fast_rows
    )


def processed_on(run_id: str, quarter: str, code: str) -> str:
    """The day the run processed the file, in the desa's own time zone (`2 Desember 2026`): an Airflow run
    id holds its moment in UTC, which is not a date the operator knows (`manual__2026-12-02T16:25:07...`)."""
    moment = x.fixed_timestamp(run_id, quarter).replace(tzinfo=UTC)
    return local_date(moment, zone_of(code or "00"))


def needs_action(rows: pd.DataFrame) -> list[bool]:
    """A row needs the village's action when it was quarantined or has a finding."""
    return [
        o == c.OUTCOME_QUARANTINED or bool(_split_categories(cats))
        for o, cats in zip(rows["outcome"].map(lambda v: x.as_text(v) or ""), rows["categories"], strict=True)
    ]


def _lines(text: Any) -> list[str]:
    return [t for t in (x.as_text(text) or "").split("\n") if t.strip()]


def _merge_reason(outcome: str, merged_into: Any, code: str, source_file: str | None) -> list[str]:
    if outcome != c.OUTCOME_MERGED:
        return []
    ref = merged_reference(merged_into, code, source_file)
    return [f"Digabung ke {ref} (baris yang dipertahankan)." if ref else ""]


def _row_advice(categories: Any, fix_nik: Any, fix_kk: Any) -> str | None:
    """One instruction per finding; where Dukcapil gives the person's own NIK or KK, the number itself."""
    nik = None if x.is_missing(fix_nik) else f"Tulis NIK {x.as_text(fix_nik)} (NIK warga ini menurut Dukcapil)."
    kk = None if x.is_missing(fix_kk) else f"Tulis nomor KK {x.as_text(fix_kk)} (menurut Dukcapil)."
    fixes = {c.NIK_BERBEDA: nik, c.NIK_TIDAK_VALID: nik, c.KK_BERBEDA: kk}
    return rd.bullet_list([fixes.get(k) or g.guidance_for(k).desa_advice for k in _split_categories(categories)])


def _dukcapil_text(fix_nik: Any, fix_kk: Any) -> str | None:
    parts = []
    if not x.is_missing(fix_nik):
        parts.append(f"NIK: {x.as_text(fix_nik)}")
    if not x.is_missing(fix_kk):
        parts.append(f"No. KK: {x.as_text(fix_kk)}")
    return "\n".join(parts) or None


RESUBMIT_EXTRA: Final = "Baris asal"


def _write_resubmit(
    ws: Any, rows: pd.DataFrame, act: list[bool], submitted: pd.DataFrame | None, title: str
) -> x.FastRows:
    """The rows to fix, as the submission's columns (contract 1.1) with Dukcapil's corrections filled in,
    and the row they come from last (an extra column, which intake keeps aside)."""
    headers = [*c.SUBMISSION_COLUMNS, RESUBMIT_EXTRA]
    widths = [11, 12, 17, 17, 18, 6, 12, 11, 14, 14, 18, 5, 5, 14, 10, 10, 10, 8]
    x.prepare_sheet(ws, widths, freeze_row=4, header_left=title, title_rows="3:3", clamp=False)
    ws.sheet_properties.pageSetUpPr.fitToPage = False  # a data sheet to send back: printed full size, pages across
    ws.append(x.cells(ws, ["Siap kirim ulang: baris yang perlu diperbaiki"], x.TITLE))
    ws.append(x.text_block(ws, 2, None, RESUBMIT_NOTE, widths, target=150))
    ws.append(x.cells(ws, headers, x.HEADER))
    raw: dict[str, dict[str, Any]] = {}
    if submitted is not None and len(submitted) and "source_row" in submitted:
        wanted = {str(x.row_number(v)) for v in rows["source_row"][act]} if any(act) else set()
        for rec in submitted[submitted["source_row"].map(lambda v: str(x.row_number(v)) in wanted)].to_dict("records"):
            raw[str(x.row_number(rec["source_row"]))] = rec
    out: list[list[Any]] = [[] for _ in headers]
    todo = rows[pd.Series(act, index=rows.index, dtype=bool) & (rows["outcome"] != c.OUTCOME_MERGED)]
    for row in todo.to_dict("records"):  # only the rows to fix: a file's clean rows cost nothing here
        rec = dict(raw.get(str(x.row_number(row["source_row"])), {}))
        if not rec:  # no raw row at hand: what the feedback row knows
            rec = {"nik": row["nik"], "nama": row["nama"], "no_kk": row["no_kk"]}
        if not x.is_missing(row["fix_nik"]):
            rec["nik"] = row["fix_nik"]
        if not x.is_missing(row["fix_no_kk"]):
            rec["no_kk"] = row["fix_no_kk"]
        if not x.is_missing(row["fix_nonaktif"]):
            rec["status_usulan"], rec["alasan_nonaktif"] = c.NONAKTIF, row["fix_nonaktif"]
        for i, col in enumerate(c.SUBMISSION_COLUMNS):
            out[i].append(rec.get(col))
        out[-1].append(rd.shown_row(row["source_row"]))
    fast = x.FastRows(ws, 4, len(headers), [0, 1, 2, 3], number_columns=[len(headers) - 1])
    fast.extend(out)
    ws.auto_filter.ref = f"A3:{get_column_letter(len(headers))}{3 + len(out[0])}"
    return fast


def _write_changes(ws: Any, code: str, changes: Any, title: str) -> None:
    """The desa's households (KK) in, out or changed since the previous quarter, with the reason."""
    from pipelines.reports.changes import change_text

    headers = ("No. KK", "Kepala keluarga", "Perubahan", "Anggota (sebelum)", "Anggota (kini)")
    widths = [18, 24, 50, 11, 11]
    x.prepare_sheet(ws, widths, freeze_row=4, header_left=title, title_rows="3:3", clamp=False)
    ws.row_dimensions[3].height = x.header_height(headers, widths)
    ws.append(x.cells(ws, ["Perubahan keluarga (KK) sejak triwulan sebelumnya"], x.TITLE))
    if changes is None or changes.previous_quarter is None:
        ws.append(x.text_block(ws, 2, None, g.CHANGES_FIRST_QUARTER, [0, *widths], target=90))
        return
    ws.append(x.cells(ws, [f"Dibandingkan dengan {g.period_text(changes.previous_quarter)}."], x.NOTE))
    ws.append(x.cells(ws, headers, x.HEADER))
    frame = changes.of_desa(code)
    order = {g.CHANGE_OUT: 0, g.CHANGE_CHANGED: 1, g.CHANGE_IN: 2}
    frame = frame.assign(_o=frame["perubahan"].map(order)).sort_values(["_o", "no_kk"], kind="stable")
    for rec in frame.to_dict("records"):
        ws.append(
            [
                x.text_cell(ws, rec["no_kk"], x.ID_TEXT),
                x.text_cell(ws, rec["kepala"]),
                x.text_cell(ws, change_text(rec["perubahan"], rec["alasan"]), x.WRAP),
                x.number_cell(ws, rec["anggota_sebelumnya"]),
                x.number_cell(ws, rec["anggota_sekarang"]),
            ]
        )
    if frame.empty:
        ws.append(x.cells(ws, ["Tidak ada keluarga yang masuk, keluar, atau berubah."], x.NOTE))


# --- what the pipeline passes in ------------------------------------------------------------------------

# the field by its words (`tanggal lahir`, as findings write it) or its column name (as they wrote it before)
_IDENTITY_FIELD = re.compile(
    r"(?:^|; |\. )(" + "|".join([*g.IDENTITY_FIELDS, *g.IDENTITY_FIELDS.values()]) + r") \(usulan:"
)
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
        fields = [g.IDENTITY_FIELDS.get(f, f) for f in dict.fromkeys(_IDENTITY_FIELD.findall(text))]
        reason = g.IDENTITY_REASON.format(fields=", ".join(fields)) if fields else g.IDENTITY_REASON.split(":")[0] + "."
        return note + reason
    if category in g.DESA_DETAIL_CATEGORIES and text:
        return rd.readable(text, region_name)
    return None


def _echo(message: str, field: str, fields: dict[str, Any]) -> str:
    """A quarantine message with the value the village wrote, so it sees what to correct."""
    value = x.as_text(fields.get(field)) if field and field != "nik" else None
    if value is None or not value.strip():
        return message
    shown = value.strip() if len(value.strip()) <= 60 else value.strip()[:59] + "…"
    return f"{message.rstrip('.')}. Tertulis: '{shown}'."


def _quarantine_reasons(quarantine: pd.DataFrame) -> dict[tuple[Any, Any], tuple[list[str], set[str]]]:
    """Per quarantined row (source_file, source_row): its messages (in the reader's words, each with the
    value written) and the categories they come from."""
    out: dict[tuple[Any, Any], tuple[list[str], set[str]]] = {}
    if quarantine is None or not len(quarantine):
        return out
    raw = quarantine["raw_fields"] if "raw_fields" in quarantine else pd.Series(None, index=quarantine.index)
    for source_file, source_row, text, raw_text in zip(
        quarantine["source_file"], quarantine["source_row"], quarantine["reasons"], raw, strict=True
    ):
        try:
            reasons = json.loads(text) if text else []
        except (TypeError, ValueError):
            reasons = []
        try:
            fields = json.loads(raw_text) if isinstance(raw_text, str) and raw_text else {}
        except (TypeError, ValueError):
            fields = {}
        fields = fields if isinstance(fields, dict) else {}
        messages = [
            rd.readable(_echo(str(r.get("message", "")).strip(), str(r.get("field") or ""), fields), region_name)
            for r in reasons
            if str(r.get("message", "")).strip()
        ]
        categories = {str(r.get("category", "")) for r in reasons}
        out[(source_file, source_row)] = (list(dict.fromkeys(m for m in messages if m)), categories)
    return out


FEEDBACK_COLUMNS: Final = (
    "source_file",
    "source_row",
    "nik",
    "nama",
    "no_kk",
    "outcome",
    "status_padan",
    "person_key",
    "merged_into",
    "categories",
    "reasons",
)
# The person's own values from Dukcapil where the row differs: filled into the ready-to-resubmit sheet.
# Not the birth date: the village learns which fields differ from Dukcapil, never Dukcapil's identity values
# (docs/reports.md); the NIK and KK it needs to write are the linked person's own.
FIX_COLUMNS: Final = ("fix_nik", "fix_no_kk", "fix_nonaktif")
_LINKED: Final = frozenset({c.PADAN, c.PADAN_DENGAN_KOREKSI})


def feedback_rows(
    row_outcome: pd.DataFrame, context: pd.DataFrame, discrepancy: pd.DataFrame, quarantine: pd.DataFrame
) -> pd.DataFrame:
    """The rows of the desa feedback files, for every submitted row of `row_outcome`: `source_file`,
    `source_row`, `nik`, `nama` and `no_kk` (from `context`, as submitted), `outcome`, `status_padan`,
    `person_key`, `merged_into` (`<file> baris <n>`), `categories` (`;`-separated), `reasons` (one per line:
    the quarantine messages, then what `desa_reason` shows of each other finding) and the corrections
    Dukcapil supports for the person's own row (`FIX_COLUMNS`: the linked person's NIK, KK and birth date
    where they differ, MENINGGAL for a death). Plain loops, not groupby: a kabupaten has ~100k findings and
    pandas' per-group Python calls took seconds."""
    key = ["source_file", "source_row"]
    wanted = [col for col in ("nik", "nama", "no_kk") if len(context) and col in context]
    ctx = context[[*key, *wanted]].drop_duplicates(key) if len(context) else pd.DataFrame(columns=key)
    rows = row_outcome.merge(ctx, on=key, how="left")
    for name in ("merged_into_file", "merged_into_row", "nik_dukcapil", "status_padan"):
        if name not in rows:
            rows[name] = None
    rows["merged_into"] = np.where(
        rows["merged_into_file"].notna(),
        rows["merged_into_file"].fillna("").astype(str)
        + " baris "
        + rows["merged_into_row"].astype("string").fillna(""),
        None,
    )
    row_keys = list(zip(rows["source_file"], rows["source_row"], strict=True))
    linked_nik = {
        k: nik
        for k, nik, padan in zip(row_keys, rows["nik_dukcapil"], rows["status_padan"], strict=True)
        if not x.is_missing(nik) and padan in _LINKED
    }

    quarantined = _quarantine_reasons(quarantine)
    categories: dict[tuple[Any, Any], dict[str, None]] = {}
    reasons: dict[tuple[Any, Any], dict[str, None]] = {}
    fixes: dict[str, dict[tuple[Any, Any], Any]] = {name: {} for name in FIX_COLUMNS}
    if len(discrepancy):
        for source_file, source_row, category, detail, suggested in zip(
            discrepancy["source_file"],
            discrepancy["source_row"],
            discrepancy["category"],
            discrepancy["detail"],
            discrepancy["suggested_value"] if "suggested_value" in discrepancy else [None] * len(discrepancy),
            strict=True,
        ):
            k = (source_file, source_row)
            categories.setdefault(k, {})[category] = None
            known = not x.is_missing(suggested) and bool(x.as_text(suggested))
            if category == c.NIK_BERBEDA and known:
                fixes["fix_nik"][k] = suggested
            elif category == c.NIK_TIDAK_VALID and k in linked_nik:
                fixes["fix_nik"].setdefault(k, linked_nik[k])
            elif category == c.KK_BERBEDA and known:
                fixes["fix_no_kk"][k] = suggested
            elif category == c.MENINGGAL:
                fixes["fix_nonaktif"][k] = "MENINGGAL"
            q = quarantined.get(k)
            if q is not None and category in q[1]:
                continue  # the quarantine messages already say it
            reason = desa_reason(category, detail)
            if reason:
                reasons.setdefault(k, {})[reason] = None
    rows["categories"] = [";".join(categories[k]) if k in categories else None for k in row_keys]
    rows["reasons"] = [
        "\n".join(dict.fromkeys([*quarantined.get(k, ((), ()))[0], *reasons.get(k, {})])) or None
        if k in quarantined or k in reasons
        else None
        for k in row_keys
    ]
    for name, found in fixes.items():
        rows[name] = [found.get(k) for k in row_keys]
    for name in FEEDBACK_COLUMNS:
        if name not in rows:
            rows[name] = None
    return rows[[*FEEDBACK_COLUMNS, *FIX_COLUMNS]]


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
