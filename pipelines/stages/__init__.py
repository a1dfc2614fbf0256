"""The quarterly run, stage by stage: what each Airflow task calls.

Each stage reads the previous stages' files from the run's work directory, writes its own, and returns a
small JSON summary (for XCom and the run record). Nothing here imports Airflow, so every stage can be
run and tested on its own: `run_all` chains them for tests and benchmarks.

Each stage is declared once in `pipelines.registry` (function, artefacts, partitioning, retries); it reaches
its files through `io.StageIO`. One module per job: `context` (the run's context and settings), `inputs`
(discover, ingest, validate, quality gate), `linkage`, `decide`, `reporting` (workbooks, feedback files,
HTML summaries), `publishing` (the warehouse swap, then the reports), `deliver` (e-mail), `lifecycle`
(start, run one stage, finish), `preflight` (folders writable, warehouse reachable) and `failures` (retried
or failed at once).
"""

from pipelines.stages.context import code_version, home, make_context, pipeline_config
from pipelines.stages.decide import decide
from pipelines.stages.deliver import deliver
from pipelines.stages.failures import Failure, classify
from pipelines.stages.inputs import (
    KabupatenHeldBack,
    QualityGateFailed,
    check_quality_gate,
    discover,
    ingest,
    validate,
)
from pipelines.stages.io import StageIO, stage_label
from pipelines.stages.lifecycle import (
    finish,
    finish_run,
    finish_unstarted,
    held_back,
    is_held_back,
    previous_quarter,
    run_all,
    run_stage,
    stage_function,
    stage_summary,
    start_run,
)
from pipelines.stages.linkage import link
from pipelines.stages.publishing import publish
from pipelines.stages.reporting import reports

__all__ = [
    "Failure",
    "KabupatenHeldBack",
    "QualityGateFailed",
    "StageIO",
    "check_quality_gate",
    "classify",
    "code_version",
    "decide",
    "deliver",
    "discover",
    "finish",
    "finish_run",
    "finish_unstarted",
    "held_back",
    "home",
    "ingest",
    "is_held_back",
    "link",
    "make_context",
    "pipeline_config",
    "previous_quarter",
    "publish",
    "reports",
    "run_all",
    "run_stage",
    "stage_function",
    "stage_label",
    "stage_summary",
    "start_run",
    "validate",
]
