"""Readable but implausible birth dates (issue 10), on a tiny hand-made quarter independent of the generator.

A birth date in the future or more than 120 years back never quarantines a row on its own: the row goes on
to linkage; linked, it is published with Dukcapil's birth date and the finding names the field and suggests
Dukcapil's value; not linked, it is quarantined as FORMAT_TIDAK_VALID with the reason validation gave it.
Each submitted row below is one case; the whole quarter runs through every stage (SQLite warehouse) and the
published tables, the Dinsos workbook and the village feedback file are checked row by row.

Birth dates near today are computed from the run date (validation judges on it), so the test holds on any day.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from pipelines.config import QualityGate
from pipelines.contract import DUKCAPIL_COLUMNS, SUBMISSION_COLUMNS
from pipelines.gate import quality_gate
from pipelines.held import HELD, settle_held_rows
from pipelines.ingest.intake import FileReport
from pipelines.reports.excel import NON_BREAKING_HYPHEN

QUARTER = "2026Q3"
DESA = "5203012001"  # Tanjung Luar, Keruak, Lombok Timur
FILE = f"{QUARTER}/submissions/5203/{DESA}.csv"
OTHER_DESA = "5203012002"
OTHER_FILE = f"{QUARTER}/submissions/5203/{OTHER_DESA}.csv"
IMPLAUSIBLE = "Tanggal lahir tidak masuk akal (di masa depan atau umur lebih dari 120 tahun)."
TODAY = dt.date.today()
# A baby born about five months ago, and the same date with its year typed one too high (in the future).
BABY = TODAY - dt.timedelta(days=150)
if (BABY.month, BABY.day) == (2, 29):
    BABY -= dt.timedelta(days=1)
BABY_TYPO = BABY.replace(year=BABY.year + 1)


def nik(kec: str, birth: str, female: bool, serial: int) -> str:
    """A NIK as Dukcapil issues it: kecamatan, birth day (+40 for women), month, two-digit year, serial."""
    day = int(birth[8:10]) + (40 if female else 0)
    return f"{kec}{day:02d}{birth[5:7]}{birth[2:4]}{serial:04d}"


def person(name: str, sex: str, birth: str, kk: str, relation: str, serial: int, **extra: str) -> dict[str, str]:
    return {
        "NIK": nik("520301", birth, sex == "P", serial),
        "NO_KK": kk,
        "NAMA_LGKP": name,
        "JENIS_KLMIN": "PEREMPUAN" if sex == "P" else "LAKI-LAKI",
        "TMPT_LHR": "KERUAK",
        "TGL_LHR": birth,
        "STAT_HBKEL": relation,
        "JENIS_PKRJN": "PETANI/PEKEBUN",
        "NAMA_LGKP_IBU": extra.get("mother", "INAQ SAHNUN"),
        "ALAMAT": "DUSUN BARU",
        "NO_RT": "001",
        "NO_RW": "002",
        "NO_PROP": "52",
        "NO_KAB": "03",
        "NO_KEC": "01",
        "NO_KEL": extra.get("kel", "2001"),
        "TGL_MATI": "",
    }


KK_A, KK_B, KK_C, KK_D = "5203010101150001", "5203010202160002", "5203010303170003", "5203010404180004"
DUKCAPIL = {
    "ahmad": person("LALU AHMAD", "L", "1961-01-01", KK_A, "KEPALA KELUARGA", 1),
    "aminah": person("BAIQ SITI AMINAH", "P", "1968-02-04", KK_A, "ISTRI", 2),
    "rizki": person("MUHAMMAD RIZKI", "L", BABY.isoformat(), KK_A, "ANAK", 3, mother="BAIQ SITI AMINAH"),
    "nurul": person("NURUL HIDAYATI", "P", "1999-03-15", KK_A, "ANAK", 4, mother="BAIQ SITI AMINAH"),
    "supardi": person("SUPARDI", "L", "1955-07-17", KK_B, "KEPALA KELUARGA", 5),
    "juminah": person("JUMINAH", "P", "1958-10-12", KK_B, "ISTRI", 6),
    "hendra": person("HENDRA GUNAWAN", "L", "2004-09-09", KK_B, "ANAK", 7, mother="JUMINAH"),
    "wahyuni": person("SRI WAHYUNI", "P", "1990-05-21", KK_B, "ANAK", 8, mother="JUMINAH"),
    "ketut": person("KETUT SUARDANA", "L", "1980-12-05", KK_C, "KEPALA KELUARGA", 9),
    "sari": person("NI MADE SARI", "P", "1984-06-11", KK_C, "ISTRI", 10),
    "adi": person("I WAYAN ADI PUTRA", "L", "2010-04-03", KK_C, "ANAK", 11, mother="NI MADE SARI"),
    "hamid": person("ABDUL HAMID", "L", "1972-08-30", KK_D, "KEPALA KELUARGA", 12),
    "rahmah": person("SITI RAHMAH", "P", "1975-11-02", KK_D, "ISTRI", 13),
    "yusuf": person("MUHAMMAD YUSUF", "L", "2001-02-14", KK_D, "ANAK", 14, mother="SITI RAHMAH"),
}


# Neighbours submitted as they are: a quarter small enough to read, large enough for the Fellegi-Sunter
# model to learn what agreement looks like (the linker trains on the quarter's own pairs).
_FIRST = ("AGUS", "BAIQ", "DEWI", "FITRI", "HAERUL", "IRWAN", "LALU", "MAWAR", "NURHAYATI", "RAHMAT", "SAHNUN")
_LAST = ("HIDAYAT", "KURNIAWAN", "LESTARI", "MAULANA", "PRATAMA", "RAMADHAN", "SAPUTRA", "WULANDARI")
_THIRD = ("", " PUTRA", " AMAQ", " INAQ")
for _f in range(30):
    _kk = f"52030105{_f + 1:02d}1900{_f + 1:02d}"
    for _m, (_sex, _relation, _year) in enumerate(
        (("L", "KEPALA KELUARGA", 1950), ("P", "ISTRI", 1953), ("L", "ANAK", 1978), ("P", "ANAK", 1981))
    ):
        _i = 4 * _f + _m
        _name = _FIRST[_i % 11] + " " + _LAST[(_i // 11) % 8] + _THIRD[_i // 88]
        _birth = f"{_year + _f}-{1 + (_f + _m) % 12:02d}-{10 + _m * 4 + _f % 3:02d}"
        DUKCAPIL[f"n{_f}_{_m}"] = person(_name, _sex, _birth, _kk, _relation, 100 + _i)
NEIGHBOURS = [k for k in DUKCAPIL if k.startswith("n")]


def row(who: str | None = None, **changes: str) -> dict[str, str]:
    """A submission row as the village writes it: the Dukcapil person's data, then the village's changes."""
    p = DUKCAPIL[who] if who else {}
    written = {
        "kode_desa": DESA,
        "id_dtks": "",
        "no_kk": p.get("NO_KK", ""),
        "nik": p.get("NIK", ""),
        "nama": p.get("NAMA_LGKP", ""),
        "jenis_kelamin": {"PEREMPUAN": "P", "LAKI-LAKI": "L"}.get(p.get("JENIS_KLMIN", ""), ""),
        "tempat_lahir": "KERUAK",
        "tanggal_lahir": p.get("TGL_LHR", ""),
        "hubungan_keluarga": p.get("STAT_HBKEL", ""),
        "nama_ibu_kandung": p.get("NAMA_LGKP_IBU", ""),
        "alamat": "DUSUN BARU",
        "rt": "001",
        "rw": "002",
        "pekerjaan": "PETANI",
        "status_usulan": "TETAP",
        "alasan_nonaktif": "",
        "program": "PKH",
    }
    return {**written, **changes}


UNKNOWN = {  # a family Dukcapil does not know (new arrivals), with a well-formed NIK nobody holds
    "no_kk": "5203010909250009",
    "nama": "AGUS SALIM",
    "jenis_kelamin": "L",
    "tanggal_lahir": "1988-03-03",
    "hubungan_keluarga": "KEPALA KELUARGA",
    "nik": "5203010303880099",
    "status_usulan": "BARU",
}
ROWS = [
    # 1. Control: everything right.
    row("ahmad"),
    # 2. The case: the baby's birth year typed one too high, NIK and name right.
    row("rizki", tanggal_lahir=BABY_TYPO.isoformat()),
    # 3. 2004 typed 1904 (more than 120 years back), in the village's DD-MM-YYYY form.
    row("hendra", tanggal_lahir="09-09-1904"),
    # 4. Two errors: the KK typed as the NIK, and 1972 typed 2072.
    row("hamid", nik=KK_D, tanggal_lahir="2072-08-30"),
    # 5. Two errors: the old spelling DJUMINAH, and 1958 typed 2058.
    row("juminah", nama="DJUMINAH", tanggal_lahir="2058-10-12"),
    # 6. Nobody Dukcapil knows, born in the future: quarantined as today.
    row(None, **{**UNKNOWN, "tanggal_lahir": "2088-03-03"}),
    # 7. Nobody Dukcapil knows, 1888 and a NIK that cannot be a NIK: quarantined, with NIK_TIDAK_VALID.
    row(None, **{**UNKNOWN, "nama": "SALMAH", "jenis_kelamin": "P", "nik": "12345", "tanggal_lahir": "1888-03-03"}),
    # 8-9. An unknown person submitted twice, once with a year in the future: that row is quarantined, the
    #      other stands alone (no GANDA).
    row(None, **{**UNKNOWN, "nama": "RUDI HARTONO", "nik": "5203011111900098", "tanggal_lahir": "1990-11-11"}),
    row(None, **{**UNKNOWN, "nama": "RUDI HARTONO", "nik": "5203011111900098", "tanggal_lahir": "2090-11-11"}),
    # 10-11. A known person submitted twice, once with 1984 typed 1884: both linked, one person, GANDA.
    row("sari"),
    row("sari", tanggal_lahir="1884-06-11"),
    # 12. Implausible and unreadable at once (sex X): quarantined by validation, never linked.
    row("nurul", tanggal_lahir="2099-03-15", jenis_kelamin="X"),
    # 13. Two errors: no NIK, and 1955 typed 2055.
    row("supardi", nik="", tanggal_lahir="2055-07-17"),
    # 14. Two errors: the head's NIK copied to a daughter, and 1990 typed 2090.
    row("wahyuni", nik=DUKCAPIL["supardi"]["NIK"], tanggal_lahir="2090-05-21"),
    # 15. Control: a plausible placeholder date stays a plain IDENTITAS finding, now with a suggestion.
    row("ketut", tanggal_lahir="1980-01-01"),
    *(row(who) for who in NEIGHBOURS),
]


def write_landing(root: Path, rows: list[dict[str, str]], other_rows: list[dict[str, str]] = ()) -> Path:
    landing = root / "landing"
    extract = landing / QUARTER / "dukcapil" / "5203.csv"
    extract.parent.mkdir(parents=True)
    with extract.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(DUKCAPIL_COLUMNS))
        writer.writeheader()
        writer.writerows(DUKCAPIL.values())
    for name, file_rows in ((FILE, rows), (OTHER_FILE, other_rows)):
        if not file_rows:
            continue
        path = landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(SUBMISSION_COLUMNS))
            writer.writeheader()
            writer.writerows(file_rows)
    return landing


def run_quarter(tmp: Path, landing: Path, config: dict | None = None) -> tuple[dict, str]:
    from unittest import mock

    from pipelines.stages import run_all
    from pipelines.warehouse.connection import environment_variable

    warehouse = f"sqlite:///{tmp / 'warehouse.sqlite'}"
    conf = {
        "quarter": QUARTER,
        "landing": str(landing),
        "work": str(tmp / "work"),
        "reports": str(tmp / "reports"),
        "config": {"quality_gate": {"max_file_quarantine_share": 1.0, "max_quarter_quarantine_share": 1.0}}
        | (config or {}),
    }
    name, value = environment_variable(warehouse)
    with mock.patch.dict("os.environ", {name: value}):
        return run_all(conf, "manual__plausible"), warehouse


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("plausible")
    result, warehouse = run_quarter(tmp, write_landing(tmp, ROWS))
    assert result["status"] == "PUBLISHED", result.get("message")
    engine = sa.create_engine(warehouse)
    with engine.connect() as c:
        tables = {t: pd.read_sql(f"SELECT * FROM {t}", c) for t in ("row_outcome", "discrepancy", "quarantine")}
        tables["dtks_snapshot"] = pd.read_sql("SELECT * FROM dtks_snapshot", c)
    engine.dispose()
    tables["result"] = result
    tables["reports"] = tmp / "reports" / QUARTER / "5203"
    return tables


def outcome_of(published: dict, n: int) -> dict:
    o = published["row_outcome"]
    return o[(o["source_file"] == FILE) & (o["source_row"] == n)].iloc[0].to_dict()


def findings_of(published: dict, n: int) -> dict[str, dict]:
    d = published["discrepancy"]
    mine = d[(d["source_file"] == FILE) & (d["source_row"] == n)]
    assert not mine["category"].duplicated().any()
    return {r["category"]: r for r in mine.to_dict("records")}


def snapshot_of(published: dict, n: int) -> dict:
    s = published["dtks_snapshot"]
    key = outcome_of(published, n)["person_key"]
    return s[s["person_key"] == key].iloc[0].to_dict()


def test_every_row_is_accounted_for(published):
    o = published["row_outcome"]
    assert sorted(o["source_row"]) == list(range(1, len(ROWS) + 1))
    quarantined = o.loc[o["outcome"] == "QUARANTINED", "source_row"].tolist()
    assert sorted(quarantined) == [6, 7, 9, 12]
    q = published["quarantine"]
    assert sorted(q["source_row"]) == [6, 7, 9, 12]
    held = published["result"]["summaries"]["decide"]["held_for_linkage"]
    # Held: every implausible row but 12, whose unreadable sex quarantined it at once.
    assert held == {"rows": 10, "quarantined": 3}


def test_year_typed_into_the_future_is_linked_and_corrected(published):
    out = outcome_of(published, 2)
    assert out["outcome"] == "PUBLISHED" and out["status_padan"] == "PADAN_DENGAN_KOREKSI"
    assert out["nik_dukcapil"] == DUKCAPIL["rizki"]["NIK"]
    found = findings_of(published, 2)
    assert set(found) == {"IDENTITAS_TIDAK_SESUAI", "BIODATA_TIDAK_SESUAI_NIK"}
    identity = found["IDENTITAS_TIDAK_SESUAI"]
    assert identity["suggested_value"] == BABY.isoformat()
    assert identity["detail"] == (
        f"{IMPLAUSIBLE} tanggal lahir (usulan: {BABY_TYPO.isoformat()}; Dukcapil: {BABY.isoformat()})"
    )
    assert snapshot_of(published, 2)["tanggal_lahir"] == BABY.isoformat()


def test_year_typed_more_than_120_years_back_is_linked_and_corrected(published):
    out = outcome_of(published, 3)
    assert (out["outcome"], out["status_padan"]) == ("PUBLISHED", "PADAN_DENGAN_KOREKSI")
    found = findings_of(published, 3)
    # The NIK does not encode the century: 1904 and 2004 agree with it.
    assert set(found) == {"IDENTITAS_TIDAK_SESUAI"}
    assert found["IDENTITAS_TIDAK_SESUAI"]["suggested_value"] == "2004-09-09"
    assert found["IDENTITAS_TIDAK_SESUAI"]["detail"].startswith(IMPLAUSIBLE + " tanggal lahir (usulan: 1904-09-09;")
    assert snapshot_of(published, 3)["tanggal_lahir"] == "2004-09-09"


def test_kk_as_nik_with_a_year_in_the_future(published):
    out = outcome_of(published, 4)
    assert out["outcome"] == "PUBLISHED" and out["nik_dukcapil"] == DUKCAPIL["hamid"]["NIK"]
    found = findings_of(published, 4)
    assert set(found) == {"NIK_BERBEDA", "BIODATA_TIDAK_SESUAI_NIK"}
    assert found["NIK_BERBEDA"]["suggested_value"] == DUKCAPIL["hamid"]["NIK"]
    assert found["NIK_BERBEDA"]["detail"] == f"{IMPLAUSIBLE} Yang diisi sebagai NIK adalah nomor KK."
    snap = snapshot_of(published, 4)
    assert (snap["nik"], snap["tanggal_lahir"]) == (DUKCAPIL["hamid"]["NIK"], "1972-08-30")


def test_old_spelling_with_a_year_in_the_future(published):
    out = outcome_of(published, 5)
    assert out["outcome"] == "PUBLISHED" and out["nik_dukcapil"] == DUKCAPIL["juminah"]["NIK"]
    found = findings_of(published, 5)
    # DJUMINAH is JUMINAH in the old spelling: only the birth date differs.
    assert set(found) == {"IDENTITAS_TIDAK_SESUAI"}
    assert found["IDENTITAS_TIDAK_SESUAI"]["suggested_value"] == "1958-10-12"
    assert "nama (" not in found["IDENTITAS_TIDAK_SESUAI"]["detail"]
    snap = snapshot_of(published, 5)
    assert (snap["nama"], snap["tanggal_lahir"]) == ("JUMINAH", "1958-10-12")


def test_no_nik_or_the_heads_nik_with_a_year_in_the_future(published):
    for n, who in ((13, "supardi"), (14, "wahyuni")):
        out = outcome_of(published, n)
        assert out["outcome"] == "PUBLISHED" and out["nik_dukcapil"] == DUKCAPIL[who]["NIK"], n
        found = findings_of(published, n)
        assert found["NIK_BERBEDA"]["detail"].startswith(IMPLAUSIBLE + " "), n
        assert "FORMAT_TIDAK_VALID" not in found
        assert snapshot_of(published, n)["tanggal_lahir"] == DUKCAPIL[who]["TGL_LHR"]
    assert set(findings_of(published, 13)) == {"NIK_TIDAK_VALID", "NIK_BERBEDA"}
    assert set(findings_of(published, 14)) == {"NIK_BERBEDA", "BIODATA_TIDAK_SESUAI_NIK"}


def test_unlinked_rows_are_quarantined_as_today(published):
    q = published["quarantine"].set_index("source_row")
    for n in (6, 7):
        assert outcome_of(published, n)["outcome"] == "QUARANTINED"
        reasons = json.loads(q.loc[n, "reasons"])
        held = [r for r in reasons if r["field"] == "tanggal_lahir"]
        assert held == [{"category": "FORMAT_TIDAK_VALID", "field": "tanggal_lahir", "message": IMPLAUSIBLE}]
        raw = json.loads(q.loc[n, "raw_fields"])
        assert raw["tanggal_lahir"] == ROWS[n - 1]["tanggal_lahir"] and raw["nama"] == ROWS[n - 1]["nama"]
    assert set(findings_of(published, 6)) == {"FORMAT_TIDAK_VALID"}
    assert findings_of(published, 6)["FORMAT_TIDAK_VALID"]["detail"] == IMPLAUSIBLE
    # No BIODATA or NIK_TIDAK_DITEMUKAN on a quarantined row; NIK_TIDAK_VALID stays (fix everything at once).
    assert set(findings_of(published, 7)) == {"FORMAT_TIDAK_VALID", "NIK_TIDAK_VALID"}
    assert q.loc[6, "categories"] == "FORMAT_TIDAK_VALID"
    assert q.loc[7, "categories"] == "FORMAT_TIDAK_VALID;NIK_TIDAK_VALID"


def test_an_unlinked_implausible_row_leaves_its_duplicate_group(published):
    assert outcome_of(published, 9)["outcome"] == "QUARANTINED"
    kept = outcome_of(published, 8)
    assert kept["outcome"] == "PUBLISHED" and kept["status_padan"] == "TIDAK_PADAN"
    assert set(findings_of(published, 8)) == {"NIK_TIDAK_DITEMUKAN"}  # no GANDA: its twin row is quarantined
    assert snapshot_of(published, 8)["jumlah_baris"] == 1


def test_a_linked_implausible_row_stays_in_its_duplicate_group(published):
    first, second = outcome_of(published, 10), outcome_of(published, 11)
    assert (first["outcome"], second["outcome"]) == ("PUBLISHED", "MERGED_DUPLICATE")
    assert first["person_key"] == second["person_key"] and second["merged_into_row"] == 10
    assert set(findings_of(published, 10)) == {"GANDA"}
    assert set(findings_of(published, 11)) == {"GANDA", "IDENTITAS_TIDAK_SESUAI"}
    assert findings_of(published, 11)["IDENTITAS_TIDAK_SESUAI"]["suggested_value"] == "1984-06-11"
    assert snapshot_of(published, 10)["tanggal_lahir"] == "1984-06-11"


def test_an_unreadable_field_still_quarantines_at_once(published):
    assert outcome_of(published, 12)["outcome"] == "QUARANTINED"
    reasons = json.loads(published["quarantine"].set_index("source_row").loc[12, "reasons"])
    assert {(r["category"], r["field"]) for r in reasons} == {
        ("FORMAT_TIDAK_VALID", "jenis_kelamin"),
        ("FORMAT_TIDAK_VALID", "tanggal_lahir"),
    }


def test_controls(published):
    assert findings_of(published, 1) == {} and outcome_of(published, 1)["status_padan"] == "PADAN"
    found = findings_of(published, 15)
    assert set(found) == {"IDENTITAS_TIDAK_SESUAI", "BIODATA_TIDAK_SESUAI_NIK"}
    identity = found["IDENTITAS_TIDAK_SESUAI"]
    assert identity["suggested_value"] == "1980-12-05" and not identity["detail"].startswith(IMPLAUSIBLE)


def typed(value):
    """A cell as typed: a date's hyphens in a wrapped cell are non-breaking (`excel.keep_dates_whole`)."""
    return value.replace(NON_BREAKING_HYPHEN, "-") if isinstance(value, str) else value


