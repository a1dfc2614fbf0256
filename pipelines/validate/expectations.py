"""Custom Great Expectations expectations for Indonesian registry data.

Importing this module registers them with GX (its metaclasses do), so a suite JSON in `expectations/`
can name them by type, e.g. `expect_column_values_to_be_valid_nik`. Each condition is vectorised
(numpy, Arrow compute): GX evaluates it once per expectation over the whole batch, and the batch can
hold a million rows.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    ColumnPairMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
    column_pair_condition_partial,
    multicolumn_condition_partial,
)

from pipelines import nik, regions
from pipelines.clean import per_value, to_arrow

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _strings(column: pd.Series) -> pa.Array:
    return to_arrow(column)


def _texts(column: pd.Series) -> pd.Series:
    """A column as plain Python strings (object dtype, None for missing), whatever its storage."""
    return pd.Series(to_arrow(column).to_numpy(zero_copy_only=False), index=column.index, dtype=object)


def _parse(values: pd.Series, kind: str) -> pd.DataFrame:
    """`pipelines.nik`'s structure parse, once per distinct value of a categorical; Arrow-backed text keeps
    its string kernels fast at a million rows."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        parsed = _parse(values.cat.categories.to_series().reset_index(drop=True), kind)
        codes = values.cat.codes.to_numpy()
        return parsed.iloc[np.maximum(codes, 0)].set_axis(values.index)
    with pd.option_context("mode.string_storage", "pyarrow"):
        text = pd.Series(pd.arrays.ArrowStringArray(to_arrow(values)), index=values.index)
        return nik.parse_nik(text) if kind == "nik" else nik.parse_kk(text)


def _matches(column: pd.Series, pattern: str) -> np.ndarray:
    return per_value(column, lambda text: pc.match_substring_regex(text, pattern))


