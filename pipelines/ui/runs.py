"""One run's summary as JSON, from the warehouse: the figures of the run's HTML summary
(`pipelines.reports.summary`, counted per kabupaten/kota from the published tables exactly as the reports
stage counts them, then `combine`d), the rejected files with their reasons, the quality gates (and the
kabupaten/kota held back), the time per stage, and the paths of the Data Docs and the published reports.

Counts only, plus file paths and masked messages: no NIK, KK, name or birth date. A run that did not publish
(or whose tables a later run of its quarter replaced) has its attempt's record only.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, Final

import pandas as pd
from sqlalchemy import Engine, select

from pipelines import regions, registry
from pipelines.privacy import mask_text
from pipelines.registry import ARTEFACTS
from pipelines.reports import guidance as g
from pipelines.reports.html_summary import RunInfo
from pipelines.reports.release import MANIFEST
from pipelines.reports.summary import combine, count_kabupaten
from pipelines.warehouse.schema import discrepancy, quarantine, row_outcome, run, run_attempt
from pipelines.workspace import run_slug

SCHEMA: Final = "dtks-run/1"
UNASSIGNED: Final = "0000"  # files in no real kabupaten folder, as the run's summary counts them
JSON_COLUMNS: Final = (
    "config",
    "input_files",
    "counts",
    "validation",
    "linkage",
    "stage_seconds",
    "paths",
    "reports",
    "landing",
    "held_back",
)
# Only the columns the counts read: the tables can hold millions of rows.
_COLUMNS: Final = {
    row_outcome: ("source_file", "source_row", "kode_desa", "outcome", "status_padan"),
    discrepancy: ("source_file", "source_row", "kode_desa", "category"),
    quarantine: ("source_file", "source_row", "reasons"),
}


class RunNotFound(LookupError):
    """No run, published or attempted, has this id in the warehouse."""


def _loads(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def run_record(engine: Engine, run_id: str) -> dict[str, Any]:
    """The run's `run` row (JSON columns decoded), or its `run_attempt` row when it never published."""
    with engine.connect() as connection:
        found = connection.execute(select(run).where(run.c.run_id == run_id)).mappings().first()
        if found is None:
            found = connection.execute(select(run_attempt).where(run_attempt.c.run_id == run_id)).mappings().first()
            if found is None:
                raise RunNotFound(run_id)
            record = {k: _iso(v) for k, v in dict(found).items()}
            record["held_back"] = _loads(record.get("held_back"))
            record["published"] = False
            return {**record, **_attempt_work(record)}
    record = {k: _iso(_loads(v)) for k, v in dict(found).items()}
    record["published"] = True
    return record


