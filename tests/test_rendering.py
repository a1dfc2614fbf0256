"""The workbooks as their readers see them: printed to PDF by headless LibreOffice, then read back.

Every printed page must have its page number ("Halaman x dari y") and no text under 8 pt; no page may show
snake_case, an English word of the deny list, or a path of the landing area; and every finding on a linked
row carries the value to use. The inputs are random mixes of the findings the pipeline writes (their
details in the pipeline's own formats), so no single generator's shape is what passes. Skips without
`soffice` locally; fails without it in CI (`tests/rendering.py`).
"""

from __future__ import annotations

import random
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from rendering import PAGE_NUMBER, offending_words, read_pdf, require_soffice, to_pdf

from pipelines import contract as c
from pipelines.regions import desa_of_kabupaten
from pipelines.reports import guidance as g
from pipelines.reports import write_desa_feedback, write_kabupaten_workbook
from pipelines.reports.changes import household_changes
from pipelines.reports.feedback import RESUBMIT_SHEET, feedback_rows
from pipelines.reports.workbook import FILE_PROBLEMS_SHEET, sheet_name

pytestmark = [pytest.mark.xdist_group("libreoffice"), pytest.mark.slow]

KAB, QUARTER, RUN = "5203", "2026Q3", "manual__2026-10-01T02:03:04+00:00"
DESA = list(desa_of_kabupaten(KAB))
DISCREPANCY = ["kode_desa", "source_file", "source_row", "nik", "category", "detail", "suggested_value"]
CONTEXT = ["source_file", "source_row", "nama", "no_kk", "tanggal_lahir", "nik"]
NAMES = ("SITI AMINAH", "BAIQ NURUL HIDAYATI", "LALU MUHAMMAD ZAINUDDIN", "AHMAD", "NI KETUT SRI WAHYUNI")


def _nik(rng: random.Random) -> str:
    return "5203" + "".join(rng.choice("0123456789") for _ in range(12))


