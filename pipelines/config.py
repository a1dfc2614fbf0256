"""Run settings: what a provincial data team may tune, with defaults that follow the contract.

Settings come from, in increasing priority: the defaults below, a YAML file named by `DTKS_CONFIG`, and
the `config` object of the DAG run's conf. Each source is validated when it is applied (pydantic, strict:
a value of the wrong type is refused, never converted, so `"false"` is not a boolean and `"abc"` is not a
list; unknown keys are refused), and one error lists every bad key by its path, e.g.
`link.link_threshold`, with the source that set it. The effective settings are stored with every run,
without their secrets.

Secrets (`person_key_secret`) come only from the environment or Airflow's secrets backend, never from a
settings file or a run conf, which are copied and stored; see `person_key_secret` below. The settings are
listed in docs/settings.md, generated from these models (`dtks config doc`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from pipelines.contract import INELIGIBLE_OCCUPATIONS

# The key every checkout knows: fine for synthetic data, never for real people (docs/settings.md).
DEMO_PERSON_KEY_SECRET = "dtks-demo-not-secret"
PERSON_KEY_ENV = "DTKS_PERSON_KEY_SECRET"
# Airflow Variable read when the environment variable is unset (so a secrets backend can hold the key).
PERSON_KEY_VARIABLE = "dtks_person_key_secret"
# Set by `dtks demo` only: lets a run use the public demo key.
DEMO_KEY_ENV = "DTKS_DEMO_PERSON_KEY"
MIN_PERSON_KEY_CHARS = 16
GatePolicy = Literal["publish_others", "stop_quarter"]


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the source and each bad key, never a value."""


class _Settings(BaseModel):
    # strict: no silent coercion ("false" -> True, "5" -> 5, 5.0 -> 5); an int is accepted for a float.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, validate_default=True)


Share = Annotated[float, Field(ge=0, le=1)]
AtLeastOne = Annotated[int, Field(ge=1)]
Positive = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]


class QualityGate(_Settings):
    """Publication stops when more than these shares of rows are quarantined."""

    max_file_quarantine_share: Share = Field(0.20, description="Largest share of a file's rows quarantined")
    max_quarter_quarantine_share: Share = Field(0.05, description="Largest share of the quarter's rows quarantined")
    # A file with fewer rows than this is never judged on its own share (one bad row of three is noise).
    min_rows_for_file_share: int = Field(20, ge=0, description="Files with fewer rows are not judged on their share")
    # Rejected and unreadable files count against neither share above; more than this share of the
    # quarter's submission files being unusable stops publication on its own.
    max_rejected_file_share: Share = Field(0.5, description="Largest share of submission files rejected or unreadable")
    # The shares are judged per kabupaten/kota. One that fails: `publish_others` (the others publish and it is
    # held back, named in the run record, the HTML summary and `dtks run`'s exit status 3) or `stop_quarter`
    # (nothing publishes). docs/intake.md, "The quality gate per kabupaten/kota", says why the default.
    policy: GatePolicy = Field(
        "publish_others", description="A kabupaten/kota failing the gate: the others publish, or nothing does"
    )


class LandingLimits(_Settings):
    """How much of a quarter's landing area is examined and read (docs/intake.md, "The landing area"): a
    hostile or broken tree (a million entries, a chain of folders, a folder of junk) must neither hang nor
    exhaust the run, and what is left out is said, never silently dropped."""

    # submissions/<kode_kab>/ is level 2.
    max_depth: AtLeastOne = Field(6, description="Folder levels below the quarter's folder that are opened")
    # Expected inputs (exact <kode_desa>.csv|xlsx of existing villages in their kabupaten folder, the
    # extracts) are examined first and always, so no amount of junk hides them.
    max_entries: AtLeastOne = Field(1_000_000, description="Entries examined; past it the rest are only counted")
    # Indonesia has about 84,000 villages: a nationwide quarter fits.
    max_input_files: AtLeastOne = Field(100_000, description="Files read as inputs")
    max_unexpected_files_read: AtLeastOne = Field(
        1_000, description="Misplaced or odd-named files read only to be rejected (their rows kept, quarantined)"
    )
    max_listed: AtLeastOne = Field(1_000, description="Unexpected entries listed one by one; the rest are counted")


