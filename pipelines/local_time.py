"""Indonesia's three time zones by province, and a moment written as an officer reads it.

Source: Keputusan Presiden No. 41 Tahun 1987 tentang Pembagian Wilayah Republik Indonesia menjadi 3 (Tiga)
Wilayah Waktu, with the provinces formed since assigned to the zone of the province they were split from
(Kepulauan Riau from Riau, Banten from Jawa Barat, Kepulauan Bangka Belitung from Sumatera Selatan,
Gorontalo from Sulawesi Utara, Sulawesi Barat from Sulawesi Selatan, Maluku Utara from Maluku, Kalimantan
Utara from Kalimantan Timur, the Papua provinces from Papua). Indonesia keeps no daylight saving time, so a
fixed offset per zone is exact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

WIB: Final = timezone(timedelta(hours=7), "WIB")
WITA: Final = timezone(timedelta(hours=8), "WITA")
WIT: Final = timezone(timedelta(hours=9), "WIT")

# Kemendagri province code -> zone. Declared by the first digit's island group, then the exceptions.
_WITA_PROVINCES: Final = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"})
_WIT_FIRST_DIGITS: Final = frozenset({"8", "9"})  # Maluku, Maluku Utara, the Papua provinces

_MONTHS: Final = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def zone_of(code: str) -> timezone:
    """The time zone of a province, kabupaten, kecamatan or desa code (dots allowed): `5203` -> WITA."""
    province = code.replace(".", "")[:2]
    if province in _WITA_PROVINCES:
        return WITA
    if province[:1] in _WIT_FIRST_DIGITS:
        return WIT
    return WIB


def parse_moment(value: str | datetime) -> datetime:
    """An ISO timestamp (a naive one is UTC, as the pipeline records it) as an aware datetime."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_text(value: str | datetime, zone: timezone) -> str:
    """`2026-10-01T02:03:04.512+00:00` in WITA -> `1 Oktober 2026 pukul 10.03 WITA`: the day, the
    minute and the zone, as an Indonesian letter writes them (no seconds, no microseconds)."""
    moment = parse_moment(value).astimezone(zone)
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year} pukul {moment:%H.%M} {zone.tzname(None)}"


def local_date(value: str | datetime, zone: timezone) -> str:
    """`2026-10-01T18:03:04+00:00` in WITA -> `2 Oktober 2026`: the day as the kabupaten lived it."""
    moment = parse_moment(value).astimezone(zone)
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def local_texts(value: str | datetime, codes: list[str]) -> str:
    """The moment in the zone of each region code, the zones in WIB, WITA, WIT order without repeats:
    `1 Oktober 2026 pukul 10.03 WITA (09.03 WIB)` for a run over kabupaten of two zones."""
    zones = sorted({zone_of(code) for code in codes} or {WIB}, key=lambda z: z.utcoffset(None))
    first, *others = zones
    text = local_text(value, first)
    if others:
        moment = parse_moment(value)
        text += " (" + ", ".join(f"{moment.astimezone(z):%H.%M} {z.tzname(None)}" for z in others) + ")"
    return text
