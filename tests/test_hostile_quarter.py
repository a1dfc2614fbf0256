"""Issue 10's "done means", end to end through Airflow (`dtks run`'s code path) on PostgreSQL:

A quarter whose landing area holds every damaged input of the corpus and every odd entry an operator or an
attacker leaves (tests/hostile_landing.py) beside a good synthetic kabupaten publishes, with every entry
accounted for (read as an input, or listed with what was done with it), every readable row in row_outcome,
and the good kabupaten's rows exactly as a run without the damaged inputs grades them. Afterwards neither the
warehouse password nor any NIK, KK or full name of the quarter appears in the Airflow metadata, the logs,
the lineage events, the work files (the Parquet data files aside: they are the data), the HTML summaries,
the run records or the command lines of the processes the run started.
"""

from __future__ import annotations

import json
import re
import resource
import sqlite3
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from pipelines.airflow_runner import run_quarter
from pipelines.evaluate import evaluate, load_truth
from pipelines.printable import shown
from pipelines.privacy import mask_text
from pipelines.warehouse import connect
from pipelines.warehouse.connection import environment_variable
from tests import hostile_landing
from tests.test_secrets_e2e import CommandLines, leaks

QUARTER = hostile_landing.QUARTER
PERSONS = 2_500
pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.postgres]

OUTCOME_COLUMNS = ["source_file", "source_row", "outcome", "person_key", "nik_dukcapil", "status_padan"]
FINDING_COLUMNS = ["source_file", "source_row", "category", "detail", "suggested_value"]


