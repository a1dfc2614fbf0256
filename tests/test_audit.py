"""What an auditor relies on, checked after one real run through Airflow: `dtks trace` tells the whole
chain behind a record, OpenLineage has an event per task with datasets and counts, and no log, lineage
event, run record or error message holds a NIK, a KK or a name."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from pipelines.airflow_runner import run_quarter
from pipelines.synth import SynthConfig, generate
from pipelines.trace import format_trace, trace
from pipelines.warehouse import connect

QUARTER = "2026Q3"
pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.xdist_group("e2e_audit")]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    landing = root / "landing"
    generate(landing, QUARTER, SynthConfig(persons=4_000, seed=23))
    previous = os.environ.get("DTKS_HOME")
    os.environ["DTKS_HOME"] = str(root / "home")
    try:
        result = run_quarter(
            str(landing), QUARTER, warehouse=f"sqlite:///{root / 'warehouse.sqlite'}", reports=str(root / "reports")
        )
    finally:
        if previous is None:
            os.environ.pop("DTKS_HOME")
        else:
            os.environ["DTKS_HOME"] = previous
    assert result["status"] == "PUBLISHED", result.get("message")
    truth = pd.read_csv(landing / QUARTER / "_ground_truth" / "rows.csv", dtype=str, keep_default_na=False)
    return {
        "root": root,
        "landing": landing,
        "result": result,
        "truth": truth,
        "engine": connect(f"sqlite:///{root / 'warehouse.sqlite'}"),
    }


def _one(engine, sql: str) -> tuple:
    with engine.connect() as c:
        return tuple(c.execute(text(sql)).first())


def test_trace_of_a_merged_duplicate(published):
    engine = published["engine"]
    source_file, source_row = _one(
        engine, "SELECT source_file, source_row FROM row_outcome WHERE outcome = 'MERGED_DUPLICATE' LIMIT 1"
    )
    result = trace(engine, QUARTER, source_file=source_file, source_row=source_row)
    row = result.rows[0]
    assert result.run["run_id"] == published["result"]["run_id"]
    assert row.input_check == "SHA-256 matches" and row.input_row
    assert row.outcome["outcome"] == "MERGED_DUPLICATE" and row.published is not None
    assert any(f["category"] == "GANDA" for f in row.findings)
    assert len(row.person_rows) >= 2
    text_out = format_trace(result)
    assert "merged into" in text_out and "published" in text_out


def test_trace_of_a_corrected_nik_by_nik_and_cli(published):
    engine = published["engine"]
    nik, source_file, source_row = _one(
        engine,
        "SELECT d.suggested_value, d.source_file, d.source_row FROM discrepancy d "
        "WHERE d.category = 'NIK_BERBEDA' LIMIT 1",
    )
    result = trace(engine, QUARTER, nik=nik)
    rows = {(r.source_file, r.source_row): r for r in result.rows}
    row = rows[(source_file, source_row)]
    chosen = [c for c in row.candidates if c["chosen"]]
    assert len(chosen) == 1 and chosen[0]["candidate_nik"] == nik
    assert json.loads(chosen[0]["weights"]) and json.loads(chosen[0]["levels"])
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dtks"),
            "trace",
            "--quarter",
            QUARTER,
            "--source-file",
            source_file,
            "--source-row",
            str(source_row),
            "--warehouse",
            str(engine.url),
            "--mask",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "<- chosen" in done.stdout and "NIK_BERBEDA" in done.stdout
    assert "tanggal lahir" in done.stdout and "bobot kecocokan (tanpa prior)" in done.stdout
    assert nik not in done.stdout  # --mask hides identifiers
    assert re.search(r"answered in \d+\.\d+ s", done.stderr)


def _name_leaks(content: str, names: set[str]) -> list[str]:
    found = []
    for phrase in set(_WORDS.findall(content.upper())):
        words = phrase.split(" ")
        found += [
            " ".join(words[i:j])
            for i in range(len(words))
            for j in range(i + 2, len(words) + 1)
            if " ".join(words[i:j]) in names
        ]
    return found


def test_masked_trace_of_every_category_holds_no_personal_data(published):
    """`dtks trace --mask` on a row of every finding category the quarter has, a quarantined row and a
    merged duplicate: no NIK or KK of the inputs, no name, and none of the row's own birth date, address
    or birthplace (read unmasked from the same trace)."""
    engine = published["engine"]
    ids, names = _sensitive_values(published["landing"], published["truth"])
    with engine.connect() as c:
        rows = {
            category: (f, r)
            for category, f, r in c.execute(text("SELECT category, source_file, source_row FROM discrepancy"))
        }
        rows["QUARANTINED"] = tuple(c.execute(text("SELECT source_file, source_row FROM quarantine")).first())
        rows["MERGED"] = _one(
            engine, "SELECT source_file, source_row FROM row_outcome WHERE outcome = 'MERGED_DUPLICATE'"
        )
    assert len(rows) >= 8, sorted(rows)
    for what, (source_file, source_row) in sorted(rows.items()):
        result = trace(engine, QUARTER, source_file=source_file, source_row=source_row)
        plain, masked = format_trace(result), format_trace(result, mask=True)
        typed = result.rows[0].input_row or {}
        own = [typed.get(k, "") for k in ("tanggal_lahir", "alamat", "nama", "nama_ibu_kandung", "nik", "no_kk")]
        own = [v for v in own if len(v.strip()) >= 6]
        assert all(v in plain for v in own), what  # the unmasked trace shows them
        leaks = [v for v in own if v in masked]
        leaks += [f"{n[:4]}..." for n in set(_SIXTEEN.findall(masked)) & ids]
        leaks += _name_leaks(masked, names)
        if typed.get("tempat_lahir"):
            leaks += [k for k in ("tempat_lahir=" + typed["tempat_lahir"],) if k in masked]
        assert not leaks, (what, leaks)


def test_trace_notices_a_changed_input_file(published, tmp_path):
    engine = published["engine"]
    source_file, source_row = _one(engine, "SELECT source_file, source_row FROM row_outcome LIMIT 1")
    path = published["landing"] / source_file
    backup = tmp_path / "backup"
    shutil.copyfile(path, backup)
    try:
        path.write_bytes(path.read_bytes() + b"\n")
        row = trace(engine, QUARTER, source_file=source_file, source_row=source_row).rows[0]
        assert "CHANGED" in row.input_check and row.input_row is None
    finally:
        shutil.copyfile(backup, path)


def test_openlineage_event_per_task(published):
    events = [json.loads(line) for line in (published["root"] / "home" / "lineage" / "openlineage.jsonl").open()]
    by_job: dict[str, list[dict]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], []).append(event)
    for task in ("start", "ingest", "validate", "quality_gate", "link", "decide", "report", "publish", "finish"):
        kinds = {e["eventType"] for e in by_job[f"dtks_quarterly.{task}"]}
        assert {"START", "COMPLETE"} <= kinds, task
    complete = {
        e["job"]["name"].split(".")[-1]: e for e in events if e["eventType"] == "COMPLETE" and "." in e["job"]["name"]
    }
    ingest = complete["ingest"]
    assert len(ingest["inputs"]) > 10 and all(d["namespace"] == "file" for d in ingest["inputs"])
    assert ingest["run"]["facets"]["dtks_counts"]["counts"]["submission_rows"] > 0
    publish = complete["publish"]
    assert {d["name"] for d in publish["outputs"]} >= {"main.row_outcome", "main.dtks_snapshot", "main.discrepancy"}


def _sensitive_values(landing: Path, truth: pd.DataFrame) -> tuple[set[str], set[str]]:
    """Every NIK and KK in the inputs, and every multi-word name (single words are too common to test)."""
    ids: set[str] = set(truth["true_nik"]) - {""}
    names: set[str] = set()
    for extract in (landing / QUARTER / "dukcapil").glob("*.csv"):
        frame = pd.read_csv(extract, dtype=str, keep_default_na=False)
        ids |= set(frame["NIK"]) | set(frame["NO_KK"])
        names |= {n for n in frame["NAMA_LGKP"] if " " in n and len(n) >= 10}
    return ids, names


def _scanned_texts(published) -> dict[str, str]:
    root, result = published["root"], published["result"]
    texts: dict[str, str] = {}
    for path in (root / "home").rglob("*"):
        if path.is_file() and path.suffix in {".log", ".json", ".jsonl", ".txt", ".html"}:
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    work = Path(result["work_dir"])
    for path in work.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".html", ".log"}:
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    with published["engine"].connect() as c:
        for row in c.execute(text("SELECT * FROM run")).mappings():
            texts["warehouse run"] = json.dumps({k: str(v) for k, v in row.items()})
        for row in c.execute(text("SELECT * FROM run_attempt")).mappings():
            texts["warehouse run_attempt"] = json.dumps({k: str(v) for k, v in row.items()})
    return texts


_SIXTEEN = re.compile(r"(?<!\d)\d{16}(?!\d)")
_WORDS = re.compile(r"[A-Z']+(?: [A-Z']+){1,4}")


def test_no_personal_data_in_logs_lineage_or_run_records(published):
    ids, names = _sensitive_values(published["landing"], published["truth"])
    texts = _scanned_texts(published)
    assert any("openlineage" in k for k in texts) and any(k.endswith(".log") for k in texts)
    leaks = []
    for where, content in texts.items():
        for found in set(_SIXTEEN.findall(content)) & ids:
            leaks.append((where, found[:4] + "..."))
        upper = content.upper()
        for phrase in set(_WORDS.findall(upper)):
            words = phrase.split(" ")
            for i in range(len(words)):
                for j in range(i + 2, len(words) + 1):
                    if " ".join(words[i:j]) in names:
                        leaks.append((where, "a name"))
    assert not leaks, leaks[:10]


def test_the_scan_would_notice_a_leak(published):
    ids, names = _sensitive_values(published["landing"], published["truth"])
    nik, name = sorted(ids)[0], sorted(names)[0]
    content = f"processing {nik} for {name.title()}"
    assert set(_SIXTEEN.findall(content)) & ids
    assert any(
        " ".join(p.split(" ")[i:j]) in names
        for p in _WORDS.findall(content.upper())
        for i in range(len(p.split(" ")))
        for j in range(i + 2, len(p.split(" ")) + 1)
    )


def test_trace_explains_duplicate_pairs_from_the_run_record():
    """A duplicate pair's waterfall, with the labels, notes and prior of the run's own model description
    (no linkage code imported), and identifiers masked around it."""
    from pipelines.trace import RowTrace, Trace

    model = {
        "prior": 1e-5,
        "dedupe_prior": 2**-20,
        "implied_by": {"desa": [["kk", 2]]},
        "tf_adjusted": {},
        "comparisons": {
            "name": [{"label": "berbeda"}, {"label": "mirip"}, {"label": "hampir sama"}, {"label": "sama"}],
            "kk": [{"label": "berbeda"}, {"label": "mirip"}, {"label": "sama"}],
            "desa": [{"label": "berbeda"}, {"label": "kecamatan sama"}, {"label": "desa sama"}],
        },
    }
    edge = {
        "source_file_a": "a.csv",
        "source_row_a": 1,
        "source_file_b": "b.csv",
        "source_row_b": 2,
        "accepted": True,
        "match_weight": 30.0,
        "match_probability": 0.999,
        "levels": json.dumps({"name": 3, "kk": 2, "desa": 2}),
        "weights": json.dumps({"name": 12.0, "kk": 18.0, "desa": 0.0}),
    }
    row = RowTrace("a.csv", 1, {"outcome": "PUBLISHED"}, duplicates=[edge])
    text_out = format_trace(Trace(QUARTER, {"run_id": "r", "linkage": {"model": model}}, [row]))
    duplicate = text_out.split("  duplicate    b.csv row 2", 1)[1]
    assert "peluang awal (prior)" in duplicate and f"{2**-20:.6g}" in duplicate  # the prior of two rows
    assert "wilayah (desa)" in duplicate and "sudah tercakup oleh nomor KK" in duplicate
    assert "+30.00" in duplicate
