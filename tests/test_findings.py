"""Findings, outcomes and person keys, rule by rule (docs/findings.md), on hand-built linkage results."""

import re

import numpy as np
import pandas as pd
import pytest

from pipelines.contract import INELIGIBLE_OCCUPATIONS
from pipelines.finding_suggestions import with_suggestions
from pipelines.findings import decide_findings
from pipelines.outcomes import decide_outcomes

N0, N1, N2 = "5203011508800001", "5203010101100003", "5203012007700004"
K1, K2 = "5203010101150001", "5203010202160002"
DESA, OTHER_DESA = "5203012001", "5203012002"

PERSONS = pd.DataFrame(
    {
        "NIK": [N0, N1, N2],
        "NO_KK": [K1, K1, K2],
        "NAMA_LGKP": ["LALU AHMAD", "MUHAMMAD RIZKI", "SAHNUN"],
        "JENIS_KLMIN": ["L", "L", "L"],
        "TGL_LHR": ["1980-08-15", "2010-01-01", "1970-07-20"],
        "STAT_HBKEL": ["KEPALA KELUARGA", "ANAK", "KEPALA KELUARGA"],
        "JENIS_PKRJN": ["PETANI/PEKEBUN", "PELAJAR/MAHASISWA", "PEGAWAI NEGERI SIPIL (PNS)"],
        "kode_desa": [DESA, DESA, OTHER_DESA],
        "TGL_MATI": [None, None, "2026-02-01"],
    }
)

AHMAD = {"nik": N0, "no_kk": K1, "nama": "H. LALU AHMAD", "jenis_kelamin": "L", "tanggal_lahir": "1980-08-15"}
# (changes to the row, linkage decision, Dukcapil person index, cluster)
CASES = [
    (AHMAD, "link", 0, 0),
    ({**AHMAD, "nik": N0, "nama": "MOH. RIZKI", "tanggal_lahir": "2010-01-01"}, "link", 1, 1),
    ({**AHMAD, "nik": N2, "no_kk": K2, "nama": "SAHNUN", "tanggal_lahir": "1970-07-20"}, "link", 2, 2),
    ({**AHMAD, "no_kk": "5203010101159999"}, "link", 0, 0),
    ({**AHMAD, "tanggal_lahir": "1980-01-01"}, "link", 0, 0),
    ({**AHMAD, "nik": "5203015505900009", "nama": "ORANG BARU"}, "none", -1, 5),
    ({**AHMAD, "nik": N2, "nama": "ORANG LAIN", "tanggal_lahir": "1999-09-09"}, "none", -1, 6),
    ({**AHMAD, "nik": None, "nama": "MUHAMMAD RIZKA"}, "review", 1, 7),
    ({**AHMAD, "nik": "123", "nama": "TANPA NIK"}, "none", -1, 8),
    ({**AHMAD, "nama": None}, None, None, None),
    ({**AHMAD, "nik": "5203016606900001", "nama": "KEPALA X", "id_dtks": None}, "none", -1, 10),
    ({**AHMAD, "nik": "5203016606900001", "nama": "ANAK X", "id_dtks": None}, "none", -1, 11),
]


