"""End to end through Airflow: a small generated quarter, `dtks run`'s code path, the Airflow SMTP connection
(`AIRFLOW_CONN_SMTP_DEFAULT`, inherited by the Airflow process) pointed at a local aiosmtpd server, the
recipients in the run's conf. Each message must arrive after the quarter was published."""

from __future__ import annotations

import email
import json
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from pipelines.airflow_runner import run_quarter
from pipelines.synth import SynthConfig, generate
from pipelines.synth.config import ErrorRates

QUARTER = "2026Q3"
KAB = "5203"
DINSOS = ["data.dinsos@lomboktimurkab.go.id"]
PROVINCE = "dtks@dinsos.ntbprov.go.id"

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


class PublicationWitness:
    """aiosmtpd handler that notes, the moment each message arrives, whether the quarter is already
    published: in the warehouse and in the reports directory."""

    def __init__(self, warehouse: Path, reports: Path) -> None:
        self.warehouse, self.reports = warehouse, reports
        self.received: list[dict] = []

    def _published_runs(self) -> list[str]:
        engine = create_engine(f"sqlite:///{self.warehouse}")
        try:
            with engine.connect() as c:
                return list(c.execute(text("SELECT run_id FROM run WHERE status = 'PUBLISHED'")).scalars())
        finally:
            engine.dispose()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(
            {
                "rcpt": list(envelope.rcpt_tos),
                "message": message,
                "published_runs": self._published_runs(),
                "workbook_published": (self.reports / QUARTER / KAB / f"laporan_dtks_{KAB}_{QUARTER}.xlsx").exists(),
            }
        )
        return "250 OK"


@pytest.mark.xdist_group("e2e_delivery")
def test_reports_are_mailed_after_publication(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    rates = ErrorRates(unparseable=0.02, missing_required=0.02)
    generate(landing, QUARTER, SynthConfig(kab_codes=(KAB,), persons=600, seed=3, rates=rates))
    warehouse, reports = tmp_path / "warehouse.sqlite", tmp_path / "reports"

    witness = PublicationWitness(warehouse, reports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(witness, hostname="127.0.0.1", port=port)
    controller.start()
    extra = {"disable_ssl": True, "disable_tls": True, "from_email": "dtks@ntb.go.id", "retry_limit": 0}
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra}),
    )
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    try:
        result = run_quarter(
            str(landing),
            QUARTER,
            warehouse=f"sqlite:///{warehouse}",
            reports=str(reports),
            config={"delivery": {"recipients": {KAB: DINSOS}, "summary_recipients": [PROVINCE]}},
        )
    finally:
        controller.stop()

    assert result["status"] == "PUBLISHED", result.get("message")
    assert result["delivery"]["status"] == "SENT", result["delivery"]
    assert len(witness.received) == 2
    for arrival in witness.received:
        assert arrival["published_runs"] == [result["run_id"]]  # the warehouse already had the quarter
        assert arrival["workbook_published"]
        assert arrival["message"]["X-DTKS-Run-Id"] == result["run_id"]
    kab = next(a for a in witness.received if a["message"]["X-DTKS-Key"] == KAB)
    assert kab["rcpt"] == DINSOS
    assert kab["message"]["Subject"].startswith("[DTKS] Laporan hasil pemutakhiran Triwulan III 2026")
    names = {part.get_filename() for part in kab["message"].iter_attachments()}
    assert names == {f"laporan_dtks_{KAB}_{QUARTER}.xlsx", f"ringkasan_{KAB}_{QUARTER}.html"}
    assert (reports / QUARTER / f"ringkasan_{QUARTER}.html").exists()
