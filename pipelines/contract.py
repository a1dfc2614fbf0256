"""Names fixed by the data contract (docs/contracts.md). Other programs are written against them.

Everything here is a constant: column names, enumerations, categories and outcomes. The project may add
names; it never renames or drops one.
"""

from __future__ import annotations

import re
from typing import Final

QUARTER_PATTERN: Final = re.compile(r"^(?P<year>\d{4})Q(?P<q>[1-4])$", re.ASCII)

# 1. The landing area below `<landing>/<quarter>/`: the two input folders. The synthetic generator adds its
# ground truth beside them (not an input, never read by a run).
LANDING_SUBMISSIONS: Final = "submissions"
LANDING_DUKCAPIL: Final = "dukcapil"
SYNTH_GROUND_TRUTH: Final = "_ground_truth"

# 1.1 Village submission: columns in contract order, and the ones that must be present.
SUBMISSION_COLUMNS: Final = (
    "kode_desa",
    "id_dtks",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tempat_lahir",
    "tanggal_lahir",
    "hubungan_keluarga",
    "nama_ibu_kandung",
    "alamat",
    "rt",
    "rw",
    "pekerjaan",
    "status_usulan",
    "alasan_nonaktif",
    "program",
)
# `nik` is a required column, but an empty value is a finding (NIK_TIDAK_VALID), not a quarantine.
SUBMISSION_REQUIRED: Final = (
    "kode_desa",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan_keluarga",
    "status_usulan",
)

# 1.2 Dukcapil extract.
DUKCAPIL_COLUMNS: Final = (
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "JENIS_KLMIN",
    "TMPT_LHR",
    "TGL_LHR",
    "STAT_HBKEL",
    "JENIS_PKRJN",
    "NAMA_LGKP_IBU",
    "ALAMAT",
    "NO_RT",
    "NO_RW",
    "NO_PROP",
    "NO_KAB",
    "NO_KEC",
    "NO_KEL",
    "TGL_MATI",
)
DUKCAPIL_REQUIRED: Final = (
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "JENIS_KLMIN",
    "TGL_LHR",
    "NO_PROP",
    "NO_KAB",
    "NO_KEC",
    "NO_KEL",
)

HUBUNGAN_KELUARGA: Final = (
    "KEPALA KELUARGA",
    "SUAMI",
    "ISTRI",
    "ANAK",
    "MENANTU",
    "CUCU",
    "ORANG TUA",
    "MERTUA",
    "FAMILI LAIN",
    "LAINNYA",
)
STATUS_USULAN: Final = ("BARU", "PERBAIKAN", "TETAP", "NONAKTIF")
ALASAN_NONAKTIF: Final = ("MENINGGAL", "PINDAH", "MAMPU", "GANDA", "TIDAK_DITEMUKAN")
PROGRAMS: Final = ("PKH", "BPNT", "PBI-JK", "BST", "BLT-DD")
JENIS_KELAMIN_DUKCAPIL: Final = {"L": "LAKI-LAKI", "P": "PEREMPUAN"}

# Occupations that make a person ineligible by default (configurable in pipelines.config).
INELIGIBLE_OCCUPATIONS: Final = (
    "PEGAWAI NEGERI SIPIL (PNS)",
    "TENTARA NASIONAL INDONESIA (TNI)",
    "KEPOLISIAN RI (POLRI)",
    "KARYAWAN BUMN",
    "KARYAWAN BUMD",
    "ANGGOTA DPR-RI",
    "ANGGOTA DPD",
    "ANGGOTA BPK",
    "PRESIDEN",
    "WAKIL PRESIDEN",
    "ANGGOTA MAHKAMAH KONSTITUSI",
    "ANGGOTA KABINET/KEMENTERIAN",
    "DUTA BESAR",
    "GUBERNUR",
    "WAKIL GUBERNUR",
    "BUPATI",
    "WAKIL BUPATI",
    "WALIKOTA",
    "WAKIL WALIKOTA",
    "ANGGOTA DPRD PROVINSI",
    "ANGGOTA DPRD KABUPATEN/KOTA",
    "PERANGKAT DESA",
    "KEPALA DESA",
)