def _attempt_work(record: dict[str, Any]) -> dict[str, Any]:
    """For a run that did not publish (its `run_attempt` has no paths): its work directory, where the
    deployment's `DTKS_WORK` puts it (the run's conf may have named another), and the files discover listed
    there, so that its Data Docs and quality gates can still be shown."""
    root = os.environ.get("DTKS_WORK")
    if not root:
        return {}
    work = Path(root) / record["quarter"] / run_slug(record["run_id"])
    if not work.is_dir():
        return {}
    try:
        files = json.loads((work / ARTEFACTS["discover.files"].pattern).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        files = []
    return {"paths": {"work": str(work)}, "input_files": files}


def _frame(engine: Engine, table, run_id: str) -> pd.DataFrame:
    columns = [table.c[name] for name in _COLUMNS[table]]
    with engine.connect() as connection:
        result = connection.execute(select(*columns).where(table.c.run_id == run_id))
        return pd.DataFrame(result.fetchall(), columns=list(_COLUMNS[table]))


class _Cache:
    """The counts of the last few runs asked about. A published run's tables never change: a later run of
    its quarter drops them and marks it SUPERSEDED, which `run_view` reads before asking for counts."""

    def __init__(self, size: int = 8) -> None:
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: tuple[str, str], make: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return copy.deepcopy(self.items[key])
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return copy.deepcopy(value)


_COUNTS = _Cache()


def kabupaten_counts(engine: Engine, record: dict[str, Any]) -> list[dict[str, Any]]:
    """`count_kabupaten` of every kabupaten/kota the run published (held-back ones published no rows and
    have no report), and of the files in no real kabupaten folder, from the run's published tables."""
    return _COUNTS.get((str(engine.url), record["run_id"]), lambda: _count(engine, record))


def _count(engine: Engine, record: dict[str, Any]) -> list[dict[str, Any]]:
    run_id = record["run_id"]
    files = [f for f in record.get("input_files") or [] if f.get("kind") == "submission"]
    held = set(record.get("held_back") or {})
    by_kab: dict[str, list[dict[str, Any]]] = {}
    for f in files:
        kab = str(f.get("kode_kab") or "")
        by_kab.setdefault(kab if regions.is_kabupaten(kab) else UNASSIGNED, []).append(f)
    frames = {table: _frame(engine, table, run_id) for table in _COLUMNS}
    out = []
    for kab in sorted(by_kab):
        if kab in held:
            continue
        names = {f["source_file"] for f in by_kab[kab]}
        of_kab = {table.name: frame[frame["source_file"].isin(names)] for table, frame in frames.items()}
        out.append(count_kabupaten(kab, files=by_kab[kab], **of_kab))
    return out


def data_docs(record: dict[str, Any]) -> dict[str, str]:
    """kode_kab -> the Data Docs index of each kabupaten/kota the run validated (the registry's
    `validate.data_docs`, under the run's work directory), those still on disk."""
    work = (record.get("paths") or {}).get("work")
    if not work:
        return {}
    pattern = ARTEFACTS["validate.data_docs"].pattern
    found = {}
    for index in sorted(Path(work).glob(f"{pattern.format(kab='*')}/index.html")):
        found[index.relative_to(work).parts[1]] = str(index)
    return found


def gates(record: dict[str, Any]) -> dict[str, Any]:
    """Each kabupaten/kota's quality gate, before and after linkage, from the run's work directory (the
    registry's `validate.gate` and `decide.gate`), and the quarter's held-back kabupaten/kota."""
    work = (record.get("paths") or {}).get("work")
    per_kab: dict[str, dict[str, Any]] = {}
    for name in ("validate.gate", "decide.gate"):
        artefact = ARTEFACTS.get(name)
        if not work or artefact is None:
            continue
        for f in sorted(Path(work).glob(artefact.pattern.format(kab="*"))):
            kab = f.relative_to(work).parts[1]
            try:
                gate = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            per_kab.setdefault(kab, {})[name.split(".")[0]] = {
                "passed": bool(gate.get("passed")),
                "problems": [mask_text(str(p)) for p in gate.get("problems") or []],
                "quarter_quarantine_share": gate.get("quarter_quarantine_share"),
            }
    validation = record.get("validation") or {}
    held = record.get("held_back") or {}
    if isinstance(held, list):  # a run_attempt's: the codes only
        held = {key: [] for key in held}
    return {
        "quarter": validation.get("gate") if isinstance(validation, dict) else None,
        "per_kabupaten": per_kab,
        "held_back": {k: [mask_text(str(p)) for p in v] for k, v in held.items()},
    }


def published_reports(record: dict[str, Any]) -> dict[str, Any]:
    """The run's published reports: their directory and the files its manifest lists, relative to it."""
    root = (record.get("paths") or {}).get("reports")
    directory = (record.get("reports") or {}).get("directory")
    if not root or not directory:
        return {"directory": None, "files": []}
    path = Path(root) / directory
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"directory": str(path), "files": []}
    files = manifest.get("files") or {}
    names = sorted(files if isinstance(files, dict) else (f.get("path") for f in files if isinstance(f, dict)))
    return {"directory": str(path), "files": [n for n in names if n]}


def _report_kind(name: str) -> str:
    p = PurePosixPath(name)
    if p.suffix == ".html":
        return "ringkasan"
    if p.parent.name == "desa":
        return "desa"
    return "buku_kerja" if p.name.startswith("laporan_dtks_") else "lainnya"