def test_what_the_officer_and_the_village_read(published):
    reports = published["reports"]
    wb = load_workbook(next(reports.glob("laporan_dtks_5203_*.xlsx")), read_only=True)
    sheet = [r for r in wb["Identitas tidak sesuai"].iter_rows(values_only=True)]
    header = next(r for r in sheet if r and r[0] == "Desa/Kelurahan")
    rows = [dict(zip(header, map(typed, r), strict=False)) for r in sheet[sheet.index(header) + 1 :]]
    baby = next(r for r in rows if str(r["Baris"]) == "3")  # data row 2: row 3 in Excel
    assert baby["Nilai yang disarankan"] == f"tanggal lahir: {BABY:%d-%m-%Y}"
    assert baby["Tanggal lahir"] == f"{BABY_TYPO:%d-%m-%Y}"
    assert baby["Keterangan"].startswith(IMPLAUSIBLE) and baby["Hasil baris"] == "diterima"
    wb.close()

    feedback = load_workbook(next(reports.rglob(f"hasil_usulan_{DESA}_*.xlsx")), read_only=True)
    lines = list(feedback.active.iter_rows(values_only=True))
    header = next(r for r in lines if r and r[0] == "Baris")
    after = lines[lines.index(header) + 1 :]
    by_row = {r[0]: dict(zip(header, map(typed, r), strict=False)) for r in after if r and r[0]}
    # The village reads why, about its own row only: never Dukcapil's birth date.
    # rows as Excel numbers them: data rows 2 and 6 are rows 3 and 7
    assert f"{IMPLAUSIBLE} Berbeda dengan data Dukcapil: tanggal lahir." in by_row[3]["Alasan"]
    assert BABY.isoformat() not in json.dumps(by_row[3], default=str)
    assert f"{BABY:%d-%m-%Y}" not in json.dumps(by_row[3], default=str)
    assert by_row[7]["Hasil"] == "dikarantina" and IMPLAUSIBLE in by_row[7]["Alasan"]
    feedback.close()


