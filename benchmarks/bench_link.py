"""Benchmark: the project's linkage against Splink 5 (DuckDB backend) on the same generated quarter.

    make bench-install                                        # Splink + DuckDB (the `bench` extra)
    .venv/bin/python benchmarks/bench_link.py --persons 100000
    .venv/bin/python benchmarks/bench_link.py --persons 1000000 --repeat 2 --keep /tmp/bench1m
    .venv/bin/python benchmarks/bench_link.py --landing /tmp/L --quarter 2026Q3   # an existing quarter

One shared, untimed preparation: generate the quarter (unless `--landing` is given), then run the
pipeline's own ingest and validate stages. Both linkers then get the same validated rows and Dukcapil
persons, each in a fresh worker process, so that wall time and peak memory (the worker's peak RSS, which
includes DuckDB's memory for Splink) belong to one linker only. Timed: from the two DataFrames in memory
to one Dukcapil NIK (or none) per submission row. Our side is `pipelines.link.link_submissions` (exact
pass, blocking, comparisons, EM, decisions, duplicates); Splink's side includes the same Indonesian name
normalisation and feature preparation (`pipelines.link.prepare`), so both see the same input.

Splink is configured as the issue describes a competent user would: blocking on NIK, birth date +
village, first name + village, KK, last name + birth date, first name + birth date; NameComparison with
term-frequency adjustments, DateOfBirthComparison, Levenshtein on NIK and KK, exact sex and village; the
probability two random records match from a deterministic rule; u from 10M random pairs; m by EM in two
sessions (blocked on NIK, then on name + birth date). A row links to its best candidate with match
probability >= the project's link threshold (0.9, the same for both).

Link F1 is scored like `dtks evaluate`: over non-quarantined rows, a predicted NIK is right when it is the
generator's true NIK. Pair completeness: of the true (row, Dukcapil person) pairs, the share our exact pass
and blocking put among the candidates (and the same for the rows that reach blocking).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import logging
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.config import LinkSettings

if TYPE_CHECKING:
    from pipelines.synth import SynthConfig

SYSTEMS = ("ours", "splink")
SPLINK_BLOCKING = (("nik",), ("dob", "desa"), ("first", "desa"), ("kk",), ("last", "dob"), ("first", "dob"))


# --- shared preparation (untimed) ---------------------------------------------------------------------


def prepare_inputs(landing: Path, quarter: str, work: Path) -> dict[str, Any]:
    """The pipeline's own discover, ingest and validate stages; writes rows, persons and truth to `work`."""
    from pipelines.stages import run_stage, start_run
    from pipelines.warehouse.connection import environment_variable

    # The run checks its warehouse at start; this benchmark never publishes, so a scratch file will do.
    name, value = environment_variable(f"sqlite:///{work / 'warehouse.sqlite'}")
    os.environ[name] = value
    os.environ.setdefault("DTKS_PERSON_KEY_SECRET", secrets.token_hex(16))  # synthetic data: a throw-away key
    run = start_run({"quarter": quarter, "landing": str(landing), "work": str(work / "run")}, "bench_link")
    (kab,) = run["partitions"]  # the benchmark quarter is one kabupaten
    for stage in ("ingest", "validate"):
        run_stage(stage, run, kab)
    validated = next((work / "run").rglob("validate"))
    rows = pd.read_parquet(validated / "rows.parquet")
    rows = rows[~rows["quarantined"]].reset_index(drop=True)
    rows.to_parquet(work / "rows.parquet")
    persons = pd.read_parquet(validated / "persons.parquet")
    persons.to_parquet(work / "persons.parquet")

    truth = pd.read_csv(landing / quarter / "_ground_truth" / "rows.csv", dtype=str, keep_default_na=False)
    truth["source_row"] = truth["source_row"].astype(int)
    truth = rows[["row_id", "source_file", "source_row"]].merge(truth, on=["source_file", "source_row"], how="left")
    truth[["row_id", "true_nik", "person_id"]].to_parquet(work / "truth.parquet")
    return {"rows": len(rows), "persons": len(persons)}


