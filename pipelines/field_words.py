"""Field names in the words an officer or a village operator reads them: the submission's columns
(contract 1.1) and the Dukcapil columns that appear in findings. Findings and validation messages name a
field by these words, never by its column name, so the warehouse's `detail` reads as the reports do."""

from __future__ import annotations

from typing import Final

FIELD_WORDS: Final[dict[str, str]] = {
    "kode_desa": "kode desa",
    "id_dtks": "ID DTKS",
    "no_kk": "nomor KK",
    "nik": "NIK",
    "nama": "nama",
    "jenis_kelamin": "jenis kelamin",
    "tempat_lahir": "tempat lahir",
    "tanggal_lahir": "tanggal lahir",
    "hubungan_keluarga": "hubungan keluarga",
    "nama_ibu_kandung": "nama ibu kandung",
    "alamat": "alamat",
    "rt": "RT",
    "rw": "RW",
    "pekerjaan": "pekerjaan",
    "status_usulan": "status usulan",
    "alasan_nonaktif": "alasan nonaktif",
    "program": "program",
    "NO_KK": "nomor KK",
    "NAMA_LGKP": "nama",
    "TGL_LHR": "tanggal lahir",
    "TGL_MATI": "tanggal meninggal",
    "JENIS_KLMIN": "jenis kelamin",
    "JENIS_PKRJN": "pekerjaan",
}
# The fields a finding compares with Dukcapil or with the NIK, by their words (`tanggal lahir`).
COMPARED_FIELDS: Final = ("nama", "tanggal_lahir", "jenis_kelamin")
FIELD_OF_WORDS: Final[dict[str, str]] = {FIELD_WORDS[f]: f for f in COMPARED_FIELDS}


def field_words(field: str) -> str:
    """`tanggal_lahir` -> `tanggal lahir`; an unknown column with its underscores as spaces."""
    return FIELD_WORDS.get(field, field.replace("_", " "))
