"""Showing text that came from outside (a file or folder name, a symlink's target) without letting it act.

A file name can hold anything a file system allows except `/` and NUL: terminal escape sequences, line
breaks that forge a log line, a right-to-left override (U+202E) that makes `5203012001<RLO>vsc.exe` show
as `5203012001exe.csv`, zero-width characters that make two names look alike, bytes that are not UTF-8.
`shown` escapes every such character the way `ls -b` and Python's `repr` do, so what is shown is one
visible line that says exactly which characters the name holds. HTML and spreadsheet escaping still apply on top of it.
"""

from __future__ import annotations

import re

# Characters that render as nothing although their category is a visible one (Unicode's
# Default_Ignorable_Code_Point beyond the Cf category, from DerivedCoreProperties.txt).
_INVISIBLE = re.compile(
    "[\u034f"  # combining grapheme joiner
    "\u115f\u1160"  # Hangul choseong/jungseong fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180b-\u180f"  # Mongolian variation selectors and vowel separator
    "\u2800"  # braille blank
    "\u3164"  # Hangul filler
    "\ufe00-\ufe0f"  # variation selectors
    "\uffa0"  # half-width Hangul filler
    "\U000e0100-\U000e01ef]"  # variation selectors supplement
)
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}
MAX_SHOWN_CHARS = 400


def _hidden(char: str) -> bool:
    """`str.isprintable` is False exactly for the categories Other (Cc control, Cf format such as zero-width
    and bidi overrides, Cs surrogates, which is how `os.fsdecode` keeps bytes that are not UTF-8, Co private
    use, Cn unassigned) and Separator (Zl, Zp, Zs such as the no-break space) except the ASCII space."""
    return not char.isprintable() or _INVISIBLE.match(char) is not None


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
    return text.isprintable() and _INVISIBLE.search(text) is None


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """`text` with every invisible or control character (and the backslash, so the escapes are unambiguous)
    written as an escape: `5203\\x1b[31m.csv`, `5203012001\\u200b.csv`, `desa\\xff.csv`. Longer results are
    cut at `limit` characters with `…`."""
    if is_plain(text) and "\\" not in text:
        out = text
    else:
        out = "".join(_escape(char) if char == "\\" or _hidden(char) else char for char in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"
