"""`generate`: one synthetic quarter under `<landing>/<quarter>/` (contract section 1 layout + ground truth)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
from collections.abc import Generator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines import contract, regions
from pipelines.synth import errors, layout, names, population, province, submissions, truth, writer
from pipelines.synth.config import ERROR_KINDS, SynthConfig
from pipelines.synth.streams import stream

log = logging.getLogger(__name__)
GENERATOR_VERSION = 1
GROUND_TRUTH_DIR = contract.SYNTH_GROUND_TRUTH
_OUTPUT_DIRS = ("submissions", "dukcapil", GROUND_TRUTH_DIR)
XLSX_ROWS_FOR_POOL = 20_000  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class SynthSummary:
    """What `generate` wrote: counts and paths."""

    quarter: str
    persons: int  # Dukcapil persons
    families: int  # Dukcapil families
    deceased: int
    ineligible: int
    moved_families: int
    submitted_persons: int  # Dukcapil persons whose family was submitted
    unknown_persons: int  # submitted persons absent from Dukcapil
    submission_rows: int
    quarantined_rows: int  # expected
    files: int
    csv_files: int
    xlsx_files: int
    injected: Mapping[str, int]  # rows per error kind
    expected: Mapping[str, int]  # rows per expected finding category
    dukcapil_paths: tuple[Path, ...]
    submission_paths: tuple[Path, ...]
    ground_truth_path: Path
    meta_path: Path
    counts_by_kab: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        """The counts only (no paths): what meta.json records."""
        return {
            "persons": self.persons,
            "families": self.families,
            "deceased": self.deceased,
            "ineligible": self.ineligible,
            "moved_families": self.moved_families,
            "submitted_persons": self.submitted_persons,
            "unknown_persons": self.unknown_persons,
            "submission_rows": self.submission_rows,
            "quarantined_rows": self.quarantined_rows,
            "files": self.files,
            "csv_files": self.csv_files,
            "xlsx_files": self.xlsx_files,
            "injected": dict(self.injected),
            "expected": dict(self.expected),
            "by_kab": {k: dict(v) for k, v in self.counts_by_kab.items()},
        }


def quarter_end(quarter: str) -> np.datetime64:
    """The last day of the quarter: the reference date for ages, card dates and deaths."""
    match = contract.QUARTER_PATTERN.match(quarter)
    if not match:
        raise ValueError(f"quarter must look like 2026Q3, got {quarter!r}")
    year, q = int(match["year"]), int(match["q"])
    return np.datetime64(f"{year}-{3 * q:02d}", "M") + np.timedelta64(1, "M") - np.timedelta64(1, "D")


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _prepare(root: Path, overwrite: bool) -> None:
    existing = [root / d for d in _OUTPUT_DIRS if (root / d).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{root} already holds generated data; pass overwrite=True to replace it")
    for directory in existing:
        shutil.rmtree(directory)


def _is_lombok(kode_kab: str) -> bool:
    return names.tradition_mix(kode_kab)[names.SASAK] > 0.3


@dataclass
class _KabResult:
    rows: pd.DataFrame
    styles: list[layout.FileStyle]
    counts: dict[str, int]
    niks: np.ndarray
    paths: list[Path]
    pending: list[Future[None]]


@dataclass
class _KabDraft:
    """One kabupaten before its errors: its population, clean rows and unknown persons."""

    pop: population.Population
    rows: pd.DataFrame | None = None
    unknown: population.Population | None = None


def _populations(config: SynthConfig, ref: np.datetime64) -> dict[str, _KabDraft]:
    """Every kabupaten's Dukcapil population, and the families that moved across a border."""
    drafts = {
        kab: _KabDraft(
            population.build_population(
                stream(config.seed, "population", kab),
                kab,
                n,
                ref,
                deceased_rate=config.deceased_rate,
                ineligible_rate=config.ineligible_rate,
                moved_family_rate=config.moved_family_rate,
            )
        )
        for kab, n in zip(config.kab_codes, _split(config.persons, len(config.kab_codes)), strict=True)
    }
    return drafts