def quarter(seed: int, n_rows: int, mix: dict[str, float]) -> dict[str, pd.DataFrame]:
    """A kabupaten's tables: `n_rows` rows over a few villages, findings drawn from `mix` (category ->
    share of rows), written as the pipeline writes them."""
    rng = random.Random(seed)
    villages = rng.sample(DESA, 4)
    outcomes, context, findings, persons, submitted = [], [], [], [], []
    for i in range(n_rows):
        desa = villages[i % len(villages)]
        file = f"{QUARTER}/submissions/{KAB}/{desa}.{'xlsx' if i % 7 == 0 else 'csv'}"
        row = i // len(villages) + 1
        nik, kk, key = _nik(rng), _nik(rng), f"P{seed}{i:05d}"
        cats = [cat for cat, share in mix.items() if rng.random() < share]
        quarantined = bool({c.DATA_TIDAK_LENGKAP, c.FORMAT_TIDAK_VALID} & set(cats))
        linked = not quarantined and c.NIK_TIDAK_DITEMUKAN not in cats
        padan = c.PADAN_DENGAN_KOREKSI if linked and {c.NIK_BERBEDA, c.KK_BERBEDA} & set(cats) else c.PADAN
        outcome = c.OUTCOME_QUARANTINED if quarantined else c.OUTCOME_PUBLISHED
        outcomes.append((file, row, desa, outcome, None if quarantined else key, nik if linked else None,
                         padan if linked else (None if quarantined else c.TIDAK_PADAN)))  # fmt: skip
        name = rng.choice(NAMES)
        context.append((file, row, name, kk, f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", nik))
        sent = {"source_file": file, "source_row": row, "kode_desa": desa, "nik": nik, "no_kk": kk, "nama": name}
        submitted.append({**dict.fromkeys(c.SUBMISSION_COLUMNS), **sent, "status_usulan": "TETAP"})
        dead = c.MENINGGAL in cats and linked
        unfit = c.PEKERJAAN_TIDAK_LAYAK in cats and linked
        if not quarantined:
            reason = "MENINGGAL" if dead else (c.ALASAN_TIDAK_LAYAK if unfit else None)
            persons.append(
                (key, desa, kk, name, "1980-01-01", "P", c.NONAKTIF if reason else c.AKTIF, reason, file, row)
            )
        details = {
            c.NIK_TIDAK_VALID: ("NIK kosong.", None),
            c.NIK_BERBEDA: ("NIK pada usulan berbeda dari NIK Dukcapil orang yang sama.", _nik(rng)),
            c.KK_BERBEDA: ("Nomor KK pada usulan berbeda dari nomor KK di Dukcapil.", _nik(rng)),
            c.IDENTITAS_TIDAK_SESUAI: ("tanggal_lahir (usulan: 1980-01-01; Dukcapil: 1981-02-03)", "1981-02-03"),
            c.MENINGGAL: ("Tercatat meninggal di Dukcapil pada 2026-04-06", None),
            c.PEKERJAAN_TIDAK_LAYAK: ("Pekerjaan menurut Dukcapil: PEGAWAI NEGERI SIPIL (PNS)", None),
            c.PINDAH_DOMISILI: (f"Domisili menurut Dukcapil: desa {villages[0]} (x)", villages[0]),
            c.NIK_TIDAK_DITEMUKAN: ("NIK tidak terdaftar di Dukcapil dan tidak ditemukan kecocokan.", None),
            c.DATA_TIDAK_LENGKAP: ("Nomor KK wajib diisi.", None),
            c.FORMAT_TIDAK_VALID: (
                "Tanggal lahir bukan tanggal yang valid dalam format YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY.",
                None,
            ),
            c.BIODATA_TIDAK_SESUAI_NIK: (
                "Biodata tidak sesuai dengan yang tersandi di NIK: "
                "tanggal_lahir (NIK: 13-01-..49; usulan: 1981-02-14).",
                None,
            ),
        }
        for cat in cats:
            if cat in details and (
                linked
                or cat not in (c.NIK_BERBEDA, c.KK_BERBEDA, c.MENINGGAL, c.PEKERJAAN_TIDAK_LAYAK, c.PINDAH_DOMISILI)
            ):
                detail, suggested = details[cat]
                findings.append((desa, file, row, nik, cat, detail, suggested))
    # duplicates: every 9th row repeats the person of the row before, in another village's file
    ro = pd.DataFrame(
        outcomes,
        columns=["source_file", "source_row", "kode_desa", "outcome", "person_key", "nik_dukcapil", "status_padan"],
    )
    ro["merged_into_file"], ro["merged_into_row"] = None, None
    for i in range(9, len(ro), 9):
        a, b = ro.index[i - 1], ro.index[i]
        if c.OUTCOME_QUARANTINED in (ro.at[a, "outcome"], ro.at[b, "outcome"]):
            continue
        ro.loc[b, ["outcome", "person_key", "merged_into_file", "merged_into_row"]] = [
            c.OUTCOME_MERGED,
            ro.at[a, "person_key"],
            ro.at[a, "source_file"],
            ro.at[a, "source_row"],
        ]
        for me, other in ((a, b), (b, a)):
            detail = f"Data ganda dengan: {ro.at[other, 'source_file']} baris {ro.at[other, 'source_row']}"
            findings.append(
                (ro.at[me, "kode_desa"], ro.at[me, "source_file"], ro.at[me, "source_row"], None, c.GANDA, detail, None)
            )
    snapshot = pd.DataFrame(
        persons,
        columns=[
            "person_key",
            "kode_desa",
            "no_kk",
            "nama",
            "tanggal_lahir",
            "jenis_kelamin",
            "status_dtks",
            "alasan_nonaktif",
            "source_file",
            "source_row",
        ],
    )
    snapshot = snapshot[snapshot["person_key"].isin(set(ro["person_key"].dropna()))]
    snapshot["hubungan_keluarga"] = "KEPALA KELUARGA"
    return {
        "row_outcome": ro,
        "discrepancy": pd.DataFrame(findings, columns=DISCREPANCY),
        "context": pd.DataFrame(context, columns=CONTEXT),
        "file_problems": pd.DataFrame(
            [(f"{QUARTER}/submissions/{KAB}/{villages[1]}.xlsx", villages[1], "UNREADABLE", "Berkas XLSX rusak.")],
            columns=["source_file", "kode_desa", "status", "message"],
        ),
        "snapshot": snapshot,
        "submitted": pd.DataFrame(submitted),
    }  # fmt: skip


MIXES = {
    "every finding, often": (
        11,
        160,
        {cat: 0.12 for cat in [*c.CATEGORIES, c.BIODATA_TIDAK_SESUAI_NIK] if cat != c.GANDA},
    ),
    "identity and deaths": (
        12,
        120,
        {c.IDENTITAS_TIDAK_SESUAI: 0.4, c.MENINGGAL: 0.2, c.NIK_TIDAK_VALID: 0.1, c.FORMAT_TIDAK_VALID: 0.05},
    ),
}


def assert_pages_read_well(pdf: Path, *, allowed: tuple[str, ...] = ()) -> list:
    pages = read_pdf(pdf)
    assert pages
    for page in pages:
        numbers = PAGE_NUMBER.findall(page.text)
        assert numbers == [(str(page.number), str(len(pages)))], (pdf.name, page.number, numbers)
        assert page.min_font_pt >= 8.0 - 0.05, (pdf.name, page.number, page.min_font_pt)
        if any(name in page.text.splitlines()[0] for name in allowed):
            continue  # a sheet whose words are the submission's own column names or landing paths
        assert offending_words(page.text) == [], (pdf.name, page.number, offending_words(page.text))
    return pages


@pytest.mark.parametrize("mix", list(MIXES))
def test_workbook_prints_readably(tmp_path, mix):
    require_soffice()
    seed, n, shares = MIXES[mix]
    t = quarter(seed, n, shares)
    persons = t["snapshot"]
    previous = persons.iloc[5:].assign(status_dtks=c.AKTIF, alasan_nonaktif=None)
    changes = household_changes("2026Q2", previous, persons, t["row_outcome"].merge(t["context"]))
    path = write_kabupaten_workbook(
        tmp_path / "laporan.xlsx",
        kode_kab=KAB,
        quarter=QUARTER,
        run_id=RUN,
        discrepancy=t["discrepancy"],
        row_outcome=t["row_outcome"],
        file_problems=t["file_problems"],
        context=t["context"],
        snapshot=persons,
        changes=changes,
    )
    pages = assert_pages_read_well(to_pdf(path, tmp_path / "pdf"), allowed=(FILE_PROBLEMS_SHEET,))
    assert len(pages) >= 10

    # every finding on a linked row carries the value to use
    wb = openpyxl.load_workbook(path)
    linked = {g.STATUS_PADAN_LABELS[c.PADAN], g.STATUS_PADAN_LABELS[c.PADAN_DENGAN_KOREKSI]}
    checked = 0
    for cat in set(t["discrepancy"]["category"]):
        rows = list(wb[sheet_name(cat)].iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if r and r[0] == "Desa/Kelurahan")
        header = rows[start]
        for r in rows[start + 1 :]:
            rec = dict(zip(header, r, strict=False))
            if rec["Status padan"] in linked:
                assert rec["Nilai yang disarankan"], (cat, rec)
                checked += 1
            assert rec["Tindakan"], (cat, rec)
    assert checked > 10


@pytest.mark.parametrize("mix", list(MIXES))
def test_village_file_prints_readably(tmp_path, mix):
    require_soffice()
    seed, n, shares = MIXES[mix]
    t = quarter(seed, n, shares)
    rows = feedback_rows(t["row_outcome"], t["context"], t["discrepancy"], pd.DataFrame())
    busiest = rows[rows["categories"].notna()]["source_file"].value_counts().index[0]
    path = write_desa_feedback(
        tmp_path / "hasil_usulan.xlsx",
        kode_desa=Path(busiest).stem,
        quarter=QUARTER,
        run_id=RUN,
        rows=rows[rows["source_file"] == busiest],
        source_file=busiest,
        submitted=t["submitted"][t["submitted"]["source_file"] == busiest],
        changes=household_changes(None, None, t["snapshot"]),
    )
    pages = assert_pages_read_well(to_pdf(path, tmp_path / "pdf"), allowed=(RESUBMIT_SHEET,))
    text = "\n".join(p.text for p in pages)
    assert "Perlu" in text and "YA" in text
    assert "lihat laporan Dinas Sosial" not in text
