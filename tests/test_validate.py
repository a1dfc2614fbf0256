"""Canonical forms, the GX suites stored in expectations/, per-row reasons, and the quality gate."""

import datetime as dt
import json

import pandas as pd
import pytest

from pipelines.clean import JENIS_KELAMIN, clean_date, clean_digits, clean_enum, clean_programs
from pipelines.config import QualityGate
from pipelines.contract import SUBMISSION_COLUMNS
from pipelines.gate import quality_gate
from pipelines.ingest.intake import ACCEPTED, REJECTED, FileReport
from pipelines.validate import validate_dukcapil, validate_submissions
from pipelines.validate.suites import expectations_dir

GOOD = {
    "kode_desa": "52.03.01.2001",
    "id_dtks": None,
    "no_kk": "5203010101150001",
    "nik": "5203011508800001",
    "nama": "Lalu Ahmad",
    "jenis_kelamin": "Laki-laki",
    "tempat_lahir": None,
    "tanggal_lahir": "15/08/1980",
    "hubungan_keluarga": "kepala keluarga",
    "nama_ibu_kandung": None,
    "alamat": None,
    "rt": None,
    "rw": None,
    "pekerjaan": None,
    "status_usulan": "tetap",
    "alasan_nonaktif": None,
    "program": "pkh, bpnt",
}


def frame(*changes: dict) -> pd.DataFrame:
    rows = [{**GOOD, **c} for c in changes]
    out = pd.DataFrame(rows, columns=list(SUBMISSION_COLUMNS))
    out.insert(0, "source_row", range(1, len(rows) + 1))
    out.insert(0, "source_file", "2026Q3/submissions/5203/5203012001.csv")
    out["file_kode_kab"], out["file_kode_desa"] = "5203", "5203012001"
    out["_extra"], out["_row_problem"], out["_file_rejection"] = None, None, None
    return out


FILES = [FileReport("2026Q3/submissions/5203/5203012001.csv", "submission", "5203", "5203012001", "csv")]


def test_canonical_forms():
    assert clean_date(pd.Series(["15/8/1995", "1995-08-15 00:00:00", "31-02-1985", ""])).tolist() == [
        "1995-08-15",
        "1995-08-15",
        "31-02-1985",
        None,
    ]
    assert clean_digits(pd.Series(["'3201 0115 0895 0001", "3201011508950001.0", "3.20101E+15"])).tolist() == [
        "3201011508950001",
        "3201011508950001",
        "3.20101E+15",
    ]
    assert clean_enum(pd.Series(["perempuan", "2", "X"]), JENIS_KELAMIN).tolist() == ["P", "P", "X"]
    assert clean_programs(pd.Series(["pkh, bpnt", "PKH;PIP"])).tolist() == ["PKH;BPNT", "PKH;PIP"]


def test_suites_are_valid_json_and_complete():
    intake = (expectations_dir().parent / "docs" / "intake.md").read_text(encoding="utf-8")
    for name in ("dtks_submission", "dukcapil_extract"):
        suite = json.loads((expectations_dir() / f"{name}.json").read_text())
        assert suite["name"] == name
        for e in suite["expectations"]:
            assert {"category", "field", "action", "message"} <= set(e["meta"]), e
            assert e["meta"]["action"] in ("quarantine", "quarantine_unlinked", "finding", "exclude", "warning"), e
            # docs/intake.md lists every rule with its category and message.
            assert f"`{e['type']}`" in intake and e["meta"]["category"] in intake, e["type"]


@pytest.fixture(scope="module")
def validated():
    raw = frame(
        {},  # clean
        {"nik": ""},  # empty NIK: a finding, the row goes on
        {"nik": "5203013508800001"},  # impossible encoded day: a finding
        {"tanggal_lahir": "31-02-1980"},  # not a date: quarantine
        {"nama": None, "jenis_kelamin": "X"},  # two quarantine reasons
        {"kode_desa": "5201012001"},  # a desa of another kabupaten
        {"tanggal_lahir": "2030-01-01"},  # in the future: readable, so held for linkage (issue 10)
        {"program": "PKH;PIP"},
        {"tanggal_lahir": "2006-02-30"},  # ISO-shaped but no date
    )
    return validate_submissions(raw, FILES, run_name="test-run", today=dt.date(2026, 11, 23))