# --- workers (one process per timed run) --------------------------------------------------------------


def _peak_rss_bytes() -> int:
    """This process's own peak RSS. `VmHWM` rather than `ru_maxrss`: Linux carries ru_maxrss across exec, so
    a worker would inherit the peak of the driver that forked it (which may have just validated 1M rows)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def run_ours(rows: pd.DataFrame, persons: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    from pipelines.link import LINK, link_submissions  # imported before the clock starts (see `worker`)

    result = link_submissions(rows, persons, LinkSettings())
    decided = result.rows
    linked = decided["decision"].eq(LINK).to_numpy()
    nik = np.where(linked, persons["NIK"].to_numpy()[decided["person_index"].clip(lower=0).to_numpy()], None)
    predictions = pd.DataFrame({"row_id": decided["row_id"].to_numpy(), "nik": nik})
    extra = {
        "diagnostics": {k: v for k, v in result.diagnostics.items() if k != "model"},
        "pairs": result.pairs,
    }
    return predictions, extra


def _splink_tables(rows: pd.DataFrame, persons: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    from pipelines.link.prepare import prepare_dukcapil, prepare_submissions

    columns = ["nik", "kk", "name", "first", "last", "dob", "sex", "desa"]

    def plain(features: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
        out = pd.DataFrame({"unique_id": ids})
        for c in columns:  # DuckDB gets text (NULL where missing), not pandas categoricals
            values = features[c].astype(object).to_numpy()
            out[c] = np.where(pd.isna(values), None, values)
        return out

    return (
        plain(prepare_submissions(rows), rows["row_id"].to_numpy()),
        plain(prepare_dukcapil(persons), np.arange(len(persons))),
    )


def run_splink(rows: pd.DataFrame, persons: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    left, right = _splink_tables(rows, persons)
    lap("prepare")
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[block_on(*keys) for keys in SPLINK_BLOCKING],
        comparisons=[
            cl.NameComparison("name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.LevenshteinAtThresholds("nik", [1, 2]),
            cl.LevenshteinAtThresholds("kk", [1]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("desa"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(
        [db_api.register(left, table_name="submissions"), db_api.register(right, table_name="dukcapil")],
        settings,
        log_level=logging.WARNING,
    )
    linker.training.estimate_probability_two_random_records_match(["l.nik = r.nik and l.dob = r.dob"], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    lap("u")
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("nik"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name", "dob"))
    lap("em")
    scored = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    lap("predict")

    from_left = scored["source_dataset_l"].eq("submissions").to_numpy()
    row_id = np.where(from_left, scored["unique_id_l"], scored["unique_id_r"]).astype(np.int64)
    person = np.where(from_left, scored["unique_id_r"], scored["unique_id_l"]).astype(np.int64)
    best = (
        pd.DataFrame({"row_id": row_id, "person": person, "p": scored["match_probability"].to_numpy()})
        .sort_values(["row_id", "p", "person"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("row_id")
    )
    best = best[best["p"] >= LinkSettings().link_threshold]
    nik = pd.Series(persons["NIK"].to_numpy()[best["person"].to_numpy()], index=best["row_id"].to_numpy())
    predictions = pd.DataFrame({"row_id": rows["row_id"].to_numpy()})
    predictions["nik"] = predictions["row_id"].map(nik)
    lap("decide")
    return predictions, {"scored_pairs": len(scored), "seconds": seconds}


def worker(system: str, work: Path, out: Path) -> None:
    if system == "ours":  # libraries load before the clock starts, for both linkers
        import pipelines.link  # noqa: F401
    else:
        import splink.comparison_library  # noqa: F401  (Splink and its comparisons, loaded up front)
    rows = pd.read_parquet(work / "rows.parquet")
    persons = pd.read_parquet(work / "persons.parquet")
    gc.collect()
    start = time.perf_counter()
    predictions, extra = (run_ours if system == "ours" else run_splink)(rows, persons)
    wall = time.perf_counter() - start
    peak = _peak_rss_bytes()
    predictions.to_parquet(out / f"{system}_predictions.parquet")
    pairs = extra.pop("pairs", None)
    if pairs is not None:
        pairs.to_parquet(out / f"{system}_pairs.parquet")
    (out / f"{system}.json").write_text(json.dumps({"wall": wall, "peak_rss": peak, **extra}, default=str))


# --- scoring -------------------------------------------------------------------------------------------


def link_f1(predictions: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    m = truth.merge(predictions, on="row_id", how="left")
    true_nik = m["true_nik"].where(m["true_nik"].fillna("") != "")
    predicted = m["nik"].where(m["nik"].notna())
    correct = predicted.notna() & (predicted == true_nik)
    tp, fp, fn = int(correct.sum()), int((predicted.notna() & ~correct).sum()), int((true_nik.notna() & ~correct).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def pair_completeness(pairs: pd.DataFrame, truth: pd.DataFrame, persons_nik: pd.Series) -> dict[str, float]:
    """Share of true (row, person) pairs among our candidates: overall, and among rows that were blocked."""
    position = pd.Series(np.arange(len(persons_nik)), index=persons_nik.to_numpy())
    known = truth[truth["true_nik"].fillna("") != ""]
    true_pairs = pd.DataFrame({"row_id": known["row_id"].to_numpy(), "person_index": known["true_nik"].map(position)})
    true_pairs = true_pairs.dropna().astype(np.int64).reset_index(drop=True)
    found = true_pairs.merge(pairs, on=["row_id", "person_index"], how="left")
    kept = found["source"].notna().to_numpy()
    blocked_rows = pairs.loc[pairs["source"] == "blocking", "row_id"].unique()
    in_blocking = true_pairs["row_id"].isin(blocked_rows).to_numpy() | ~kept
    return {
        "pair_completeness": float(kept.mean()),
        "pair_completeness_blocking": float(kept[in_blocking].mean()) if in_blocking.any() else 1.0,
        "true_pairs": len(true_pairs),
        "true_pairs_blocking": int(in_blocking.sum()),
        "missed": int((~kept).sum()),
    }


# --- driver --------------------------------------------------------------------------------------------


def _spawn(system: str, work: Path, out: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", system, "--work", str(work), "--out", str(out)]
    subprocess.run(command, check=True)
    return json.loads((out / f"{system}.json").read_text())


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


# The error kinds that make linkage harder; unparseable rows and missing fields only feed quarantine.
QUARANTINE_ONLY_KINDS = ("unparseable", "missing_required")


def scaled_rates(config: SynthConfig, factor: float) -> dict[str, float]:
    """Every linkage-relevant error rate of `config` times `factor`."""
    from pipelines.synth.config import ERROR_KINDS

    return {k: getattr(config.rates, k) * factor for k in ERROR_KINDS if k not in QUARANTINE_ONLY_KINDS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000, help="Dukcapil persons to generate")
    parser.add_argument("--landing", type=Path, help="use this existing landing area instead of generating")
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--seed", type=int, help="generator seed (default: the generator's)")
    parser.add_argument("--keep", type=Path, help="work here and keep the files (default: a temporary dir)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per linker; the best is reported")
    parser.add_argument("--only", choices=SYSTEMS, help="run one linker only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--error-scale",
        type=float,
        default=1.0,
        help="multiply every linkage-relevant error rate of the generator (3 = the harder quarter of the docs)",
    )
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.worker:
        worker(args.worker, args.work, args.out)
        return 0

    systems = [args.only] if args.only else list(SYSTEMS)
    if "splink" in systems and importlib.util.find_spec("splink") is None:
        print("Splink is not installed: run `make bench-install` (the optional `bench` extra).", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench_link_") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        landing = args.landing
        if landing is None:
            from pipelines.synth import SynthConfig, generate

            landing = work / "landing"
            config = SynthConfig(persons=args.persons, **({"seed": args.seed} if args.seed else {}))
            if args.error_scale != 1:
                config = config.with_rates(**scaled_rates(config, args.error_scale))
            if not (landing / args.quarter / "_ground_truth").exists():
                generate(landing, args.quarter, config, overwrite=True)
        if not (work / "rows.parquet").exists():
            size = prepare_inputs(landing, args.quarter, work)
        else:
            size = {"rows": len(pd.read_parquet(work / "rows.parquet", columns=["row_id"]))}
        truth = pd.read_parquet(work / "truth.parquet")
        persons_nik = pd.read_parquet(work / "persons.parquet", columns=["NIK"])["NIK"]
        size["persons"] = len(persons_nik)

        results: dict[str, Any] = {"landing": str(landing), "quarter": args.quarter, **size}
        for system in systems:
            runs = []
            for i in range(args.repeat):
                out = work / f"{system}_{i}"
                out.mkdir(exist_ok=True)
                runs.append((_spawn(system, work, out), out))
            best, out = min(runs, key=lambda r: r[0]["wall"])
            predictions = pd.read_parquet(out / f"{system}_predictions.parquet")
            entry = {
                "wall_s": round(best["wall"], 2),
                "walls_s": [round(r[0]["wall"], 2) for r in runs],
                "peak_rss_bytes": max(r[0]["peak_rss"] for r in runs),
                **link_f1(predictions, truth),
            }
            if system == "ours":
                entry.update(pair_completeness(pd.read_parquet(out / "ours_pairs.parquet"), truth, persons_nik))
                d = best["diagnostics"]
                entry.update(
                    {
                        "candidate_pairs": d["candidate_pairs"],
                        "reduction_ratio": d["reduction_ratio"],
                        "rows_blocked": d["rows_blocked"],
                        "seconds": d["seconds"],
                    }
                )
            else:
                entry["scored_pairs"] = best["scored_pairs"]
                entry["seconds"] = best["seconds"]
            results[system] = entry

    print(format_results(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def format_results(r: dict[str, Any]) -> str:
    lines = [f"bench_link: {r['rows']} submission rows against {r['persons']} Dukcapil persons ({r['landing']})"]
    for system in SYSTEMS:
        if system not in r:
            continue
        s = r[system]
        lines.append(
            f"  {system:<7} F1 {s['f1']:.6f} (P {s['precision']:.6f} R {s['recall']:.6f}, fp {s['fp']} fn {s['fn']})"
            f"  wall {s['wall_s']:.1f} s (runs {s['walls_s']})  peak RSS {_gib(s['peak_rss_bytes'])}"
        )
    if "ours" in r:
        o = r["ours"]
        lines.append(
            f"  blocking: pair completeness {o['pair_completeness']:.6f} overall, "
            f"{o['pair_completeness_blocking']:.6f} for the {o['rows_blocked']} rows blocked "
            f"({o['missed']} true pairs missed); {o['candidate_pairs']} candidate pairs, "
            f"reduction ratio {o['reduction_ratio']:.6f}"
        )
        lines.append(f"  our steps (s): {o['seconds']}")
    if "splink" in r:
        lines.append(f"  Splink steps (s): {r['splink']['seconds']}; {r['splink']['scored_pairs']} pairs scored >= 0.5")
    if "ours" in r and "splink" in r:
        o, s = r["ours"], r["splink"]
        lines.append(
            f"  ratio Splink/ours: wall {s['wall_s'] / o['wall_s']:.2f}x, "
            f"peak memory {s['peak_rss_bytes'] / o['peak_rss_bytes']:.2f}x; "
            f"F1 ours - Splink {o['f1'] - s['f1']:+.6f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
