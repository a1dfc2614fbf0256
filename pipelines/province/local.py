"""The province step run in one process, kabupaten after kabupaten and bucket after bucket: what the DAG's
mapped tasks do, for tests and benchmarks (and the reference for wiring them)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipelines.province import family
from pipelines.province.apply import apply, split, with_foreign_persons
from pipelines.province.offer import offer
from pipelines.province.resolve import resolve


@dataclass
class Kabupaten:
    """One kabupaten's validated inputs and, once linked, its decisions."""

    rows: pd.DataFrame  # validate rows.parquet (quarantined rows included)
    reasons: pd.DataFrame
    persons: pd.DataFrame  # validate persons.parquet
    decisions: pd.DataFrame | None = None
    diagnostics: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def split_quarter(rows: pd.DataFrame, reasons: pd.DataFrame, persons: pd.DataFrame) -> dict[str, Kabupaten]:
    """A validated quarter as its kabupaten: rows by their file's kabupaten, persons by their extract."""
    extract = persons["source_file"].str.extract(r"dukcapil/(\d{4})\.csv$")[0]
    out = {}
    for kab in sorted(set(rows["file_kode_kab"]) | set(extract.dropna())):
        mine = rows[rows["file_kode_kab"] == kab]
        out[kab] = Kabupaten(
            rows=mine.reset_index(drop=True),
            reasons=reasons[reasons["row_id"].isin(mine["row_id"])].reset_index(drop=True),
            persons=persons[extract == kab].reset_index(drop=True),
        )
    return out


def link_each(kabupaten: dict[str, Kabupaten], settings: Any) -> None:
    """Per-kabupaten linkage, each on its own extract (the mapped link task)."""
    from pipelines.link import link_submissions

    for kab in kabupaten.values():
        t = time.perf_counter()
        live = kab.rows[~kab.rows["quarantined"]]
        result = link_submissions(live, kab.persons, settings)
        kab.decisions, kab.diagnostics = result.rows, result.diagnostics
        kab.seconds["link"] = time.perf_counter() - t


def province_step(
    kabupaten: dict[str, Kabupaten], config: Any, n_buckets: int
) -> tuple[dict[str, tuple[pd.DataFrame, pd.DataFrame]], dict[str, Any]]:
    """offer per kabupaten, resolve per bucket, apply per kabupaten. Returns, per kabupaten, its amended
    decisions and its persons with the foreign ones appended (what decide reads), and measurements."""
    pieces: dict[int, list[pd.DataFrame]] = defaultdict(list)
    seconds: dict[str, Any] = {"offer": {}, "apply": {}}
    for code, kab in kabupaten.items():
        t = time.perf_counter()
        for bucket, piece in offer(code, kab.rows, kab.persons, kab.decisions, n_buckets, kab.diagnostics).items():
            pieces[bucket].append(piece)
        seconds["offer"][code] = time.perf_counter() - t
    t = time.perf_counter()
    facts_per_bucket, sizes, bucket_seconds = [], {}, {}
    for bucket in sorted(pieces):
        b0 = time.perf_counter()
        sizes[bucket] = {
            "rows": int(sum((p["kind"] == "row").sum() for p in pieces[bucket])),
            "persons": int(sum((p["kind"] == "person").sum() for p in pieces[bucket])),
        }
        facts_per_bucket.append(resolve(pieces[bucket], config))
        bucket_seconds[bucket] = time.perf_counter() - b0
    facts = pd.concat([f for f in facts_per_bucket if len(f)], ignore_index=True) if facts_per_bucket else None
    found = family.cards(facts)
    if len(found):
        selected = [family.select(pd.concat(pieces[b], ignore_index=True), found) for b in pieces]
        again = family.second_round(selected, config, found)
        facts = pd.concat([f for f in (facts, again) if f is not None and len(f)], ignore_index=True)
    seconds["resolve"] = time.perf_counter() - t
    t = time.perf_counter()
    per_kabupaten = split(facts)
    seconds["split"] = time.perf_counter() - t
    out = {}
    for code, kab in kabupaten.items():
        t = time.perf_counter()
        mine = per_kabupaten.get(code)
        decisions = apply(code, kab.decisions, mine)
        out[code] = with_foreign_persons(code, kab.persons, decisions, mine)[::-1]
        seconds["apply"][code] = time.perf_counter() - t
    stats = {
        "seconds": seconds,
        "bucket_sizes": sizes,
        "bucket_seconds": bucket_seconds,
        "facts": 0 if facts is None else len(facts),
        "facts_by_kind": {} if facts is None else facts["kind"].value_counts().to_dict(),
    }
    return out, stats