def _real_iso_dates(text: pa.Array) -> np.ndarray:
    shaped = pc.fill_null(pc.match_substring_regex(text, _ISO_DATE), False)
    candidates = pc.if_else(shaped, text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidates, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 30 February over to March: a real date prints back as itself.
    printed = pc.strftime(parsed, format="%Y-%m-%d")
    return pc.fill_null(pc.equal(printed, text), False).to_numpy(zero_copy_only=False)


def iso_dates_real(column: pd.Series) -> np.ndarray:
    """True where the value is `YYYY-MM-DD` and a real calendar date (`2006-02-30` is not)."""
    return per_value(column, _real_iso_dates)


def _current_kecamatan(text: pa.Array) -> np.ndarray:
    """Not (16 digits, known province, non-zero kabupaten and kecamatan parts), or a current kecamatan."""
    provinces = pa.array(sorted(regions.province_codes()))
    formed = pc.and_(
        pc.fill_null(pc.match_substring_regex(text, r"^\d{16}$"), False),
        pc.is_in(pc.utf8_slice_codeunits(text, 0, 2), value_set=provinces),
    )
    zero = pc.or_(
        pc.equal(pc.utf8_slice_codeunits(text, 2, 4), "00"), pc.equal(pc.utf8_slice_codeunits(text, 4, 6), "00")
    )
    formed = pc.and_(formed, pc.invert(zero))
    kecamatan = pa.array(sorted(regions.kecamatan_codes()))
    current = pc.is_in(pc.utf8_slice_codeunits(text, 0, 6), value_set=kecamatan)
    return pc.fill_null(pc.or_(pc.invert(formed), current), True).to_numpy(zero_copy_only=False)


class ColumnValuesMatchPattern(ColumnMapMetricProvider):
    condition_metric_name = "column_values.match_pattern"
    condition_value_keys = ("pattern",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, pattern, **kwargs):
        return pd.Series(_matches(column, pattern), index=column.index)


class ExpectColumnValuesToMatchPattern(ColumnMapExpectation):
    """Like `expect_column_values_to_match_regex` (search semantics: anchor with `^...$`), evaluated by
    Arrow's RE2 engine once per distinct value, which a million-row batch needs. RE2 has no
    back-references or look-arounds."""

    pattern: str
    map_metric: ClassVar[str] = "column_values.match_pattern"
    success_keys: ClassVar[tuple[str, ...]] = ("pattern", "mostly")


class ColumnValuesNotMatchPattern(ColumnMapMetricProvider):
    condition_metric_name = "column_values.not_match_pattern"
    condition_value_keys = ("pattern",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, pattern, **kwargs):
        return pd.Series(~_matches(column, pattern), index=column.index)


class ExpectColumnValuesToNotMatchPattern(ColumnMapExpectation):
    """Like `expect_column_values_to_not_match_regex`, evaluated by Arrow's RE2 engine (see
    `expect_column_values_to_match_pattern`)."""

    pattern: str
    map_metric: ClassVar[str] = "column_values.not_match_pattern"
    success_keys: ClassVar[tuple[str, ...]] = ("pattern", "mostly")


class ColumnValuesValidNik(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_nik"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return _parse(column, "nik")["valid"]


class ColumnValuesValidKk(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_kk"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        parsed = _parse(column, "kk")
        return parsed["valid"] | parsed["problem"].isin([nik.EMPTY, nik.NOT_16_DIGITS])


class ColumnValuesCurrentKecamatan(ColumnMapMetricProvider):
    condition_metric_name = "column_values.current_kecamatan"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, **kwargs):
        return pd.Series(per_value(column, _current_kecamatan), index=column.index)


class ExpectColumnValuesToBeValidNik(ColumnMapExpectation):
    """A NIK's structure: 16 digits, a known province, no 00 region, a real encoded birth date, serial not 0000."""

    map_metric: ClassVar[str] = "column_values.valid_nik"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectColumnValuesToBeValidKk(ColumnMapExpectation):
    """A 16-digit family-card number's structure: a known province, no 00 region, a real issue date, serial
    not 0000. Whether it has 16 digits at all is a format check's (a regex), so it is not counted twice."""

    map_metric: ClassVar[str] = "column_values.valid_kk"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectColumnValuesToHaveCurrentKecamatanCode(ColumnMapExpectation):
    """A NIK or KK (16 digits, known province, non-zero region parts) whose first six digits are a current
    Kemendagri kecamatan. A code that no longer exists after a region split (pemekaran) stays on the
    cards issued before it, so this is a warning, never a rejection; malformed values are other checks'."""

    map_metric: ClassVar[str] = "column_values.current_kecamatan"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ColumnValuesIsoDateBetween(ColumnMapMetricProvider):
    condition_metric_name = "column_values.iso_date_between"
    condition_value_keys = ("min_value", "max_value")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, min_value, max_value, **kwargs):
        # ISO dates compare correctly as text; values that are not ISO dates are another expectation's job.
        def plausible(text: pa.Array) -> pa.Array:
            iso = pc.fill_null(pc.match_substring_regex(text, _ISO_DATE), False)
            inside = pc.and_(pc.greater_equal(text, str(min_value)), pc.less_equal(text, str(max_value)))
            return pc.or_(pc.invert(iso), inside)

        return pd.Series(per_value(column, plausible), index=column.index)


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
        return pd.Series(iso_dates_real(column), index=column.index)


class ExpectColumnValuesToBeIsoDate(ColumnMapExpectation):
    """A real calendar date written `YYYY-MM-DD` (`2006-02-30` has the shape but is no date)."""

    map_metric: ClassVar[str] = "column_values.iso_date"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ColumnPairValuesDesaOfKabupaten(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.desa_of_kabupaten"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, **kwargs):
        # Ten-digit codes only: a malformed code is the format check's (one reason, not three).
        desa = _texts(column_A)
        formed = _matches(column_A, r"^\d{10}$")
        known = {code: regions.desa_exists(code) for code in desa[formed].unique()}
        exists = np.array([known.get(code, False) for code in desa], dtype=bool)
        belongs = exists & (desa.str.slice(0, 4) == _texts(column_B)).to_numpy()
        return pd.Series(~formed | belongs, index=column_A.index)


class ExpectColumnPairValuesToBeDesaOfKabupaten(ColumnPairMapExpectation):
    """`column_A` is a Kemendagri desa/kelurahan code (10 digits) of the kabupaten/kota in `column_B`
    (4 digits): the village exists in the official list and belongs to the file's kabupaten."""

    ignore_row_if: Literal["both_values_are_missing", "either_value_is_missing", "neither"] = "either_value_is_missing"
    map_metric: ClassVar[str] = "column_pair_values.desa_of_kabupaten"
    success_keys: ClassVar[tuple[str, ...]] = ("ignore_row_if", "mostly")


class ColumnPairValuesSameDesa(ColumnPairMapMetricProvider):
    condition_metric_name = "column_pair_values.same_desa"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_A",
        "column_B",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )

    @column_pair_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_A, column_B, **kwargs):
        formed = _matches(column_A, r"^\d{10}$")
        same = pc.fill_null(pc.equal(_strings(column_A), _strings(column_B)), False).to_numpy(zero_copy_only=False)
        return pd.Series(~formed | same, index=column_A.index)


