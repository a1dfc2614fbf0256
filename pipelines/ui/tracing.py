"""The auditor's chain behind a published record, as `dtks trace` gives it (`pipelines.trace`): the JSON
document (schema `dtks-trace/1`) and the text in Bahasa Indonesia, masked unless the caller says the reader
may see personal data. The question is checked here, so a malformed one never reaches the warehouse."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from pipelines.trace import TraceError, format_trace, trace, trace_document

QUARTER = re.compile(r"^\d{4}Q[1-4]$")


@dataclass(frozen=True)
class Question:
    """A trace request: a NIK, or a source file (as `dtks trace --source-file` takes it) and row."""

    quarter: str
    nik: str | None = None
    source_file: str | None = None
    source_row: int | None = None

    def check(self) -> None:
        if not QUARTER.match(self.quarter or ""):
            raise TraceError("Triwulan harus berbentuk TTTTQn, mis. 2026Q3.")
        by_nik = bool(self.nik)
        by_row = bool(self.source_file) and self.source_row is not None
        if by_nik == by_row:
            raise TraceError("Berikan NIK, atau nama berkas bersama nomor barisnya (tidak keduanya).")
        if by_nik and not re.fullmatch(r"\d{1,32}", self.nik or ""):
            raise TraceError("NIK hanya berisi angka.")
        if by_row and int(self.source_row or 0) < 1:
            raise TraceError("Nomor baris data dimulai dari 1 (baris pertama sesudah judul kolom).")


def answer(engine: Engine, question: Question, *, unmask: bool) -> tuple[dict[str, Any], str]:
    """The trace of `question` as (JSON document, text): masked unless `unmask`."""
    question.check()
    result = trace(
        engine,
        question.quarter,
        nik=question.nik or None,
        source_file=question.source_file if not question.nik else None,
        source_row=question.source_row if not question.nik else None,
    )
    return trace_document(result, mask=not unmask), format_trace(result, mask=not unmask)
