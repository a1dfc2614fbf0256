"""The workbooks as people see them: printed to PDF by headless LibreOffice (Debian's `libreoffice-calc`),
then read back with pdfplumber, and drawn as PNG pages by `pdftoppm` (Debian's `poppler-utils`).

Locally the rendering tests skip when `soffice` is missing; in CI (`CI=true`) they fail instead, so a CI
image without LibreOffice cannot pass them silently (`.ci/run` installs it where it is missing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SOFFICE_TIMEOUT = 180
PAGE_NUMBER = re.compile(r"Halaman (\d+) dari (\d+)")
SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b[A-Z]+(?:_[A-Z0-9]+)+\b")
INTERNAL_PATH = re.compile(r"\b\d{4}Q[1-4]/|submissions/|dukcapil/|\.parquet\b|/tmp/")
# English words a reader must not meet in the officer's or the village's files
ENGLISH_WORDS = (
    "outcome",
    "published",
    "merged",
    "quarantined",
    "duplicate",
    "input row",
    "chosen",
    "suggested",
    "status_padan",
    "finding",
    "category",
    "true",
    "false",
    "none",
    "nan",
)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The soffice binary; skips the test without it, except in CI where that is a failure."""
    binary = soffice()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("headless LibreOffice (soffice) is required in CI: apt-get install libreoffice-calc")
        pytest.skip("soffice (Debian libreoffice-calc) is not installed")
    return binary


def to_pdf(xlsx: Path, out_dir: Path) -> Path:
    """Print every sheet of `xlsx` to one PDF with the workbook's own page set-up, as "Print to PDF" does."""
    binary = require_soffice()
    out_dir.mkdir(parents=True, exist_ok=True)
    # a profile of its own: a second soffice (another test worker, an open desktop session) would otherwise
    # hand the job to the first and return before the PDF exists
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                binary,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf:calc_pdf_Export",
                "--outdir",
                str(out_dir),
                str(xlsx),
            ],
            check=True,
            capture_output=True,
            timeout=SOFFICE_TIMEOUT,
        )
    pdf = out_dir / (xlsx.stem + ".pdf")
    assert pdf.exists(), f"LibreOffice wrote no PDF for {xlsx.name}"
    return pdf


@dataclass(frozen=True)
class Page:
    number: int
    text: str
    min_font_pt: float  # the smallest glyph on the page, in points as printed
    width_pt: float
    height_pt: float


def read_pdf(pdf: Path) -> list[Page]:
    import pdfplumber

    pages = []
    with pdfplumber.open(pdf) as doc:
        for i, page in enumerate(doc.pages, 1):
            # upright glyphs only: pdfminer reports the size of text written upwards (the count tables'
            # headers) from its rotated box, not its font
            sizes = [ch["size"] for ch in page.chars if ch["text"].strip() and ch.get("upright", True)]
            pages.append(
                Page(
                    number=i,
                    text=page.extract_text() or "",
                    min_font_pt=min(sizes) if sizes else 0.0,
                    width_pt=float(page.width),
                    height_pt=float(page.height),
                )
            )
    return pages


def to_png(pdf: Path, out: Path, page: int = 1, dpi: int = 80) -> Path:
    """One page of `pdf` as a PNG (for the screenshots in docs/img)."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    stem = out.with_suffix("")
    subprocess.run(
        [binary, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
        check=True,
        capture_output=True,
    )
    return out


def offending_words(text: str) -> list[str]:
    """snake_case identifiers, internal paths and English words found in text a reader sees."""
    found = SNAKE_CASE.findall(text) + INTERNAL_PATH.findall(text)
    lowered = text.lower()
    found += [w for w in ENGLISH_WORDS if re.search(rf"\b{re.escape(w)}\b", lowered)]
    return found


def visible_cell_words(xlsx: Path, skip_sheets: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(sheet, cell, word) for every snake_case word, deny-listed English word or landing path in a cell a
    reader sees (hidden columns and `skip_sheets` left out): without rendering, so it runs on a whole
    generated quarter in seconds."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    found = []
    wb = openpyxl.load_workbook(xlsx, read_only=False)
    for ws in wb.worksheets:
        if ws.title in skip_sheets:
            continue
        hidden = {k for k, d in ws.column_dimensions.items() if d.hidden}
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and get_column_letter(cell.column) not in hidden:
                    found += [(ws.title, cell.coordinate, w) for w in offending_words(cell.value)]
    return found
