"""How village operators write a name differently from Dukcapil: typos, old spellings, titles.

Variants and titles must not change who the name denotes: each candidate is kept only when
`pipelines.names.normalise_name` maps it back to the same normal form. Typos do change the name (one
keyboard slip), which is what the name tolerance is for.
Each function takes pre-drawn uniforms `u` so the caller's numpy stream decides everything.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.names import normalise_name

_KEYBOARD = (
    "QWERTYUIOP",
    "ASDFGHJKL",
    "ZXCVBNM",
)
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_KEYBOARD):
    for _c, _ch in enumerate(_row):
        near = [_row[i] for i in (_c - 1, _c + 1) if 0 <= i < len(_row)]
        for other in (_r - 1, _r + 1):
            if 0 <= other < len(_KEYBOARD):
                near += [_KEYBOARD[other][i] for i in (_c - 1, _c) if 0 <= i < len(_KEYBOARD[other])]
        _NEIGHBOURS[_ch] = "".join(sorted(set(near)))
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _pick(options: Sequence[str], u: float) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]


def typo(name: str, u: Sequence[float]) -> str:
    """One slip: a neighbouring key, a dropped or doubled letter, or two letters swapped.

    Only words of three letters or more are touched, so `I`, `NI` or `M` never vanish.
    """
    positions = []
    start = 0
    for word in name.split(" "):
        if len(word) >= 3 and word.isalpha():
            positions.extend(range(start, start + len(word)))
        start += len(word) + 1
    if not positions:
        return name
    at = positions[min(int(u[1] * len(positions)), len(positions) - 1)]
    ch = name[at]
    can_swap = at + 1 < len(name) and name[at + 1].isalpha() and name[at + 1] != ch
    if u[0] < 0.45 or (u[0] >= 0.75 and not can_swap):
        return name[:at] + _pick(_NEIGHBOURS.get(ch, _ALPHABET.replace(ch, "")), u[2]) + name[at + 1 :]
    if u[0] < 0.60:
        return name[:at] + name[at + 1 :]
    if u[0] < 0.75:
        return name[:at] + ch + name[at:]  # doubled letter
    return name[:at] + name[at + 1] + ch + name[at + 2 :]


_MUHAMMAD_WRITTEN = ("MOH.", "MUH.", "M.", "MOCH.", "MOCHAMAD", "MUHAMMAD", "MUHAMAD", "MOHAMMAD", "MOHD.")
_MUHAMMAD_DUKCAPIL = frozenset({"MUHAMMAD", "MUHAMAD", "MOHAMMAD", "MOHAMAD", "MUH"})


def _old_spelling(name: str) -> str:
    # Order matters: J before SY/NY (else SDJ, NDJ), C before KH (else TJH).
    out = name.replace("U", "OE").replace("J", "DJ").replace("C", "TJ").replace("KH", "CH").replace("SY", "SJ")
    return " ".join("NJ" + w[2:] if w.startswith("NY") else w for w in out.split(" "))


def _one_old_spelling(name: str, u: float) -> str:
    rules = [(a, b) for a, b in (("U", "OE"), ("J", "DJ"), ("C", "TJ"), ("KH", "CH"), ("SY", "SJ")) if a in name]
    if not rules:
        return name
    old, new = rules[min(int(u * len(rules)), len(rules) - 1)]
    return name.replace(old, new)


def _muhammad(name: str, u: float) -> str:
    words = name.split(" ")
    for i, w in enumerate(words):
        if w in _MUHAMMAD_DUKCAPIL:
            words[i] = _pick([m for m in _MUHAMMAD_WRITTEN if m != w], u)
            return " ".join(words)
    return name


def _abdul(name: str, u: float) -> str:
    words = name.split(" ")
    for i, w in enumerate(words):
        if w == "ABDUL":
            words[i] = "ABD." if u < 0.7 else "ABDOEL"
            return " ".join(words)
        if w == "ABD":
            words[i] = "ABDUL"
            return " ".join(words)
    return name


def variant(name: str, u: Sequence[float]) -> str | None:
    """Another spelling of the same name, or None when this name has none.

    Old (pre-1972) spellings, the Muhammad forms (MOH., MUH., M., ...) and Abdul (ABD.), chosen at random
    among those that apply and that normalise back to the same name.
    """
    candidates = [
        _muhammad(name, u[1]),
        _abdul(name, u[1]),
        _old_spelling(name),
        _one_old_spelling(name, u[1]),
    ]
    target = normalise_name(name)
    usable = [c for c in candidates if c != name and normalise_name(c) == target]
    if not usable:
        return None
    return _pick(usable, u[0])


def title(name: str, female: bool, age: int, lombok: bool, u: Sequence[float]) -> str | None:
    """The name with a religious title or an academic degree, or None when none fits this person."""
    before: list[str] = []
    after: list[str] = []
    if age >= 35:
        before.append("HJ." if female else "H.")
    if age >= 40:
        before.append("DRA." if female else "DRS.")
        if lombok and not female:
            before.append("TGH.")
    if age >= 23:
        after += [", S.Pd", ", S.Ag", ", S.E"] + ([", A.Md.Keb", ", S.Kep"] if female else [", S.H", ", S.Pd.I"])
    options = [f"{t} {name}" for t in before] + [name + d for d in after]
    target = normalise_name(name)
    usable = [o for o in options if normalise_name(o) == target]
    return _pick(usable, u[0]) if usable else None


def has_variant(names: Sequence[str]) -> list[bool]:
    """Cheap pre-check: does the name contain anything `variant` could change?"""
    return [("U" in n or "J" in n or "C" in n or "KH" in n or "SY" in n or "ABD" in n) for n in names]