def test_rows_and_reasons(validated):
    rows, reasons = validated.rows, validated.reasons
    assert rows["quarantined"].tolist() == [False, False, False, True, True, True, False, True, True]
    assert rows["quarantine_if_unlinked"].tolist() == [False] * 6 + [True, False, False]
    # It goes on to linkage with its reasons: the hold, and (like any linked row) the NIK's birth date.
    held = reasons[reasons["row_id"] == 6]
    assert held[["category", "field", "action"]].values.tolist() == [
        ["BIODATA_TIDAK_SESUAI_NIK", "tanggal_lahir", "finding"],
        ["FORMAT_TIDAK_VALID", "tanggal_lahir", "quarantine_unlinked"],
    ]
    assert validated.summary["held_for_linkage"] == 1
    by_row = reasons.groupby("row_id")["category"].apply(sorted).to_dict()
    assert 0 not in by_row
    assert by_row[1] == ["NIK_TIDAK_VALID"] and by_row[2] == ["NIK_TIDAK_VALID"]
    assert by_row[4] == ["DATA_TIDAK_LENGKAP", "FORMAT_TIDAK_VALID"]
    assert reasons.loc[reasons["row_id"] == 2, "message"].iloc[0] == "Tanggal lahir yang tersandi di NIK tidak valid."
    assert set(reasons.loc[reasons["row_id"] == 6, "field"]) == {"tanggal_lahir"}
    assert rows.loc[0, "kode_desa"] == "5203012001" and rows.loc[0, "jenis_kelamin"] == "L"


def test_gx_summary_counts_without_values(validated):
    gx = validated.summary["gx"]
    assert gx["gx_run_name"] == "test-run" and not gx["success"]
    failed = {e["expectation"]: e["unexpected_count"] for e in gx["expectations"] if not e["success"]}
    assert failed["expect_column_values_to_be_in_set:jenis_kelamin"] == 1


def test_rejected_file_rows_are_quarantined_with_the_file_reason():
    raw = frame({}, {})
    raw["_file_rejection"] = "DATA_TIDAK_LENGKAP"
    report = FileReport(
        FILES[0].source_file,
        "submission",
        "5203",
        "5203012001",
        "csv",
        status=REJECTED,
        rejection_category="DATA_TIDAK_LENGKAP",
        problems=[{"code": "kolom_wajib_tidak_ada", "message": "Kolom wajib tidak ada: nama."}],
    )
    result = validate_submissions(raw, [report], run_name="r", today=dt.date(2026, 11, 23))
    assert result.rows["quarantined"].all()
    assert (result.reasons["message"] == "Kolom wajib tidak ada: nama.").sum() == 2


def test_quality_gate(validated):
    loose = quality_gate(validated.rows, FILES, QualityGate(min_rows_for_file_share=1))
    assert not loose["passed"] and loose["files_over_limit"] == [FILES[0].source_file]
    relaxed = QualityGate(max_file_quarantine_share=1.0, max_quarter_quarantine_share=1.0)
    assert quality_gate(validated.rows, [FileReport(**{**FILES[0].to_dict(), "status": ACCEPTED})], relaxed)["passed"]


def test_quality_gate_stops_a_kabupaten_without_dukcapil_persons(validated):
    relaxed = QualityGate(max_file_quarantine_share=1.0, max_quarter_quarantine_share=1.0)
    files = [FileReport(**{**FILES[0].to_dict(), "status": ACCEPTED, "data_rows": len(validated.rows)})]
    assert quality_gate(validated.rows, files, relaxed, {"5203": 10})["passed"]
    gate = quality_gate(validated.rows, files, relaxed, {"5201": 10})
    assert not gate["passed"] and "5203" in gate["problems"][0]


def test_dukcapil_duplicates_and_bad_niks_are_set_aside():
    raw = pd.DataFrame(
        {
            "source_file": "2026Q3/dukcapil/5203.csv",
            "source_row": [1, 2, 3, 4],
            "NIK": ["5203011508800001", "5203011508800001", "12345", "5203015203850002"],
            "NO_KK": "5203010101150001",
            "NAMA_LGKP": "X",
            "JENIS_KLMIN": "LAKI-LAKI",
            "TMPT_LHR": "",
            "TGL_LHR": "1980-08-15",
            "STAT_HBKEL": "ANAK",
            "JENIS_PKRJN": "",
            "NAMA_LGKP_IBU": "",
            "ALAMAT": "",
            "NO_RT": "",
            "NO_RW": "",
            "NO_PROP": "52",
            "NO_KAB": "03",
            "NO_KEC": "01",
            "NO_KEL": "2001",
            "TGL_MATI": "",
        }
    )
    result = validate_dukcapil(raw, run_name="r")
    assert result.persons["NIK"].tolist() == ["5203015203850002"]
    assert sorted(result.excluded["source_row"]) == [1, 2, 3]
    assert result.persons.loc[0, "kode_desa"] == "5203012001"


