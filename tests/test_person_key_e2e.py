"""Through Airflow: the public demo key is refused by `dtks run` and accepted by `dtks demo` alone, which says
so; the key may also come from an Airflow Variable (a secrets backend), and keys the published person_key."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from pipelines.cli import main
from pipelines.config import DEMO_KEY_ENV, PERSON_KEY_ENV
from pipelines.outcomes import person_key
from pipelines.synth import SynthConfig, generate
from pipelines.warehouse import connect

QUARTER = "2026Q3"
VARIABLE_KEY = "a-key-held-by-a-secrets-backend-7f3a"
pytestmark = [pytest.mark.airflow, pytest.mark.slow]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generate(root, QUARTER, SynthConfig(kab_codes=("5203",), persons=1_500, seed=43))
    return root


@pytest.fixture
def no_key(tmp_path, monkeypatch):
    monkeypatch.delenv(PERSON_KEY_ENV)
    monkeypatch.setenv(DEMO_KEY_ENV, "0")  # restored to unset afterwards, whatever the demo sets
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))


def test_dtks_run_refuses_the_public_key_at_start(landing, tmp_path, no_key, capsys):
    code = main(["run", "--landing", str(landing), "--quarter", QUARTER, "--work", str(tmp_path / "work")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED (failed in start: The person-key secret is not set" in out and PERSON_KEY_ENV in out
    assert not list((tmp_path / "work").glob(f"{QUARTER}/*/ingest"))  # nothing was read


def test_dtks_demo_runs_on_the_public_key_and_says_so(tmp_path, no_key, capsys):
    code = main(["demo", "--persons", "1500", "--dir", str(tmp_path / "demo")])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert "public demo key" in out and "PUBLISHED" in out
    assert json.loads((tmp_path / "demo" / "evaluation.json").read_text())


def test_the_key_may_come_from_an_airflow_variable(landing, tmp_path, no_key, monkeypatch):
    from pipelines.airflow_runner import run_quarter

    monkeypatch.setenv("AIRFLOW_VAR_DTKS_PERSON_KEY_SECRET", VARIABLE_KEY)
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    result = run_quarter(str(landing), QUARTER, warehouse=warehouse, work=str(tmp_path / "work"))
    assert result["status"] == "PUBLISHED", result.get("message")
    engine = connect(warehouse)
    with engine.connect() as c:
        linked = pd.read_sql(
            text("SELECT nik_dukcapil, person_key FROM row_outcome WHERE nik_dukcapil IS NOT NULL LIMIT 5"), c
        )
    engine.dispose()
    assert len(linked)
    for nik, key in linked.itertuples(index=False):
        assert key == person_key(VARIABLE_KEY, "nik", nik)
