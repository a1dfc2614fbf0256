"""Run settings: what a provincial data team may tune, with defaults that follow the contract.

Settings come from, in increasing priority: the defaults below, a YAML file named by `DTKS_CONFIG`, and
the `config` object of the DAG run's conf. The effective settings are stored with every run.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.contract import INELIGIBLE_OCCUPATIONS

GATE_POLICIES = ("publish_others", "stop_quarter")


@dataclass(frozen=True)
class QualityGate:
    """Publication stops when more than these shares of rows are quarantined."""

    max_file_quarantine_share: float = 0.20
    max_quarter_quarantine_share: float = 0.05
    # A file with fewer rows than this is never judged on its own share (one bad row of three is noise).
    min_rows_for_file_share: int = 20
    # Rejected and unreadable files count against neither share above; more than this share of the
    # quarter's submission files being unusable stops publication on its own.
    max_rejected_file_share: float = 0.5
    # The shares are judged per kabupaten/kota. One that fails: `publish_others` (the others publish and it is
    # held back, named in the run record, the HTML summary and `dtks run`'s exit status 3) or `stop_quarter`
    # (nothing publishes). docs/intake.md, "The quality gate per kabupaten/kota", says why the default.
    policy: str = "publish_others"

    def __post_init__(self) -> None:
        if self.policy not in GATE_POLICIES:
            raise ValueError(
                f"Setting quality_gate.policy must be one of {', '.join(GATE_POLICIES)}, got {self.policy!r}."
            )


@dataclass(frozen=True)
class LandingLimits:
    """How much of a quarter's landing area is examined and read (docs/intake.md, "The landing area"): a
    hostile or broken tree (a million entries, a chain of folders, a folder of junk) must neither hang nor
    exhaust the run, and what is left out is said, never silently dropped."""

    # Folder levels below <landing>/<quarter>/ that are opened (submissions/<kode_kab>/ is level 2).
    max_depth: int = 6
    # Entries examined in all; past it the rest are only counted, and the run record says so. Expected
    # inputs (exact <kode_desa>.csv|xlsx of existing villages in their kabupaten folder, the extracts) are
    # examined first and always, so no amount of junk hides them.
    max_entries: int = 1_000_000
    # Files read as inputs (Indonesia has about 84,000 villages: a nationwide quarter fits).
    max_input_files: int = 100_000
    # Misplaced or odd-named files read only to be rejected (so their rows are kept, quarantined).
    max_unexpected_files_read: int = 1_000
    # Unexpected entries listed one by one in the run record and the summaries; the rest are counted.
    max_listed: int = 1_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 1:
                raise ValueError(f"Setting landing.{f.name} must be at least 1.")


@dataclass(frozen=True)
class LinkSettings:
    """Fellegi-Sunter decision thresholds on the match probability."""

    link_threshold: float = 0.90
    review_threshold: float = 0.50
    em_max_iterations: int = 60
    u_sample_pairs: int = 500_000
    seed: int = 20_260_701


_MIB = 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    """What one input file may hold before it is refused unread (status UNREADABLE, each limit its own code
    and Indonesian reason, docs/intake.md section 1). Limits bound the time and memory one file can take, so
    a damaged or hostile file cannot stop the quarter; the defaults are far above what a real file holds."""

    max_file_mb: float  # the file's size on disk
    max_rows: int  # data rows (CSV records, or rows of the first sheet), the header not counted
    max_columns: int  # the last column that holds a value
    max_field_chars: int  # one value (a CSV field, an XLSX cell's text)
    max_uncompressed_mb: float = 40.0  # XLSX: all members of the zip together, counted while decompressing
    max_member_mb: float = 32.0  # XLSX: one member (a sheet's XML, the shared strings), likewise
    max_xlsx_members: int = 500  # XLSX: entries in the zip's directory

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if not getattr(self, f.name) > 0:
                raise ValueError(f"Setting intake.*.{f.name} must be positive, not {getattr(self, f.name)!r}.")

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * _MIB)

    @property
    def max_uncompressed_bytes(self) -> int:
        return int(self.max_uncompressed_mb * _MIB)

    @property
    def max_member_bytes(self) -> int:
        return int(self.max_member_mb * _MIB)


# A village has at most a few thousand people (the largest generated file of a 1M-person kabupaten holds
# about 6,000 rows: 1.5 MB of CSV, 5 MB of sheet XML); the limits leave ten times that and more.
SUBMISSION_LIMITS = FileLimits(max_file_mb=25.0, max_rows=50_000, max_columns=256, max_field_chars=4_000)
# A kabupaten/kota extract holds ~1M persons in several hundred MB; the largest kabupaten about five times that.
DUKCAPIL_LIMITS = FileLimits(max_file_mb=2_048.0, max_rows=10_000_000, max_columns=256, max_field_chars=4_000)


@dataclass(frozen=True)
class IntakeLimits:
    """The limits per kind of input file (override e.g. `{"intake": {"submission": {"max_rows": 80000}}}`)."""

    submission: FileLimits = SUBMISSION_LIMITS
    dukcapil: FileLimits = DUKCAPIL_LIMITS


_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+$")


def _addresses(value: Any, setting: str) -> tuple[str, ...]:
    """A list of e-mail addresses (or one string separated by `,`/`;`), checked and de-duplicated."""
    if isinstance(value, tuple | list) and value and all(isinstance(v, str) and len(v) == 1 for v in value):
        value = "".join(value)  # a string that `_merge` turned into a tuple of characters
    items = re.split(r"[,;\s]+", value) if isinstance(value, str) else list(value or ())
    out: list[str] = []
    for item in items:
        address = str(item).strip()
        if not address:
            continue
        if not _EMAIL.match(address):
            raise ValueError(f"Setting {setting}: {address!r} is not an e-mail address.")
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return tuple(out)


@dataclass(frozen=True)
class DeliverySettings:
    """E-mail of each kabupaten's reports after publication (pipelines/reports/delivery.py, docs/reports.md)."""

    enabled: bool = True
    # The Airflow SMTP connection (host, port, TLS, login, `from_email` extra).
    smtp_conn_id: str = "smtp_default"
    # kode_kab (4 digits) -> the addresses of its Dinas Sosial; a kabupaten without any is skipped.
    recipients: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Copied on every kabupaten's message (e.g. the provincial data team).
    cc: tuple[str, ...] = ()
    # Receive one message with the run's HTML summary only (counts, no personal data).
    summary_recipients: tuple[str, ...] = ()
    # Sender; empty means the connection's `from_email` extra.
    from_email: str = ""
    # Attach the village feedback files as a zip (off by default: see docs/reports.md), up to this size.
    attach_desa_feedback: bool = False
    max_attachment_mb: float = 10.0

    def __post_init__(self) -> None:
        recipients: dict[str, tuple[str, ...]] = {}
        for key, value in dict(self.recipients or {}).items():
            kode_kab = str(key).strip().replace(".", "")
            if not (len(kode_kab) == 4 and kode_kab.isascii() and kode_kab.isdigit()):
                raise ValueError(f"Setting delivery.recipients: {key!r} is not a 4-digit kode kabupaten/kota.")
            recipients[kode_kab] = _addresses(value, f"delivery.recipients.{kode_kab}")
        object.__setattr__(self, "recipients", recipients)
        object.__setattr__(self, "cc", _addresses(self.cc, "delivery.cc"))
        summary = _addresses(self.summary_recipients, "delivery.summary_recipients")
        object.__setattr__(self, "summary_recipients", summary)
        if self.from_email and not _EMAIL.match(self.from_email):
            raise ValueError(f"Setting delivery.from_email: {self.from_email!r} is not an e-mail address.")
        if not self.smtp_conn_id.strip():
            raise ValueError("Setting delivery.smtp_conn_id must name an Airflow connection.")
        if not self.max_attachment_mb > 0:
            raise ValueError("Setting delivery.max_attachment_mb must be positive.")


