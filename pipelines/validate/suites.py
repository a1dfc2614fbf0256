"""Run a Great Expectations suite stored as JSON in `expectations/` and turn GX's per-row results into
one row per (input row, failed expectation).

Each expectation's `meta` says what a failure means: `category` (a contract category), `field`,
`action` (`quarantine`, `finding`, `exclude` or `warning`) and `message` (Indonesian, for the Dinsos).
GX's own unexpected-index lists say which rows failed. GX is asked for row ids only
(`exclude_unexpected_values`): the unexpected values are personal data, and at a million rows building
and storing lists of them costs more than the checks themselves. The results kept (the JSON file and the
Data Docs) hold counts only.
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
DATA_DOCS_SITE = "dtks_run"
_PERSONAL_RESULT_KEYS = (
    "partial_unexpected_list",
    "unexpected_list",
    "partial_unexpected_index_list",
    "unexpected_index_list",
    "partial_unexpected_counts",
    "unexpected_index_query",
    "unexpected_rows",
    "details",
)
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW_ID],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
}


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


def _exception_messages(info: dict | None) -> list[str]:
    """GX reports an expectation's exception flat, or nested per metric; a raised one must never pass."""
    if not info:
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info["raised_exception"] else []
    return [m for value in info.values() if isinstance(value, dict) for m in _exception_messages(value)]


def _row_ids(result: dict) -> list[int]:
    """GX's unexpected index list as row ids: `[{"row_id": [..]}]` when values are excluded, else one dict
    per row (`[{"row_id": 7, "nik": ...}, ...]`)."""
    ids: list[int] = []
    for entry in result.get("unexpected_index_list") or []:
        value = entry[ROW_ID] if isinstance(entry, dict) else entry
        if isinstance(value, list):
            ids.extend(value)
        else:
            ids.append(value)
    return ids


def strip_personal(result) -> None:
    """Remove everything that names a row or holds a value from a GX suite result, in place."""
    for item in result.results:
        for key in _PERSONAL_RESULT_KEYS:
            (item.result or {}).pop(key, None)


class GxSession:
    """One ephemeral GX context for a run's validations, with the run's Data Docs site.

    Every suite run through it is stored (stripped of row ids and values) in the context's validation
    results store, so `build_data_docs` renders all of them in one site under `docs_dir`.
    """

    def __init__(self, run_name: str, docs_dir: Path | None = None) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        from pipelines.validate.expectations import register

        register()
        self.run_name = run_name
        self.docs_dir = Path(docs_dir) if docs_dir is not None else None
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        if self.docs_dir is not None:
            self.context.add_data_docs_site(
                DATA_DOCS_SITE,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self.docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )

    def run(
        self,
        frame: pd.DataFrame,
        suite_name: str,
        *,
        parameters: dict[str, Any] | None = None,
        results_path: Path | None = None,
    ) -> SuiteRun:
        """Validate `frame` (indexed by a unique integer `row_id`) with the named suite."""
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier

        if frame.index.name != ROW_ID:
            raise ValueError(f"The frame to validate must be indexed by {ROW_ID!r}.")
        suite_dict = load_suite_dict(suite_name)
        suite = gx.ExpectationSuite(**suite_dict)
        if len(suite.expectations) != len(suite_dict["expectations"]):
            # GX logs and drops an expectation it cannot parse; a silently shorter suite must not validate.
            dropped = len(suite_dict["expectations"]) - len(suite.expectations)
            raise ValueError(f"Suite {suite_name}: {dropped} expectation(s) invalid.")
        suite = self.context.suites.add(suite)
        batch = (
            self.context.data_sources.add_pandas(f"{suite_name}_source")
            .add_dataframe_asset(suite_name)
            .add_batch_definition_whole_dataframe("whole")
        )
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        )
        result = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters or {},
            result_format=RESULT_FORMAT,
            run_id=RunIdentifier(run_name=self.run_name),
        )
        run = _suite_run(result, suite_name, self.run_name, len(frame))
        strip_personal(result)
        self._store_stripped(suite_name, result)
        if results_path is not None:
            write_json(results_path, result.to_json_dict())
            run.summary["results_path"] = str(results_path)
        return run

    def _store_stripped(self, suite_name: str, result) -> None:
        """GX stored the full result when it ran; replace it with the stripped one, which Data Docs render."""
        store = self.context.validation_results_store
        for key in store.list_keys():
            suite = getattr(key, "expectation_suite_identifier", None)
            if suite is not None and suite.name == suite_name:
                store.set(key, result)

    def build_data_docs(self) -> str | None:
        """Render the run's Data Docs; the path of their `index.html`, or None without a docs directory."""
        if self.docs_dir is None:
            return None
        self.context.build_data_docs(site_names=[DATA_DOCS_SITE])
        index = self.docs_dir / "index.html"
        return str(index) if index.exists() else None


def _suite_run(result, suite_name: str, run_name: str, rows: int) -> SuiteRun:
    failure_parts: list[pd.DataFrame] = []
    per_expectation = []
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        column = (
            config.kwargs.get("column")
            or config.kwargs.get("column_A")
            or ",".join(config.kwargs.get("column_list") or [])
        )
        label = f"{config.type}:{column}"
        res = dict(item.result or {})
        indices = _row_ids(res)
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
                        "field": meta.get("field", column),
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
        "rows": rows,
        "expectations": per_expectation,
    }
    return SuiteRun(failures, summary)


def run_suite(
    frame: pd.DataFrame,
    suite_name: str,
    *,
    run_name: str,
    parameters: dict[str, Any] | None = None,
    results_path: Path | None = None,
    session: GxSession | None = None,
) -> SuiteRun:
    """Validate `frame` with the named suite, in `session` (or a session of its own, without Data Docs).

    `frame` holds a unique integer `row_id`, as its index or as a column."""
    if frame.index.name != ROW_ID:
        frame = frame.set_index(ROW_ID)
    session = session or GxSession(run_name)
    return session.run(frame, suite_name, parameters=parameters, results_path=results_path)
