"""`dtks trace`: the whole story of a published record, for an auditor.

For one input row (or every row that was linked to, or submitted, a NIK) of a published quarter:
the run that made it, the input file with its SHA-256 (and whether the file on disk still matches), the
row as typed, what validation said, the linkage candidates (each once) and the decision with its weights,
the Dukcapil extract row each candidate was read from (file, row, SHA-256, values), the duplicates it was
merged with (the comparison, how the rows came to be one person, and which step of the rule chose the
published row), the findings, the published snapshot row, and what the person was in the previous
published quarter. Only SQLAlchemy Core here, so an answer takes well under a second.

Two forms: `format_trace` (text, in Bahasa Indonesia, for reading) and `trace_document` (JSON for audit
working papers, schema `TRACE_SCHEMA`, documented in docs/audit.md). `mask_trace` masks every personal
field of an answer, for screenshots and tickets (`dtks trace --mask`): what is not known to be safe is
masked, operator-typed columns and their headers included.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final

from sqlalchemy import Engine, and_, or_, select

from pipelines import contract as c
from pipelines import survivor
from pipelines.local_time import local_text, zone_of
from pipelines.privacy import (
    SAFE,
    field_kind,
    is_declared,
    mask_date,
    mask_field,
    mask_fields,
    mask_id,
    mask_record,
    mask_structure,
    mask_text,
)
from pipelines.reports import guidance as g
from pipelines.warehouse.explanations import expand
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
from pipelines.waterfall import LEGEND, METHOD_TITLES, LevelBook, format_percent, render_waterfall

TRACE_SCHEMA: Final = "dtks-trace/1"

# The Dukcapil extract's columns an auditor compares with the row (contract 1.2), in reading order.
DUKCAPIL_VALUES: Final = (
    "NIK", "NO_KK", "NAMA_LGKP", "JENIS_KLMIN", "TGL_LHR", "STAT_HBKEL", "JENIS_PKRJN",
    "NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL", "TGL_MATI",
)  # fmt: skip

CHECK_MATCHES: Final = "SHA-256 cocok"


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
    # candidate NIK -> the Dukcapil row: source_file, source_row, sha256, check, values
    dukcapil: dict[str, dict[str, Any]] = field(default_factory=dict)
    previous: dict[str, Any] | None = None  # the person (or the NIK typed) in the previous published quarter


@dataclass
class Trace:
    quarter: str
    run: dict[str, Any]
    rows: list[RowTrace]


class TraceError(LookupError):
    """A question the warehouse cannot answer, said in words an auditor can act on."""


def _dicts(connection, statement) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(statement)]


def _published_run(connection, quarter: str) -> dict[str, Any]:
    found = _dicts(connection, select(run).where(run.c.quarter == quarter, run.c.status == "PUBLISHED"))
    if not found:
        quarters = [q for (q,) in connection.execute(select(run.c.quarter).where(run.c.status == "PUBLISHED"))]
        known = ", ".join(sorted(set(quarters))) or "belum ada"
        raise TraceError(
            f"Triwulan {quarter} belum diterbitkan di gudang data ini (triwulan yang terbit: {known}). "
            "Periksa --quarter, atau berikan --warehouse gudang data yang menerbitkannya."
        )
    record = found[0]
    for key in ("config", "input_files", "counts", "validation", "linkage", "stage_seconds", "paths"):
        if isinstance(record.get(key), str):
            record[key] = json.loads(record[key])
    return record


# --- Which file the auditor means --------------------------------------------------------------------


def resolve_source_file(given: str, files: list[str], landing: str | None, quarter: str) -> str:
    """The run's `source_file` for a file named as an operator knows it: the contract's path
    (`2026Q3/submissions/5203/5203012001.csv`), a bare file name (`5203012001.csv`), a path relative to the
    landing root or to the quarter's folder, or an absolute path of the landing file. Raises `TraceError`
    naming the choices when the name fits none or several."""
    text = given.strip().replace("\\", "/")
    if text in files:
        return text
    tails: list[str] = []
    if landing:
        with contextlib.suppress(ValueError, OSError):  # not under the landing root
            tails.append(Path(text).resolve().relative_to(Path(landing).resolve()).as_posix())
    path = PurePosixPath(text)
    parts = [p for p in path.parts if p not in ("/", ".")]
    tails += ["/".join(parts[i:]) for i in range(len(parts))]
    for tail in tails:
        if tail in files:
            return tail
        if f"{quarter}/{tail}" in files:
            return f"{quarter}/{tail}"
    same_name = [f for f in files if PurePosixPath(f).name == path.name]
    if len(same_name) == 1:
        return same_name[0]
    if same_name:
        listed = ", ".join(sorted(same_name))
        raise TraceError(f"Ada {len(same_name)} berkas bernama {path.name}: {listed}. Sebutkan jalurnya.")
    stem = [f for f in files if PurePosixPath(f).stem == path.stem]
    hint = f" Berkas dengan nama serupa: {', '.join(sorted(stem))}." if stem else ""
    raise TraceError(
        f"Berkas {given} tidak ada di antara {len(files)} berkas masukan triwulan {quarter}.{hint} "
        "Berikan nama berkas usulan desa (mis. 5203012001.csv), jalurnya di area landing, atau telusuri "
        "dengan --nik."
    )


# --- Reading the landing area ------------------------------------------------------------------------


def _landing_bytes(landing: str | None, input_file: dict[str, Any], source_file: str) -> tuple[bytes | None, str]:
    """The file's bytes when it is still the file the run read (never through a symlink, never more bytes
    than the run read), and what was found, in words."""
    from pipelines.landing import LandingReadError, read_landing_file

    if not landing:
        return None, "proses tidak mencatat folder landing-nya"
    path = Path(landing) / source_file
    size = int(input_file.get("size_bytes") or 0)
    if not size or not input_file.get("sha256"):
        return None, "proses tidak mencatat ukuran atau SHA-256 berkas ini"
    try:
        data = read_landing_file(landing, source_file, size)
    except LandingReadError as exc:
        if exc.code == "berkas_terlalu_besar":
            return None, "berkas di disk BERUBAH sejak proses (bertambah besar): isinya tidak ditampilkan"
        if isinstance(exc.__cause__, FileNotFoundError):
            return None, f"berkas sudah tidak ada di {path}"
        return None, f"berkas tidak dibaca: {exc.message}"
    except OSError:
        return None, f"berkas tidak dapat dibaca di {path}"
    if hashlib.sha256(data).hexdigest() != input_file["sha256"]:
        return None, "berkas di disk BERUBAH sejak proses (SHA-256 berbeda): isinya tidak ditampilkan"
    return data, CHECK_MATCHES


def _input_row(
    landing: str | None, input_file: dict[str, Any], source_file: str, source_row: int
) -> tuple[dict | None, str]:
    """The row as typed, re-read from the landing file, and whether the file still has the published hash.
    Keys are the file's headers; a repeated or blank header, and a value beyond the last header, get the
    column number."""
    from pipelines.ingest.readers import UnreadableFile, read_table

    data, check = _landing_bytes(landing, input_file, source_file)
    if data is None:
        return None, check
    try:
        table = read_table(data, PurePosixPath(source_file).suffix.lower().lstrip("."))
    except UnreadableFile as exc:
        return None, f"tidak terbaca: {exc.message}"
    if not 1 <= source_row <= len(table.rows):
        return None, "nomor baris di luar berkas"
    values = table.rows[source_row - 1]
    header = list(table.header) + [""] * max(0, len(values) - len(table.header))
    row = {}
    for i, name in enumerate(header):
        key = name if name.strip() and header.count(name) == 1 else f"{name} (kolom {i + 1})".strip()
        row[key] = values[i] if i < len(values) else ""
    return row, check


def _dukcapil_rows(
    landing: str | None, input_file: dict[str, Any], source_file: str, wanted: set[int]
) -> tuple[dict[int, dict[str, str]], str]:
    """The wanted data rows (1-based) of a Dukcapil extract, in one pass over the file as the run read it."""
    data, check = _landing_bytes(landing, input_file, source_file)
    if data is None or not wanted:
        return {}, check
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    header = [h.strip().upper() for h in next(reader, [])]
    found: dict[int, dict[str, str]] = {}
    last = max(wanted)
    for number, values in enumerate(reader, start=1):
        if number in wanted:
            found[number] = {h: (values[i] if i < len(values) else "") for i, h in enumerate(header)}
        if number >= last:
            break
    return found, check


# --- The answer ----------------------------------------------------------------------------------


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
        raise TraceError("Berikan --nik, atau --source-file bersama --source-row.")
    with engine.connect() as connection:
        record = _published_run(connection, quarter)
        files = {f["source_file"]: f for f in record.get("input_files") or []}
        landing = (record.get("paths") or {}).get("landing")
        if nik:
            keys = _rows_for_nik(connection, quarter, nik)
            if not keys:
                raise TraceError(
                    f"Tidak ada baris triwulan {quarter} yang ditautkan ke, atau mengusulkan, NIK {mask_id(nik)}."
                )
        else:
            keys = [(resolve_source_file(str(source_file), list(files), landing, quarter), int(source_row))]
        rows = [_row(connection, quarter, record, files, f, r, read_input) for f, r in keys]
    if read_input:
        _cite_dukcapil(rows, files, landing)
    return Trace(quarter, record, rows)


def _where(table, quarter: str, source_file: str, source_row: int):
    return and_(table.c.quarter == quarter, table.c.source_file == source_file, table.c.source_row == source_row)


def _row(c, quarter: str, record: dict, files: dict, source_file: str, source_row: int, read_input: bool) -> RowTrace:
    outcome = _dicts(c, select(row_outcome).where(_where(row_outcome, quarter, source_file, source_row)))
    if not outcome:
        kind = (files.get(source_file) or {}).get("kind")
        if kind == "dukcapil":
            raise TraceError(
                f"{source_file} adalah ekstrak Dukcapil, bukan usulan desa: telusuri orangnya dengan --nik."
            )
        rows = (files.get(source_file) or {}).get("data_rows")
        size = (
            f" (berkas ini memuat {rows} baris data; baris 1 adalah baris pertama sesudah judul kolom)" if rows else ""
        )
        raise TraceError(f"{source_file} tidak memiliki baris {source_row} pada triwulan {quarter}{size}.")
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
    item.candidates = [
        expand(candidate)  # levels and weights as mappings, from the integer columns or (older quarters) JSON
        for candidate in _dicts(
            c,
            select(link_candidate)
            .where(_where(link_candidate, quarter, source_file, source_row))
            .order_by(link_candidate.c.rank, link_candidate.c.method),
        )
    ]
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
    typed = [f.get("nik") for f in item.findings if f.get("nik")]
    item.previous = _previous(c, quarter, key, typed[0] if typed else None)
    item.change = _changes(item.previous, item.published)
    return item


def _cite_dukcapil(rows: list[RowTrace], files: dict[str, dict], landing: str | None) -> None:
    """Every candidate's Dukcapil row, read once per extract: file, row, the extract's SHA-256, values."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        for cand in row.candidates:
            if cand.get("candidate_source_file") and cand.get("candidate_source_row"):
                wanted.setdefault(cand["candidate_source_file"], set()).add(int(cand["candidate_source_row"]))
    read = {f: _dukcapil_rows(landing, files.get(f, {}), f, numbers) for f, numbers in wanted.items()}
    for row in rows:
        for cand in row.candidates:
            extract = cand.get("candidate_source_file")
            if not extract or cand["candidate_nik"] in row.dukcapil:
                continue
            number = int(cand["candidate_source_row"])
            found, check = read[extract]
            values = found.get(number)
            row.dukcapil[cand["candidate_nik"]] = {
                "source_file": extract,
                "source_row": number,
                "sha256": files.get(extract, {}).get("sha256"),
                "check": check if values is not None or check != CHECK_MATCHES else "nomor baris di luar berkas",
                "values": {k: values.get(k, "") for k in DUKCAPIL_VALUES} if values else None,
            }


