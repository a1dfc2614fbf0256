"""Benchmark: per-kabupaten linkage and the province step (`pipelines.province`) on a generated province.

    .venv/bin/python benchmarks/bench_province.py                                   # 3 kabupaten x 100k persons
    .venv/bin/python benchmarks/bench_province.py --kabupaten 3 --persons 20000 --whole --json out.json

One untimed preparation: generate a province quarter (N kabupaten/kota of Nusa Tenggara Barat and beyond,
P Dukcapil persons each, with families that moved across a border and persons submitted in two
kabupaten), then the pipeline's own ingest and validation, split per kabupaten. Then each step runs in a
fresh worker process, as the DAG's mapped tasks would, so its wall time and peak memory (the worker's peak
RSS) are its own: `link` per kabupaten (on its own extract), `offer` per kabupaten, `resolve` over every
bucket (one after the other in one worker: its peak is the largest bucket's), `apply` per kabupaten.
With `--whole`, the whole quarter's linkage (every row against every extract, today's single task) runs
too, for comparison. The results are graded against the generator's truth like `dtks evaluate`.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_link import _peak_rss_bytes  # this process's own peak (VmHWM)

QUARTER = "2026Q3"
# Kabupaten/kota of Nusa Tenggara Barat, then Bali: codes with villages in `pipelines.regions`.
CODES = ("5203", "5201", "5202", "5204", "5205", "5206", "5207", "5208", "5271", "5272", "5101", "5102", "5103")


def _config():
    from pipelines.config import PipelineConfig

    return PipelineConfig()


# --- workers (one process per step) ---------------------------------------------------------------------


def _write(out: Path, payload: dict[str, Any]) -> None:
    out.write_text(json.dumps({**payload, "peak_rss": _peak_rss_bytes()}, default=str))


def worker_link(work: Path, kab: str, out: Path) -> None:
    from pipelines.link import link_submissions

    rows = pd.read_parquet(work / kab / "rows.parquet")
    persons = pd.read_parquet(work / kab / "persons.parquet")
    gc.collect()
    start = time.perf_counter()
    result = link_submissions(rows[~rows["quarantined"]], persons, _config().link)
    wall = time.perf_counter() - start
    result.rows.to_parquet(work / kab / "decisions.parquet")
    (work / kab / "diagnostics.json").write_text(json.dumps(result.diagnostics, default=str))
    _write(out, {"wall": wall, "rows": len(rows), "persons": len(persons)})


def worker_offer(work: Path, kab: str, out: Path, n_buckets: int) -> None:
    from pipelines.province import offer_pieces

    rows = pd.read_parquet(work / kab / "rows.parquet")
    persons = pd.read_parquet(work / kab / "persons.parquet")
    decisions = pd.read_parquet(work / kab / "decisions.parquet")
    diagnostics = json.loads((work / kab / "diagnostics.json").read_text())
    gc.collect()
    start = time.perf_counter()
    records = offered_rows = 0
    for bucket, piece in offer_pieces(kab, rows, persons, decisions, n_buckets, diagnostics):  # as the task
        target = work / "buckets" / f"{bucket:04d}"
        target.mkdir(parents=True, exist_ok=True)
        piece.to_parquet(target / f"{kab}.parquet")
        records, offered_rows = records + len(piece), offered_rows + int((piece["kind"] == "row").sum())
    wall = time.perf_counter() - start
    _write(out, {"wall": wall, "records": records, "offered_rows": offered_rows})


def worker_resolve(work: Path, out: Path) -> None:
    """Both rounds over every bucket, then each kabupaten's share of the facts (as the province task)."""
    from pipelines.province import family, resolve, split

    config = _config()
    buckets, total, found = {}, 0.0, []
    (work / "facts").mkdir(exist_ok=True)
    directories = sorted((work / "buckets").iterdir())
    for directory in directories:
        pieces = [pd.read_parquet(p) for p in sorted(directory.glob("*.parquet"))]
        gc.collect()
        start = time.perf_counter()
        facts = resolve(pieces, config)
        wall = time.perf_counter() - start
        total += wall
        found.append(facts)
        buckets[directory.name] = {
            "wall": round(wall, 3),
            "rows": int(sum((p["kind"] == "row").sum() for p in pieces)),
            "persons": int(sum((p["kind"] == "person").sum() for p in pieces)),
            "facts": len(facts),
        }
        del pieces, facts
    facts = pd.concat([f for f in found if len(f)], ignore_index=True)
    start = time.perf_counter()
    cards = family.cards(facts)
    selected = [
        family.select(pd.concat([pd.read_parquet(p) for p in sorted(d.glob("*.parquet"))]), cards) for d in directories
    ]
    again = family.second_round(selected, config, cards)
    second = time.perf_counter() - start
    facts = pd.concat([f for f in (facts, again) if len(f)], ignore_index=True)
    start = time.perf_counter()
    for kab, mine in split(facts).items():
        mine.to_parquet(work / "facts" / f"{kab}.parquet")
    split_wall = time.perf_counter() - start
    _write(
        out,
        {
            "wall": total + second + split_wall,
            "first_round": total,
            "second_round": {"wall": second, "cards": len(cards), "facts": len(again)},
            "split": split_wall,
            "buckets": buckets,
            "facts": len(facts),
        },
    )


