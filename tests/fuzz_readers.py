"""Fuzzing the readers: mutated CSV and XLSX files through `read_table` and the file-level intake.

Run by tests/test_fuzz_readers.py in a subprocess (so its peak memory is its own), or by hand:
`.venv/bin/python tests/fuzz_readers.py --cases 1200 --seed 10`. The seeds are the damaged-input corpus's
files; each case applies one to three deterministic mutations (fixed seed): byte flips, truncation,
inserted bytes, NULs and lone CRs, odd encodings, quote and delimiter damage for CSV; for XLSX, zip member
surgery (a member dropped, renamed, truncated, stored instead of deflated, marked encrypted or Deflate64,
its declared size changed) and XML surgery (a DTD with entities, a huge `<dimension>`, absurd row and cell
references, a cut tag, a duplicated row, rows far down, a long text). Every file must be read or refused
with `UnreadableFile` (a code and a message): any other exception is a failure. Prints one JSON summary.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import resource
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.config import FileLimits, LandingLimits  # noqa: E402
from pipelines.discover import discover_quarter  # noqa: E402
from pipelines.ingest.intake import REJECTED, UNREADABLE, ingest_submissions  # noqa: E402
from pipelines.ingest.readers import UnreadableFile, read_table  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "cases"
# Small enough that the limits are hit too, and that a mutated zip bomb costs little.
LIMITS = FileLimits(
    max_file_mb=25, max_rows=5_000, max_columns=256, max_field_chars=4_000, max_uncompressed_mb=10, max_member_mb=8
)
_NIK_LIKE = re.compile(r"(?<!\d)\d{16}(?!\d)")


# ----------------------------------------------------------------------------------------------- bytes


def flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    chunk = rng.choice(
        [
            b"\x00",
            b"\x00" * 50,
            b"\r",
            b'"',
            b";",
            b",,,,",
            b"\xff\xfe",
            b"\xef\xbb\xbf",
            bytes(rng.randrange(256) for _ in range(16)),
        ]
    )
    return data[:at] + chunk + data[at:]


def duplicate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.randint(1, 2000))
    return data[:b] + data[a:b] * rng.randint(1, 20) + data[b:]


# ------------------------------------------------------------------------------------------------- CSV


def csv_surgery(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", errors="replace")
    kind = rng.randrange(8)
    if kind == 0:
        return text.replace("\r\n", "\r").replace("\n", "\r").encode()  # Excel for Mac
    if kind == 1:
        return text.encode("utf-16-le")  # UTF-16 without its BOM
    if kind == 2:
        return text.encode("cp1252", errors="replace")
    if kind == 3:
        lines = text.split("\n")
        at = rng.randrange(len(lines))
        lines[at] = '"' + lines[at]  # an opening quote never closed
        return "\n".join(lines).encode()
    if kind == 4:
        return text.replace(",", ";" if rng.random() < 0.5 else "\t").encode()
    if kind == 5:
        lines = text.split("\n")
        at = rng.randrange(len(lines))
        lines[at] += "," + "X" * rng.choice([10, 5_000, 140_000])  # a long field
        return "\n".join(lines).encode()
    if kind == 6:
        lines = text.split("\n")
        return "\n".join(lines[1:]).encode()  # the header gone
    return (text + ",," * rng.randint(1, 400) + "\n" + "\n" * rng.randint(0, 3000)).encode()


# ------------------------------------------------------------------------------------------------ XLSX


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i, z.read(i.filename)) for i in z.infolist()]


def _zip(members: list[tuple[str, bytes]], stored: bool) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", method) as z:
        for name, content in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content, compress_type=method)
    return out.getvalue()


def _xml(rng: random.Random, content: bytes) -> bytes:
    kind = rng.randrange(11)
    if kind == 0:
        entities = '<!ENTITY a "AAAAAAAAAA">' + "".join(
            f'<!ENTITY {c} "{f"&{p};" * 10}">' for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        return re.sub(
            rb"^(<\?xml[^>]*\?>)?",
            lambda m: (m.group(0) or b"") + f"<!DOCTYPE x [{entities}]>".encode(),
            content,
            count=1,
        )
    if kind == 1:
        return re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', content)
    if kind == 2:
        return re.sub(
            rb'<row r="(\d+)"',
            lambda m: b'<row r="' + rng.choice([b"0", b"-1", b"1048577", b"9" * 30, b"x", b"2.5", m.group(1)]) + b'"',
            content,
            count=rng.randint(1, 3),
        )
    if kind == 3:
        return re.sub(
            rb'<c r="([A-Z]+)(\d+)"',
            lambda m: b'<c r="' + rng.choice([b"XFD", b"ZZZZ", b"", b"1", m.group(1)]) + m.group(2) + b'"',
            content,
            count=rng.randint(1, 3),
        )
    if kind == 4:
        tags = [m.start() for m in re.finditer(rb"</", content)]
        if tags:
            at = rng.choice(tags)
            return content[:at] + content[at + 2 :]
        return content
    if kind == 5:
        rows = re.findall(rb"<row[^>]*>.*?</row>", content, flags=re.S)
        if rows:
            row = rng.choice(rows)
            return content.replace(row, row * rng.randint(2, 50), 1)
        return content
    if kind == 6:
        return content.replace(b"</sheetData>", b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>')
    if kind == 7:
        return content.replace(b"<t>", b"<t>" + b"W" * rng.choice([100, 5_000, 50_000]), 1)
    if kind == 8:
        return re.sub(rb't="inlineStr"', b't="s"', content, count=rng.randint(1, 5))
    if kind == 9:
        return content.replace(
            b"<v>", b"<v>" + rng.choice([b"abc", b"1e999", b"nan", b"-", b"9" * 5000]), rng.randint(1, 3)
        )
    return content.replace(
        b'encoding="UTF-8"', rng.choice([b'encoding="UTF-16"', b'encoding="latin-1"', b'encoding="x"'])
    )


def xlsx_surgery(rng: random.Random, data: bytes) -> bytes:
    try:
        members = _members(data)
    except Exception:
        return flip(rng, data)
    names = [(i.filename, content) for i, content in members]
    if not names:
        return data
    kind = rng.randrange(7)
    at = rng.randrange(len(names))
    name, content = names[at]
    sheet = next((k for k, (n, _) in enumerate(names) if n.endswith("sheet1.xml")), at)
    if kind == 0:
        del names[at]
    elif kind == 1:
        names[at] = (name + rng.choice(["x", "/", "../evil.xml"]), content)
    elif kind == 2:
        names[at] = (name, content[: rng.randrange(len(content) + 1)])
    elif kind in (3, 4, 5):
        target = (
            sheet
            if kind != 5
            else next((k for k, (n, _) in enumerate(names) if "sharedStrings" in n or "styles" in n), at)
        )
        n, c = names[target]
        names[target] = (n, _xml(rng, c))
    else:
        return _header_surgery(rng, data)
    return _zip(names, stored=rng.random() < 0.3)


def _header_surgery(rng: random.Random, data: bytes) -> bytes:
    """A local header's flags, method or sizes changed (encrypted, Deflate64, sizes that lie)."""
    out = bytearray(data)
    headers = [m.start() for m in re.finditer(rb"PK\x03\x04", data)]
    if not headers:
        return data
    at = rng.choice(headers)
    field, value = rng.choice(
        [
            (6, (1).to_bytes(2, "little")),
            (8, (9).to_bytes(2, "little")),
            (8, (12).to_bytes(2, "little")),
            (22, rng.randrange(1 << 32).to_bytes(4, "little")),
            (18, (10).to_bytes(4, "little")),
        ]
    )
    out[at + field : at + field + len(value)] = value
    central = [m.start() for m in re.finditer(rb"PK\x01\x02", data)]
    if central and rng.random() < 0.7:
        c = rng.choice(central)
        offset = {6: 8, 8: 10, 22: 24, 18: 20}[field]
        out[c + offset : c + offset + len(value)] = value
    return bytes(out)


