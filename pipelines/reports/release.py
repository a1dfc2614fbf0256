"""The reports directory's quarters, published as one unit with the warehouse.

    <reports>/<quarter>                          a relative symlink: the quarter as published
    <reports>/.runs/<quarter>/<run>.<token>/     one directory per publication attempt, holding
        <kode_kab>/...  ringkasan_<quarter>.html  manifest.json

A publication stages its reports under a name no other run or attempt shares (`prepare`, which writes
`manifest.json` last: the run id and every file's size and SHA-256), then, holding the warehouse's lock and
inside the warehouse's swap transaction, points the quarter's symlink at them with one rename(2) (`switch`)
just before the warehouse commits; if the commit fails the symlink goes back (`undo`). Readers of
`<reports>/<quarter>` see the old reports or the new ones, never a mixture, and the manifest says which run
they belong to, so the pairing with the warehouse's `run` table can be checked.

The one window where the two can disagree is a kill between that rename and the commit (or a commit whose
outcome the client never learnt). Whoever next holds the quarter's lock - the run's `finish` task, the
quarter's next publication - points the symlink back at the run the warehouse published (`reconcile`);
only then are other runs' directories removed (`prune`), so the published run's directory is always there
to go back to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from pipelines.workspace import read_json, run_slug

RUNS: Final = ".runs"
MANIFEST: Final = "manifest.json"

log = logging.getLogger(__name__)


def manifest_of(directory: Path) -> dict[str, Any] | None:
    """The manifest of a staged or published directory; None while it is incomplete (written last)."""
    try:
        return read_json(directory / MANIFEST)
    except (OSError, ValueError):
        return None


def published_dir(root: Path | str, quarter: str) -> Path | None:
    """The directory `<reports>/<quarter>` points at (the directory itself in the layout before symlinks),
    or None when the quarter has no reports."""
    link = Path(root).resolve() / quarter
    if link.is_symlink():
        target = link.resolve()
        return target if target.is_dir() else None
    return link if link.is_dir() else None


def published_run(root: Path | str, quarter: str) -> str | None:
    """The run whose reports `<reports>/<quarter>` shows, from its manifest."""
    directory = published_dir(root, quarter)
    manifest = manifest_of(directory) if directory else None
    return manifest.get("run_id") if manifest else None


def link_or_copy(source: str, target: str) -> str:
    """A hard link where the work and reports directories share a file system (instant, no second copy;
    the reports stage writes new files rather than changing old ones), a copy elsewhere."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReportsRelease:
    """One run's reports for one quarter, published with the warehouse (see the module docstring).

    `build(directory)` fills the staged directory; the publication calls `prepare`, `switch`, `undo`,
    `discard`, `reconcile` and `prune` under the quarter's lock."""

    def __init__(
        self, root: Path | str, quarter: str, run_id: str, build: Callable[[Path], None] | None = None
    ) -> None:
        # Resolved, so that paths built from it compare equal to the symlink's resolved target.
        self.root, self.quarter, self.run_id, self.build = Path(root).resolve(), quarter, run_id, build
        self.token = uuid.uuid4().hex[:8]  # a retried publication of one run stages beside the published one
        self._before_switch: Path | None = None
        self._switched = False

    @property
    def link(self) -> Path:
        return self.root / self.quarter

    @property
    def runs(self) -> Path:
        return self.root / RUNS / self.quarter

    @property
    def staged(self) -> Path:
        return self.runs / f"{run_slug(self.run_id)}.{self.token}"

    def prepare(self) -> dict[str, Any]:
        """Stage the run's reports and seal them with the manifest (every file flushed to disk first, so
        a crash after the warehouse's commit cannot leave the published symlink on half-written files).
        Returns what the warehouse's `run` row records about them."""
        if self.build is None:
            raise ValueError("ReportsRelease.prepare needs a build function")
        started = time.perf_counter()
        self.staged.mkdir(parents=True)
        self.build(self.staged)
        files = []
        for path in sorted(p for p in self.staged.rglob("*") if p.is_file()):
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
                os.fsync(handle.fileno())
            relative = path.relative_to(self.staged).as_posix()
            files.append({"path": relative, "bytes": path.stat().st_size, "sha256": digest.hexdigest()})
        manifest = {
            "run_id": self.run_id,
            "quarter": self.quarter,
            "staged_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        tmp = self.staged / f".{MANIFEST}.tmp"
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.staged / MANIFEST)
        for directory in sorted({p.parent for p in self.staged.rglob("*")} | {self.staged, self.runs}):
            _fsync(directory)
        log.info(
            "Staged %d report files (%.1f MB) in %.2fs",
            len(files),
            sum(f["bytes"] for f in files) / 1e6,
            time.perf_counter() - started,
        )
        return {
            "directory": self.staged.relative_to(self.root).as_posix(),
            "files": len(files),
            "manifest_sha256": hashlib.sha256(data).hexdigest(),
        }

    def switch(self) -> None:
        """Point `<reports>/<quarter>` at the staged reports in one rename (call inside the warehouse's
        swap transaction, just before its commit)."""
        self._adopt_plain_directory()
        self._before_switch = self._target()
        self._point(self.staged)
        self._switched = True

    def undo(self) -> None:
        """The warehouse did not commit: point the quarter back where it pointed before `switch`."""
        if not self._switched:
            return
        if self._before_switch is None:
            self.link.unlink(missing_ok=True)
            _fsync(self.root)
        else:
            self._point(self._before_switch)
        self._switched = False

    def discard(self) -> None:
        """Nothing was published: remove the staged reports."""
        shutil.rmtree(self.staged, ignore_errors=True)

    def reconcile(self, warehouse_run: str | None) -> None:
        """Make `<reports>/<quarter>` show the reports of `warehouse_run`, the run the warehouse publishes
        for the quarter (None: nothing), after a run died between the two; then prune. Call holding the
        quarter's lock."""
        shown = published_run(self.root, self.quarter)
        if shown != warehouse_run:
            if warehouse_run is None:
                if self.link.is_symlink():  # a first publication that never committed
                    log.warning("Quarter %s: reports of run %s removed; the warehouse has none", self.quarter, shown)
                    self.link.unlink()
                    _fsync(self.root)
            else:
                candidates = [d for d in self._run_dirs() if (manifest_of(d) or {}).get("run_id") == warehouse_run]
                if candidates:
                    log.warning(
                        "Quarter %s: the reports directory showed run %s; back to run %s, which the warehouse "
                        "publishes",
                        self.quarter,
                        shown,
                        warehouse_run,
                    )
                    self._point(max(candidates, key=lambda d: d.stat().st_mtime))
                else:
                    log.warning(
                        "Quarter %s: the warehouse publishes run %s, whose reports are not in %s",
                        self.quarter,
                        warehouse_run,
                        self.runs,
                    )
        self.prune()

    def prune(self) -> None:
        """Remove every staged directory of the quarter but the published one, and stray symlinks of
        switches that were killed half-way."""
        shown = published_dir(self.root, self.quarter)
        for directory in self._run_dirs():
            if directory != shown:
                shutil.rmtree(directory, ignore_errors=True)
        for stray in self.root.glob(f".{self.quarter}.*.link"):
            stray.unlink(missing_ok=True)

    def _run_dirs(self) -> list[Path]:
        return sorted(p for p in self.runs.iterdir() if p.is_dir()) if self.runs.is_dir() else []

    def _target(self) -> Path | None:
        return self.link.resolve() if self.link.is_symlink() else None

    def _point(self, directory: Path) -> None:
        """Replace the quarter's symlink by one to `directory` in a single rename(2)."""
        temporary = self.root / f".{self.quarter}.{self.token}.link"
        temporary.unlink(missing_ok=True)
        os.symlink(os.path.relpath(directory, self.root), temporary)
        try:
            os.replace(temporary, self.link)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync(self.root)

    def _adopt_plain_directory(self) -> None:
        """Reports published before this layout sit in a plain `<reports>/<quarter>` directory: move it
        under `.runs` and point the symlink at it (two renames, once per quarter, under the lock)."""
        if self.link.is_symlink() or not self.link.is_dir():
            return
        adopted = self.runs / f"before-symlinks.{self.token}"
        self.runs.mkdir(parents=True, exist_ok=True)
        os.replace(self.link, adopted)
        self._point(adopted)
