"""The province step: the findings that need more than one kabupaten/kota, without loading the province.

Each kabupaten is linked on its own extract first (`pipelines.link.link_submissions`). Then:

1. `offer` (per kabupaten): its rows that another kabupaten may decide otherwise (every row not linked
   exactly) and its Dukcapil persons, each sent to the bucket of every partition key it has
   (`keys.PARTITION_KEYS`: NIK fragments, KK, name and birth year, first name and birth date), so two
   records that share a key meet in one bucket, and a bucket never holds more than its share of keys.
2. `resolve` (per bucket): the bucket's rows linked again against every extract's persons in it and to
   each other, by the same linker, scored by the province's model (the kabupaten's fitted parameters
   combined: `resolve.province_model`); what crosses a border comes out as facts.
3. `apply` (per kabupaten, with every bucket's facts, which concern only the rows that cross a border):
   the kabupaten's decisions amended as the whole quarter's linkage would have made them;
   `with_foreign_persons` then gives the findings the other extracts' persons those decisions name.
"""

from __future__ import annotations

from pipelines.province.apply import apply, chosen_links, split, with_foreign_persons
from pipelines.province.offer import offer, offer_pieces
from pipelines.province.resolve import resolve

__all__ = ["apply", "chosen_links", "offer", "offer_pieces", "resolve", "split", "with_foreign_persons"]
