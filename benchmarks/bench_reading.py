"""Time and peak memory of reading each of issue 10's hostile corpus files, with the reader of a given commit
(the one before issue 10 by default) and with the working tree's: one fresh process per file and version,
its address space capped (a reader that pads to `A1:XFD1048576` must not take the machine down) and a timeout.

    .venv/bin/python benchmarks/bench_reading.py [--before 01cf61b] [--cap-gb 3] [--timeout 120]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "cases"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
cap = int(float(sys.argv[4]) * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from pipelines.ingest import readers
import openpyxl  # imported before the clock starts, as in a running worker
data = open(sys.argv[2], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    table = readers.read_table(data, sys.argv[3])
    outcome = f"read: {len(table.rows)} rows"
except readers.UnreadableFile as exc:
    outcome = f"refused: {exc.code}"
except BaseException as exc:
    outcome = f"CRASH: {type(exc).__name__}"
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "seconds": round(seconds, 3), "peak_mb": round(peak / 1024),
                  "added_mb": round((peak - before) / 1024)}))
"""


def checkout(commit: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", commit, "pipelines"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(code: Path, path: Path, cap_gb: float, timeout: float) -> dict:
    fmt = path.suffix.lstrip(".")
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(code), str(path), fmt, str(cap_gb)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": f"TIMEOUT after {timeout:.0f} s"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"outcome": f"DIED (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="01cf61b")
    parser.add_argument("--cap-gb", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    cases = []
    for expected in sorted(CORPUS.glob("*/expected.json")):
        meta = json.loads(expected.read_text())
        if meta["covers"].startswith("10:"):
            cases.extend(expected.parent / f["input"] for f in meta["files"])
    with tempfile.TemporaryDirectory() as tmp:
        before = checkout(args.before, Path(tmp))
        print(f"| case | size | before ({args.before}) | s | peak MB | after | s | peak MB |")
        print("|---|---|---|---|---|---|---|---|")
        for path in cases:
            old = measure(before, path, args.cap_gb, args.timeout)
            new = measure(ROOT, path, args.cap_gb, args.timeout)
            size = path.stat().st_size
            print(
                f"| {path.parent.name} | {size / 1024:.0f} KB | {old['outcome']} | {old.get('seconds', '')} | "
                f"{old.get('peak_mb', '')} | {new['outcome']} | {new.get('seconds', '')} | {new.get('peak_mb', '')} |"
            )


if __name__ == "__main__":
    main()
