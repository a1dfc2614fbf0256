"""Find a quarter's input files in the landing area (contract section 1), and account for everything else.

The whole of `<landing>/<quarter>/` is walked (`pipelines.landing.TreeWalk`: no symlink followed, bounded
in entries and depth). Every entry ends as one of:

- an expected input: `submissions/<kode_kab>/<kode_desa>.csv|xlsx` or `dukcapil/<kode_kab>.csv`;
- an input read only to be rejected: a village file in the wrong place or under an odd name, read so its
  rows are kept (all quarantined) and the village is told why;
- not read at all: a symlink, a FIFO or device, a hidden, lock or system file, a name with control or
  invisible characters, any other file outside the two input folders.

Everything but the expected inputs is listed with what was done with it (`LandingEntry`, names escaped by
`pipelines.printable.shown`) for the run record and the summaries. Nothing is read here but directory
entries: the files are hashed and parsed by `pipelines.ingest`, through `read_landing_file`, from the same
bytes, so the recorded SHA-256 is exactly what was parsed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pipelines import regions
from pipelines.config import LandingLimits
from pipelines.contract import LANDING_DUKCAPIL, LANDING_SUBMISSIONS, SYNTH_GROUND_TRUTH, quarter_is_valid
from pipelines.landing import FILE, FOLDER, SYMLINK, UNOPENED, TreeEntry, TreeWalk
from pipelines.printable import is_plain, shown
from pipelines.privacy import mask_text

SUBMISSION_FORMATS = {".csv": "csv", ".xlsx": "xlsx"}
_DOTTED_DESA = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
UNKNOWN_KAB = "0000"  # kode_kab of a file found outside any kabupaten folder whose name names none
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})  # made by Windows Explorer, not data

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

# What was done with an unexpected entry.
READ_REJECTED = "dibaca_ditolak"  # read as an input and rejected as a whole (rows, if readable, quarantined)
READ_NOTED = "dibaca"  # read and used, with a note (an extract named after no kabupaten/kota)
SKIPPED = "dilewati"  # a file not read
NOT_FOLLOWED = "tidak_diikuti"  # a symlink: never followed, nothing behind it read
WALKED = "diperiksa"  # an unexpected folder whose entries were examined (and are listed on their own)
NOT_WALKED = "tidak_diperiksa"  # a folder not opened: its entries are neither read nor listed
ACTION_LABELS = {
    READ_REJECTED: "Dibaca lalu ditolak",
    READ_NOTED: "Dibaca dan dipakai, dengan catatan",
    SKIPPED: "Tidak dibaca",
    NOT_FOLLOWED: "Tautan tidak diikuti",
    WALKED: "Isinya diperiksa",
    NOT_WALKED: "Isinya tidak diperiksa",
}
# Why an entry is not an expected input (the problem codes of files read and rejected are kinds too).
KIND_LABELS = {
    "tautan_simbolik": "Tautan simbolik (symlink)",
    "bukan_berkas_biasa": "Bukan berkas biasa (pipa, soket, perangkat)",
    "nama_tidak_aman": "Nama berisi karakter kontrol/tak terlihat",
    "nama_memuat_nik": "Nama memuat angka seperti NIK/KK",
    "berkas_tersembunyi": "Berkas tersembunyi",
    "folder_tersembunyi": "Folder tersembunyi",
    "berkas_kunci": "Berkas kunci editor",
    "berkas_sistem": "Berkas sistem",
    "folder_tak_terduga": "Folder di luar susunan baku",
    "folder_kabupaten_tidak_dikenal": "Folder bukan kode kabupaten/kota",
    "folder_terlalu_dalam": "Folder terlalu dalam",
    "folder_tidak_dapat_dibuka": "Folder tidak dapat dibuka",
    "kebenaran_dasar": "Kebenaran dasar data sintetis",
    "ekstrak_salah_tempat": "Ekstrak Dukcapil di tempat yang salah",
    "berkas_tak_terduga": "Berkas di luar folder masukan",
    "batas_berkas": "Melebihi batas jumlah berkas",
    "lokasi_berkas_salah": "Berkas desa di tempat yang salah",
    "nama_berkas_tidak_sesuai": "Nama berkas bukan kode desa",
    "desa_di_luar_kabupaten": "Desa di luar kabupaten/kota foldernya",
    "kode_desa_tidak_dikenal": "Kode desa tidak dikenal",
    "kabupaten_tidak_dikenal": "Di folder yang bukan kode kabupaten/kota",
    "format_tidak_didukung": "Format berkas tidak didukung",
}


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


@dataclass(frozen=True)
class LandingEntry:
    """An entry of the landing area that is not an expected input, and what was done with it."""

    path: str  # relative to the landing root, escaped (`shown`) and masked: safe to print anywhere
    type: str  # what the entry is: file, folder, symlink, fifo, socket, device, ? (lstat, never followed)
    kind: str  # why it is not an expected input (KIND_LABELS)
    action: str  # what was done with it (ACTION_LABELS)
    reason: str  # in Indonesian, for the Dinsos officer and the village operator
    kode_kab: str | None = None  # the kabupaten/kota whose folder (or file name) it belongs to, if any

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LandingSurvey:
    """The quarter's inputs and the account of everything else found in its landing area."""

    quarter: str
    inputs: list[InputFile]
    listed: list[LandingEntry]  # the first `limits.max_listed` unexpected entries, in walk order
    by_kind: dict[str, int]  # every unexpected entry, listed or not
    by_action: dict[str, int]
    entries_examined: int
    not_examined: int  # entries past `max_entries`, counted only (expected inputs are examined all the same)
    limits: LandingLimits = field(default_factory=LandingLimits)

    @property
    def unexpected(self) -> int:
        return sum(self.by_kind.values())

    @property
    def walk_stopped(self) -> bool:
        return self.not_examined > 0

    def to_dict(self) -> dict[str, Any]:
        """`discover/landing.json` and the run record's `landing`: counts, limits, and the listed entries."""
        return {
            "quarter": self.quarter,
            "entries_examined": self.entries_examined,
            "walk_stopped": self.walk_stopped,
            "not_examined": self.not_examined,
            "inputs": dict(Counter(f.kind for f in self.inputs)),
            "unexpected": self.unexpected,
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_action": dict(sorted(self.by_action.items())),
            "listed": [e.to_dict() for e in self.listed],
            "not_listed": self.unexpected - len(self.listed),
            "limits": self.limits.model_dump(),
        }


