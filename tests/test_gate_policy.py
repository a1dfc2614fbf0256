"""The quality gate per kabupaten/kota: under `publish_others` a kabupaten whose files fail it is held back
and named, and the others publish; under `stop_quarter` nothing publishes."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
import sqlalchemy as sa

from pipelines.synth import SynthConfig, generate

QUARTER = "2026Q3"
GOOD, BAD = "5203", "5201"


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    """Two kabupaten; every village file of BAD lacks its `nama` column (each file rejected as a whole)."""
    root = tmp_path_factory.mktemp("gate_policy") / "landing"
    generate(root, QUARTER, SynthConfig(kab_codes=(GOOD, BAD), persons=1_200, seed=3, xlsx_share=0.0))
    for path in (root / QUARTER / "submissions" / BAD).glob("*.csv"):
        header, rest = path.read_text(encoding="utf-8-sig").split("\n", 1)
        sep = ";" if ";" in header else ","
        header = sep.join("nama_lain" if h.strip().lower() == "nama" else h for h in header.split(sep))
        path.write_text(header + "\n" + rest, encoding="utf-8")
    return root


def run(tmp: Path, landing: Path, policy: str | None) -> tuple[dict, str]:
    from pipelines.stages import run_all
    from pipelines.warehouse.connection import environment_variable

    warehouse = f"sqlite:///{tmp / 'warehouse.sqlite'}"
    conf = {"quarter": QUARTER, "landing": str(landing), "work": str(tmp / "work"), "reports": str(tmp / "reports")}
    if policy:
        conf["config"] = {"quality_gate": {"policy": policy}}
    name, value = environment_variable(warehouse)
    with mock.patch.dict("os.environ", {name: value}):
        return run_all(conf, f"manual__{policy}"), warehouse


def test_publish_others_publishes_the_good_kabupaten_and_names_the_held_one(landing, tmp_path):
    from pipelines.cli import PUBLISHED_HELD_BACK, exit_status, format_run

    result, warehouse = run(tmp_path, landing, None)  # the default policy
    assert result["status"] == "PUBLISHED" and result["failed_stage"] is None
    assert result["held_back"] == [BAD]
    assert exit_status(result) == PUBLISHED_HELD_BACK == 3
    assert f"HELD BACK by their quality gate, not published: {BAD}" in format_run(result)

    engine = sa.create_engine(warehouse)
    with engine.connect() as c:
        record = c.execute(sa.text("SELECT held_back FROM run")).scalar_one()
        attempt = c.execute(sa.text("SELECT status, held_back FROM run_attempt")).one()
        outcome = pd.read_sql("SELECT source_file FROM row_outcome", c)
    engine.dispose()
    assert list(json.loads(record)) == [BAD] and "rejected" in " ".join(json.loads(record)[BAD])
    assert attempt[0] == "PUBLISHED" and json.loads(attempt[1]) == [BAD]
    kab = outcome["source_file"].str.split("/").str[2]
    assert set(kab) == {GOOD}  # the good kabupaten's rows, none of the held one's

    summary = (tmp_path / "reports" / QUARTER / f"ringkasan_{QUARTER}.html").read_text(encoding="utf-8")
    assert "Kabupaten/kota yang ditahan" in summary and "52.01" in summary
    assert (tmp_path / "reports" / QUARTER / GOOD).is_dir() and not (tmp_path / "reports" / QUARTER / BAD).exists()


def test_stop_quarter_publishes_nothing(landing, tmp_path):
    from pipelines.cli import NOT_PUBLISHED, exit_status

    result, warehouse = run(tmp_path, landing, "stop_quarter")
    assert result["status"] == "GATE_REJECTED" and result["failed_stage"] == f"quality_gate_{BAD}"
    assert result["held_back"] == [BAD] and exit_status(result) == NOT_PUBLISHED
    engine = sa.create_engine(warehouse)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM run")).scalar_one() == 0
    engine.dispose()


def test_the_policy_is_a_checked_setting():
    from pipelines.config import load_config

    assert load_config({}).quality_gate.policy == "publish_others"
    with pytest.raises(ValueError, match=r"quality_gate\.policy"):
        load_config({"quality_gate": {"policy": "publish_all"}})
