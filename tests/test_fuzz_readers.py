"""Fuzzing in CI: 1,100 mutated CSV and XLSX files (tests/fuzz_readers.py, fixed seed) through the readers and
the file-level intake. Each is read or refused with a reason, never an uncaught exception, rows are
conserved, no message echoes a 16-digit value, and the whole loop stays within a memory bound (its peak
resident memory, measured on the subprocess that ran it)."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "fuzz_readers.py"
CASES = 1_100
# The interpreter with pandas, pyarrow and openpyxl loaded is ~250 MB; one file may add a few tens.
MAX_RSS_MB = 1_024


def test_mutated_files_are_read_or_refused_with_a_reason_within_a_memory_bound():
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--cases", str(CASES), "--seed", "10"], capture_output=True, text=True
    )
    out, err = process.stdout, process.stderr
    summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    assert process.returncode == 0, (summary.get("failures"), err[-3000:])
    assert summary["cases"] >= 1_000 and summary["failure_count"] == 0
    assert summary["intake_files"] == CASES
    outcomes = summary["outcomes"]
    assert outcomes["read"] > 0 and sum(outcomes.values()) == CASES
    # Every kind of refusal the readers have was reached by some mutation.
    for code in ("berkas_rusak", "xml_tidak_aman", "isi_xlsx_terlalu_besar", "kompresi_tidak_didukung"):
        assert outcomes.get(f"refused:{code}", 0) > 0, (code, outcomes)
    assert "Unforeseen" not in err, err[-3000:]
    assert summary["peak_rss_mb"] < MAX_RSS_MB, summary["peak_rss_mb"]