def split_name(name: str) -> tuple[str, str]:
    """`(stem, suffix)` as `pathlib` splits a file name (`.bashrc` has no suffix, nor has `a.`), without
    building a path object: the walk calls this for every entry."""
    dot = name.rfind(".")
    return (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")


def village_code(name: str) -> str | None:
    """The 10-digit village code a file name stands for (`5203012001.csv`, `52.03.01.2001.xlsx`, spaces
    around the stem allowed), in ASCII digits only; None when the name is none."""
    stem = split_name(name)[0].strip()
    if _DOTTED_DESA.fullmatch(stem):
        stem = stem.replace(".", "")
    return stem if regions.is_code(stem, 10) else None


def _is_village_file(name: str) -> bool:
    return split_name(name)[1].lower() in SUBMISSION_FORMATS and village_code(name) is not None


def _is_extract_name(name: str) -> bool:
    """`5203.csv`: a Dukcapil extract's name. Under `submissions/` it would otherwise be read as a village
    file and a kabupaten's whole population quarantined."""
    stem, suffix = split_name(name)
    return suffix.lower() == ".csv" and regions.is_code(stem.strip(), 4)


def _may_be_input(parts: tuple[str, ...]) -> bool:
    """Whether an entry (path below the quarter folder) may be an expected input or hold some: the walk
    examines these first and always. A bounded set of names: the two input folders, the kabupaten/kota
    folders, and in them only exact `<kode_desa>.csv|xlsx` of existing villages (suffix in any case) and
    `<kode_kab>.csv` extracts."""
    if len(parts) == 1:
        return parts[0] in (LANDING_SUBMISSIONS, LANDING_DUKCAPIL)
    stem, suffix = split_name(parts[-1])
    if parts[0] == LANDING_DUKCAPIL and len(parts) == 2:
        return suffix == ".csv" and regions.is_kabupaten(stem)
    if parts[0] != LANDING_SUBMISSIONS or not regions.is_kabupaten(parts[1]):
        return False
    if len(parts) == 2:
        return True
    return len(parts) == 3 and suffix.lower() in SUBMISSION_FORMATS and regions.desa_exists(stem)


def _named_kab(name: str) -> str | None:
    """The kabupaten/kota a village file's name names, if any."""
    code = village_code(name)
    return code[:4] if code and regions.is_kabupaten(code[:4]) else None


def _name_problem(name: str) -> tuple[str, str]:
    stem = split_name(name)[0]
    hint = ""
    if any(ch.isdigit() and not ch.isascii() for ch in stem):
        hint = " Nama memuat angka selain angka biasa 0-9 (misalnya angka lebar penuh); ketik ulang dengan angka biasa."
    return ("nama_berkas_tidak_sesuai", f"Nama berkas harus kode desa 10 digit, misalnya 5203012001.csv.{hint}")


def _submission(landing: Path, path: Path, kode_kab: str) -> InputFile:
    """A village file read as one of kabupaten `kode_kab`'s (its folder's, or the one its name names; a
    folder that is no kabupaten/kota is reported by the caller, not compared with the village code)."""
    suffix = path.suffix.lower()
    problems: list[tuple[str, str]] = []
    fmt = SUBMISSION_FORMATS.get(suffix, suffix.lstrip(".") or "tanpa-ekstensi")
    if suffix not in SUBMISSION_FORMATS:
        problems.append(
            (
                "format_tidak_didukung",
                f"Format berkas '{shown(suffix) or '(tanpa ekstensi)'}' tidak didukung; gunakan CSV atau XLSX.",
            )
        )
    kode_desa = village_code(path.name)
    if kode_desa is None:
        problems.append(_name_problem(path.name))
    elif regions.is_kabupaten(kode_kab) and not kode_desa.startswith(kode_kab):
        problems.append(("desa_di_luar_kabupaten", f"Desa {kode_desa} bukan bagian dari kabupaten/kota {kode_kab}."))
    elif not regions.desa_exists(kode_desa):
        problems.append(("kode_desa_tidak_dikenal", f"Kode desa {kode_desa} tidak ada dalam daftar Kemendagri."))
    source_file = path.relative_to(landing).as_posix()
    return InputFile(str(path), source_file, "submission", kode_kab, kode_desa, fmt, tuple(problems))


def _dukcapil(landing: Path, path: Path) -> InputFile:
    fmt = path.suffix.lower().lstrip(".") or "tanpa-ekstensi"
    problems: tuple[tuple[str, str], ...] = ()
    if fmt != "csv":
        problems = (("format_tidak_didukung", f"Ekstrak Dukcapil {shown(path.name)}: harus berupa berkas CSV."),)
    elif not regions.is_kabupaten(path.stem):
        problems = (
            (
                "kabupaten_tidak_dikenal",
                f"Ekstrak Dukcapil {shown(path.name)}: nama berkas bukan kode kabupaten/kota.",
            ),
        )
    source_file = path.relative_to(landing).as_posix()
    return InputFile(str(path), source_file, "dukcapil", path.stem, None, fmt, problems)


class _Survey:
    """Classifies each entry of the walk (`visit`) and keeps the inputs, the listing and the counts."""

    def __init__(self, landing: Path, quarter: str, limits: LandingLimits) -> None:
        self.landing, self.quarter, self.limits = landing, quarter, limits
        self.root = landing / quarter
        self.inputs: list[InputFile] = []
        self.listed: list[LandingEntry] = []
        self.by_kind: Counter[str] = Counter()
        self.by_action: Counter[str] = Counter()
        self.unexpected_read = 0

    # -- the listing ---------------------------------------------------------------------------------------

    def note(self, entry: TreeEntry, kind: str, action: str, reason: str, kode_kab: str | None = None) -> None:
        self.by_kind[kind] += 1
        self.by_action[action] += 1
        if len(self.listed) < self.limits.max_listed:
            path = mask_text(shown("/".join((self.quarter, *entry.parts))))
            kab = kode_kab if kode_kab is not None else self._folder_kab(entry.parts)
            self.listed.append(LandingEntry(path, entry.type, kind, action, mask_text(reason), kab))

    @staticmethod
    def _folder_kab(parts: tuple[str, ...]) -> str | None:
        """The kabupaten/kota whose folder under `submissions/` holds the entry (the folder itself too)."""
        if len(parts) >= 2 and parts[0] == LANDING_SUBMISSIONS and regions.is_kabupaten(parts[1]):
            return parts[1]
        return None

    # -- the walk ------------------------------------------------------------------------------------------

    def visit(self, entry: TreeEntry) -> bool:
        """Classify one entry; True to walk a folder's entries."""
        name = entry.name
        if entry.type == UNOPENED:
            self.note(
                entry,
                "folder_tidak_dapat_dibuka",
                NOT_WALKED,
                f"Folder tidak dapat dibuka ({entry.error}: izin akses, atau berubah saat diperiksa); "
                "isinya tidak diperiksa dan tidak dibaca.",
            )
            return False
        if entry.type == SYMLINK:
            self.note(entry, "tautan_simbolik", NOT_FOLLOWED, self._symlink_reason(entry))
            return False
        if entry.type not in (FILE, FOLDER):
            self.note(
                entry,
                "bukan_berkas_biasa",
                SKIPPED,
                "Bukan berkas biasa (pipa/FIFO, soket, atau perangkat); tidak dibuka dan tidak dibaca.",
            )
            return False
        what = "Folder" if entry.type == FOLDER else "Berkas"
        not_read = NOT_WALKED if entry.type == FOLDER else SKIPPED
        if not is_plain(name):
            self.note(
                entry,
                "nama_tidak_aman",
                not_read,
                f"{what} bernama dengan karakter kontrol atau tak terlihat (ditampilkan sebagai \\x.., \\u....); "
                "tidak dibaca. Ganti namanya dengan huruf dan angka biasa.",
            )
            return False
        if mask_text(name) != name:
            self.note(
                entry,
                "nama_memuat_nik",
                not_read,
                f"Nama {what.lower()} memuat 16 angka berurutan seperti NIK atau nomor KK (ditampilkan tersamar); "
                "tidak dibaca, agar data pribadi tidak tersebar lewat nama berkas di catatan dan laporan. "
                "Beri nama dengan kode desa.",
            )
            return False
        if name.startswith((".~lock.", "~$")):
            self.note(
                entry,
                "berkas_kunci",
                not_read,
                "Berkas kunci yang dibuat Excel/LibreOffice selama buku kerja dibuka; bukan data, tidak dibaca. "
                "Pastikan berkas aslinya sudah disimpan dan ditutup sebelum dikirim.",
            )
            return False
        if name.startswith("."):
            kind = "folder_tersembunyi" if entry.type == FOLDER else "berkas_tersembunyi"
            self.note(entry, kind, not_read, f"{what} tersembunyi (nama diawali titik); tidak dibaca.")
            return False
        if entry.type == FILE and name.lower() in SYSTEM_FILES:
            self.note(entry, "berkas_sistem", SKIPPED, "Berkas yang dibuat Windows Explorer; bukan data, tidak dibaca.")
            return False
        return self._folder(entry) if entry.type == FOLDER else self._file(entry)

    def _symlink_reason(self, entry: TreeEntry) -> str:
        if entry.target is None:
            return "Tautan simbolik (symlink); tidak diikuti dan tidak dibaca."
        where = "ke dalam area landing" if self._points_inside(entry) else "ke luar area landing"
        return (
            f"Tautan simbolik (symlink) yang menunjuk {where} ({shown(entry.target, 120)}); tidak diikuti dan "
            "tidak dibaca. Bila isinya memang masukan, salin berkasnya sendiri ke sini, bukan tautannya."
        )

    def _points_inside(self, entry: TreeEntry) -> bool:
        """Whether a symlink's text names a place inside the landing root, told from the text alone:
        following the link, even to stat it, could hang on a dead network mount or probe what lies outside."""
        target = PurePosixPath(entry.target or "")
        if target.is_absolute():
            try:
                start, steps = (), target.relative_to(self.landing).parts
            except ValueError:
                return False
        else:
            start, steps = (self.quarter, *entry.parts[:-1]), target.parts
        depth = len(start)
        for step in steps:
            depth += -1 if step == ".." else 0 if step in ("", ".") else 1
            if depth < 0:
                return False
        return True

    def _folder(self, entry: TreeEntry) -> bool:
        parts = entry.parts
        if len(parts) > self.limits.max_depth:
            self.note(
                entry,
                "folder_terlalu_dalam",
                NOT_WALKED,
                f"Folder lebih dari {self.limits.max_depth} tingkat di bawah folder kuartal; isinya tidak diperiksa.",
            )
            return False
        if parts in ((LANDING_SUBMISSIONS,), (LANDING_DUKCAPIL,)):
            return True
        if parts == (SYNTH_GROUND_TRUTH,):
            self.note(
                entry,
                "kebenaran_dasar",
                NOT_WALKED,
                "Kebenaran dasar (ground truth) yang ditulis generator data sintetis (dtks synth) untuk evaluasi; "
                "bukan masukan, tidak dibaca.",
            )
            return False
        if len(parts) == 2 and parts[0] == LANDING_SUBMISSIONS:
            if regions.is_kabupaten(parts[1]):
                return True
            self.note(
                entry,
                "folder_kabupaten_tidak_dikenal",
                WALKED,
                f"Folder {shown(parts[1])} bukan kode kabupaten/kota Kemendagri 4 digit; berkas di dalamnya dibaca "
                "lalu ditolak (barisnya dikarantina).",
            )
            return True
        hint = ""
        if len(parts) == 1 and parts[0].lower() in (LANDING_SUBMISSIONS, LANDING_DUKCAPIL):
            hint = f" Nama folder harus '{parts[0].lower()}' (huruf kecil semua)."
        self.note(
            entry,
            "folder_tak_terduga",
            WALKED,
            "Folder di luar susunan baku (submissions/<kode_kab>/ dan dukcapil/); berkas desa di dalamnya dibaca "
            f"lalu ditolak, berkas lain tidak dibaca.{hint}",
        )
        return True

    def _file(self, entry: TreeEntry) -> bool:
        parts, name = entry.parts, entry.name
        folder = parts[:-1]
        if len(folder) in (1, 2) and folder[0] == LANDING_SUBMISSIONS:
            if _is_extract_name(name):
                self.note(
                    entry,
                    "ekstrak_salah_tempat",
                    SKIPPED,
                    f"Nama berkas berupa kode kabupaten/kota: tampaknya ekstrak Dukcapil di folder usulan; tidak "
                    f"dibaca. Ekstrak Dukcapil diletakkan di {LANDING_DUKCAPIL}/<kode_kab>.csv.",
                )
                return False
            if len(folder) == 2:
                return self._read(entry, lambda: self._in_kab_folder(entry, folder[1]))
            return self._read(entry, lambda: self._misplaced(entry))
        if folder == (LANDING_DUKCAPIL,) and not _is_village_file(name):
            return self._read(entry, lambda: _dukcapil(self.landing, self.root.joinpath(*parts)))
        if _is_village_file(name):
            return self._read(entry, lambda: self._misplaced(entry))
        if _is_extract_name(name):
            self.note(
                entry,
                "ekstrak_salah_tempat",
                SKIPPED,
                f"Tampaknya ekstrak Dukcapil di tempat yang salah; tidak dipakai. Letakkan di "
                f"{LANDING_DUKCAPIL}/<kode_kab>.csv.",
            )
            return False
        self.note(
            entry,
            "berkas_tak_terduga",
            SKIPPED,
            f"Berkas di luar folder masukan ({LANDING_SUBMISSIONS}/<kode_kab>/ dan {LANDING_DUKCAPIL}/) yang bukan "
            "berkas desa; tidak dibaca.",
        )
        return False

    def _in_kab_folder(self, entry: TreeEntry, folder: str) -> InputFile:
        item = _submission(self.landing, self.root.joinpath(*entry.parts), folder)
        if regions.is_kabupaten(folder):
            return item
        problem = ("kabupaten_tidak_dikenal", f"Folder {shown(folder)} bukan kode kabupaten/kota Kemendagri 4 digit.")
        return InputFile(**{**item.to_dict(), "problems": (*item.problems, problem)})

    def _misplaced(self, entry: TreeEntry) -> InputFile:
        """A village file outside any kabupaten folder: read as one of the kabupaten its name names, and
        rejected, so its rows are kept and the village learns where the file belongs."""
        kode_kab = _named_kab(entry.name) or UNKNOWN_KAB
        item = _submission(self.landing, self.root.joinpath(*entry.parts), kode_kab)
        where = "/".join(entry.parts[:-1]) or "folder kuartal"
        place = f"{LANDING_SUBMISSIONS}/{kode_kab if kode_kab != UNKNOWN_KAB else '<kode_kab>'}/"
        problem = (
            "lokasi_berkas_salah",
            f"Berkas {shown(entry.name)} berada di {shown(where)}, bukan di folder kabupaten/kota: "
            f"seharusnya di {place}.",
        )
        return InputFile(**{**item.to_dict(), "problems": (*item.problems, problem)})

    def _read(self, entry: TreeEntry, make: Callable[[], InputFile]) -> bool:
        """Keep the input `make` describes, within the limits; list it when it is not an expected one. (Made
        only once the limits allow: a folder of a million odd files costs a counter each past the limit.)"""
        if len(self.inputs) >= self.limits.max_input_files:
            return self._over_limit(entry, f"{self.limits.max_input_files} berkas masukan")
        unexpected_full = self.unexpected_read >= self.limits.max_unexpected_files_read
        if unexpected_full and not _may_be_input(entry.parts):
            return self._over_limit(entry, f"{self.limits.max_unexpected_files_read} berkas tak terduga yang dibaca")
        item = make()
        expected = not item.problems
        if unexpected_full and not expected:
            return self._over_limit(entry, f"{self.limits.max_unexpected_files_read} berkas tak terduga yang dibaca")
        self.inputs.append(item)
        if not expected:
            self.unexpected_read += 1
            codes = [code for code, _ in item.problems]
            kind = "lokasi_berkas_salah" if "lokasi_berkas_salah" in codes else codes[0]  # the most telling
            used = item.kind == "dukcapil" and item.format == "csv"
            action = READ_NOTED if used else READ_REJECTED
            reason = " ".join(message for _, message in item.problems)
            self.note(entry, kind, action, reason, item.kode_kab if item.kind == "submission" else None)
        return False

    def _over_limit(self, entry: TreeEntry, limit: str) -> bool:
        self.note(
            entry,
            "batas_berkas",
            SKIPPED,
            f"Tidak dibaca: batas {limit} per kuartal sudah tercapai (pengaturan landing).",
            self._folder_kab(entry.parts) or _named_kab(entry.name),
        )
        return False

    def survey(self, walk: TreeWalk) -> LandingSurvey:
        # Files outside any kabupaten folder first, then the kabupaten folders' files, then the extracts.
        def order(item: InputFile) -> tuple[bool, bool, str]:
            parts = item.source_file.split("/")
            in_kab_folder = len(parts) == 4 and parts[1] == LANDING_SUBMISSIONS
            return (item.kind != "submission", in_kab_folder, item.source_file)

        return LandingSurvey(
            self.quarter,
            sorted(self.inputs, key=order),
            self.listed,
            dict(self.by_kind),
            dict(self.by_action),
            walk.seen,
            walk.not_examined,
            self.limits,
        )


def survey_quarter(landing: Path | str, quarter: str, limits: LandingLimits | None = None) -> LandingSurvey:
    """Walk `<landing>/<quarter>/` and return its inputs and the account of every other entry. Raises
    LandingError only when there is nothing to run on: no quarter folder, no village file or no extract."""
    landing = Path(landing).resolve()  # the landing root may be a symlink (a mount point); nothing below it
    limits = limits or LandingLimits()
    if not quarter_is_valid(quarter):
        raise LandingError(f"Quarter {quarter!r} is not of the form YYYYQn, e.g. 2026Q3.")
    root = landing / quarter
    if root.is_symlink():
        raise LandingError(
            f"The quarter folder {root} is a symlink: nothing below the landing root is followed. Copy the "
            "quarter's files into it, or point --landing at the folder that holds the quarter."
        )
    if not root.is_dir():
        raise LandingError(f"No landing folder for quarter {quarter}: {root} does not exist.")
    survey = _Survey(landing, quarter, limits)
    walk = TreeWalk(max_depth=limits.max_depth, max_entries=limits.max_entries, wanted=_may_be_input)
    try:
        walk.walk(landing, quarter, survey.visit)
    except OSError as exc:
        raise LandingError(f"The landing folder {root} cannot be listed: {exc.strerror or exc}.") from exc
    result = survey.survey(walk)
    submissions = root / LANDING_SUBMISSIONS
    if not any(f.kind == "submission" for f in result.inputs):
        raise LandingError(f"No village submission files under {submissions}/<kode_kab>/." + _hints(result))
    if not any(f.kind == "dukcapil" for f in result.inputs):
        raise LandingError(
            f"No Dukcapil extract under {root / LANDING_DUKCAPIL}/<kode_kab>.csv: nothing to link against."
            + _hints(result)
        )
    return result


def _hints(survey: LandingSurvey, most: int = 10) -> str:
    """The first entries that were not used, for the message of a quarter that cannot run."""
    if not survey.listed:
        return ""
    shown_entries = "; ".join(f"{e.path} ({e.type}: {e.kind}, {e.action})" for e in survey.listed[:most])
    more = f"; and {survey.unexpected - most} more" if survey.unexpected > most else ""
    return f" Entries found but not used: {shown_entries}{more}."


def discover_quarter(landing: Path | str, quarter: str, limits: LandingLimits | None = None) -> list[InputFile]:
    """The quarter's input files (expected ones, and the odd or misplaced ones read only to be rejected)."""
    return survey_quarter(landing, quarter, limits).inputs
