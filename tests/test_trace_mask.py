"""`dtks trace --mask`: no NIK, KK, name, birth date, address or other personal value of a row survives,
whatever its finding categories, whatever headers the operator typed (a file without a header row makes
the first person's data into headers)."""

from __future__ import annotations

import dataclasses
import json
import re

from pipelines import contract as c
from pipelines.trace import RowTrace, Trace, format_trace, mask_trace, trace_document

NIK, NIK_DUKCAPIL, KK, KK_DUKCAPIL = "3201011508950001", "3201011508950003", "3201011508950002", "3201010101950004"
NAME, NAME_DUKCAPIL, MOTHER = "SITI AMINAH", "SITI AMINA", "HALIMAH TUSSADIAH"
BIRTH, BIRTH_DUKCAPIL, DEATH = "1995-08-15", "1995-08-16", "2026-05-04"
ADDRESS, BIRTHPLACE, PHONE, ID_DTKS = "JL. MAWAR NO. 3 DUSUN KRAJAN", "SELONG", "081234567890", "DTKS-5203-000777"
OTHER_ROW_NIK = "3201011508950009"
PERSONAL = (
    NIK,
    NIK_DUKCAPIL,
    KK,
    KK_DUKCAPIL,
    OTHER_ROW_NIK,
    NAME,
    NAME_DUKCAPIL,
    MOTHER,
    "AMINAH",
    "HALIMAH",
    BIRTH,
    BIRTH_DUKCAPIL,
    "15-08-1995",
    DEATH,
    ADDRESS,
    "MAWAR",
    BIRTHPLACE,
    PHONE,
    ID_DTKS,
    "000777",
)
SOURCE = "2026Q3/submissions/5203/5203012001.csv"


def _findings() -> list[dict]:
    """One finding of every category, worded as pipelines/findings.py and the validation suite word them."""
    details = {
        c.NIK_TIDAK_VALID: ("Tanggal lahir yang tersandi di NIK tidak valid.", None),
        c.NIK_TIDAK_DITEMUKAN: ("NIK tidak terdaftar di Dukcapil dan tidak ditemukan kecocokan.", None),
        c.NIK_BERBEDA: ("NIK pada usulan milik orang lain di Dukcapil (mis. anggota keluarga).", NIK_DUKCAPIL),
        c.KK_BERBEDA: ("Nomor KK pada usulan berbeda dari nomor KK di Dukcapil.", KK_DUKCAPIL),
        c.IDENTITAS_TIDAK_SESUAI: (
            f"nama (usulan: {NAME}; Dukcapil: {NAME_DUKCAPIL}); tanggal_lahir (usulan: {BIRTH}; "
            f"Dukcapil: {BIRTH_DUKCAPIL}); jenis_kelamin (usulan: L; Dukcapil: PEREMPUAN)",
            BIRTH_DUKCAPIL,
        ),
        c.MENINGGAL: (f"Tercatat meninggal di Dukcapil pada {DEATH}", None),
        c.GANDA: (f"Data ganda dengan: {SOURCE} baris 9; 2026Q3/submissions/5203/5203012002.xlsx baris 3", None),
        c.PEKERJAAN_TIDAK_LAYAK: ("Pekerjaan menurut Dukcapil: PEGAWAI NEGERI SIPIL (PNS)", None),
        c.PINDAH_DOMISILI: ("Domisili menurut Dukcapil: desa 5203012002 (Pringgabaya)", "5203012002"),
        c.DATA_TIDAK_LENGKAP: ("Nama wajib diisi.", None),
        c.FORMAT_TIDAK_VALID: ("Tanggal lahir bukan tanggal yang valid dalam format YYYY-MM-DD.", None),
        c.KEMUNGKINAN_PADAN: (
            "Kemungkinan sama dengan penduduk Dukcapil (probabilitas 0.93); perlu diperiksa petugas.",
            OTHER_ROW_NIK,
        ),
        c.BIODATA_TIDAK_SESUAI_NIK: (
            f"Biodata tidak sesuai dengan yang tersandi di NIK: tanggal_lahir (NIK: 15-08-..95; usulan: {BIRTH}).",
            None,
        ),
    }
    assert set(details) == set(c.CATEGORIES)
    return [
        {
            "run_id": "manual__2026-12-02T03:13:08+00:00",
            "quarter": "2026Q3",
            "kode_desa": "5203012001",
            "source_file": SOURCE,
            "source_row": 7,
            "nik": NIK,
            "category": category,
            "detail": detail,
            "suggested_value": suggested,
        }
        for category, (detail, suggested) in details.items()
    ]


