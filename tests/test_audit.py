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
    assert row.input_check == "SHA-256 cocok" and row.input_row
    assert row.outcome["outcome"] == "MERGED_DUPLICATE" and row.published is not None
    assert any(f["category"] == "GANDA" for f in row.findings)
    assert len(row.person_rows) >= 2
    text_out = format_trace(result)
    assert "digabung ke" in text_out and "diterbitkan" in text_out
    # The merge is explained: the comparison with the published row, how they became one person, and
    # the step of the rule that chose the published row.
    kept = (row.outcome["merged_into_file"], row.outcome["merged_into_row"])
    edges = [
        d
        for d in row.duplicates
        if kept in ((d["source_file_a"], d["source_row_a"]), (d["source_file_b"], d["source_row_b"]))
    ]
    assert len(edges) == 1 and edges[0]["accepted"] and edges[0]["basis"] and edges[0]["survivor_rule"]
    assert "yang diterbitkan: baris lain itu, karena" in text_out and "Aturan pemilihan baris" in text_out


def test_every_merged_row_has_its_comparison_with_the_published_row(published):
    """`duplicate_edge` was empty although rows were merged: rows linked to one Dukcapil person were never
    compared with each other. Now every merged row has an edge to the row it was merged into."""
    engine = published["engine"]
    with engine.connect() as c:
        merged = c.execute(
            text(
                "SELECT o.source_file, o.source_row, o.merged_into_file, o.merged_into_row FROM row_outcome o "
                "WHERE o.outcome = 'MERGED_DUPLICATE'"
            )
        ).all()
        edges = c.execute(
            text(
                "SELECT source_file_a, source_row_a, source_file_b, source_row_b, basis, survivor, survivor_rule "
                "FROM duplicate_edge WHERE accepted"
            )
        ).all()
    assert merged
    explained = {}
    for fa, ra, fb, rb, basis, kept, rule in edges:
        published_side = (fa, ra) if kept == "a" else (fb, rb)
        other = (fb, rb) if kept == "a" else (fa, ra)
        explained[other] = (published_side, basis, rule)
    for source_file, source_row, into_file, into_row in merged:
        kept, basis, rule = explained[(source_file, source_row)]
        assert kept == (into_file, into_row) and basis and rule


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
    # Stored as small integer columns (migration 0010), read back as mappings in the linker's order.
    assert chosen[0]["weights"] and set(chosen[0]["levels"]) == set(chosen[0]["weights"]) >= {"nik", "name", "dob"}
    # The Dukcapil side: the extract, its row and SHA-256, and the values the row was matched with.
    citation = row.dukcapil[nik]
    assert citation["source_file"] == f"{QUARTER}/dukcapil/5203.csv" and citation["check"] == "SHA-256 cocok"
    assert citation["values"]["NIK"] == nik and len(citation["sha256"]) == 64
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
    assert "<- DIPILIH" in done.stdout and "[NIK_BERBEDA]" in done.stdout and "Dukcapil: " in done.stdout
    assert "tanggal lahir" in done.stdout and "bobot kecocokan (tanpa prior)" in done.stdout
    assert nik not in done.stdout  # --mask hides identifiers
    assert re.search(r"dijawab dalam \d+\.\d+ detik", done.stderr)
    for english in ("input row", "outcome", "chosen", "probability", "e-0"):
        assert english not in done.stdout, english
    assert re.search(r"peluang \d+(,\d+)?%", done.stdout)  # probabilities as percentages


def _dtks(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "dtks"), *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_trace_takes_the_file_as_the_operator_names_it(published):
    engine = published["engine"]
    source_file, source_row = _one(
        engine, "SELECT source_file, source_row FROM row_outcome WHERE outcome = 'PUBLISHED' LIMIT 1"
    )
    name = source_file.rsplit("/", 1)[1]
    absolute = str(published["landing"] / source_file)
    relative = source_file.split("/", 1)[1]  # submissions/<kab>/<desa>.csv
    for given in (name, absolute, relative, source_file):
        done = _dtks("trace", "--quarter", QUARTER, "--source-file", given, "--source-row", str(source_row),
                     "--warehouse", str(engine.url), "--mask")  # fmt: skip
        assert done.returncode == 0, (given, done.stderr)
        assert f"== Berkas {source_file}, baris {source_row}" in done.stdout
    done = _dtks("trace", "--quarter", QUARTER, "--source-file", "9999999999.csv", "--source-row", "1",
                 "--warehouse", str(engine.url))  # fmt: skip
    assert done.returncode == 2 and "tidak ada di antara" in done.stderr and "Traceback" not in done.stderr