class LinkSettings(_Settings):
    """Fellegi-Sunter decision thresholds on the match probability."""

    link_threshold: Share = Field(0.90, description="Match probability from which a row is linked")
    review_threshold: Share = Field(0.50, description="Match probability from which a pair is kept for review")
    em_max_iterations: AtLeastOne = Field(60, description="Iterations of the EM estimation of m")
    u_sample_pairs: AtLeastOne = Field(500_000, description="Random pairs sampled to estimate u")
    seed: int = Field(20_260_701, description="Seed of the u sample")

    @model_validator(mode="after")
    def _review_below_link(self) -> LinkSettings:
        if self.review_threshold > self.link_threshold:
            raise ValueError("review_threshold must not be above link_threshold")
        return self


_MIB = 1024 * 1024


class FileLimits(_Settings):
    """What one input file may hold before it is refused unread (status UNREADABLE, each limit its own code
    and Indonesian reason, docs/intake.md section 1). Limits bound the time and memory one file can take, so
    a damaged or hostile file cannot stop the quarter; the defaults are far above what a real file holds."""

    max_file_mb: Positive = Field(description="The file's size on disk, MB")
    max_rows: PositiveInt = Field(description="Data rows (CSV records, or rows of the first sheet), header not counted")
    max_columns: PositiveInt = Field(description="The last column that holds a value")
    max_field_chars: PositiveInt = Field(description="Characters of one value (a CSV field, an XLSX cell's text)")
    max_uncompressed_mb: Positive = Field(
        40.0, description="XLSX: all zip members together, MB, counted while decompressing"
    )
    max_member_mb: Positive = Field(32.0, description="XLSX: one zip member (a sheet's XML, the shared strings), MB")
    max_xlsx_members: PositiveInt = Field(500, description="XLSX: entries in the zip's directory")

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


class IntakeLimits(_Settings):
    """The limits per kind of input file (override e.g. `{"intake": {"submission": {"max_rows": 80000}}}`)."""

    submission: FileLimits = Field(SUBMISSION_LIMITS, description="Limits of a village submission file")
    dukcapil: FileLimits = Field(DUKCAPIL_LIMITS, description="Limits of a Dukcapil extract")


_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+$")


def _addresses(value: Any) -> Any:
    """A list of e-mail addresses, or one string of them separated by `,`/`;`: checked and de-duplicated.
    Anything else is left to the type check (and refused there)."""
    if isinstance(value, str):
        value = re.split(r"[,;\s]+", value)
    if not isinstance(value, list | tuple):
        return value
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            return value  # refused by the type check, with its position
        address = item.strip()
        if not address:
            continue
        if not _EMAIL.match(address):
            raise ValueError(f"{address!r} is not an e-mail address")
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return tuple(out)