def _trace() -> Trace:
    # A headerless file: the first person's values became the headers; plus headers an operator typed.
    input_row = {
        "5203012001": "5203012001",
        "3201011508950009": NIK,
        "SITI AMINAH": NAME,
        "15-08-1995": BIRTH,
        "No KK": KK,
        "NO_KK (kolom 6)": KK,
        "Nomor KK": KK,
        "no kk ": KK,
        "nama_ibu_kandung": MOTHER,
        "tempat_lahir": BIRTHPLACE,
        "alamat": ADDRESS,
        "rt": "003",
        "rw": "001",
        "id_dtks": ID_DTKS,
        "No HP": PHONE,
        "Catatan": f"pindahan, ibu {MOTHER}",
        "jenis_kelamin": NAME,  # a value in the wrong column
        "status_usulan": "TETAP",
    }
    raw_fields = {
        "kode_desa": "5203012001",
        "nik": NIK,
        "no_kk": KK,
        "nama": NAME,
        "tanggal_lahir": BIRTH,
        "tempat_lahir": BIRTHPLACE,
        "alamat": ADDRESS,
        "nama_ibu_kandung": MOTHER,
        "SITI AMINAH": NAME,
        "(kolom 19 tanpa judul)": PHONE,
    }
    levels, weights = json.dumps({"nik": 3, "name": 2}), json.dumps({"nik": 12.5, "name": 4.25})
    row = RowTrace(
        SOURCE,
        7,
        {
            "run_id": "r",
            "quarter": "2026Q3",
            "source_file": SOURCE,
            "source_row": 7,
            "kode_desa": "5203012001",
            "outcome": "PUBLISHED",
            "person_key": "P0123456789ABCDEF012",
            "nik_dukcapil": NIK_DUKCAPIL,
            "status_padan": "PADAN_DENGAN_KOREKSI",
            "match_probability": 0.9993,
            "nik_kandidat": OTHER_ROW_NIK,
        },
        input_file={
            "source_file": SOURCE,
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        },
        input_row=input_row,
        input_check="SHA-256 matches",
        validation=[
            {
                "expectation": "expect_biodata",
                "category": c.BIODATA_TIDAK_SESUAI_NIK,
                "field": "tanggal_lahir",
                "action": "finding",
                "message": f"Biodata tidak sesuai dengan yang tersandi di NIK: tanggal_lahir (NIK: 15-08-..95; "
                f"usulan: {BIRTH}).",
            }
        ],
        quarantine={
            "source_file": SOURCE,
            "source_row": 7,
            "kode_desa": "5203012001",
            "raw_fields": json.dumps(raw_fields),
            "reasons": json.dumps(
                [{"category": c.FORMAT_TIDAK_VALID, "field": "tanggal_lahir", "message": f"lahir {BIRTH} salah"}]
            ),
            "categories": c.FORMAT_TIDAK_VALID,
        },
        candidates=[
            {
                "rank": 1,
                "candidate_nik": NIK_DUKCAPIL,
                "method": "probabilistic",
                "chosen": True,
                "match_weight": 16.75,
                "match_probability": 0.9993,
                "levels": levels,
                "weights": weights,
            }
        ],
        duplicates=[
            {
                "source_file_a": SOURCE,
                "source_row_a": 7,
                "source_file_b": SOURCE,
                "source_row_b": 9,
                "accepted": True,
                "match_weight": 16.75,
                "match_probability": 0.999,
                "levels": levels,
                "weights": weights,
            }
        ],
        findings=_findings(),
        published={
            "person_key": "P0123456789ABCDEF012",
            "kode_desa": "5203012001",
            "no_kk": KK_DUKCAPIL,
            "nik": NIK_DUKCAPIL,
            "nama": NAME_DUKCAPIL,
            "jenis_kelamin": "P",
            "tanggal_lahir": BIRTH_DUKCAPIL,
            "hubungan_keluarga": "ISTRI",
            "status_padan": "PADAN_DENGAN_KOREKSI",
            "nik_dukcapil": NIK_DUKCAPIL,
            "status_dtks": "NONAKTIF",
            "alasan_nonaktif": "MENINGGAL",
            "source_file": SOURCE,
            "source_row": 7,
            "kode_kab": "5203",
            "id_dtks": ID_DTKS,
            "program": "PKH;BPNT",
            "jumlah_baris": 2,
            "nama_panggilan": "AMINAH",  # a column a later migration adds: masked until declared safe
        },
        person_rows=[{"source_file": SOURCE, "source_row": 9, "outcome": "MERGED_DUPLICATE"}],
        dukcapil={
            NIK_DUKCAPIL: {
                "source_file": "2026Q3/dukcapil/5203.csv",
                "source_row": 12,
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "check": "SHA-256 cocok",
                "values": {
                    "NIK": NIK_DUKCAPIL,
                    "NO_KK": KK_DUKCAPIL,
                    "NAMA_LGKP": NAME_DUKCAPIL,
                    "JENIS_KLMIN": "PEREMPUAN",
                    "TGL_LHR": BIRTH_DUKCAPIL,
                    "NO_KEL": "2001",
                    "TGL_MATI": DEATH,
                },
            }
        },
        previous={
            "quarter": "2026Q2",
            "found": True,
            "matched_by": "person_key",
            "person_key": "P0123456789ABCDEF012",
            "source_file": "2026Q2/submissions/5203/5203012001.csv",
            "source_row": 3,
            "status_dtks": "AKTIF",
            "alasan_nonaktif": None,
            "kode_desa": "5203012001",
        },
    )
    model = {"prior": 1e-5, "comparisons": {"nik": [{"label": f"l{i}"} for i in range(4)], "name": []}}
    return Trace("2026Q3", {"run_id": "r", "code_version": "0.1.0", "linkage": {"model": model}}, [row])


