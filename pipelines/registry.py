"""The quarterly run's stages, each declared once: its function, the artefacts it reads and writes (with
their path patterns in the run's work area), what it is mapped over, its retries and its labels.

Everything else is generated from this declaration: the DAG's tasks and their wiring
(`dags/dtks_quarterly.py`), `run_all`, the lineage datasets (`pipelines.lineage`), the stage summaries and
the tasks whose failure `finish` collects. Stages never open a file by a literal path: they ask their
`StageIO` (`pipelines.stages.io`) for an artefact by name, which resolves the pattern for the stage's
partition, refuses an artefact the stage did not declare and records every file read and written.

Light on purpose (no pandas, no Airflow): the DAG file imports it at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

QUARTER: Final = "quarter"  # one task for the quarter
KABUPATEN: Final = "kabupaten"  # one task per kabupaten/kota (map index = kode_kab), see `Stage.each`

# The lists a kabupaten stage is mapped over (keys of the started run, from discover): every kabupaten/kota
# with an input file (its submissions, or only its Dukcapil extract: persons who moved there still count),
# or those with submissions (one Dinsos workbook each).
PARTITIONS: Final = "partitions"
WITH_SUBMISSIONS: Final = "kabupaten"

MappedOver = Literal["quarter", "kabupaten"]
# frame: a Parquet table; json: a JSON document; dir: a folder the stage fills; landing: the quarter's input
# files listed by discover; reports: the published reports folder `<reports>/<quarter>`; warehouse: tables.
Kind = Literal["frame", "json", "dir", "landing", "reports", "warehouse"]


@dataclass(frozen=True)
class Artefact:
    """A file (or folder) of the run, named `<producing stage>.<name>`. `pattern` is relative to the run's
    work directory; `{kab}` is filled with the partition's kode_kab, `{bucket}` with a province hash bucket.
    A stage that reads an artefact of a finer partition than its own reads every partition there is."""

    name: str
    kind: Kind
    pattern: str = ""


@dataclass(frozen=True)
class Stage:
    name: str
    function: str  # "module:attribute", imported only when the stage runs
    label_id: str  # the stage's name for Dinsos readers (HTML summary: time per stage)
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    over: MappedOver = QUARTER
    each: str = PARTITIONS  # for a kabupaten stage: which list of the run it is mapped over
    task_id: str = ""  # the Airflow task; default the stage's name
    retries: int = 1
    retry_delay_s: int = 20
    retry_backoff: float | None = None
    doc: str = ""
    summary: str = ""  # the stage's summary (time, counts); default `<stage>/summary.json`, per kabupaten under kab/

    @property
    def task(self) -> str:
        return self.task_id or self.name

    @property
    def summary_pattern(self) -> str:
        if self.summary:
            return self.summary
        return f"kab/{{kab}}/{self.name}/summary.json" if self.over == KABUPATEN else f"{self.name}/summary.json"


def _artefacts(*items: Artefact) -> dict[str, Artefact]:
    return {a.name: a for a in items}


ARTEFACTS: Final[dict[str, Artefact]] = _artefacts(
    Artefact("landing.quarter", "landing"),  # <landing>/<quarter>/, surveyed by discover
    Artefact("landing.files", "landing"),  # the input files discover listed, read by ingest
    Artefact("discover.files", "json", "discover/files.json"),
    Artefact("discover.landing", "json", "discover/landing.json"),
    Artefact("ingest.submissions", "frame", "kab/{kab}/ingest/submissions.parquet"),
    Artefact("ingest.dukcapil", "frame", "kab/{kab}/ingest/dukcapil.parquet"),
    Artefact("ingest.files", "json", "kab/{kab}/ingest/files.json"),
    Artefact("validate.rows", "frame", "kab/{kab}/validate/rows.parquet"),
    Artefact("validate.reasons", "frame", "kab/{kab}/validate/reasons.parquet"),
    Artefact("validate.warnings", "frame", "kab/{kab}/validate/warnings.parquet"),
    Artefact("validate.persons", "frame", "kab/{kab}/validate/persons.parquet"),
    Artefact("validate.persons_excluded", "frame", "kab/{kab}/validate/persons_excluded.parquet"),
    Artefact("validate.gx_submission", "json", "kab/{kab}/validate/gx_dtks_submission.json"),
    Artefact("validate.gx_dukcapil", "json", "kab/{kab}/validate/gx_dukcapil_extract.json"),
    Artefact("validate.data_docs", "dir", "kab/{kab}/validate/data_docs"),
    Artefact("validate.gate", "json", "kab/{kab}/validate/gate.json"),
    Artefact("link.decisions", "frame", "kab/{kab}/link/decisions.parquet"),
    Artefact("link.candidates", "frame", "kab/{kab}/link/candidates.parquet"),
    Artefact("link.row_edges", "frame", "kab/{kab}/link/row_edges.parquet"),
    Artefact("link.diagnostics", "json", "kab/{kab}/link/diagnostics.json"),
    # What a kabupaten contributes to each hash bucket of the province step, and the bucket's facts.
    Artefact("province_offer.pieces", "frame", "kab/{kab}/province_offer/{bucket}.parquet"),
    Artefact("province.bucket_facts", "frame", "province/{bucket}.parquet"),
    Artefact("province.facts", "frame", "kab/{kab}/province/facts.parquet"),  # the bucket facts, per kabupaten
    Artefact("decide.gate", "json", "kab/{kab}/decide/gate.json"),
    Artefact("decide.row_outcome", "frame", "kab/{kab}/decide/row_outcome.parquet"),
    Artefact("decide.dtks_snapshot", "frame", "kab/{kab}/decide/dtks_snapshot.parquet"),
    Artefact("decide.discrepancy", "frame", "kab/{kab}/decide/discrepancy.parquet"),
    Artefact("decide.quarantine", "frame", "kab/{kab}/decide/quarantine.parquet"),
    Artefact("decide.link_candidate", "frame", "kab/{kab}/decide/link_candidate.parquet"),
    Artefact("decide.duplicate_edge", "frame", "kab/{kab}/decide/duplicate_edge.parquet"),
    Artefact("decide.validation_result", "frame", "kab/{kab}/decide/validation_result.parquet"),
    Artefact("reports.staged", "dir", "reports/{kab}"),
    Artefact("publish.record", "json", "published.json"),
    Artefact("publish.reports", "reports"),
    Artefact("publish.tables", "warehouse"),
    Artefact("deliver.record", "json", "deliver/delivery.json"),
)

# The warehouse tables of a publication, each from the decide artefact of the same name.
PUBLISHED_TABLES: Final = (
    "row_outcome",
    "dtks_snapshot",
    "discrepancy",
    "quarantine",
    "link_candidate",
    "duplicate_edge",
    "validation_result",
)

STAGES: Final[tuple[Stage, ...]] = (
    Stage(
        "discover",
        "pipelines.stages.inputs:discover",
        "Pencarian berkas masukan",
        inputs=("landing.quarter",),
        outputs=("discover.files", "discover.landing"),
        task_id="start",
        retries=0,
        doc="Check that the run can write its folders and reach the warehouse, then list the quarter's files.",
    ),
    Stage(
        "ingest",
        "pipelines.stages.inputs:ingest",
        "Pembacaan berkas",
        inputs=("discover.files", "landing.files"),
        outputs=("ingest.submissions", "ingest.dukcapil", "ingest.files"),
        over=KABUPATEN,
    ),
    Stage(
        "validate",
        "pipelines.stages.inputs:validate",
        "Validasi data",
        inputs=("ingest.submissions", "ingest.dukcapil", "ingest.files"),
        outputs=(
            "validate.rows",
            "validate.reasons",
            "validate.warnings",
            "validate.persons",
            "validate.persons_excluded",
            "validate.gx_submission",
            "validate.gx_dukcapil",
            "validate.data_docs",
            "validate.gate",
        ),
        over=KABUPATEN,
    ),
    Stage(
        "quality_gate",
        "pipelines.stages.inputs:check_quality_gate",
        "Gerbang mutu",
        inputs=("validate.gate",),
        outputs=(),
        over=KABUPATEN,
        retries=0,
    ),
    Stage(
        "link",
        "pipelines.stages.linkage:link",
        "Pemadanan dengan Dukcapil dan antarbaris",
        inputs=("validate.rows", "validate.persons"),
        outputs=("link.decisions", "link.candidates", "link.row_edges", "link.diagnostics"),
        over=KABUPATEN,
    ),
    Stage(
        "province_offer",
        "pipelines.stages.province:offer",
        "Penyiapan pemadanan antarkabupaten",
        inputs=("discover.files", "validate.rows", "validate.persons", "link.decisions", "link.diagnostics"),
        outputs=("province_offer.pieces",),
        over=KABUPATEN,
    ),
    Stage(
        "province",
        "pipelines.stages.province:resolve",
        "Pemadanan antarkabupaten",
        inputs=("discover.files", "province_offer.pieces"),
        outputs=("province.bucket_facts", "province.facts"),
        doc="Cross-kabupaten facts, one hash bucket at a time (no task holds the whole province), then each "
        "kabupaten's share of them.",
    ),
    Stage(
        "decide",
        "pipelines.stages.decide:decide",
        "Penentuan temuan dan hasil",
        inputs=(
            "province.facts",
            "ingest.submissions",
            "ingest.files",
            "validate.rows",
            "validate.reasons",
            "validate.persons",
            "validate.persons_excluded",
            "validate.gate",
            "link.decisions",
            "link.candidates",
            "link.row_edges",
        ),
        outputs=("decide.gate", *(f"decide.{t}" for t in PUBLISHED_TABLES)),
        over=KABUPATEN,
    ),
    Stage(
        "reports",
        "pipelines.stages.reporting:reports",
        "Pembuatan laporan",
        inputs=(
            "discover.landing",
            "ingest.files",
            "validate.rows",
            "validate.persons_excluded",
            "ingest.submissions",
            "decide.row_outcome",
            "decide.dtks_snapshot",
            "decide.discrepancy",
            "decide.quarantine",
        ),
        outputs=("reports.staged",),
        over=KABUPATEN,
        each=WITH_SUBMISSIONS,
        task_id="report",
        summary="reports/{kab}/summary.json",  # beside the staged reports, not copied with them
    ),
    Stage(
        "publish",
        "pipelines.stages.publishing:publish",
        "Penerbitan",
        inputs=(
            "discover.landing",
            "ingest.files",
            "validate.persons_excluded",
            "validate.gate",
            "decide.gate",
            "link.diagnostics",
            *(f"decide.{t}" for t in PUBLISHED_TABLES),
            "reports.staged",  # every kabupaten's: a quarter's stage reads all partitions
        ),
        outputs=("publish.tables", "publish.reports", "publish.record"),
        retries=3,
        retry_delay_s=30,
        retry_backoff=2.0,
    ),
    Stage(
        "deliver",
        "pipelines.stages.deliver:deliver",
        "Pengiriman surel",
        inputs=("publish.record", "publish.reports"),
        outputs=("deliver.record",),
        retries=2,
        retry_delay_s=60,
        retry_backoff=2.0,
        doc="E-mail the published reports through the Airflow SMTP connection; a retry sends only what failed.",
    ),
)

BY_NAME: Final[dict[str, Stage]] = {s.name: s for s in STAGES}
BY_TASK: Final[dict[str, Stage]] = {s.task: s for s in STAGES}


def stage(name: str) -> Stage:
    return BY_NAME[name]


def producer(artefact: str) -> str:
    """The stage that writes an artefact (its name's prefix)."""
    return artefact.partition(".")[0]


def task_ids() -> tuple[str, ...]:
    """Every stage's task, in run order: the tasks whose failure `finish` collects."""
    return tuple(s.task for s in STAGES)


def labels_id() -> dict[str, str]:
    return {s.name: s.label_id for s in STAGES}


def _check() -> None:
    """Each artefact read is written by an earlier stage (or is an input of the quarter), once."""
    written: set[str] = set()
    for s in STAGES:
        for name in (*s.inputs, *s.outputs):
            if name not in ARTEFACTS:
                raise ValueError(f"Stage {s.name} names an undeclared artefact {name}")
        missing = [a for a in s.inputs if a not in written and ARTEFACTS[a].kind != "landing"]
        if missing:
            raise ValueError(f"Stage {s.name} reads {missing} before any stage writes them")
        if any(producer(a) != s.name and ARTEFACTS[a].kind != "dir" for a in s.outputs):
            raise ValueError(f"Stage {s.name} writes another stage's artefact")
        written.update(s.outputs)


_check()
