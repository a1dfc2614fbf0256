"""Households (KK) in, out or changed since the previous published quarter, with the reason."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import insert

from pipelines import contract as c
from pipelines.reports import guidance as g
from pipelines.reports.changes import change_text, household_changes, previous_snapshot

DESA = "5203012001"
COLUMNS = ["person_key", "kode_desa", "no_kk", "nama", "hubungan_keluarga", "status_dtks", "alasan_nonaktif"]


def person(key: str, kk: str, status: str = c.AKTIF, reason: str | None = None, head: bool = False) -> tuple:
    return (key, DESA, kk, key.upper(), "KEPALA KELUARGA" if head else "ANAK", status, reason)


def frame(*people: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(people), columns=COLUMNS)


def by_kk(changes) -> dict[str, tuple[str, str]]:
    return {r.no_kk: (r.perubahan, r.alasan) for r in changes.frame.itertuples()}


def test_first_quarter_says_so():
    changes = household_changes(None, None, frame(person("a", "K1")))
    assert changes.previous_quarter is None and changes.frame.empty


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_household_in_out_or_changed_with_its_reason(seed):
    before = [
        person("dead", "K_DEAD", head=True),
        person("job", "K_JOB", head=True),
        person("dup", "K_DUP", head=True),
        person("adj1", "K_OLD", head=True),
        person("adj2", "K_OLD"),
        person("gone", "K_GONE", head=True),
        person("q", "K_Q", head=True),
        person("stay", "K_SAME", head=True),
        person("kid", "K_SAME"),
        person("back", "K_BACK", c.NONAKTIF, "PINDAH", head=True),
    ]
    after = [
        person("dead", "K_DEAD", c.NONAKTIF, "MENINGGAL", head=True),
        person("job", "K_JOB", c.NONAKTIF, c.ALASAN_TIDAK_LAYAK, head=True),
        person("dup", "K_HOST"),  # merged into a row of another KK
        person("host", "K_HOST", head=True),
        person("adj1", "K_NEW", head=True),  # KK corrected from Dukcapil
        person("adj2", "K_NEW"),
        person("stay", "K_SAME", head=True),
        person("kid", "K_SAME", c.NONAKTIF, "MENINGGAL"),
        person("new", "K_NEW_FAMILY", head=True),
        person("back", "K_BACK", head=True),
    ]
    submitted = pd.DataFrame(
        [("K_DUP", c.OUTCOME_MERGED), ("K_OLD", c.OUTCOME_PUBLISHED), ("K_Q", c.OUTCOME_QUARANTINED)],
        columns=["no_kk", "outcome"],
    )
    rng = pd.Series(range(len(after))).sample(frac=1, random_state=seed).tolist()  # order does not matter
    changes = household_changes("2026Q2", frame(*before), frame(*[after[i] for i in rng]), submitted)
    assert by_kk(changes) == {
        "K_DEAD": (g.CHANGE_OUT, "meninggal"),
        "K_JOB": (g.CHANGE_OUT, "pekerjaan tidak layak"),
        "K_DUP": (g.CHANGE_OUT, "digabung sebagai data ganda (dengan KK K_HOST)"),
        "K_NEW": (g.CHANGE_CHANGED, "KK disesuaikan dengan Dukcapil (sebelumnya K_OLD)"),
        "K_GONE": (g.CHANGE_OUT, "tidak diusulkan lagi pada triwulan ini"),
        "K_Q": (g.CHANGE_OUT, "usulan dikarantina (perbaiki dan kirim ulang)"),
        "K_SAME": (g.CHANGE_CHANGED, "1 anggota keluar (meninggal)"),
        "K_NEW_FAMILY": (g.CHANGE_IN, "usulan baru"),
        "K_BACK": (g.CHANGE_IN, "aktif kembali"),
        "K_HOST": (g.CHANGE_IN, "usulan baru"),
    }
    rows = changes.frame.set_index("no_kk")
    assert rows.loc["K_DEAD", "kepala"] == "DEAD" and rows.loc["K_SAME", "anggota_sebelumnya"] == 2
    assert rows.loc["K_SAME", "anggota_sekarang"] == 1
    assert change_text(g.CHANGE_OUT, "meninggal") == "keluar: meninggal"
    assert set(changes.of_desa(DESA)["no_kk"]) == set(rows.index) and changes.of_desa("5203012002").empty


def test_previous_quarter_comes_from_the_warehouse(tmp_path):
    from pipelines.warehouse import connect, sqlite_url, upgrade
    from pipelines.warehouse.schema import dtks_snapshot, run

    engine = connect(sqlite_url(tmp_path / "w.sqlite"))
    assert previous_snapshot(engine, "2026Q3", "5203")[0] is None  # no tables yet: nothing published
    upgrade(engine)
    assert previous_snapshot(engine, "2026Q3", "5203")[0] is None
    with engine.begin() as conn:
        for quarter, status in (("2026Q1", "PUBLISHED"), ("2026Q2", "PUBLISHED"), ("2026Q2x", "FAILED")):
            conn.execute(insert(run).values(run_id=f"r{quarter}", quarter=quarter[:6], status=status))
        for quarter, key, desa in (("2026Q1", "old", DESA), ("2026Q2", "p1", DESA), ("2026Q2", "p2", "5201010001")):
            conn.execute(
                insert(dtks_snapshot).values(
                    run_id=f"r{quarter}", quarter=quarter, person_key=key, kode_desa=desa, no_kk="K", nama="N",
                    status_dtks=c.AKTIF, source_file="f.csv", source_row=1, kode_kab=desa[:4],
                )
            )  # fmt: skip
    quarter, persons = previous_snapshot(engine, "2026Q3", "5203")
    assert quarter == "2026Q2" and persons["person_key"].tolist() == ["p1"]  # the kabupaten's own persons
    assert previous_snapshot(engine, "2026Q2", "5203")[0] == "2026Q1"
    engine.dispose()