@pytest.fixture(scope="module")
def decided():
    base = {
        "kode_desa": DESA,
        "id_dtks": None,
        "hubungan_keluarga": "ANAK",
        "status_usulan": "TETAP",
        "alasan_nonaktif": None,
        "program": None,
    }
    rows = pd.DataFrame([{**base, **c[0]} for c in CASES])
    rows.insert(0, "row_id", range(len(rows)))
    rows["source_file"], rows["source_row"] = "2026Q3/submissions/5203/5203012001.csv", rows["row_id"] + 1
    rows["file_kode_kab"], rows["file_kode_desa"] = "5203", DESA
    rows["quarantined"] = rows["row_id"] == 9
    live = [i for i, c in enumerate(CASES) if c[1]]
    decisions = pd.DataFrame(
        {
            "row_id": live,
            "decision": [CASES[i][1] for i in live],
            "person_index": [CASES[i][2] for i in live],
            "cluster": [CASES[i][3] for i in live],
            "method": ["exact" if CASES[i][1] == "link" else "none" for i in live],
            "match_probability": [
                0.99 if CASES[i][1] == "link" else (0.7 if CASES[i][1] == "review" else np.nan) for i in live
            ],
        }
    )
    reasons = pd.DataFrame(
        {
            "row_id": [8, 9],
            "source_file": rows["source_file"][:2],
            "source_row": [9, 10],
            "expectation": ["x", "y"],
            "category": ["NIK_TIDAK_VALID", "DATA_TIDAK_LENGKAP"],
            "field": ["nik", "nama"],
            "action": ["finding", "quarantine"],
            "message": ["NIK harus terdiri dari 16 digit angka.", "Nama wajib diisi."],
        }
    )
    discrepancy, per_row = decide_findings(rows, reasons, decisions, PERSONS, INELIGIBLE_OCCUPATIONS)
    outcome, snapshot = decide_outcomes(rows, decisions, per_row, PERSONS, "secret")
    return with_suggestions(discrepancy, per_row, outcome, snapshot), outcome, snapshot


def categories(discrepancy, row_id):
    return sorted(discrepancy.loc[discrepancy["row_id"] == row_id, "category"])


@pytest.mark.parametrize(
    ("row_id", "expected"),
    [
        (0, ["GANDA"]),
        (1, ["NIK_BERBEDA"]),  # head's NIK on a member: linked to the member, so no IDENTITAS
        (2, ["MENINGGAL", "PEKERJAAN_TIDAK_LAYAK", "PINDAH_DOMISILI"]),
        (3, ["GANDA", "KK_BERBEDA"]),
        (4, ["GANDA", "IDENTITAS_TIDAK_SESUAI"]),  # placeholder birth date on the person's own NIK
        (5, ["NIK_TIDAK_DITEMUKAN"]),
        (6, ["IDENTITAS_TIDAK_SESUAI"]),  # somebody else's NIK, not linked
        (7, ["KEMUNGKINAN_PADAN"]),
        (8, ["NIK_TIDAK_VALID"]),
        (9, ["DATA_TIDAK_LENGKAP"]),
    ],
)
def test_categories(decided, row_id, expected):
    assert categories(decided[0], row_id) == expected


def test_details_and_suggestions(decided):
    d = decided[0].set_index(["row_id", "category"])
    assert d.loc[(1, "NIK_BERBEDA"), "suggested_value"] == N1
    assert "milik orang lain" in d.loc[(1, "NIK_BERBEDA"), "detail"]
    assert d.loc[(3, "KK_BERBEDA"), "suggested_value"] == K1
    assert d.loc[(4, "IDENTITAS_TIDAK_SESUAI"), "detail"].startswith("tanggal lahir (usulan: ")
    assert d.loc[(2, "PINDAH_DOMISILI"), "suggested_value"] == OTHER_DESA
    assert d.loc[(7, "KEMUNGKINAN_PADAN"), "suggested_value"] == N1
    assert "baris 4" in d.loc[(0, "GANDA"), "detail"] and "baris 5" in d.loc[(0, "GANDA"), "detail"]


def test_the_value_to_use_is_decided_with_the_finding(decided):
    """`discrepancy.suggestion`: the value to use in words, wherever the pipeline knows it."""
    d = decided[0].set_index(["row_id", "category"])["suggestion"]
    assert d[(1, "NIK_BERBEDA")] == N1
    assert d[(3, "KK_BERBEDA")] == K1
    assert d[(4, "IDENTITAS_TIDAK_SESUAI")] == "tanggal lahir: 15-08-1980"  # Dukcapil's, DD-MM-YYYY
    assert d[(2, "MENINGGAL")] == "NONAKTIF (meninggal 01-02-2026)"
    assert d[(2, "PEKERJAAN_TIDAK_LAYAK")].startswith("NONAKTIF (")
    assert d[(2, "PINDAH_DOMISILI")].startswith("desa ") and d[(2, "PINDAH_DOMISILI")].endswith("(52.03.01.2002)")
    assert d[(7, "KEMUNGKINAN_PADAN")] == N1
    assert d[(0, "GANDA")] == "Baris ini yang dipertahankan"
    assert d[(3, "GANDA")].startswith("Dipertahankan: ") and "baris 2" in d[(3, "GANDA")]  # Excel's row number
    assert pd.isna(d[(8, "NIK_TIDAK_VALID")]) and pd.isna(d[(9, "DATA_TIDAK_LENGKAP")])  # not known
    assert pd.isna(d[(6, "IDENTITAS_TIDAK_SESUAI")])  # not linked: Dukcapil's values are someone else's


