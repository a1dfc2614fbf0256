"""Masking of personal data (UU PDP No. 27/2022) before anything reaches a log, an error, a lineage event
or a masked `dtks trace`.

Two tools, for two kinds of text:

- `mask_text`, for text whose shape nobody controls (log lines, exception messages, tracebacks), masks
  what is recognisable by its form: 16-digit identifiers (NIK, KK) however they are written (plain,
  grouped with spaces, dots, dashes or commas, in Excel's exponent form, after an apostrophe),
  Indonesian mobile numbers, and dates that stand next to an identifier or after a birth or death word.
  Names and addresses have no form of their own: they are masked under a key (`nama='...'`, a printed
  row) or in a finding's `(usulan: ...; Dukcapil: ...)` group, and otherwise kept out of messages by
  construction.
- `mask_field`, for a value whose field name is known: masked by the field's kind (identifier, name,
  date), and masked completely when the field is not known to be safe. `mask_detail` does the same for
  the `field (usulan: value; Dukcapil: value)` parts of a finding's detail.

NIK and KK are masked as `3201********0001` (first four and last four digits kept), names keep their
initials, dates keep nothing. The warehouse and the Dinsos reports hold the real values: they are the
data controller's own records; logs, lineage and tickets are not. docs/audit.md lists the limits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pipelines.contract import (
    ALASAN_NONAKTIF,
    ALASAN_TIDAK_LAYAK,
    HUBUNGAN_KELUARGA,
    INELIGIBLE_OCCUPATIONS,
    PROGRAMS,
    STATUS_USULAN,
)

MASKED = "***"

# --- Free text ---------------------------------------------------------------------------------------

# One character between two digit groups of an identifier: spaces (also non-breaking and thin), dots,
# commas (Excel's thousands grouping) and dashes (also the Unicode ones and the minus sign).
_SEP = r"[ \u00a0\u2007\u2009\u202f.,\-\u2010-\u2015\u2212]"
_HEX = "0-9a-fA-F"
_DATE = r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)"

# Tokens that look like numbers but are known not to be personal: set aside before anything is masked,
# so that no digit run can start or end inside one.
_KEEP = re.compile(
    # Each pattern starts with a lookahead on its first character: the regex engine then skips other
    # positions quickly (these run on every log line).
    rf"(?=[0-9a-fA-FP])(?:(?<![0-9A-Za-z])[{_HEX}]{{8}}(?:-[{_HEX}]{{4}}){{3}}-[{_HEX}]{{12}}(?![0-9A-Za-z])"  # UUID
    rf"|(?<![0-9A-Za-z])(?=\d*[a-fA-F])[{_HEX}]{{32,}}(?![0-9A-Za-z])"  # SHA-256, MD5, git commit
    r"|(?<![0-9A-Za-z])P[0-9A-F]{19}(?![0-9A-Za-z]))"  # person_key, a pseudonym
)
_PATTERN = re.compile(
    r"(?=[\d+])(?:"
    # A date, with its time of day if any; not the start of a longer digit run (`3201.01.15.0895.0001`),
    # unless that run is another date (`2026-07-01 2026-09-30`).
    rf"(?<!\d)(?P<date>{_DATE})(?:(?P<time>{_TIME})(?!\d)|(?!\d)(?!{_SEP}\d)|(?={_SEP}{_DATE}(?!\d)))"
    # Excel's exponent form of a 16-digit number (1e15 <= n < 1e16), with `.` or `,` as decimal mark.
    r"|(?<!\d)(?<!\d[.,])(?P<exp>\d(?:[.,]\d+)?)(?P<exponent>[eE]\+?0?15)(?!\d)"
    # A run of 15 to 17 digits (a NIK or KK, or one with a digit missing or doubled); not the fraction of
    # a decimal number like 0.1234567890123456.
    r"|(?<!\d)(?<!\d\.)(?P<plain>\d{15,17})(?!\d)"
    r"|(?<![\d+])(?P<phone>(?:\+62|62|0)[ \-]?8\d{1,3}(?:[ .\-]?\d{2,5}){1,3})(?!\d)"
    # Digit groups of up to 8 joined by single separators: `3201 0115 0895 0001`, `320101 150895 0001`.
    rf"|(?<!\d)(?P<run>\d{{1,8}}(?!\d)(?:{_SEP}\d{{1,8}}(?!\d))+))"
)
_GROUP = re.compile(r"\d+")
# Words after which a date is a birth or death date, whatever else the text holds.
_BIRTH_WORD = re.compile(r"(?i)(?=[lbdmw])(?<![a-z])(?:lahir|lhr|birth|dob|meninggal|mati|wafat)")
_BIRTH_DISTANCE = 30


def _mask_digits(digits: str) -> str:
    return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


def _mask_run(run: str) -> str:
    """Masks every stretch of consecutive groups that holds exactly 16 digits; the rest stays readable
    (`baris 12 3201 0115 0895 0001` keeps its 12)."""
    groups = list(_GROUP.finditer(run))
    sizes = [len(g.group()) for g in groups]
    covered = [False] * len(groups)
    for i in range(len(groups)):
        total = 0
        for j in range(i, len(groups)):
            total += sizes[j]
            if total >= 16:
                if total == 16 and j > i:
                    covered[i : j + 1] = [True] * (j + 1 - i)
                break
    if not any(covered):
        return run
    out, pos, i = [], 0, 0
    while i < len(groups):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(groups) and covered[j + 1]:
            j += 1
        out += [run[pos : groups[i].start()], _mask_digits("".join(g.group() for g in groups[i : j + 1]))]
        pos, i = groups[j].end(), j + 1
    return "".join([*out, run[pos:]])


def _mask_phone(phone: str) -> str | None:
    """An Indonesian mobile number (`08xx` 10-13 digits, `(+)628xx` 11-14), or None when it is not one."""
    digits = "".join(_GROUP.findall(phone))
    low, high = (10, 13) if digits.startswith("0") else (11, 14)
    if not low <= len(digits) <= high:
        return None
    plus = "+" if phone.startswith("+") else ""
    return f"{plus}{digits[:4]}{'*' * (len(digits) - 6)}{digits[-2:]}"


def _mask_exponent(mantissa: str, exponent: str) -> str:
    return mantissa[:5] + "*" * max(0, len(mantissa) - 5) + exponent


def mask_date(value: object) -> str:
    """`1995-08-15` -> `****-**-**`: the shape stays, the date goes."""
    text = "" if value is None else str(value)
    return re.sub(r"\d", "*", text) if text.strip() else "(kosong)"


def mask_text(text: str, *, all_dates: bool = False) -> str:
    """Masks identifiers, phone numbers and personal dates in free text (a NIK or KK that slipped into a
    message, a log line or a traceback). Dates are masked when the text also held an identifier, when a
    birth or death word comes shortly before them, or always with `all_dates`; a date with a time of day
    (a timestamp) only with `all_dates`."""
    if not text:
        return text
    text = _mask_pairs(_mask_labelled(text, bracketed_only=True))
    found = False

    def identifiers(m: re.Match[str]) -> str:
        nonlocal found
        if m["plain"]:
            masked = _mask_digits(m["plain"])
        elif m["exp"]:
            masked = _mask_exponent(m["exp"], m["exponent"])
        elif m["phone"]:
            masked = _mask_phone(m["phone"]) or _mask_run(m["phone"])  # `6280 0000 0000 0000` is a NIK
        elif m["run"]:
            masked = _mask_run(m["run"])
        else:
            return m.group()
        found = found or masked != m.group()
        return masked

    text = _outside_kept(identifiers, text)
    if not (found or all_dates or _BIRTH_WORD.search(text)):
        return text

    def dates(m: re.Match[str]) -> str:
        if not m["date"]:
            return m.group()
        if m["time"] and not all_dates:
            return m.group()
        near_word = _BIRTH_WORD.search(text, max(0, m.start() - _BIRTH_DISTANCE), m.start())
        return mask_date(m.group()) if (all_dates or found or near_word) else m.group()

    return _outside_kept(dates, text)


def _outside_kept(replace: Callable[[re.Match[str]], str], text: str) -> str:
    """`_PATTERN.sub(replace, text)` on the stretches between the tokens `_KEEP` sets aside (a match can
    neither start nor end inside one); matches keep their positions in the whole text."""
    out, pos = [], 0
    for kept in [*_KEEP.finditer(text), None]:
        end = kept.start() if kept else len(text)
        for m in _PATTERN.finditer(text, pos, end):
            out += [text[pos : m.start()], replace(m)]
            pos = m.end()
        out.append(text[pos:end])
        if kept:
            out.append(kept.group())
            pos = kept.end()
    return "".join(out)


# --- Values whose field is known ---------------------------------------------------------------------

ID, NAME, DATE, SECRET, CODE, SAFE, TEXT = "id", "name", "date", "secret", "code", "safe", "text"

_FIELD_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "nik",
            "no_kk",
            "nomor_kk",
            "no_kartu_keluarga",
            "nomor_kartu_keluarga",
            "nik_dukcapil",
            "nik_kandidat",
            "candidate_nik",
            "suggested_value",
            "id_dtks",
        ),
        ID,
    ),
    **dict.fromkeys(
        ("nama", "nama_ibu_kandung", "nama_lgkp", "nama_lgkp_ibu", "nama_lengkap", "nama_ibu", "nama_lgkp_ayah"),
        NAME,
    ),
    **dict.fromkeys(("tanggal_lahir", "tgl_lahir", "tgl_lhr", "tgl_mati", "tanggal_meninggal"), DATE),
    **dict.fromkeys(
        ("tempat_lahir", "tmpt_lhr", "alamat", "rt", "rw", "no_rt", "no_rw", "dusun", "no_hp", "telepon", "email"),
        SECRET,
    ),
    # Typed by an operator: shown when the value is one the contract knows, masked otherwise.
    **dict.fromkeys(
        (
            "kode_desa",
            "kode_kab",
            "no_prop",
            "no_kab",
            "no_kec",
            "no_kel",
            "jenis_kelamin",
            "jenis_klmin",
            "hubungan_keluarga",
            "stat_hbkel",
            "status_usulan",
            "alasan_nonaktif",
            "program",
            "pekerjaan",
            "jenis_pkrjn",
        ),
        CODE,
    ),
    # Sentences the pipeline writes, quoting values: `mask_detail`.
    **dict.fromkeys(("detail", "message"), TEXT),
    # Made by the pipeline itself: codes, counts, references and pseudonyms.
    **dict.fromkeys(
        (
            "run_id",
            "quarter",
            "source_file",
            "source_row",
            "source_file_a",
            "source_row_a",
            "source_file_b",
            "source_row_b",
            "outcome",
            "person_key",
            "status_padan",
            "status_dtks",
            "match_probability",
            "match_weight",
            "merged_into_file",
            "merged_into_row",
            "category",
            "categories",
            "expectation",
            "field",
            "action",
            "rank",
            "method",
            "chosen",
            "accepted",
            "levels",
            "weights",
            "candidate_source_file",
            "candidate_source_row",
            "basis",
            "survivor",
            "survivor_rule",
            "jumlah_baris",
            "domisili",
        ),
        SAFE,
    ),
}


def _one_of(values: tuple[str, ...]) -> Callable[[str], bool]:
    known = frozenset(values)
    return lambda v: v.upper() in known


_CODE_IS_KNOWN: dict[str, Callable[[str], bool]] = {
    **dict.fromkeys(
        ("kode_desa", "kode_kab", "no_prop", "no_kab", "no_kec", "no_kel"),
        lambda v: re.fullmatch(r"\d{2}(?:\.?\d{2}(?:\.?\d{2}(?:\.?\d{4})?)?)?", v) is not None,
    ),
    **dict.fromkeys(("jenis_kelamin", "jenis_klmin"), _one_of(("L", "P", "LAKI-LAKI", "PEREMPUAN", "1", "2"))),
    **dict.fromkeys(("hubungan_keluarga", "stat_hbkel"), _one_of(HUBUNGAN_KELUARGA)),
    "status_usulan": _one_of(STATUS_USULAN),
    "alasan_nonaktif": _one_of((*ALASAN_NONAKTIF, ALASAN_TIDAK_LAYAK)),
    "program": lambda v: all(p.strip().upper() in PROGRAMS for p in re.split(r"[;,]", v) if p.strip()),
    **dict.fromkeys(("pekerjaan", "jenis_pkrjn"), _one_of(INELIGIBLE_OCCUPATIONS)),
}


def field_key(name: object) -> str:
    """`No. KK`, `NO_KK`, ` no kk ` -> `no_kk`."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def field_kind(name: object) -> str:
    """The kind of a field by its name; a header nobody declared is guessed from its words, and is SECRET
    when they say nothing (an operator's column can hold anything)."""
    key = field_key(name)
    if key in _FIELD_KINDS:
        return _FIELD_KINDS[key]
    words = set(key.split("_"))
    if words & {"nik", "kk", "nkk"} or {"kartu", "keluarga"} <= words:
        return ID
    if words & {"nama", "name"}:
        return NAME
    if words & {"tgl", "tanggal", "date"}:
        return DATE
    return SECRET


