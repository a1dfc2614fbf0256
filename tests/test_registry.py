"""The stage registry: each stage declared once, and its lineage datasets exactly the files it opened."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from pipelines import registry
from pipelines.synth import SynthConfig, generate

QUARTER = "2026Q3"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> dict:
    from pipelines.stages import run_all
    from pipelines.warehouse.connection import environment_variable

    tmp = tmp_path_factory.mktemp("registry")
    generate(tmp / "landing", QUARTER, SynthConfig(kab_codes=("5203", "5201"), persons=1_500, seed=7))
    # A kabupaten with a Dukcapil extract and no submissions: its persons still count (people who moved).
    extracts = tmp / "landing" / QUARTER / "dukcapil"
    (extracts / "5202.csv").write_bytes((extracts / "5201.csv").read_bytes())
    name, value = environment_variable(f"sqlite:///{tmp / 'warehouse.sqlite'}")
    conf = {"quarter": QUARTER, "landing": str(tmp / "landing"), "work": str(tmp / "work"), "reports": str(tmp / "r")}
    with mock.patch.dict("os.environ", {name: value}):
        result = run_all(conf, "manual__registry")
        yield result


def test_every_stage_is_declared_once_and_reads_what_an_earlier_stage_wrote():
    names = [s.name for s in registry.STAGES]
    assert len(names) == len(set(names)) and len({s.task for s in registry.STAGES}) == len(names)
    registry._check()  # also run on import
    from pipelines.reports.guidance import STAGE_LABELS

    assert set(STAGE_LABELS) == set(names)


def test_lineage_datasets_are_exactly_the_files_each_stage_opened(small_run):
    """Every stage's OpenLineage inputs and outputs (generated from its declaration) equal the files its
    StageIO recorded opening in a real run: the declaration cannot drift from the code."""
    from pipelines import lineage
    from pipelines.stages.context import stage_summaries
    from pipelines.stages.io import IO_DIR
    from pipelines.workspace import RunContext, read_json

    assert small_run["status"] == "PUBLISHED", small_run.get("message")
    ctx = RunContext.from_dict(read_json(Path(small_run["work_dir"]) / "run.json")["context"])
    summaries = stage_summaries(ctx)
    records = [read_json(p) for p in sorted((ctx.root / IO_DIR).glob("*.json"))]
    seen = {(r["stage"], r["kab"]) for r in records}
    discovered = small_run["summaries"]["discover"]
    assert discovered["kabupaten"] == ["5201", "5203"] and discovered["partitions"] == ["5201", "5202", "5203"]
    expected = {
        (s.name, k) for s in registry.STAGES for k in (discovered[s.each] if s.over == registry.KABUPATEN else [None])
    }
    assert seen == expected
    for record in records:
        key = record["stage"] if record["kab"] is None else f"{record['stage']}/{record['kab']}"
        with mock.patch("pipelines.lineage._tables", lambda *_: []):  # tables: not files
            facts = lineage.datasets_for(record["stage"], ctx, summaries.get(key, {}), record["kab"])
        assert sorted(name for _, name in facts["inputs"]) == record["read"], record["stage"]
        assert sorted(name for _, name in facts["outputs"]) == record["written"], record["stage"]
        assert record["read"] or record["stage"] == "province"  # the placeholder offers nothing


def test_a_stage_cannot_open_an_artefact_it_did_not_declare(tmp_path):
    from pipelines.stages.io import StageIO
    from pipelines.workspace import RunContext

    ctx = RunContext("r", QUARTER, str(tmp_path), "c", str(tmp_path), str(tmp_path), {}, "v")
    io = StageIO(ctx, registry.stage("link"))
    with pytest.raises(KeyError, match="does not declare"):
        io.read_frame("ingest.submissions")
    with pytest.raises(KeyError, match="does not declare"):
        io.write_json("validate.gate", {})


def test_partitions_concatenate_to_clean_copy_text_when_one_is_empty():
    """A kabupaten without duplicates writes an empty frame whose columns are float64; read Arrow-backed
    beside a string column, pandas' concat alone gave NUL bytes that PostgreSQL's COPY refused."""
    import pandas as pd

    from pipelines.stages.io import concat_partitions
    from pipelines.warehouse.publish import _copy_csv

    empty = pd.DataFrame({"row": pd.Series([], dtype="int64"), "basis": pd.Series([], dtype="float64")})
    null_typed = pd.DataFrame({"row": [1], "basis": [float("nan")]})
    filled = pd.DataFrame({"row": [2], "basis": ["nik"]})
    frames = [f.convert_dtypes(dtype_backend="pyarrow") for f in (empty, null_typed, filled)]
    joined = concat_partitions(frames)
    assert joined["row"].tolist() == [1, 2]
    assert _copy_csv(joined).getvalue() == b'1,\n2,"nik"\n'
