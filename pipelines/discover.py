"""Find a quarter's input files in the landing area (contract section 1) and say what is wrong with the layout.

Nothing is read here but directory entries: the files are hashed and parsed by `pipelines.ingest`, from
the same bytes, so the recorded SHA-256 is exactly what was parsed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from pipelines import regions
from pipelines.contract import quarter_is_valid

SUBMISSION_FORMATS = {".csv": "csv", ".xlsx": "xlsx"}
_DESA_STEM = re.compile(r"^\d{10}$")
_KAB_DIR = re.compile(r"^\d{4}$")
UNKNOWN_KAB = "0000"  # kode_kab of a file found outside any kabupaten folder whose name names none

# Problems found from the path alone that make a file unusable: it cannot be attributed to a village of
# its kabupaten. Its rows are still read (and all quarantined), so nothing is lost.
REJECTING_PROBLEMS = frozenset(
    {
        "nama_berkas_tidak_sesuai",
        "desa_di_luar_kabupaten",
        "kode_desa_tidak_dikenal",
        "kabupaten_tidak_dikenal",
        "lokasi_berkas_salah",
    }
)


class LandingError(ValueError):
    """The landing area cannot be used at all for this quarter (nothing to run on)."""


@dataclass(frozen=True)
class InputFile:
    path: str  # absolute
    source_file: str  # relative to the landing root, `/`-separated (the contract's `source_file`)
    kind: str  # "submission" or "dukcapil"
    kode_kab: str
    kode_desa: str | None  # from the file name; None for Dukcapil extracts or an unusable name
    format: str  # "csv", "xlsx", or the unsupported suffix
    problems: tuple[tuple[str, str], ...] = ()  # (code, Indonesian message) found from the path alone

    def to_dict(self) -> dict:
        return asdict(self)


def _source_file(landing: Path, path: Path) -> str:
    return path.relative_to(landing).as_posix()


def _submission(landing: Path, kab_dir: Path, path: Path) -> InputFile:
    kode_kab = kab_dir.name
    suffix = path.suffix.lower()
    problems: list[tuple[str, str]] = []
    fmt = SUBMISSION_FORMATS.get(suffix, suffix.lstrip(".") or "tanpa-ekstensi")
    if suffix not in SUBMISSION_FORMATS:
        problems.append(
            (
                "format_tidak_didukung",
                f"Format berkas '{suffix or '(tanpa ekstensi)'}' tidak didukung; gunakan CSV atau XLSX.",
            )
        )
    stem = path.stem.strip()
    stem = stem.replace(".", "") if re.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.\d{4}", stem) else stem
    kode_desa: str | None = stem if _DESA_STEM.match(stem) else None
    if kode_desa is None:
        problems.append(("nama_berkas_tidak_sesuai", "Nama berkas harus kode desa 10 digit, misalnya 5203012001.csv."))
    elif not kode_desa.startswith(kode_kab):
        problems.append(("desa_di_luar_kabupaten", f"Desa {kode_desa} bukan bagian dari kabupaten/kota {kode_kab}."))
    elif not regions.desa_exists(kode_desa):
        problems.append(("kode_desa_tidak_dikenal", f"Kode desa {kode_desa} tidak ada dalam daftar Kemendagri."))
    return InputFile(str(path), _source_file(landing, path), "submission", kode_kab, kode_desa, fmt, tuple(problems))


def _stray(landing: Path, path: Path) -> InputFile:
    """A file directly under `submissions/`, outside any kabupaten folder: read and reported, never skipped."""
    stem = path.stem.strip()
    kode_kab = stem[:4] if _DESA_STEM.match(stem) and regions.is_kabupaten(stem[:4]) else UNKNOWN_KAB
    item = _submission(landing, path.parent / kode_kab, path)
    problem = (
        "lokasi_berkas_salah",
        f"Berkas {path.name} tidak berada di folder kabupaten/kota (submissions/<kode_kab>/<kode_desa>).",
    )
    return InputFile(
        **{**item.to_dict(), "source_file": _source_file(landing, path), "problems": (*item.problems, problem)}
    )


def _ignored(path: Path) -> bool:
    """Editor lock files and hidden files are not submissions (Excel's `~$x.xlsx`, `.DS_Store`)."""
    return path.name.startswith(("~$", ".")) or not path.is_file()


def discover_quarter(landing: Path | str, quarter: str) -> list[InputFile]:
    landing = Path(landing).resolve()
    if not quarter_is_valid(quarter):
        raise LandingError(f"Quarter {quarter!r} is not of the form YYYYQn, e.g. 2026Q3.")
    root = landing / quarter
    if not root.is_dir():
        raise LandingError(f"No landing folder for quarter {quarter}: {root} does not exist.")

    files: list[InputFile] = []
    submissions = root / "submissions"
    for path in sorted(p for p in submissions.glob("*") if not _ignored(p)):
        files.append(_stray(landing, path))
    for kab_dir in sorted(p for p in submissions.glob("*") if p.is_dir()):
        kab_ok = bool(_KAB_DIR.match(kab_dir.name)) and regions.is_kabupaten(kab_dir.name)
        for path in sorted(p for p in kab_dir.iterdir() if not _ignored(p)):
            item = _submission(landing, kab_dir, path)
            if not kab_ok:
                item = InputFile(
                    **{
                        **item.to_dict(),
                        "problems": (
                            *item.problems,
                            (
                                "kabupaten_tidak_dikenal",
                                f"Folder {kab_dir.name} bukan kode kabupaten/kota Kemendagri 4 digit.",
                            ),
                        ),
                    }
                )
            files.append(item)
    for path in sorted(p for p in (root / "dukcapil").glob("*") if not _ignored(p)):
        problems: tuple[tuple[str, str], ...] = ()
        fmt = path.suffix.lower().lstrip(".") or "tanpa-ekstensi"
        if fmt != "csv":
            problems = (("format_tidak_didukung", f"Ekstrak Dukcapil {path.name}: harus berupa berkas CSV."),)
        elif not regions.is_kabupaten(path.stem):
            problems = (
                ("kabupaten_tidak_dikenal", f"Ekstrak Dukcapil {path.name}: nama berkas bukan kode kabupaten/kota."),
            )
        files.append(InputFile(str(path), _source_file(landing, path), "dukcapil", path.stem, None, fmt, problems))

    if not any(f.kind == "submission" for f in files):
        raise LandingError(f"No village submission files under {submissions}/<kode_kab>/.")
    if not any(f.kind == "dukcapil" for f in files):
        raise LandingError(f"No Dukcapil extract under {root / 'dukcapil'}/<kode_kab>.csv: nothing to link against.")
    return files