def test_trace_without_a_warehouse_says_what_to_pass(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DTKS_HOME" and not k.startswith("AIRFLOW_CONN_")}
    done = _dtks("trace", "--quarter", QUARTER, "--source-file", "x.csv", "--source-row", "1", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Tidak ada gudang data" in done.stderr and "--warehouse" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no empty SQLite file, no .dtks folder


def test_trace_as_json_for_working_papers(published):
    engine = published["engine"]
    source_file, source_row = _one(
        engine, "SELECT source_file, source_row FROM row_outcome WHERE outcome = 'MERGED_DUPLICATE' LIMIT 1"
    )
    done = _dtks("trace", "--quarter", QUARTER, "--source-file", source_file, "--source-row", str(source_row),
                 "--warehouse", str(engine.url), "--format", "json", "--mask")  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["schema"] == "dtks-trace/1" and document["masked"] is True and document["quarter"] == QUARTER
    row = document["rows"][0]
    assert set(row) >= {
        "source_file", "source_row", "input_file", "input_row", "outcome", "validation", "quarantine",
        "candidates", "duplicates", "findings", "published", "person_rows", "previous_quarter",
    }  # fmt: skip
    assert row["outcome"]["outcome"] == "MERGED_DUPLICATE" and row["duplicates"]
    assert {d["published"] for d in row["duplicates"] if d["same_person"]} <= {"this", "other"}
    assert not _SIXTEEN.findall(done.stdout)  # masked


def test_each_candidate_is_listed_once(published):
    engine = published["engine"]
    with engine.connect() as c:
        twice = c.execute(
            text(
                "SELECT source_file, source_row FROM link_candidate GROUP BY source_file, source_row, candidate_nik "
                "HAVING COUNT(*) > 1 LIMIT 5"
            )
        ).all()
        chosen_twice = c.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT 1 FROM link_candidate WHERE chosen GROUP BY source_file, source_row "
                "HAVING COUNT(*) > 1) t"
            )
        ).scalar()
    assert chosen_twice == 0
    for source_file, source_row in twice:  # exact_rejected, then scored by the probabilistic pass
        out = format_trace(trace(engine, QUARTER, source_file=source_file, source_row=source_row))
        niks = re.findall(r"kandidat \d+: NIK (\d{16})", out)
        assert len(niks) == len(set(niks)), out


def test_trace_says_what_the_person_was_the_previous_quarter(published, tmp_path):
    """A previous published quarter, written into a copy of the warehouse: the person (same person key)
    was AKTIF there; the trace says so and whether the status changed."""
    copy = tmp_path / "warehouse.sqlite"
    shutil.copyfile(published["root"] / "warehouse.sqlite", copy)
    engine = connect(f"sqlite:///{copy}")
    with engine.begin() as c:
        key, status = c.execute(text("SELECT person_key, status_dtks FROM dtks_snapshot LIMIT 1")).first()
        source_file, source_row = c.execute(
            text("SELECT source_file, source_row FROM row_outcome WHERE person_key = :k LIMIT 1"), {"k": key}
        ).first()
        run_row = dict(c.execute(text("SELECT * FROM run WHERE quarter = :q"), {"q": QUARTER}).mappings().first())
        run_row.update(run_id="previous-run", quarter="2026Q2")
        c.execute(
            text(f"INSERT INTO run ({', '.join(run_row)}) VALUES ({', '.join(':' + k for k in run_row)})"), run_row
        )
        snap = dict(c.execute(text("SELECT * FROM dtks_snapshot WHERE person_key = :k"), {"k": key}).mappings().first())
        snap.update(run_id="previous-run", quarter="2026Q2", status_dtks="AKTIF", alasan_nonaktif=None,
                    source_file="2026Q2/submissions/5203/5203012001.csv", source_row=4)  # fmt: skip
        c.execute(
            text(f"INSERT INTO dtks_snapshot ({', '.join(snap)}) VALUES ({', '.join(':' + k for k in snap)})"), snap
        )
    result = trace(engine, QUARTER, source_file=source_file, source_row=source_row, read_input=False)
    previous = result.rows[0].previous
    assert previous["quarter"] == "2026Q2" and previous["found"] and previous["matched_by"] == "person_key"
    out = format_trace(result)
    line = next(x for x in out.splitlines() if x.startswith("  triwulan lalu"))
    assert "Triwulan II 2026 (2026Q2): status DTKS AKTIF" in line and "5203012001.csv baris 4" in line
    assert ("tidak berubah" if status == "AKTIF" else "status berubah") in line


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
        assert "BERUBAH" in row.input_check and row.input_row is None
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
    duplicate = text_out.split("  data ganda        b.csv baris 2", 1)[1]
    assert "peluang awal (prior)" in duplicate and "0,000095%" in duplicate  # the prior of two rows
    assert "wilayah (desa)" in duplicate and "sudah tercakup oleh nomor KK" in duplicate
    assert "+30.00" in duplicate
