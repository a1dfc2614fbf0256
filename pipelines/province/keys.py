"""Partition keys: where a record goes in the province step.

A record (a submission row or a Dukcapil person) is sent to the bucket of each key it has, so two records
that share any key meet in at least one bucket, whatever kabupaten they come from. The keys are made from
the blocking rules (`pipelines.link.blocking.LINK_RULES`), so that every pair the whole quarter's linkage
would compare across a border meets in a bucket: each rule that can meet across a border (not on the
village or kecamatan), but for those whose pairs another key already brings together (`SUBSUMED`) and the
family card, which a row has only once the first round is done (`pipelines.province.family` routes it).
On top, the normalised name with the birth year: a family that moved with a placeholder or swapped birth
date, which the whole quarter meets only within a kecamatan (`name+year+kec`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.link.blocking import LINK_RULES
from pipelines.link.prepare import text_values

_LOCAL = {"desa", "kec"}  # a village or kecamatan never meets across a border
# Rules whose every pair shares another key: the NIK its first 12 digits; the first name and birth date
# the birth date and the name's initial (the first name's first letter).
SUBSUMED = {"nik": "nik_head12", "first+dob": "dob+initial"}
AFTER_FIRST_ROUND = {"kk_family"}

PARTITION_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    *(
        (r.name, r.left_on)
        for r in LINK_RULES
        if r.left_on == r.right_on
        and not _LOCAL & set(r.left_on)
        and r.name not in SUBSUMED
        and r.name not in AFTER_FIRST_ROUND
    ),
    ("name+year", ("name", "year")),
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


def key_hashes(prepared: pd.DataFrame) -> np.ndarray:
    """Each record's partition keys as 64-bit hashes, one column per key (0 where it lacks the key)."""
    out = np.zeros((len(prepared), len(PARTITION_KEYS)), dtype=np.uint64)
    for i, (name, columns) in enumerate(PARTITION_KEYS):
        text, present = _key_text(prepared, name, columns)
        where = np.flatnonzero(present)
        hashed = pd.util.hash_array(text[where].astype(object), categorize=False)
        out[where, i] = np.where(hashed == 0, np.uint64(1), hashed)  # 0 means "no key"
    return out


def bucket_of_each_key(hashes: np.ndarray, n_buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(record positions, buckets) from `key_hashes`: each record once per distinct bucket among its keys."""
    position, column = np.nonzero(hashes)
    pairs = pd.DataFrame(
        {"position": position, "bucket": (hashes[position, column] % np.uint64(n_buckets)).astype(np.int64)}
    )
    pairs = pairs.drop_duplicates().sort_values(["bucket", "position"], kind="stable")
    return pairs["position"].to_numpy(), pairs["bucket"].to_numpy()


def sharing_a_key(hashes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Which records (rows of `hashes`) share at least one partition key with a record of `others`."""
    wanted = np.unique(others[others != 0])
    return np.isin(hashes, wanted).any(axis=1) if len(wanted) else np.zeros(len(hashes), dtype=bool)
