"""The report e-mails in Bahasa Indonesia: one per kabupaten/kota for its Dinas Sosial (its workbook and its
HTML summary attached), and optionally one with the run's HTML summary for the provincial team.

Pure: builds `OutgoingMessage` values from counts (`summary.py`) and file paths; sending is
`delivery.py`'s job. The body holds counts only; the personal data travels in the attached workbook, and
the body says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import make_msgid
from html import escape
from pathlib import Path
from typing import Any, Final

from pipelines import contract as c
from pipelines.reports import guidance as g

PRIVACY: Final = (
    "Buku kerja terlampir memuat data pribadi (UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi). "
    "Simpan di tempat yang aman, gunakan hanya untuk keperluan tugas, dan jangan meneruskannya kepada pihak "
    "yang tidak berwenang."
)
AUTOMATIC: Final = (
    "Pesan ini dikirim secara otomatis oleh dtks-pipeline setelah hasil diterbitkan; mohon tidak membalas."
)
ATTACHMENT_NOTES: Final = {
    ".xlsx": "buku kerja temuan untuk Dinas Sosial: ringkasan, semua temuan dengan nilai yang disarankan dan "
    "tindakannya, satu lembar per kategori temuan, perubahan keluarga sejak triwulan lalu, dan berkas "
    "bermasalah (memuat data pribadi)",
    ".html": "ringkasan proses dengan grafik, dapat dibuka dengan peramban web (hanya berisi jumlah)",
    ".zip": "berkas hasil usulan untuk setiap desa/kelurahan: nasib setiap baris yang dikirim desa (memuat data "
    "pribadi)",
}


@dataclass(frozen=True)
class OutgoingMessage:
    """One e-mail, ready for a sender."""

    key: str  # the kode_kab, or RUN_SUMMARY_KEY
    to: tuple[str, ...]
    subject: str
    html: str
    attachments: tuple[Path, ...]
    cc: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)


RUN_SUMMARY_KEY: Final = "ringkasan"


def _headers(run_id: str, quarter: str, key: str, domain: str) -> dict[str, str]:
    return {
        "Message-ID": make_msgid(idstring=f"dtks.{quarter}.{key}", domain=domain),
        "X-DTKS-Run-Id": run_id,
        "X-DTKS-Quarter": quarter,
        "X-DTKS-Key": key,
    }


def _list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _attachment_items(attachments: Sequence[Path]) -> list[str]:
    return [
        f"<b>{escape(p.name)}</b>: {escape(ATTACHMENT_NOTES.get(p.suffix.lower(), 'lampiran'))}" for p in attachments
    ]


def _figures(counts: Mapping[str, Any]) -> list[str]:
    rows, out = counts["rows"], counts["outcomes"]

    def line(label: str, n: int) -> str:
        return f"{escape(label)}: <b>{g.format_count(n)}</b> ({g.format_share(n, rows)})"

    figures = [
        f"Baris usulan yang diproses: <b>{g.format_count(rows)}</b> dari {g.format_count(counts['files'])} berkas",
        line("Diterima (masuk DTKS hasil pemutakhiran)", out.get(c.OUTCOME_PUBLISHED, 0)),
        line("Digabung sebagai data ganda", out.get(c.OUTCOME_MERGED, 0)),
        line("Dikarantina (perlu diperbaiki desa)", out.get(c.OUTCOME_QUARANTINED, 0)),
        f"Temuan yang perlu ditindaklanjuti: <b>{g.format_count(counts['findings_total'])}</b> pada "
        f"{g.format_count(counts['rows_with_findings'])} baris",
        f"Berkas bermasalah: <b>{g.format_count(len(counts['file_problems']))}</b>",
    ]
    top = sorted(((n, k) for k, n in counts["findings"].items() if n), reverse=True)[:3]
    if top:
        names = ", ".join(f"{escape(g.guidance_for(k).title)} ({g.format_count(n)})" for n, k in top)
        figures.append(f"Temuan terbanyak: {names}")
    return figures


def _body(
    greeting: str, paragraphs: Sequence[str], sections: Sequence[tuple[str, str]], run_id: str, version: str
) -> str:
    parts = [f"<p>{escape(greeting)}</p>", *(f"<p>{p}</p>" for p in paragraphs)]
    parts += [f"<p><b>{escape(title)}</b></p>{content}" for title, content in sections]
    parts.append(f"<p>{escape(PRIVACY)}</p>")
    parts.append(
        f'<p style="color:#555;font-size:90%">ID proses: {escape(run_id)}<br>Versi kode: {escape(version)}<br>'
        f"{escape(AUTOMATIC)}</p>"
    )
    return (
        '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">'
        + "".join(parts)
        + "</body></html>"
    )


def kabupaten_message(
    counts: Mapping[str, Any],
    *,
    run_id: str,
    quarter: str,
    code_version: str,
    to: Sequence[str],
    attachments: Sequence[Path],
    cc: Sequence[str] = (),
    feedback_note: str | None = None,
    msgid_domain: str = "dtks-pipeline.invalid",
) -> OutgoingMessage:
    """The message for one kabupaten/kota's Dinas Sosial; `counts` from `summary.count_kabupaten`.
    `feedback_note` says where the village feedback files are when they are not attached."""
    name = counts["name"]
    period = g.quarter_label(quarter)
    subject = f"[DTKS] Laporan hasil pemutakhiran {period} ({quarter}) - {name}"
    paragraphs = [
        f"Proses pemutakhiran dan pemadanan data DTKS {escape(period)} ({escape(quarter)}) untuk "
        f"{escape(name)} telah selesai dan hasilnya telah diterbitkan. Laporan untuk Dinas Sosial terlampir.",
        "Mohon temuan pada buku kerja ditindaklanjuti sesuai petunjuk pada setiap lembar kategori, dan hasil "
        "usulan setiap desa disampaikan kepada operator desa yang bersangkutan.",
    ]
    sections = [("Ringkasan", _list(_figures(counts))), ("Lampiran", _list(_attachment_items(attachments)))]
    if feedback_note:
        sections.append(("Berkas hasil usulan desa", f"<p>{escape(feedback_note)}</p>"))
    return OutgoingMessage(
        key=counts["kode_kab"],
        to=tuple(to),
        cc=tuple(a for a in cc if a not in to),
        subject=subject,
        html=_body(f"Yth. Tim Data Dinas Sosial {name},", paragraphs, sections, run_id, code_version),
        attachments=tuple(attachments),
        headers=_headers(run_id, quarter, counts["kode_kab"], msgid_domain),
    )


def run_summary_message(
    total: Mapping[str, Any],
    *,
    run_id: str,
    quarter: str,
    code_version: str,
    to: Sequence[str],
    attachment: Path,
    kabupaten: Sequence[tuple[str, str]],
    msgid_domain: str = "dtks-pipeline.invalid",
) -> OutgoingMessage:
    """The message with the run's HTML summary (counts only) for the provincial team; `total` from
    `summary.combine`, `kabupaten` the (kode, name) pairs of the run."""
    period = g.quarter_label(quarter)
    subject = f"[DTKS] Ringkasan proses pemutakhiran {period} ({quarter}) - {len(kabupaten)} kabupaten/kota"
    paragraphs = [
        f"Proses pemutakhiran dan pemadanan data DTKS {escape(period)} ({escape(quarter)}) telah selesai dan "
        "hasilnya telah diterbitkan. Ringkasan proses terlampir; laporan rinci dikirim kepada Dinas Sosial "
        "setiap kabupaten/kota.",
    ]
    areas = [f"{escape(n)} ({escape(k)})" for k, n in kabupaten]
    sections = [
        ("Ringkasan", _list(_figures(total))),
        ("Kabupaten/kota", _list(areas)),
        ("Lampiran", _list(_attachment_items([attachment]))),
    ]
    html = _body("Yth. Tim Data DTKS,", paragraphs, sections, run_id, code_version)
    html = html.replace(f"<p>{escape(PRIVACY)}</p>", "")  # nothing personal attached
    return OutgoingMessage(
        key=RUN_SUMMARY_KEY,
        to=tuple(to),
        subject=subject,
        html=html,
        attachments=(attachment,),
        headers=_headers(run_id, quarter, RUN_SUMMARY_KEY, msgid_domain),
    )
