"""A quarter whose landing area holds every kind of damaged input of issue 10 beside good ones.

- Kabupaten `GOOD_KAB` (Lombok Tengah): a synthetic quarter made by `dtks synth`, with its ground truth.
- Kabupaten 5203 (Lombok Timur): every file of the damaged-input corpus (`tests/corpus/cases`), in the place
  its case puts it, with the corpus's small Dukcapil extract.
- Everywhere: what a careless operator and an attacker leave in a landing area (symlinks to files and
  folders outside it, subfolders, `Submissions/`, files at the quarter root, hidden and lock files, names
  with control characters, full-width digits or a NIK, a FIFO, an extract where villages go, a workbook where
  extracts go, a deep chain of folders).

Used by `tests/test_hostile_quarter.py` (small, in CI) and `benchmarks/bench_hostile_quarter.py` (kabupaten
scale). The good kabupaten's rows must come out exactly as they do without the damaged inputs beside them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import regions
from pipelines.synth import SynthConfig, generate

QUARTER = "2026Q3"  # the corpus's quarter
GOOD_KAB = "5202"
CORPUS = Path(__file__).parent / "corpus"
OUTSIDE_MARK = "RAHASIA DI LUAR AREA LANDING"


@dataclass
class HostileQuarter:
    landing: Path
    outside: Path  # a folder beside the landing root: nothing in it may be read
    good_files: list[str] = field(default_factory=list)  # source_file of the synthetic villages' files
    corpus_files: list[str] = field(default_factory=list)  # source_file of the corpus's files
    odd_entries: list[str] = field(default_factory=list)  # paths (below the quarter) of the other entries


def make_good_quarter(landing: Path, persons: int, seed: int = 20261202) -> list[str]:
    """The synthetic kabupaten alone (the baseline run reads exactly this)."""
    generate(landing, QUARTER, SynthConfig(kab_codes=(GOOD_KAB,), persons=persons, seed=seed), overwrite=True)
    folder = landing / QUARTER / "submissions" / GOOD_KAB
    return sorted(f"{QUARTER}/submissions/{GOOD_KAB}/{p.name}" for p in folder.iterdir())


def add_hostile_inputs(landing: Path, good_files: list[str]) -> HostileQuarter:
    """Adds the corpus and the odd entries to a landing area that holds the good quarter."""
    top = landing / QUARTER
    outside = landing.parent / f"{landing.name}-outside"
    (outside / "folder").mkdir(parents=True, exist_ok=True)
    secret = f"kode_desa,no_kk,nik,nama\n5202010001,5202010101150001,5202011508800001,{OUTSIDE_MARK}\n"
    (outside / "secret.csv").write_text(secret, encoding="utf-8")
    (outside / "folder" / "5202012001.csv").write_text(secret, encoding="utf-8")
    quarter = HostileQuarter(landing, outside, good_files=list(good_files))

    for expected in sorted((CORPUS / "cases").glob("*/expected.json")):
        for item in json.loads(expected.read_text(encoding="utf-8"))["files"]:
            target = top / "submissions" / item["landing"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(expected.parent / item["input"], target)
            quarter.corpus_files.append(target.relative_to(landing).as_posix())
    shutil.copyfile(CORPUS / "dukcapil_5203.csv", top / "dukcapil" / "5203.csv")

    good_dir = top / "submissions" / GOOD_KAB
    present = {p.stem for p in good_dir.iterdir()}
    unused = [d for d in regions.desa_of_kabupaten(GOOD_KAB) if d not in present]
    sample = (top.parent / good_files[0]).read_bytes()  # a good village's file, for misplaced copies
    sample_name = Path(good_files[0]).name

    def entry(path: str, make) -> None:
        target = top / path
        target.parent.mkdir(parents=True, exist_ok=True)
        make(target)
        quarter.odd_entries.append(path)

    def data(content: bytes):
        return lambda target: target.write_bytes(content)

    kab = f"submissions/{GOOD_KAB}"
    # Symlinks: named as villages that sent nothing (when the sample leaves some), to files and folders
    # outside the landing area, absolute and relative, and one dangling.
    names = iter(unused + [f"{GOOD_KAB}99{i:04d}" for i in range(10)])
    entry(f"{kab}/{next(names)}.csv", lambda t: os.symlink(outside / "secret.csv", t))
    entry(f"{kab}/{next(names)}.xlsx", lambda t: os.symlink("../../../../" + outside.name + "/secret.csv", t))
    entry(f"{kab}/{next(names)}.csv", lambda t: os.symlink("/nonexistent/file.csv", t))
    entry("submissions/5204", lambda t: os.symlink(outside / "folder", t))
    entry(f"{kab}/{next(names)}.csv", lambda t: os.mkfifo(t))
    # Misplaced copies of a good village's file: read only to be rejected (their rows quarantined).
    entry(f"{kab}/lama/{sample_name}", data(sample))
    entry(f"Submissions/{GOOD_KAB}/{sample_name}", data(sample))
    entry(sample_name, data(sample))
    # Hidden, lock and system files; names no village code can have.
    entry(f"{kab}/.{sample_name}", data(sample))
    entry(f"{kab}/~${Path(sample_name).stem}.xlsx", data(b"lock"))
    entry(f"{kab}/.DS_Store", data(b"\x00\x00\x00\x01Bud1"))
    entry(f"{kab}/Thumbs.db", data(b"\xd0\xcf\x11\xe0"))
    entry(f"{kab}/{Path(sample_name).stem}\x1b[2J.csv", data(sample))
    entry(f"{kab}/{Path(sample_name).stem}\u202egpj.csv", data(sample))
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    entry(f"{kab}/{Path(sample_name).stem.translate(full_width)}.csv", data(sample))
    entry(f"{kab}/3201011508950001.csv", data(sample))  # a NIK as the file name
    entry(f"{kab}/{Path(sample_name).stem} (1).csv", data(sample))
    # An extract where villages go, a workbook where extracts go, notes at the quarter root.
    entry(f"submissions/{GOOD_KAB}.csv", lambda t: shutil.copyfile(top / "dukcapil" / f"{GOOD_KAB}.csv", t))
    entry(f"dukcapil/{GOOD_KAB}.xlsx", data(b"PK\x03\x04 not really a workbook"))
    entry("README.txt", data(b"Kirim berkas ke submissions/<kode_kab>/<kode_desa>.csv\n"))
    # A deep chain of folders.
    entry("arsip/" + "/".join(f"d{i}" for i in range(40)) + "/x.csv", data(b"a,b\n1,2\n"))
    return quarter


def build(landing: Path, persons: int, seed: int = 20261202) -> HostileQuarter:
    return add_hostile_inputs(landing, make_good_quarter(landing, persons, seed))