def worker_apply(work: Path, kab: str, out: Path) -> None:
    from pipelines.province import apply, with_foreign_persons

    decisions = pd.read_parquet(work / kab / "decisions.parquet")
    persons = pd.read_parquet(work / kab / "persons.parquet")
    path = work / "facts" / f"{kab}.parquet"
    facts = pd.read_parquet(path) if path.exists() else None
    gc.collect()
    start = time.perf_counter()
    amended = apply(kab, decisions, facts)
    persons, amended = with_foreign_persons(kab, persons, amended, facts)
    wall = time.perf_counter() - start
    amended.to_parquet(work / kab / "amended.parquet")
    persons.to_parquet(work / kab / "persons_amended.parquet")
    _write(out, {"wall": wall, "facts": 0 if facts is None else len(facts)})


def worker_whole(work: Path, out: Path) -> None:
    from pipelines.link import link_submissions

    rows = pd.read_parquet(work / "whole_rows.parquet")
    persons = pd.read_parquet(work / "whole_persons.parquet")
    gc.collect()
    start = time.perf_counter()
    result = link_submissions(rows[~rows["quarantined"]], persons, _config().link)
    wall = time.perf_counter() - start
    result.rows.to_parquet(work / "whole_decisions.parquet")
    _write(out, {"wall": wall, "rows": len(rows), "persons": len(persons)})


WORKERS = {"link": worker_link, "offer": worker_offer, "resolve": worker_resolve, "apply": worker_apply}


def _spawn(step: str, work: Path, *args: str) -> dict[str, Any]:
    out = work / "results" / f"{step}-{'-'.join(args) or 'all'}.json"
    out.parent.mkdir(exist_ok=True)
    command = [sys.executable, __file__, "--worker", step, "--work", str(work), "--out", str(out), *args]
    subprocess.run(command, check=True)
    return json.loads(out.read_text())


# --- driver ------------------------------------------------------------------------------------------------


def prepare(
    work: Path,
    landing: Path,
    kabupaten: int,
    persons: int,
    seed: int,
    moved: float,
    twice: float,
    rates: dict[str, float] | None = None,
) -> dict:
    """Generate, ingest, validate, split per kabupaten (untimed); writes each kabupaten's inputs to `work`."""
    import datetime as dt

    from pipelines.discover import discover_quarter
    from pipelines.ingest.intake import ingest_dukcapil, ingest_submissions
    from pipelines.province.local import split_quarter
    from pipelines.synth import SynthConfig, generate
    from pipelines.validate import validate_dukcapil, validate_submissions

    codes = CODES[:kabupaten]
    t = time.perf_counter()
    config = SynthConfig(kab_codes=codes, persons=persons * kabupaten, seed=seed, moved_kabupaten_rate=moved)
    config = config.with_rates(**{"duplicate_other_kabupaten": twice, **(rates or {})})
    generate(landing, QUARTER, config, overwrite=True)
    generated = time.perf_counter() - t
    files = discover_quarter(landing, QUARTER)
    raw, reports = ingest_submissions([f for f in files if f.kind == "submission"])
    dukcapil, _ = ingest_dukcapil([f for f in files if f.kind == "dukcapil"])
    validated = validate_submissions(raw, reports, run_name="bench", today=dt.date(2026, 11, 23))
    people = validate_dukcapil(dukcapil, run_name="bench").persons
    validated.rows.to_parquet(work / "whole_rows.parquet")
    people.to_parquet(work / "whole_persons.parquet")
    for code, kab in split_quarter(validated.rows, validated.reasons, people).items():
        (work / code).mkdir(parents=True, exist_ok=True)
        kab.rows.to_parquet(work / code / "rows.parquet")
        kab.reasons.to_parquet(work / code / "reasons.parquet")
        kab.persons.to_parquet(work / code / "persons.parquet")
    return {"codes": list(codes), "rows": len(validated.rows), "persons": len(people), "generate_seconds": generated}


