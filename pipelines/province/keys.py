"""Partition keys: where a record goes in the province step.

A record (a submission row or a Dukcapil person) is sent to the bucket of each key it has, so two records
that share any key meet in at least one bucket, whatever kabupaten they come from. The keys are the parts
of the blocking rules (`pipelines.link.blocking.LINK_RULES`) that can meet across a border: the NIK's
first 12 and last 10 digits (the NIK itself, or one typo either side), the KK, the normalised name with
the birth year (a placeholder or swapped birth date), and the first name with the birth date (a typo in a
later word of the name). Rules on the village or kecamatan never meet across a border and are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.link.prepare import text_values

PARTITION_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nik12", ("nik_head12",)),
    ("nik10", ("nik_tail10",)),
    ("kk", ("kk_key",)),
    ("name+year", ("name", "year")),
    ("first+dob", ("first", "dob")),
)


def _key_text(prepared: pd.DataFrame, name: str, columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The key as text ("<name>:<values>") and whether the record has it (every part present)."""
    text = np.full(len(prepared), name + ":", dtype=object)
    present = np.ones(len(prepared), dtype=bool)
    for column in columns:
        values = prepared[column]
        if pd.api.types.is_integer_dtype(values.dtype):
            raw = values.to_numpy(np.int64)
            part, has = raw.astype(str).astype(object), raw >= 0
        else:
            part, has = text_values(values)
        text = text + "|" + part
        present &= has
    return text, present


def bucket_of_each_key(prepared: pd.DataFrame, n_buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(record positions, buckets): each record once per distinct bucket among its keys."""
    positions, buckets = [], []
    for name, columns in PARTITION_KEYS:
        text, present = _key_text(prepared, name, columns)
        where = np.flatnonzero(present)
        hashed = pd.util.hash_array(text[where].astype(object), categorize=False)
        positions.append(where)
        buckets.append((hashed % np.uint64(n_buckets)).astype(np.int64))
    pairs = pd.DataFrame({"position": np.concatenate(positions), "bucket": np.concatenate(buckets)})
    pairs = pairs.drop_duplicates().sort_values(["bucket", "position"], kind="stable")
    return pairs["position"].to_numpy(), pairs["bucket"].to_numpy()
