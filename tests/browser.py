"""Looking at an HTML page as its reader does: headless Chromium (Debian's `chromium`) renders it to a PNG,
prints it to an A4 PDF, and measures its layout.

`require_chromium()` skips a test where Chromium is not installed, except in CI (`CI=true`), where a missing
browser is a failure: `.ci/run` installs it. `pdftotext` (poppler-utils) reads the printed text back.

`measure` runs a small script in a copy of the page (the page's own Content-Security-Policy forbids
scripts, so the copy drops it) and returns what the script found: the text a reader sees, and every table,
figure or block wider than the page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 120

# Reads the page after layout: the visible text, and what sticks out on the right (a table hiding columns
# behind a scroll or past the window). The result goes into the DOM, which --dump-dom prints.
_PROBE = """
<script>
(() => {
  const page = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('table, figure, pre, dl, div, p, h1, h2, h3')) {
    const box = el.getBoundingClientRect();
    if (box.right > page + 1 || el.scrollWidth > el.clientWidth + 1) {
      wide.push({tag: el.tagName, cls: el.className, right: Math.round(box.right),
                 scroll: el.scrollWidth, client: el.clientWidth, text: el.innerText.slice(0, 60)});
    }
  }
  const sections = {};
  for (const el of document.querySelectorAll('[id]')) sections[el.id] = Math.round(el.getBoundingClientRect().top);
  const result = {width: page, height: document.documentElement.scrollHeight, wide, sections,
                  text: document.body.innerText};
  const out = document.createElement('template');
  out.id = 'dtks-probe';
  out.setAttribute('data-result', JSON.stringify(result));
  document.body.appendChild(out);
})();
</script>
"""


def chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    found = chromium()
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("headless Chromium is required in CI (apt-get install chromium; .ci/run installs it)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def require_pdftotext() -> str:
    found = shutil.which("pdftotext")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("pdftotext is required in CI (apt-get install poppler-utils; .ci/run installs it)")
    pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")


def _run(args: list[str], width: int, height: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="dtks-chromium-") as profile:
        command = [
            require_chromium(),
            "--headless",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--force-device-scale-factor=1",
            "--lang=id-ID",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *args,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def measure(page: Path, width: int = 1280, height: int = 900) -> dict:
    """The page laid out in a window `width` pixels wide: `text` (what a reader sees), `height`, and
    `wide` (every table, figure or block that sticks out of the window or scrolls sideways)."""
    html = page.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    html = html.replace("</body>", _PROBE + "</body>")
    with tempfile.TemporaryDirectory(prefix="dtks-probe-") as tmp:
        probe = Path(tmp) / page.name
        probe.write_text(html, encoding="utf-8")
        done = _run(["--dump-dom", "--virtual-time-budget=3000", probe.as_uri()], width, height)
    found = re.search(r'<template id="dtks-probe" data-result="([^"]*)"', done.stdout)
    assert found, "the probe did not run"
    return json.loads(unescape(found.group(1)))


def screenshot(page: Path, png: Path, width: int = 1100, height: int | None = None, start: str | None = None) -> Path:
    """A PNG of the page in a window `width` pixels wide, `height` tall (None: the whole page), from the top
    or from the element with id `start` (a section's heading)."""
    layout = measure(page, width) if height is None or start else {}
    height = height or layout["height"] + 16
    with tempfile.TemporaryDirectory(prefix="dtks-shot-") as tmp:
        if start:
            offset = layout["sections"][start] - 8
            html = page.read_text(encoding="utf-8").replace(
                "</head>", f"<style>html{{margin-top:-{offset}px}}</style></head>"
            )
            page = Path(tmp) / page.name
            page.write_text(html, encoding="utf-8")
        _run([f"--screenshot={png}", page.resolve().as_uri()], width, height)
    assert png.exists() and png.stat().st_size > 0
    return png


def print_pdf(page: Path, pdf: Path) -> Path:
    """The page printed as Chromium prints it (the page's own `@page` size, A4 here), without the
    browser's header and footer."""
    _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri()], 1280, 900)
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    return pdf


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each printed page (pdftotext, layout kept)."""
    done = subprocess.run(
        [require_pdftotext(), "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    return done.stdout.split("\f")[:-1] if done.stdout.endswith("\f") else done.stdout.split("\f")


def pdf_page_size_mm(pdf: Path) -> tuple[float, float]:
    """The first page's width and height in millimetres (pdfinfo)."""
    info = subprocess.run(
        [shutil.which("pdfinfo") or "pdfinfo", str(pdf)], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    found = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout)
    assert found, info.stdout
    return float(found.group(1)) * 25.4 / 72, float(found.group(2)) * 25.4 / 72