def test_no_column_names_in_what_officers_read(decided):
    """`detail` and `suggestion` name fields in words (`tanggal lahir`), never `tanggal_lahir`."""
    text = " ".join(decided[0][["detail", "suggestion"]].fillna("").to_numpy().ravel())
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", text)


def test_outcomes_and_snapshot(decided):
    _, outcome, snapshot = decided
    by_row = outcome.set_index("source_row")
    assert by_row.loc[1, "outcome"] == "PUBLISHED" and by_row.loc[4, "outcome"] == "MERGED_DUPLICATE"
    assert by_row.loc[4, "merged_into_row"] == 1 and by_row.loc[10, "outcome"] == "QUARANTINED"
    assert by_row.loc[1, "status_padan"] == "PADAN" and by_row.loc[2, "status_padan"] == "PADAN_DENGAN_KOREKSI"
    assert by_row.loc[8, "status_padan"] == "PERLU_VERIFIKASI" and pd.isna(by_row.loc[8, "nik_dukcapil"])
    assert by_row.loc[1, "person_key"] == by_row.loc[4, "person_key"] == by_row.loc[5, "person_key"]
    # Two unlinked people who share a wrong NIK still get two keys.
    assert by_row.loc[11, "person_key"] != by_row.loc[12, "person_key"]
    assert snapshot["person_key"].is_unique and len(snapshot) == (outcome["outcome"] == "PUBLISHED").sum()

    assert snapshot["nik"].dropna().is_unique  # a NIK that belongs to someone else is not republished
    snap = snapshot.dropna(subset=["nik"]).set_index("nik")
    assert snap.loc[N0, "nama"] == "LALU AHMAD"  # corrected from Dukcapil
    assert snap.loc[N2, "status_dtks"] == "NONAKTIF" and snap.loc[N2, "alasan_nonaktif"] == "MENINGGAL"
    assert snap.loc[N0, "status_dtks"] == "AKTIF" and snap.loc[N0, "jumlah_baris"] == 3


def test_an_empty_dukcapil_extract_leaves_every_row_unlinked():
    """The quality gate stops such a quarter; the decisions themselves must still hold without persons."""
    rows = pd.DataFrame(
        [
            {
                **AHMAD,
                "kode_desa": DESA,
                "hubungan_keluarga": "ANAK",
                "status_usulan": "TETAP",
                "id_dtks": None,
                "alasan_nonaktif": None,
                "program": None,
            }
        ]
    )
    rows.insert(0, "row_id", range(len(rows)))
    rows["source_file"], rows["source_row"] = "2026Q3/submissions/5203/5203012001.csv", 1
    rows["file_kode_kab"], rows["file_kode_desa"], rows["quarantined"] = "5203", DESA, False
    decisions = pd.DataFrame(
        {"row_id": [0], "decision": ["none"], "person_index": [-1], "cluster": [0], "method": ["none"]}
    ).assign(match_probability=np.nan)
    reasons = pd.DataFrame(columns=["row_id", "source_file", "source_row", "expectation", "category", "field"])
    reasons = reasons.assign(action=None, message=None)
    empty = PERSONS.iloc[:0]
    discrepancy, per_row = decide_findings(rows, reasons, decisions, empty, INELIGIBLE_OCCUPATIONS)
    outcome, snapshot = decide_outcomes(rows, decisions, per_row, empty, "secret")
    assert set(discrepancy["category"]) == {"NIK_TIDAK_DITEMUKAN"}
    assert list(outcome["outcome"]) == ["PUBLISHED"] and snapshot["status_padan"].eq("TIDAK_PADAN").all()