def _decide(rows: pd.DataFrame, reasons: pd.DataFrame, decisions: pd.DataFrame, persons: pd.DataFrame):
    """The decide stage's findings and outcomes (held rows settled first, as it does)."""
    from pipelines.findings import decide_findings
    from pipelines.held import settle_held_rows
    from pipelines.outcomes import decide_outcomes

    config = _config()
    rows, reasons, _ = settle_held_rows(rows, reasons, decisions)
    found, per_row = decide_findings(rows, reasons, decisions, persons, config.ineligible_occupations)
    outcome, _ = decide_outcomes(rows, decisions, per_row, persons, "bench-secret")
    return found, outcome


def grade(work: Path, landing: Path, codes: list[str], whole: bool) -> dict[str, Any]:
    """Findings and outcomes per kabupaten from the amended decisions, scored against the truth, and (with
    `whole`) compared with the whole quarter's, row by row."""
    from pipelines.evaluate import evaluate, load_truth

    findings, outcomes = [], []
    for code in codes:
        found, outcome = _decide(
            pd.read_parquet(work / code / "rows.parquet"),
            pd.read_parquet(work / code / "reasons.parquet"),
            pd.read_parquet(work / code / "amended.parquet"),
            pd.read_parquet(work / code / "persons_amended.parquet"),
        )
        findings.append(found)
        outcomes.append(outcome)
    findings, outcomes = pd.concat(findings), pd.concat(outcomes)
    truth = load_truth(landing, QUARTER)
    out = _scores(evaluate(truth, outcomes, findings))
    if whole:
        rows = pd.read_parquet(work / "whole_rows.parquet")
        reasons = pd.concat([pd.read_parquet(work / c / "reasons.parquet") for c in codes], ignore_index=True)
        whole_findings, whole_outcomes = _decide(
            rows,
            reasons,
            pd.read_parquet(work / "whole_decisions.parquet"),
            pd.read_parquet(work / "whole_persons.parquet"),
        )
        out["whole"] = _scores(evaluate(truth, whole_outcomes, whole_findings))
        key = ["source_file", "source_row", "category"]
        mine, theirs = set(map(tuple, findings[key].to_numpy())), set(map(tuple, whole_findings[key].to_numpy()))
        merged = whole_outcomes.merge(outcomes, on=["source_file", "source_row"], suffixes=("_w", "_p"))
        out["versus_whole"] = {
            "findings_only_whole": len(theirs - mine),
            "findings_only_province": len(mine - theirs),
            "findings_whole": len(theirs),
            "rows_with_another_link": int(
                (merged["nik_dukcapil_w"].fillna("") != merged["nik_dukcapil_p"].fillna("")).sum()
            ),
            "rows_with_another_person_key": int(
                (merged["person_key_w"].fillna("") != merged["person_key_p"].fillna("")).sum()
            ),
            "rows": len(merged),
        }
    return out


