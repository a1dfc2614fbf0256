"""End to end through Airflow: a generated quarter, `dtks run`'s code path, the contract checked on the
published warehouse (SQLite and PostgreSQL), re-runs replacing the quarter exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from rendering import SNAKE_CASE, visible_cell_words
from sqlalchemy import text

from pipelines.airflow_runner import run_quarter
from pipelines.contract import CATEGORIES, QUARANTINE_CATEGORIES
from pipelines.evaluate import evaluate_quarter, load_truth
from pipelines.synth import SynthConfig, generate
from pipelines.warehouse import connect

QUARTER = "2026Q3"
PERSONS = 6_000

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generate(root, QUARTER, SynthConfig(kab_codes=("5203",), persons=PERSONS, seed=11))
    return root


def published(url: str) -> dict[str, pd.DataFrame]:
    engine = connect(url)
    with engine.connect() as c:
        tables = {
            t: pd.read_sql(text(f"SELECT * FROM {t} WHERE quarter = :q"), c, params={"q": QUARTER})
            for t in ("row_outcome", "dtks_snapshot", "discrepancy", "quarantine", "run", "link_candidate")
        }
    engine.dispose()
    return tables


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """A table without the run's identity, in a stable order."""
    out = frame.drop(columns=[c for c in ("run_id",) if c in frame.columns])
    return out.sort_values(list(out.columns)).reset_index(drop=True)


def check_contract(landing: Path, tables: dict[str, pd.DataFrame]) -> None:
    truth = load_truth(landing, QUARTER)
    outcome = tables["row_outcome"]
    # Conservation: every input row of every readable file, exactly once.
    assert len(outcome) == len(truth)
    assert not outcome.duplicated(["source_file", "source_row"]).any()
    per_file_truth = truth.groupby("source_file").size()
    per_file_out = outcome.groupby("source_file").size()
    assert per_file_out.sort_index().equals(per_file_truth.sort_index())
    files = {f["source_file"]: f for f in json.loads(tables["run"]["input_files"].iloc[0])}
    for source_file, n in per_file_truth.items():
        assert files[source_file]["data_rows"] == n
    # Every contract table is filled and the run is recorded once.
    for name in ("row_outcome", "dtks_snapshot", "discrepancy", "quarantine"):
        assert len(tables[name]) > 0, name
    assert tables["run"]["status"].tolist() == ["PUBLISHED"]
    assert set(outcome["outcome"]) == {"PUBLISHED", "MERGED_DUPLICATE", "QUARANTINED"}
    assert outcome.loc[outcome["outcome"] == "QUARANTINED", "person_key"].isna().all()
    assert outcome.loc[outcome["outcome"] != "QUARANTINED", "person_key"].notna().all()
    assert tables["dtks_snapshot"]["person_key"].is_unique
    assert len(tables["dtks_snapshot"]) == (outcome["outcome"] == "PUBLISHED").sum()
    # Every category the generator planted is found, and nothing outside the contract is invented.
    expected = set(truth["expected_categories"].str.split(";").explode()) - {""}
    found = set(tables["discrepancy"]["category"])
    assert expected - {"KEMUNGKINAN_PADAN"} <= found, expected - found
    assert found <= set(CATEGORIES)
    quarantined = tables["quarantine"][tables["quarantine"]["source_file"].str.contains("/submissions/")]
    assert len(quarantined) == (outcome["outcome"] == "QUARANTINED").sum()
    assert set(";".join(quarantined["categories"]).split(";")) <= set(QUARANTINE_CATEGORIES) | {"NIK_TIDAK_VALID"}


@pytest.mark.xdist_group("e2e_sqlite")
def test_sqlite_run_rerun_and_evaluation(landing, tmp_path, monkeypatch):
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    first = run_quarter(str(landing), QUARTER, warehouse=url, reports=str(tmp_path / "reports"))
    assert first["status"] == "PUBLISHED", first.get("message")
    tables = published(url)
    check_contract(landing, tables)
    workbook = tmp_path / "reports" / QUARTER / "5203" / f"laporan_dtks_5203_{QUARTER}.xlsx"
    assert workbook.exists()
    assert list((tmp_path / "reports" / QUARTER / "5203" / "desa").glob("*.xlsx"))
    # What an officer reads: fields in words, never column names, in the warehouse's details and on every
    # visible cell of the workbook; and every finding on a linked row carries the value to use.
    findings = tables["discrepancy"]
    assert not findings["detail"].fillna("").str.contains(SNAKE_CASE).any()
    assert visible_cell_words(workbook) == []
    linked = tables["row_outcome"].loc[tables["row_outcome"]["status_padan"].isin(["PADAN", "PADAN_DENGAN_KOREKSI"])]
    on_linked = findings.merge(linked[["source_file", "source_row"]], on=["source_file", "source_row"])
    assert len(on_linked) and on_linked["suggestion"].notna().all(), on_linked[on_linked["suggestion"].isna()]

    evaluation = evaluate_quarter(connect(url), landing, QUARTER)
    assert evaluation["rows_missing_from_row_outcome"] == 0
    assert evaluation["link"]["f1"] >= 0.98, evaluation["link"]

    # A second run of the same quarter replaces the first exactly: same rows, not twice as many.
    second = run_quarter(str(landing), QUARTER, warehouse=url, reports=str(tmp_path / "reports"))
    assert second["status"] == "PUBLISHED" and second["run_id"] != first["run_id"]
    again = published(url)
    runs = dict(zip(again["run"]["run_id"], again["run"]["status"], strict=True))
    assert runs == {first["run_id"]: "SUPERSEDED", second["run_id"]: "PUBLISHED"}
    for name in ("row_outcome", "dtks_snapshot", "discrepancy", "quarantine", "link_candidate"):
        pd.testing.assert_frame_equal(comparable(tables[name]), comparable(again[name]), check_dtype=False)


@pytest.mark.postgres
@pytest.mark.xdist_group("e2e_postgres")
def test_postgres_run(landing, tmp_path, monkeypatch, pg_url):
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    result = run_quarter(str(landing), QUARTER, warehouse=pg_url, reports=str(tmp_path / "reports"))
    assert result["status"] == "PUBLISHED", result.get("message")
    tables = published(pg_url)
    check_contract(landing, tables)
    evaluation = evaluate_quarter(connect(pg_url), landing, QUARTER)
    assert evaluation["link"]["f1"] >= 0.98, evaluation["link"]
