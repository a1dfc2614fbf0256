"""Reading a file of the landing area without trusting the landing area.

Every input byte the pipeline reads comes through `read_landing_file`: the path is walked one component at
a time from the landing root with `O_NOFOLLOW`, so a symlink anywhere below the root (a desa file pointing
at `/etc/passwd`, a kabupaten folder pointing elsewhere) is refused instead of followed, and only a regular
file is read, never more than `max_bytes` of it. The landing root itself may be a symlink (an operator's
mount point): it is resolved once, by the caller, before anything below it is opened.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipelines.printable import shown

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


class LandingReadError(OSError):
    """A landing entry that must not be read. `code` is the file problem's code, `message` Indonesian."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _refusal(what: str, exc: OSError) -> LandingReadError:
    """Why `what` (a folder or file, shown safely) was not opened, in words a village operator can act on."""
    if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a symlink (EMLINK on FreeBSD)
        return LandingReadError("tautan_simbolik", f"{what} adalah tautan (symlink); tidak diikuti dan tidak dibaca.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return LandingReadError("izin_ditolak", f"{what} tidak dapat dibuka: izin akses ditolak; tidak dibaca.")
    if exc.errno == errno.ENOENT:
        return LandingReadError("berkas_hilang", f"{what} tidak ada lagi (dipindah atau dihapus saat proses berjalan).")
    if exc.errno == errno.ENOTDIR:
        return LandingReadError("bukan_berkas_biasa", f"{what} bukan folder; tidak dibaca.")
    return LandingReadError("bukan_berkas_biasa", f"{what} tidak dapat dibuka ({type(exc).__name__}); tidak dibaca.")


def _is_symlink(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def read_landing_file(landing: Path | str, source_file: str, max_bytes: int) -> bytes:
    """The bytes of `<landing>/<source_file>`, refused when any component below the landing root is a
    symlink or not what it should be (a folder, then a regular file), or when the file is larger than
    `max_bytes`. `source_file` is the contract's relative path with `/` separators."""
    parts = PurePosixPath(source_file).parts
    if not parts or any(p in ("", ".", "..") for p in parts) or PurePosixPath(source_file).is_absolute():
        raise LandingReadError("jalur_tidak_sah", "Jalur berkas tidak sah (mutlak, kosong, atau memuat '..').")
    name = shown(PurePosixPath(source_file).name)
    fd = os.open(Path(landing), _DIR_FLAGS & ~os.O_NOFOLLOW)  # the root may be a mount-point symlink
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ENOTDIR and _is_symlink(part, fd):  # what Linux says for a symlink
                    exc = OSError(errno.ELOOP, "symlink")
                raise _refusal(f"Folder {shown(part)} pada jalur {shown(source_file)}", exc) from exc
            os.close(fd)
            fd = child
        try:
            # Checked before opening, so a device node is never opened (opening one can act, e.g. rewind
            # a tape); a swap after this check meets O_NOFOLLOW and the S_ISREG check below.
            mode = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                raise OSError(errno.ELOOP, "symlink")
            if not stat.S_ISREG(mode):
                raise LandingReadError(
                    "bukan_berkas_biasa", f"{name} bukan berkas biasa (folder, pipa, atau perangkat); tidak dibaca."
                )
            file_fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
        except LandingReadError:
            raise
        except OSError as exc:
            raise _refusal(f"Berkas {name}", exc) from exc
    finally:
        os.close(fd)
    try:
        info = os.fstat(file_fd)
        if not stat.S_ISREG(info.st_mode):
            raise LandingReadError(
                "bukan_berkas_biasa", f"{name} bukan berkas biasa (pipa atau perangkat); tidak dibaca."
            )
        if info.st_size > max_bytes:
            raise LandingReadError(
                "berkas_terlalu_besar",
                f"Berkas {name} berukuran {info.st_size / 1e6:.1f} MB, melebihi batas {max_bytes / 1e6:.1f} MB.",
            )
        chunks, remaining = [], max_bytes + 1
        while remaining > 0:
            chunk = os.read(file_fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:  # grew while being read
            raise LandingReadError(
                "berkas_terlalu_besar", f"Berkas {name} melebihi batas {max_bytes / 1e6:.1f} MB saat dibaca."
            )
        return data
    finally:
        os.close(file_fd)


# Entry types of the walk: what `lstat` says, never what a symlink points at.
FILE, FOLDER, SYMLINK, FIFO, SOCKET, DEVICE, UNKNOWN = "file", "folder", "symlink", "fifo", "socket", "device", "?"
UNOPENED = "unopened"  # a folder that could not be opened or listed (permissions, vanished, swapped)
_TYPES = ((stat.S_ISFIFO, FIFO), (stat.S_ISSOCK, SOCKET), (stat.S_ISCHR, DEVICE), (stat.S_ISBLK, DEVICE))


@dataclass(frozen=True)
class TreeEntry:
    """One directory entry below the walk's root. `parts` are the raw names from the root down (str, with
    undecodable bytes kept as surrogates by `os.fsdecode`)."""

    parts: tuple[str, ...]
    type: str
    target: str | None = None  # a symlink's target, as stored (never followed)
    error: str | None = None  # why an UNOPENED folder could not be listed (errno name)

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def depth(self) -> int:
        return len(self.parts)


def _never(parts: tuple[str, ...]) -> bool:
    return False


@dataclass
class TreeWalk:
    """Lists a folder tree without following any symlink and without trusting its size or depth.

    Folders are opened one at a time relative to their parent's descriptor with `O_NOFOLLOW` (as
    `read_landing_file` opens files), so a folder swapped for a symlink while the walk runs is refused, not
    followed. Folders deeper than `max_depth` below the root are never opened.

    At most `max_entries` entries are examined (made into a `TreeEntry` and visited); past that budget an
    entry is only counted (`not_examined`), unless `wanted(parts)` says it may be an expected input: those
    are always examined, and visited first in their folder, so that no amount of junk beside them (or sorted
    before them) can hide them. `wanted` must accept only a bounded set of names. Each folder's entries are
    sorted (wanted first, then by name), so the order is the same on every file system. Memory stays in
    proportion to `max_entries` (plus the wanted entries) and open descriptors to `max_depth`.
    """

    max_depth: int
    max_entries: int
    wanted: Callable[[tuple[str, ...]], bool] = _never
    seen: int = 0  # entries examined
    not_examined: int = 0  # entries counted past the budget

    @property
    def stopped(self) -> bool:
        return self.not_examined > 0

    def walk(self, landing: Path | str, folder: str, visit: Callable[[TreeEntry], bool]) -> None:
        """Calls `visit` on every examined entry below `<landing>/<folder>` (depth first); a folder is walked
        when `visit` returns True for it and it is no deeper than `max_depth`. `landing` may be a symlink
        (an operator's mount point); `folder` and everything below it are never followed. Raises OSError
        when `folder` cannot be opened or listed."""
        top = os.open(Path(landing), _DIR_FLAGS & ~os.O_NOFOLLOW)
        try:
            fd = os.open(folder, _DIR_FLAGS, dir_fd=top)
        finally:
            os.close(top)
        try:
            self._walk(fd, (), visit)
        finally:
            os.close(fd)

    def _walk(self, fd: int, parts: tuple[str, ...], visit: Callable[[TreeEntry], bool]) -> None:
        try:
            entries = self._list(fd, parts)
        except OSError as exc:
            if not parts:
                raise
            visit(TreeEntry(parts, UNOPENED, error=errno.errorcode.get(exc.errno or 0, type(exc).__name__)))
            return
        for entry in entries:
            if not visit(entry) or entry.type != FOLDER or entry.depth > self.max_depth:
                continue
            try:
                child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                code = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
                visit(TreeEntry(entry.parts, UNOPENED, error=code))
                continue
            try:
                self._walk(child, entry.parts, visit)
            finally:
                os.close(child)

    def _list(self, fd: int, parts: tuple[str, ...]) -> list[TreeEntry]:
        entries: list[tuple[bool, TreeEntry]] = []
        with os.scandir(fd) as listing:
            for item in listing:
                wanted = self.wanted((*parts, item.name))
                if self.seen >= self.max_entries and not wanted:
                    self.not_examined += 1
                    continue
                self.seen += 1
                entries.append((not wanted, self._entry(fd, parts, item)))
        entries.sort(key=lambda e: (e[0], e[1].name))
        return [entry for _, entry in entries]

    @staticmethod
    def _entry(fd: int, parts: tuple[str, ...], item: os.DirEntry) -> TreeEntry:
        path = (*parts, item.name)
        try:
            if item.is_symlink():
                try:
                    target: str | None = os.readlink(item.name, dir_fd=fd)
                except OSError:
                    target = None
                return TreeEntry(path, SYMLINK, target=target)
            if item.is_dir(follow_symlinks=False):
                return TreeEntry(path, FOLDER)
            if item.is_file(follow_symlinks=False):
                return TreeEntry(path, FILE)
            mode = item.stat(follow_symlinks=False).st_mode
        except OSError:  # vanished or changed while being listed
            return TreeEntry(path, UNKNOWN)
        return TreeEntry(path, next((kind for test, kind in _TYPES if test(mode)), UNKNOWN))