def _clean_rows(config: SynthConfig, ref: np.datetime64, drafts: dict[str, _KabDraft]) -> None:
    """Each kabupaten's clean rows (with the families other kabupaten's extracts list, and the persons
    submitted in two kabupaten, in a province's quarter)."""
    seed, several = config.seed, len(drafts) > 1
    guests: dict[str, list] = {}
    if several and config.moved_kabupaten_rate > 0:
        pops = {kab: d.pop for kab, d in drafts.items()}
        guests = province.move_families(
            stream(seed, "moved_kabupaten"), pops, config.moved_kabupaten_rate, config.moved_kabupaten_same_domicile
        )
    for (kab, draft), n_persons in zip(drafts.items(), _split(config.persons, len(drafts)), strict=True):
        desa = np.array(sorted(regions.desa_of_kabupaten(kab)), dtype=object)
        draft.rows, _, draft.unknown = submissions.build_rows(
            stream(seed, "submissions", kab),
            draft.pop,
            config,
            ref,
            desa,
            n_persons,
            guests.get(kab, []),
            stream(seed, "moved_kabupaten", kab),
        )
    if several and config.rates.duplicate_other_kabupaten > 0:
        rows = province.copy_to_other_kabupaten(
            stream(seed, "duplicate_other_kabupaten"),
            {kab: d.rows for kab, d in drafts.items()},
            config.rates.duplicate_other_kabupaten,
        )
        for kab, draft in drafts.items():
            draft.rows = rows[kab]


def _one_kabupaten(
    landing: Path,
    quarter: str,
    kode_kab: str,
    draft: _KabDraft,
    config: SynthConfig,
    ref: np.datetime64,
    pool: Executor | None,
) -> _KabResult:
    """Errors, layout and files of one kabupaten (XLSX files possibly still being written by `pool`)."""
    seed = config.seed
    pop, rows, unknown = draft.pop, draft.rows, draft.unknown
    errors.inject(
        stream(seed, "errors", kode_kab),
        rows,
        config.rates,
        _is_lombok(kode_kab),
        ref.astype(object),
        stream(seed, "two_errors", kode_kab),
    )
    villages = np.array(sorted(set(rows["kode_desa"])), dtype=object)
    styles = layout.draw_styles(stream(seed, "styles", kode_kab), kode_kab, villages, config.xlsx_share)
    rows = layout.render(stream(seed, "layout", kode_kab), rows, styles, quarter)
    # XLSX files first, so worker processes write them while this one carries on.
    paths, pending = writer.write_submissions(landing, quarter, rows, styles, pool)
    writer.write_dukcapil(landing / quarter / "dukcapil" / f"{kode_kab}.csv", population.dukcapil_extract(pop))
    p, f = pop.persons, pop.families
    known_rows = rows["known"].to_numpy(dtype=bool)
    counts = {
        "persons": len(p),
        "families": len(f),
        "deceased": int((p["death"] != "").sum()),
        "ineligible": int(p["ineligible"].sum()),
        "moved_families": int(f["moved"].sum()),
        "submitted_persons": int(rows.loc[known_rows & (rows["dup"] == 0), "person_id"].nunique()),
        "unknown_persons": 0 if unknown is None else len(unknown.persons),
        "submission_rows": len(rows),
        "files": len(styles),
        "xlsx_files": sum(s.xlsx for s in styles),
    }
    log.info("synth %s: %d persons, %d rows in %d files", kode_kab, len(p), len(rows), len(styles))
    return _KabResult(rows, styles, counts, p["nik"].to_numpy(), paths, pending)


def _ground_truth(results: dict[str, _KabResult], dukcapil_niks: pd.Index, ref: np.datetime64) -> pd.DataFrame:
    """rows.csv content (plus the injected bit mask in `_mask`). Judged over the whole quarter at once: a
    person submitted in two kabupaten is GANDA on each row."""
    rows = pd.concat([r.rows for r in results.values()], ignore_index=True)
    expected = truth.expected_findings(rows, dukcapil_niks, ref.astype(object))
    start = 0
    for result in results.values():
        end = start + len(result.rows)
        result.counts["quarantined_rows"] = int(expected["expected_quarantine"].iloc[start:end].sum())
        start = end
    log.info("synth: ground truth ready")
    return pd.DataFrame(
        {
            "source_file": rows["source_file"],
            "source_row": rows["source_row"],
            "person_id": rows["person_id"],
            "true_nik": rows["t_nik"],
            "expected_quarantine": expected["expected_quarantine"],
            "expected_categories": expected["expected_categories"],
            "injected": errors.injected_labels(rows["injected"].to_numpy()),
            "_mask": rows["injected"].to_numpy(),
        }
    )


