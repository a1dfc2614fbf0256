"""Synthetic quarters: a Dukcapil population, village submissions with realistic errors, and the ground
truth of what the pipeline should find (docs/synthetic-data.md).

    from pipelines.synth import ErrorRates, SynthConfig, SynthSummary, generate
    summary = generate(Path("landing"), "2026Q3", SynthConfig(persons=50_000, seed=7))
"""

from pipelines.synth.config import ERROR_KINDS, ErrorRates, SynthConfig
from pipelines.synth.generator import SynthSummary, generate

__all__ = ["ERROR_KINDS", "ErrorRates", "SynthConfig", "SynthSummary", "generate"]
