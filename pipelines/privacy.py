"""Masking of personal data (UU PDP No. 27/2022) before anything reaches a log, an error or a lineage event.

NIK and KK are masked as `3201********0001` (first four and last four digits kept), names keep only
their initials, birth dates keep nothing. The warehouse and the Dinsos reports hold the real values:
they are the data controller's own records; logs and lineage are not.
"""

from __future__ import annotations

import logging
import re

_ID_RUN = re.compile(r"(?<!\d)(\d{4})(\d{8})(\d{4})(?!\d)")
_DIGITS = re.compile(r"\d")


def mask_id(value: object) -> str:
    """`3201011508950001` -> `3201********0001`; anything not 16 digits keeps only its length."""
    text = "" if value is None else str(value).strip()
    if len(text) == 16 and text.isdigit():
        return f"{text[:4]}********{text[-4:]}"
    if not text:
        return "(kosong)"
    return _DIGITS.sub("*", text) if len(text) <= 4 else f"{text[:2]}{'*' * (len(text) - 2)}"


def mask_name(value: object) -> str:
    """`SITI AMINAH` -> `S*** A*****`."""
    text = "" if value is None else str(value).strip()
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in text.split()) or "(kosong)"


def mask_text(text: str) -> str:
    """Masks every 16-digit run in free text (a NIK or KK that slipped into a message)."""
    return _ID_RUN.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)


class MaskingFilter(logging.Filter):
    """A logging filter for handlers: masks 16-digit runs in the formatted message, as a safety net."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
