"""The run's summary as one self-contained HTML page in Bahasa Indonesia, for one kabupaten/kota or for the
whole run: rows in, outcomes, status padan, findings per category and per area, quarantine reasons, files
with problems, the run id, code version and time per stage.

Self-contained: the charts are HTML bars (`html_bars.py`), the styles sit in the page, there is no
JavaScript, and a Content-Security-Policy forbids loading anything, so the page opens the same offline, from
an e-mail attachment or from a file share. Counts only: no NIK, KK, name or birth date (the rows themselves
are in the Dinsos workbook).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Final

from pipelines import contract as c
from pipelines.local_time import local_texts
from pipelines.regions import dotted
from pipelines.reports import guidance as g
from pipelines.reports import html_bars as charts
from pipelines.reports.summary import EMPTY_STATUS

TITLE: Final = "Ringkasan Hasil Pemutakhiran dan Pemadanan Data DTKS"
PRIVACY: Final = (
    "Ringkasan ini hanya memuat jumlah: tidak ada NIK, nomor KK, nama, atau tanggal lahir. Rincian per baris "
    "ada pada buku kerja Dinas Sosial dan berkas hasil usulan desa, yang memuat data pribadi "
    "(UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi)."
)
GENERATED: Final = "Dibuat secara otomatis oleh dtks-pipeline."
LATER_STAGES: Final = (
    "Tahap yang berjalan sesudah ringkasan ini dibuat (penerbitan dan pengiriman surel) tidak tercantum di sini; "
    "waktunya tercatat pada hasil proses."
)
CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS: Final = (
    """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#222;