def _noop() -> None:
    return None


@contextmanager
def _xlsx_pool(expected_xlsx_rows: float) -> Generator[Executor | None, None, None]:
    """Worker processes for XLSX writing, when there is enough of it to pay for starting them.

    The workers are forked at once, while this process is still small and runs no threads (pyarrow starts
    some later; forking then is unsafe). `fork` also keeps a caller's unguarded `__main__` from being run
    again, which `spawn`/`forkserver` would do.
    """
    workers = min(os.cpu_count() or 1, 4)
    if expected_xlsx_rows < XLSX_ROWS_FOR_POOL or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pool.submit(_noop).result()  # launches every worker now
        yield pool


def generate(landing: Path, quarter: str, config: SynthConfig, *, overwrite: bool = False) -> SynthSummary:
    """Writes one synthetic quarter under `landing/quarter/` and returns what was written.

    Same config, same bytes. Refuses to write over an earlier generated quarter unless `overwrite`.
    """
    landing = Path(landing)
    ref = quarter_end(quarter)
    root = landing / quarter
    _prepare(root, overwrite)

    expected_xlsx_rows = config.persons * config.submitted_share * config.xlsx_share
    submission_paths: list[Path] = []
    futures: list[Future[None]] = []
    with _xlsx_pool(expected_xlsx_rows) as pool:
        drafts = _populations(config, ref)
        _clean_rows(config, ref, drafts)
        results = {
            kab: _one_kabupaten(landing, quarter, kab, draft, config, ref, pool) for kab, draft in drafts.items()
        }
        for result in results.values():
            submission_paths += result.paths
            futures += result.pending
        dukcapil_niks = pd.Index(np.concatenate([r.niks for r in results.values()]))
        gt = _ground_truth(results, dukcapil_niks, ref)  # meanwhile the pool writes XLSX files
        for future in futures:
            future.result()  # re-raises a worker's error
    gt = gt.sort_values(["source_file", "source_row"], kind="mergesort")

    mask = gt["_mask"].to_numpy(dtype=np.int64)
    injected = {k: int(((mask & errors.BIT[k]) != 0).sum()) for k in ERROR_KINDS}
    category_counts = gt["expected_categories"].str.split(";").explode().value_counts()
    expected_counts = {cat: int(category_counts.get(cat, 0)) for cat in contract.CATEGORIES}

    def total(key: str) -> int:
        return sum(r.counts[key] for r in results.values())

    files, xlsx = total("files"), total("xlsx_files")
    summary_without_paths = {
        "quarter": quarter,
        "persons": total("persons"),
        "families": total("families"),
        "deceased": total("deceased"),
        "ineligible": total("ineligible"),
        "moved_families": total("moved_families"),
        "submitted_persons": total("submitted_persons"),
        "unknown_persons": total("unknown_persons"),
        "submission_rows": total("submission_rows"),
        "quarantined_rows": total("quarantined_rows"),
        "files": files,
        "csv_files": files - xlsx,
        "xlsx_files": xlsx,
        "injected": injected,
        "expected": expected_counts,
        "counts_by_kab": {k: r.counts for k, r in results.items()},
    }
    gt_dir = root / GROUND_TRUTH_DIR
    paths = {
        "dukcapil_paths": tuple(landing / quarter / "dukcapil" / f"{k}.csv" for k in config.kab_codes),
        "submission_paths": tuple(sorted(submission_paths)),
        "ground_truth_path": gt_dir / "rows.csv",
        "meta_path": gt_dir / "meta.json",
    }
    summary = SynthSummary(**summary_without_paths, **paths)
    meta = {
        "generator_version": GENERATOR_VERSION,
        "quarter": quarter,
        "reference_date": str(ref),
        "seed": config.seed,
        "config": config.to_dict(),
        "counts": summary.counts(),
    }
    writer.write_ground_truth(gt_dir, gt, meta)
    log.info("synth %s: %d rows, %d files, ground truth written", quarter, summary.submission_rows, files)
    return summary
