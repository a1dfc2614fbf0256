"""How a stage reaches its files: by artefact name, never by path (Dagster's IO manager as the model).

`StageIO` resolves an artefact's pattern from `pipelines.registry` for the stage's partition, refuses an
artefact the stage did not declare (reading as an input, writing as an output), and records every file it
read and wrote; the runner keeps that record in `<run>/io/<stage label>.json`. `resolve` is the same
resolution for the lineage: the datasets a stage declares are, by construction, the files its IO opens,
and tests compare the two on real runs.

A quarter's stage that reads a kabupaten's artefact (`{kab}` in its pattern) reads every partition there is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import registry
from pipelines.registry import Artefact, Stage
from pipelines.workspace import RunContext, read_frame, read_json, write_frame, write_json

IO_DIR = "io"  # per stage run: what it read and wrote


def dataset_name(path: Path | str) -> str:
    """A file's name in the lineage and the IO record: absolute, symbolic links kept (the published reports
    folder is a link that each publication moves: its name stays)."""
    return os.path.abspath(path)


def _matching(ctx: RunContext, artefact: Artefact, kab: str | None, bucket: str | None) -> list[Path]:
    """The artefact's files for a kabupaten and bucket; a part not given (a quarter's stage reading a
    kabupaten's artefact, the province step reading every bucket) matches every one there is."""
    pattern = artefact.pattern.format(kab="*" if kab is None else kab, bucket="*" if bucket is None else bucket)
    if "*" not in pattern:
        return [ctx.root / pattern]
    return sorted(ctx.root.glob(pattern))


def resolve(ctx: RunContext, name: str, kab: str | None = None, bucket: str | None = None) -> list[Path]:
    """The files (or folders) artefact `name` stands for in one partition of a run."""
    artefact = registry.ARTEFACTS[name]
    if artefact.kind == "warehouse":
        return []
    if artefact.kind == "reports":
        return [Path(ctx.reports_dir) / ctx.quarter]
    if name == "landing.quarter":
        return [Path(ctx.landing) / ctx.quarter]
    if name == "landing.files":
        files = read_json(resolve(ctx, "discover.files")[0])
        return [Path(f["path"]) for f in files if kab is None or f["kode_kab"] == kab]
    return _matching(ctx, artefact, kab, bucket)


def partition_of(ctx: RunContext, path: Path, name: str) -> str:
    """The kode_kab (or bucket) a file of a partitioned artefact belongs to: `kab/5203/...` -> `5203`."""
    pattern = Path(registry.ARTEFACTS[name].pattern)
    parts = path.relative_to(ctx.root).parts
    for i, part in enumerate(pattern.parts):
        if "{kab}" in part or "{bucket}" in part:
            return Path(parts[i]).stem if "{bucket}" in part else parts[i]
    return ""


