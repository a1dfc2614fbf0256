"""
### DTKS quarterly cleansing

Takes one quarter's village submissions and Dukcapil extracts from the landing area, validates them
(Great Expectations; bad rows are quarantined with reasons), links them to Dukcapil and to each other
(Fellegi-Sunter over recordlinkage), decides the findings, writes the Dinsos workbooks, and publishes
the quarter to the warehouse atomically, then `deliver` e-mails each kabupaten's reports (Airflow SMTP
connection, recipients in `config.delivery`). The `finish` task records every attempt, published or not.

Conf (all optional but `quarter` for a manual run): `quarter` (`YYYYQn`; a scheduled run takes the
quarter that just ended), `landing`, `warehouse_conn_id` (the Airflow connection of the warehouse,
default `dtks_warehouse`; never a URL: credentials stay in Airflow's connection store), `reports`, `work`,
`config` (overrides of `pipelines.config.PipelineConfig`). Defaults come from `DTKS_LANDING`,
`DTKS_REPORTS`, `DTKS_WORK`.

`start` checks that the run can write its folders and reach the warehouse before any work. A failure of
the run itself fails its task at once (no retry), unless it is transient (another run publishing the
quarter, a lock or serialization conflict, a busy SQLite file, an e-mail server down): see
`pipelines/stages/failures.py`.

The logic lives in `pipelines.stages`; the tasks and their order are generated from the stage registry
(`pipelines/registry.py`), each task calling one stage.
"""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from typing import Any, NoReturn

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, TriggerRule, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from pipelines import registry
from pipelines.warehouse.connection import CONN_ID_PATTERN, DEFAULT_CONN_ID

FAILURE_KEY = "failure"  # XCom key of a task's classified, masked failure; `finish` reads it
RESULT_KEY = "result"  # XCom key of the run's result (`dtks run --airflow-url` reads it over the REST API)
TASKS_THAT_FAIL = registry.task_ids()


def _fail(stage: str, exc: Exception) -> NoReturn:
    """Hand the failure, classified and masked, to `finish` (XCom), then either let Airflow retry it
    (transient) or fail the task at once."""
    from pipelines import stages

    if isinstance(exc, stages.KabupatenHeldBack):  # policy publish_others: the others go on
        raise AirflowSkipException(str(exc)) from exc
    failure = stages.classify(stage, exc)
    with contextlib.suppress(Exception):  # the work folder has the record too
        get_current_context()["ti"].xcom_push(key=FAILURE_KEY, value=failure.as_dict())
    if failure.retry:
        raise exc
    raise AirflowFailException(f"{failure.kind}: {failure.message}") from exc


def _run(stage: str, run: dict[str, Any], *args: Any) -> dict[str, Any]:
    """Call one pipeline stage; a failure of the run fails at once, a transient one is retried."""
    from pipelines import stages

    if stages.is_held_back(run, stage, *args):
        raise AirflowSkipException(f"Kabupaten/kota {args[0]} is held back by its quality gate.")
    try:
        summary = stages.run_stage(stage, run, *args)
    except Exception as exc:
        _fail(stages.stage_label(stage, *args), exc)
    _lineage(stage, run, summary, *args)
    return summary


def _lineage(stage: str, run: dict[str, Any], summary: dict[str, Any], kab: str | None = None) -> None:
    """Give the running task its datasets and counts, which the OpenLineage provider puts in the task's
    COMPLETE event (the provider asks operators for `get_openlineage_facets_on_complete`)."""
    import logging

    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset

        from pipelines import lineage
        from pipelines.workspace import RunContext

        facts = lineage.datasets_for(stage, RunContext.from_dict(run["context"]), summary, kab)
        result = OperatorLineage(
            inputs=[Dataset(namespace=n, name=m) for n, m in facts["inputs"]],
            outputs=[Dataset(namespace=n, name=m) for n, m in facts["outputs"]],
            run_facets={"dtks_counts": lineage.counts_facet_class()(stage=stage, counts=facts["counts"])},
        )
        get_current_context()["task"].get_openlineage_facets_on_complete = lambda _ti: result
    except Exception as exc:  # lineage must never fail the data
        logging.getLogger(__name__).warning("Lineage not recorded for %s: %s", stage, type(exc).__name__)


