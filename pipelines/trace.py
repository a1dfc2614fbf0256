"""`dtks trace`: the whole story of a published record, for an auditor.

For one input row (or every row that was linked to, or submitted, a NIK) of a published quarter:
the run that made it, the input file with its SHA-256 (and whether the file on disk still matches), the
row as typed, what validation said, the linkage candidates and the decision with its weights, the
duplicates it was merged with, the findings, the published snapshot row, and the person's change from
the previous quarter. Only SQLAlchemy Core here, so an answer takes well under a second.

`mask_trace` masks every personal field of an answer, for screenshots and tickets (`dtks trace --mask`):
what is not known to be safe is masked, operator-typed columns and their headers included.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, or_, select

from pipelines.contract import PINDAH_DOMISILI
from pipelines.privacy import (
    mask_date,
    mask_field,
    mask_fields,
    mask_id,
    mask_record,
    mask_structure,
    mask_text,
)
from pipelines.warehouse.schema import (
    discrepancy,
    dtks_snapshot,
    duplicate_edge,
    link_candidate,
    quarantine,
    row_outcome,
    run,
    validation_result,
)
from pipelines.waterfall import LEGEND, LevelBook, render_waterfall


@dataclass
class RowTrace:
    source_file: str
    source_row: int
    outcome: dict[str, Any]
    input_file: dict[str, Any] = field(default_factory=dict)
    input_row: dict[str, str] | None = None
    input_check: str = ""
    validation: list[dict[str, Any]] = field(default_factory=list)
    quarantine: dict[str, Any] | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    published: dict[str, Any] | None = None
    person_rows: list[dict[str, Any]] = field(default_factory=list)
    change: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Trace:
    quarter: str
    run: dict[str, Any]
    rows: list[RowTrace]


class TraceError(LookupError):
    pass


def _dicts(connection, statement) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(statement)]


def _published_run(connection, quarter: str) -> dict[str, Any]:
    found = _dicts(connection, select(run).where(run.c.quarter == quarter, run.c.status == "PUBLISHED"))
    if not found:
        raise TraceError(f"Quarter {quarter} has no published run in this warehouse.")
    record = found[0]
    for key in ("config", "input_files", "counts", "validation", "linkage", "stage_seconds", "paths"):
        if isinstance(record.get(key), str):
            record[key] = json.loads(record[key])
    return record


def _input_row(
    landing: str | None, input_file: dict[str, Any], source_file: str, source_row: int
) -> tuple[dict | None, str]:
    """The row as typed, re-read from the landing file (never through a symlink, never more bytes than the
    run read), and whether the file still has the published hash. Keys are the file's headers; a
    repeated or blank header, and a value beyond the last header, get the column number."""
    from pipelines.ingest.readers import UnreadableFile, read_table
    from pipelines.landing import LandingReadError, read_landing_file

    if not landing:
        return None, "the run did not record its landing folder"
    path = Path(landing) / source_file
    size = int(input_file.get("size_bytes") or 0)
    if not size:
        return None, "the run did not record the input file's size"
    try:
        data = read_landing_file(landing, source_file, size)
    except LandingReadError as exc:
        if exc.code == "berkas_terlalu_besar":
            return None, "the file on disk has CHANGED since the run (it grew): its content is not shown"
        if isinstance(exc.__cause__, FileNotFoundError):
            return None, f"the input file is no longer at {path}"
        return None, f"the input file is not read: {exc.message}"
    except OSError:
        return None, f"the input file cannot be read at {path}"
    if hashlib.sha256(data).hexdigest() != input_file["sha256"]:
        return None, "the file on disk has CHANGED since the run (SHA-256 differs): its content is not shown"
    try:
        table = read_table(data, path.suffix.lower().lstrip("."))
    except UnreadableFile as exc:
        return None, f"unreadable: {exc.message}"
    if not 1 <= source_row <= len(table.rows):
        return None, "the row number is outside the file"
    values = table.rows[source_row - 1]
    header = list(table.header) + [""] * max(0, len(values) - len(table.header))
    row = {}
    for i, name in enumerate(header):
        key = name if name.strip() and header.count(name) == 1 else f"{name} (kolom {i + 1})".strip()
        row[key] = values[i] if i < len(values) else ""
    return row, "SHA-256 matches"


def _rows_for_nik(connection, quarter: str, nik: str) -> list[tuple[str, int]]:
    linked = select(row_outcome.c.source_file, row_outcome.c.source_row).where(
        row_outcome.c.quarter == quarter, row_outcome.c.nik_dukcapil == nik
    )
    submitted = select(discrepancy.c.source_file, discrepancy.c.source_row).where(
        discrepancy.c.quarter == quarter, discrepancy.c.nik == nik
    )
    snapshot = select(dtks_snapshot.c.source_file, dtks_snapshot.c.source_row).where(
        dtks_snapshot.c.quarter == quarter, dtks_snapshot.c.nik == nik
    )
    found = {(f, r) for q in (linked, submitted, snapshot) for f, r in connection.execute(q)}
    return sorted(found)


def trace(
    engine: Engine,
    quarter: str,
    *,
    nik: str | None = None,
    source_file: str | None = None,
    source_row: int | None = None,
    read_input: bool = True,
) -> Trace:
    if (nik is None) == (source_file is None or source_row is None):
        raise TraceError("Give either a NIK or a source file and row.")
    with engine.connect() as c:
        record = _published_run(c, quarter)
        keys = _rows_for_nik(c, quarter, nik) if nik else [(source_file, int(source_row))]
        if not keys:
            raise TraceError(f"No row of quarter {quarter} was linked to or submitted NIK {mask_id(nik)}.")
        files = {f["source_file"]: f for f in record.get("input_files") or []}
        rows = [_row(c, quarter, record, files, f, r, read_input) for f, r in keys]
    return Trace(quarter, record, rows)


def _where(table, quarter: str, source_file: str, source_row: int):
    return and_(table.c.quarter == quarter, table.c.source_file == source_file, table.c.source_row == source_row)


def _row(c, quarter: str, record: dict, files: dict, source_file: str, source_row: int, read_input: bool) -> RowTrace:
    outcome = _dicts(c, select(row_outcome).where(_where(row_outcome, quarter, source_file, source_row)))
    if not outcome:
        raise TraceError(f"{source_file} row {source_row} is not an input row of quarter {quarter}.")
    item = RowTrace(source_file, source_row, outcome[0])
    item.input_file = files.get(source_file, {})
    if read_input and item.input_file.get("sha256"):
        landing = (record.get("paths") or {}).get("landing")
        item.input_row, item.input_check = _input_row(landing, item.input_file, source_file, source_row)
    item.validation = _dicts(
        c, select(validation_result).where(_where(validation_result, quarter, source_file, source_row))
    )
    q = _dicts(c, select(quarantine).where(_where(quarantine, quarter, source_file, source_row)))
    item.quarantine = q[0] if q else None
    item.candidates = _dicts(
        c,
        select(link_candidate)
        .where(_where(link_candidate, quarter, source_file, source_row))
        .order_by(link_candidate.c.rank, link_candidate.c.method),
    )
    e = duplicate_edge.c
    item.duplicates = _dicts(
        c,
        select(duplicate_edge).where(
            e.quarter == quarter,
            or_(
                and_(e.source_file_a == source_file, e.source_row_a == source_row),
                and_(e.source_file_b == source_file, e.source_row_b == source_row),
            ),
        ),
    )
    item.findings = _dicts(c, select(discrepancy).where(_where(discrepancy, quarter, source_file, source_row)))
    key = item.outcome.get("person_key")
    if key:
        published = _dicts(
            c, select(dtks_snapshot).where(dtks_snapshot.c.quarter == quarter, dtks_snapshot.c.person_key == key)
        )
        item.published = published[0] if published else None
        item.person_rows = _dicts(
            c,
            select(row_outcome.c.source_file, row_outcome.c.source_row, row_outcome.c.outcome).where(
                row_outcome.c.quarter == quarter, row_outcome.c.person_key == key
            ),
        )
        item.change = _changes(c, quarter, key)
    return item


def _changes(c, quarter: str, key: str) -> list[dict[str, Any]]:
    """What the `quarter_changes` view says about this person, computed on the person's own rows (the
    view itself scans whole quarters)."""
    previous = c.execute(
        select(run.c.quarter).where(run.c.quarter < quarter, run.c.status == "PUBLISHED").order_by(run.c.quarter.desc())
    ).first()
    if previous is None:
        return []
    s = dtks_snapshot.c
    before = c.execute(
        select(s.status_dtks, s.alasan_nonaktif).where(s.quarter == previous[0], s.person_key == key)
    ).first()
    after = c.execute(select(s.status_dtks, s.alasan_nonaktif).where(s.quarter == quarter, s.person_key == key)).first()
    if before is None:
        change = "ADDED"
    elif tuple(before) != tuple(after):
        change = "STATUS_CHANGED"
    else:
        change = "UNCHANGED"
    return [
        {
            "change": change,
            "previous_quarter": previous[0],
            "status_before": before[0] if before else None,
            "status_after": after[0] if after else None,
        }
    ]


# --- Masking ---------------------------------------------------------------------------------------


def _mask_quarantine(record: dict[str, Any]) -> dict[str, Any]:
    masked = mask_record({k: v for k, v in record.items() if k not in ("raw_fields", "reasons")})
    masked["raw_fields"] = json.dumps(mask_fields(json.loads(record.get("raw_fields") or "{}")), ensure_ascii=False)
    reasons = json.loads(record.get("reasons") or "[]")
    masked["reasons"] = json.dumps([mask_record(r) for r in reasons], ensure_ascii=False)
    return masked


def _mask_finding(finding: dict[str, Any]) -> dict[str, Any]:
    masked = mask_record(finding)
    suggested = finding.get("suggested_value")
    if finding.get("category") == PINDAH_DOMISILI:  # the suggestion is a village code, not a person's value
        masked["suggested_value"] = mask_field("kode_desa", suggested)
    elif isinstance(suggested, str) and re.fullmatch(r"[\d\-/. ]{8,10}", suggested.strip()):  # a date
        masked["suggested_value"] = mask_date(suggested)
    return masked


def _mask_row(row: RowTrace) -> RowTrace:
    return RowTrace(
        row.source_file,
        row.source_row,
        mask_record(row.outcome),
        input_file=mask_structure(row.input_file),
        input_row=mask_fields(row.input_row, positions=True) if row.input_row else row.input_row,
        input_check=mask_text(row.input_check),
        validation=[mask_record(v) for v in row.validation],
        quarantine=_mask_quarantine(row.quarantine) if row.quarantine else None,
        candidates=[mask_record(c) for c in row.candidates],
        duplicates=[mask_record(d) for d in row.duplicates],
        findings=[_mask_finding(f) for f in row.findings],
        published=mask_record(row.published) if row.published else None,
        person_rows=[mask_record(x) for x in row.person_rows],
        change=[mask_structure(c) for c in row.change],
    )


def mask_trace(result: Trace) -> Trace:
    """The same answer with every personal field masked: identifiers as `3201********0001`, names as
    initials, dates as `****-**-**`; an operator's column that is not a declared one is masked whole and
    named by its position, since its header may itself be a person's data; free text (details, messages)
    by `pipelines.privacy.mask_detail`."""
    return Trace(result.quarter, mask_structure(result.run), [_mask_row(row) for row in result.rows])


# --- Formatting -------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _waterfall(decision: dict[str, Any], book: LevelBook, model: dict[str, Any]) -> list[str]:
    """The decision's waterfall (pipelines.waterfall), indented under its candidate or duplicate line; the
    caller prints, and masks, the identifiers."""
    text = render_waterfall(decision, book, model=model or None, compact=True)
    return ["        " + line for line in text.splitlines()]


def format_trace(result: Trace, *, mask: bool = False) -> str:
    if mask:
        result = mask_trace(result)
    r = result.run
    linkage = r.get("linkage") or {}
    out = [
        f"Quarter {result.quarter}, published by run {r['run_id']} ({r.get('code_version')}), "
        f"published at {r.get('published_at')}",
    ]
    for row in result.rows:
        o = row.outcome
        f = row.input_file
        # The model of the row's kabupaten/kota (each links within its own partition), as the run described
        # it: no linkage code needs importing.
        model = (linkage.get("per_kabupaten") or {}).get(f.get("kode_kab"), linkage).get("model") or {}
        book = LevelBook.from_model(model)
        out += [
            "",
            f"== {row.source_file} row {row.source_row}",
            f"  input file   sha256 {f.get('sha256', '?')}, {f.get('data_rows', '?')} data rows, "
            f"status {f.get('status', '?')}" + (f"; {row.input_check}" if row.input_check else ""),
        ]
        if row.input_row:
            out.append("  input row    " + "; ".join(f"{k}={_show(v)}" for k, v in row.input_row.items()))
        out.append(
            f"  outcome      {o['outcome']}, person_key {o.get('person_key') or '-'}, status_padan "
            f"{o.get('status_padan') or '-'}, nik_dukcapil {_show(o.get('nik_dukcapil'))}, "
            f"probability {o.get('match_probability') if o.get('match_probability') is not None else '-'}"
        )
        if o.get("merged_into_file"):
            out.append(f"               merged into {o['merged_into_file']} row {o['merged_into_row']}")
        out.append(f"  validation   {len(row.validation)} failed check(s)" + ("" if row.validation else ": all passed"))
        for v in row.validation:
            out.append(f"    - [{v['action']}] {v.get('category') or ''} {v.get('field') or ''}: {v.get('message')}")
        if row.quarantine:
            fields = json.loads(row.quarantine["raw_fields"])
            out.append("  quarantined  raw fields: " + "; ".join(f"{k}={_show(v)}" for k, v in fields.items()))
        out.append(f"  linkage      {len(row.candidates)} candidate(s)" + (f"; {LEGEND}" if row.candidates else ""))
        for cand in row.candidates:
            out.append(
                f"    #{cand['rank']} {_show(cand['candidate_nik'])} via {cand['method']}, "
                f"weight {cand['match_weight']:+.2f}, probability {cand['match_probability']:.6f}"
                + ("  <- chosen" if cand["chosen"] else "")
            )
            if cand["method"] == "exact":
                out.append("        (pass NIK sama: ditautkan tanpa model; bobot di bawah sebagai penjelasan)")
            out += _waterfall(cand, book, model)
        for d in row.duplicates:
            other = (
                (d["source_file_b"], d["source_row_b"])
                if d["source_file_a"] == row.source_file and d["source_row_a"] == row.source_row
                else (d["source_file_a"], d["source_row_a"])
            )
            out.append(
                f"  duplicate    {other[0]} row {other[1]}: probability {d['match_probability']:.6f}, "
                f"{'accepted' if d['accepted'] else 'not accepted'}"
            )
            out += _waterfall(d, book, model)
        out.append(f"  findings     {len(row.findings)}")
        for d in row.findings:
            out.append(
                f"    - {d['category']}: {d.get('detail') or ''}"
                + (f" (saran: {_show(d['suggested_value'])})" if d.get("suggested_value") else "")
            )
        if row.published:
            p = row.published
            out.append(
                f"  published    {p['person_key']}: nik {_show(p.get('nik'))}, "
                f"nama {_show(p.get('nama'))}, "
                f"status {p['status_dtks']}{' (' + p['alasan_nonaktif'] + ')' if p.get('alasan_nonaktif') else ''}, "
                f"from {p['source_file']} row {p['source_row']}"
            )
            others = [
                x for x in row.person_rows if (x["source_file"], x["source_row"]) != (row.source_file, row.source_row)
            ]
            for x in others:
                out.append(f"               also {x['source_file']} row {x['source_row']} ({x['outcome']})")
        for ch in row.change:
            out.append(
                f"  since {ch['previous_quarter']}  {ch['change']}: "
                f"{ch.get('status_before') or '-'} -> {ch.get('status_after') or '-'}"
            )
    return "\n".join(out)