def mapped_kabupaten(record: dict[str, Any], task_id: str) -> list[str]:
    """The kode_kab of each map index of a kabupaten task of the run, as discover listed them for the DAG
    (`registry.PARTITIONS`: every code with an input file; `registry.WITH_SUBMISSIONS`: every real
    kabupaten/kota with a village file), rebuilt from the run's input files."""
    stage = registry.BY_TASK.get(task_id)
    if stage is None or stage.over != registry.KABUPATEN:
        return []
    files = record.get("input_files") or []
    if stage.each == registry.WITH_SUBMISSIONS:
        codes = {str(f.get("kode_kab")) for f in files if f.get("kind") == "submission"}
        return sorted(k for k in codes if regions.is_kabupaten(k))
    return sorted({str(f["kode_kab"]) for f in files if f.get("kode_kab")})


def task_target(record: dict[str, Any], task_id: str, map_index: int) -> tuple[str, str] | None:
    """What a task's extra link opens: ("data-docs", kode_kab) for the validate task, ("reports", the
    kabupaten's workbook) for the report task; None when there is nothing (yet) to open."""
    codes = mapped_kabupaten(record, task_id)
    if not 0 <= map_index < len(codes):
        return None
    kab = codes[map_index]
    stage = registry.BY_TASK[task_id]
    if stage.name == "validate":
        return ("data-docs", kab) if kab in data_docs(record) else None
    if stage.name == "reports":
        workbooks = [f for f in published_reports(record)["files"] if f.startswith(f"{kab}/laporan_dtks_")]
        return ("reports", workbooks[0]) if workbooks else None
    return None


def run_info(record: dict[str, Any]) -> RunInfo:
    """What the run's HTML summary says about the run, from its warehouse record."""
    files = record.get("input_files") or []
    validation = record.get("validation") or {}
    dukcapil = validation.get("dukcapil") if isinstance(validation, dict) else None
    excluded = (dukcapil or {}).get("excluded") if isinstance(dukcapil, dict) else None
    return RunInfo(
        run_id=record["run_id"],
        quarter=record["quarter"],
        code_version=record.get("code_version") or "",
        started_at=record.get("started_at"),
        stage_seconds={k: v for k, v in (record.get("stage_seconds") or {}).items() if v is not None},
        dukcapil_rows=sum(int(f.get("data_rows") or 0) for f in files if f.get("kind") == "dukcapil"),
        dukcapil_excluded=int(excluded) if isinstance(excluded, int) else None,
        gate=validation.get("gate") if isinstance(validation, dict) else None,
        landing=record.get("landing"),
        held_back=record.get("held_back") or {},
    )


def run_summary(engine: Engine, run_id: str) -> dict[str, Any]:
    """The run as `GET /dtks/api/runs/<run_id>` gives it (contract section 2.2)."""
    return run_view(engine, run_id)[0]


def run_view(engine: Engine, run_id: str) -> tuple[dict[str, Any], RunInfo | None]:
    """The run's summary, and what its HTML summary says about it (None when it has no published figures)."""
    record = run_record(engine, run_id)
    base = {
        "schema": SCHEMA,
        "run_id": record["run_id"],
        "quarter": record["quarter"],
        "status": record["status"],
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "code_version": record.get("code_version"),
    }
    if not record["published"]:
        summary = {
            **base,
            "published": False,
            "failed_stage": record.get("failed_stage"),
            "message": mask_text(str(record.get("message") or "")) or None,
            "gates": gates(record),
            "data_docs": data_docs(record),
        }
        return summary, None
    kabupaten = kabupaten_counts(engine, record) if record["status"] == "PUBLISHED" else []
    total = combine(kabupaten) if kabupaten else None
    stages = record.get("stage_seconds") or {}
    reports = published_reports(record) if record["status"] == "PUBLISHED" else {"directory": None, "files": []}
    summary = {
        **base,
        "published": record["status"] == "PUBLISHED",
        "published_at": record.get("published_at"),
        "counts": total,
        "kabupaten": {k["kode_kab"]: k for k in kabupaten},
        "rejected_files": (total or {}).get("file_problems", []),
        "gates": gates(record),
        "stage_seconds": [
            {"stage": k, "label": g.stage_label(k), "seconds": v} for k, v in stages.items() if v is not None
        ],
        "data_docs": data_docs(record),
        "reports": [{"path": name, "kind": _report_kind(name)} for name in reports["files"]],
    }
    return summary, run_info(record) if total is not None else None
