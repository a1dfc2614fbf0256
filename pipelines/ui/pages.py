"""The plugin's HTML pages, in Bahasa Indonesia with the reports' own words and styles
(`pipelines.reports.html_summary`, `pipelines.reports.guidance`): a run's page is the run's HTML summary drawn
from the warehouse, under a bar of links (Data Docs, reports, trace); the navigation page lists the published
quarters and their changes; the trace page asks for a NIK or a file and row and shows the chain of
`dtks trace`. No script anywhere: the pages carry the summary's Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, Final
from urllib.parse import quote, urlencode

from pipelines.privacy import mask_id
from pipelines.regions import dotted, region_name
from pipelines.reports import guidance as g
from pipelines.reports import html_summary as h

APP_TITLE: Final = "DTKS: hasil proses dan penelusuran"
NAV_TITLE: Final = "Triwulan yang diterbitkan"
TRACE_TITLE: Final = "Penelusuran data (jejak audit)"
LINKS_TITLE: Final = "Tautan proses ini"
# A person's change since the previous published quarter (the warehouse's `quarter_changes` view).
PERSON_CHANGE_LABELS: Final = {
    "ADDED": "Orang baru di DTKS",
    "REMOVED": "Orang tidak lagi ada di DTKS",
    "STATUS_CHANGED": "Status DTKS berubah",
}
RUN_STATUS_LABELS: Final = {
    "PUBLISHED": "diterbitkan",
    "SUPERSEDED": "digantikan oleh proses yang lebih baru untuk triwulan yang sama",
    "FAILED": "gagal, tidak diterbitkan",
    "GATE_REJECTED": "ditolak ambang mutu data, tidak diterbitkan",
}
REPORT_KIND_LABELS: Final = {
    "ringkasan": "Ringkasan (HTML)",
    "buku_kerja": "Buku kerja Dinas Sosial",
    "desa": "Berkas hasil usulan desa",
    "lainnya": "Berkas lain",
}
MASKED_NOTE: Final = (
    "Data pribadi (NIK, nomor KK, nama, tanggal lahir, alamat) disamarkan. Membuka data pribadi memerlukan "
    "izin khusus (peran DTKS Pemeriksa)."
)
UNMASKED_NOTE: Final = (
    "Data pribadi ditampilkan utuh (UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi): gunakan hanya "
    "untuk keperluan pemeriksaan, jangan disalin ke tiket atau surel."
)
PERSONAL_FILES_NOTE: Final = "Buku kerja dan berkas desa memuat data pribadi: hanya pemegang izin DTKS Pemeriksa."
EXTRA_CSS: Final = (
    "nav.dtks{display:flex;flex-wrap:wrap;gap:6px 18px;margin:0 0 12px;padding:8px 12px;background:#f7f9fc;"
    "border:1px solid #d9e1f2;border-radius:6px}nav.dtks a{color:#1f3864}"
    "form.trace{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:end;margin:8px 0 16px}"
    "form.trace label{display:flex;flex-direction:column;font-size:.9em;font-weight:600}"
    "form.trace input,form.trace select{font:inherit;padding:3px 6px}"
    "pre.trace{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f9fc;border:1px solid #d9e1f2;"
    "padding:10px;font-size:.85em;line-height:1.35}.err{color:#9c0006;font-weight:600}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{h.CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{h.CSS}{EXTRA_CSS}</style></head><body>{body}"
        f"<footer><p>{escape(h.GENERATED)}</p></footer></body></html>\n"
    )


def _nav(base: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    items = [(f"{base}/", NAV_TITLE), (f"{base}/trace", TRACE_TITLE), *extra]
    return '<nav class="dtks">' + "".join(f'<a href="{escape(u)}">{escape(t)}</a>' for u, t in items) + "</nav>"


def run_url(base: str, run_id: str) -> str:
    return f"{base}/runs/{quote(run_id, safe='')}"


def _status(status: str) -> str:
    return RUN_STATUS_LABELS.get(status, status)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells are HTML already (escaped by the caller)."""
    head = "".join(f"<th>{escape(x)}</th>" for x in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _links(summary: Mapping[str, Any], base: str) -> str:
    run = run_url(base, summary["run_id"])
    api = f"{base}/api/runs/{quote(summary['run_id'], safe='')}"
    rows = [
        (
            escape(f"Data Docs (Great Expectations) {region_name(kab) or kab}"),
            f'<a href="{run}/data-docs/{kab}/index.html">index.html</a>',
        )
        for kab in summary.get("data_docs") or {}
    ]
    for report in summary.get("reports") or []:
        path = report["path"]
        if report["kind"] == "desa":
            continue  # one per village: listed in the Dinsos workbook's folder, not here
        rows.append(
            (escape(REPORT_KIND_LABELS[report["kind"]]), f'<a href="{run}/reports/{quote(path)}">{escape(path)}</a>')
        )
    desa = sum(1 for r in summary.get("reports") or [] if r["kind"] == "desa")
    note = ""
    if summary.get("reports"):
        note = f"{g.format_count(desa)} berkas hasil usulan desa ada di folder laporan. {PERSONAL_FILES_NOTE}"
    return (
        f'<h2 id="tautan">{escape(LINKS_TITLE)}</h2>'
        + _table(["Isi", "Tautan"], rows)
        + f'<p class="note">{escape(note)} <a href="{api}">JSON proses ini</a></p>'
    )


GATES_TITLE: Final = "Ambang mutu data per kabupaten/kota"
GATE_STEPS: Final = {"validate": "Sebelum pemadanan", "decide": "Sesudah pemadanan"}


def _gates(summary: Mapping[str, Any]) -> str:
    """Each kabupaten/kota's quality gate before and after linkage (the held-back ones are named in the
    summary's own section)."""
    per_kab = (summary.get("gates") or {}).get("per_kabupaten") or {}
    if not per_kab:
        return ""
    rows = []
    for kab, steps in per_kab.items():
        cells = [escape(f"{region_name(kab) or kab} ({dotted(kab)})")]
        for step in GATE_STEPS:
            gate = steps.get(step)
            verdict = (
                "-" if gate is None else ("lulus" if gate["passed"] else "tidak lulus: " + " ".join(gate["problems"]))
            )
            cells.append(escape(verdict))
        rows.append(cells)
    return f'<h2 id="ambang">{escape(GATES_TITLE)}</h2>' + _table(["Kabupaten/kota", *GATE_STEPS.values()], rows)


def run_page(summary: Mapping[str, Any], info: h.RunInfo | None, base: str) -> str:
    """A run's page: for a published run, the run's HTML summary (`render_run`) drawn from the warehouse's
    figures, with the navigation and the run's links on top; otherwise what the attempt recorded."""
    nav = _nav(base)
    head = f"<p><strong>Status proses:</strong> {escape(_status(summary['status']))} ({escape(summary['status'])})</p>"
    if summary.get("counts") is None or info is None:
        lines = [head]
        if summary.get("failed_stage"):
            lines.append(f"<p>Tahap yang gagal: {escape(g.stage_label(summary['failed_stage']))}</p>")
        if summary.get("message"):
            lines.append(f"<p>{escape(summary['message'])}</p>")
        held = (summary.get("gates") or {}).get("held_back") or {}
        if held:
            lines.append(f"<p>{escape(g.HELD_BACK_TITLE)}: {escape(', '.join(dotted(k) for k in held))}</p>")
        if summary.get("data_docs"):
            lines.append(_links(summary, base))
        lines.append(_gates(summary))
        body = f"<h1>{escape(h.TITLE)}</h1>" + nav
        body += f"<dl class='meta'><dt>ID proses</dt><dd>{escape(summary['run_id'])}</dd>"
        body += f"<dt>Periode</dt><dd>{escape(g.period_text(summary['quarter']))}</dd></dl>" + "".join(lines)
        return _page(f"Proses DTKS {summary['run_id']}", body)
    page = h.render_run(summary["counts"], info)
    top = nav + head + _links(summary, base) + _gates(summary)
    page = page.replace("</style>", EXTRA_CSS + "</style>", 1)
    subtitle_end = page.index("</p>", page.index('<p class="sub">')) + len("</p>")
    return page[:subtitle_end] + top + page[subtitle_end:]


def not_dtks_page(base: str, dag_id: str) -> str:
    """The DAG-run tab on a run of another DAG: nothing of DTKS to show."""
    body = f"<h1>{escape(APP_TITLE)}</h1>{_nav(base)}"
    body += f"<p>DAG {escape(dag_id)} bukan dtks_quarterly: tidak ada hasil DTKS untuk proses ini.</p>"
    return _page(APP_TITLE, body)


def unknown_run_page(base: str, run_id: str) -> str:
    """A run the warehouse does not know (yet): it records a run when it publishes or when it ends."""
    body = f"<h1>{escape(APP_TITLE)}</h1>{_nav(base)}"
    body += (
        f"<p>Proses {escape(run_id)} belum tercatat di gudang data: proses masih berjalan, atau berhenti sebelum "
        "sempat mencatat hasilnya. Hasilnya tampil di sini setelah proses selesai.</p>"
    )
    return _page(APP_TITLE, body)


def quarters_page(quarters: Sequence[Mapping[str, Any]], base: str) -> str:
    """The navigation page: every published quarter, its run and its changes from the quarter before."""
    rows = []
    for q in quarters:
        change = q.get("changes")
        if change:
            words = "; ".join(f"{PERSON_CHANGE_LABELS[k]}: {g.format_count(change[k])}" for k in PERSON_CHANGE_LABELS)
            changes = escape(f"sejak {change['previous_quarter']}: {words}")
        else:
            changes = escape(g.CHANGES_FIRST_QUARTER.split(":")[0])
        held = ", ".join(dotted(k) for k in q.get("held_back") or [])
        rows.append(
            (
                escape(g.period_text(q["quarter"])),
                f'<a href="{escape(run_url(base, q["run_id"]))}">{escape(q["run_id"])}</a>',
                escape(g.format_count(q["rows"] or 0)),
                escape(g.format_count(q["persons"] or 0)),
                changes,
                escape(held or "-"),
            )
        )
    table = _table(["Periode", "ID proses", "Baris usulan", "Orang di DTKS", "Perubahan", g.HELD_BACK_TITLE], rows)
    empty = '<p class="note">Belum ada triwulan yang diterbitkan.</p>'
    body = f"<h1>{escape(APP_TITLE)}</h1>{_nav(base)}<h2>{escape(NAV_TITLE)}</h2>{table if rows else empty}"
    return _page(APP_TITLE, body)


def _form(base: str, quarters: Sequence[str], asked: Mapping[str, Any], may_unmask: bool) -> str:
    chosen = asked.get("quarter")
    options = "".join(
        f'<option value="{escape(q)}"{" selected" if q == chosen else ""}>{escape(g.period_text(q))}</option>'
        for q in quarters
    )

    def field(name: str, label: str, kind: str = "text") -> str:
        value = asked.get(name)
        if name == "nik" and value:  # never echoed: the page may be shown, printed or captured
            return (
                f'<label>{escape(label)}<input type="text" name="nik" placeholder="{escape(mask_id(value))}"></label>'
            )
        shown = "" if value is None else escape(str(value))
        return f'<label>{escape(label)}<input type="{kind}" name="{name}" value="{shown}"></label>'

    unmask = ""
    if may_unmask:
        checked = " checked" if asked.get("unmask") else ""
        unmask = f'<label>Tampilkan data pribadi<input type="checkbox" name="unmask" value="1"{checked}></label>'
    return (
        f'<form class="trace" method="post" action="{escape(base)}/trace">'
        f'<label>Periode<select name="quarter">{options}</select></label>'
        + field("nik", "NIK")
        + "<span>atau</span>"
        + field("source_file", "Berkas usulan desa (mis. 5203012001.csv)")
        + field("source_row", "Baris data (1 = baris pertama sesudah judul)", "number")
        + unmask
        + '<button type="submit">Telusuri</button></form>'
    )


def trace_page(
    base: str,
    quarters: Sequence[str],
    asked: Mapping[str, Any],
    *,
    may_unmask: bool,
    text: str | None = None,
    document: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> str:
    """The trace page: the form, then the chain as `dtks trace` writes it, or why there is none."""
    parts = [f"<h1>{escape(TRACE_TITLE)}</h1>", _nav(base), _form(base, quarters, asked, may_unmask)]
    if error:
        parts.append(f'<p class="err">{escape(error)}</p>')
    if text is not None and document is not None:
        note = MASKED_NOTE if document.get("masked") else UNMASKED_NOTE
        link = ""
        if not asked.get("nik"):  # a link never carries a NIK
            params = {k: v for k, v in asked.items() if v not in (None, "", False)}
            link = f' <a href="{escape(f"{base}/api/trace?{urlencode(params)}")}">JSON (dtks-trace/1)</a>'
        parts.append(f'<p class="note">{escape(note)}{link}</p>')
        parts.append(f'<pre class="trace">{escape(text)}</pre>')
    return _page(TRACE_TITLE, "".join(parts))