class ExpectColumnPairValuesToBeSameDesa(ColumnPairMapExpectation):
    """`column_A` (a row's 10-digit kode_desa) is the village the file is named after (`column_B`);
    malformed codes are the format check's."""

    ignore_row_if: Literal["both_values_are_missing", "either_value_is_missing", "neither"] = "either_value_is_missing"
    map_metric: ClassVar[str] = "column_pair_values.same_desa"
    success_keys: ClassVar[tuple[str, ...]] = ("ignore_row_if", "mostly")


def _date_part(text: pa.Array, start: int, stop: int) -> np.ndarray:
    part = pc.cast(pc.utf8_slice_codeunits(pc.fill_null(text, "0000-00-00"), start, stop), pa.int64(), safe=False)
    return pc.fill_null(part, -1).to_numpy(zero_copy_only=False)


def biodata_disagreement(nik_values: pd.Series, birth: pd.Series, sex: pd.Series) -> pd.DataFrame:
    """Where a structurally valid NIK's encoded birth date (day, month, two-digit year: the century is not
    encoded) or sex disagrees with the row's `tanggal_lahir` (a real ISO date) or `jenis_kelamin` (L/P).

    Returns aligned boolean columns `tanggal_lahir` and `jenis_kelamin`, plus the parsed NIK parts.
    """
    parsed = _parse(nik_values, "nik")
    valid = parsed["valid"].to_numpy(dtype=bool)
    birth_text = _strings(birth)
    birth_known = _real_iso_dates(birth_text)
    text = pc.if_else(pa.array(birth_known), birth_text, pa.scalar("0000-00-00", pa.string()))
    same_date = (
        (_date_part(text, 8, 10) == parsed["day"].fillna(-1).to_numpy(dtype=np.int64))
        & (_date_part(text, 5, 7) == parsed["month"].fillna(-1).to_numpy(dtype=np.int64))
        & (_date_part(text, 2, 4) == parsed["yy"].fillna(-1).to_numpy(dtype=np.int64))
    )
    sex_text = _texts(sex)
    sex_known = sex_text.isin(["L", "P"]).to_numpy()
    sex_agrees = (sex_text.to_numpy() == parsed["sex"].to_numpy()).astype(bool)
    return pd.DataFrame(
        {
            "tanggal_lahir": valid & birth_known & ~same_date,
            "jenis_kelamin": valid & sex_known & ~sex_agrees,
            "day": parsed["day"].to_numpy(),
            "month": parsed["month"].to_numpy(),
            "yy": parsed["yy"].to_numpy(),
            "sex": parsed["sex"].to_numpy(),
        },
        index=nik_values.index,
    )


class MulticolumnValuesNikMatchesBiodata(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.nik_matches_biodata"
    condition_domain_keys = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        nik_column, birth_column, sex_column = column_list.columns
        differs = biodata_disagreement(column_list[nik_column], column_list[birth_column], column_list[sex_column])
        return ~(differs["tanggal_lahir"] | differs["jenis_kelamin"])


class ExpectNikToMatchBirthDateAndSex(MulticolumnMapExpectation):
    """`column_list` = [NIK, birth date, sex]: a structurally valid NIK's encoded day, month and two-digit
    year equal the ISO birth date's, and its sex (day + 40 for women) equals `L`/`P`. Rows whose birth date
    or sex cannot be read, or whose NIK is invalid, are other checks' and pass here."""

    map_metric: ClassVar[str] = "multicolumn_values.nik_matches_biodata"


def register() -> None:
    """The classes above register with GX when this module is imported; callers call this to say so."""
