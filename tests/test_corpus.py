"""The damaged-input corpus (tests/corpus/cases, made by tests/corpus/build_corpus.py): every case ends in a
clear file-level error or in quarantine reasons naming the field, and no row is lost.

All cases sit in one landing area (one village each) and go through discovery, ingest and validation once,
as the run's stages chain them; each case then checks its own file and rows. The landing cases (issue 10,
at the end) each describe a landing area of their own: symlinks, folders and odd names cannot share one.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pipelines.discover import discover_quarter
from pipelines.ingest.intake import ACCEPTED, REJECTED, UNREADABLE, FileReport, ingest_submissions
from pipelines.outcomes import quarantine_records
from pipelines.validate import SubmissionValidation, validate_submissions

QUARTER = "2026Q3"
CASES_DIR = Path(__file__).parent / "corpus" / "cases"
CASES = sorted(CASES_DIR.glob("*/expected.json"))
# Issue 3, items 3 and 4: every bullet must be covered by at least one case (`covers`).
BULLETS = (
    "unreadable file",
    "wrong encoding",
    "missing required columns",
    "duplicate headers",
    "empty",
    "header only",
    "corrupt XLSX",
    "a village outside the kabupaten",
    "a file name that disagrees with its rows",
    "NIK and KK read as numbers (3.20101E+15)",
    "a lost last digit",
    ".0 suffixes",
    "leading apostrophes",
    "spaces and dots inside numbers",
    "Excel date serials",
    "date cells",
    "non-breaking spaces",
    "mixed-case headers",
    "CRLF",
    "quoted newlines",
    "Latin-1 files",
    "formula-looking cells (=, +, -, @)",
)
# Issue 10: reading one file safely (each a file that used to stop the quarter).
READING_BULLETS = (
    "lone-CR CSV (Excel for Mac)",
    "an XLSX whose sheet XML is cut off",
    "entity expansion in sharedStrings.xml",
    "a corrupt deflate stream",
    "a Deflate64 member",
    "an encrypted member",
    "a CSV field longer than the csv module's limit",
    "a <dimension> that claims A1:XFD1048576",
    "total and per-member uncompressed size",
    "rows and columns per sheet",
    "headerless files",
    "control characters",
)
DUKCAPIL = Path(__file__).parent / "corpus" / "dukcapil_5203.csv"


@dataclass
class Intake:
    reports: dict[str, FileReport]
    validation: SubmissionValidation
    quarantine: pd.DataFrame


def _expected(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    """Every case's files in one landing area, with a small Dukcapil extract."""
    root = tmp_path_factory.mktemp("corpus") / "landing"
    for path in CASES:
        for item in _expected(path)["files"]:
            target = root / QUARTER / "submissions" / item["landing"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path.parent / item["input"], target)
    extract = root / QUARTER / "dukcapil" / "5203.csv"
    extract.parent.mkdir(parents=True)
    shutil.copyfile(DUKCAPIL, extract)
    return root


@pytest.fixture(scope="module")
def intake(landing) -> Intake:
    found = discover_quarter(landing, QUARTER)
    raw, reports = ingest_submissions([f for f in found if f.kind == "submission"])
    validation = validate_submissions(raw, reports, run_name="corpus", today=dt.date(2026, 11, 23))
    # As the decide stage builds the quarantine table: the raw rows (row_id = position) and GX's reasons.
    raw = raw.reset_index(drop=True).assign(row_id=lambda f: range(len(f)))
    rows = validation.rows
    quarantine = quarantine_records(raw, validation.reasons, rows.loc[rows["quarantined"], "row_id"].to_numpy())
    return Intake({r.source_file: r for r in reports}, validation, quarantine)


def test_corpus_is_large_enough_and_covers_every_bullet():
    assert len(CASES) >= 30
    covers = [_expected(p)["covers"] for p in CASES]
    missing = [b for b in BULLETS if not any(b in c for c in covers)]
    assert not missing, missing


def test_corpus_covers_every_reading_case_of_issue_10():
    covers = [_expected(p)["covers"] for p in CASES]
    missing = [b for b in READING_BULLETS if not any(c == f"10: {b}" for c in covers)]
    assert not missing, missing


def test_every_file_is_reported_and_no_row_is_lost(intake):
    placed = {f"{QUARTER}/submissions/{i['landing']}" for p in CASES for i in _expected(p)["files"]}
    assert set(intake.reports) == placed
    rows = intake.validation.rows
    assert not rows.duplicated(["source_file", "source_row"]).any()
    per_file = rows.groupby("source_file").size()
    for source_file, report in intake.reports.items():
        assert per_file.get(source_file, 0) == report.data_rows, source_file
    # Every quarantined row has its record with its raw fields and at least one reason.
    assert len(intake.quarantine) == int(rows["quarantined"].sum())
    assert intake.quarantine["reasons"].notna().all()


