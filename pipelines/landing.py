"""Reading a file of the landing area without trusting the landing area.

Every input byte the pipeline reads comes through `read_landing_file`: the path is walked one component at
a time from the landing root with `O_NOFOLLOW`, so a symlink anywhere below the root (a desa file pointing
at `/etc/passwd`, a kabupaten folder pointing elsewhere) is refused instead of followed, and only a regular
file is read, never more than `max_bytes` of it. The landing root itself may be a symlink (an operator's
mount point): it is resolved once, by the caller, before anything below it is opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


class LandingReadError(OSError):
    """A landing entry that must not be read. `code` is the file problem's code, `message` Indonesian."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_landing_file(landing: Path | str, source_file: str, max_bytes: int) -> bytes:
    """The bytes of `<landing>/<source_file>`, refused when any component below the landing root is a
    symlink or not what it should be (a folder, then a regular file), or when the file is larger than
    `max_bytes`. `source_file` is the contract's relative path with `/` separators."""
    parts = PurePosixPath(source_file).parts
    if not parts or any(p in ("", ".", "..") for p in parts) or PurePosixPath(source_file).is_absolute():
        raise LandingReadError("jalur_tidak_sah", "Jalur berkas tidak sah (mutlak, kosong, atau memuat '..').")
    name = PurePosixPath(source_file).name
    fd = os.open(Path(landing), _DIR_FLAGS & ~os.O_NOFOLLOW)  # the root may be a mount-point symlink
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise LandingReadError(
                    "bukan_berkas_biasa",
                    f"Folder {part} pada jalur {source_file} adalah tautan (symlink) atau bukan folder; tidak dibaca.",
                ) from exc
            os.close(fd)
            fd = child
        try:
            file_fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
        except OSError as exc:
            raise LandingReadError(
                "bukan_berkas_biasa", f"Berkas {name} adalah tautan (symlink) atau tidak dapat dibuka; tidak dibaca."
            ) from exc
    finally:
        os.close(fd)
    try:
        info = os.fstat(file_fd)
        if not stat.S_ISREG(info.st_mode):
            raise LandingReadError("bukan_berkas_biasa", f"{name} bukan berkas biasa (misalnya perangkat atau pipa).")
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