def _previous(c, quarter: str, key: str | None, typed_nik: str | None) -> dict[str, Any]:
    """What the person was in the previous published quarter: by the person key (stable across quarters),
    else, for a row that is no person (quarantined), by the NIK it carried."""
    found = c.execute(
        select(run.c.quarter).where(run.c.quarter < quarter, run.c.status == "PUBLISHED").order_by(run.c.quarter.desc())
    ).first()
    if found is None:
        return {"quarter": None}
    s = dtks_snapshot.c
    columns = (s.person_key, s.source_file, s.source_row, s.status_dtks, s.alasan_nonaktif, s.kode_desa)
    before = None
    matched_by = None
    if key:
        before = c.execute(select(*columns).where(s.quarter == found[0], s.person_key == key)).first()
        matched_by = "person_key"
    if before is None and typed_nik:
        before = c.execute(select(*columns).where(s.quarter == found[0], s.nik == typed_nik)).first()
        matched_by = "nik" if before is not None else matched_by
    out: dict[str, Any] = {"quarter": found[0], "found": before is not None, "matched_by": matched_by}
    if before is not None:
        out.update(dict(before._mapping))
    return out


def _changes(previous: dict[str, Any] | None, published: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The `quarter_changes` view's word for this person (ADDED, STATUS_CHANGED, UNCHANGED)."""
    if not previous or not previous.get("quarter") or published is None:
        return []
    if not previous.get("found"):
        change = "ADDED"
    elif (previous.get("status_dtks"), previous.get("alasan_nonaktif")) != (
        published.get("status_dtks"),
        published.get("alasan_nonaktif"),
    ):
        change = "STATUS_CHANGED"
    else:
        change = "UNCHANGED"
    return [
        {
            "change": change,
            "previous_quarter": previous["quarter"],
            "status_before": previous.get("status_dtks"),
            "status_after": published.get("status_dtks"),
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
    if finding.get("category") == c.PINDAH_DOMISILI:  # the suggestion is a village code, not a person's value
        masked["suggested_value"] = mask_field("kode_desa", suggested)
    elif isinstance(suggested, str) and re.fullmatch(r"[\d\-/. ]{8,10}", suggested.strip()):  # a date
        masked["suggested_value"] = mask_date(suggested)
    if "suggestion" in finding:
        masked["suggestion"] = _mask_suggestion(finding["suggestion"])
    return masked


def _mask_suggestion(text: Any) -> Any:
    """`discrepancy.suggestion` masked: each `field: value` part (`nama: SITI`, `tanggal lahir: ...`) by the
    field's kind, anything else as free text with every date (a death date, a NIK)."""
    if not isinstance(text, str) or not text:
        return text
    parts = []
    for part in text.split("; "):
        field, sep, value = part.partition(": ")
        declared = sep and is_declared(field) and field_kind(field) != SAFE
        parts.append(f"{field}: {mask_field(field, value)}" if declared else mask_text(part, all_dates=True))
    return "; ".join(parts)


def _mask_citation(citation: dict[str, Any]) -> dict[str, Any]:
    masked = mask_structure({k: v for k, v in citation.items() if k != "values"})
    values = citation.get("values")
    masked["values"] = {k: mask_field(k, v) for k, v in values.items()} if values else values
    return masked


_PREVIOUS_SAFE: Final = frozenset({"quarter", "found", "matched_by"})


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
        candidates=[mask_record(x) for x in row.candidates],
        duplicates=[mask_record(d) for d in row.duplicates],
        findings=[_mask_finding(f) for f in row.findings],
        published=mask_record(row.published) if row.published else None,
        person_rows=[mask_record(x) for x in row.person_rows],
        change=[mask_structure(x) for x in row.change],
        dukcapil={mask_id(nik): _mask_citation(v) for nik, v in row.dukcapil.items()},
        previous={k: v if k in _PREVIOUS_SAFE else mask_field(k, v) for k, v in (row.previous or {}).items()},
    )


def mask_trace(result: Trace) -> Trace:
    """The same answer with every personal field masked: identifiers as `3201********0001`, names as
    initials, dates as `****-**-**`; an operator's column that is not a declared one is masked whole and
    named by its position, since its header may itself be a person's data; free text (details, messages)
    by `pipelines.privacy.mask_detail`."""
    return Trace(result.quarter, mask_structure(result.run), [_mask_row(row) for row in result.rows])


# --- Words -------------------------------------------------------------------------------------------

BASIS_TEXT: Final = {
    survivor.SAME_DUKCAPIL_PERSON: "kedua baris ditautkan ke orang Dukcapil yang sama (NIK Dukcapil sama)",
    survivor.ROW_COMPARISON: "perbandingan kedua baris ini menyatakan orang yang sama",
    survivor.THROUGH_OTHER_ROWS: "digabung melalui baris lain dalam kelompok yang sama",
}
SURVIVOR_RULE: Final = (
    "Aturan pemilihan baris yang diterbitkan: tautan paling pasti lebih dulu (NIK sama dengan identitas cocok, "
    "lalu pencocokan probabilistik, lalu lewat baris ganda, lalu tanpa tautan), lalu peluang tertinggi, lalu "
    "nama berkas dan nomor baris terkecil."
)
SURVIVOR_STEP_TEXT: Final = {
    survivor.BY_METHOD: "tautannya lebih pasti",
    survivor.BY_PROBABILITY: "peluang tautannya lebih tinggi",
    survivor.BY_POSITION: "sama pastinya; berkas dan nomor barisnya lebih dulu",
}
DUKCAPIL_LABELS: Final = {
    "NIK": "NIK", "NO_KK": "nomor KK", "NAMA_LGKP": "nama", "JENIS_KLMIN": "jenis kelamin", "TGL_LHR": "tanggal lahir",
    "STAT_HBKEL": "hubungan keluarga", "JENIS_PKRJN": "pekerjaan", "NO_PROP": "provinsi", "NO_KAB": "kabupaten",
    "NO_KEC": "kecamatan", "NO_KEL": "desa", "TGL_MATI": "tanggal meninggal",
}  # fmt: skip


def _show(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:+.2f}"  # as the waterfall writes weights


def _outcome_text(outcome: dict[str, Any]) -> str:
    status = outcome.get("status_padan")
    parts = [g.outcome_label(outcome.get("outcome"))]
    if outcome.get("person_key"):
        parts.append(f"kunci orang {outcome['person_key']}")
    if status:
        parts.append(f"status padan: {g.status_padan_label(status)}")
    if outcome.get("nik_dukcapil"):
        parts.append(f"NIK Dukcapil {outcome['nik_dukcapil']}")
    if outcome.get("match_probability") is not None:
        parts.append(f"peluang {format_percent(outcome['match_probability'])}")
    return "; ".join(parts)


def _category_text(category: object) -> str:
    code = _show(category)
    guide = g.guidance_for(code)
    return f"{guide.title} [{code}]"


def _status_text(status: object, reason: object) -> str:
    text = _show(status)
    if reason:
        known = g.GUIDANCE.get(str(reason))
        text += f" ({known.title if known else str(reason).replace('_', ' ').lower()})"
    return text


def _file_status(status: object) -> str:
    return "diterima" if status == "ACCEPTED" else g.file_status_label(status)


def _unique_candidates(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each candidate once: a NIK whose owner the exact pass rejected and the probabilistic pass then
    scored is one candidate, listed with the pass that decided and a note on the other."""
    by_nik: dict[str, dict[str, Any]] = {}
    for cand in candidates:
        kept = by_nik.get(cand["candidate_nik"])
        if kept is None:
            by_nik[cand["candidate_nik"]] = {**cand, "methods": [cand["method"]]}
            continue
        kept["methods"].append(cand["method"])
        if cand["chosen"] or (not kept["chosen"] and kept["method"] == "exact_rejected"):
            by_nik[cand["candidate_nik"]] = {**cand, "methods": kept["methods"]}
    return sorted(by_nik.values(), key=lambda x: (not x["chosen"], x["rank"], -(x.get("match_weight") or 0)))


def _other_side(edge: dict[str, Any], row: RowTrace) -> tuple[str, str, int]:
    this_is_a = edge["source_file_a"] == row.source_file and edge["source_row_a"] == row.source_row
    other = "b" if this_is_a else "a"
    return other, edge[f"source_file_{other}"], edge[f"source_row_{other}"]


def _kabupaten_of(result: Trace) -> list[str]:
    return sorted({p.split("/")[2] for p in (r.source_file for r in result.rows) if p.count("/") >= 3})


def _when(value: Any, result: Trace) -> str:
    if not value:
        return "-"
    codes = _kabupaten_of(result) or ["31"]
    try:
        return local_text(value, zone_of(codes[0]))
    except (TypeError, ValueError):
        return str(value)


# --- Text ----------------------------------------------------------------------------------------------


def _waterfall(decision: dict[str, Any], book: LevelBook, model: dict[str, Any]) -> list[str]:
    """The decision's waterfall (pipelines.waterfall), indented under its candidate or duplicate line."""
    text = render_waterfall(decision, book, model=model or None, compact=True)
    return ["          " + line for line in text.splitlines()]


def _label(name: str) -> str:
    return f"  {name:<18}"


def format_trace(result: Trace, *, mask: bool = False) -> str:
    if mask:
        result = mask_trace(result)
    r = result.run
    linkage = r.get("linkage") or {}
    out = [
        f"{g.period_text(result.quarter)}: diterbitkan oleh proses {r['run_id']} (versi kode "
        f"{r.get('code_version') or '-'}), terbit {_when(r.get('published_at'), result)}",
    ]
    for row in result.rows:
        # The model of the row's kabupaten/kota (each links within its own partition), as the run described
        # it: no linkage code needs importing.
        model = (linkage.get("per_kabupaten") or {}).get(row.input_file.get("kode_kab"), linkage).get("model") or {}
        book = LevelBook.from_model(model)
        out += ["", f"== Berkas {row.source_file}, baris {row.source_row} (baris 1 = baris pertama sesudah judul)"]
        out += _input_lines(row)
        out += _outcome_lines(row)
        out += _validation_lines(row)
        out += _candidate_lines(row, book, model)
        out += _duplicate_lines(row, book, model)
        out.append(_label("temuan") + (f"{len(row.findings)} temuan" if row.findings else "tidak ada"))
        for d in row.findings:
            value = d.get("suggestion") or d.get("suggested_value")  # in words since migration 0009
            saran = f" (nilai yang disarankan: {_show(value)})" if value else ""
            out.append(f"    - {_category_text(d['category'])}: {_show(d.get('detail'))}{saran}")
        out += _published_lines(row)
        out += _previous_lines(row, result.quarter)
    return "\n".join(out)


def _input_lines(row: RowTrace) -> list[str]:
    f = row.input_file
    lines = [
        _label("berkas masukan") + f"SHA-256 {f.get('sha256', '?')}, {f.get('data_rows', '?')} baris data, "
        f"status {_file_status(f.get('status'))}" + (f"; {row.input_check}" if row.input_check else "")
    ]
    if row.input_row:
        lines.append(_label("isi baris") + "; ".join(f"{k}={_show(v)}" for k, v in row.input_row.items()))
    return lines


def _outcome_lines(row: RowTrace) -> list[str]:
    o = row.outcome
    lines = [_label("hasil") + _outcome_text(o)]
    if o.get("merged_into_file"):
        lines.append(_label("digabung ke") + f"{o['merged_into_file']} baris {o['merged_into_row']}")
    return lines


def _validation_lines(row: RowTrace) -> list[str]:
    lines = [
        _label("validasi")
        + (f"{len(row.validation)} pemeriksaan tidak lulus" if row.validation else "semua pemeriksaan lulus")
    ]
    for v in row.validation:
        action = "baris dikarantina" if v["action"] == "quarantine" else "dicatat"
        lines.append(
            f"    - {g.field_label(v.get('field'))}: {v.get('message')} "
            f"({_category_text(v.get('category'))}; {action}; pemeriksaan {v.get('expectation') or '-'})"
        )
    if row.quarantine:
        fields = json.loads(row.quarantine["raw_fields"])
        lines.append(_label("karantina") + "isi asli: " + "; ".join(f"{k}={_show(v)}" for k, v in fields.items()))
    return lines


def _candidate_lines(row: RowTrace, book: LevelBook, model: dict[str, Any]) -> list[str]:
    candidates = _unique_candidates(row.candidates)
    lines = [
        _label("pemadanan") + (f"{len(candidates)} kandidat Dukcapil; {LEGEND}" if candidates else "tidak ada kandidat")
    ]
    for i, cand in enumerate(candidates, start=1):
        lines.append(
            f"    kandidat {i}: NIK {_show(cand['candidate_nik'])}, "
            f"{METHOD_TITLES.get(cand['method'], cand['method'])}, "
            f"bobot {_number(cand['match_weight'])} bit, peluang {format_percent(cand['match_probability'])}"
            + ("  <- DIPILIH" if cand["chosen"] else "")
        )
        if "exact_rejected" in cand["methods"] and cand["method"] != "exact_rejected":
            lines.append(
                "          (NIK usulan milik orang ini, tetapi identitasnya tidak cocok pada pencocokan NIK; "
                "dinilai ulang dengan pencocokan probabilistik)"
            )
        if cand["method"] == "exact":
            lines.append(
                "          (NIK sama dan identitas cocok: ditautkan tanpa model; bobot di bawah sebagai penjelasan)"
            )
        citation = row.dukcapil.get(cand["candidate_nik"])
        if citation:
            lines.append(
                f"          Dukcapil: {citation['source_file']} baris {citation['source_row']}, "
                f"SHA-256 {_show(citation.get('sha256'))}; {citation['check']}"
            )
            if citation.get("values"):
                values = "; ".join(f"{DUKCAPIL_LABELS.get(k, k)}={_show(v)}" for k, v in citation["values"].items())
                lines.append(f"          nilai Dukcapil: {values}")
        lines += _waterfall(cand, book, model)
    return lines


def _duplicate_lines(row: RowTrace, book: LevelBook, model: dict[str, Any]) -> list[str]:
    lines = []
    for d in row.duplicates:
        side, other_file, other_row = _other_side(d, row)
        joined = "orang yang sama" if d["accepted"] else "bukan orang yang sama"
        lines.append(
            _label("data ganda")
            + f"{other_file} baris {other_row}: {joined}, peluang {format_percent(d['match_probability'])}"
        )
        if d.get("basis"):
            lines.append(f"          dasar: {BASIS_TEXT.get(d['basis'], d['basis'])} [{d['basis']}]")
        if d.get("survivor"):
            kept = "baris lain itu" if d["survivor"] == side else "baris ini"
            step = SURVIVOR_STEP_TEXT.get(d.get("survivor_rule"), _show(d.get("survivor_rule")))
            lines.append(f"          yang diterbitkan: {kept}, karena {step} [{_show(d.get('survivor_rule'))}]")
            lines.append(f"          {SURVIVOR_RULE}")
        lines += _waterfall(d, book, model)
    return lines


def _published_lines(row: RowTrace) -> list[str]:
    if not row.published:
        return []
    p = row.published
    lines = [
        _label("diterbitkan")
        + f"{p['person_key']}: NIK {_show(p.get('nik'))}, nama {_show(p.get('nama'))}, status DTKS "
        f"{_status_text(p['status_dtks'], p.get('alasan_nonaktif'))}, dari {p['source_file']} baris {p['source_row']}"
    ]
    for x in row.person_rows:
        if (x["source_file"], x["source_row"]) != (row.source_file, row.source_row):
            lines.append(f"    juga {x['source_file']} baris {x['source_row']} ({g.outcome_label(x['outcome'])})")
    return lines


def _previous_lines(row: RowTrace, quarter: str) -> list[str]:
    prev = row.previous or {}
    label = _label("triwulan lalu")
    if not prev.get("quarter"):
        return [label + f"tidak ada triwulan terbit sebelum {quarter} di gudang data ini"]
    period = g.period_text(prev["quarter"])
    if not prev.get("found"):
        return [label + f"{period}: orang ini tidak ada di DTKS (baru pada {quarter})"]
    by = "kunci orang yang sama" if prev.get("matched_by") == "person_key" else "NIK yang sama"
    text = (
        f"{period}: status DTKS {_status_text(prev.get('status_dtks'), prev.get('alasan_nonaktif'))}, "
        f"dari {prev.get('source_file')} baris {prev.get('source_row')} (dicari lewat {by})"
    )
    if row.published:
        now = _status_text(row.published.get("status_dtks"), row.published.get("alasan_nonaktif"))
        before = _status_text(prev.get("status_dtks"), prev.get("alasan_nonaktif"))
        text += "; kini " + (f"{now}: status berubah" if now != before else f"{now}: tidak berubah")
    return [label + text]


# --- JSON ----------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _loads(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) and text else text


def trace_document(result: Trace, *, mask: bool = False) -> dict[str, Any]:
    """The answer as one JSON document for audit working papers: schema `TRACE_SCHEMA` (docs/audit.md).
    Keys and codes are those of the warehouse; `*_label` keys carry the words of the text form."""
    if mask:
        result = mask_trace(result)
    r = result.run
    document = {
        "schema": TRACE_SCHEMA,
        "masked": mask,
        "quarter": result.quarter,
        "run": {k: r.get(k) for k in ("run_id", "code_version", "started_at", "finished_at", "published_at")},
        "rows": [_row_document(row) for row in result.rows],
    }
    return _json_value(document)


def _row_document(row: RowTrace) -> dict[str, Any]:
    f = row.input_file
    candidates = []
    for cand in _unique_candidates(row.candidates):
        candidates.append(
            {
                "candidate_nik": cand["candidate_nik"],
                "method": cand["method"],
                "methods": cand["methods"],
                "chosen": bool(cand["chosen"]),
                "rank": cand["rank"],
                "match_weight": cand["match_weight"],
                "match_probability": cand["match_probability"],
                "levels": _loads(cand["levels"]),
                "weights": _loads(cand["weights"]),
                "dukcapil": row.dukcapil.get(cand["candidate_nik"]),
            }
        )
    duplicates = []
    for d in row.duplicates:
        side, other_file, other_row = _other_side(d, row)
        duplicates.append(
            {
                "other_source_file": other_file,
                "other_source_row": other_row,
                "same_person": bool(d["accepted"]),
                "basis": d.get("basis"),
                "basis_label": BASIS_TEXT.get(d.get("basis") or ""),
                "published": None if not d.get("survivor") else ("other" if d["survivor"] == side else "this"),
                "survivor_rule": d.get("survivor_rule"),
                "match_weight": d["match_weight"],
                "match_probability": d["match_probability"],
                "levels": _loads(d["levels"]),
                "weights": _loads(d["weights"]),
            }
        )
    return {
        "source_file": row.source_file,
        "source_row": row.source_row,
        "input_file": {
            "sha256": f.get("sha256"),
            "data_rows": f.get("data_rows"),
            "status": f.get("status"),
            "check": row.input_check or None,
        },
        "input_row": row.input_row,
        "outcome": {
            k: row.outcome.get(k)
            for k in (
                "outcome",
                "person_key",
                "status_padan",
                "nik_dukcapil",
                "match_probability",
                "merged_into_file",
                "merged_into_row",
            )
        },
        "outcome_label": g.outcome_label(row.outcome.get("outcome")),
        "validation": [
            {k: v.get(k) for k in ("expectation", "category", "field", "action", "message")} for v in row.validation
        ],
        "quarantine": None
        if not row.quarantine
        else {"raw_fields": _loads(row.quarantine["raw_fields"]), "reasons": _loads(row.quarantine["reasons"])},
        "candidates": candidates,
        "duplicates": duplicates,
        "findings": [
            {
                "category": x.get("category"),
                "category_label": g.guidance_for(_show(x.get("category"))).title,
                "detail": x.get("detail"),
                "suggested_value": x.get("suggested_value"),
                "suggestion": x.get("suggestion"),
            }
            for x in row.findings
        ],
        "published": None
        if not row.published
        else {
            k: row.published.get(k)
            for k in (
                "person_key",
                "nik",
                "nama",
                "status_dtks",
                "alasan_nonaktif",
                "status_padan",
                "source_file",
                "source_row",
            )
        },
        "person_rows": row.person_rows,
        "previous_quarter": row.previous,
    }
