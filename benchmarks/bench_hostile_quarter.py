"""Issue 10 at kabupaten scale: a quarter holding every damaged input and odd entry beside a good kabupaten
(tests/hostile_landing.py), published on PostgreSQL through `dtks run`, against the good kabupaten alone.

Prints, for both runs: submission rows, files read, landing entries listed, wall time and the peak resident
memory of the run's process tree (GNU time's maximum RSS of `dtks run`, which waits for Airflow's), and
whether the good kabupaten's rows were graded exactly the same (`dtks evaluate` against the generator's
ground truth, with the damaged inputs' rows left out).

    .venv/bin/python benchmarks/bench_hostile_quarter.py --persons 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from pipelines.evaluate import evaluate, load_published, load_truth  # noqa: E402
from pipelines.warehouse import connect  # noqa: E402
from tests import hostile_landing  # noqa: E402

ADMIN = os.environ.get("DTKS_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
QUARTER = hostile_landing.QUARTER


def database(name: str) -> str:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop(name: str) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def dtks_run(landing: Path, url: str, home: Path) -> dict:
    """`dtks run` under GNU time: its result lines, wall time and peak RSS (MiB)."""
    # Synthetic data: a throw-away person-key secret (a run refuses to start without one).
    env = {"DTKS_PERSON_KEY_SECRET": secrets.token_hex(16), **os.environ, "DTKS_HOME": str(home)}
    command = ["/usr/bin/time", "-v", str(ROOT / ".venv" / "bin" / "dtks"), "run", "--landing", str(landing)]
    command += ["--quarter", QUARTER, "--warehouse", url, "--reports", str(home / "reports")]
    # The gate is judged per kabupaten/kota: the corpus's kabupaten is all damaged inputs (27% of its rows
    # quarantined by design); let it through so that every entry is published and accounted for.
    settings = home / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"quality_gate": {"max_quarter_quarantine_share": 0.5}}))
    command += ["--config", str(settings)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"dtks run failed ({done.returncode})")
    return {"wall_seconds": round(wall, 1), "peak_mib": round(int(peak.group(1)) / 1024), "output": done.stdout}


def graded(url: str, truth) -> tuple[dict, dict]:
    engine = connect(url)
    outcome, findings = load_published(engine, QUARTER)
    with engine.connect() as c:
        record = dict(c.execute(text("SELECT input_files, landing FROM dtks.run")).mappings().one())
    engine.dispose()
    findings = findings[findings["source_file"].isin(truth["source_file"])]
    scores = evaluate(truth, outcome, findings)
    files = json.loads(record["input_files"])
    landing = json.loads(record["landing"] or "{}")
    facts = {
        "row_outcome_rows": len(outcome),
        "files_read": len(files),
        "file_statuses": {s: sum(f["status"] == s for f in files) for s in sorted({f["status"] for f in files})},
        "landing_entries_listed": landing.get("unexpected"),
    }
    scores.pop("row_outcome_rows")
    scores.pop("link_errors", None)
    return scores, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--dir", help="work folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--json", help="also write both runs' figures and scores here")
    parser.add_argument("--keep", action="store_true", help="keep both warehouse databases (names printed)")
    args = parser.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="bench-hostile-"))
    token = uuid.uuid4().hex[:8]
    names = {"good": f"dtks_bench_good_{token}", "hostile": f"dtks_bench_hostile_{token}"}
    try:
        started = time.perf_counter()
        good = base / "good" / "landing"
        good_files = hostile_landing.make_good_quarter(good, args.persons)
        hostile = base / "hostile" / "landing"
        shutil.copytree(good, hostile, symlinks=True)
        quarter = hostile_landing.add_hostile_inputs(hostile, good_files)
        print(
            f"Generated in {time.perf_counter() - started:.0f} s: {len(good_files)} good village files, "
            f"{len(quarter.corpus_files)} damaged corpus files, {len(quarter.odd_entries)} odd entries"
        )
        truth = load_truth(good, QUARTER)
        results = {}
        for name, landing in (("good", good), ("hostile", hostile)):
            url = database(names[name])
            run = dtks_run(landing, url, base / name / "home")
            scores, facts = graded(url, truth)
            results[name] = {**run, **facts, "scores": scores}
            print(
                f"{name}: {facts} wall {run['wall_seconds']} s, peak {run['peak_mib']} MiB, "
                f"link F1 {scores['link']['f1']}"
            )
        same = results["good"]["scores"] == results["hostile"]["scores"]
        print(f"good kabupaten graded the same beside the damaged inputs: {same}")
        for name, result in results.items():
            scores = result["scores"]
            print(
                f"{name}: link F1 {scores['link']['f1']}, duplicates F1 {scores['duplicates']['f1']}, "
                f"quarantine F1 {scores['quarantine']['f1']}, lowest category F1 {scores['minimum_category_f1']}"
            )
        if args.json:
            summary = {k: {x: y for x, y in v.items() if x != "output"} for k, v in results.items()}
            Path(args.json).write_text(json.dumps({"persons": args.persons, "same_grading": same, **summary}, indent=2))
    finally:
        for name in names.values():
            if args.keep:
                print(f"kept database {name}")
            else:
                drop(name)
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
