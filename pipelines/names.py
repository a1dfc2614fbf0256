"""Indonesian person names: one normal form, so that spelling habits do not look like different people.

What is removed or unified, and why:
- titles and honorifics (H., Hj., Drs., TGH., Ust.) and academic degrees (S.Pd, S.Ag, A.Md): a village
  operator writes them, Dukcapil usually does not;
- pre-1972 spellings (oe->u, dj->j, tj->c, ch->kh, sj->sy, nj->ny): both survive on family cards;
- the Muhammad and Abdul families (Moh., Muh., M., Mochammad, Abd.): abbreviated at will;
- case, accents, punctuation and spacing.
Each distinct name is normalised once, so a column of a million names costs the work of its distinct values.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA
from rapidfuzz.process import cpdist

# Titles that only mean something before the name (religious, professional, forms of address).
_PREFIX_TITLES = frozenset(
    [
        "H",
        "HJ",
        "HJH",
        "HAJI",
        "HAJJAH",
        "HAJAH",
        "KH",
        "KYAI",
        "TGH",
        "TG",
        "TUAN",
        "GURU",
        "UST",
        "USTAD",
        "USTADZ",
        "USTADZAH",
        "DRS",
        "DRA",
        "DR",
        "IR",
        "PROF",
        "BPK",
        "BAPAK",
        "IBU",
        "SDR",
        "SDRI",
        "ALM",
        "ALMH",
        "ALMARHUM",
        "ALMARHUMAH",
        "RADEN",
        "RD",
    ]
)
# Academic degrees, written after the name, usually after a comma.
_DEGREES = frozenset(
    [
        "SPD",
        "SPDI",
        "SAG",
        "SE",
        "SH",
        "SHI",
        "ST",
        "SKM",
        "SKEP",
        "SIP",
        "SSOS",
        "SKOM",
        "SSI",
        "SSTP",
        "SPSI",
        "SFARM",
        "SKED",
        "STR",
        "SAK",
        "SHUT",
        "SPT",
        "SPI",
        "SSN",
        "MPD",
        "MM",
        "MSI",
        "MAG",
        "MH",
        "MT",
        "MKES",
        "LC",
        "AMD",
        "AMK",
        "AMKEB",
        "AMDKEB",
        "AMA",
        "AMAPD",
        "BA",
        "BSC",
        "MA",
    ]
)
# "S.Pd", "A.Md.Keb", "M.Si": degrees written with dots, matched before the dots are dropped.
_DOTTED_DEGREE = re.compile(r"\b([SMDA])\s?\.\s?([A-Z]{1,4})(?:\s?\.\s?([A-Z]{1,4}))?\b\.?")
_MUHAMMAD = frozenset(
    [
        "MUHAMMAD",
        "MUHAMAD",
        "MUHAMMED",
        "MUHAMED",
        "MOHAMMAD",
        "MOHAMAD",
        "MOHAMMED",
        "MOHAMED",
        "MOCHAMMAD",
        "MOCHAMAD",
        "MOCHAMED",
        "MOCH",
        "MOKHAMAD",
        "MOKHAMMAD",
        "MUCHAMMAD",
        "MUCHAMAD",
        "MUCH",
        "MOH",
        "MOHD",
        "MUH",
        "MUHD",
        "MHD",
        "MHMD",
        "MOHAMAT",
        "MUHAMAT",
        "M",
    ]
)
_ABDUL = frozenset(["ABDUL", "ABDOEL", "ABDUL", "ABD", "ABDU"])
# Old (van Ophuijsen / Soewandi) spellings to EYD, applied in this order.
_OLD_SPELLINGS = (("OE", "U"), ("DJ", "J"), ("TJ", "C"), ("SJ", "SY"), ("CH", "KH"))
_OLD_NJ = re.compile(r"\bNJ")
_NON_LETTER = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")


def _drop_degree(match: re.Match[str]) -> str:
    """Removes `S.Pd` but keeps `M. Ali`: only known degrees go."""
    return " " if "".join(g or "" for g in match.groups()) in _DEGREES else match.group(0)


_CLEAN = re.compile(r"[A-Z]+(?: [A-Z]+)*")
_SPECIAL_TOKENS = _PREFIX_TITLES | _DEGREES | _MUHAMMAD | _ABDUL


def _already_normal(raw: str) -> bool:
    """Most Dukcapil names are upper-case words in modern spelling: nothing to do (the common case, cheap)."""
    if not _CLEAN.fullmatch(raw) or any(old in raw for old, _ in _OLD_SPELLINGS) or "NJ" in raw:
        return False
    return not any(token in _SPECIAL_TOKENS for token in raw.split(" "))


@lru_cache(maxsize=1_000_000)
def normalise_name(raw: str | None) -> str:
    """The normal form of one name: `Hj. Siti Aminah, S.Pd` -> `SITI AMINAH`; `Moh. Djoko` -> `MUHAMMAD JOKO`."""
    if raw is None or raw != raw:  # None or NaN
        return ""
    if isinstance(raw, str) and _already_normal(raw):
        return raw
    text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode().upper()
    text = text.split(",", 1)[0] if "," in text else text  # what follows a comma is a degree
    text = _DOTTED_DEGREE.sub(_drop_degree, text) if "." in text else text
    tokens = _NON_LETTER.sub(" ", text).split()
    while len(tokens) > 1 and tokens[0] in _PREFIX_TITLES:
        tokens = tokens[1:]
    if len(tokens) > 1:
        tokens = [tokens[0]] + [t for t in tokens[1:] if t not in _DEGREES]
    out = []
    for token in tokens:
        if token in _MUHAMMAD:
            out.append("MUHAMMAD")
        elif token in _ABDUL:
            out.append("ABDUL")
        else:
            for old, new in _OLD_SPELLINGS:
                token = token.replace(old, new)
            out.append(_OLD_NJ.sub("NY", token))
    return _SPACES.sub(" ", " ".join(out)).strip()


def normalise_names(values: pd.Series) -> pd.Series:
    """`normalise_name` over a column, computed once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normal = np.array([normalise_name(u) for u in uniques] + [""], dtype=object)
    return pd.Series(normal[codes], index=values.index, dtype=object)


