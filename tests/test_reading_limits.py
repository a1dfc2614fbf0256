"""Issue 10, reading one file: limits as settings, every per-file failure contained (submissions and Dukcapil
extracts), headerless files, messages that never echo a value, control characters, and a quarter with
NULs in its values published to PostgreSQL."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipelines.config import SUBMISSION_LIMITS, FileLimits, load_config
from pipelines.discover import discover_quarter
from pipelines.ingest import xlsx
from pipelines.ingest.intake import ACCEPTED, REJECTED, UNREADABLE, ingest_dukcapil, ingest_submissions
from pipelines.ingest.readers import UnreadableFile, read_table

HEADER = "kode_desa,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan_keluarga,status_usulan"
ROW = "5203012001,5203010101150001,5203011508800001,LALU AHMAD,L,1980-08-15,KEPALA KELUARGA,TETAP"
EXTRACT = "NIK,NO_KK,NAMA_LGKP,JENIS_KLMIN,TGL_LHR,NO_PROP,NO_KAB,NO_KEC,NO_KEL\n"
PERSON = "5203011508800001,5203010101150001,LALU AHMAD,LAKI-LAKI,1980-08-15,52,03,01,2001\n"


def small(**changes) -> FileLimits:
    values = {"max_file_mb": 1, "max_rows": 5, "max_columns": 10, "max_field_chars": 50}
    return FileLimits(**{**values, **changes})


def landing(tmp_path: Path, files: dict[str, bytes], extracts: dict[str, bytes] | None = None) -> Path:
    root = tmp_path / "landing"
    for name, data in files.items():
        path = root / "2026Q3" / "submissions" / "5203" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for name, data in (extracts or {"5203.csv": EXTRACT.encode()}).items():
        path = root / "2026Q3" / "dukcapil" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def ingest(tmp_path, files, limits=SUBMISSION_LIMITS):
    found = discover_quarter(landing(tmp_path, files), "2026Q3")
    return ingest_submissions([f for f in found if f.kind == "submission"], limits)


def codes(report) -> list[str]:
    return [p["code"] for p in report.problems]


# --------------------------------------------------------------------------------------------- settings


def test_limits_are_settings_with_defaults_for_each_kind():
    config = load_config({"intake": {"submission": {"max_rows": 80_000}, "dukcapil": {"max_file_mb": 4096}}})
    assert config.intake.submission.max_rows == 80_000
    assert config.intake.submission.max_columns == SUBMISSION_LIMITS.max_columns
    assert config.intake.dukcapil.max_file_bytes == 4096 * 1024 * 1024
    assert config.intake.dukcapil.max_rows > config.intake.submission.max_rows
    with pytest.raises(ValueError, match="max_field_chars"):
        load_config({"intake": {"submission": {"max_field_chars": 0}}})


def test_the_ingest_stage_passes_the_settings_down(tmp_path, monkeypatch):
    from pipelines.stages import context, inputs

    root = landing(tmp_path, {"5203012001.csv": (f"{HEADER}\n" + f"{ROW}\n" * 6).encode()})
    conf = {
        "quarter": "2026Q3",
        "landing": str(root),
        "work": str(tmp_path / "work"),
        "config": {"intake": {"submission": {"max_rows": 5}}},
    }
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    ctx = context.make_context(conf, "manual__limits")
    (kab,) = inputs.discover(ctx)["partitions"]
    summary = inputs.ingest(ctx, kab)
    assert summary["file_statuses"] == {"UNREADABLE": 1, "ACCEPTED": 1}  # the village file; the extract


# ------------------------------------------------------------------------------------ limits, one by one


@pytest.mark.parametrize(
    ("data", "code", "fragment"),
    [
        (f"{HEADER}\n" + f"{ROW}\n" * 6, "baris_terlalu_banyak", "baris 7"),
        (f"{HEADER}\n{ROW},,,x\n", "kolom_terlalu_banyak", "kolom 11"),
        (
            f"{HEADER}\n{ROW}\n{ROW.replace('LALU AHMAD', 'A' * 51)}\n",
            "isian_terlalu_panjang",
            "baris 3 berkas, kolom 4",
        ),
    ],
)
def test_a_csv_beyond_a_limit_is_refused_naming_row_and_column(tmp_path, data, code, fragment):
    rows, reports = ingest(tmp_path, {"5203012001.csv": data.encode()}, small())
    report = reports[0]
    assert report.status == UNREADABLE and report.rejection_category == "FORMAT_TIDAK_VALID"
    assert codes(report) == [code]
    assert fragment in report.problems[0]["message"] and "5203012001.csv" in report.problems[0]["message"]
    assert rows.empty


def test_blank_lines_and_empty_columns_beyond_the_limits_cost_nothing():
    data = f"{HEADER}{',' * 300}\n{ROW}\n" + "\n" * 100_000 + ",,,,,\n" * 1_000
    table = read_table(data.encode(), "csv", small())
    assert len(table.header) == 10 and table.rows == [ROW.split(",")]


def test_file_size_limit(tmp_path):
    _rows, reports = ingest(tmp_path, {"5203012001.csv": f"{HEADER}\n{ROW}\n".encode()}, small(max_file_mb=0.00001))
    assert reports[0].status == UNREADABLE and codes(reports[0]) == ["berkas_terlalu_besar"]


def _workbook(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_xlsx_limits():
    header = HEADER.split(",")
    row = ROW.split(",")
    with pytest.raises(UnreadableFile) as raised:
        read_table(_workbook([header, *[row] * 6]), "xlsx", small())
    assert raised.value.code == "baris_terlalu_banyak"
    with pytest.raises(UnreadableFile) as raised:
        read_table(_workbook([header, [*row, None, None, "x"]]), "xlsx", small())
    assert raised.value.code == "kolom_terlalu_banyak" and "kolom 11 (K)" in raised.value.message
    with pytest.raises(UnreadableFile) as raised:
        read_table(_workbook([header, ["A" * 51]]), "xlsx", small())
    assert raised.value.code == "isian_terlalu_panjang" and "baris 2 berkas, kolom 1 (A)" in raised.value.message
    with pytest.raises(UnreadableFile) as raised:
        read_table(_workbook([header, row]), "xlsx", small(max_member_mb=0.001))
    assert raised.value.code == "isi_xlsx_terlalu_besar"
    with pytest.raises(UnreadableFile) as raised:
        read_table(_workbook([header, row]), "xlsx", small(max_xlsx_members=3))
    assert raised.value.code == "bagian_xlsx_terlalu_banyak"


def test_a_dtd_anywhere_in_the_workbook_is_refused_before_openpyxl_parses_it():
    data = _workbook([HEADER.split(","), ROW.split(",")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                content = b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + content
            dst.writestr(item, content)
    with pytest.raises(UnreadableFile) as raised:
        xlsx.open_workbook(out.getvalue())
    assert raised.value.code == "xml_tidak_aman" and "xl/workbook.xml" in raised.value.message


# ----------------------------------------------------------------------------------------- containment


def test_an_unforeseen_failure_is_a_file_status_and_memory_errors_are_not(monkeypatch):
    def broken(*_args, **_kwargs):
        raise TypeError("NIK 5203011508800001 in a message")

    monkeypatch.setattr(xlsx, "open_workbook", broken)
    with pytest.raises(UnreadableFile) as raised:
        read_table(b"PK\x03\x04rest", "xlsx")
    assert raised.value.code == "berkas_rusak" and "5203011508800001" not in raised.value.message

    def exhausted(*_args, **_kwargs):
        raise MemoryError

    monkeypatch.setattr(xlsx, "open_workbook", exhausted)
    with pytest.raises(MemoryError):
        read_table(b"PK\x03\x04rest", "xlsx")


def test_the_quarter_goes_on_past_broken_files(tmp_path):
    good = f"{HEADER}\n{ROW}\n".encode()
    broken_xlsx = _workbook([HEADER.split(","), ROW.split(",")])
    broken_xlsx = broken_xlsx[: len(broken_xlsx) - 200]
    rows, reports = ingest(
        tmp_path,
        {"5203012001.csv": good, "5203012002.xlsx": broken_xlsx, "5203012003.csv": b"\x00\x01\x02" * 100},
    )
    statuses = {r.source_file.rsplit("/", 1)[1]: r.status for r in reports}
    assert statuses == {"5203012001.csv": ACCEPTED, "5203012002.xlsx": UNREADABLE, "5203012003.csv": UNREADABLE}
    assert len(rows) == 1
    for report in reports[1:]:
        assert report.rejection_category == "FORMAT_TIDAK_VALID"
        assert report.problems[0]["message"].startswith(report.source_file.rsplit("/", 1)[1])


def test_dukcapil_extracts_are_contained_too(tmp_path):
    extracts = {
        "5203.csv": (EXTRACT + PERSON).replace("\n", "\r").encode(),  # lone CR: read
        "5201.csv": (EXTRACT + PERSON.replace("LALU AHMAD", "LALU\x00AHMAD")).encode(),  # NUL: not cut off
        "5202.csv": (EXTRACT + '5203011508800001,"unclosed\n').encode(),  # cannot be parsed
        "5204.csv": "NIK;NAMA\n\u00e9".encode("cp1252"),  # not UTF-8
    }
    found = discover_quarter(landing(tmp_path, {"5203012001.csv": f"{HEADER}\n{ROW}\n".encode()}, extracts), "2026Q3")
    persons, reports = ingest_dukcapil([f for f in found if f.kind == "dukcapil"], small(max_rows=100))
    by_name = {r.source_file.rsplit("/", 1)[1]: r for r in reports}
    assert by_name["5203.csv"].status == ACCEPTED and by_name["5203.csv"].data_rows == 1
    assert by_name["5201.csv"].status == ACCEPTED and codes(by_name["5201.csv"]) == ["karakter_kontrol"]
    assert set(persons["NAMA_LGKP"]) == {"LALU AHMAD", "LALU␀AHMAD"}
    for name in ("5202.csv", "5204.csv"):
        assert by_name[name].status == UNREADABLE and by_name[name].rejection_category == "FORMAT_TIDAK_VALID"
        assert by_name[name].problems[0]["message"].startswith(name)
    too_long = {"5203.csv": (EXTRACT + PERSON.replace("LALU AHMAD", "A" * 60)).encode()}
    found = discover_quarter(landing(tmp_path / "x", {"5203012001.csv": b"x"}, too_long), "2026Q3")
    _persons, reports = ingest_dukcapil([f for f in found if f.kind == "dukcapil"], small())
    assert codes(reports[0]) == ["isian_terlalu_panjang"] and "baris 1, kolom 3" in reports[0].problems[0]["message"]


# ------------------------------------------------------------------------------------ headers and values


def test_a_headerless_csv_keeps_every_line_as_a_row_and_names_no_value(tmp_path):
    other = ROW.replace("LALU AHMAD", "BAIQ SITI").replace("0001", "0002")
    rows, reports = ingest(tmp_path, {"5203012001.csv": f"{ROW}\n{other}\n".encode()})
    report = reports[0]
    assert report.status == REJECTED and report.rejection_category == "DATA_TIDAK_LENGKAP"
    assert codes(report) == ["judul_kolom_tidak_ada"] and report.data_rows == 2
    assert rows["source_row"].tolist() == [1, 2]
    extra = json.loads(rows.loc[0, "_extra"])
    assert extra["(kolom 3 tanpa judul)"] == "5203011508800001" and extra["(kolom 4 tanpa judul)"] == "LALU AHMAD"
    text = json.dumps(report.to_dict())
    for value in ("5203011508800001", "LALU", "1980-08-15", "5203010101150001"):
        assert value not in text


def test_doubled_and_hinted_headers_are_named_by_position_never_by_their_text(tmp_path):
    header = HEADER + ",5203011508800001,5203011508800001"
    _rows, reports = ingest(tmp_path, {"5203012001.csv": f"{header},NAMA\n{ROW},x,y,z\n".encode()})
    messages = " ".join(p["message"] for p in reports[0].problems)
    assert "5203011508800001" not in messages
    assert "kolom 9 dan 10" in messages and "nama (kolom 4 dan 11)" in messages


def test_control_characters_are_visible_in_raw_values_and_noted():
    damaged = ROW.replace("LALU AHMAD", "LALU\x00\x1b[2J\u202eAHMAD")
    data = f"{HEADER}\n{damaged}\n".encode()
    table = read_table(data, "csv")
    assert table.rows[0][3] == "LALU␀␛[2J�AHMAD"
    assert [c for c, _ in table.notes] == ["karakter_kontrol"] and "baris 2 berkas, kolom 4" in table.notes[0][1]
    # Binary content is judged on the whole file, not on where its first NUL sits.
    with pytest.raises(UnreadableFile):
        read_table(f"{HEADER}\n{ROW}\n".encode() + bytes(range(32)) * 200, "csv")


def test_lone_cr_with_a_quoted_line_break():
    data = f"{HEADER}\r{ROW.replace('LALU AHMAD', chr(34) + 'LALU' + chr(13) + 'AHMAD' + chr(34))}\r{ROW}\r"
    table = read_table(data.encode(), "csv")
    assert len(table.rows) == 2 and table.rows[0][3] == "LALU\rAHMAD" and table.rejection is None


# ----------------------------------------------------------------------------------- to the warehouse


@pytest.mark.postgres
def test_values_with_nul_publish_to_postgresql(tmp_path, pg_url, monkeypatch):
    """The corpus's control-character and headerless cases (and an extract with a NUL) through every stage to
    a fresh PostgreSQL database: PostgreSQL cannot store NUL, and none reaches it."""
    from sqlalchemy import create_engine, text

    from pipelines.stages import run_all

    cases = Path(__file__).parent / "corpus" / "cases"
    root = tmp_path / "landing"
    for case in ("control_characters", "csv_without_header"):
        source = next(cases.glob(f"*_{case}"))
        for item in json.loads((source / "expected.json").read_text())["files"]:
            target = root / "2026Q3" / "submissions" / item["landing"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / item["input"], target)
    extract = (Path(__file__).parent / "corpus" / "dukcapil_5203.csv").read_bytes()
    (root / "2026Q3" / "dukcapil").mkdir(parents=True)
    (root / "2026Q3" / "dukcapil" / "5203.csv").write_bytes(extract.replace(b"DUSUN TIMUR", b"DUSUN\x00TIMUR", 1))
    relaxed = {"quality_gate": {"max_quarter_quarantine_share": 1.0, "max_file_quarantine_share": 1.0}}
    conf = {
        "quarter": "2026Q3",
        "landing": str(root),
        "work": str(tmp_path / "work"),
        "reports": str(tmp_path / "reports"),
        "config": relaxed,
    }
    from pipelines.warehouse.connection import environment_variable

    monkeypatch.setenv(*environment_variable(pg_url))
    result = run_all(conf, "manual__nul")
    assert result["status"] == "PUBLISHED", result.get("message")
    engine = create_engine(pg_url)
    with engine.connect() as c:
        names = [r[0] for r in c.execute(text("SELECT nama FROM dtks.dtks_snapshot"))]
        raw = [json.loads(r[0]) for r in c.execute(text("SELECT raw_fields FROM dtks.quarantine"))]
        outcomes = c.execute(text("SELECT count(*) FROM dtks.row_outcome")).scalar()
    engine.dispose()
    assert outcomes == 9 + 3
    assert "LALUAHMAD" in names and not any("\x00" in n or "␀" in n for n in names)
    assert any(f.get("nama") == "SUPARDI␀" for f in raw)
    assert not any("\x00" in json.dumps(f, ensure_ascii=False) for f in raw)