# 3.1 row_outcome
OUTCOME_PUBLISHED: Final = "PUBLISHED"
OUTCOME_MERGED: Final = "MERGED_DUPLICATE"
OUTCOME_QUARANTINED: Final = "QUARANTINED"
OUTCOMES: Final = (OUTCOME_PUBLISHED, OUTCOME_MERGED, OUTCOME_QUARANTINED)

PADAN: Final = "PADAN"
PADAN_DENGAN_KOREKSI: Final = "PADAN_DENGAN_KOREKSI"
PERLU_VERIFIKASI: Final = "PERLU_VERIFIKASI"
TIDAK_PADAN: Final = "TIDAK_PADAN"
STATUS_PADAN: Final = (PADAN, PADAN_DENGAN_KOREKSI, PERLU_VERIFIKASI, TIDAK_PADAN)
LINKED_STATUSES: Final = (PADAN, PADAN_DENGAN_KOREKSI)

# 3.2 dtks_snapshot
AKTIF: Final = "AKTIF"
NONAKTIF: Final = "NONAKTIF"
# alasan_nonaktif values the pipeline adds to the village's own reasons.
ALASAN_TIDAK_LAYAK: Final = "PEKERJAAN_TIDAK_LAYAK"

# 3.3 discrepancy categories. The first eleven are the contract's; the project adds the last two.
NIK_TIDAK_VALID: Final = "NIK_TIDAK_VALID"
NIK_TIDAK_DITEMUKAN: Final = "NIK_TIDAK_DITEMUKAN"
NIK_BERBEDA: Final = "NIK_BERBEDA"
KK_BERBEDA: Final = "KK_BERBEDA"
IDENTITAS_TIDAK_SESUAI: Final = "IDENTITAS_TIDAK_SESUAI"
MENINGGAL: Final = "MENINGGAL"
GANDA: Final = "GANDA"
PEKERJAAN_TIDAK_LAYAK: Final = "PEKERJAAN_TIDAK_LAYAK"
PINDAH_DOMISILI: Final = "PINDAH_DOMISILI"
DATA_TIDAK_LENGKAP: Final = "DATA_TIDAK_LENGKAP"
FORMAT_TIDAK_VALID: Final = "FORMAT_TIDAK_VALID"
# Added: a possible Dukcapil match that a clerk must confirm (status_padan PERLU_VERIFIKASI).
KEMUNGKINAN_PADAN: Final = "KEMUNGKINAN_PADAN"
# Added: a valid NIK whose encoded birth date or sex disagrees with tanggal_lahir/jenis_kelamin (a finding).
BIODATA_TIDAK_SESUAI_NIK: Final = "BIODATA_TIDAK_SESUAI_NIK"

CATEGORIES: Final = (
    NIK_TIDAK_VALID,
    NIK_TIDAK_DITEMUKAN,
    NIK_BERBEDA,
    KK_BERBEDA,
    IDENTITAS_TIDAK_SESUAI,
    MENINGGAL,
    GANDA,
    PEKERJAAN_TIDAK_LAYAK,
    PINDAH_DOMISILI,
    DATA_TIDAK_LENGKAP,
    FORMAT_TIDAK_VALID,
    KEMUNGKINAN_PADAN,
    BIODATA_TIDAK_SESUAI_NIK,
)
QUARANTINE_CATEGORIES: Final = (DATA_TIDAK_LENGKAP, FORMAT_TIDAK_VALID)

# Warehouse tables (section 3). On PostgreSQL they live in this schema.
WAREHOUSE_SCHEMA: Final = "dtks"
TABLE_ROW_OUTCOME: Final = "row_outcome"
TABLE_SNAPSHOT: Final = "dtks_snapshot"
TABLE_DISCREPANCY: Final = "discrepancy"
TABLE_RUN: Final = "run"
TABLE_QUARANTINE: Final = "quarantine"


def quarter_is_valid(quarter: str) -> bool:
    return bool(QUARTER_PATTERN.fullmatch(quarter))  # fullmatch: `$` alone would let a trailing newline in