def test_warnings_are_counted_not_reasons():
    gone = GOOD["nik"][:4] + "99" + GOOD["nik"][6:]  # kecamatan 520399: not in today's list (pemekaran)
    result = validate_submissions(frame({"nik": gone}), FILES, run_name="r", today=dt.date(2026, 11, 23))
    assert result.reasons.empty and not result.rows["quarantined"].any()
    label = "expect_column_values_to_have_current_kecamatan_code:nik"
    assert result.summary["warnings"] == {label: 1}
    assert result.warnings["expectation"].tolist() == [label]


def test_nik_biodata_finding_names_the_fields_and_skips_quarantined_rows():
    raw = frame(
        {"tanggal_lahir": "16/08/1980"},  # NIK says 15-08-80
        {"jenis_kelamin": "P"},  # NIK says male
        {"tanggal_lahir": "15/08/1880"},  # the century is not encoded; 1880 is implausible: held for linkage
    )
    result = validate_submissions(raw, FILES, run_name="r", today=dt.date(2026, 11, 23))
    biodata = result.reasons[result.reasons["category"] == "BIODATA_TIDAK_SESUAI_NIK"].set_index("row_id")
    assert sorted(biodata.index) == [0, 1]
    assert biodata.loc[0, "field"] == "tanggal_lahir" and "15-08-..80" in biodata.loc[0, "message"]
    assert biodata.loc[1, "field"] == "jenis_kelamin" and "laki-laki" in biodata.loc[1, "message"]
    assert result.rows["quarantined"].tolist() == [False, False, False]
    assert result.rows["quarantine_if_unlinked"].tolist() == [False, False, True]


def test_arrow_backed_input_validates_like_object_input():
    raw = frame({}, {"nik": "3.20101E+15"}, {"nama": "=1+1"}, {"tanggal_lahir": "29448"})
    plain = validate_submissions(raw.copy(), FILES, run_name="r", today=dt.date(2026, 11, 23))
    arrow = validate_submissions(
        raw.astype({c: "string[pyarrow]" for c in SUBMISSION_COLUMNS}), FILES, run_name="r", today=dt.date(2026, 11, 23)
    )
    pd.testing.assert_frame_equal(plain.reasons, arrow.reasons)
    pd.testing.assert_frame_equal(plain.rows, arrow.rows)
    assert plain.rows.loc[3, "tanggal_lahir"] == "1980-08-15"
    assert plain.summary["repairs"] == {"kode_desa:spasi_titik_dalam_angka": 4, "tanggal_lahir:nomor_seri_excel": 1}


def test_data_docs_hold_no_personal_data(tmp_path):
    from pipelines.validate.suites import GxSession

    raw = frame({}, {"nik": "5203013508800001", "nama": "Siti Rahmawati"}, {"no_kk": "52030101"})
    session = GxSession("manual__docs", tmp_path / "docs")
    validate_submissions(raw, FILES, run_name="manual__docs", today=dt.date(2026, 11, 23), session=session)
    index = session.build_data_docs()
    assert index and index.endswith("index.html")
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "docs").rglob("*.html")]
    assert len(pages) >= 3 and any("manual__docs" in p for p in pages)
    text = "\n".join(pages)
    for value in (
        "5203013508800001",
        "5203011508800001",
        "5203010101150001",
        "52030101",
        "SITI RAHMAWATI",
        "LALU AHMAD",
    ):
        assert value not in text, value
    assert "1980-08-15" not in text


def test_gate_ignores_rejected_files_but_counts_them():
    rows = pd.DataFrame(
        {
            "source_file": ["a.csv"] * 30 + ["b.csv"] * 30 + ["c.csv"] * 10,
            "quarantined": [True] * 9 + [False] * 21 + [False] * 30 + [True] * 10,
        }
    )
    reports = [
        FileReport("a.csv", "submission", "5203", "5203012001", "csv"),
        FileReport("b.csv", "submission", "5203", "5203012002", "csv"),
        FileReport("c.csv", "submission", "5203", "5203012003", "csv", status=REJECTED),
    ]
    gate = quality_gate(rows, reports, QualityGate(max_quarter_quarantine_share=0.2))
    # a.csv: 30% > 20%; the quarter: 9 of 60 accepted rows (c.csv's rejected rows do not count).
    assert gate["files_over_limit"] == ["a.csv"] and gate["file_shares_over_limit"] == {"a.csv": 0.3}
    assert gate["quarter_quarantine_share"] == 0.15 and gate["files_not_accepted"] == ["c.csv"]
    assert "a.csv (30.0% of 30 rows)" in gate["problems"][0] and len(gate["problems"]) == 1
    relaxed = QualityGate(max_file_quarantine_share=1.0, max_quarter_quarantine_share=1.0, max_rejected_file_share=0.3)
    strict = quality_gate(rows, reports, relaxed)
    assert not strict["passed"] and strict["problems"] == [
        "1 of 3 submission files (33%) were rejected or unreadable (limit 30%): c.csv."
    ]