margin:0 auto;max-width:1000px;padding:24px;line-height:1.45}
h1{color:#1f3864;font-size:1.5em;margin:0 0 4px}h2{color:#1f3864;font-size:1.15em;margin:32px 0 8px;
border-bottom:2px solid #d9e1f2;padding-bottom:4px}.sub{font-size:1.1em;margin:0 0 16px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0 0 16px}dl.meta dt{font-weight:600}
dl.meta dd{margin:0}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #d9e1f2;border-radius:6px;padding:10px 14px;min-width:140px;background:#f7f9fc}
.card .n{font-size:1.5em;font-weight:700;color:#1f3864}.card .l{font-size:.9em;color:#444}
table{border-collapse:collapse;margin:8px 0 4px;font-size:.92em;max-width:100%}
th,td{border:1px solid #c9d3e6;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#305496;color:#fff;font-weight:600}td.n{text-align:right;white-space:nowrap}
td.path{overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace}
tr.total td{font-weight:700;background:#d9e1f2}.code{display:block;color:#555;font-size:.9em}
table.areas{width:100%;font-size:.85em}table.areas th,table.areas td{padding:3px 4px;overflow-wrap:normal}
table.areas th{vertical-align:bottom}table.areas td.name{min-width:7em;width:25%}
table.areas th.cat span{writing-mode:vertical-rl;transform:rotate(180deg);display:inline-block;max-height:10em;
text-align:left;line-height:1.15}
.note{color:#555;font-size:.9em}
footer{margin-top:32px;border-top:1px solid #ccc;padding-top:8px;color:#555;font-size:.9em}
th,td.heat,tr.total td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@media (max-width:700px){body{padding:12px}
table.areas,table.areas tbody,table.areas tr,table.areas td{display:block;width:auto}
table.areas thead{display:none}table.areas tr{border:1px solid #c9d3e6;margin:0 0 8px;padding:4px}
table.areas td{border:0;display:flex;justify-content:space-between;gap:8px;text-align:left;padding:1px 4px}
table.areas td::before{content:attr(data-label);font-weight:600}table.areas td.name{display:block}
table.areas td.name::before{content:none}}
@page{size:A4;margin:14mm 12mm 16mm}
@media print{body{padding:0;max-width:none;font-size:10pt}h2{break-after:avoid}
table,figure{break-inside:auto}tr,.bar{break-inside:avoid}thead{display:table-header-group}
table.areas{font-size:8pt}}
"""
    + charts.CSS
)


@dataclass(frozen=True)
class RunInfo:
    """What the page says about the run itself."""

    run_id: str
    quarter: str
    code_version: str
    started_at: str | None = None
    stage_seconds: Mapping[str, float] = field(default_factory=dict)  # stage -> seconds, in run order
    dukcapil_rows: int | None = None
    dukcapil_excluded: int | None = None
    gate: Mapping[str, Any] | None = None  # the validate stage's quality gate
    # The landing area's unexpected entries (`LandingSurvey.to_dict()`; for one kabupaten, its own entries).
    landing: Mapping[str, Any] | None = None
    # Kabupaten/kota held back by their quality gate (policy publish_others), with the gate's problems.
    held_back: Mapping[str, Sequence[str]] = field(default_factory=dict)


def _n(value: float) -> str:
    return g.format_count(value)


def _td(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="n">{escape(_n(value))}</td>'
    return f"<td>{escape(str(value)) if value is not None else ''}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], total: Sequence[Any] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_td(v) for v in row) + "</tr>" for row in rows)
    if total is not None:
        body += '<tr class="total">' + "".join(_td(v) for v in total) + "</tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _count_and_share(whole: float) -> Callable[[float], str]:
    return lambda v: f"{_n(v)} ({g.format_share(v, whole)})"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _status_label(key: str) -> str:
    return _sentence(g.status_padan_label("" if key == EMPTY_STATUS else key))


def _outcome_label(key: str) -> str:
    return g.OUTCOME_DESCRIPTIONS.get(key, key)


def _cards(counts: Mapping[str, Any], scope_note: str | None) -> str:
    rows = counts["rows"]
    out = counts["outcomes"]
    problems = len(counts["file_problems"])
    items = [
        (_n(rows), "baris usulan diproses"),
        (_n(out.get(c.OUTCOME_PUBLISHED, 0)), f"diterima ({g.format_share(out.get(c.OUTCOME_PUBLISHED, 0), rows)})"),
        (_n(out.get(c.OUTCOME_MERGED, 0)), "digabung sebagai data ganda"),
        (_n(out.get(c.OUTCOME_QUARANTINED, 0)), "dikarantina"),
        (_n(counts["findings_total"]), f"temuan pada {_n(counts['rows_with_findings'])} baris"),
        (_n(counts["files"]), f"berkas usulan ({_n(problems)} bermasalah)"),
    ]
    if scope_note:
        items.append((_n(counts["desa_with_files"]), scope_note))
    card = '<div class="card"><div class="n">{}</div><div class="l">{}</div></div>'
    cards = "".join(card.format(escape(n), escape(label)) for n, label in items)
    return f'<div class="cards">{cards}</div>'


def _meta(info: RunInfo, area: str, code: str | None, zone_codes: Sequence[str]) -> str:
    """`zone_codes`: the region codes whose local time the start is given in (WIB, WITA, WIT)."""
    items = [("Wilayah", area + (f" ({code})" if code else "")), ("Periode", g.period_text(info.quarter))]
    items += [("ID proses", info.run_id), ("Versi kode", info.code_version)]
    if info.started_at:
        items.append(("Proses dimulai", local_texts(info.started_at, list(zone_codes))))
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f'<dl class="meta">{body}</dl>'


def _outcomes(counts: Mapping[str, Any]) -> str:
    rows, out = counts["rows"], counts["outcomes"]
    keys = list(out)
    fmt = _count_and_share(rows)
    chart = charts.bar_chart(
        "Hasil pemrosesan baris usulan",
        [(_outcome_label(k), out[k]) for k in keys],
        fmt,
        colours=[*charts.OUTCOME_COLOURS, *charts.EXTRA_COLOURS],
    )
    table = _table(
        ["Hasil", "Jumlah baris", "Persentase"],
        [(_outcome_label(k), out[k], g.format_share(out[k], rows)) for k in keys],
        ("Jumlah", rows, g.format_share(rows, rows)),
    )
    return f"<h2 id='hasil'>1. Hasil pemrosesan baris usulan</h2>{chart}{table}"


def _status_padan(counts: Mapping[str, Any]) -> str:
    rows, status = counts["rows"], counts["status_padan"]
    chart = charts.bar_chart(
        "Status padan dengan Dukcapil",
        [(_status_label(k), v) for k, v in status.items()],
        _count_and_share(rows),
        colours=[*charts.PADAN_COLOURS, *charts.EXTRA_COLOURS],
    )
    table = _table(
        ["Status padan", "Jumlah baris", "Persentase"],
        [(_status_label(k), v, g.format_share(v, rows)) for k, v in status.items()],
    )
    return f"<h2 id='padan'>2. Status padan dengan Dukcapil</h2>{chart}{table}"


def _findings(counts: Mapping[str, Any]) -> str:
    findings = counts["findings"]
    chart = charts.bar_chart(
        "Jumlah temuan per kategori", [(g.guidance_for(k).title, v) for k, v in findings.items()], _n
    )
    table = _table(
        ["Kategori", "Jumlah temuan", "Yang perlu dilakukan (langkah pertama)"],
        [(g.guidance_for(k).title, v, g.guidance_for(k).actions[0]) for k, v in findings.items()],
        ("Jumlah", counts["findings_total"], ""),
    )
    note = (
        '<p class="note">Satu baris dapat memiliki lebih dari satu temuan. Daftar baris per kategori beserta '
        "arti dan tindak lanjutnya ada pada buku kerja Dinas Sosial, satu lembar per kategori.</p>"
    )
    return f"<h2 id='temuan'>3. Temuan per kategori</h2>{chart}{table}{note}"


def _areas(counts: Mapping[str, Any], area_word: str, code_of: Callable[[str], str]) -> str:
    areas: Mapping[str, Mapping[str, Any]] = counts["areas"]
    with_rows = [(k, a) for k, a in areas.items() if a["rows"] or sum(a["findings"].values())]
    outcome_keys = list(c.OUTCOMES)
    colours = list(charts.OUTCOME_COLOURS)
    stacked = charts.stacked_chart(
        f"Baris usulan per {area_word} menurut hasil",
        [(a["name"], [a["outcomes"].get(o, 0) for o in outcome_keys]) for _, a in with_rows],
        [(g.OUTCOME_LABELS[o], colour) for o, colour in zip(outcome_keys, colours, strict=True)],
        _n,
    )
    categories = [k for k, v in counts["findings"].items() if v]
    top = max((a["findings"].get(k, 0) for _, a in with_rows for k in categories), default=0) or 1
    guides = [g.guidance_for(k) for k in categories]
    labels = [_sentence(area_word), "Baris usulan", "Temuan", *(guide.short for guide in guides)]
    # The categories' headers run upwards, so that a column is as narrow as its numbers and the whole table
    # fits the screen and an A4 page without a sideways scroll.
    head = "".join(f"<th>{escape(h)}</th>" for h in labels[:3])
    head += "".join(f'<th class="cat"><span>{escape(h)}</span></th>' for h in labels[3:])
    body = []
    for key, a in with_rows:
        code = code_of(key)
        name = escape(str(a["name"])) + (f'<span class="code">{escape(code)}</span>' if code != "-" else "")
        cells = [f'<td class="name">{name}</td>']
        values = [a["rows"], sum(a["findings"].values())] + [a["findings"].get(k, 0) for k in categories]
        for i, v in enumerate(values):
            heat = i >= 2 and v
            alpha = 0.06 + 0.4 * v / top if heat else 0  # light enough for black text
            style = f' style="background:rgba(48,84,150,{alpha:.2f})"' if heat else ""
            kind = "n heat" if heat else "n"
            cells.append(f'<td class="{kind}" data-label="{escape(labels[i + 1])}"{style}>{escape(_n(v))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = f'<table class="areas"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    note = f'<p class="note">Hanya {area_word} yang mengirim usulan atau memiliki temuan; kategori tanpa temuan '
    note += "tidak ditampilkan. Warna sel makin gelap makin banyak temuannya.</p>"
    title = f"<h2 id='wilayah'>4. Baris usulan dan temuan per {area_word}</h2>"
    return title + stacked + (table + note if with_rows else "")


def _quarantine(counts: Mapping[str, Any]) -> str:
    reasons = counts["quarantine_reasons"]
    labels = [f"{g.guidance_for(r['category']).short}: kolom {g.field_label(r['field'])}" for r in reasons]
    chart = charts.bar_chart("Alasan karantina", list(zip(labels, [r["rows"] for r in reasons], strict=True)), _n)
    table = _table(
        ["Kategori", "Kolom", "Jumlah baris"],
        [(g.guidance_for(r["category"]).title, g.field_label(r["field"]), r["rows"]) for r in reasons],
    )
    quarantined = counts["outcomes"].get(c.OUTCOME_QUARANTINED, 0)
    note = (
        f'<p class="note">{escape(_n(quarantined))} baris dikarantina. Satu baris dapat memiliki lebih dari '
        "satu alasan. Baris yang dikarantina tidak diterbitkan; desa memperbaikinya dan mengirim ulang.</p>"
    )
    return f"<h2 id='karantina'>5. Alasan karantina</h2>{chart if reasons else ''}{table if reasons else ''}{note}"


def _file_status(status: str) -> str:
    return "diterima" if status == "ACCEPTED" else g.file_status_label(status)


def _files(counts: Mapping[str, Any]) -> str:
    formats = ", ".join(f"{k or '?'}: {_n(v)}" for k, v in counts["file_formats"].items())
    statuses = _table(
        ["Status berkas", "Jumlah berkas"], [(_file_status(k), v) for k, v in counts["file_statuses"].items()]
    )
    rows = []
    for p in counts["file_problems"]:
        desa = f"{p['desa']} ({p['kode_desa']})" if p.get("desa") else p.get("kode_desa") or "-"
        name = p["source_file"].rsplit("/", 1)[-1]  # the file's name as the village sent it, not its path
        rows.append((name, desa, g.file_status_label(p["status"]), " ".join(p["messages"])))
    problems = (
        _table(["Berkas", "Desa/Kelurahan", "Status", "Keterangan"], rows)
        if rows
        else '<p class="note">Tidak ada berkas bermasalah.</p>'
    )
    return (
        f"<h2 id='berkas'>6. Berkas usulan</h2><p>{escape(_n(counts['files']))} berkas ({escape(formats)}) dari "
        f"{escape(_n(counts['desa_with_files']))} desa/kelurahan.</p>{statuses}"
        f"<h3>Berkas bermasalah</h3>{problems}"
    )


LANDING_TITLE: Final = "Isi area landing di luar susunan baku"
LANDING_LAYOUT: Final = (
    "satu berkas per desa/kelurahan di folder submissions/[kode kabupaten]/, bernama [kode desa].csv atau "
    ".xlsx, dan satu ekstrak Dukcapil per kabupaten/kota di folder dukcapil/, bernama [kode kabupaten].csv"
)
LANDING_NOTE: Final = (
    "Tautan simbolik tidak pernah diikuti dan tidak ada yang dibaca dari luar area landing. Berkas desa di "
    "tempat yang salah dibaca lalu ditolak agar barisnya tersimpan di karantina: pindahkan ke "
    "folder submissions/[kode kabupaten]/ dan proses ulang."
)


def _landing(info: RunInfo, whole_run: bool) -> str:
    """Every entry of the landing area that was not an expected input, with what was done with it. Paths
    come escaped (`pipelines.printable.shown`) and masked from discover; `escape` makes them inert HTML."""
    from pipelines.discover import ACTION_LABELS, KIND_LABELS

    landing = info.landing
    if landing is None:
        return ""
    listed = landing.get("listed") or []
    title = f"<h3>{escape(LANDING_TITLE)}</h3>"
    if whole_run:
        total, actions = int(landing.get("unexpected") or 0), dict(landing.get("by_action") or {})
    else:
        total, actions = len(listed), dict(Counter(e["action"] for e in listed))
    if not total and not landing.get("walk_stopped"):
        return title + '<p class="note">Tidak ada: area landing hanya berisi berkas masukan yang diharapkan.</p>'
    counted = ", ".join(f"{_n(n)} {ACTION_LABELS.get(a, a).lower()}" for a, n in sorted(actions.items()))
    paragraphs = [
        f"{_n(total)} entri pada area landing bukan berkas masukan yang diharapkan ({LANDING_LAYOUT}): {counted}."
    ]
    head = "".join(f"<th>{escape(h)}</th>" for h in ("Entri", "Jenis", "Tindakan", "Keterangan"))
    body = "".join(
        f'<tr><td class="path">{escape(str(e["path"]))}</td>'
        f"<td>{escape(KIND_LABELS.get(e['kind'], str(e['kind'])))}</td>"
        f"<td>{escape(ACTION_LABELS.get(e['action'], str(e['action'])))}</td><td>{escape(str(e['reason']))}</td></tr>"
        for e in listed
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    notes = []
    not_listed = int(landing.get("not_listed") or 0)
    if not_listed:
        notes.append(
            f"{_n(not_listed)} entri lain tidak dicantumkan satu per satu (batas pengaturan landing.max_listed); "
            "jumlahnya per jenis tercatat pada catatan proses (tabel run, kolom landing)."
        )
    if landing.get("walk_stopped"):
        notes.append(
            f"Batas pemeriksaan area landing tercapai (pengaturan landing.max_entries): "
            f"{_n(int(landing.get('entries_examined') or 0))} entri diperiksa, "
            f"{_n(int(landing.get('not_examined') or 0))} entri lain hanya dihitung, tidak diperiksa dan tidak "
            "dibaca. Berkas masukan yang diharapkan tetap diperiksa dan dibaca semuanya."
        )
    notes.append(LANDING_NOTE)
    return (
        title
        + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        + (table if listed else "")
        + "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
    )


def _stages(info: RunInfo) -> str:
    items = [(key, g.stage_label(key), float(v)) for key, v in info.stage_seconds.items() if v is not None]
    chart = charts.bar_chart("Waktu per tahap", [(label, v) for _, label, v in items], g.format_seconds)
    table = _table(
        ["Tahap", "Waktu"],
        [(label, g.format_seconds(v)) for _, label, v in items],
        ("Jumlah", g.format_seconds(sum(v for _, _, v in items))),
    )
    return f'<h2 id="waktu">7. Waktu per tahap</h2>{chart}{table}<p class="note">{escape(LATER_STAGES)}</p>'


def _inputs(info: RunInfo, counts: Mapping[str, Any]) -> str:
    rows = [("Baris usulan desa", _n(counts["rows"])), ("Berkas usulan desa", _n(counts["files"]))]
    if info.dukcapil_rows is not None:
        rows.append(("Baris ekstrak Dukcapil", _n(info.dukcapil_rows)))
    if info.dukcapil_excluded is not None:
        rows.append(("Baris Dukcapil yang dikecualikan (NIK tidak sah atau ganda)", _n(info.dukcapil_excluded)))
    gate = info.gate or {}
    if "passed" in gate:
        share = gate.get("quarter_quarantine_share")
        verdict = "lulus" if gate["passed"] else "tidak lulus"
        if share is not None:
            verdict += f" (baris dikarantina {g.format_share(float(share), 1)} dari seluruh baris)"
        rows.append(("Ambang mutu data", verdict))
    return '<h2 id="masukan">Data masukan</h2>' + _table(["Keterangan", "Jumlah"], rows)


def _page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="dtks-pipeline"><title>{escape(title)}</title><style>{CSS}</style></head>'
        f'<body><h1>{escape(TITLE)}</h1><p class="sub">{escape(subtitle)}</p>{"".join(sections)}'
        f"<footer><p>{escape(PRIVACY)}</p><p>{escape(GENERATED)}</p></footer></body></html>\n"
    )


def render_kabupaten(counts: Mapping[str, Any], info: RunInfo) -> str:
    """The page of one kabupaten/kota (`summary.count_kabupaten`), areas = kecamatan."""
    name = counts["name"]
    subtitle = f"{name}, {g.quarter_label(info.quarter)}"
    desa_note = f"desa/kelurahan mengirim usulan (dari {_n(counts['desa_total'])})" if counts["desa_total"] else None
    sections = [
        _meta(
            info,
            name,
            dotted(counts["kode_kab"]) if len(counts["kode_kab"]) == 4 else counts["kode_kab"],
            [counts["kode_kab"]],
        ),
        _cards(counts, desa_note),
        _outcomes(counts),
        _status_padan(counts),
        _findings(counts),
        _areas(counts, "kecamatan", lambda k: dotted(k) if k.isdigit() else "-"),
        _quarantine(counts),
        _files(counts),
        _landing(info, whole_run=False),
        _stages(info),
    ]
    return _page(f"Ringkasan DTKS {name} {info.quarter}", subtitle, sections)


def _held_back(info: RunInfo) -> str:
    """The kabupaten/kota that failed their quality gate and were held back while the others published."""
    if not info.held_back:
        return ""
    rows = [(dotted(kab) if len(kab) == 4 else kab, " ".join(problems)) for kab, problems in info.held_back.items()]
    return f"<h2>{escape(g.HELD_BACK_TITLE)}</h2><p>{escape(g.HELD_BACK_NOTE)}</p>" + _table(
        ["Kabupaten/kota", "Masalah ambang mutu"], rows
    )


def render_run(total: Mapping[str, Any], info: RunInfo) -> str:
    """The page of the whole run (`summary.combine`), areas = kabupaten/kota."""
    n = total["kabupaten"]
    subtitle = f"{_n(n)} kabupaten/kota, {g.quarter_label(info.quarter)}"
    sections = [
        _meta(info, "Seluruh kabupaten/kota dalam proses ini", None, [k for k in total["areas"] if k.isdigit()]),
        _held_back(info),
        _cards(total, None),
        _inputs(info, total),
        _outcomes(total),
        _status_padan(total),
        _findings(total),
        _areas(total, "kabupaten/kota", dotted),
        _quarantine(total),
        _files(total),
        _landing(info, whole_run=True),
        _stages(info),
    ]
    return _page(f"Ringkasan DTKS {info.quarter}", subtitle, sections)


def write_html(path: Path, text: str) -> Path:
    """Write the page to `path` through a temporary file and a rename (a reader never sees half a page)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
