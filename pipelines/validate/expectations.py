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
    """A family-card number's structure: 16 digits, a known province, no 00 region, a real issue date, serial not 0000."""

    map_metric: ClassVar[str] = "column_values.valid_kk"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
