"""Independent, reproducible random streams: one per (seed, stage, kabupaten).

Each stage draws from its own stream, so changing how one stage draws does not shift the others, and the
same seed always gives the same quarter.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, *labels: str) -> np.random.Generator:
    """A numpy Generator for this seed and these labels (labels hashed with CRC32, stable across runs)."""
    entropy = [seed & 0xFFFFFFFF, seed >> 32, *(zlib.crc32(label.encode()) for label in labels)]
    return np.random.default_rng(np.random.SeedSequence(entropy))
