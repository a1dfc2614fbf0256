"""Benchmark: generate one synthetic quarter and report wall time, peak memory and volume.

    .venv/bin/python benchmarks/bench_synth.py                    # 1,000,000 persons in 5203
    .venv/bin/python benchmarks/bench_synth.py --persons 200000 --keep /tmp/landing

Prints one line, e.g.
`bench_synth persons=1000000 rows=357898 files=230 wall=48.9s peak_rss=1.9GB workers_rss=0.3GB out=412MB`.
Peak memory is the main process's; XLSX worker processes are reported separately.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.synth import SynthConfig, generate


def _gb(kilobytes: int) -> str:
    return f"{kilobytes / 1024 / 1024:.1f}GB"  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--kab", action="append", help="kabupaten code (repeatable); default 5203")
    parser.add_argument("--seed", type=int, default=SynthConfig().seed)
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--keep", type=Path, help="write here and keep the files (default: a temporary dir)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    config = SynthConfig(kab_codes=tuple(args.kab or ("5203",)), persons=args.persons, seed=args.seed)

    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        landing = args.keep or Path(tmp)
        start = time.perf_counter()
        summary = generate(landing, args.quarter, config, overwrite=True)
        wall = time.perf_counter() - start
        written = sum(p.stat().st_size for p in (landing / args.quarter).rglob("*") if p.is_file())
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        f"bench_synth persons={summary.persons} families={summary.families} rows={summary.submission_rows} "
        f"files={summary.files} (xlsx={summary.xlsx_files}) wall={wall:.1f}s peak_rss={_gb(main_rss)} "
        f"workers_rss={_gb(workers_rss)} out={written / 1e6:.0f}MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
