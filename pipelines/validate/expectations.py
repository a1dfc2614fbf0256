"""Custom Great Expectations expectations for Indonesian registry data.

Importing this module registers them with GX (its metaclasses do), so a suite JSON in `expectations/`
can name them by type, e.g. `expect_column_values_to_be_valid_nik`.
"""

from __future__ import annotations

from typing import ClassVar

from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from pipelines import nik


class ColumnValuesValidNik(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_nik"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return nik.parse_nik(column)["valid"]


class ColumnValuesValidKk(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_kk"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return nik.parse_kk(column)["valid"]


class ExpectColumnValuesToBeValidNik(ColumnMapExpectation):
    """A NIK's structure: 16 digits, a known province, no 00 region, a real encoded birth date, serial not 0000."""

    map_metric: ClassVar[str] = "column_values.valid_nik"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectColumnValuesToBeValidKk(ColumnMapExpectation):
    """A family-card number's structure: 16 digits, a known province, no 00 region, a real issue date,
    serial not 0000."""

    map_metric: ClassVar[str] = "column_values.valid_kk"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ColumnValuesIsoDateBetween(ColumnMapMetricProvider):
    condition_metric_name = "column_values.iso_date_between"
    condition_value_keys = ("min_value", "max_value")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, min_value, max_value, **kwargs):
        # ISO dates compare correctly as text; values that are not ISO dates are another expectation's job.
        text = column.astype(str)
        iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        return ~iso | ((text >= str(min_value)) & (text <= str(max_value)))


class ExpectColumnValuesToBeIsoDateBetween(ColumnMapExpectation):
    """An ISO date (`YYYY-MM-DD` text) within [min_value, max_value], both ISO dates; a birth date in the
    future or more than 120 years ago is not plausible."""

    min_value: str | dict
    max_value: str | dict
    map_metric: ClassVar[str] = "column_values.iso_date_between"
    success_keys: ClassVar[tuple[str, ...]] = ("min_value", "max_value", "mostly")


class ColumnValuesIsoDate(ColumnMapMetricProvider):
    condition_metric_name = "column_values.iso_date"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        import pandas as pd

        text = column.astype(str)
        shaped = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        return shaped & pd.to_datetime(text.where(shaped), format="%Y-%m-%d", errors="coerce").notna()


class ExpectColumnValuesToBeIsoDate(ColumnMapExpectation):
    """A real calendar date written `YYYY-MM-DD` (`2006-02-30` has the shape but is no date)."""

    map_metric: ClassVar[str] = "column_values.iso_date"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


def register() -> None:
    """The classes above register with GX when this module is imported; callers call this to say so."""