def is_declared(name: object) -> bool:
    """Whether the field name is one the contract or the warehouse declares (an operator's own header,
    or a header that is really a person's data, is not)."""
    return field_key(name) in _FIELD_KINDS


_MASKED_ID = re.compile(r"\d{4}\*{7,9}\d{4}")


def mask_id(value: object) -> str:
    """`3201011508950001` -> `3201********0001`; anything not 16 digits keeps only its length."""
    text = "" if value is None else str(value).strip()
    if len(text) == 16 and text.isdigit():
        return f"{text[:4]}********{text[-4:]}"
    if _MASKED_ID.fullmatch(text):
        return text  # masked already (a log event passes the task process, then the supervisor)
    if not text:
        return "(kosong)"
    return re.sub(r"\d", "*", text) if len(text) <= 4 else f"{text[:2]}{'*' * (len(text) - 2)}"


def mask_name(value: object) -> str:
    """`SITI AMINAH` -> `S*** A*****`."""
    text = "" if value is None else str(value).strip()
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in text.split()) or "(kosong)"


def mask_value(kind: str, value: Any, field: object = "") -> Any:
    """A value masked as its kind says: None and "" stay as they are, SAFE values keep their type."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return value
    if kind == SAFE:
        return mask_text(value) if isinstance(value, str) else value
    if kind == ID:
        return mask_id(value)
    if kind == NAME:
        return mask_name(value)
    if kind == DATE:
        return mask_date(value)
    if kind == TEXT:
        return mask_detail(value)
    if kind == CODE:
        text = str(value).strip()
        known = _CODE_IS_KNOWN.get(field_key(field))
        return text if known is not None and known(text) else MASKED
    return MASKED


def mask_field(name: object, value: Any) -> Any:
    return mask_value(field_kind(name), value, name)


def mask_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A row of a warehouse table with every field masked by its kind (unknown columns completely)."""
    return {k: mask_field(k, v) for k, v in record.items()}