class StageIO:
    """One stage run's access to its artefacts, and the record of what it opened."""

    def __init__(self, ctx: RunContext, stage: Stage, kab: str | None = None) -> None:
        self.ctx = ctx
        self.stage = stage
        self.kab = kab
        self.reads: set[str] = set()
        self.writes: set[str] = set()

    # -- resolution ------------------------------------------------------------------------------------
    def _declared(self, name: str, *, output: bool) -> None:
        declared = self.stage.outputs if output else self.stage.inputs
        if name not in declared:
            side = "output" if output else "input"
            raise KeyError(f"Stage {self.stage.name} does not declare {name} as an {side} (pipelines/registry.py)")

    def _one(self, name: str, bucket: str | None = None) -> Path:
        paths = resolve(self.ctx, name, self.kab, bucket)
        if len(paths) != 1 or "*" in str(paths[0]):
            raise ValueError(f"Artefact {name} is {len(paths)} files here: read them with input_paths")
        return paths[0]

    def input_path(self, name: str) -> Path:
        """The path of an input that a library opens itself; counted as read."""
        self._declared(name, output=False)
        path = self._one(name)
        self.reads.add(dataset_name(path))
        return path

    def output_path(self, name: str, bucket: str | None = None, kab: str | None = None) -> Path:
        """The path of an output that a library writes itself (a folder, a GX result); counted as written.
        `kab`: the partition a quarter's stage writes (the province step's facts, per kabupaten)."""
        self._declared(name, output=True)
        artefact = registry.ARTEFACTS[name]
        pattern = artefact.pattern.format(kab=self.kab if kab is None else kab, bucket=bucket)
        path = self.ctx.root / pattern if artefact.pattern else self._one(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writes.add(dataset_name(path))
        return path

    def input_paths(self, name: str) -> list[Path]:
        """Every file of an input (a quarter's stage reading all kabupaten's partitions)."""
        self._declared(name, output=False)
        paths = resolve(self.ctx, name, self.kab)
        self.reads.update(dataset_name(p) for p in paths)
        return paths

    # -- typed access ----------------------------------------------------------------------------------
    def read_frame(self, name: str, columns: list[str] | None = None, filters: Any = None, **kwargs) -> pd.DataFrame:
        """One file, or every partition's (a quarter's stage reading a kabupaten's artefact), concatenated."""
        paths = self.input_paths(name)
        frames = [
            pd.read_parquet(p, columns=columns, filters=filters, **kwargs)
            if kwargs
            else read_frame(p, columns=columns, filters=filters)
            for p in paths
        ]
        if len(frames) == 1:
            return frames[0]
        return concat_partitions(frames) if frames else pd.DataFrame(columns=columns)

    def read_frames(self, name: str, columns: list[str] | None = None) -> dict[str, pd.DataFrame]:
        """Every file of a partitioned input, by its kode_kab or bucket."""
        return {partition_of(self.ctx, p, name): read_frame(p, columns=columns) for p in self.input_paths(name)}

    def write_frame(self, name: str, frame: pd.DataFrame, bucket: str | None = None, kab: str | None = None) -> Path:
        return write_frame(self.output_path(name, bucket, kab), frame)

    def read_json(self, name: str) -> Any:
        return read_json(self.input_path(name))

    def read_json_each(self, name: str) -> dict[str, Any]:
        """Every partition's document of an input, by kode_kab."""
        return {partition_of(self.ctx, p, name): read_json(p) for p in self.input_paths(name)}

    def read_records(self, name: str) -> list[Any]:
        """A list-valued input (file reports), every partition's concatenated."""
        return [item for doc in self.read_json_each(name).values() for item in doc]

    def write_json(self, name: str, data: Any) -> Path:
        return write_json(self.output_path(name), data)

    def landing_files(self) -> list[dict[str, Any]]:
        """The input files discover listed (of this partition), each counted as read."""
        files = self.read_json("discover.files")
        self._declared("landing.files", output=False)
        mine = [f for f in files if self.kab is None or f["kode_kab"] == self.kab]
        self.reads.update(dataset_name(f["path"]) for f in mine)
        return mine

    # -- the record ------------------------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        return {"stage": self.stage.name, "kab": self.kab, "read": sorted(self.reads), "written": sorted(self.writes)}

    def save(self, label: str) -> None:
        write_json(self.ctx.root / IO_DIR / f"{label}.json", self.record())


def stage_label(stage: str, *args: Any) -> str:
    """The name a stage's run is recorded under: `reports_5203` for one kabupaten's reports."""
    return stage if not args else f"{stage}_{args[0]}"


def concat_partitions(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The partitions' frames as one. An empty partition (a kabupaten without duplicates) types its
    columns by default (float64), and pandas' concat of such an Arrow-backed column with a string one
    yields corrupt strings (NUL bytes that PostgreSQL's COPY refuses): empty frames are left out, and a
    column that is all null in one frame takes the type the others give it."""
    filled = [f for f in frames if len(f)] or frames[:1]
    if len(filled) == 1:
        return filled[0].reset_index(drop=True)
    for column in filled[0].columns:
        typed = [f[column].dtype for f in filled if column in f and f[column].notna().any()]
        if not typed:
            continue
        for i, frame in enumerate(filled):
            if column in frame and frame[column].dtype != typed[0] and not frame[column].notna().any():
                filled[i] = frame.assign(**{column: frame[column].astype(typed[0])})
    return pd.concat(filled, ignore_index=True)
