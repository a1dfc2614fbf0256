"""The linkage's vocabulary: what was decided for a submission row, and how it was linked.

Shared by the linker (`pipelines.link`) and the stages that read its output (findings, outcomes), so
that reading a decision does not import the linkage machinery (recordlinkage, several seconds per
Airflow task).
"""

from __future__ import annotations

from typing import Final

# Decision per row.
LINK: Final = "link"  # linked to one Dukcapil person
REVIEW: Final = "review"  # a possible link for a clerk (PERLU_VERIFIKASI)
NONE: Final = "none"  # no Dukcapil person

# How a linked row got its person.
EXACT: Final = "exact"  # the NIK Dukcapil knows, with agreeing identity
PROBABILISTIC: Final = "probabilistic"  # Fellegi-Sunter over blocked candidates
DUPLICATE: Final = "duplicate"  # through a duplicate row that was linked
