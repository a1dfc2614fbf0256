"""Run a Great Expectations suite stored as JSON in `expectations/` and turn GX's per-row results into
one row per (input row, failed expectation).

Each expectation's `meta` says what a failure means: `category` (a contract category), `field`,
`action` (`quarantine`, `finding`, `exclude` or `warning`) and `message` (Indonesian, for the Dinsos).
GX's own unexpected-index lists say which rows failed; the stored results keep counts only, because
the unexpected values are personal data.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import pipelines
from pipelines.workspace import write_json

log = logging.getLogger(__name__)
ROW_ID = "row_id"
_PERSONAL_RESULT_KEYS = (
    "partial_unexpected_list",
    "unexpected_list",
    "partial_unexpected_index_list",
    "unexpected_index_list",
    "partial_unexpected_counts",
    "unexpected_index_query",
    "details",
)


def expectations_dir() -> Path:
    """`DTKS_EXPECTATIONS_DIR`, or `expectations/` beside the package (a source checkout or the image)."""
    configured = os.environ.get("DTKS_EXPECTATIONS_DIR")
    return Path(configured) if configured else Path(pipelines.__file__).resolve().parent.parent / "expectations"


def load_suite_dict(name: str) -> dict[str, Any]:
    path = expectations_dir() / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class SuiteRun:
    failures: pd.DataFrame  # row_id, expectation, category, field, action, message
    summary: dict[str, Any]  # per expectation: counts, success; overall success; GX run name


def _quiet_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _exception_messages(info: dict | None) -> list[str]:
    """GX reports an expectation's exception flat, or nested per metric; a raised one must never pass."""
    if not info:
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info["raised_exception"] else []
    return [m for value in info.values() if isinstance(value, dict) for m in _exception_messages(value)]


def run_suite(
    frame: pd.DataFrame,
    suite_name: str,
    *,
    run_name: str,
    parameters: dict[str, Any] | None = None,
    results_path: Path | None = None,
) -> SuiteRun:
    """Validate `frame` (which must hold a unique integer `row_id`) with the named suite."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    from pipelines.validate.expectations import register

    register()

    suite_dict = load_suite_dict(suite_name)
    context = _quiet_context()
    suite = gx.ExpectationSuite(**suite_dict)
    if len(suite.expectations) != len(suite_dict["expectations"]):
        # GX logs and drops an expectation it cannot parse; a silently shorter suite must not validate.
        raise ValueError(
            f"Suite {suite_name}: {len(suite_dict['expectations']) - len(suite.expectations)} expectation(s) invalid."
        )
    suite = context.suites.add(suite)
    batch = (
        context.data_sources.add_pandas(f"{suite_name}_source")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("whole")
    )
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
    result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
        run_id=RunIdentifier(run_name=run_name),
    )

    failure_parts: list[pd.DataFrame] = []
    per_expectation = []
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        label = f"{config.type}:{config.kwargs.get('column', '')}"
        res = dict(item.result or {})
        indices = [entry[ROW_ID] for entry in res.get("unexpected_index_list") or []]
        errors = _exception_messages(item.exception_info)
        raised = bool(errors)
        if raised:
            log.error("Expectation %s raised: %s", label, "; ".join(errors))
        if indices:
            failure_parts.append(
                pd.DataFrame(
                    {
                        ROW_ID: pd.Series(indices, dtype="int64"),
                        "expectation": label,
                        "category": meta.get("category"),
                        "field": meta.get("field", config.kwargs.get("column")),
                        "action": meta.get("action", "quarantine"),
                        "message": meta.get("message", label),
                    }
                )
            )
        per_expectation.append(
            {
                "expectation": label,
                "success": bool(item.success),
                "raised_exception": raised,
                "element_count": res.get("element_count"),
                "unexpected_count": res.get("unexpected_count"),
                "missing_count": res.get("missing_count"),
                "action": meta.get("action"),
                "category": meta.get("category"),
            }
        )
    if any(e["raised_exception"] for e in per_expectation):
        raise RuntimeError(f"Suite {suite_name}: an expectation raised an exception; see the log.")

    columns = [ROW_ID, "expectation", "category", "field", "action", "message"]
    failures = pd.concat(failure_parts, ignore_index=True) if failure_parts else pd.DataFrame(columns=columns)
    summary = {
        "suite": suite_name,
        "gx_run_name": run_name,
        "success": bool(result.success),
        "rows": len(frame),
        "expectations": per_expectation,
    }
    if results_path is not None:
        stored = result.to_json_dict()
        for entry in stored.get("results", []):
            for key in _PERSONAL_RESULT_KEYS:
                entry.get("result", {}).pop(key, None)
        write_json(results_path, stored)
        summary["results_path"] = str(results_path)
    return SuiteRun(failures, summary)
