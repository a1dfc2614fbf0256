"""Walking a hostile landing area: every entry that is not an expected input is listed with what was done
with it, nothing is read through a symlink or from outside the landing root, codes are ASCII digits, names
are shown escaped, and no odd entry stops the quarter (issue 10, "Walk the whole landing area")."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines.config import LandingLimits
from pipelines.discover import ACTION_LABELS, KIND_LABELS, LandingError, discover_quarter, survey_quarter
from pipelines.ingest.intake import REJECTED, UNREADABLE, ingest_dukcapil, ingest_submissions
from pipelines.landing import LandingReadError, read_landing_file
from pipelines.printable import is_plain, shown

QUARTER = "2026Q3"
OUTSIDE_MARK = "RAHASIA DI LUAR AREA LANDING"  # what the files outside the landing root hold (conftest)
HEADER = "kode_desa,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan_keluarga,status_usulan\n"
EXTRACT = (
    "NIK,NO_KK,NAMA_LGKP,JENIS_KLMIN,TGL_LHR,NO_PROP,NO_KAB,NO_KEC,NO_KEL\n"
    "5203011508800001,5203010101150001,LALU AHMAD,LAKI-LAKI,1980-08-15,52,03,01,2001\n"
)


def village(desa: str, rows: int = 1) -> str:
    lines = [
        f"{desa},{desa[:6]}0101150001,{desa[:6]}15088000{n + 1:02d},LALU AHMAD {n},L,1980-08-15,KEPALA KELUARGA,TETAP"
        for n in range(rows)
    ]
    return HEADER + "\n".join(lines) + "\n"


def file(path: str, text: str = "x") -> dict:
    return {"path": path, "type": "file", "text": text}


def link(path: str, target: str) -> dict:
    return {"path": path, "type": "symlink", "target": target}


def folder(path: str) -> dict:
    return {"path": path, "type": "folder"}


K = "submissions/5203"
# Every entry of the hostile quarter, and what must become of it: "input" (an expected input, not listed),
# or (type, kind, action) as listed. Paths are below <landing>/<quarter>/, keys as shown (escaped, masked).
HOSTILE: list[tuple[dict, str | tuple[str, str, str], str | None]] = [
    # (entry, outcome, shown path when it differs from the entry's path)
    (file(f"{K}/5203012001.csv", village("5203012001", 2)), "input", None),
    (file("dukcapil/5203.csv", EXTRACT), "input", None),
    # symlinks of every kind: never followed, nothing behind them read
    (link(f"{K}/5203012002.csv", "{outside}/secret.csv"), ("symlink", "tautan_simbolik", "tidak_diikuti"), None),
    (
        link(f"{K}/5203012003.csv", "../../../../outside/secret.csv"),
        ("symlink", "tautan_simbolik", "tidak_diikuti"),
        None,
    ),
    (link(f"{K}/5203012004.csv", "5203012001.csv"), ("symlink", "tautan_simbolik", "tidak_diikuti"), None),
    (link(f"{K}/5203012005.csv", "hilang.csv"), ("symlink", "tautan_simbolik", "tidak_diikuti"), None),
    (link("submissions/5201", "{outside}/folder"), ("symlink", "tautan_simbolik", "tidak_diikuti"), None),
    (link(f"{K}/putaran", ".."), ("symlink", "tautan_simbolik", "tidak_diikuti"), None),
    (link("dukcapil/5202.csv", "{outside}/secret.csv"), ("symlink", "tautan_simbolik", "tidak_diikuti"), None),
    # subfolders and folders in the wrong place: walked; village files in them read and rejected
    (folder(f"{K}/lama"), ("folder", "folder_tak_terduga", "diperiksa"), None),
    (file(f"{K}/lama/5203012006.csv", village("5203012006")), ("file", "lokasi_berkas_salah", "dibaca_ditolak"), None),
    (file(f"{K}/lama/catatan.txt"), ("file", "berkas_tak_terduga", "dilewati"), None),
    (folder("Submissions"), ("folder", "folder_tak_terduga", "diperiksa"), None),
    (folder("Submissions/5203"), ("folder", "folder_tak_terduga", "diperiksa"), None),
    (
        file("Submissions/5203/5203012007.csv", village("5203012007")),
        ("file", "lokasi_berkas_salah", "dibaca_ditolak"),
        None,
    ),
    (file("5203012008.csv", village("5203012008")), ("file", "lokasi_berkas_salah", "dibaca_ditolak"), None),
    (
        file("submissions/5203012010.csv", village("5203012010")),
        ("file", "lokasi_berkas_salah", "dibaca_ditolak"),
        None,
    ),
    (file("README.txt"), ("file", "berkas_tak_terduga", "dilewati"), None),
    (file("5203.csv", EXTRACT), ("file", "ekstrak_salah_tempat", "dilewati"), None),
    (file(f"{K}/5203.csv", EXTRACT), ("file", "ekstrak_salah_tempat", "dilewati"), None),
    (file("dukcapil/5203.xlsx"), ("file", "format_tidak_didukung", "dibaca_ditolak"), None),
    (file("dukcapil/5203012009.xlsx", village("5203012009")), ("file", "lokasi_berkas_salah", "dibaca_ditolak"), None),
    # hidden, lock and system files: not data, not read
    (file(f"{K}/.DS_Store"), ("file", "berkas_tersembunyi", "dilewati"), None),
    (file(f"{K}/.5203012011.csv", village("5203012011")), ("file", "berkas_tersembunyi", "dilewati"), None),
    (folder(".tersembunyi"), ("folder", "folder_tersembunyi", "tidak_diperiksa"), None),
    (file(".tersembunyi/5203012012.csv", village("5203012012")), None, None),  # inside a folder never opened
    (file(f"{K}/~$5203012001.xlsx"), ("file", "berkas_kunci", "dilewati"), None),
    (file(f"{K}/.~lock.5203012001.csv#"), ("file", "berkas_kunci", "dilewati"), None),
    (file(f"{K}/Thumbs.db"), ("file", "berkas_sistem", "dilewati"), None),
    # names a terminal, a log, a browser or a spreadsheet would act on
    (file(f"{K}/5203012013\x1b[2J.csv"), ("file", "nama_tidak_aman", "dilewati"), f"{K}/5203012013\\x1b[2J.csv"),
    (
        file(f"{K}/5203012014\n2026-12-01 INFO palsu.csv"),
        ("file", "nama_tidak_aman", "dilewati"),
        f"{K}/5203012014\\n2026-12-01 INFO palsu.csv",
    ),
    (file(f"{K}/5203012015\u202evsc.exe"), ("file", "nama_tidak_aman", "dilewati"), f"{K}/5203012015\\u202evsc.exe"),
    (file(f"{K}/desa\udcff.csv"), ("file", "nama_tidak_aman", "dilewati"), f"{K}/desa\\xff.csv"),
    (file(f"{K}/5203022001\u200b.csv"), ("file", "nama_tidak_aman", "dilewati"), f"{K}/5203022001\\u200b.csv"),
    (file(f"{K}/3201011508950001.csv"), ("file", "nama_memuat_nik", "dilewati"), f"{K}/3201********0001.csv"),
    (
        file(f"{K}/<img src=x onerror=alert(1)>.csv", village("5203022004")),
        ("file", "nama_berkas_tidak_sesuai", "dibaca_ditolak"),
        None,
    ),
    (
        file(f"{K}/=HYPERLINK(1).csv", village("5203022005")),
        ("file", "nama_berkas_tidak_sesuai", "dibaca_ditolak"),
        None,
    ),
    # full-width digits are no desa or kabupaten code
    (
        file(f"{K}/５２０３０２２００２.csv", village("5203022002")),
        ("file", "nama_berkas_tidak_sesuai", "dibaca_ditolak"),
        None,
    ),
    (folder("submissions/５２０３"), ("folder", "folder_kabupaten_tidak_dikenal", "diperiksa"), None),
    (
        file("submissions/５２０３/5203022003.csv", village("5203022003")),
        ("file", "kabupaten_tidak_dikenal", "dibaca_ditolak"),
        None,
    ),
    (
        file(f"{K}/5203012001 (1).csv", village("5203012001")),
        ("file", "nama_berkas_tidak_sesuai", "dibaca_ditolak"),
        None,
    ),
    (file(f"{K}/5203012017.ods"), ("file", "format_tidak_didukung", "dibaca_ditolak"), None),
    # not regular files
    ({"path": f"{K}/5203012016.csv", "type": "fifo"}, ("fifo", "bukan_berkas_biasa", "dilewati"), None),
    # a chain of folders deeper than the walk goes
    (folder(f"{K}/a/b/c/d/e/f"), None, None),
    (file(f"{K}/a/b/c/d/e/f/5203012018.csv", village("5203012018")), None, None),
    (folder(f"{K}/a"), ("folder", "folder_tak_terduga", "diperiksa"), None),
    (folder(f"{K}/a/b"), ("folder", "folder_tak_terduga", "diperiksa"), None),
    (folder(f"{K}/a/b/c"), ("folder", "folder_tak_terduga", "diperiksa"), None),
    (folder(f"{K}/a/b/c/d"), ("folder", "folder_tak_terduga", "diperiksa"), None),
    (folder(f"{K}/a/b/c/d/e"), ("folder", "folder_terlalu_dalam", "tidak_diperiksa"), None),
]
# Files read (every one rejected or unreadable but the two expected inputs) and their file status.
READ_STATUS = {
    f"{K}/5203012001.csv": "ACCEPTED",
    "dukcapil/5203.csv": "ACCEPTED",
    f"{K}/lama/5203012006.csv": REJECTED,
    "Submissions/5203/5203012007.csv": REJECTED,
    "5203012008.csv": REJECTED,
    "submissions/5203012010.csv": REJECTED,
    "dukcapil/5203.xlsx": UNREADABLE,
    "dukcapil/5203012009.xlsx": REJECTED,  # text named .xlsx: read as the CSV it is, then rejected
    f"{K}/<img src=x onerror=alert(1)>.csv": REJECTED,
    f"{K}/=HYPERLINK(1).csv": REJECTED,
    f"{K}/５２０３０２２００２.csv": REJECTED,
    "submissions/５２０３/5203022003.csv": REJECTED,
    f"{K}/5203012001 (1).csv": REJECTED,
    f"{K}/5203012017.ods": UNREADABLE,
}


def expected_listing() -> dict[str, tuple[str, str, str]]:
    return {
        f"{QUARTER}/{shown_path or spec['path']}": outcome
        for spec, outcome, shown_path in HOSTILE
        if isinstance(outcome, tuple)
    }


@pytest.fixture
def hostile(landing_builder) -> Path:
    return landing_builder.build([spec for spec, _, _ in HOSTILE])


def test_every_entry_is_accounted_for_and_nothing_outside_is_read(hostile, landing_builder):
    with landing_builder.watch_outside() as touched:
        survey = survey_quarter(hostile, QUARTER)
        submissions, sub_reports = ingest_submissions([f for f in survey.inputs if f.kind == "submission"])
        persons, duk_reports = ingest_dukcapil([f for f in survey.inputs if f.kind == "dukcapil"])
    assert touched == []

    listed = {e.path: (e.type, e.kind, e.action) for e in survey.listed}
    assert listed == expected_listing()
    assert survey.unexpected == len(listed) and survey.to_dict()["not_listed"] == 0
    assert not survey.walk_stopped
    for entry in survey.listed:
        assert is_plain(entry.path) and is_plain(entry.reason), entry
        assert entry.kind in KIND_LABELS and entry.action in ACTION_LABELS
        assert entry.reason.strip()

    reports = {r.source_file.removeprefix(f"{QUARTER}/"): r for r in sub_reports + duk_reports}
    assert {k: r.status for k, r in reports.items()} == READ_STATUS
    # Rows of every village file that was read are kept: the misplaced ones quarantined by their file's
    # rejection; nothing came from outside.
    assert set(submissions["source_file"].str.removeprefix(f"{QUARTER}/")) == {
        k for k, status in READ_STATUS.items() if status == REJECTED or k == f"{K}/5203012001.csv"
    }
    assert not submissions.astype(str).apply(lambda c: c.str.contains(OUTSIDE_MARK)).any().any()
    assert len(persons) == 1
    misplaced = reports["Submissions/5203/5203012007.csv"]
    assert [p["code"] for p in misplaced.problems] == ["lokasi_berkas_salah"]
    assert "seharusnya di submissions/5203/" in misplaced.problems[0]["message"]
    full_width = reports[f"{K}/５２０３０２２００２.csv"]
    assert full_width.kode_desa is None and "angka lebar penuh" in full_width.problems[0]["message"]
    foreign_folder = reports["submissions/５２０３/5203022003.csv"]
    assert [p["code"] for p in foreign_folder.problems] == ["kabupaten_tidak_dikenal"]


def test_the_listing_names_the_link_target_and_side(hostile):
    reasons = {e.path: e.reason for e in survey_quarter(hostile, QUARTER).listed}
    assert "ke luar area landing" in reasons[f"{QUARTER}/{K}/5203012002.csv"]
    assert "ke luar area landing" in reasons[f"{QUARTER}/{K}/5203012003.csv"]
    assert "ke luar area landing" in reasons[f"{QUARTER}/submissions/5201"]
    assert "ke dalam area landing (5203012001.csv)" in reasons[f"{QUARTER}/{K}/5203012004.csv"]
    assert "ke dalam area landing" in reasons[f"{QUARTER}/{K}/putaran"]


def test_only_plain_ascii_codes_are_codes():
    from pipelines import regions
    from pipelines.contract import quarter_is_valid
    from pipelines.discover import village_code

    assert village_code("5203012001.csv") == "5203012001"
    assert village_code("52.03.01.2001.xlsx") == "5203012001"
    assert village_code("５２０３０１２００１.csv") is None
    assert village_code("٥٢٠٣٠١٢٠٠١.csv") is None  # Arabic-Indic digits
    assert not regions.is_kabupaten("５２０３") and regions.is_kabupaten("5203")
    assert not regions.desa_exists("５２０３０１２００１")
    assert quarter_is_valid("2026Q3") and not quarter_is_valid("２０２６Q3") and not quarter_is_valid("2026Q3\n")


def test_shown_escapes_what_would_act_and_keeps_what_is_visible():
    assert shown("5203012001.csv") == "5203012001.csv"
    assert shown("Desa Sukamaju (1).xlsx") == "Desa Sukamaju (1).xlsx"
    assert shown("a\x1b[31mb") == "a\\x1b[31mb"
    assert shown("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert shown("x\u202ey\u200bz\ufeff") == "x\\u202ey\\u200bz\\ufeff"
    assert shown("nb\u00a0sp") == "nb\\xa0sp"
    assert shown("desa\udcff") == "desa\\xff"
    assert shown("back\\slash") == "back\\\\slash"
    assert shown("\U000e0041") == "\\U000e0041"  # a tag character
    assert shown("x" * 1000, 10) == "x" * 9 + "…"
    assert is_plain("５２０３ desa") and not is_plain("a\u3164b")


def test_a_big_tree_is_bounded_listed_in_part_and_counted(landing_builder):
    junk = [file(f"{K}/sampah_{i:04d}.csv", village("5203012002")) for i in range(300)]
    many = [file(f"zzz_lain/{i:04d}.txt") for i in range(600)]  # walked last: sorted after the inputs
    chain = folder("/".join(["submissions", "5203", *["d"] * 40]))
    entries = [file(f"{K}/5203012001.csv", village("5203012001")), file("dukcapil/5203.csv", EXTRACT)]
    landing = landing_builder.build([*entries, *junk, *many, chain])
    limits = LandingLimits(max_entries=700, max_listed=25, max_unexpected_files_read=5, max_depth=4)
    survey = survey_quarter(landing, QUARTER, limits)
    account = survey.to_dict()
    assert survey.walk_stopped and survey.entries_examined == 700 and survey.not_examined == 600 - 391
    assert len(survey.listed) == 25 and account["not_listed"] == survey.unexpected - 25
    assert sum(account["by_kind"].values()) == survey.unexpected == sum(account["by_action"].values())
    # 3 at the root, 1 in dukcapil/, 1 in submissions/, 302 in the kabupaten folder, 2 folders of the chain,
    # and what was left of the budget in zzz_lain/.
    assert account["by_kind"] == {
        "nama_berkas_tidak_sesuai": 5,
        "batas_berkas": 295,
        "folder_tak_terduga": 3,
        "folder_terlalu_dalam": 1,
        "berkas_tak_terduga": 700 - 309,
    }
    read = [f for f in survey.inputs if f.kind == "submission"]
    assert len(read) == 1 + 5  # the village file, and five odd-named files read to be rejected


def test_no_amount_of_junk_hides_an_expected_input(landing_builder):
    """Junk sorted before the input folders, and beside the village files in their folder, past the entry
    budget: every expected input is still found; the junk past the budget is counted."""
    villages = [file(f"{K}/{d}.csv", village(d)) for d in ("5203012001", "5203012002", "5203022001")]
    landing = landing_builder.build(
        [
            *villages,
            file("dukcapil/5203.csv", EXTRACT),
            *[file(f"aaa/{i:04d}.txt") for i in range(500)],
            *[file(f"{K}/{i:04d} salinan.csv") for i in range(500)],
        ]
    )
    survey = survey_quarter(landing, QUARTER, LandingLimits(max_entries=50))
    found = {f.source_file for f in survey.inputs if not f.problems}
    assert found == {f"{QUARTER}/{v['path']}" for v in villages} | {f"{QUARTER}/dukcapil/5203.csv"}
    # The budget is spent in directory order; a village file listed after that point is examined on top.
    assert 50 <= survey.entries_examined <= 53 and survey.entries_examined + survey.not_examined == 1008
    assert survey.to_dict()["not_examined"] == survey.not_examined


def test_a_deep_chain_of_folders_ends_at_the_depth_limit(landing_builder):
    chain = "/".join(["submissions", "5203", *["d"] * 200])
    landing = landing_builder.build(
        [
            file(f"{K}/5203012001.csv", village("5203012001")),
            file("dukcapil/5203.csv", EXTRACT),
            folder(chain),
            file(f"{chain}/5203012002.csv", village("5203012002")),
        ]
    )
    survey = survey_quarter(landing, QUARTER)
    assert survey.by_kind == {"folder_tak_terduga": 4, "folder_terlalu_dalam": 1}
    assert [f.source_file for f in survey.inputs if f.kind == "submission"] == [f"{QUARTER}/{K}/5203012001.csv"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([link("submissions", "{outside}/folder"), file("dukcapil/5203.csv", EXTRACT)], "submissions (symlink"),
        ([folder("Submissions/5203"), file("dukcapil/5203.csv", EXTRACT)], "No village submission files"),
        ([file(f"{K}/5203012001.csv", village("5203012001"))], "No Dukcapil extract"),
        (
            [file(f"{K}/5203012001.csv", village("5203012001")), link("dukcapil", "{outside}/folder")],
            "dukcapil (symlink",
        ),
    ],
)
def test_nothing_to_run_on_is_a_landing_error_that_says_what_was_found(landing_builder, entries, message):
    landing = landing_builder.build(entries)
    with pytest.raises(LandingError, match=message.replace("(", r"\(")):
        discover_quarter(landing, QUARTER)


def test_a_quarter_folder_that_is_a_symlink_is_not_followed(landing_builder, tmp_path):
    real = landing_builder.build(
        [file(f"{K}/5203012001.csv", village("5203012001")), file("dukcapil/5203.csv", EXTRACT)]
    )
    other = tmp_path / "other_landing"
    other.mkdir()
    (other / QUARTER).symlink_to(real / QUARTER)
    with pytest.raises(LandingError, match="is a symlink"):
        discover_quarter(other, QUARTER)
    # The landing root itself may be a symlink (a mount point).
    mount = tmp_path / "mount"
    mount.symlink_to(real)
    assert len(discover_quarter(mount, QUARTER)) == 2


def test_an_odd_entry_never_stops_the_quarter(hostile):
    files = discover_quarter(hostile, QUARTER)
    assert {f.source_file for f in files if not f.problems} == {
        f"{QUARTER}/{K}/5203012001.csv",
        f"{QUARTER}/dukcapil/5203.csv",
    }


def test_read_landing_file_refuses_what_discover_lists(hostile):
    def code(source_file: str) -> str:
        with pytest.raises(LandingReadError) as caught:
            read_landing_file(hostile, f"{QUARTER}/{source_file}", 1 << 20)
        assert is_plain(caught.value.message)
        return caught.value.code

    assert code(f"{K}/5203012002.csv") == "tautan_simbolik"
    assert code("submissions/5201/5203012001.csv") == "tautan_simbolik"
    assert code(f"{K}/5203012016.csv") == "bukan_berkas_biasa"
    assert code(f"{K}/hilang.csv") == "berkas_hilang"
    assert code(f"{K}/5203012001.csv/x") == "bukan_berkas_biasa"
    assert code("../outside/secret.csv") == "jalur_tidak_sah"
    assert code(f"{K}/5203012013\x1b[2J.csv/x") == "bukan_berkas_biasa"
    assert read_landing_file(hostile, f"{QUARTER}/{K}/5203012001.csv", 1 << 20).startswith(b"kode_desa")
    with pytest.raises(LandingReadError) as caught:
        read_landing_file(hostile, f"{QUARTER}/{K}/5203012001.csv", 10)
    assert caught.value.code == "berkas_terlalu_besar"


def _as_nobody(landing: Path) -> dict:
    """Survey and ingest as `nobody` when running as root (permissions bind only other users): in a forked
    child that drops its privileges, since the interpreter under /root cannot be run by `nobody`."""

    def work() -> dict:
        survey = survey_quarter(landing, QUARTER)
        _, reports = ingest_submissions([f for f in survey.inputs if f.kind == "submission"])
        return {"listed": [e.to_dict() for e in survey.listed], "reports": [r.to_dict() for r in reports]}

    if os.geteuid() != 0:
        return work()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with os.fdopen(write_end, "w") as out:
                json.dump(work(), out)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as result:
        text = result.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and text, "the unprivileged child failed"
    return json.loads(text)


def test_unreadable_folders_and_files_are_listed_and_rejected(landing_builder):
    """A folder that cannot be opened is listed and the walk goes on; a file that cannot be opened is
    rejected as unreadable with the reason. The tree sits outside pytest's private temporary folder, so
    that `nobody` can reach it."""
    shared = Path(tempfile.mkdtemp(prefix="dtks-landing-"))
    os.chmod(shared, 0o755)
    builder = type(landing_builder)(shared)
    try:
        landing = builder.build(
            [
                file(f"{K}/5203012001.csv", village("5203012001")),
                file("dukcapil/5203.csv", EXTRACT),
                file(f"{K}/terkunci/5203012002.csv", village("5203012002")),
                {**folder(f"{K}/terkunci"), "mode": "000"},
                {**file(f"{K}/5203012003.csv", village("5203012003")), "mode": "000"},
            ]
        )
        result = _as_nobody(landing)
    finally:
        os.chmod(shared / "landing1" / QUARTER / K / "terkunci", 0o755)
        shutil.rmtree(shared)
    listed = {e["path"]: (e["kind"], e["action"]) for e in result["listed"]}
    assert listed == {f"{QUARTER}/{K}/terkunci": ("folder_tidak_dapat_dibuka", "tidak_diperiksa")}
    reports = {r["source_file"]: r for r in result["reports"]}
    locked = reports[f"{QUARTER}/{K}/5203012003.csv"]
    assert locked["status"] == UNREADABLE and locked["problems"][0]["code"] == "izin_ditolak"
    assert reports[f"{QUARTER}/{K}/5203012001.csv"]["status"] == "ACCEPTED"


def test_a_hostile_quarter_runs_publishes_and_reports_every_entry(
    hostile, landing_builder, tmp_path, caplog, monkeypatch
):
    """Through every stage (in-process, SQLite): the run publishes, the run record and the HTML summaries
    list every unexpected entry, the kabupaten's workbook lists the entries of its folder that were not read,
    and nothing from outside the landing root is anywhere."""
    import sqlalchemy as sa
    from openpyxl import load_workbook

    from pipelines.stages import run_all
    from pipelines.warehouse.connection import environment_variable

    relaxed = {"quality_gate": {"max_quarter_quarantine_share": 1.0, "max_rejected_file_share": 1.0}}
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    conf = {
        "quarter": QUARTER,
        "landing": str(hostile),
        "work": str(tmp_path / "work"),
        "reports": str(tmp_path / "reports"),
        "config": relaxed,
    }
    monkeypatch.setenv(*environment_variable(warehouse))
    caplog.set_level("INFO")
    with landing_builder.watch_outside() as touched:
        result = run_all(conf, "manual__hostile")
    assert result["status"] == "PUBLISHED", result.get("message")
    assert touched == []

    engine = sa.create_engine(warehouse)
    with engine.connect() as c:
        landing = json.loads(c.execute(sa.text("SELECT landing FROM run")).scalar_one())
        outcome = pd.read_sql("SELECT source_file, outcome FROM row_outcome", c)
    engine.dispose()
    assert {e["path"]: (e["type"], e["kind"], e["action"]) for e in landing["listed"]} == expected_listing()
    # Misplaced village files were read and rejected: their rows are kept, quarantined.
    misplaced = outcome[outcome["source_file"] == f"{QUARTER}/Submissions/5203/5203012007.csv"]
    assert misplaced["outcome"].tolist() == ["QUARANTINED"]

    reports = tmp_path / "reports" / QUARTER
    page = (reports / f"ringkasan_{QUARTER}.html").read_text(encoding="utf-8")
    for path in expected_listing():
        assert path.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page, path
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\x1b" not in page and "\u202e" not in page and "\u200b" not in page
    kab_page = (reports / "5203" / f"ringkasan_5203_{QUARTER}.html").read_text(encoding="utf-8")
    assert f"{QUARTER}/{K}/5203012002.csv" in kab_page and f"{QUARTER}/README.txt" not in kab_page

    workbook = load_workbook(reports / "5203" / f"laporan_dtks_5203_{QUARTER}.xlsx", read_only=True)
    cells = [str(c) for row in workbook["Berkas Bermasalah"].iter_rows(values_only=True) for c in row if c]
    workbook.close()
    for path, (_, _, action) in expected_listing().items():
        if path.startswith(f"{QUARTER}/{K}/") and action not in ("dibaca_ditolak", "dibaca", "diperiksa"):
            assert any(path in c for c in cells), path
    assert not any("\x1b" in c or "\u202e" in c or "5203012014\n" in c for c in cells)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged.count(f"Landing entry {QUARTER}/") == 20 and "and 25 more unexpected entries" in logged
    assert "5203012014\n" not in logged and "\x1b" not in logged and "\u202e" not in logged
    assert "3201011508950001" not in logged
    for root in (tmp_path / "work", reports):
        for path in root.rglob("*"):
            if path.is_file() and path.suffix in (".json", ".html", ".csv", ".parquet"):
                assert OUTSIDE_MARK.encode() not in path.read_bytes(), path
