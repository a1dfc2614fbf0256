"""The generator's knobs: population shape (`SynthConfig`) and submission error rates (`ErrorRates`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pipelines import regions


@dataclass(frozen=True)
class ErrorRates:
    """Share of submitted rows that receive each error kind (0..1).

    A row carries at most one NIK error, one birth-date error and one name typo (titles and old spellings
    may come on top), so every row stays linkable in principle. Kinds that need a precondition (a swap
    needs day <= 12, a head's NIK needs a member row) are drawn among the rows that qualify, scaled so the
    realised share still matches the rate where enough rows qualify. `two_errors` gives rows an identity
    error (NIK or name) and a birth-date error at once, on top of the rows that get both by chance; those
    rows count towards both kinds too.
    """

    name_typo: float = 0.03
    name_variant: float = 0.04
    title: float = 0.02
    placeholder_dob: float = 0.02
    dob_swap: float = 0.01
    # A birth year typed into the future, or more than 120 years back: readable but implausible. On
    # held-out data 8 of 31,114 rows had a year typed one too high.
    dob_future: float = 0.0003
    dob_too_old: float = 0.0002
    nik_typo: float = 0.02
    nik_transposition: float = 0.01
    nik_missing: float = 0.02
    kk_as_nik: float = 0.005
    head_nik_to_member: float = 0.005
    stale_kk: float = 0.03
    duplicate_same_village: float = 0.01
    duplicate_other_village: float = 0.005
    unparseable: float = 0.003
    missing_required: float = 0.003
    two_errors: float = 0.002
    # The same person submitted by a village of another kabupaten/kota too (a province's quarter only).
    duplicate_other_kabupaten: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"rate {f.name} must be between 0 and 1, got {value!r}")
        nik_total = self.nik_typo + self.nik_transposition + self.nik_missing + self.kk_as_nik
        if nik_total + self.head_nik_to_member > 1.0:
            raise ValueError("the NIK error rates together must not exceed 1")
        birth_total = self.placeholder_dob + self.dob_swap + self.dob_future + self.dob_too_old
        if birth_total > 1.0 or self.unparseable + self.missing_required > 1.0:
            raise ValueError("exclusive error rates (birth date; quarantine) must not exceed 1 together")

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        """Every error kind, in declaration order (the names `--rate name=value` accepts)."""
        return tuple(f.name for f in fields(cls))


ERROR_KINDS = ErrorRates.kinds()


@dataclass(frozen=True)
class SynthConfig:
    """One synthetic quarter: Dukcapil population, village submissions, and their errors."""

    kab_codes: tuple[str, ...] = ("5203",)
    persons: int = 100_000  # Dukcapil persons in total, split evenly over the kabupaten
    submitted_share: float = 0.35  # share of Dukcapil persons whose family is submitted
    unknown_share: float = 0.01  # share of submission rows whose person is absent from Dukcapil
    deceased_rate: float = 0.015  # share of Dukcapil persons with TGL_MATI (older people more often)
    ineligible_rate: float = 0.02  # share of adults with an ineligible occupation (contract 1.2)
    moved_family_rate: float = 0.01  # share of families living in another village than the one submitting
    # Share of each kabupaten's families that moved there from another kabupaten/kota whose village still
    # submits them (a province's quarter only), and the share of those whose Dukcapil domicile is still
    # the submitting village (listed by the new kabupaten's extract, address not yet changed).
    moved_kabupaten_rate: float = 0.0
    moved_kabupaten_same_domicile: float = 0.2
    xlsx_share: float = 0.25  # share of village files written as XLSX
    seed: int = 20260701
    rates: ErrorRates = field(default_factory=ErrorRates)

    def __post_init__(self) -> None:
        if isinstance(self.kab_codes, str):
            object.__setattr__(self, "kab_codes", (self.kab_codes,))
        object.__setattr__(self, "kab_codes", tuple(regions.undot(k) for k in self.kab_codes))
        if not self.kab_codes or len(set(self.kab_codes)) != len(self.kab_codes):
            raise ValueError("kab_codes must name at least one kabupaten/kota, each once")
        for kab in self.kab_codes:
            if not regions.is_kabupaten(kab):
                raise ValueError(f"{kab!r} is not a current Kemendagri kabupaten/kota code")
        if self.persons < 10 * len(self.kab_codes):
            raise ValueError("persons must be at least 10 per kabupaten/kota")
        for name in (
            "submitted_share",
            "unknown_share",
            "deceased_rate",
            "ineligible_rate",
            "moved_family_rate",
            "moved_kabupaten_rate",
            "moved_kabupaten_same_domicile",
            "xlsx_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if self.unknown_share >= 0.5:
            raise ValueError("unknown_share must stay below 0.5")
        if self.seed < 0:
            raise ValueError("seed must be a non-negative integer")

    def with_rates(self, **overrides: float) -> SynthConfig:
        """A copy with some error rates replaced: `config.with_rates(name_typo=0.05)`."""
        unknown = sorted(set(overrides) - set(ERROR_KINDS))
        if unknown:
            raise ValueError(f"unknown error kind(s) {unknown}; known: {', '.join(ERROR_KINDS)}")
        return replace(self, rates=replace(self.rates, **{k: float(v) for k, v in overrides.items()}))

    def with_options(self, **overrides: Any) -> SynthConfig:
        """A copy with some top-level options replaced (`persons`, `seed`, ...)."""
        return replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kab_codes"] = list(self.kab_codes)
        return out
