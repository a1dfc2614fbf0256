"""Link explanations stored as small integer columns (migration 0010): the same levels and weights come
back as were decided, from either stored form."""

import json

import numpy as np
import pandas as pd
import pytest

from pipelines.link.comparisons import COMPARISONS
from pipelines.warehouse.explanations import compact, expand
from pipelines.warehouse.schema import EXPLAINED_COMPARISONS, link_candidate


def test_the_warehouse_columns_follow_the_linkers_comparisons():
    assert tuple(c.name for c in COMPARISONS) == EXPLAINED_COMPARISONS
    columns = {c.name for c in link_candidate.columns}
    assert all(f"lvl_{n}" in columns and f"w_{n}" in columns for n in EXPLAINED_COMPARISONS)


def _decided(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    levels = [{c: int(rng.integers(-1, 4)) for c in EXPLAINED_COMPARISONS} for _ in range(n)]
    weights = [{c: float(np.round(rng.normal(0, 9), 4)) for c in EXPLAINED_COMPARISONS} for _ in range(n)]
    levels[1] = levels[0]  # shared combinations are parsed once
    return (
        pd.DataFrame(
            {
                "candidate_nik": [f"{i:016d}" for i in range(n)],
                "levels": [json.dumps(x, separators=(",", ":")) for x in levels],
                "weights": [json.dumps(x, separators=(",", ":")) for x in weights],
            }
        ),
        levels,
        weights,
    )


def test_compact_then_expand_gives_back_the_decided_explanation():
    frame, levels, weights = _decided()
    stored = compact(frame)
    assert stored["levels"].isna().all() and stored["weights"].isna().all()
    assert str(stored["lvl_nik"].dtype) == "Int16" and str(stored["w_nik"].dtype) == "Int32"
    for i, record in enumerate(stored.to_dict("records")):
        back = expand(record)
        assert back["levels"] == levels[i]
        assert back["weights"] == weights[i]
        assert list(back["levels"]) == list(EXPLAINED_COMPARISONS)  # the linker's order, as the JSON had it
        assert not any(k.startswith(("lvl_", "w_")) for k in back)


def test_compact_takes_the_linkers_columns_too():
    frame, levels, weights = _decided(5)
    wide = frame.drop(columns=["levels", "weights"])
    for c in EXPLAINED_COMPARISONS:
        wide[f"lvl_{c}"] = [x[c] for x in levels]
        wide[f"w_{c}"] = [x[c] for x in weights]
    assert (
        compact(wide)
        .drop(columns=["levels", "weights"])
        .equals(compact(frame).drop(columns=["levels", "weights"])[wide.columns])
    )


def test_a_quarter_published_before_0010_is_read_from_its_json():
    old = {"candidate_nik": "1", "levels": '{"nik":3,"name":2}', "weights": '{"nik":12.5,"name":4.25}'}
    old.update({f"lvl_{c}": None for c in EXPLAINED_COMPARISONS})
    back = expand(old)
    assert back["levels"] == {"nik": 3, "name": 2} and back["weights"] == {"nik": 12.5, "name": 4.25}


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    from pipelines.warehouse import connect

    e = connect(
        f"sqlite:///{tmp_path / 'wh.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    yield e
    e.dispose()


def test_migration_0010_downgrades_with_the_explanations_back_as_json(engine):
    from sqlalchemy import text

    from pipelines.warehouse import downgrade, upgrade
    from pipelines.warehouse.publish import Publication, publish

    upgrade(engine)
    frame, levels, weights = _decided(3)
    frame = frame.assign(
        source_file="2026Q3/submissions/5203/5203012001.csv",
        source_row=[1, 2, 3],
        rank=1,
        method="exact",
        chosen=True,
        match_weight=1.0,
        match_probability=0.9,
    )
    publish(engine, Publication("2026Q3", "r1", {"link_candidate": frame}, {"code_version": "test"}))
    downgrade(engine, "0008")
    table = "dtks.link_candidate" if engine.dialect.name == "postgresql" else "link_candidate"
    with engine.connect() as c:
        stored = c.execute(text(f"SELECT levels, weights FROM {table} ORDER BY source_row")).all()
    assert [json.loads(a) for a, _ in stored] == levels
    assert [{k: pytest.approx(v) for k, v in json.loads(b).items()} for _, b in stored] == weights
    upgrade(engine)