class DeliverySettings(_Settings):
    """E-mail of each kabupaten's reports after publication (pipelines/reports/delivery.py, docs/reports.md)."""

    enabled: bool = Field(True, description="Send the e-mails at all")
    smtp_conn_id: str = Field(
        "smtp_default", min_length=1, description="Airflow SMTP connection (host, port, TLS, login, from_email extra)"
    )
    # A kabupaten without any is skipped. Keys may be written 5203 or "52.03"; values a list or "a; b".
    recipients: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="kode_kab (4 digits) -> addresses of its Dinas Sosial"
    )
    cc: tuple[str, ...] = Field(
        (), strict=False, description="Copied on every kabupaten's message (e.g. the provincial data team)"
    )
    summary_recipients: tuple[str, ...] = Field(
        (), strict=False, description="Receive one message with the run's HTML summary only (counts, no personal data)"
    )
    from_email: str = Field("", description="Sender; empty means the connection's from_email extra")
    # Off by default: see docs/reports.md.
    attach_desa_feedback: bool = Field(False, description="Attach the village feedback files as a zip")
    max_attachment_mb: Positive = Field(10.0, description="Largest attachment, MB")

    @field_validator("recipients", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for key, addresses in value.items():
            kode_kab = str(key).strip().replace(".", "")
            if not (len(kode_kab) == 4 and kode_kab.isascii() and kode_kab.isdigit()):
                raise ValueError(f"{key!r} is not a 4-digit kode kabupaten/kota")
            out[kode_kab] = _addresses(addresses)
        return out

    @field_validator("cc", "summary_recipients", mode="before")
    @classmethod
    def _address_list(cls, value: Any) -> Any:
        return _addresses(value)

    @field_validator("from_email")
    @classmethod
    def _from_email(cls, value: str) -> str:
        if value and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("smtp_conn_id")
    @classmethod
    def _conn_id(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name an Airflow connection")
        return value


class ProvinceSettings(_Settings):
    """The province step (`pipelines.province`): the findings that cross kabupaten/kota borders."""

    # Each bucket holds about 1/buckets of the rows and persons offered across borders; more buckets make
    # smaller tasks (docs/deployment.md, "The province step").
    buckets: AtLeastOne = Field(64, description="Hash buckets the cross-kabupaten work is split into")


class PipelineConfig(_Settings):
    quality_gate: QualityGate = Field(default_factory=QualityGate, description="When publication stops")
    link: LinkSettings = Field(default_factory=LinkSettings, description="Fellegi-Sunter linkage")
    landing: LandingLimits = Field(default_factory=LandingLimits, description="How much of the landing area is read")
    delivery: DeliverySettings = Field(default_factory=DeliverySettings, description="E-mail of the reports")
    intake: IntakeLimits = Field(default_factory=IntakeLimits, description="What one input file may hold")
    province: ProvinceSettings = Field(default_factory=ProvinceSettings, description="The cross-kabupaten step")
    # A list in YAML/JSON, a tuple here (strict=False lets a list in); a string is refused, not split.
    ineligible_occupations: tuple[str, ...] = Field(
        INELIGIBLE_OCCUPATIONS, strict=False, description="Dukcapil occupation labels that make a person ineligible"
    )
    # Key of the person_key pseudonyms (HMAC-SHA256). Never dumped, so never stored with a run; read from the
    # environment on every load (`load_config`). A run refuses the public default (`person_key_secret`).
    person_key_secret: SecretStr = Field(
        SecretStr(DEMO_PERSON_KEY_SECRET),
        exclude=True,
        description=f"Key of the person_key pseudonyms: environment {PERSON_KEY_ENV} or Airflow Variable "
        f"{PERSON_KEY_VARIABLE} only",
    )


# ------------------------------------------------------------------------------------------------ loading


def _submodel(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    field = model.model_fields.get(key)
    annotation = field.annotation if field else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _overlay(model: type[BaseModel], base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` over `base`, section by section; a value that is not a section (a list, the recipients
    map) is replaced whole."""
    out = dict(base)
    for key, value in changes.items():
        sub = _submodel(model, key)
        if sub is not None and isinstance(value, Mapping) and isinstance(out.get(key, {}), Mapping):
            out[key] = _overlay(sub, dict(out.get(key, {})), value)
        else:
            out[key] = value
    return out


def _secret_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        sub = _submodel(model, name)
        if sub is not None:
            yield from _secret_paths(sub, f"{prefix}{name}.")
        elif field.annotation is SecretStr:
            yield f"{prefix}{name}"


def _has_path(data: Mapping[str, Any], path: str) -> bool:
    head, _, rest = path.partition(".")
    if head not in data:
        return False
    return not rest or (isinstance(data[head], Mapping) and _has_path(data[head], rest))


def _problem(error: Mapping[str, Any]) -> str:
    """One bad key: its path, what was wrong and the type of what was given; never the value itself (it
    may be a secret or personal data)."""
    path = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    given = type(error["input"]).__name__
    if error["type"] == "missing":
        return f"{path}: required"
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown setting"
    if error["type"] in ("value_error", "assertion_error"):
        return f"{path}: {message}"
    if error["type"] in ("tuple_type", "list_type"):
        message = "Input should be a list"
    hint = " (write true or false without quotes)" if error["type"] == "bool_type" and given == "str" else ""
    return f"{path}: {message}, got {given}{hint}"


def _validate(data: Mapping[str, Any], source: str) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(f"  {_problem(e)}" for e in exc.errors(include_url=False))
        raise SettingsError(f"Settings from {source} are not valid:\n{problems}") from None


def _refuse_secrets(layer: Mapping[str, Any], source: str) -> None:
    found = [path for path in _secret_paths(PipelineConfig) if _has_path(layer, path)]
    if found:
        raise SettingsError(
            f"Settings from {source} are not valid:\n"
            + "\n".join(
                f"  {path}: a secret is not a setting (files and run confs are copied and stored); set the "
                f"environment variable {PERSON_KEY_ENV} or the Airflow Variable {PERSON_KEY_VARIABLE}"
                for path in found
            )
        )


def _read_file(path: str) -> dict[str, Any]:
    source = f"settings file {path} (DTKS_CONFIG)"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"Settings from {source} cannot be read: {type(exc).__name__}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # The problem and its position only: the parser's snippet of the file could hold anything.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise SettingsError(f"Settings from {source} are not valid YAML: {problem}{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(
            f"Settings from {source} are not valid: the file must hold a mapping, got {type(data).__name__}"
        )
    return data


SOURCE_DEFAULTS = "the defaults"
SOURCE_RUN_CONF = "the run conf ('config')"


def load_config(overrides: Mapping[str, Any] | None = None) -> PipelineConfig:
    """The effective settings: defaults < the YAML file named by `DTKS_CONFIG` < `overrides` (the run conf's
    `config`), each source validated as it is applied; the person-key secret from the environment."""
    data = _validate({}, SOURCE_DEFAULTS).model_dump()  # full sections, so a file may change one key of each
    layers: list[tuple[str, Any]] = []
    path = os.environ.get("DTKS_CONFIG")
    if path:
        layers.append((f"settings file {path} (DTKS_CONFIG)", _read_file(path)))
    if overrides:
        layers.append((SOURCE_RUN_CONF, overrides))
    config = None
    for source, layer in layers:
        if not isinstance(layer, Mapping):
            raise SettingsError(
                f"Settings from {source} are not valid: a mapping is needed, got {type(layer).__name__}"
            )
        _refuse_secrets(layer, source)
        data = _overlay(PipelineConfig, data, layer)
        config = _validate(data, source)
    config = config or PipelineConfig()
    secret = _person_key_from_environment()
    return config.model_copy(update={"person_key_secret": SecretStr(secret)}) if secret else config


SOURCE_STORED = "the run's stored settings"


def stored_config(stored: Mapping[str, Any]) -> PipelineConfig:
    """The settings a run resolved at its start (`settings_dict`, kept in its context), as each later stage
    reloads them: the `DTKS_CONFIG` file is not read again (it may have changed since), the secret is."""
    _refuse_secrets(stored, SOURCE_STORED)
    config = _validate(stored, SOURCE_STORED)
    secret = _person_key_from_environment()
    return config.model_copy(update={"person_key_secret": SecretStr(secret)}) if secret else config


def _person_key_from_environment() -> str | None:
    value = os.environ.get(PERSON_KEY_ENV, "").strip() or _airflow_variable(PERSON_KEY_VARIABLE)
    return value.strip() if value and value.strip() else None


def _airflow_variable(key: str) -> str | None:
    """An Airflow Variable (the metadata database, `AIRFLOW_VAR_<KEY>` or a secrets backend such as Vault),
    asked only inside a running Airflow task: elsewhere there is no one to ask, and asking would load Airflow.
    Airflow masks the value in task logs."""
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    if runner is None or getattr(runner, "SUPERVISOR_COMMS", None) is None:
        return None
    try:
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
    except Exception:  # no such variable, or no backend answering: the key is unset
        return None
    return value if isinstance(value, str) else None


PERSON_KEY_HOW_TO = (
    f"Set the environment variable {PERSON_KEY_ENV} (with docker compose: in .env) of every Airflow worker, "
    f"or the Airflow Variable {PERSON_KEY_VARIABLE} (e.g. in a secrets backend), to a long random value "
    f"(at least {MIN_PERSON_KEY_CHARS} characters, e.g. `openssl rand -hex 32`), and keep it: person keys stay "
    "comparable across quarters only under the same key. Only `dtks demo` runs on the public demo key."
)


def person_key_secret(config: PipelineConfig) -> str:
    """The key for person_key pseudonyms, refused when it is the public demo key (outside `dtks demo`) or too
    short to resist guessing: anyone could then reverse the published keys by hashing candidate NIKs."""
    secret = config.person_key_secret.get_secret_value()
    if secret == DEMO_PERSON_KEY_SECRET:
        if os.environ.get(DEMO_KEY_ENV) == "1":
            return secret
        raise SettingsError(
            f"The person-key secret is not set: the run would pseudonymise NIKs with the public demo key, which "
            f"anyone can use to reverse them. {PERSON_KEY_HOW_TO}"
        )
    if len(secret) < MIN_PERSON_KEY_CHARS:
        raise SettingsError(
            f"The person-key secret is shorter than {MIN_PERSON_KEY_CHARS} characters, so it could be guessed. "
            + PERSON_KEY_HOW_TO
        )
    return secret


def settings_dict(config: PipelineConfig) -> dict[str, Any]:
    """The effective settings as JSON-ready data, without any secret: for XCom, the run record, `dtks config`."""
    return config.model_dump(mode="json")
