"""The HTML summary as its readers see it: in words (no internal codes), in the kabupaten's local time, with
tables that fit the screen and the printed A4 page. The layout is checked in headless Chromium
(`tests/browser.py`): skipped locally without it, failing in CI."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import contract as c
from pipelines.local_time import WIB, WIT, WITA, local_text, local_texts, zone_of
from pipelines.regions import desa_of_kabupaten, region_name
from pipelines.reports import guidance as g
from pipelines.reports.html_summary import RunInfo, render_kabupaten, render_run, write_html
from pipelines.reports.summary import combine, count_kabupaten

QUARTER = "2026Q3"
STARTED = "2026-10-01T02:03:04.512345+00:00"
STAGES = {"discover": 0.4, "ingest": 12.0, "validate": 40.5, "link": 75.0, "decide": 9.0, "reports/5203": 20.0}

# Error mixes: (share of rows with a finding, categories drawn from, quarantined share, merged share).
MIXES = {
    "every_category": (0.5, c.CATEGORIES, 0.03, 0.02),
    "identity_only": (0.2, (c.NIK_TIDAK_VALID, c.NIK_BERBEDA, c.KK_BERBEDA), 0.0, 0.0),
    "hostile": (0.9, (*c.CATEGORIES, c.KEMUNGKINAN_PADAN, c.BIODATA_TIDAK_SESUAI_NIK), 0.3, 0.1),
}

# English words an officer should not meet, and traces of the machinery.
ENGLISH = (
    "input", "output", "outcome", "chosen", "row", "rows", "file", "files", "published", "merged",
    "quarantined", "duplicate", "probability", "weight", "candidate", "stage", "none", "null", "nan",
    "true", "false", "error", "warning", "quality gate", "unknown",
)  # fmt: skip
INTERNAL_PATH = re.compile(r"(?:^|\s)/(?:tmp|home|work|var|opt)/|\.parquet|\.json\b|submissions/\d|dukcapil/\d")
SNAKE = re.compile(r"\b[A-Za-z]+_[A-Za-z_]+\b")


def synthetic_counts(kode_kab: str, mix: str, seed: int, desa_share: float = 0.6) -> dict:
    """The counts of a kabupaten whose villages sent rows with the mix's findings."""
    rng = np.random.default_rng(seed)
    finding_share, categories, quarantined, merged = MIXES[mix]
    desa = [d for d in desa_of_kabupaten(kode_kab) if rng.random() < desa_share]
    outcomes, findings, files = [], [], []
    for kode in desa:
        source = f"{QUARTER}/submissions/{kode_kab}/{kode}.csv"
        files.append({"source_file": source, "kode_desa": kode, "status": "ACCEPTED", "format": "csv", "problems": []})
        for row in range(1, int(rng.integers(5, 60)) + 1):
            draw = rng.random()
            outcome = (
                c.OUTCOME_QUARANTINED
                if draw < quarantined
                else c.OUTCOME_MERGED
                if draw < quarantined + merged
                else c.OUTCOME_PUBLISHED
            )
            status = None if outcome == c.OUTCOME_QUARANTINED else str(rng.choice(c.STATUS_PADAN))
            outcomes.append((source, row, kode, outcome, status))
            if rng.random() < finding_share:
                for category in rng.choice(categories, size=int(rng.integers(1, 3))):
                    findings.append((kode, source, row, str(category)))
    row_outcome = pd.DataFrame(outcomes, columns=["source_file", "source_row", "kode_desa", "outcome", "status_padan"])
    discrepancy = pd.DataFrame(findings, columns=["kode_desa", "source_file", "source_row", "category"])
    reasons = [
        json.dumps([{"category": c.FORMAT_TIDAK_VALID, "field": field, "message": "x"}])
        for field in rng.choice(["tanggal_lahir", "jenis_kelamin", "no_kk", "hubungan_keluarga"], size=12)
    ]
    quarantine = pd.DataFrame({"source_file": "x", "source_row": 1, "reasons": reasons})
    return count_kabupaten(
        kode_kab, row_outcome=row_outcome, discrepancy=discrepancy, quarantine=quarantine, files=files
    )


def info(kode_kab: str | None = None) -> RunInfo:
    stages = {k.replace("5203", kode_kab or "5203"): v for k, v in STAGES.items()}
    gate = {"passed": True, "quarter_quarantine_share": 0.012}
    return RunInfo("manual__2026-10-01T02:03:04.512345+00:00", QUARTER, "0.1.0+gabc", STARTED, stages, 1_000, 3, gate)


def visible_text(page: str) -> str:
    """The page's text without its markup, styles and attributes (what a reader can see, roughly)."""
    body = page.split("<body>", 1)[1]
    return unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize(
    ("code", "zone"),
    [("1101", WIB), ("3201", WIB), ("6171", WIB), ("5203", WITA), ("6471", WITA), ("7371", WITA), ("8171", WIT)],
)
def test_time_zone_by_province(code, zone):
    assert zone_of(code) is zone and zone_of(code + "012001") is zone


def test_local_time_is_written_as_an_officer_reads_it():
    assert local_text(STARTED, WIB) == "1 Oktober 2026 pukul 09.03 WIB"
    assert local_text("2026-12-31T20:30:00", WIT) == "1 Januari 2027 pukul 05.30 WIT"  # naive = UTC
    assert local_texts(STARTED, ["5203"]) == "1 Oktober 2026 pukul 10.03 WITA"
    assert local_texts(STARTED, ["8171", "3201", "5203"]) == "1 Oktober 2026 pukul 09.03 WIB (10.03 WITA, 11.03 WIT)"


