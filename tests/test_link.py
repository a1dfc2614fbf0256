"""Linkage: comparison levels, blocking, the Fellegi-Sunter model and the whole linker on a generated quarter."""

import numpy as np
import pandas as pd
import pytest

from pipelines.config import LinkSettings
from pipelines.link import LINK, link_submissions
from pipelines.link.blocking import MultiBlock, rule
from pipelines.link.comparisons import compare_pairs
from pipelines.link.prepare import prepare_dukcapil, prepare_submissions
from pipelines.synth import SynthConfig, generate
from pipelines.validate import validate_dukcapil, validate_submissions


def one_pair(left: dict, right: dict) -> pd.Series:
    base = {
        "nik": None,
        "kk": None,
        "name": None,
        "first": None,
        "last": None,
        "dob": None,
        "dob_swapped": None,
        "placeholder": False,
        "sex": None,
        "desa": None,
        "kec": None,
        "mother": None,
    }
    a, b = pd.DataFrame([{**base, **left}]), pd.DataFrame([{**base, **right}])
    pairs = pd.MultiIndex.from_arrays([[0], [0]])
    return compare_pairs(pairs, a, b).iloc[0]


@pytest.mark.parametrize(
    ("left", "right", "comparison", "level"),
    [
        ({"nik": "5203011508800001"}, {"nik": "5203011508800001"}, "nik", 3),
        ({"nik": "5203011508800001"}, {"nik": "5203011508800007"}, "nik", 2),  # typo
        ({"nik": "5203011580800001"}, {"nik": "5203011508800001"}, "nik", 2),  # transposition
        ({"nik": None}, {"nik": "5203011508800001"}, "nik", -1),  # missing: no evidence
        ({"dob": "1980-08-15"}, {"dob": "1980-08-15"}, "dob", 5),
        ({"dob": "1980-01-01", "placeholder": True}, {"dob": "1980-08-15"}, "dob", 2),
        ({"dob": "1980-03-12", "dob_swapped": "1980-12-03"}, {"dob": "1980-12-03"}, "dob", 3),
        ({"dob": "1981-08-15"}, {"dob": "1980-08-15"}, "dob", 1),
        ({"name": "SITI AMINAH"}, {"name": "AMINAH SITI"}, "name_tokens", 2),
        ({"name": "PAIJO"}, {"name": "PAIJO SARIMAN"}, "name_tokens", 1),  # father and son: weaker
        ({"name": "MUHAMMAD RIZKI"}, {"name": "MUHAMMAD RIZKY"}, "name", 2),
        ({"desa": "5203012001"}, {"desa": "5203012002"}, "desa", 2),
        ({"kk": "5203010101150001"}, {"kk": "5203010101150002"}, "kk", 1),
    ],
)
def test_levels(left, right, comparison, level):
    assert one_pair(left, right)[comparison] == level


def test_multiblock_union_and_dedupe():
    left = pd.DataFrame({"a": ["x", "y", "z"], "b": [1, 2, 3]}, index=[10, 11, 12])
    right = pd.DataFrame({"a": ["x", "x", "q"], "b": [1, 9, 3]})
    indexer = MultiBlock((rule("a", "a"), rule("b", "b")))
    pairs = indexer.index(left, right)
    assert sorted(pairs.tolist()) == [(10, 0), (10, 1), (12, 2)]
    assert indexer.rule_counts == {"a": 2, "b": 2}
    self_pairs = MultiBlock((rule("a", "a"),)).index(right)
    assert self_pairs.tolist() == [(0, 1)]


@pytest.fixture(scope="module")
def quarter(tmp_path_factory):
    """A small generated quarter, validated, with its ground truth."""
    from pipelines.discover import discover_quarter
    from pipelines.ingest import ingest_dukcapil, ingest_submissions

    root = tmp_path_factory.mktemp("landing")
    generate(root, "2026Q3", SynthConfig(persons=8_000, seed=5))
    files = discover_quarter(root, "2026Q3")
    raw, reports = ingest_submissions([f for f in files if f.kind == "submission"])
    persons, _ = ingest_dukcapil([f for f in files if f.kind == "dukcapil"])
    import datetime as dt

    rows = validate_submissions(raw, reports, run_name="t", today=dt.date(2026, 11, 23)).rows
    persons = validate_dukcapil(persons, run_name="t").persons
    truth = pd.read_csv(root / "2026Q3" / "_ground_truth" / "rows.csv", dtype=str, keep_default_na=False)
    truth["source_row"] = truth["source_row"].astype(int)
    return rows[~rows["quarantined"]], persons, truth


def test_linker_on_a_generated_quarter(quarter):
    rows, persons, truth = quarter
    result = link_submissions(rows, persons, LinkSettings())
    decided = result.rows.merge(rows[["row_id", "source_file", "source_row"]], on="row_id")
    decided["nik"] = np.where(
        decided["decision"] == LINK, persons["NIK"].to_numpy()[decided["person_index"].clip(0)], None
    )
    m = decided.merge(truth, on=["source_file", "source_row"])
    should = m["true_nik"] != ""
    correct = should & (m["nik"] == m["true_nik"])
    predicted = m["nik"].notna()
    precision, recall = correct.sum() / predicted.sum(), correct.sum() / should.sum()
    assert precision >= 0.999 and recall >= 0.995, (precision, recall)

    d = result.diagnostics
    assert d["exact_links"] > 0.8 * len(rows)
    assert d["reduction_ratio"] > 0.999
    weights = {c: [lv["weight"] for lv in levels] for c, levels in d["model"]["comparisons"].items()}
    for comparison, w in weights.items():
        assert w[0] <= 0 < w[-1], (comparison, w)  # disagreement is evidence against (or none), agreement for

    # Every candidate kept for the auditor carries its levels and weights.
    assert {"lvl_nik", "w_nik", "match_weight", "match_probability", "rank"} <= set(result.candidates.columns)

    # Rows of one true person share a cluster; different people never do.
    clusters = m.groupby("person_id")["cluster"].nunique()
    assert (clusters == 1).mean() > 0.995
    persons_per_cluster = m.groupby("cluster")["person_id"].nunique()
    assert (persons_per_cluster == 1).all()


def test_prepare_features(quarter):
    rows, persons, _ = quarter
    s, d = prepare_submissions(rows.head(50)), prepare_dukcapil(persons.head(50))
    assert list(s.columns) == list(d.columns)
    assert s["kec"].str.len().eq(6).all() and d["desa"].str.len().eq(10).all()
