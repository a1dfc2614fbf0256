"""Where one run keeps its intermediate files. XCom carries these paths, never the data.

Layout: `<work>/<quarter>/<run>/<stage>/...`, one directory per stage, so a failed run can be inspected
and a re-run never reads another run's files.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def run_slug(run_id: str) -> str:
    """A file-system-safe name for an Airflow run id (`manual__2026-11-23T15:39:28+00:00`)."""
    return _UNSAFE.sub("_", run_id).strip("_")


@dataclass(frozen=True)
class RunContext:
    """Everything a stage needs to know about its run; JSON-serialisable so it travels through XCom. The
    warehouse is named by its Airflow connection id: a task that needs it resolves it when it runs
    (`stages.context.warehouse_url`), so no credential travels with the context."""

    run_id: str
    quarter: str
    landing: str
    warehouse_conn_id: str
    reports_dir: str
    work_dir: str
    config: dict[str, Any]
    code_version: str

    @property
    def root(self) -> Path:
        return Path(self.work_dir) / self.quarter / run_slug(self.run_id)

    def stage_dir(self, stage: str) -> Path:
        path = self.root / stage
        path.mkdir(parents=True, exist_ok=True)
        return path

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunContext:
        return cls(**data)


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_frame(path: Path, frame: pd.DataFrame) -> Path:
    """Parquet, written to a temporary name first so a killed task never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.parquet")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_frame(path: Path, columns: list[str] | None = None, filters: Any = None) -> pd.DataFrame:
    """`filters` (a pyarrow expression) is applied while reading, so rows it drops never become objects."""
    return pd.read_parquet(path, columns=columns, filters=filters)