@pytest.mark.parametrize("path", CASES, ids=[p.parent.name for p in CASES])
def test_case(intake, path):
    expected = _expected(path)
    want = expected["file"]
    rows = intake.validation.rows
    reasons = intake.validation.reasons
    warnings = intake.validation.warnings
    for item in expected["files"]:
        source_file = f"{QUARTER}/submissions/{item['landing']}"
        report = intake.reports[source_file]
        codes = [p["code"] for p in report.problems]
        assert report.status == want["status"], (report.status, report.problems)
        assert report.data_rows == want["data_rows"]
        # A rejected or unreadable file carries its contract category; others none.
        assert report.rejection_category == (
            want["rejection_category"] if report.status in (REJECTED, UNREADABLE) else None
        )
        assert set(want["codes"]) <= set(codes), codes
        file_messages = " ".join(p["message"] for p in report.problems)
        for fragment in want.get("messages", []):
            assert fragment in file_messages, (fragment, file_messages)
        # A clear error: every problem has an Indonesian message, and a file that is not accepted says why.
        assert all(p["message"].strip() for p in report.problems)
        if report.status != ACCEPTED:
            assert report.problems

        mine = rows[rows["source_file"] == source_file].set_index("source_row")
        # Conservation: exactly the expected data rows, each once.
        assert sorted(mine.index) == [r["row"] for r in expected["rows"]]
        if report.status == REJECTED:
            assert mine["quarantined"].all()
        for r in expected["rows"]:
            _check_row(source_file, r, mine.loc[r["row"]], reasons, warnings, intake.quarantine)


def _check_row(source_file, want, row, reasons, warnings, quarantine) -> None:
    label = f"{source_file} row {want['row']}"
    at = (reasons["source_file"] == source_file) & (reasons["source_row"] == want["row"])
    mine = reasons[at]
    assert bool(row["quarantined"]) == want["quarantined"], (
        label,
        mine[["category", "field", "message"]].to_dict("records"),
    )
    assert bool(row["quarantine_if_unlinked"]) == want.get("held_for_linkage", False), label
    assert sorted(set(mine["category"])) == want["categories"], (
        label,
        mine[["category", "field", "message"]].to_dict("records"),
    )
    # Every reason says what is wrong, in Indonesian, and a row-level one names its field.
    assert mine["message"].str.strip().astype(bool).all(), label
    assert (mine["field"].notna() | mine["expectation"].eq("file:rejected")).all(), label
    named = set(";".join(mine["field"].dropna()).split(";"))
    assert set(want.get("fields", [])) <= named, (label, named)
    text = " ".join(mine["message"])
    for fragment in want.get("messages", []):
        assert fragment in text, (label, fragment, text)
    row_warnings = warnings[(warnings["source_file"] == source_file) & (warnings["source_row"] == want["row"])]
    assert sorted(row_warnings["expectation"]) == sorted(want.get("warnings", [])), label
    for column, value in want.get("canonical", {}).items():
        assert row[column] == value, (label, column, row[column])
    if want["quarantined"]:
        record = quarantine[(quarantine["source_file"] == source_file) & (quarantine["source_row"] == want["row"])]
        assert len(record) == 1, label
        fields = json.loads(record["raw_fields"].iloc[0])
        assert fields, label
        for key, value in want.get("raw_fields", {}).items():
            assert fields.get(key) == value, (label, key, fields)
        listed = json.loads(record["reasons"].iloc[0])
        assert {x["category"] for x in listed} == set(want["categories"]), label


def test_whole_run_publishes_every_readable_row(landing, tmp_path, monkeypatch):
    """The corpus through every stage (in-process, SQLite): each readable file's rows are in row_outcome
    exactly once, quarantined ones with their raw fields; the others were reported, and the run published."""
    from pipelines.stages import run_all
    from pipelines.warehouse.connection import environment_variable

    relaxed = {"quality_gate": {"max_quarter_quarantine_share": 1.0, "max_file_quarantine_share": 1.0}}
    warehouse = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    monkeypatch.setenv(*environment_variable(warehouse))
    conf = {
        "quarter": QUARTER,
        "landing": str(landing),
        "work": str(tmp_path / "work"),
        "reports": str(tmp_path / "reports"),
        "config": relaxed,
    }
    result = run_all(conf, "manual__corpus")
    assert result["status"] == "PUBLISHED", result.get("message")
    import sqlalchemy as sa

    engine = sa.create_engine(warehouse)
    with engine.connect() as c:
        outcome = pd.read_sql("SELECT source_file, source_row, outcome FROM row_outcome", c)
        quarantine = pd.read_sql("SELECT source_file, source_row, raw_fields FROM quarantine", c)
        files = json.loads(c.execute(sa.text("SELECT input_files FROM run")).scalar_one())
    engine.dispose()
    assert not outcome.duplicated(["source_file", "source_row"]).any()
    counts = outcome.groupby("source_file").size()
    for f in files:
        if f["kind"] == "submission":
            assert counts.get(f["source_file"], 0) == f["data_rows"], f["source_file"]
    quarantined = outcome[outcome["outcome"] == "QUARANTINED"]
    submissions = quarantine[quarantine["source_file"].str.contains("/submissions/")]
    assert len(submissions) == len(quarantined)
    assert submissions["raw_fields"].map(json.loads).map(bool).all()
    # Files in no kabupaten folder get no workbook; the run's HTML summary reports them instead.
    assert [p.name for p in (tmp_path / "reports" / QUARTER).iterdir() if p.is_dir()] == ["5203"]
    summary = (tmp_path / "reports" / QUARTER / f"ringkasan_{QUARTER}.html").read_text(encoding="utf-8")
    assert "lotim/5203012012.csv" in summary and "5203012013.csv" in summary


