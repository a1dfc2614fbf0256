"""Text that a Dinsos officer or a village operator reads, made from the pipeline's own words.

The pipeline's tables speak in field names (`tanggal_lahir`), ISO dates, paths relative to the landing
area (`2026Q3/submissions/5203/5203171004.csv baris 17`) and data-row numbers counted after the header.
People read a date as DD-MM-YYYY, a field by its name in words, a village by its name, and a row by the
number Excel (or a text editor) shows beside it: the header is row 1, so data row 17 is row 18. Every
report goes through this module, so the three kinds of file say the same thing the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, Final

from pipelines.field_words import FIELD_OF_WORDS, FIELD_WORDS
from pipelines.reports import excel as x

DATE_FORMAT_WORDS: Final = "HH-BB-TTTT (hari-bulan-tahun, misalnya 17-08-1980)"
HEADER_ROWS: Final = 1  # the submission's header row, above its first data row

ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_FORMAT_LIST = re.compile(r"(?:dalam )?format YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY")
_SOURCE_REF = re.compile(
    r"(?P<path>(?:[^\s;:,()]*/)?(?P<stem>[^\s/;:,()]+)\.(?P<ext>csv|xlsx|xls))(?:\s*(?:baris\s*|[:#])\s*(?P<row>\d+))?",
    re.IGNORECASE,
)
# `tanggal lahir (usulan: A; Dukcapil: B)` and `tanggal lahir (NIK: A; usulan: B)`, as findings and validation
# write them (the field by its words; `tanggal_lahir`, as they wrote it before, is read too)
_COMPARED = re.compile(
    r"\b(?P<field>"
    + "|".join(sorted(FIELD_OF_WORDS, key=len, reverse=True))
    + r"|[a-z_]+) \((?P<a_name>usulan|NIK): (?P<a>[^;()]*); (?P<b_name>Dukcapil|usulan): (?P<b>[^;()]*)\)"
)
_SIDE_WORDS: Final = {"usulan": "usulan", "Dukcapil": "Dukcapil", "NIK": "tersandi di NIK"}
_FIELD_NAME = re.compile(r"\b(" + "|".join(sorted(FIELD_WORDS, key=len, reverse=True)) + r")\b")


def shown_row(source_row: Any) -> int | str | None:
    """`source_row` (1 = first data row) as the row number Excel shows, or the line of a CSV in a text
    editor: one more, for the header row."""
    number = x.row_number(source_row)
    return number + HEADER_ROWS if isinstance(number, int) else number


def date_text(value: Any) -> str | None:
    """A date as DD-MM-YYYY; an ISO date inside text too. Anything else is returned as text."""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d-%m-%Y")
    text = x.as_text(value)
    return None if text is None else ISO_DATE.sub(r"\3-\2-\1", text)


def file_name(path: Any) -> str:
    """A landing path without its folders: what the village named its file."""
    return (x.as_text(path) or "").replace("\\", "/").rsplit("/", 1)[-1]


def source_reference(source_file: Any, source_row: Any, desa_name: Callable[[str], str | None]) -> str:
    """`desa Pijot (5203012002.csv) baris 18`: a row of a submission, named as people know it."""
    name = file_name(source_file)
    stem = name.rsplit(".", 1)[0]
    desa = desa_name(stem) if stem.isdigit() and len(stem) == 10 else None
    where = f"desa {desa} ({name})" if desa else f"berkas {name}"
    row = shown_row(source_row)
    return f"{where} baris {row}" if row is not None else where


def readable(text: Any, desa_name: Callable[[str], str | None] = lambda _: None) -> str | None:
    """A detail or message in the reader's words: dates DD-MM-YYYY, field names in words, comparisons as
    "tanggal lahir: usulan 01-01-2023, Dukcapil 05-12-2023", and references to other rows by village name,
    file name and the row number as shown in Excel, never by their path in the landing area."""
    out = x.as_text(text)
    if out is None:
        return None
    out = _FORMAT_LIST.sub("dengan format " + DATE_FORMAT_WORDS, out)
    out = _SOURCE_REF.sub(lambda m: source_reference(m.group("path"), m.group("row"), desa_name), out)
    out = _COMPARED.sub(_comparison, out)
    out = _FIELD_NAME.sub(lambda m: FIELD_WORDS[m.group(1)], out)
    return date_text(out)


def _comparison(m: re.Match[str]) -> str:
    field = FIELD_WORDS.get(m.group("field"), m.group("field").replace("_", " "))  # words stay words
    a = f"{_SIDE_WORDS[m.group('a_name')]} {m.group('a').strip()}"
    b = f"{_SIDE_WORDS[m.group('b_name')]} {m.group('b').strip()}"
    return f"{field}: {a}, {b}"


def compared_values(text: Any, side: str = "Dukcapil") -> dict[str, str]:
    """The values a detail gives for one side of its comparisons: `{"tanggal_lahir": "2023-12-05"}`."""
    found = {}
    for m in _COMPARED.finditer(x.as_text(text) or ""):
        field = FIELD_OF_WORDS.get(m.group("field"), m.group("field"))
        for name, value in ((m.group("a_name"), m.group("a")), (m.group("b_name"), m.group("b"))):
            if name == side:
                found[field] = value.strip()
    return found


def bullet_list(items: list[str]) -> str | None:
    """Several reasons, one per line, each once; one reason as it is."""
    unique = list(dict.fromkeys(i.strip() for i in items if i and i.strip()))
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else "\n".join(f"• {i}" for i in unique)