MUTATIONS_ANY = (flip, truncate, insert, duplicate)


def mutate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    for _ in range(rng.randint(1, 3)):
        if data.startswith(b"PK\x03\x04") and rng.random() < 0.7:
            data = xlsx_surgery(rng, data)
        elif fmt == "csv" and rng.random() < 0.6:
            data = csv_surgery(rng, data)
        else:
            data = rng.choice(MUTATIONS_ANY)(rng, data)
    return data


def seeds() -> list[tuple[str, bytes]]:
    found = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".csv", ".xlsx"))
    return [(p.suffix[1:], p.read_bytes()) for p in found]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = seeds()
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    slowest = (0.0, "")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "landing" / "2026Q3" / "submissions" / "5203"
        folder.mkdir(parents=True)
        extract = Path(tmp) / "landing" / "2026Q3" / "dukcapil" / "5203.csv"
        extract.parent.mkdir(parents=True)
        extract.write_bytes((ROOT / "tests" / "corpus" / "dukcapil_5203.csv").read_bytes())
        for n in range(args.cases):
            fmt, data = pool[rng.randrange(len(pool))]
            mutated = mutate(rng, data, fmt)
            t0 = time.perf_counter()
            try:
                table = read_table(mutated, fmt, LIMITS)
                outcomes["read"] += 1
                assert isinstance(table.header, list) and all(isinstance(r, list) for r in table.rows)
            except UnreadableFile as exc:
                outcomes[f"refused:{exc.code}"] += 1
                if not (exc.code and exc.message.strip()):
                    failures.append(f"case {n}: refused without a reason")
            except Exception:
                failures.append(f"case {n} ({fmt}): {traceback.format_exc(limit=-3)}")
            took = time.perf_counter() - t0
            slowest = max(slowest, (took, f"case {n} ({fmt}, {len(mutated)} bytes)"))
            # The same file through the file-level intake (named as village n, so every file is attributed).
            (folder / f"5203{12001 + n:06d}.{fmt}").write_bytes(mutated)
        read_seconds = time.perf_counter() - started
        # Most of these village codes do not exist: such files are read only to be rejected, up to a limit
        # that must not cut the fuzz short.
        every_file = LandingLimits(max_unexpected_files_read=args.cases + 1)
        found = [f for f in discover_quarter(Path(tmp) / "landing", "2026Q3", every_file) if f.kind == "submission"]
        try:
            frame, reports = ingest_submissions(found, LIMITS)
        except Exception:
            failures.append(f"intake: {traceback.format_exc(limit=-3)}")
            frame, reports = None, []
        statuses = Counter(r.status for r in reports)
        if frame is not None:
            per_file = frame.groupby("source_file").size() if len(frame) else {}
            for report in reports:
                if (per_file.get(report.source_file, 0) if len(frame) else 0) != report.data_rows:
                    failures.append(f"{report.source_file}: rows lost")
                if report.status in (REJECTED, UNREADABLE) and not (report.rejection_category and report.problems):
                    failures.append(f"{report.source_file}: {report.status} without category or reason")
                for problem in report.problems:
                    if _NIK_LIKE.search(problem["message"]):
                        failures.append(f"{report.source_file}: a message echoes a 16-digit value ({problem['code']})")
    summary = {
        "cases": args.cases,
        "seed": args.seed,
        "seeds": len(pool),
        "outcomes": dict(sorted(outcomes.items())),
        "intake_statuses": dict(statuses),
        "intake_files": len(reports),
        "failures": failures[:20],
        "failure_count": len(failures),
        "read_seconds": round(read_seconds, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
        # Peak resident memory of this process (Linux reports kilobytes).
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "slowest_file": {"seconds": round(slowest[0], 3), "what": slowest[1]},
    }
    print(json.dumps(summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