def published_rows(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as c:
        return {
            "row_outcome": pd.read_sql(text("SELECT * FROM row_outcome"), c),
            "discrepancy": pd.read_sql(text("SELECT * FROM discrepancy"), c),
            "dtks_snapshot": pd.read_sql(text("SELECT * FROM dtks_snapshot"), c),
        }


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict:
    """The good kabupaten alone, every stage in this process, on SQLite: how its rows are graded."""
    from pipelines.stages import run_all

    tmp = tmp_path_factory.mktemp("baseline")
    landing = tmp / "landing"
    good_files = hostile_landing.make_good_quarter(landing, PERSONS)
    url = f"sqlite:///{tmp / 'warehouse.sqlite'}"
    conf = {"quarter": QUARTER, "landing": str(landing), "work": str(tmp / "work"), "reports": str(tmp / "reports")}
    with mock.patch.dict("os.environ", dict([environment_variable(url)])):
        result = run_all(conf, "manual__baseline")
    assert result["status"] == "PUBLISHED", result.get("message")
    engine = create_engine(url)
    rows = published_rows(engine)
    engine.dispose()
    return {"good_files": good_files, "rows": rows, "truth": load_truth(landing, QUARTER)}


def good_part(rows: dict[str, pd.DataFrame], good_files: list[str]) -> dict[str, pd.DataFrame]:
    out = {}
    for name, columns in (("row_outcome", OUTCOME_COLUMNS), ("discrepancy", FINDING_COLUMNS)):
        frame = rows[name]
        frame = frame[frame["source_file"].isin(good_files)][columns].astype(str)
        out[name] = frame.sort_values(columns).reset_index(drop=True)
    snapshot = rows["dtks_snapshot"]
    snapshot = snapshot[snapshot["source_file"].isin(good_files)].drop(columns=["run_id", "quarter"]).astype(str)
    out["dtks_snapshot"] = snapshot.sort_values(["person_key"]).reset_index(drop=True)
    return out


def personal_values(work: Path) -> tuple[set[str], set[str]]:
    """Every 16-digit NIK/KK and every full name (two words or more) the run read, from its ingest files."""
    submissions = pd.concat(map(pd.read_parquet, sorted(work.glob("kab/*/ingest/submissions.parquet"))))
    persons = pd.concat(map(pd.read_parquet, sorted(work.glob("kab/*/ingest/dukcapil.parquet"))))
    ids, names = set(), set()
    for series in (submissions["nik"], submissions["no_kk"], persons["NIK"], persons["NO_KK"]):
        ids |= {v for v in series.dropna().astype(str).str.strip() if re.fullmatch(r"\d{16}", v)}
    for series in (
        submissions["nama"],
        submissions["nama_ibu_kandung"],
        persons["NAMA_LGKP"],
        persons["NAMA_LGKP_IBU"],
    ):
        names |= {" ".join(v.upper().split()) for v in series.dropna().astype(str) if len(v.split()) >= 2}
    return ids, names


_WORD = re.compile(r"[A-Za-z'.`-]+")


def personal_leaks(texts: dict[str, str | bytes], ids: set[str], names: set[str]) -> list[tuple[str, str]]:
    """(where, masked value) for every known NIK/KK (also written with spaces, dots or dashes) and every known
    full name (as consecutive words, any case) found in the texts."""
    longest = max((len(n.split()) for n in names), default=0)
    found = []
    for where, content in texts.items():
        body = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        for match in re.finditer(r"(?<!\d)\d(?:[ .-]?\d){15}(?!\d)", body):
            digits = re.sub(r"\D", "", match.group())
            if digits in ids:
                found.append((where, mask_text(digits)))
        words = [w.upper().strip(".") for w in _WORD.findall(body)]
        for size in range(2, longest + 1):
            for i in range(len(words) - size + 1):
                candidate = " ".join(words[i : i + size])
                if candidate in names:
                    found.append((where, candidate[:1] + "..."))
    return found


@pytest.fixture(scope="module")
def hostile_landing_area(tmp_path_factory) -> hostile_landing.HostileQuarter:
    return hostile_landing.build(tmp_path_factory.mktemp("hostile") / "landing", PERSONS)


@pytest.mark.xdist_group("e2e_hostile")
def test_a_hostile_quarter_publishes_accounts_for_everything_and_leaks_nothing(
    hostile_landing_area, baseline, secret_warehouse, tmp_path, monkeypatch
):
    quarter = hostile_landing_area
    home = tmp_path / "home"
    monkeypatch.setenv("DTKS_HOME", str(home))
    monkeypatch.delenv("AIRFLOW_CONN_DTKS_WAREHOUSE", raising=False)
    url, password = secret_warehouse["url"], secret_warehouse["password"]
    with CommandLines() as command_lines:
        result = run_quarter(
            str(quarter.landing),
            QUARTER,
            warehouse=url.render_as_string(hide_password=False),
            reports=str(tmp_path / "reports"),
            # The gate is judged per kabupaten/kota: the corpus's own kabupaten (5203) is all damaged
            # inputs, 27% of its rows quarantined by design. Let it through, so that every entry is accounted
            # for; tests/test_gate_policy.py holds such a kabupaten back under the default.
            config={"quality_gate": {"max_quarter_quarantine_share": 0.5}},
        )
    assert result["status"] == "PUBLISHED", result.get("message")
    assert not result.get("held_back")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 3 * 1024

    engine = connect(url)
    with engine.connect() as c:
        record = dict(c.execute(text("SELECT * FROM run")).mappings().one())
        attempts = [dict(r) for r in c.execute(text("SELECT * FROM run_attempt")).mappings()]
    rows = published_rows(engine)
    engine.dispose()
    input_files = json.loads(record["input_files"])
    landing = json.loads(record["landing"])

    # Every file read as an input, or listed with what was done with it; every odd entry listed (the deep
    # chain's top folders are listed as folders not descended into).
    read = {f["source_file"] for f in input_files}
    assert set(quarter.good_files) | set(quarter.corpus_files) | {f"{QUARTER}/dukcapil/5203.csv"} <= read
    listed = {e["path"] for e in landing["listed"]}
    for path in quarter.odd_entries:
        prefixes = ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 2)]
        assert any(mask_text(shown(f"{QUARTER}/{p}")) in listed | read for p in prefixes), shown(path)
    assert landing["unexpected"] == len(landing["listed"])  # nothing left unlisted at this size
    # Every file that could not be read is rejected with a contract category and a reason.
    for item in input_files:
        if item["status"] in ("UNREADABLE", "REJECTED"):
            assert item["rejection_category"] in ("FORMAT_TIDAK_VALID", "DATA_TIDAK_LENGKAP"), item["source_file"]
            assert item["problems"], item["source_file"]
    # Every readable row is in row_outcome exactly once.
    per_file = rows["row_outcome"].groupby("source_file").size()
    for item in input_files:
        if item["kind"] == "submission":
            assert per_file.get(item["source_file"], 0) == item["data_rows"], item["source_file"]
    assert not rows["row_outcome"].duplicated(["source_file", "source_row"]).any()
    assert {a["status"] for a in attempts} == {"PUBLISHED"}

    # The good kabupaten's rows exactly as without the damaged inputs beside them, and graded the same.
    good, before = good_part(rows, quarter.good_files), good_part(baseline["rows"], baseline["good_files"])
    for name in before:
        pd.testing.assert_frame_equal(good[name], before[name], obj=name)
    truth = baseline["truth"]

    def graded(published: dict[str, pd.DataFrame]) -> dict:
        findings = published["discrepancy"][published["discrepancy"]["source_file"].isin(truth["source_file"])]
        return evaluate(truth, published["row_outcome"], findings)

    scores, scores_before = graded(rows), graded(baseline["rows"])
    scores.pop("row_outcome_rows"), scores_before.pop("row_outcome_rows")  # all rows, the damaged ones too
    assert scores == scores_before
    assert scores["link"]["f1"] >= 0.999

    # Nothing personal and no credential outside the warehouse and the Dinsos reports.
    texts: dict[str, str | bytes] = {}
    for path in home.rglob("*"):
        # The Parquet work files and the staged workbooks are the data and the Dinsos reports themselves.
        if path.is_file() and path.suffix not in (".parquet", ".xlsx") and path.name != "airflow.db":
            texts[str(path.relative_to(home))] = path.read_bytes()
    for path in (tmp_path / "reports").rglob("*.html"):
        texts[str(path.relative_to(tmp_path))] = path.read_bytes()
    with sqlite3.connect(home / "airflow" / "airflow.db") as metadata:
        texts["airflow.db dump"] = "\n".join(metadata.iterdump())
    texts["warehouse run"] = json.dumps(record, default=str)
    texts["warehouse run_attempt"] = json.dumps(attempts, default=str)
    texts["dtks run result"] = json.dumps(result, default=str)
    texts["command lines"] = "\n".join(sorted(command_lines.seen))
    assert any(p.startswith("logs/dtks-run-") for p in texts), "the Airflow log of the run is scanned"
    assert not leaks(texts, [password, secret_warehouse["token"]])
    work = next(home.glob(f"work/{QUARTER}/*/kab")).parent
    ids, names = personal_values(work)
    assert len(ids) > 1_000 and len(names) > 1_000  # what is looked for is really there
    village_file = (quarter.landing / next(f for f in quarter.good_files if f.endswith(".csv"))).read_bytes()
    assert personal_leaks({"a village file": village_file}, ids, names)  # and the scan finds it where it is
    assert personal_leaks(texts, ids, names) == []
