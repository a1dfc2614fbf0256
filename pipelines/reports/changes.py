"""Households (KK) in, out or changed since the previous published quarter, with the reason in words.

The top complaint of Dinsos and villages is that nobody tells them why a household dropped out. A
household is active in DTKS while at least one of its members is AKTIF; this module compares the
kabupaten's published persons of the previous quarter (read from the warehouse) with this quarter's
(`dtks_snapshot` of the run) by `person_key`, which follows a person across quarters, and says per KK:

- masuk: a KK active now and not before ("usulan baru", "aktif kembali");
- keluar: a KK active before and not now: "meninggal", "pekerjaan tidak layak", "diusulkan nonaktif
  (pindah)", "digabung sebagai data ganda" (its rows were merged into another KK's rows), "usulan
  dikarantina", or "tidak diusulkan lagi";
- berubah: "KK disesuaikan dengan Dukcapil" (its members are published under Dukcapil's KK), members in
  or out (with the reason for those out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from pipelines import contract as c
from pipelines.reports import excel as x
from pipelines.reports import guidance as g

PERSON_COLUMNS: Final = (
    "person_key",
    "kode_desa",
    "no_kk",
    "nama",
    "hubungan_keluarga",
    "status_dtks",
    "alasan_nonaktif",
)
COLUMNS: Final = ("kode_desa", "no_kk", "kepala", "perubahan", "alasan", "anggota_sebelumnya", "anggota_sekarang")
HEAD: Final = "KEPALA KELUARGA"


@dataclass(frozen=True)
class HouseholdChanges:
    """The change per household; `previous_quarter` None means there is no earlier publication."""

    previous_quarter: str | None
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(COLUMNS)))

    def of_desa(self, kode_desa: str) -> pd.DataFrame:
        if self.frame.empty:
            return self.frame
        return self.frame[self.frame["kode_desa"].astype(str) == kode_desa]


def _t(value: Any) -> str:
    return (x.as_text(value) or "").strip()


def _persons(frame: pd.DataFrame | None) -> pd.DataFrame:
    frame = frame if frame is not None else pd.DataFrame()
    out = pd.DataFrame({col: frame.get(col) for col in PERSON_COLUMNS}, index=frame.index)
    return out.astype(object).where(out.notna(), None)


def _reasons(people: Iterable[dict[str, Any]]) -> str:
    """Why these persons are no longer AKTIF, in words ("meninggal"; "meninggal, pindah")."""
    words = Counter(g.alasan_label(p["alasan_nonaktif"]) if p["alasan_nonaktif"] else "nonaktif" for p in people)
    return ", ".join(w for w, _ in words.most_common())


def _head(members: list[dict[str, Any]]) -> str | None:
    for m in members:
        if _t(m["hubungan_keluarga"]).upper() == HEAD:
            return m["nama"]
    return members[0]["nama"] if members else None


def household_changes(
    previous_quarter: str | None,
    previous: pd.DataFrame | None,
    current: pd.DataFrame | None,
    submitted: pd.DataFrame | None = None,
) -> HouseholdChanges:
    """Compare the persons published for the previous quarter with this quarter's. `submitted` (optional)
    holds this quarter's rows as sent (`no_kk`, `outcome`): it tells a KK merged as duplicates or
    quarantined from one nobody sent, and a KK corrected from Dukcapil from a member who moved."""
    if previous_quarter is None:
        return HouseholdChanges(None)
    prev = _persons(previous).to_dict("records")
    cur = _persons(current).to_dict("records")
    now = {p["person_key"]: p for p in cur}
    before = {p["person_key"]: p for p in prev}

    def active_by_kk(people: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for p in people:
            if _t(p["status_dtks"]) == c.AKTIF and _t(p["no_kk"]):
                out.setdefault(_t(p["no_kk"]), []).append(p)
        return out

    prev_kk, cur_kk = active_by_kk(prev), active_by_kk(cur)
    sent: dict[str, set[str]] = {}
    if submitted is not None and len(submitted):
        for kk, outcome in zip(submitted["no_kk"], submitted["outcome"], strict=True):
            if _t(kk):
                sent.setdefault(_t(kk), set()).add(_t(outcome))

    rows: list[tuple[Any, ...]] = []
    accounted: set[str] = set()

    def add(kk: str, members: list[dict[str, Any]], kind: str, reason: str, n_before: int, n_now: int) -> None:
        desa = next((_t(m["kode_desa"]) for m in members if _t(m["kode_desa"])), "")
        rows.append((desa, kk, _head(members), kind, reason, n_before, n_now))

    for kk, members in prev_kk.items():
        keys = [m["person_key"] for m in members]
        still = [now[k] for k in keys if k in now]
        active_here = [p for p in cur_kk.get(kk, []) if p["person_key"] in set(keys)]
        if kk in cur_kk:
            joined = [p for p in cur_kk[kk] if p["person_key"] not in set(keys)]
            left = [k for k in keys if k not in {p["person_key"] for p in active_here}]
            if not joined and not left:
                continue
            parts = []
            if joined:
                parts.append(f"{len(joined)} anggota masuk")
            if left:
                gone = [now[k] for k in left if k in now and _t(now[k]["status_dtks"]) != c.AKTIF]
                moved = [now[k] for k in left if k in now and _t(now[k]["status_dtks"]) == c.AKTIF]
                missing = len(left) - len(gone) - len(moved)
                if gone:
                    parts.append(f"{len(gone)} anggota keluar ({_reasons(gone)})")
                if moved:
                    parts.append(f"{len(moved)} anggota pindah ke KK lain")
                if missing:
                    parts.append(f"{missing} anggota tidak diusulkan lagi")
            add(kk, cur_kk[kk], g.CHANGE_CHANGED, "; ".join(parts), len(members), len(cur_kk[kk]))
            accounted.add(kk)
            continue
        new_kks = Counter(_t(p["no_kk"]) for p in still if _t(p["status_dtks"]) == c.AKTIF and _t(p["no_kk"]))
        outcomes = sent.get(kk, set())
        if new_kks:
            target = new_kks.most_common(1)[0][0]
            if outcomes and outcomes <= {c.OUTCOME_MERGED}:
                add(kk, members, g.CHANGE_OUT, f"digabung sebagai data ganda (dengan KK {target})", len(members), 0)
            elif c.OUTCOME_PUBLISHED in outcomes:
                n_now = len(cur_kk.get(target, []))
                add(
                    target,
                    members,
                    g.CHANGE_CHANGED,
                    f"KK disesuaikan dengan Dukcapil (sebelumnya {kk})",
                    len(members),
                    n_now,
                )
                accounted.add(target)
            else:
                add(kk, members, g.CHANGE_OUT, f"anggota pindah ke KK {target}", len(members), 0)
        elif still:
            add(kk, members, g.CHANGE_OUT, _reasons(still), len(members), 0)
        elif c.OUTCOME_QUARANTINED in outcomes:
            add(kk, members, g.CHANGE_OUT, "usulan dikarantina (perbaiki dan kirim ulang)", len(members), 0)
        elif c.OUTCOME_MERGED in outcomes:
            add(kk, members, g.CHANGE_OUT, "digabung sebagai data ganda", len(members), 0)
        else:
            add(kk, members, g.CHANGE_OUT, "tidak diusulkan lagi pada triwulan ini", len(members), 0)

    for kk, members in cur_kk.items():
        if kk in prev_kk or kk in accounted:
            continue
        known = [before[m["person_key"]] for m in members if m["person_key"] in before]
        if any(_t(p["status_dtks"]) != c.AKTIF for p in known):
            reason = "aktif kembali"
        elif known and len(known) == len(members):
            reason = "anggota pindah dari KK lain"
        else:
            reason = "usulan baru"
        add(kk, members, g.CHANGE_IN, reason, 0, len(members))
    return HouseholdChanges(previous_quarter, pd.DataFrame(rows, columns=list(COLUMNS)))


def change_text(kind: Any, reason: Any) -> str:
    """ "keluar: meninggal", as the village file and the trace say it."""
    return f"{_t(kind)}: {_t(reason)}" if _t(reason) else _t(kind)


def previous_snapshot(engine: Any, quarter: str, kode_kab: str) -> tuple[str | None, pd.DataFrame]:
    """The quarter published last before `quarter`, and its persons of the kabupaten; (None, empty) when
    nothing was published before (or the warehouse has no tables yet)."""
    from sqlalchemy import inspect, or_, select

    from pipelines.warehouse.schema import dtks_snapshot, run

    schema = "dtks" if engine.dialect.name == "postgresql" else None
    if not inspect(engine).has_table("dtks_snapshot", schema=schema):
        return None, pd.DataFrame(columns=list(PERSON_COLUMNS))
    with engine.connect() as conn:
        found = conn.execute(
            select(run.c.quarter)
            .where(run.c.quarter < quarter, run.c.status == "PUBLISHED")
            .order_by(run.c.quarter.desc())
            .limit(1)
        ).first()
        if found is None:
            return None, pd.DataFrame(columns=list(PERSON_COLUMNS))
        s = dtks_snapshot.c
        query = select(*(getattr(s, col) for col in PERSON_COLUMNS)).where(
            s.quarter == found[0], or_(s.kode_kab == kode_kab, s.kode_desa.like(f"{kode_kab}%"))
        )
        frame = pd.DataFrame(conn.execute(query).fetchall(), columns=list(PERSON_COLUMNS))
    return found[0], frame