def _scores(scores: dict[str, Any]) -> dict[str, Any]:
    categories = {k: v for k, v in scores["categories"].items() if v["support"] or v["predicted"]}
    return {
        "link": scores["link"],
        "duplicates": scores["duplicates"],
        "categories": categories,
        "minimum_precision_recall": min(min(v["precision"], v["recall"]) for v in categories.values()),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_province_"))
    landing = work / "landing"
    work.mkdir(parents=True, exist_ok=True)
    prepared = prepare(
        work,
        landing,
        args.kabupaten,
        args.persons,
        args.seed,
        args.moved_kabupaten_rate,
        args.duplicate_other_kabupaten,
        dict(_rate(r) for r in args.rate),
    )
    codes = prepared["codes"]
    result: dict[str, Any] = {"setup": vars(args) | {"work": str(work)}, "prepared": prepared, "kabupaten": {}}
    for code in codes:
        result["kabupaten"][code] = {"link": _spawn("link", work, code)}
    for code in codes:
        result["kabupaten"][code]["offer"] = _spawn("offer", work, code, str(args.buckets))
    result["resolve"] = _spawn("resolve", work)
    for code in codes:
        result["kabupaten"][code]["apply"] = _spawn("apply", work, code)
    if args.whole:
        result["whole"] = _spawn_whole(work)
    buckets = pd.DataFrame(result["resolve"]["buckets"]).T
    result["buckets"] = {
        "count": len(buckets),
        "records_max": int((buckets["rows"] + buckets["persons"]).max()),
        "records_mean": float((buckets["rows"] + buckets["persons"]).mean()),
        "rows_total": int(buckets["rows"].sum()),
        "persons_total": int(buckets["persons"].sum()),
        "seconds_max": float(buckets["wall"].max()),
    }
    result["stages"] = {
        step: {
            "seconds": sum(result["kabupaten"][c][step]["wall"] for c in codes),
            "peak_rss_max": max(result["kabupaten"][c][step]["peak_rss"] for c in codes),
        }
        for step in ("link", "offer", "apply")
    }
    result["stages"]["resolve"] = {"seconds": result["resolve"]["wall"], "peak_rss_max": result["resolve"]["peak_rss"]}
    result["province_step_seconds"] = sum(result["stages"][s]["seconds"] for s in ("offer", "resolve", "apply"))
    result["scores"] = grade(work, landing, codes, args.whole)
    return result


def _rate(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    return name.strip(), float(value)


def _spawn_whole(work: Path) -> dict[str, Any]:
    out = work / "results" / "whole.json"
    subprocess.run([sys.executable, __file__, "--worker", "whole", "--work", str(work), "--out", str(out)], check=True)
    return json.loads(out.read_text())


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def format_results(r: dict[str, Any]) -> str:
    lines = [
        f"Province of {len(r['prepared']['codes'])} kabupaten: {r['prepared']['persons']:,} Dukcapil persons, "
        f"{r['prepared']['rows']:,} submission rows; {r['buckets']['count']} buckets",
        f"{'kabupaten':<10}{'link s':>9}{'link peak':>12}{'offer s':>9}{'offer peak':>12}"
        f"{'apply s':>9}{'apply peak':>12}",
    ]
    for code, k in r["kabupaten"].items():
        lines.append(
            f"{code:<10}{k['link']['wall']:>9.1f}{_mib(k['link']['peak_rss']):>12}{k['offer']['wall']:>9.1f}"
            f"{_mib(k['offer']['peak_rss']):>12}{k['apply']['wall']:>9.1f}{_mib(k['apply']['peak_rss']):>12}"
        )
    b = r["buckets"]
    lines.append(
        f"resolve: {r['resolve']['wall']:.1f} s over {b['count']} buckets (slowest {b['seconds_max']:.2f} s), "
        f"peak {_mib(r['resolve']['peak_rss'])}; records per bucket max {b['records_max']:,}, "
        f"mean {b['records_mean']:,.0f} ({b['rows_total']:,} row and {b['persons_total']:,} person records)"
    )
    second = r["resolve"]["second_round"]
    lines.append(
        f"  of which first round {r['resolve']['first_round']:.1f} s, second round {second['wall']:.1f} s "
        f"({second['cards']:,} family cards, {second['facts']:,} facts), split per kabupaten "
        f"{r['resolve']['split']:.1f} s"
    )
    lines.append(f"province step (offer + resolve + apply): {r['province_step_seconds']:.1f} s")
    if "whole" in r:
        lines.append(f"whole-quarter linkage: {r['whole']['wall']:.1f} s, peak {_mib(r['whole']['peak_rss'])}")
    s = r["scores"]
    lines.append(
        f"link F1 {s['link']['f1']:.6f}, duplicate F1 {s['duplicates']['f1']:.6f}, "
        f"lowest category precision/recall {s['minimum_precision_recall']:.6f}"
    )
    if "whole" in s:
        w, v = s["whole"], s["versus_whole"]
        lines.append(
            f"whole quarter: link F1 {w['link']['f1']:.6f}, duplicate F1 {w['duplicates']['f1']:.6f}, lowest "
            f"{w['minimum_precision_recall']:.6f}; findings only there {v['findings_only_whole']}, only here "
            f"{v['findings_only_province']} (of {v['findings_whole']:,}); rows linked otherwise "
            f"{v['rows_with_another_link']}, with another person key {v['rows_with_another_person_key']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kabupaten", type=int, default=3)
    parser.add_argument("--persons", type=int, default=100_000, help="Dukcapil persons per kabupaten")
    parser.add_argument("--buckets", type=int, default=64)
    parser.add_argument("--seed", type=int, default=20260701)
    parser.add_argument("--moved-kabupaten-rate", type=float, default=0.02)
    parser.add_argument("--duplicate-other-kabupaten", type=float, default=0.01)
    parser.add_argument(
        "--rate", action="append", default=[], metavar="NAME=VALUE", help="an error rate of `dtks synth`"
    )
    parser.add_argument("--whole", action="store_true", help="also time the whole quarter's linkage")
    parser.add_argument("--work", help="work directory (default: a new temporary one)")
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument("--worker", choices=[*WORKERS, "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        work, out = Path(args.work), Path(args.out)
        if args.worker == "whole":
            worker_whole(work, out)
        elif args.worker == "offer":
            worker_offer(work, args.rest[0], out, int(args.rest[1]))
        else:
            WORKERS[args.worker](work, *args.rest, out) if args.rest else WORKERS[args.worker](work, out)
        return 0
    if args.kabupaten > len(CODES):
        parser.error(f"at most {len(CODES)} kabupaten")
    result = run(args)
    print(format_results(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
