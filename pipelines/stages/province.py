"""The province step's stages: each kabupaten offers its pieces to hash buckets after its linkage
(`offer`), then the cross-kabupaten facts are found one bucket at a time (`resolve`), so that no task ever
holds the whole province; each kabupaten's `decide` applies the facts to its own decisions. The logic is
`pipelines.province`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.stages.context import pipeline_config, staged

if TYPE_CHECKING:
    from pipelines.stages.io import StageIO


FAMILY_ROUND = "family"  # the second round's facts, beside the buckets


def bucket_name(bucket: int) -> str:
    return f"{bucket:04d}"


@staged("province_offer")
def offer(io: StageIO, kode_kab: str) -> dict[str, Any]:
    from pipelines import province, regions

    kabupaten = {f["kode_kab"] for f in io.read_json("discover.files") if regions.is_kabupaten(f.get("kode_kab") or "")}
    if len(kabupaten) < 2:  # nothing crosses a border: a kabupaten's quarter pays nothing for the province step
        return {"buckets": 0, "rows": 0, "kabupaten_in_quarter": len(kabupaten)}
    rows = io.read_frame("validate.rows")
    persons = io.read_frame("validate.persons")
    decisions = io.read_frame("link.decisions")
    diagnostics = io.read_json("link.diagnostics")  # the kabupaten's model, which the buckets combine
    n_buckets = pipeline_config(io.ctx).province.buckets
    buckets = records = 0
    # Piece by piece: the pieces together hold some nine records per person, more than the kabupaten.
    for bucket, piece in province.offer_pieces(kode_kab, rows, persons, decisions, n_buckets, diagnostics):
        io.write_frame("province_offer.pieces", piece, bucket=bucket_name(bucket))
        buckets, records = buckets + 1, records + len(piece)
    return {"buckets": buckets, "rows": records}


@staged("province")
def resolve(io: StageIO) -> dict[str, Any]:
    """One bucket at a time: the pieces every kabupaten offered to it, in, its facts out; then the second
    round (rows linked by their family's card, `pipelines.province.family`) and each kabupaten's share of
    the facts, so its decide reads only its own."""
    from pipelines import province
    from pipelines.province import family

    config = pipeline_config(io.ctx)
    by_bucket: dict[str, list] = {}
    for path in io.input_paths("province_offer.pieces"):
        by_bucket.setdefault(path.stem, []).append(path)
    first = []
    for bucket, paths in sorted(by_bucket.items()):
        facts = province.resolve([pd.read_parquet(p) for p in paths], config)
        io.write_frame("province.bucket_facts", facts, bucket=bucket)
        first.append(facts)
    facts = pd.concat([f for f in first if len(f)], ignore_index=True) if any(len(f) for f in first) else None
    found = family.cards(facts)
    second = 0
    if len(found):  # every bucket read again for the few records the second round needs, one at a time
        selected = [
            family.select(pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True), found)
            for _, paths in sorted(by_bucket.items())
        ]
        again = family.second_round(selected, config, found)
        io.write_frame("province.bucket_facts", again, bucket=FAMILY_ROUND)
        second = len(again)
        facts = pd.concat([f for f in (facts, again) if f is not None and len(f)], ignore_index=True)
    per_kabupaten = province.split(facts)
    partitions = sorted({f["kode_kab"] for f in io.read_json("discover.files") if f.get("kode_kab")})
    for kab in partitions:  # every partition's decide reads a file, empty when nothing crosses its border
        io.write_frame("province.facts", per_kabupaten.get(kab, pd.DataFrame(columns=["kind", "kode_kab"])), kab=kab)
    return {
        "buckets": len(by_bucket),
        "facts": 0 if facts is None else len(facts),
        "family_cards": len(found),
        "second_round_facts": second,
        "facts_per_kabupaten": {k: len(v) for k, v in per_kabupaten.items()},
    }