def mask_fields(fields: Mapping[str, Any], *, positions: bool = False) -> dict[str, Any]:
    """A row as an operator typed it (the input row, `quarantine.raw_fields`): values masked by the kind
    of their column, and a column whose header is not a declared name renamed `kolom N` (its position,
    with `positions`) or `kolom lain N`, since a header can itself be a person's data (a file without a
    header row)."""
    out: dict[str, Any] = {}
    unknown = 0
    for i, (name, value) in enumerate(fields.items(), start=1):
        if is_declared(name):
            key = field_key(name)
        else:
            unknown += 1
            key = f"kolom {i}" if positions else f"kolom lain {unknown}"
        out[key if key not in out else f"{key} (kolom {i})"] = mask_field(name, value)
    return out


# --- Details of findings and validation messages -----------------------------------------------------

_LABEL = re.compile(r"(?=[uDNK])\b(?:usulan|Dukcapil|NIK|KK)\s*:\s*")
_WORD = re.compile(r"[A-Za-z_]+")


def _value_end(text: str, start: int) -> int:
    """Where a labelled value ends: at `; <label>:`, at the `)` that closes its brackets, or at the end."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return i
            depth -= 1
        elif ch == ";" and depth == 0 and _LABEL.match(text, len(text) - len(text[i + 1 :].lstrip())):
            return i
    return len(text.rstrip(". "))


def _field_of(text: str, label_start: int) -> str:
    """The field a labelled value belongs to: the word before the `(` that encloses it
    (`nama (usulan: ...)`), or, outside brackets, the first word of its sentence (`Pekerjaan menurut
    Dukcapil: ...`)."""
    depth = 0
    for i in range(label_start - 1, -1, -1):
        ch = text[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                words = _WORD.findall(text[:i])
                two = "_".join(words[-2:])  # a field in words: `tanggal lahir (usulan: ...)`
                return two if len(words) > 1 and is_declared(two) else (words[-1] if words else "")
            depth -= 1
    sentence = re.split(r"[.;:]\s", text[:label_start])[-1]
    words = _WORD.findall(sentence)
    return words[0] if words else ""


def _mask_labelled(text: str, *, bracketed_only: bool) -> str:
    """Every `label: value` (labels `usulan`, `Dukcapil`, `NIK`, `KK`) masked by the kind of the field it
    belongs to; a field nobody declared masks its value whole. `bracketed_only`: only the values of a
    `field (label: value; label: value)` group, as findings write them."""
    out, pos = [], 0
    for m in _LABEL.finditer(text):
        if m.start() < pos:
            continue  # a label inside a value already masked
        if bracketed_only and not re.search(r"(?:\(|;)\s*$", text[: m.start()]):
            continue
        end = _value_end(text, m.end())
        value = text[m.end() : end]
        if _LABEL.search(text, m.end(), end) or "*" in value:
            continue  # labels inside (`di NIK: tanggal_lahir (NIK: ...)`) are the values' own; or masked
        field = _field_of(text, m.start())
        kind = field_kind(field)
        if kind == SAFE:
            masked = value
        elif kind == CODE:
            masked = mask_value(kind, value, field)
        else:
            masked = mask_value(kind, value) if is_declared(field) else MASKED
        out += [text[pos : m.end()], masked]
        pos = end
    out.append(text[pos:])
    return "".join(out)


# `nama='SITI AMINAH'`, `"alamat": "JL. MAWAR"`, `nama=SITI AMINAH`: a log event's bound value or a
# printed dict. Identifiers and dates need no key, their form gives them away.
_PAIR_KEYS = sorted(
    [k for k, kind in _FIELD_KINDS.items() if kind == NAME] + ["alamat", "tempat_lahir", "tmpt_lhr"],
    key=len,
    reverse=True,
)
_PAIR = re.compile(
    rf"(?i)(?=['\"nat])(?<![\w])(?P<kq>['\"]?)(?P<key>{'|'.join(_PAIR_KEYS)})(?P=kq)\s*[=:]\s*"
    r"(?:'(?P<single>[^'\n]*)'|\"(?P<double>[^\"\n]*)\"|(?P<bare>(?:(?!\s+\w+\s*=)[A-Za-z .'\-])+)(?=\s|$|[,;)\]}]))"
)


def _mask_pairs(text: str) -> str:
    def masked(m: re.Match[str]) -> str:
        value = next(v for v in (m["single"], m["double"], m["bare"]) if v is not None)
        if "*" in value or not value.strip():
            return m.group()
        kind = field_kind(m["key"])
        hidden = mask_name(value) if kind == NAME else MASKED
        start, end = m.span("single" if m["single"] is not None else "double" if m["double"] is not None else "bare")
        bare = m["bare"] is not None
        tail = value[len(value.rstrip()) :] if bare else ""
        return m.group()[: start - m.start()] + hidden + tail + m.group()[end - m.start() :]

    return _PAIR.sub(masked, text)


def mask_detail(text: object) -> Any:
    """A finding's detail or a validation message, masked: every `label: value` (labels `usulan`,
    `Dukcapil`, `NIK`, `KK`) by the kind of the field it belongs to, then identifiers and all dates."""
    if not isinstance(text, str) or not text:
        return text
    return mask_text(_mask_labelled(text, bracketed_only=False), all_dates=True)


def mask_keyed(key: object, value: Any) -> Any:
    """A value under a key (a log event's field, a JSON object's member): masked by the key's kind when
    the key declares personal data (`nik=...`), through `mask_structure` otherwise."""
    if isinstance(value, str | int) and _FIELD_KINDS.get(field_key(key)) in (ID, NAME, DATE):
        return mask_field(key, value)
    return mask_structure(value)  # a container under such a key (`{"nik": [levels]}`) is not a value


def mask_structure(value: Any) -> Any:
    """Strings anywhere inside dicts, lists and tuples through `mask_text`, members of dicts through
    `mask_keyed`; integers of 15 to 17 digits and exceptions' texts are masked too."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {(mask_text(k) if isinstance(k, str) else k): mask_keyed(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_structure(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and 15 <= len(str(abs(value))) <= 17:
        return mask_text(str(value))
    if isinstance(value, BaseException):
        return mask_text(f"{type(value).__name__}: {value}")
    return value
