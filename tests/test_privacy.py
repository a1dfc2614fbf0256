"""`pipelines.privacy`: what free-text masking catches, what it leaves readable, and masking by field."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from pipelines.privacy import (
    field_kind,
    mask_detail,
    mask_fields,
    mask_id,
    mask_keyed,
    mask_structure,
    mask_text,
)

NIK = "3201011508950001"


def _forms(digits: str) -> list[str]:
    """A 16-digit identifier as operators, spreadsheets and libraries write it."""
    d = digits
    groups4, groups664 = [d[0:4], d[4:8], d[8:12], d[12:16]], [d[0:6], d[6:12], d[12:16]]
    return [
        d,
        f"'{d}",
        " ".join(groups4),
        ".".join(groups4),
        "-".join(groups4),
        " ".join(groups664),
        "-".join(groups664),
        f"{d[0:4]}-{d[4:8]} {d[8:12]}.{d[12:16]}",
        f"{d[0:2]}.{d[2:4]}.{d[4:6]}.{d[6:12]}.{d[12:16]}",
        "\u00a0".join(groups4),
        ",".join([d[0], d[1:4], d[4:7], d[7:10], d[10:13], d[13:16]]),  # Excel's thousands grouping
        f"{d}.0",  # read as a float
    ]


def _exponent_forms(digits: str) -> list[str]:
    """Excel's (and Python's) exponent form, which keeps up to 15 significant digits."""
    d = digits
    return [f"{d[0]}.{d[1:12]}E+15", f"{d[0]},{d[1:6]}E+15", f"{d[0]}.{d[1:12]}e15", f"{d[0]}.{d[1:]}e+15"]


def _separated_digits(text: str) -> str:
    """Every run of digits joined by single separators, written without them, one per line: what a reader
    could still piece together."""
    runs = re.findall(r"\d+(?:[ \u00a0.,\-]\d+)*", text)
    return "\n".join(re.sub(r"\D", "", r) for r in runs)


@pytest.mark.parametrize("form", _forms(NIK))
def test_every_written_form_of_an_identifier_is_masked(form: str) -> None:
    masked = mask_text(f"Baris 7: NIK {form} tidak ditemukan")
    assert "01150895" not in _separated_digits(masked), masked
    assert "3201********0001" in masked


@pytest.mark.parametrize("form", _exponent_forms(NIK))
def test_excel_exponent_forms_are_masked(form: str) -> None:
    masked = mask_text(f"nik={form};")
    assert form not in masked and "E+15" in masked.upper().replace("E15", "E+15")
    assert "3.201" in masked or "3,201" in masked  # the province and kabupaten stay readable


_boundary_safe_prefix = st.text(max_size=40).filter(
    lambda s: not s or not (s[-1].isdigit() or s[-1] in " \u00a0.,-\u2010\u2011\u2012\u2013\u2014\u2015\u2212+")
)
_boundary_safe_suffix = st.text(max_size=40).filter(lambda s: not s or not s[0].isdigit())
_identifiers = st.from_regex(r"[1-9][0-9]{15}", fullmatch=True)


@settings(max_examples=400, deadline=None)
@given(nik=_identifiers, prefix=_boundary_safe_prefix, suffix=_boundary_safe_suffix, form=st.integers(0, 11))
@example(nik=NIK, prefix="", suffix="", form=0)
def test_an_identifier_in_any_form_never_survives_in_random_text(nik: str, prefix: str, suffix: str, form: int) -> None:
    written = _forms(nik)[form]
    assume(nik[4:12] not in _separated_digits(prefix + " " + suffix))
    masked = mask_text(prefix + written + suffix)
    assert written not in masked
    assert nik[4:12] not in _separated_digits(masked)


@settings(max_examples=200, deadline=None)
@given(nik=_identifiers, prefix=_boundary_safe_prefix, suffix=_boundary_safe_suffix, form=st.integers(0, 3))
def test_an_exponent_form_never_survives_in_random_text(nik: str, prefix: str, suffix: str, form: int) -> None:
    written = _exponent_forms(nik)[form]
    assume(not suffix or suffix[0] not in "eE")
    masked = mask_text(prefix + written + suffix)
    assert written not in masked


ORDINARY = [
    "31114 rows, 1,000,000 persons, 12 files",
    "ingest took 12.5 s (0:01:23.456), peak 2.31 GiB",
    "published at 2026-12-02T03:13:14.037690Z",
    "started 2026-12-02 03:13:14,037",
    "quarter window 2026-07-01 2026-09-30",
    "tanggal 21-06-2026 atau 21/06/2026",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "ti_id=01a234bd-de37-7b5a-8194-fcbbeb42f27a",
    "run manual__2026-12-02T03:13:08.103766+00:00, slug manual__2026-12-02T03_13_08.103766_00_00",
    "match probability 0.9876543210987654, weight -3.2017654321098765",
    "person P1234567890123456789 and PABCDEF0123456789012",
    "desa 5203012001 (52.03.01.2001), kabupaten 5203",
    "airflow 3.3.2 at 127.0.0.1:8080, pid 12345",
    "results/2026Q3-1796012345678-123.json",
    "code version 0.1.0+g1a2b3c4",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_stay_readable(text: str) -> None:
    assert mask_text(text) == text


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 10**12),
    seconds=st.floats(0, 10**6, allow_nan=False),
    when=st.datetimes(),
    seed=st.binary(min_size=16, max_size=16),
)
def test_counts_durations_timestamps_digests_and_uuids_stay_readable(count, seconds, when, seed) -> None:
    line = (
        f"{count} rows in {seconds:.3f} s at {when.isoformat()} "
        f"({when:%d-%m-%Y %H:%M:%S}); file {hashlib.sha256(seed).hexdigest()}, run {uuid.UUID(bytes=seed)}, "
        f"md5 {hashlib.md5(seed).hexdigest()}"
    )
    assert mask_text(line) == line


def test_birth_dates_next_to_an_identifier_or_a_birth_word_are_masked() -> None:
    assert mask_text("NIK 3201011508950001, 1995-08-15") == "NIK 3201********0001, ****-**-**"
    assert mask_text("tgl_lhr=15-08-1995") == "tgl_lhr=**-**-****"
    assert mask_text("Tanggal lahir 15/08/1995 tidak valid") == "Tanggal lahir **/**/**** tidak valid"
    assert mask_text("meninggal 2020-01-02") == "meninggal ****-**-**"
    # A date on its own is not recognisably personal (a run date looks the same), nor is a timestamp.
    assert mask_text("dijalankan 2026-12-02") == "dijalankan 2026-12-02"
    assert mask_text("NIK 3201011508950001 at 2026-12-02T03:13:14Z").endswith("2026-12-02T03:13:14Z")
    assert mask_text("dijalankan 2026-12-02", all_dates=True) == "dijalankan ****-**-**"


def test_phone_numbers_are_masked() -> None:
    for phone in ("081234567890", "0812-3456-7890", "+62 812 3456 7890", "6281234567890"):
        masked = mask_text(f"hubungi {phone} segera")
        assert "34567" not in _separated_digits(masked), masked


def test_a_number_run_around_an_identifier_keeps_its_other_numbers() -> None:
    assert mask_text("baris 12 3201 0115 0895 0001") == "baris 12 3201********0001"
    assert mask_text("3201011508950001;3201011508950002") == "3201********0001;3201********0002"


def test_identifiers_in_other_digit_scripts_are_masked() -> None:
    full_width = "".join(chr(0xFF10 + int(c)) for c in NIK)
    assert full_width not in mask_text(f"NIK {full_width}")


def test_mask_id_and_field_kinds() -> None:
    assert mask_id(NIK) == "3201********0001"
    assert mask_id("12345") == "12***"
    for header in ("No KK", "NO_KK", "Nomor KK", "no kk", "No. KK", "Nomor Kartu Keluarga", "NIK", "nik_ibu"):
        assert field_kind(header) == "id", header
    for header in ("Nama", "NAMA_LGKP", "nama ibu kandung", "Nama Lengkap"):
        assert field_kind(header) == "name", header
    for header in ("tanggal_lahir", "Tgl Lahir", "TGL_LHR"):
        assert field_kind(header) == "date", header
    for header in ("alamat", "No HP", "catatan", "SITI AMINAH", "3201011508950001", "rt", "tempat_lahir"):
        assert field_kind(header) == "secret", header


def test_operator_fields_are_masked_by_default() -> None:
    fields = {
        "kode_desa": "5203012001",
        "No KK": "3201011508950002",
        "NIK": NIK,
        "Nama": "SITI AMINAH",
        "jenis_kelamin": "P",
        "tanggal_lahir": "1995-08-15",
        "alamat": "JL. MAWAR NO. 3",
        "hubungan_keluarga": "ISTRI",
        "pekerjaan": "PETANI/PEKEBUN",
        "status_usulan": "TETAP",
        "program": "PKH;BPNT",
        "No HP": "081234567890",
        "SITI AMINAH": "catatan",  # a header that is a person's name (a file without a header row)
    }
    masked = mask_fields(fields, positions=True)
    assert masked == {
        "kode_desa": "5203012001",
        "no_kk": "3201********0002",
        "nik": "3201********0001",
        "nama": "S*** A*****",
        "jenis_kelamin": "P",
        "tanggal_lahir": "****-**-**",
        "alamat": "***",
        "hubungan_keluarga": "ISTRI",
        "pekerjaan": "***",
        "status_usulan": "TETAP",
        "program": "PKH;BPNT",
        "no_hp": "***",
        "kolom 13": "***",
    }
    # A value outside a code column's vocabulary is masked too: it could be anything.
    assert mask_fields({"jenis_kelamin": "SITI AMINAH", "kode_desa": NIK})["jenis_kelamin"] == "***"
    assert mask_fields({"kode_desa": NIK})["kode_desa"] == "***"


def test_details_are_masked_by_the_kind_of_their_field() -> None:
    identity = (
        "nama (usulan: SITI AMINAH; Dukcapil: SITI AMINA); tanggal_lahir (usulan: 2027-06-21; Dukcapil: "
        "2026-06-21); jenis_kelamin (usulan: L; Dukcapil: PEREMPUAN)"
    )
    assert mask_detail(identity) == (
        "nama (usulan: S*** A*****; Dukcapil: S*** A****); tanggal_lahir (usulan: ****-**-**; Dukcapil: "
        "****-**-**); jenis_kelamin (usulan: L; Dukcapil: PEREMPUAN)"
    )
    biodata = "Biodata tidak sesuai dengan yang tersandi di NIK: tanggal_lahir (NIK: 15-08-..95; usulan: 1995-08-15)."
    assert mask_detail(biodata).endswith("tanggal_lahir (NIK: **-**-..**; usulan: ****-**-**).")
    assert mask_detail("Tercatat meninggal di Dukcapil pada 2020-01-02").endswith("pada ****-**-**")
    assert mask_detail("Pekerjaan menurut Dukcapil: PEGAWAI NEGERI SIPIL (PNS)").endswith("(PNS)")
    assert mask_detail("Domisili menurut Dukcapil: desa 5203012001 (Sukamaju)").endswith("5203012001 (Sukamaju)")
    # A name that breaks the pattern, or a field nobody declared, is masked whole.
    assert "AMINAH" not in mask_detail("nama (usulan: SITI (ALM) AMINAH; Dukcapil: SITI AMINAH)")
    assert mask_detail("tempat (usulan: MATARAM)") == "tempat (usulan: ***)"


def test_structures_and_keyed_values() -> None:
    event = {"event": f"row {NIK} failed", "nik": NIK, "nama": "SITI AMINAH", "rows": [NIK, 12], "n": int(NIK)}
    masked = mask_structure(event)
    assert masked == {
        "event": "row 3201********0001 failed",
        "nik": "3201********0001",
        "nama": "S*** A*****",
        "rows": ["3201********0001", 12],
        "n": "3201********0001",
    }
    assert mask_keyed("tanggal_lahir", "1995-08-15") == "****-**-**"
    assert mask_structure(ValueError(f"bad {NIK}")) == "ValueError: bad 3201********0001"


def test_names_and_addresses_under_a_personal_key_are_masked() -> None:
    assert mask_text("loc=leak.py:14 nama='SITI AMINAH' nik=3201011508950001") == (
        "loc=leak.py:14 nama='S*** A*****' nik=3201********0001"
    )
    assert (
        mask_text('{"nama": "SITI AMINAH", "alamat": "JL. MAWAR NO. 3"}') == '{"nama": "S*** A*****", "alamat": "***"}'
    )
    assert mask_text("{'nama_ibu_kandung': 'SITI', 'rows': 3}") == "{'nama_ibu_kandung': 'S***', 'rows': 3}"
    assert mask_text("nama=SITI AMINAH rows=3") == "nama=S*** A***** rows=3"
    # A finding's detail quoted in a message.
    assert mask_text("gagal: nama (usulan: SITI AMINAH; Dukcapil: SITI AMINA)") == (
        "gagal: nama (usulan: S*** A*****; Dukcapil: S*** A****)"
    )
    # Source lines of a traceback and the pipeline's own sentences stay as they are.
    for text in (
        "    nik=args.nik,",
        "nama=rows['nama']",
        "Kolom wajib tidak ada: nik, nama.",
        "Dukcapil: 31114 orang",
    ):
        assert mask_text(text) == text


def test_a_detail_names_its_fields_in_words():
    """Findings write `tanggal lahir (usulan: ...)`: the two words name the field, so the date is masked as a
    date and the name by its initials."""
    detail = (
        "nama (usulan: SITI AMINAH; Dukcapil: SITI AMINA); tanggal lahir (usulan: 2027-06-21; Dukcapil: 2026-06-21)"
    )
    assert mask_detail(detail) == (
        "nama (usulan: S*** A*****; Dukcapil: S*** A****); tanggal lahir (usulan: ****-**-**; Dukcapil: ****-**-**)"
    )
    assert "SITI" not in mask_text(f"gagal: {detail}") and "2026-06-21" not in mask_text(f"gagal: {detail}")