@dataclass(frozen=True)
class PipelineConfig:
    quality_gate: QualityGate = field(default_factory=QualityGate)
    link: LinkSettings = field(default_factory=LinkSettings)
    landing: LandingLimits = field(default_factory=LandingLimits)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    intake: IntakeLimits = field(default_factory=IntakeLimits)
    ineligible_occupations: tuple[str, ...] = INELIGIBLE_OCCUPATIONS
    # Key for person_key pseudonyms. Set DTKS_PERSON_KEY_SECRET in production so keys cannot be reversed
    # by hashing candidate NIKs; the default only suits synthetic data.
    person_key_secret: str = "dtks-demo-not-secret"


def _merge(base: Any, overrides: dict[str, Any]) -> Any:
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if not hasattr(base, name):
            raise ValueError(f"Unknown setting {name!r}; known: {[f.name for f in dataclasses.fields(base)]}")
        current = getattr(base, name)
        if dataclasses.is_dataclass(current):
            changes[name] = _merge(current, value)
        elif isinstance(current, tuple):
            changes[name] = tuple(value)
        else:
            changes[name] = type(current)(value)
    return dataclasses.replace(base, **changes)


def load_config(overrides: dict[str, Any] | None = None) -> PipelineConfig:
    config = PipelineConfig()
    path = os.environ.get("DTKS_CONFIG")
    if path:
        config = _merge(config, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    secret = os.environ.get("DTKS_PERSON_KEY_SECRET")
    if secret:
        config = dataclasses.replace(config, person_key_secret=secret)
    return _merge(config, overrides or {})
