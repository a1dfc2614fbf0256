"""The synthetic quarter generator (pipelines/synth): layout, identifiers, errors, ground truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines import contract, regions
from pipelines.names import names_agree, normalise_name, normalise_names
from pipelines.nik import parse_nik
from pipelines.synth import ERROR_KINDS, ErrorRates, SynthConfig, SynthSummary, generate
from pipelines.synth import names as name_pools
from pipelines.synth.errors import BIT
from pipelines.synth.name_errors import title, typo, variant

QUARTER = "2026Q3"
SMALL = SynthConfig(persons=3_000, seed=7)
BRIEF_KINDS = [
    "name_typo",
    "name_variant",
    "title",
    "placeholder_dob",
    "dob_swap",
    "nik_typo",
    "nik_transposition",
    "nik_missing",
    "kk_as_nik",
    "head_nik_to_member",
    "stale_kk",
    "duplicate_same_village",
    "duplicate_other_village",
    "unparseable",
    "missing_required",
]
# Added for issue 10 (implausible but readable birth dates; two errors in one row).
BRIEF_KINDS[BRIEF_KINDS.index("dob_swap") + 1 : BRIEF_KINDS.index("dob_swap") + 1] = ["dob_future", "dob_too_old"]
BRIEF_KINDS.append("two_errors")
BRIEF_KINDS.append("duplicate_other_kabupaten")  # issue 11: a province's quarter
BIRTH_KINDS = ("placeholder_dob", "dob_swap", "dob_future", "dob_too_old")
NIK_KINDS = ("nik_typo", "nik_transposition", "nik_missing", "kk_as_nik", "head_nik_to_member")


# ---------------------------------------------------------------- reading the files back, as a pipeline would


def read_submission(path: Path) -> pd.DataFrame:
    """A village file as text columns named as in the contract (header case and spaces ignored)."""
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        header, body = rows[0], rows[1:]

        def text(v: object) -> str:
            if v is None:
                return ""
            if isinstance(v, dt.datetime | dt.date):
                return v.strftime("%Y-%m-%d")
            return str(v)

        # Empty trailing cells are not stored in XLSX: short rows are padded to the header.
        data = [[text(v) for v in row] + [""] * (len(header) - len(row)) for row in body]
    else:
        raw = path.read_bytes().decode("utf-8-sig")
        delimiter = ";" if raw.split("\n", 1)[0].count(";") > raw.split("\n", 1)[0].count(",") else ","
        parsed = list(csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter))
        header, data = parsed[0], parsed[1:]
    return pd.DataFrame(data, columns=[h.strip().lower() for h in header], dtype=object)


def read_dukcapil(landing: Path, kab: str) -> pd.DataFrame:
    return pd.read_csv(landing / QUARTER / "dukcapil" / f"{kab}.csv", dtype=str, keep_default_na=False)


def submission_files(landing: Path) -> list[Path]:
    return sorted((landing / QUARTER / "submissions").rglob("*.*"))


def all_submissions(landing: Path) -> pd.DataFrame:
    frames = []
    for path in submission_files(landing):
        frame = read_submission(path)
        frame.insert(0, "source_row", np.arange(1, len(frame) + 1))
        frame.insert(0, "source_file", path.relative_to(landing).as_posix())
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def ground_truth(landing: Path) -> pd.DataFrame:
    gt = pd.read_csv(landing / QUARTER / "_ground_truth" / "rows.csv", dtype=str, keep_default_na=False)
    gt["source_row"] = gt["source_row"].astype(int)
    return gt


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    landing = tmp_path_factory.mktemp("landing")
    return landing, generate(landing, QUARTER, SMALL)


def join_truth(landing: Path) -> pd.DataFrame:
    """Every submission row with its ground truth and (when known) its Dukcapil record."""
    rows = all_submissions(landing).merge(ground_truth(landing), on=["source_file", "source_row"], how="outer")
    duk = read_dukcapil(landing, "5203").add_prefix("d_")
    return rows.merge(duk, left_on="true_nik", right_on="d_NIK", how="left").fillna("")


@pytest.fixture(scope="module")
def joined(small: tuple[Path, SynthSummary]) -> pd.DataFrame:
    return join_truth(small[0])


@pytest.fixture(scope="module")
def implausible(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """A quarter rich in implausible birth years and two-error rows, a fifth of its rows unknown persons."""
    landing = tmp_path_factory.mktemp("implausible")
    config = SynthConfig(persons=6_000, seed=13, unknown_share=0.2, xlsx_share=0.5)
    generate(landing, QUARTER, config.with_rates(dob_future=0.03, dob_too_old=0.03, two_errors=0.05))
    return join_truth(landing)


def has(series: pd.Series, kind: str) -> pd.Series:
    return series.str.split(";").apply(lambda parts: kind in parts)


# ---------------------------------------------------------------- public API


def test_public_api_and_knobs() -> None:
    assert ErrorRates.kinds() == ERROR_KINDS == tuple(BRIEF_KINDS)
    config = SMALL.with_rates(name_typo=0.05, nik_missing=0.1)
    assert (config.rates.name_typo, config.rates.nik_missing) == pytest.approx((0.05, 0.1))
    assert config.rates.title == SMALL.rates.title and config.persons == SMALL.persons
    with pytest.raises(ValueError, match="unknown error kind"):
        SMALL.with_rates(no_such_error=0.1)
    with pytest.raises(ValueError):
        SMALL.with_rates(name_typo=1.5)
    with pytest.raises(ValueError):
        SynthConfig(kab_codes=("9999",))
    with pytest.raises(ValueError):
        SynthConfig(submitted_share=2.0)
    assert SynthConfig(kab_codes="52.03").kab_codes == ("5203",)
    assert json.dumps(SMALL.to_dict())  # recorded in meta.json


def test_refuses_to_overwrite(small: tuple[Path, SynthSummary]) -> None:
    landing, _ = small
    with pytest.raises(FileExistsError):
        generate(landing, QUARTER, SMALL)
    with pytest.raises(ValueError):
        generate(landing, "2026-3", SMALL)


# ---------------------------------------------------------------- layout and columns


def test_layout_matches_contract(small: tuple[Path, SynthSummary]) -> None:
    landing, summary = small
    assert summary.dukcapil_paths == (landing / QUARTER / "dukcapil" / "5203.csv",)
    assert list(read_dukcapil(landing, "5203").columns) == list(contract.DUKCAPIL_COLUMNS)
    files = submission_files(landing)
    assert tuple(files) == summary.submission_paths and len(files) == summary.files
    villages = regions.desa_of_kabupaten("5203")
    # Most villages of the kabupaten send a file, even in a small quarter.
    assert len(files) > 0.5 * len(villages)
    for path in files:
        assert re.fullmatch(r"\d{10}\.(csv|xlsx)", path.name) and path.stem in villages
        assert path.parent.name == "5203"
        assert list(read_submission(path).columns) == list(contract.SUBMISSION_COLUMNS)
    assert sum(p.suffix == ".xlsx" for p in files) == summary.xlsx_files > 0
    assert summary.csv_files + summary.xlsx_files == summary.files
    meta = json.loads(summary.meta_path.read_text())
    assert meta["seed"] == SMALL.seed and meta["config"]["persons"] == SMALL.persons
    assert meta["counts"]["submission_rows"] == summary.submission_rows


def test_files_vary_like_real_village_exports(small: tuple[Path, SynthSummary]) -> None:
    landing, _ = small
    csvs = [p for p in submission_files(landing) if p.suffix == ".csv"]
    heads = [p.read_bytes().split(b"\n", 1)[0] for p in csvs]
    assert any(h.startswith(b"\xef\xbb\xbf") for h in heads)
    assert any(b";" in h for h in heads) and any(b"," in h for h in heads)
    assert any(b"NIK" in h for h in heads) and any(b" Nama " in h for h in heads)
    rows = all_submissions(landing)
    assert {"L", "P", "LAKI-LAKI", "PEREMPUAN", "1", "2"} <= set(rows["jenis_kelamin"])
    dates = rows["tanggal_lahir"]
    for pattern in (r"\d{4}-\d{2}-\d{2}", r"\d{2}-\d{2}-\d{4}", r"\d{2}/\d{2}/\d{4}"):
        assert dates.str.fullmatch(pattern).any()
    assert rows["kode_desa"].str.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.\d{4}").any()
    statuses = set(rows["status_usulan"])
    assert {"TETAP", "PERBAIKAN", "BARU", "NONAKTIF"} <= statuses
    active = rows[rows["status_usulan"].isin(["TETAP", "PERBAIKAN"])]
    assert (active["id_dtks"] != "").all()
    assert (rows.loc[rows["status_usulan"] == "NONAKTIF", "alasan_nonaktif"] != "").all()
    programs = set(";".join(rows["program"]).split(";")) - {""}
    assert programs <= set(contract.PROGRAMS)


def test_xlsx_readable_with_text_identifiers(small: tuple[Path, SynthSummary]) -> None:
    landing, _ = small
    date_cells = 0
    for path in (p for p in submission_files(landing) if p.suffix == ".xlsx"):
        wb = load_workbook(path)  # full mode: cell types visible
        ws = wb.worksheets[0]
        header = [str(c.value).strip().lower() for c in ws[1]]
        assert header == list(contract.SUBMISSION_COLUMNS)
        for col in ("nik", "no_kk"):
            cells = [row[header.index(col)] for row in ws.iter_rows(min_row=2)]
            assert all(c.data_type in ("s", "n") and (c.value is None or isinstance(c.value, str)) for c in cells)
        birth = header.index("tanggal_lahir")
        date_cells += sum(isinstance(row[birth].value, dt.datetime) for row in ws.iter_rows(min_row=2))
        wb.close()
    assert date_cells > 0


# ---------------------------------------------------------------- Dukcapil population


def test_dukcapil_identifiers_are_valid_and_unique(small: tuple[Path, SynthSummary]) -> None:
    landing, summary = small
    duk = read_dukcapil(landing, "5203")
    assert len(duk) == summary.persons == SMALL.persons
    assert duk["NIK"].is_unique
    parsed = parse_nik(duk["NIK"])
    assert parsed["valid"].all()
    assert set(duk["NIK"].str.slice(0, 6)) <= set(regions.kecamatan_of_kabupaten("5203"))
    female = duk["JENIS_KLMIN"] == "PEREMPUAN"
    assert (parsed["sex"] == np.where(female, "P", "L")).all()
    assert (parsed["day"] == duk["TGL_LHR"].str.slice(8, 10).astype(int)).all()
    assert (parsed["month"] == duk["TGL_LHR"].str.slice(5, 7).astype(int)).all()
    assert (parsed["yy"] == duk["TGL_LHR"].str.slice(2, 4).astype(int)).all()
    # KK: 16 digits, kecamatan + issue date + serial, never a NIK.
    assert duk["NO_KK"].str.fullmatch(r"\d{16}").all()
    assert not duk["NO_KK"].isin(duk["NIK"]).any()
    assert set(duk["NO_KK"].str.slice(0, 6)) <= set(regions.kecamatan_of_kabupaten("5203"))
    desa = duk["NO_PROP"] + duk["NO_KAB"] + duk["NO_KEC"] + duk["NO_KEL"]
    assert desa.isin(list(regions.desa_of_kabupaten("5203"))).all()
    assert duk["TGL_MATI"].str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()
    assert (duk["TGL_MATI"][duk["TGL_MATI"] != ""] >= duk["TGL_LHR"][duk["TGL_MATI"] != ""]).all()
    assert duk["NO_RT"].str.fullmatch(r"\d{3}").all() and duk["ALAMAT"].str.match(r"(DUSUN|JL\.) ").all()


def test_families_are_plausible(small: tuple[Path, SynthSummary]) -> None:
    landing, summary = small
    duk = read_dukcapil(landing, "5203")
    assert set(duk["STAT_HBKEL"]) <= set(contract.HUBUNGAN_KELUARGA)
    families = duk.groupby("NO_KK")
    assert families.ngroups == summary.families
    assert (families["STAT_HBKEL"].apply(lambda s: (s == "KEPALA KELUARGA").sum()) == 1).all()
    assert families.size().between(1, 8).all()
    assert (families[["NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL"]].nunique() == 1).all().all()
    age = 2026 - duk["TGL_LHR"].str.slice(0, 4).astype(int)
    heads = duk["STAT_HBKEL"] == "KEPALA KELUARGA"
    assert (age[heads] >= 19).all()
    assert (duk.loc[duk["STAT_HBKEL"] == "ISTRI", "JENIS_KLMIN"] == "PEREMPUAN").all()
    assert (duk.loc[duk["STAT_HBKEL"] == "SUAMI", "JENIS_KLMIN"] == "LAKI-LAKI").all()
    # Children are younger than their family head.
    head_age = duk[heads].set_index("NO_KK")["TGL_LHR"]
    children = duk[duk["STAT_HBKEL"] == "ANAK"]
    assert (children["TGL_LHR"] > children["NO_KK"].map(head_age)).mean() > 0.97
    jobs = duk["JENIS_PKRJN"]
    assert {"BELUM/TIDAK BEKERJA", "MENGURUS RUMAH TANGGA", "PELAJAR/MAHASISWA", "PETANI/PEKEBUN"} <= set(jobs)
    adults = age >= 18
    ineligible = jobs.isin(contract.INELIGIBLE_OCCUPATIONS)
    assert 0.01 < ineligible[adults].mean() < 0.035 and not ineligible[~adults].any()
    assert 0.008 < (duk["TGL_MATI"] != "").mean() < 0.025


def test_names_are_indonesian_and_shared(small: tuple[Path, SynthSummary]) -> None:
    landing, _ = small
    names = read_dukcapil(landing, "5203")["NAMA_LGKP"]
    words = names.str.split()
    assert names.str.fullmatch(r"[A-Z]+( [A-Z]+)*").all()  # Dukcapil: upper case, modern spelling
    assert not names.str.contains("OE|DJ|TJ|SJ|CH").any()
    assert 0.3 < (words.str.len() == 1).mean() < 0.7  # many single-word names
    first = words.str[0]
    assert {"LALU", "BAIQ"} <= set(first) and ({"AMAQ", "INAQ"} & set(first))
    assert names.str.contains(r"^(?:I|NI) ").any()  # Balinese minority in Lombok Timur
    counts = names.value_counts()
    assert counts.iloc[0] < 0.02 * len(names) and (counts >= 5).sum() > 20  # common names repeat


def test_name_pools_are_modern_and_stable_under_normalisation() -> None:
    for pool in name_pools.ALL_POOLS:
        for word in pool:
            assert re.fullmatch(r"[A-Z]+", word) and normalise_name(word) == word, word
            assert not re.search(r"OE|DJ|TJ|SJ|CH", word), word
    assert name_pools.tradition_mix("5203").argmax() == name_pools.SASAK
    assert name_pools.tradition_mix("5103").argmax() == name_pools.BALI
    assert name_pools.tradition_mix("3301").argmax() == name_pools.JAWA
    assert name_pools.tradition_mix("3201").argmax() == name_pools.SUNDA


def test_name_errors_keep_or_bend_identity_as_intended() -> None:
    u = (0.3, 0.5, 0.7, 0.1)
    for name in ("MUHAMMAD YUSUF", "ABDUL HAMID", "SUPARDI", "KHADIJAH", "SYAMSUL HADI", "NYOMAN SUCIATI"):
        changed = variant(name, u)
        assert changed and changed != name and normalise_name(changed) == normalise_name(name)
    assert variant("RINA", u) is None
    titled = title("SITI AMINAH", True, 50, True, (0.0,))
    assert titled != "SITI AMINAH" and normalise_name(titled) == "SITI AMINAH"
    assert title("RINA", True, 10, False, (0.0,)) is None
    for draws in ((0.1, 0.5, 0.5, 0), (0.5, 0.5, 0.5, 0), (0.7, 0.2, 0.5, 0), (0.9, 0.4, 0.5, 0)):
        slipped = typo("SUPARDI JUNAIDI", draws)
        assert slipped != "SUPARDI JUNAIDI"
        agree = names_agree(pd.Series([normalise_name(slipped)]), pd.Series(["SUPARDI JUNAIDI"]))
        assert agree.all()
    assert typo("I WAYAN", (0.1, 0.0, 0.0, 0)).startswith("I ")


# ---------------------------------------------------------------- submissions and ground truth


def test_one_ground_truth_row_per_submission_row(small: tuple[Path, SynthSummary], joined: pd.DataFrame) -> None:
    landing, summary = small
    rows = all_submissions(landing)
    gt = ground_truth(landing)
    assert len(rows) == len(gt) == summary.submission_rows
    keys = set(zip(rows["source_file"], rows["source_row"], strict=True))
    assert keys == set(zip(gt["source_file"], gt["source_row"], strict=True))
    assert list(gt.columns) == [
        "source_file",
        "source_row",
        "person_id",
        "true_nik",
        "expected_quarantine",
        "expected_categories",
        "injected",
    ]
    assert gt["source_file"].str.startswith(f"{QUARTER}/submissions/5203/").all()
    # Sorted categories and kinds, only known names.
    for column, known in (("expected_categories", contract.CATEGORIES), ("injected", ERROR_KINDS)):
        parts = gt[column].str.split(";")
        assert parts.apply(lambda p: p == sorted(p)).all()
        assert set(parts.explode()) - {""} <= set(known)
    # A person id always maps to one true NIK.
    assert (gt.groupby("person_id")["true_nik"].nunique() == 1).all()
    assert (joined.loc[joined["true_nik"] != "", "d_NIK"] != "").all()


def test_submitted_share_and_unknown_persons(small: tuple[Path, SynthSummary], joined: pd.DataFrame) -> None:
    _, summary = small
    assert 0.28 < summary.submitted_persons / summary.persons < 0.42
    unknown = joined[joined["true_nik"] == ""]
    assert summary.unknown_persons == unknown["person_id"].nunique() > 0
    assert 0.003 < len(unknown) / len(joined) < 0.03
    assert unknown["person_id"].str.startswith("U").all()
    # Their NIKs are valid-looking or empty, and never a Dukcapil NIK.
    duk_niks = set(joined["d_NIK"]) - {""}
    clean = unknown[~has(unknown["injected"], "kk_as_nik") & (unknown["injected"] == "")]
    assert not clean["nik"].isin(duk_niks).any()
    assert (clean["nik"] == "").any() and parse_nik(clean.loc[clean["nik"] != "", "nik"])["valid"].all()


def test_unknown_persons_are_clearly_different(small: tuple[Path, SynthSummary], joined: pd.DataFrame) -> None:
    landing, _ = small
    duk = read_dukcapil(landing, "5203")
    unknown = joined[(joined["true_nik"] == "") & (joined["injected"] == "")]
    pairs = unknown[["nama", "tanggal_lahir"]].assign(birth=lambda f: f["tanggal_lahir"])
    pairs = pairs[pairs["birth"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    same_day = pairs.merge(duk, left_on="birth", right_on="TGL_LHR")
    if len(same_day):
        agree = names_agree(normalise_names(same_day["nama"]), normalise_names(same_day["NAMA_LGKP"]))
        assert not agree.any()


def test_injected_error_rates_roughly_match(tmp_path: Path) -> None:
    config = SynthConfig(persons=12_000, seed=3).with_rates(**dict.fromkeys(ERROR_KINDS, 0.03))
    summary = generate(tmp_path, QUARTER, config)
    rows = summary.submission_rows
    for kind in ERROR_KINDS:
        expected = 0.03 * rows if kind != "duplicate_other_kabupaten" else 0  # one kabupaten: no other
        assert abs(summary.injected[kind] - expected) <= 5 * expected**0.5 + 3, kind
    gt = ground_truth(tmp_path)
    assert summary.injected == {k: int(has(gt["injected"], k).sum()) for k in ERROR_KINDS}


def test_every_row_stays_linkable(joined: pd.DataFrame) -> None:
    kinds = joined["injected"].str.split(";")
    assert (kinds.apply(lambda k: len(set(k) & set(NIK_KINDS))) <= 1).all()
    assert (kinds.apply(lambda k: len(set(k) & set(BIRTH_KINDS))) <= 1).all()
    assert (kinds.apply(lambda k: len(set(k) & {"unparseable", "missing_required"})) <= 1).all()
    assert len(BIT) == len(ERROR_KINDS)


def _expected_from_files(rows: pd.DataFrame, dukcapil_niks: set[str]) -> pd.Series:
    """docs/findings.md applied to what the files say, the Dukcapil extract and the person ids."""
    required = [c for c in contract.SUBMISSION_REQUIRED if c != "nik"]
    incomplete = (rows[required].apply(lambda s: s.str.strip()) == "").any(axis=1)
    sex = rows["jenis_kelamin"].map({"L": "L", "LAKI-LAKI": "L", "1": "L", "P": "P", "PEREMPUAN": "P", "2": "P"})
    birth = pd.Series("", index=rows.index)
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        shape = {"%Y-%m-%d": r"\d{4}-\d{2}-\d{2}", "%d-%m-%Y": r"\d{2}-\d{2}-\d{4}", "%d/%m/%Y": r"\d{2}/\d{2}/\d{4}"}
        ok = rows["tanggal_lahir"].str.fullmatch(shape[fmt])
        parsed = pd.to_datetime(rows["tanggal_lahir"].where(ok), format=fmt, errors="coerce")
        birth = birth.where(parsed.isna(), parsed.dt.strftime("%Y-%m-%d"))
    kode = rows["kode_desa"]
    bad = (
        ((kode != "") & ~kode.str.fullmatch(r"\d{10}|\d{2}\.\d{2}\.\d{2}\.\d{4}"))
        | ((rows["no_kk"] != "") & ~rows["no_kk"].str.fullmatch(r"\d{16}"))
        | ((rows["jenis_kelamin"] != "") & sex.isna())
        | ((rows["tanggal_lahir"] != "") & (birth == ""))
        | ((rows["hubungan_keluarga"] != "") & ~rows["hubungan_keluarga"].isin(contract.HUBUNGAN_KELUARGA))
        | ((rows["status_usulan"] != "") & ~rows["status_usulan"].isin(contract.STATUS_USULAN))
    )
    known = rows["true_nik"] != ""
    # Readable but implausible on the quarter's last day (2026-09-30): quarantined only when unlinked (a
    # perfect linker links every row of a known person), and a reason of any row quarantined anyway.
    implausible = (birth != "") & ((birth > "2026-09-30") | (birth < "1906-09-30"))
    quarantined = incomplete | bad | (implausible & ~known)
    bad = bad | (implausible & quarantined)
    valid = parse_nik(rows["nik"])["valid"]
    live = ~quarantined
    repeated = rows["person_id"].map(rows.loc[live, "person_id"].value_counts()).fillna(0) > 1
    agree = names_agree(normalise_names(rows["nama"]), normalise_names(rows["d_NAMA_LGKP"]))
    d_sex = rows["d_JENIS_KLMIN"].map({"LAKI-LAKI": "L", "PEREMPUAN": "P"})
    d_desa = rows["d_NO_PROP"] + rows["d_NO_KAB"] + rows["d_NO_KEC"] + rows["d_NO_KEL"]
    in_dukcapil = rows["nik"].isin(dukcapil_niks)
    right = rows["nik"] == rows["true_nik"]
    # What a valid NIK encodes (DDMMYY, day + 40 for women) against the row's birth date and sex.
    nik_day = rows["nik"].str.slice(6, 8).where(valid, "00").astype(int)
    nik_date = (nik_day % 40).astype(str).str.zfill(2) + rows["nik"].str.slice(8, 12)
    row_date = birth.str.slice(8, 10) + birth.str.slice(5, 7) + birth.str.slice(2, 4)
    nik_sex = nik_day.gt(40).map({True: "P", False: "L"})
    biodata = valid & (((birth != "") & (nik_date != row_date)) | (sex.notna() & (sex != nik_sex)))
    flags = {
        "DATA_TIDAK_LENGKAP": incomplete,
        "FORMAT_TIDAK_VALID": bad,
        "NIK_TIDAK_VALID": ~valid,
        "NIK_BERBEDA": live & known & ~right,
        "KK_BERBEDA": live & known & (rows["no_kk"] != rows["d_NO_KK"]),
        "IDENTITAS_TIDAK_SESUAI": (live & known & right & (~agree | (birth != rows["d_TGL_LHR"]) | (sex != d_sex)))
        | (live & ~known & valid & in_dukcapil),
        "MENINGGAL": live & known & (rows["d_TGL_MATI"] != ""),
        "PEKERJAAN_TIDAK_LAYAK": live & known & rows["d_JENIS_PKRJN"].isin(contract.INELIGIBLE_OCCUPATIONS),
        "PINDAH_DOMISILI": live & known & (kode.str.replace(".", "") != d_desa),
        "NIK_TIDAK_DITEMUKAN": live & ~known & valid & ~in_dukcapil,
        "GANDA": live & repeated,
        "BIODATA_TIDAK_SESUAI_NIK": live & biodata,
    }
    frame = pd.DataFrame(flags)
    return frame.apply(lambda r: ";".join(sorted(k for k, v in r.items() if v)), axis=1)


def test_expected_categories_follow_the_rules_on_the_written_files(joined: pd.DataFrame) -> None:
    recomputed = _expected_from_files(joined, set(joined["d_NIK"]) - {""})
    mismatch = joined[recomputed != joined["expected_categories"]]
    assert mismatch.empty, mismatch[["source_file", "source_row", "injected", "expected_categories"]].head()
    quarantine = joined["expected_categories"].str.contains("DATA_TIDAK_LENGKAP|FORMAT_TIDAK_VALID")
    assert (quarantine == (joined["expected_quarantine"] == "1")).all()


def test_implausible_birth_years_are_one_slip_away_and_stay_implausible(implausible: pd.DataFrame) -> None:
    known = implausible["true_nik"] != ""
    rows = implausible[known]
    future = has(rows["injected"], "dob_future")
    old = has(rows["injected"], "dob_too_old")
    assert future.sum() > 50 and old.sum() > 50
    birth = rows["tanggal_lahir"].str.replace(r"^(\d{2})[-/](\d{2})[-/](\d{4})$", r"\3-\2-\1", regex=True)
    slipped = future | old
    shift = birth[slipped].str.slice(0, 4).astype(int) - rows.loc[slipped, "d_TGL_LHR"].str.slice(0, 4).astype(int)
    same_day = birth.str.slice(4) == rows["d_TGL_LHR"].str.slice(4)
    # Only the year slipped: a digit one up (+1, +10), or the century habit (19xx typed 20xx, and back).
    assert same_day[future | old].all()
    assert shift[future].isin([1, 10, 100]).all() and shift[old].eq(-100).all()
    # Half a year past the quarter's end at least, so a run soon after the quarter still sees the future.
    assert (birth[future] > "2027-03-31").all() and (birth[old] < "1906-09-30").all()
    others = implausible[~known]
    assert (has(others["injected"], "dob_future") | has(others["injected"], "dob_too_old")).sum() > 5


def test_two_error_rows_carry_an_identity_and_a_birth_error(implausible: pd.DataFrame) -> None:
    kinds = implausible["injected"].str.split(";")
    pairs = kinds[has(implausible["injected"], "two_errors")]
    identity = {*NIK_KINDS, "name_typo", "name_variant"}
    assert len(pairs) > 50
    assert (pairs.apply(lambda k: len(set(k) & set(BIRTH_KINDS))) == 1).all()
    assert (pairs.apply(lambda k: len(set(k) & identity)) >= 1).all()
    assert (pairs.apply(lambda k: len(set(k) & set(NIK_KINDS))) <= 1).all()
    # Every mix occurs: the KK as NIK with a year in the future, an old spelling with one 120 years back, ...
    seen = {(a, b) for k in pairs for a in set(k) & identity for b in set(k) & set(BIRTH_KINDS)}
    assert {("kk_as_nik", "dob_future"), ("name_variant", "dob_future"), ("nik_missing", "dob_too_old")} <= seen


def test_implausible_dates_quarantine_only_unknown_persons(implausible: pd.DataFrame) -> None:
    rows = implausible
    recomputed = _expected_from_files(rows, set(rows["d_NIK"]) - {""})
    mismatch = rows[recomputed != rows["expected_categories"]]
    assert mismatch.empty, mismatch[["source_file", "source_row", "injected", "expected_categories"]].head()
    kinds, cats = rows["injected"], rows["expected_categories"]
    quarantine_cause = has(kinds, "unparseable") | has(kinds, "missing_required")
    implausible_rows = (has(kinds, "dob_future") | has(kinds, "dob_too_old")) & ~quarantine_cause
    known = rows["true_nik"] != ""
    linked = implausible_rows & known
    assert (rows.loc[linked, "expected_quarantine"] == "0").all()
    right_nik = linked & (rows["nik"] == rows["true_nik"])
    assert right_nik.any() and has(cats[right_nik], "IDENTITAS_TIDAK_SESUAI").all()
    unlinked = implausible_rows & ~known
    assert unlinked.any() and has(cats[unlinked], "FORMAT_TIDAK_VALID").all()
    assert (rows.loc[unlinked, "expected_quarantine"] == "1").all()


def test_dates_before_1900_are_text_in_xlsx(tmp_path: Path) -> None:
    config = SynthConfig(persons=3_000, seed=17, xlsx_share=1.0).with_rates(dob_too_old=0.05)
    generate(tmp_path, QUARTER, config)
    cells = []
    for path in submission_files(tmp_path):
        wb = load_workbook(path, read_only=True)
        header = [str(h).strip().lower() for h in next(wb.worksheets[0].iter_rows(values_only=True))]
        at = header.index("tanggal_lahir")
        cells += [row[at] for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True)]
        wb.close()
    old = [c for c in cells if isinstance(c, str) and re.search(r"18\d\d", c)]
    assert old and not any(isinstance(c, dt.datetime) and c.year < 1900 for c in cells)
    assert any(isinstance(c, dt.datetime) for c in cells)


def test_expected_categories_spot_checks(joined: pd.DataFrame) -> None:
    live = joined["expected_quarantine"] == "0"
    cats, kinds = joined["expected_categories"], joined["injected"]
    known = joined["true_nik"] != ""
    kk_as_nik = live & has(kinds, "kk_as_nik") & known
    assert kk_as_nik.any() and has(cats[kk_as_nik], "NIK_BERBEDA").all()
    placeholder = live & has(kinds, "placeholder_dob") & (joined["nik"] == joined["true_nik"]) & known
    assert placeholder.any() and has(cats[placeholder], "IDENTITAS_TIDAK_SESUAI").all()
    swapped = live & has(kinds, "dob_swap") & (joined["nik"] == joined["true_nik"]) & known
    assert swapped.any() and has(cats[swapped], "IDENTITAS_TIDAK_SESUAI").all()
    dead = live & (joined["d_TGL_MATI"] != "")
    assert dead.any() and has(cats[dead], "MENINGGAL").all()
    stale = live & has(kinds, "stale_kk") & (joined["no_kk"].str.len() == 16)
    assert stale.any() and has(cats[stale], "KK_BERBEDA").all()
    missing = live & has(kinds, "nik_missing")
    assert missing.any() and has(cats[missing], "NIK_TIDAK_VALID").all()
    assert has(cats[missing & known], "NIK_BERBEDA").all()
    # Variants and titles alone never make the identity disagree.
    cosmetic = live & known & kinds.isin(["name_variant", "title", "name_variant;title"])
    assert cosmetic.any() and (cats[cosmetic] == cats[cosmetic].str.replace("IDENTITAS_TIDAK_SESUAI", "")).all()
    # Quarantined rows carry nothing but quarantine reasons (and NIK_TIDAK_VALID).
    quarantined = cats[~live].str.split(";").explode()
    assert set(quarantined) <= {"DATA_TIDAK_LENGKAP", "FORMAT_TIDAK_VALID", "NIK_TIDAK_VALID"}
    # Duplicates: every live row of a repeated person is GANDA.
    dup = live & (has(kinds, "duplicate_same_village") | has(kinds, "duplicate_other_village"))
    group = joined["person_id"].isin(joined.loc[dup, "person_id"])
    live_count = joined[live].groupby("person_id").size()
    repeated = live & group & (joined["person_id"].map(live_count) > 1)
    assert repeated.any() and has(cats[repeated], "GANDA").all()
    # Movers are submitted by their old village.
    other_village = live & known & has(kinds, "duplicate_other_village")
    assert has(cats[other_village], "PINDAH_DOMISILI").all()
    unknown_valid = live & ~known & (parse_nik(joined["nik"])["valid"]) & (kinds == "")
    assert unknown_valid.any() and (cats[unknown_valid] == "NIK_TIDAK_DITEMUKAN").all()


def test_moved_families_are_submitted_by_their_old_village(tmp_path: Path) -> None:
    summary = generate(tmp_path, QUARTER, SynthConfig(persons=4_000, seed=5, moved_family_rate=0.2))
    gt = ground_truth(tmp_path)
    moved = gt[has(gt["expected_categories"], "PINDAH_DOMISILI") & (gt["injected"] == "")]
    assert summary.moved_families > 0 and len(moved) > 20
    status = all_submissions(tmp_path).merge(moved, on=["source_file", "source_row"])["alasan_nonaktif"]
    assert (status == "PINDAH").any()


# ---------------------------------------------------------------- determinism and several kabupaten


def test_same_seed_same_bytes(small: tuple[Path, SynthSummary], tmp_path: Path) -> None:
    landing, _ = small
    generate(tmp_path / "again", QUARTER, SMALL)
    assert digest(landing) == digest(tmp_path / "again")
    generate(tmp_path / "other", QUARTER, SynthConfig(persons=3_000, seed=8))
    assert digest(landing) != digest(tmp_path / "other")


def test_overwrite_replaces_the_quarter(tmp_path: Path) -> None:
    generate(tmp_path, QUARTER, SynthConfig(persons=1_000, seed=1))
    summary = generate(tmp_path, QUARTER, SynthConfig(persons=1_000, seed=2), overwrite=True)
    assert len(submission_files(tmp_path)) == summary.files


def test_several_kabupaten_with_their_own_names(tmp_path: Path) -> None:
    summary = generate(tmp_path, QUARTER, SynthConfig(kab_codes=("5203", "5103"), persons=3_001, seed=4))
    assert [p.name for p in summary.dukcapil_paths] == ["5203.csv", "5103.csv"]
    bali = read_dukcapil(tmp_path, "5103")
    assert len(bali) + len(read_dukcapil(tmp_path, "5203")) == 3_001
    assert bali["NAMA_LGKP"].str.match(r"(I|NI|IDA|GUSTI) ").mean() > 0.7
    assert bali["NIK"].str.startswith("5103").all()
    gt = ground_truth(tmp_path)
    assert {f.split("/")[2] for f in gt["source_file"]} == {"5203", "5103"}


def test_a_province_quarter_has_people_across_kabupaten_borders(tmp_path: Path) -> None:
    """Families Dukcapil lists in another kabupaten than the one submitting them, and persons submitted
    in two kabupaten: the truth links them across the border and counts the whole quarter for GANDA."""
    config = SynthConfig(kab_codes=("5203", "5201", "5202"), persons=9_000, seed=9, moved_kabupaten_rate=0.03)
    summary = generate(tmp_path, QUARTER, config.with_rates(duplicate_other_kabupaten=0.02))
    gt = ground_truth(tmp_path)
    file_kab = gt["source_file"].str.split("/").str[2]
    extract_kab = gt["true_nik"].str.slice(0, 4)  # synthetic NIKs are issued in the person's own kabupaten
    live = gt["expected_quarantine"] == "0"
    guests = live & (gt["true_nik"] != "") & (extract_kab != file_kab) & ~gt["injected"].str.contains("kabupaten")
    assert guests.sum() > 50
    moved = has(gt["expected_categories"], "PINDAH_DOMISILI")
    assert moved[guests].mean() > 0.5 and not moved[guests].all()  # some keep their domicile
    copies = gt["injected"].str.contains("duplicate_other_kabupaten")
    assert summary.injected["duplicate_other_kabupaten"] == copies.sum() > 20
    kabs_of_person = gt[live].groupby("person_id")["source_file"].agg(lambda f: f.str.split("/").str[2].nunique())
    across = gt["person_id"].map(kabs_of_person).fillna(0) > 1
    assert across.sum() > 40 and has(gt["expected_categories"], "GANDA")[across & live].all()