@pytest.mark.parametrize(("kode_kab", "shown"), [("5203", "pukul 10.03 WITA"), ("3201", "pukul 09.03 WIB")])
def test_kabupaten_page_has_local_start_and_no_internal_codes(kode_kab, shown):
    page = render_kabupaten(synthetic_counts(kode_kab, "every_category", seed=1), info(kode_kab))
    text = visible_text(page)
    assert f"Proses dimulai 1 Oktober 2026 {shown}" in " ".join(text.split())
    assert "512345" not in text.replace(info().run_id, "") and "+00:00" not in text.replace(info().run_id, "")
    codes = [*c.CATEGORIES, *c.STATUS_PADAN, *c.OUTCOMES, *g.STAGE_LABELS]
    for code in codes:
        assert not re.search(rf"\b{re.escape(code)}\b", text), code
    assert not SNAKE.findall(text)
    assert "tanggal lahir" in text and "jenis kelamin" in text  # quarantine columns in words
    assert "overflow-x" not in page and 'class="wide"' not in page  # nothing hides behind a sideways scroll
    assert "@page{size:A4" in page and "@media print" in page


def test_run_page_gives_every_zone_and_file_names_only():
    counts = [synthetic_counts(k, "identity_only", seed=i) for i, k in enumerate(("3201", "5203"))]
    counts[1]["file_problems"] = [
        {"source_file": f"{QUARTER}/submissions/5203/5203012001.xlsx", "kode_desa": "5203012001", "desa": "X",
         "status": "UNREADABLE", "messages": ["Berkas rusak."]}
    ]  # fmt: skip
    page = render_run(combine(counts), info())
    text = " ".join(visible_text(page).split())
    assert "1 Oktober 2026 pukul 09.03 WIB (10.03 WITA)" in text
    assert "5203012001.xlsx" in text and "submissions/" not in text


def test_field_labels():
    assert [g.field_label(f) for f in ("tanggal_lahir", "no_kk", "nik", "", None, "alamat")] == [
        "tanggal lahir", "nomor KK", "NIK", "-", "-", "alamat"
    ]  # fmt: skip


# --- In a browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[("5203", "every_category"), ("8171", "hostile"), ("3201", "identity_only")])
def rendered(request, tmp_path_factory) -> dict:
    from browser import require_chromium

    require_chromium()
    kode_kab, mix = request.param
    counts = synthetic_counts(kode_kab, mix, seed=len(mix), desa_share=1.0 if mix == "hostile" else 0.6)
    out = tmp_path_factory.mktemp(f"html-{kode_kab}")
    kab_page = write_html(out / f"ringkasan_{kode_kab}_{QUARTER}.html", render_kabupaten(counts, info(kode_kab)))
    run_page = write_html(out / f"ringkasan_{QUARTER}.html", render_run(combine([counts]), info(kode_kab)))
    return {"kode_kab": kode_kab, "counts": counts, "pages": (kab_page, run_page), "out": out}


def _reads_well(text: str) -> None:
    flat = " ".join(text.split())
    assert not SNAKE.findall(flat), SNAKE.findall(flat)[:5]
    for word in ENGLISH:
        assert not re.search(rf"\b{word}\b", flat, re.I), word
    assert not INTERNAL_PATH.search(flat), INTERNAL_PATH.search(flat)


@pytest.mark.parametrize("width", [1280, 800, 390])
def test_pages_fit_the_window_and_read_as_bahasa(rendered, width):
    from browser import measure

    zone = zone_of(rendered["kode_kab"]).tzname(None)
    for page in rendered["pages"]:
        layout = measure(page, width)
        assert layout["wide"] == [], f"{page.name} at {width}px: {layout['wide'][:3]}"
        _reads_well(layout["text"])
        assert re.search(rf"pukul \d\d\.\d\d {zone}\b", layout["text"])
        flat = " ".join(layout["text"].split())
        for status in c.STATUS_PADAN:  # chart labels whole, however long (the SVG cut them on the left)
            assert g.status_padan_label(status)[1:] in flat, status
        areas = rendered["counts"]["areas"].values() if page == rendered["pages"][0] else [rendered["counts"]]
        for area in areas:
            if area["rows"]:
                assert area["name"] in layout["text"]


def test_pages_print_on_a4_with_every_column(rendered):
    from browser import pdf_page_size_mm, pdf_pages, print_pdf

    page = rendered["pages"][0]
    pdf = print_pdf(page, rendered["out"] / "ringkasan.pdf")
    width, height = pdf_page_size_mm(pdf)
    assert abs(width - 210) < 1 and abs(height - 297) < 1  # A4 portrait
    printed = " ".join(" ".join(pdf_pages(pdf)).split())
    categories = [k for k, v in rendered["counts"]["findings"].items() if v]
    for k in categories:  # every category column of the per-kecamatan table is on paper
        for word in g.guidance_for(k).short.split():
            assert word in printed, (k, word)
    for area in rendered["counts"]["areas"].values():
        if area["rows"]:
            assert area["name"] in printed
    assert region_name(rendered["kode_kab"]) in printed
    _reads_well(printed)


def test_screenshot(rendered):
    from browser import screenshot

    png = screenshot(rendered["pages"][0], rendered["out"] / "ringkasan.png", height=900)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_layout_check_would_notice_a_table_too_wide(tmp_path):
    """The probe is not blind: main's old per-kecamatan table (a wide table in a scrolling box) is caught."""
    from browser import measure, require_chromium

    require_chromium()
    cells = "".join(f"<th>Kolom nomor {i}</th>" for i in range(30))
    page = write_html(tmp_path / "wide.html", f"<html><body><div><table><tr>{cells}</tr></table></div></body></html>")
    assert measure(Path(page), 800)["wide"]