def _found(text: str) -> list[str]:
    digits_only = re.sub(r"(?<=\d)[ .\-](?=\d)", "", text)
    return [v for v in PERSONAL if v in text or v in digits_only]


def test_unmasked_trace_shows_the_values() -> None:
    text = format_trace(_trace())
    assert NIK in text and NAME in text and KK in text  # the fixture does carry them


def test_masked_trace_shows_no_personal_value() -> None:
    text = format_trace(_trace(), mask=True)
    assert not _found(text), _found(text)
    masked = json.dumps(dataclasses.asdict(mask_trace(_trace())), default=str)
    assert not _found(masked), _found(masked)
    document = json.dumps(trace_document(_trace(), mask=True), ensure_ascii=False)
    assert not _found(document), _found(document)


def test_masked_trace_stays_useful() -> None:
    text = format_trace(_trace(), mask=True)
    # Identifiers keep province/kabupaten and serial, names their initials; codes and decisions stay.
    assert "nik=3201********0001" in text and "no_kk=3201********0002" in text and "nama=S*** A*****" in text
    assert "nomor_kk=3201********0002" in text and "tanggal_lahir=****-**-**" in text
    assert "kolom 2=***; kolom 3=***" in text  # headers that were a person's data name no column
    assert "tanggal_lahir (usulan: ****-**-**; Dukcapil: ****-**-**)" in text
    assert "(nilai yang disarankan: ****-**-**)" in text
    assert "jenis_kelamin=***" in text and "status_usulan=TETAP" in text and "kode_desa=5203012001" in text
    assert "kandidat 1: NIK 3201********0003, pencocokan probabilistik" in text and "padan dengan koreksi" in text
    assert "Dukcapil: 2026Q3/dukcapil/5203.csv baris 12" in text
    assert "nilai Dukcapil: NIK=3201********0003; nomor KK=3201********0004; nama=S*** A****" in text
    assert "tanggal lahir=****-**-**" in text and "desa=2001; tanggal meninggal=****-**-**" in text
    assert "triwulan lalu     Triwulan II 2026 (2026Q2): status DTKS AKTIF" in text and "kini NONAKTIF" in text
    assert "nama (usulan: S*** A*****; Dukcapil: S*** A****)" in text
    assert (
        "[PINDAH_DOMISILI]: Domisili menurut Dukcapil: desa 5203012002 (Pringgabaya) "
        "(nilai yang disarankan: 5203012002)" in text
    )
    assert "[PEKERJAAN_TIDAK_LAYAK]: Pekerjaan menurut Dukcapil: PEGAWAI NEGERI SIPIL (PNS)" in text
    assert "[MENINGGAL]: Tercatat meninggal di Dukcapil pada ****-**-**" in text
    assert f"Data ganda dengan: {SOURCE} baris 9" in text
    assert (
        "diterbitkan       P0123456789ABCDEF012: NIK 3201********0003, nama S*** A****, status DTKS NONAKTIF "
        "(Meninggal dunia menurut Dukcapil)" in text
    )
    for category in c.CATEGORIES:
        assert f"[{category}]:" in text
    assert "bobot kecocokan (tanpa prior)" in text  # the waterfall is still drawn


def test_the_value_to_use_is_shown_and_masked_by_field():
    """`discrepancy.suggestion` (migration 0009): in the trace, and with `--mask` its names, dates and
    numbers masked by the field each part names."""
    finding = {
        "category": c.IDENTITAS_TIDAK_SESUAI,
        "detail": "nama (usulan: SITI; Dukcapil: SITI AMINAH)",
        "suggested_value": None,
        "suggestion": "nama: SITI AMINAH; tanggal lahir: 15-08-1995",
    }
    row = dataclasses.replace(_trace().rows[0], findings=[finding])
    trace = dataclasses.replace(_trace(), rows=[row])
    assert "nilai yang disarankan: nama: SITI AMINAH; tanggal lahir: 15-08-1995" in format_trace(trace)
    masked = format_trace(mask_trace(trace))
    assert "AMINAH" not in masked and "15-08-1995" not in masked and "tanggal lahir: **-**-****" in masked
    assert trace_document(trace)["rows"][0]["findings"][0]["suggestion"] == finding["suggestion"]