# --- Issue 10: the landing area (tests/corpus/landing, made by build_corpus.py `landing_area`) ---------------
#
# Each landing case is a whole landing area of its own (symlinks, folders, FIFOs and odd names cannot share
# one): built from its `entries`, walked and ingested while inotify watches the folder beside the landing
# root that no byte may be read from.

LANDING_CASES = sorted((Path(__file__).parent / "corpus" / "landing").glob("*/expected.json"))
# Issue 10, "Walk the whole landing area": every kind of entry must be covered by at least one case.
LANDING_BULLETS = (
    "symlink to a file outside",
    "symlink pointing inside",
    "dangling symlink",
    "symlink to a folder",
    "subfolder",
    "wrong or odd name",
    "hidden file",
    "editor lock file",
    "a submission at the quarter root",
    "an extract under submissions/",
    "a workbook under dukcapil/",
    "a folder named Submissions",
    "FIFO",
    "control characters in names",
    "full-width digits in names",
    "a deep chain of folders",
    "a hostile tree of many entries",
)


def test_landing_cases_cover_every_kind_of_entry():
    covers = [_expected(p)["covers"] for p in LANDING_CASES]
    missing = [b for b in LANDING_BULLETS if not any(b in c for c in covers)]
    assert not missing, missing


@pytest.mark.parametrize("path", LANDING_CASES, ids=[p.parent.name for p in LANDING_CASES])
def test_landing_case(landing_builder, path):
    from pipelines.config import LandingLimits
    from pipelines.discover import LandingError, survey_quarter
    from pipelines.ingest.intake import ingest_dukcapil

    case = _expected(path)
    want = case["expected"]
    landing = landing_builder.build(case["entries"], base_dir=path.parent, quarter=QUARTER)
    limits = LandingLimits(**case["limits"])
    with landing_builder.watch_outside() as touched:
        if want["error"]:
            with pytest.raises(LandingError) as caught:
                survey_quarter(landing, QUARTER, limits)
            assert want["error"] in str(caught.value)
        else:
            survey = survey_quarter(landing, QUARTER, limits)
            inputs = survey.inputs
            submissions, sub_reports = ingest_submissions([f for f in inputs if f.kind == "submission"])
            _, duk_reports = ingest_dukcapil([f for f in inputs if f.kind == "dukcapil"])
    assert touched == [], "read outside the landing root"
    if want["error"]:
        return

    account = survey.to_dict()
    listed = {e.path.removeprefix(f"{QUARTER}/"): [e.type, e.kind, e.action] for e in survey.listed}
    if want["listed"] is not None:
        assert listed == want["listed"]
        assert account["not_listed"] == 0 and not survey.walk_stopped
    for key in ("by_kind", "entries_examined", "not_examined", "walk_stopped"):
        if key in want:
            assert account[key] == want[key], key
    if "listed_count" in want:
        assert len(survey.listed) == want["listed_count"] and account["not_listed"] == survey.unexpected - len(listed)

    # The clean village file and the extract are read as usual; exactly the expected others are read.
    reports = {r.source_file.removeprefix(f"{QUARTER}/"): r for r in sub_reports + duk_reports}
    base = set(case["base"])
    assert all(reports[b].status == ACCEPTED and not reports[b].problems for b in base)
    if want["read"] is not None:
        assert set(reports) - base == set(want["read"])
        for name, expected in want["read"].items():
            report = reports[name]
            assert report.status == expected["status"], (name, report.problems)
            assert set(expected["codes"]) <= {p["code"] for p in report.problems}, (name, report.problems)
            assert report.data_rows == expected["data_rows"], name
    # Nothing from outside reached a row, and every row read belongs to a file that was read.
    assert set(submissions["source_file"]) <= {f"{QUARTER}/{name}" for name in reports}
    assert not submissions.astype(str).apply(lambda c: c.str.contains(landing_builder.MARK)).any().any()
