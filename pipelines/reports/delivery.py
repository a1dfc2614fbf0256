"""E-mail of the published reports: who gets what, sending, and the record of what happened.

`deliver_reports` plans one message per kabupaten/kota with recipients (`mail.kabupaten_message`: its
workbook and HTML summary attached, the village feedback files as a zip only when configured and small
enough), plus one run summary message when `summary_recipients` are set, sends them, and keeps the outcome
of every message in `delivery.json`. A message that failed is sent again on the next attempt (the Airflow
task retries); one that was sent is not. Errors are masked before they are recorded.

Sending goes through a `Sender`; the default resolves the Airflow SMTP connection with the SMTP provider's
`SmtpHook` at call time (imported there, so this module imports without Airflow).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from pipelines.config import DeliverySettings
from pipelines.privacy import mask_text
from pipelines.reports import mail
from pipelines.reports.mail import OutgoingMessage
from pipelines.workspace import read_json, write_json

Sender = Callable[[OutgoingMessage], None]

RECORD: Final = "delivery.json"
SENT, FAILED, SKIPPED, DISABLED = "SENT", "FAILED", "SKIPPED", "DISABLED"
NOTHING_PUBLISHED = "nothing was published by this run"


class DeliveryFailed(RuntimeError):
    """At least one message could not be sent (the publication stands; the record says which)."""


def smtp_sender(conn_id: str, from_email: str = "") -> Sender:
    """A sender over the Airflow SMTP connection `conn_id` (host, port, TLS, login, `from_email` extra)."""

    def send(message: OutgoingMessage) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=conn_id) as hook:
            hook.send_email_smtp(
                to=list(message.to),
                cc=list(message.cc) or None,
                subject=message.subject,
                html_content=message.html,
                files=[str(p) for p in message.attachments],
                from_email=from_email or None,
                custom_headers=dict(message.headers),
            )

    return send


def _file_facts(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"name": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def zip_feedback(desa_dir: Path, target: Path) -> Path:
    """The village feedback files of one kabupaten in one zip (stored: xlsx are compressed already),
    with fixed timestamps so the same files give the same bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        for path in sorted(desa_dir.glob("*.xlsx")):
            info = zipfile.ZipInfo(f"desa/{path.name}", date_time=(2000, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, path.read_bytes())
    tmp.replace(target)
    return target


def _feedback_attachment(
    settings: DeliverySettings, kab_dir: Path, files: Mapping[str, str], work: Path, name: str
) -> tuple[Path | None, str]:
    """The zip to attach (or None) and what the body says about the village files."""
    desa_dir = kab_dir / files.get("desa_dir", "desa")
    count = len(list(desa_dir.glob("*.xlsx"))) if desa_dir.is_dir() else 0
    where = f"Berkas hasil usulan untuk {count} desa/kelurahan tersedia di folder laporan: {desa_dir}"
    if not settings.attach_desa_feedback or not count:
        return None, where + ". Berkas tersebut tidak dilampirkan karena memuat data pribadi seluruh baris usulan."
    archive = zip_feedback(desa_dir, work / name)
    size_mb = archive.stat().st_size / 1_000_000
    if size_mb > settings.max_attachment_mb:
        size, limit = f"{size_mb:.1f}".replace(".", ","), f"{settings.max_attachment_mb:g}".replace(".", ",")
        return (
            None,
            f"{where}. Berkas tersebut tidak dilampirkan karena ukurannya ({size} MB) melebihi batas {limit} MB.",
        )
    return archive, f"Berkas hasil usulan untuk {count} desa/kelurahan terlampir dalam {archive.name}."


def _msgid_domain(settings: DeliverySettings) -> str:
    return settings.from_email.rsplit("@", 1)[1] if "@" in settings.from_email else "dtks-pipeline.invalid"


def _kabupaten_message(
    settings: DeliverySettings, meta: Mapping[str, str], kab: str, report: Mapping[str, Any], kab_dir: Path, work: Path
) -> OutgoingMessage:
    files = report.get("files", {})
    attachments = [kab_dir / files["workbook"], kab_dir / files["summary_html"]]
    missing = [str(p) for p in attachments if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"Published report missing: {', '.join(missing)}")
    zip_name = f"hasil_usulan_desa_{kab}_{meta['quarter']}.zip"
    archive, note = _feedback_attachment(settings, kab_dir, files, work / kab, zip_name)
    return mail.kabupaten_message(
        report["counts"],
        run_id=meta["run_id"],
        quarter=meta["quarter"],
        code_version=meta["code_version"],
        to=settings.recipients[kab],
        cc=settings.cc,
        attachments=[*attachments, *([archive] if archive else [])],
        feedback_note=None if archive else note,
        msgid_domain=_msgid_domain(settings),
    )


def _entry(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "key": message.key,
        "to": list(message.to),
        "cc": list(message.cc),
        "subject": message.subject,
        "message_id": message.headers.get("Message-ID"),
        "attachments": [_file_facts(p) for p in message.attachments],
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def deliver_reports(
    *,
    settings: DeliverySettings,
    meta: Mapping[str, str],
    reports_dir: Path,
    kabupaten: Mapping[str, Mapping[str, Any]],
    run_summary: tuple[Path, Mapping[str, Any]] | None,
    work_dir: Path,
    send: Sender | None = None,
) -> dict[str, Any]:
    """Send the run's report e-mails and return (and keep in `work_dir/delivery.json`) the record.

    `meta` holds `run_id`, `quarter`, `code_version`; `reports_dir` is `<reports>/<quarter>` as published;
    `kabupaten` maps each kode_kab to its `reports` stage summary (`counts` and `files`); `run_summary` is
    the published run HTML summary and the run's counts. Raises `DeliveryFailed` after recording when a
    message could not be sent.
    """
    path = work_dir / RECORD
    previous = read_json(path) if path.exists() else {}
    sent_before = {m["key"]: m for m in previous.get("messages", []) if m.get("status") == SENT}
    record: dict[str, Any] = {
        "run_id": meta["run_id"],
        "quarter": meta["quarter"],
        "enabled": settings.enabled,
        "smtp_conn_id": settings.smtp_conn_id,
        "attempt": int(previous.get("attempt", 0)) + 1,
        "status": DISABLED,
        "messages": [],
        "notes": [],
    }
    if not settings.enabled:
        record["notes"].append("delivery is disabled (delivery.enabled = false)")
        write_json(path, record)
        return record

    planned: list[OutgoingMessage] = []
    for kab in sorted(kabupaten):
        if not settings.recipients.get(kab):
            note = "no recipients configured for this kabupaten/kota (delivery.recipients)"
            record["messages"].append({"key": kab, "status": SKIPPED, "note": note})
            continue
        if kab in sent_before:
            record["messages"].append(sent_before[kab])
            continue
        try:
            planned.append(_kabupaten_message(settings, meta, kab, kabupaten[kab], reports_dir / kab, work_dir))
        except Exception as exc:
            error = mask_text(f"{type(exc).__name__}: {exc}")[:2000]
            record["messages"].append(
                {"key": kab, "to": list(settings.recipients[kab]), "status": FAILED, "error": error}
            )
    if settings.summary_recipients and run_summary is not None:
        if mail.RUN_SUMMARY_KEY in sent_before:
            record["messages"].append(sent_before[mail.RUN_SUMMARY_KEY])
        else:
            html, total = run_summary
            names = [(k, kabupaten[k]["counts"]["name"]) for k in sorted(kabupaten)]
            planned.append(
                mail.run_summary_message(
                    total,
                    run_id=meta["run_id"],
                    quarter=meta["quarter"],
                    code_version=meta["code_version"],
                    to=settings.summary_recipients,
                    attachment=html,
                    kabupaten=names,
                    msgid_domain=_msgid_domain(settings),
                )
            )

    if planned and send is None:
        send = smtp_sender(settings.smtp_conn_id, settings.from_email)
    for message in planned:
        entry = _entry(message)
        try:
            send(message)  # type: ignore[misc]
            entry.update(status=SENT, sent_at=_now())
        except Exception as exc:
            entry.update(status=FAILED, error=mask_text(f"{type(exc).__name__}: {exc}")[:2000])
        record["messages"].append(entry)
        write_json(path, record)  # a crash later still knows what went out

    statuses = [m["status"] for m in record["messages"]]
    record["status"] = FAILED if FAILED in statuses else SENT if SENT in statuses else SKIPPED
    if not any(s != SKIPPED for s in statuses):
        record["notes"].append("nothing to send: no recipients are configured")
    write_json(path, record)
    failed = [m for m in record["messages"] if m["status"] == FAILED]
    if failed:
        raise DeliveryFailed(
            f"{len(failed)} report e-mail(s) not sent: " + "; ".join(f"{m['key']}: {m.get('error')}" for m in failed)
        )
    return record


def not_published_record(meta: Mapping[str, str]) -> dict[str, Any]:
    """The record when the run published nothing: no e-mail goes out."""
    return {
        "run_id": meta["run_id"],
        "quarter": meta["quarter"],
        "status": SKIPPED,
        "messages": [],
        "notes": [NOTHING_PUBLISHED],
    }