def test_the_gate_is_judged_again_after_linkage(tmp_path):
    """Before linkage nothing is quarantined; after it, the unknown person born in the future is: one row of
    five is more than the file limit of 10%, so the quarter is not published."""
    unknown = row(None, **{**UNKNOWN, "tanggal_lahir": "2088-03-03"})
    rows = [row("ahmad"), row("aminah"), row("supardi"), row("juminah"), unknown]
    strict = {"quality_gate": {"max_file_quarantine_share": 0.1, "min_rows_for_file_share": 1}}
    result, _ = run_quarter(tmp_path, write_landing(tmp_path, rows), strict)
    assert result["status"] == "GATE_REJECTED" and result["failed_stage"] == "publish"
    assert "After linkage" in result["message"] and f"{FILE} (20.0% of 5 rows)" in result["message"]
    (gate_file,) = Path(result["work_dir"]).glob("kab/*/decide/gate.json")
    gate = json.loads(gate_file.read_text())
    assert gate["judged"] == "after_linkage" and not gate["passed"]


def test_settling_and_the_gate_without_a_run():
    rows = pd.DataFrame(
        {
            "row_id": [0, 1, 2, 3],
            "source_file": "a.csv",
            "quarantined": [False, False, False, True],
            HELD: [False, True, True, True],
        }
    )
    reasons = pd.DataFrame(
        {
            "row_id": [1, 2, 2, 2, 3],
            "category": ["FORMAT_TIDAK_VALID"] * 2 + ["BIODATA_TIDAK_SESUAI_NIK", "NIK_TIDAK_VALID", "X"],
            "action": ["quarantine_unlinked", "quarantine_unlinked", "finding", "finding", "quarantine"],
        }
    )
    decisions = pd.DataFrame({"row_id": [0, 1, 2], "decision": ["link", "link", "review"]})
    settled, kept, now = settle_held_rows(rows, reasons, decisions)
    # Row 1 was linked; row 2 only went to review: quarantined, its NIK/birth-date finding dropped.
    assert settled["quarantined"].tolist() == [False, False, True, True] and now.tolist() == [2]
    assert kept["category"].tolist() == ["FORMAT_TIDAK_VALID", "FORMAT_TIDAK_VALID", "NIK_TIDAK_VALID", "X"]
    report = [FileReport("a.csv", "submission", "5203", DESA, "csv")]
    limits = QualityGate(min_rows_for_file_share=1, max_file_quarantine_share=0.3, max_quarter_quarantine_share=1)
    before = quality_gate(rows, report, limits)
    after = quality_gate(settled, report, limits, after_linkage=True)
    assert before["passed"] and before["rows_held_for_linkage"] == 2
    assert not after["passed"] and after["problems"][0].startswith("After linkage")