def allowed_edits(longest: np.ndarray) -> np.ndarray:
    """Edits allowed between two normalised names, by the longer one's length, before they disagree."""
    return np.where(longest < 12, 1, 2)


def names_agree(a: pd.Series, b: pd.Series) -> pd.Series:
    """Whether two columns of normalised names agree within tolerance, row by row.

    Agreement: equal, the same words in another order, or at most `name_tolerance` edits apart (optimal
    string alignment, so a swapped pair of letters is one edit). Spelling variants are already gone.
    This is the tolerance behind IDENTITAS_TIDAK_SESUAI.
    """
    left = a.fillna("").astype(str).to_numpy()
    right = b.fillna("").astype(str).to_numpy()
    if len(left) == 0:
        return pd.Series([], dtype=bool, index=a.index)
    distance = cpdist(left, right, scorer=OSA.distance, workers=1)
    longest = np.maximum(np.char.str_len(left.astype(str)), np.char.str_len(right.astype(str)))
    close = (distance <= allowed_edits(longest)) & (longest > 0)
    reordered = np.array([sorted(x.split()) == sorted(y.split()) for x, y in zip(left, right, strict=True)])
    return pd.Series(close | (reordered & (longest > 0)), index=a.index)


def distinct_words_agree(a: str, b: str) -> bool:
    """Whether two normalised names still agree once the words they share are set aside.

    Twins share a family card, a birth date, a mother and often a first name (MUHAMMAD HASAN, MUHAMMAD
    HUSEN): on the whole name two letters differ, within the tolerance of a long name, yet the words that
    tell them apart disagree. So the words left after removing the shared ones must agree within the
    tolerance of *their* length; nothing left on one side (a name inside the other) agrees.
    """
    left, right = a.split(), b.split()
    for word in list(left):
        if word in right:
            left.remove(word)
            right.remove(word)
    if not left or not right:
        return True
    x, y = " ".join(left), " ".join(right)
    return OSA.distance(x, y) <= int(allowed_edits(np.array(max(len(x), len(y)))))
