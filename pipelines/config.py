"""Run settings: what a provincial data team may tune, with defaults that follow the contract.

Settings come from, in increasing priority: the defaults below, a YAML file named by `DTKS_CONFIG`, and
the `config` object of the DAG run's conf. The effective settings are stored with every run.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.contract import INELIGIBLE_OCCUPATIONS


@dataclass(frozen=True)
class QualityGate:
    """Publication stops when more than these shares of rows are quarantined."""

    max_file_quarantine_share: float = 0.20
    max_quarter_quarantine_share: float = 0.05
    # A file with fewer rows than this is never judged on its own share (one bad row of three is noise).
    min_rows_for_file_share: int = 20


@dataclass(frozen=True)
class LinkSettings:
    """Fellegi-Sunter decision thresholds on the match probability."""

    link_threshold: float = 0.90
    review_threshold: float = 0.50
    em_max_iterations: int = 60
    u_sample_pairs: int = 500_000
    seed: int = 20_260_701


@dataclass(frozen=True)
class PipelineConfig:
    quality_gate: QualityGate = field(default_factory=QualityGate)
    link: LinkSettings = field(default_factory=LinkSettings)
    ineligible_occupations: tuple[str, ...] = INELIGIBLE_OCCUPATIONS
    # Key for person_key pseudonyms. Set DTKS_PERSON_KEY_SECRET in production so keys cannot be reversed
    # by hashing candidate NIKs; the default only suits synthetic data.
    person_key_secret: str = "dtks-demo-not-secret"


def _merge(base: Any, overrides: dict[str, Any]) -> Any:
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if not hasattr(base, name):
            raise ValueError(f"Unknown setting {name!r}; known: {[f.name for f in dataclasses.fields(base)]}")
        current = getattr(base, name)
        if dataclasses.is_dataclass(current):
            changes[name] = _merge(current, value)
        elif isinstance(current, tuple):
            changes[name] = tuple(value)
        else:
            changes[name] = type(current)(value)
    return dataclasses.replace(base, **changes)


def load_config(overrides: dict[str, Any] | None = None) -> PipelineConfig:
    config = PipelineConfig()
    path = os.environ.get("DTKS_CONFIG")
    if path:
        config = _merge(config, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    secret = os.environ.get("DTKS_PERSON_KEY_SECRET")
    if secret:
        config = dataclasses.replace(config, person_key_secret=secret)
    return _merge(config, overrides or {})
