"""Why two records were joined or not, with this code's comparisons: `pipelines.waterfall` given the
linkage's own level book. For a published run, `dtks trace` builds the book from the run record instead
(`LevelBook.from_model`), so the labels are those of the code that made the decision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.link.comparisons import COMPARISONS
from pipelines.link.model import IMPLIED_BY, TF_ADJUSTED
from pipelines.waterfall import (
    COMPARISON_TITLES,
    METHOD_TITLES,
    LevelBook,
    Waterfall,
    WaterfallStep,
)
from pipelines.waterfall import render_waterfall as _render
from pipelines.waterfall import waterfall as _waterfall

__all__ = ["BOOK", "COMPARISON_TITLES", "METHOD_TITLES", "Waterfall", "WaterfallStep", "render_waterfall", "waterfall"]

BOOK = LevelBook(
    order=tuple(c.name for c in COMPARISONS),
    labels={c.name: c.levels for c in COMPARISONS},
    implied_by=IMPLIED_BY,
    tf_adjusted=TF_ADJUSTED,
)


def waterfall(decision: Mapping[str, Any], *, prior: float | None = None) -> Waterfall:
    return _waterfall(decision, BOOK, prior=prior)


def render_waterfall(
    decision: Mapping[str, Any], *, prior: float | None = None, model: Mapping[str, Any] | None = None
) -> str:
    """See `pipelines.waterfall.render_waterfall`."""
    return _render(decision, BOOK, prior=prior, model=model)