@dag(
    dag_id="dtks_quarterly",
    schedule=CronTriggerTimetable("0 2 15 1,4,7,10 *", timezone="Asia/Jakarta"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=20)},
    params={
        "quarter": Param(None, type=["null", "string"], pattern=r"^\d{4}Q[1-4]$", description="Quarter, e.g. 2026Q3"),
        "landing": Param(None, type=["null", "string"], description="Landing root (default DTKS_LANDING)"),
        "warehouse_conn_id": Param(
            DEFAULT_CONN_ID,
            type="string",
            pattern=CONN_ID_PATTERN,
            description="Airflow connection of the warehouse (an id, never a URL)",
        ),
        # Refuses the conf of old (a warehouse URL) when the run is triggered, before the conf is stored
        # with the run or sent to the lineage server.
        "warehouse": Param(
            None, type="null", description="Not accepted: name the warehouse's connection in warehouse_conn_id"
        ),
        "reports": Param(None, type=["null", "string"], description="Reports directory (default DTKS_REPORTS)"),
        "work": Param(None, type=["null", "string"], description="Work directory (default DTKS_WORK)"),
        "config": Param({}, type="object", description="Overrides of pipelines.config.PipelineConfig"),
        "result_file": Param(None, type=["null", "string"], description="Where to write the run result (dtks run)"),
    },
    tags=["dtks", "quarterly"],
    doc_md=__doc__,
)
def dtks_quarterly() -> None:
    @task(retries=0, multiple_outputs=False)
    def start() -> dict[str, Any]:
        from pipelines import stages

        context = get_current_context()
        try:
            run = stages.start_run(dict(context["params"]), context["run_id"], context.get("logical_date"))
        except Exception as exc:
            _fail("start", exc)
        _lineage("discover", run, stages.stage_summary(run, "discover"))
        return run

    @task
    def partitions(run: dict[str, Any]) -> list[str]:
        """Every kabupaten/kota with an input: the work is split by kode_kab."""
        return run["partitions"]

    @task
    def kabupaten(run: dict[str, Any]) -> list[str]:
        """The kabupaten/kota with submissions: one Dinsos report each."""
        return run["kabupaten"]

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=2, multiple_outputs=False)
    def finish(run: dict[str, Any] | None) -> dict[str, Any]:
        """Record the attempt; `run` is None when `start` failed, and the params say what was asked."""
        from pipelines import stages

        context = get_current_context()
        failures = context["ti"].xcom_pull(task_ids=list(TASKS_THAT_FAIL), key=FAILURE_KEY) or []
        if run is None:
            params, run_id = dict(context["params"]), context["run_id"]
            result = stages.finish_unstarted(params, run_id, context.get("logical_date"), failures)
        else:
            result = stages.finish_run(run, failures)
        # The result the embedded run reads from its result file, as JSON text (no personal data: counts,
        # ids, paths and masked messages).
        context["ti"].xcom_push(key=RESULT_KEY, value=json.dumps(result, default=str))
        if result["status"] != "PUBLISHED":
            raise AirflowFailException(f"Quarter not published ({result['status']}): {result.get('message') or ''}")
        return {"status": result["status"], "run_id": result["run_id"]}

    run = start()
    mapped_over = {registry.PARTITIONS: partitions(run), registry.WITH_SUBMISSIONS: kabupaten(run)}
    tasks: dict[str, Any] = {}
    previous = run
    after_mapped = False  # past a kabupaten's stages, a held-back (skipped) kabupaten stops no other
    for stages in _in_groups(registry.STAGES[1:]):  # discover runs in `start`; each after the one before
        if stages[0].over == registry.QUARTER:
            this = _stage_task(stages[0], after_mapped)(run)
        else:
            this = _mapped(stages, run, mapped_over[stages[0].each], after_mapped)
            after_mapped = True
        previous >> this
        tasks.update(dict.fromkeys((s.name for s in stages), this))
        previous = this
    finished = finish(run)
    previous >> finished
    tasks["publish"] >> finished  # finish records the attempt whatever happened to the e-mails


def _in_groups(stages: tuple[registry.Stage, ...]) -> list[list[registry.Stage]]:
    """Consecutive stages mapped over the same kabupaten/kota run as one mapped task group: a kabupaten's
    validation waits for its own ingest only, and its failure stops no other kabupaten's tasks."""
    groups: list[list[registry.Stage]] = []
    for stage in stages:
        key = (stage.over, stage.each)
        if stage.over != registry.QUARTER and groups and (groups[-1][0].over, groups[-1][0].each) == key:
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups


def _mapped(stages: list[registry.Stage], run: Any, kab_codes: Any, after_mapped: bool) -> Any:
    """The stages of one kabupaten/kota, chained, once per kode_kab."""
    if len(stages) == 1:
        return _stage_task(stages[0], after_mapped).partial(run=run).expand(kode_kab=kab_codes)

    @task_group(group_id=f"per_kabupaten_{stages[0].name}", prefix_group_id=False)
    def per_kabupaten(kode_kab: str) -> Any:
        last = None
        for stage in stages:
            this = _stage_task(stage, after_mapped and last is None)(run, kode_kab)
            if last is not None:
                last >> this
            last = this
        return last

    return per_kabupaten.expand(kode_kab=kab_codes)


def _stage_task(stage: registry.Stage, after_mapped: bool = False):
    """The TaskFlow task of one registered stage: its id, retries and (for a stage mapped over the
    kabupaten/kota) the map index shown as the kode_kab. A task after mapped ones runs when none failed
    and one succeeded: a kabupaten held back by its gate (skipped) does not stop the others."""
    options: dict[str, Any] = {
        "task_id": stage.task,
        "retries": stage.retries,
        "retry_delay": timedelta(seconds=stage.retry_delay_s),
        "multiple_outputs": False,
        "doc_md": stage.doc or None,
    }
    if after_mapped:
        options["trigger_rule"] = TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS
    if stage.retry_backoff:
        options["retry_exponential_backoff"] = stage.retry_backoff
    if stage.over == registry.KABUPATEN:
        options["map_index_template"] = "{{ kode_kab }}"

        @task(**options)
        def per_kabupaten(run: dict[str, Any], kode_kab: str) -> dict[str, Any]:
            get_current_context()["kode_kab"] = kode_kab  # type: ignore[index] # the map index's label
            return _run(stage.name, run, kode_kab)

        return per_kabupaten

    @task(**options)
    def per_quarter(run: dict[str, Any]) -> dict[str, Any]:
        return _run(stage.name, run)

    return per_quarter


dtks_quarterly()
