"""Showing text that came from outside (a file or folder name, a symlink's target) without letting it act.

A file name can hold anything a file system allows except `/` and NUL: terminal escape sequences, line
breaks that forge a log line, a right-to-left override (U+202E) that makes `5203012001<RLO>vsc.exe` show
as `5203012001exe.csv`, zero-width characters that make two names look alike, bytes that are not UTF-8.
`shown` escapes every such character the way `ls -b` and Python's `repr` do, so what is shown is one
visible line that says exactly which characters the name holds. HTML and spreadsheet escaping still apply on top of it.
"""

from __future__ import annotations

import unicodedata

# Characters that render as nothing although their category is a visible one (Unicode's
# Default_Ignorable_Code_Point beyond the Cf category, from DerivedCoreProperties.txt).
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x2800, 0x2800),  # braille blank
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # half-width Hangul filler
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
# Control (Cc), format (Cf: zero-width, bidi overrides, BOM, soft hyphen), surrogates (Cs: bytes that were
# not UTF-8, kept by `os.fsdecode` as U+DC80..U+DCFF), private use (Co), unassigned (Cn), and separators
# other than the plain space (Zl, Zp, Zs such as the no-break space).
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}
MAX_SHOWN_CHARS = 400


def _hidden(char: str) -> bool:
    if char == " ":
        return False
    code = ord(char)
    if unicodedata.category(char) in _ESCAPED_CATEGORIES:
        return True
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it: show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def is_plain(text: str) -> bool:
    """True when every character of `text` is visible (or a plain space): it can be shown as it is and used
    as a `source_file` in the warehouse and the reports."""
    return not any(_hidden(char) for char in text)


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """`text` with every invisible or control character (and the backslash, so the escapes are unambiguous)
    written as an escape: `5203\\x1b[31m.csv`, `5203012001\\u200b.csv`, `desa\\xff.csv`. Longer results are
    cut at `limit` characters with `…`."""
    out = "".join(_escape(char) if char == "\\" or _hidden(char) else char for char in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"
