"""E-mail delivery of the reports: a local SMTP server (aiosmtpd), the Airflow SMTP connection pointed at it
through `AIRFLOW_CONN_SMTP_DEFAULT`, one small quarter run in-process up to publication, then the `deliver`
stage; the messages are read back and their attachments opened."""

from __future__ import annotations

import dataclasses
import email
import hashlib
import io
import json
import shutil
import socket
import zipfile
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from pipelines import registry, stages
from pipelines.reports.delivery import DeliveryFailed
from pipelines.stages.context import warehouse_url
from pipelines.synth import SynthConfig, generate
from pipelines.synth.config import ErrorRates
from pipelines.warehouse import connect
from pipelines.warehouse.connection import environment_variable
from pipelines.workspace import RunContext, read_json

QUARTER = "2026Q3"
KAB = "5203"
RUN_ID = "manual__2026-10-01T02:03:04+00:00"
SENDER = "dtks@ntb.go.id"
DINSOS = ["data.dinsos@lomboktimurkab.go.id", "kabid.linjamsos@lomboktimurkab.go.id"]
PROVINCE = "dtks@dinsos.ntbprov.go.id"


class Inbox:
    """aiosmtpd handler: keeps every message with its envelope."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_connection(port: int) -> str:
    """The Airflow connection in JSON form: plain SMTP on localhost, no TLS, no retries."""
    extra = {"disable_ssl": True, "disable_tls": True, "from_email": SENDER, "retry_limit": 0, "timeout": 10}
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra})


@pytest.fixture
def inbox(monkeypatch, tmp_path) -> Inbox:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    handler = Inbox(free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(handler.port))
    yield handler
    controller.stop()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Iterator[RunContext]:
    """A small quarter, run in this process up to and including publication."""
    root = tmp_path_factory.mktemp("delivery")
    rates = ErrorRates(unparseable=0.02, missing_required=0.02)
    generate(root / "landing", QUARTER, SynthConfig(kab_codes=(KAB,), persons=500, seed=5, rates=rates))
    conf = {
        "quarter": QUARTER,
        "landing": str(root / "landing"),
        "work": str(root / "work"),
        "reports": str(root / "reports"),
    }
    with pytest.MonkeyPatch.context() as env:  # the warehouse connection, as Airflow reads it
        env.setenv(*environment_variable(f"sqlite:///{root / 'warehouse.sqlite'}"))
        run = stages.start_run(conf, RUN_ID)
        for stage in registry.STAGES[1 : registry.STAGES.index(registry.stage("publish")) + 1]:
            for partition in stages.lifecycle.partitions(run, stage):
                stages.run_stage(stage.name, run, *partition)
        yield RunContext.from_dict(run["context"])


def with_delivery(ctx: RunContext, **settings) -> RunContext:
    """The run with other delivery settings, and no record of an earlier delivery."""
    shutil.rmtree(ctx.root / "deliver", ignore_errors=True)
    return dataclasses.replace(ctx, config={**ctx.config, "delivery": settings})


def published_dir(ctx: RunContext) -> Path:
    return Path(ctx.reports_dir) / QUARTER / KAB


def attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def body(message: EmailMessage) -> str:
    return message.get_body(("html", "plain")).get_content()


def finish(ctx: RunContext) -> dict:
    return stages.finish(ctx, started_at=None, failed_stage=None, error=None)


def test_each_kabupaten_gets_its_reports(published, inbox):
    ctx = with_delivery(published, recipients={KAB: DINSOS}, cc=[PROVINCE], summary_recipients=[PROVINCE])
    summary = stages.deliver(ctx)
    assert summary["status"] == "SENT" and summary["messages"] == {KAB: "SENT", "ringkasan": "SENT"}

    assert len(inbox.received) == 2
    by_key = {m["X-DTKS-Key"]: (sender, rcpt, m) for sender, rcpt, m in inbox.received}
    sender, rcpt, message = by_key[KAB]
    assert sender == SENDER and message["From"] == SENDER  # the connection's from_email
    assert sorted(rcpt) == sorted([*DINSOS, PROVINCE])
    assert message["To"] == ", ".join(DINSOS) and message["Cc"] == PROVINCE
    assert message["Subject"] == (
        "[DTKS] Laporan hasil pemutakhiran Triwulan III 2026 (2026Q3) - Kabupaten Lombok Timur"
    )
    assert message["X-DTKS-Run-Id"] == RUN_ID
    text_body = body(message)
    for words in (
        "Yth. Tim Data Dinas Sosial Kabupaten Lombok Timur",
        "telah diterbitkan",
        "Baris usulan yang diproses",
        "Dikarantina",
        "Lampiran",
        "data pribadi",
        "tidak dilampirkan",
        "mohon tidak membalas",
    ):
        assert words in text_body, words

    files = attachments(message)
    workbook_name, html_name = f"laporan_dtks_{KAB}_{QUARTER}.xlsx", f"ringkasan_{KAB}_{QUARTER}.html"
    assert set(files) == {workbook_name, html_name}  # village files stay on the share by default
    for name, data in files.items():  # exactly the published files
        assert data == (published_dir(ctx) / name).read_bytes()
    workbook = openpyxl.load_workbook(io.BytesIO(files[workbook_name]))
    assert workbook.sheetnames[0] == "Ringkasan" and "Data ganda" in workbook.sheetnames
    summary_page = files[html_name].decode("utf-8")
    assert "Ringkasan Hasil Pemutakhiran" in summary_page and "<script" not in summary_page

    _, rcpt, run_message = by_key["ringkasan"]
    assert rcpt == [PROVINCE] and list(attachments(run_message)) == [f"ringkasan_{QUARTER}.html"]
    assert "1 kabupaten/kota" in run_message["Subject"]

    record = read_json(ctx.root / "deliver" / "delivery.json")
    sent = {m["key"]: m for m in record["messages"]}
    assert sent[KAB]["to"] == DINSOS and sent[KAB]["cc"] == [PROVINCE] and sent[KAB]["sent_at"]
    digest = hashlib.sha256(files[workbook_name]).hexdigest()
    assert {"name": workbook_name, "bytes": len(files[workbook_name]), "sha256": digest} in sent[KAB]["attachments"]
    result = finish(ctx)
    assert result["status"] == "PUBLISHED" and result["delivery"]["status"] == "SENT"


def test_village_files_as_a_zip_when_asked_and_small_enough(published, inbox):
    stages.deliver(with_delivery(published, recipients={KAB: DINSOS[:1]}, attach_desa_feedback=True))
    (_, _, message) = inbox.received[-1]
    files = attachments(message)
    archive = zipfile.ZipFile(io.BytesIO(files[f"hasil_usulan_desa_{KAB}_{QUARTER}.zip"]))
    published_desa = sorted(p.name for p in (published_dir(published) / "desa").glob("*.xlsx"))
    assert sorted(Path(n).name for n in archive.namelist()) == published_desa and published_desa
    assert "terlampir" in body(message)

    stages.deliver(
        with_delivery(published, recipients={KAB: DINSOS[:1]}, attach_desa_feedback=True, max_attachment_mb=0.001)
    )
    (_, _, message) = inbox.received[-1]
    assert len(attachments(message)) == 2
    assert "melebihi batas" in body(message)


def test_a_failed_delivery_is_recorded_and_leaves_the_publication(published, inbox, monkeypatch):
    ctx = with_delivery(published, recipients={KAB: DINSOS})
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(free_port()))  # nobody listens there
    run = {"context": ctx.to_dict()}
    with pytest.raises(DeliveryFailed, match=KAB):
        stages.run_stage("deliver", run)
    record = read_json(ctx.root / "deliver" / "delivery.json")
    assert record["status"] == "FAILED" and record["messages"][0]["status"] == "FAILED"
    assert "Connection" in record["messages"][0]["error"] or "refused" in record["messages"][0]["error"]
    result = stages.finish_run(run)
    assert result["status"] == "PUBLISHED" and result["failed_stage"] is None
    assert result["delivery"]["status"] == "FAILED"
    engine = connect(warehouse_url(ctx))
    with engine.connect() as c:
        statuses = c.execute(text("SELECT status FROM run WHERE quarter = :q"), {"q": QUARTER}).scalars().all()
    engine.dispose()
    assert statuses == ["PUBLISHED"]
    (ctx.root / "errors" / "deliver.json").unlink()

    # The task's retry, once the server is back: the message goes out, once.
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(inbox.port))
    assert stages.run_stage("deliver", run)["status"] == "SENT"
    assert read_json(ctx.root / "deliver" / "delivery.json")["attempt"] == 2
    assert len(inbox.received) == 1


def test_a_retry_sends_only_what_failed(published):
    ctx = with_delivery(published, recipients={KAB: DINSOS}, summary_recipients=[PROVINCE])
    calls: list[str] = []

    def flaky(message) -> None:
        calls.append(message.key)
        if message.key == "ringkasan" and calls.count("ringkasan") == 1:
            raise ConnectionError("server sedang sibuk 5203014101900001")

    with pytest.raises(DeliveryFailed):
        stages.deliver(ctx, send=flaky)
    record = read_json(ctx.root / "deliver" / "delivery.json")
    failed = next(m for m in record["messages"] if m["key"] == "ringkasan")
    assert "5203********0001" in failed["error"] and "5203014101900001" not in failed["error"]  # masked
    assert stages.deliver(ctx, send=flaky)["status"] == "SENT"
    assert calls == [KAB, "ringkasan", "ringkasan"]


def test_nothing_is_sent_without_recipients_or_when_disabled(published):
    def refuse(message) -> None:
        raise AssertionError("no message expected")

    summary = stages.deliver(with_delivery(published, recipients={"5201": ["x@lobar.go.id"]}), send=refuse)
    assert summary == {"status": "SKIPPED", "messages": {KAB: "SKIPPED"}, "seconds": summary["seconds"]}
    record = read_json(published.root / "deliver" / "delivery.json")
    assert "no recipients" in record["messages"][0]["note"]
    assert stages.deliver(with_delivery(published, enabled=False, recipients={KAB: DINSOS}), send=refuse)["status"] == (
        "DISABLED"
    )


def test_an_unpublished_run_sends_nothing(published, tmp_path):
    ctx = dataclasses.replace(published, work_dir=str(tmp_path), config={**published.config})
    ctx.root.mkdir(parents=True)
    summary = stages.deliver(ctx, send=lambda m: pytest.fail("nothing was published"))
    assert summary["status"] == "SKIPPED"
    assert read_json(ctx.root / "deliver" / "delivery.json")["notes"] == ["nothing was published by this run"]
