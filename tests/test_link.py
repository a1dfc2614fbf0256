"""Linkage: comparison levels, blocking, the Fellegi-Sunter model and the whole linker on a generated quarter."""

import numpy as np
import pandas as pd
import pytest

from pipelines.config import LinkSettings
from pipelines.evaluate import evaluate
from pipelines.link import LINK, REVIEW, family_cards, link_submissions
from pipelines.link.blocking import LINK_RULES, MultiBlock, join_keys, rule
from pipelines.link.comparisons import COMPARISONS, compare_pairs
from pipelines.link.explain import render_waterfall, waterfall
from pipelines.link.model import FellegiSunter
from pipelines.link.prepare import prepare_dukcapil, prepare_submissions
from pipelines.synth import SynthConfig, generate
from pipelines.validate import validate_dukcapil, validate_submissions


def one_pair(left: dict, right: dict) -> pd.Series:
    base = {
        "nik": None,
        "kk": None,
        "kk_family": None,
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
        ({"kk_family": "5203010101150001"}, {"kk_family": "5203010101150001"}, "kk_family", 1),
        ({"sex": "L"}, {"sex": "P"}, "sex", 0),
        ({"mother": "SITI AMINAH"}, {"mother": None}, "mother", -1),
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


def test_levels_of_categorical_features_match_plain_ones():
    """Comparisons run once per distinct pair of categorical values; the levels must not change."""
    names = ["SITI AMINAH", "SITI AMINA", "AMINAH SITI", None, "BUDI", "SITI AMINAH"]
    others = ["SITI AMINAH", "SITI AMINAH", "SITI AMINAH", "BUDI", None, "BUDI SANTOSO"]
    pairs = pd.MultiIndex.from_arrays([range(6), range(6)])
    plain = compare_pairs(pairs, pd.DataFrame({"name": names}), pd.DataFrame({"name": others}), only=("name",))
    categorical = compare_pairs(
        pairs,
        pd.DataFrame({"name": pd.Categorical(names)}),
        pd.DataFrame({"name": pd.Categorical(others)}),
        only=("name",),
    )
    assert plain["name"].tolist() == categorical["name"].tolist() == [3, 2, 0, -1, -1, 0]


def test_join_keys_is_an_equi_join():
    rng = np.random.default_rng(7)
    for _ in range(200):
        left, right = rng.integers(-1, 5, rng.integers(0, 10)), rng.integers(-1, 5, rng.integers(0, 10))
        li, ri = join_keys(left, right)
        expected = {(i, j) for i, a in enumerate(left) for j, b in enumerate(right) if a == b and a >= 0}
        assert set(zip(li.tolist(), ri.tolist(), strict=True)) == expected and len(li) == len(expected)


def test_multicolumn_rule_and_subset_dedupe():
    frame = pd.DataFrame(
        {"first": pd.Categorical(["A", "A", "B", "A"]), "dob": pd.Categorical(["1", "1", "1", None])},
        index=[5, 6, 7, 8],
    )
    assert MultiBlock((rule("first+dob", "first", "dob"),)).index(frame).tolist() == [(5, 6)]
    # Only rows 2 and 3 (positions) against all rows: the pair (5, 6) is not theirs.
    subset = MultiBlock((rule("first", "first"),), left_subset=np.array([2, 3])).index(frame)
    assert sorted(subset.tolist()) == [(5, 8), (6, 8)]


def test_link_rules_find_rows_with_errors_in_nik_date_part_and_village():
    """Two persons the stress quarter (every error rate tripled) once lost in blocking: a NIK typo in its
    birth-date part with a move inside the kecamatan, and a one-word name with a typo, no NIK and a family
    that moved to another kecamatan with a new card."""
    persons = pd.DataFrame(
        {
            "NIK": ["5203201502860036", "5203045005240018"],
            "NO_KK": ["5203203010240035", "5203151402250013"],
            "NAMA_LGKP": ["SAPII", "PUTRI"],
            "TGL_LHR": ["1986-02-15", "2024-05-10"],
            "JENIS_KLMIN": ["LAKI-LAKI", "PEREMPUAN"],
            "kode_desa": ["5203202009", "5203152004"],
            "NAMA_LGKP_IBU": ["SRIANI", "RATNA OKTAVIA"],
        }
    )
    rows = pd.DataFrame(
        {
            "row_id": [0, 1],
            "nik": ["5203201902860036", None],
            "no_kk": ["5203200806060009", "5203040410120004"],
            "nama": ["SAPJI", "PUTFI"],
            "tanggal_lahir": ["1986-02-15", "2024-05-10"],
            "jenis_kelamin": ["LAKI-LAKI", "PEREMPUAN"],
            "kode_desa": ["5203202015", "5203042014"],
            "nama_ibu_kandung": [None, None],
        }
    )
    indexer = MultiBlock(LINK_RULES)
    pairs = indexer.index(prepare_submissions(rows), prepare_dukcapil(persons))
    assert sorted(pairs.tolist()) == [(0, 0), (1, 1)]
    assert indexer.rule_counts["dob+kec"] >= 1 and indexer.rule_counts["dob+initial"] >= 1


def test_family_card_comes_from_another_linked_member():
    cards = np.array([10, 10, 10, 20, -1])
    out = family_cards(cards, exact_rows=np.array([0, 3]), exact_cards=np.array(["K-NEW", "K-20"], dtype=object))
    # Rows 1 and 2 learn their family's Dukcapil card from row 0; row 0 itself from nobody else; row 3 is alone.
    assert out.tolist() == [None, "K-NEW", "K-NEW", None, None]


def test_em_on_distinct_patterns_gives_the_same_m_as_on_pairs():
    rng = np.random.default_rng(3)
    levels = pd.DataFrame({c.name: rng.integers(-1, c.n_levels, 4000).astype(np.int8) for c in COMPARISONS})
    model = FellegiSunter()
    model.fit_u(levels)
    arrays = {c.name: levels[c.name].to_numpy() for c in COMPARISONS}
    patterns, counts = model._patterns(arrays)
    assert counts.sum() == len(levels)
    m_patterns, *_ = model._em(patterns, counts, list(COMPARISONS), max_iterations=5, tolerance=0)
    m_pairs, *_ = model._em(arrays, np.ones(len(levels)), list(COMPARISONS), max_iterations=5, tolerance=0)
    for c in COMPARISONS:
        assert np.allclose(m_patterns[c.name], m_pairs[c.name])


@pytest.fixture(scope="module")
def quarter(tmp_path_factory):
    """A small generated quarter, validated, with its ground truth."""
    return _validated_quarter(tmp_path_factory.mktemp("landing"), SynthConfig(persons=8_000, seed=5))


def _validated_quarter(root, config: SynthConfig):
    from pipelines.discover import discover_quarter
    from pipelines.ingest.intake import ingest_dukcapil, ingest_submissions

    generate(root, "2026Q3", config)
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
    assert precision >= 0.999 and recall >= 0.999, (precision, recall)
    assert (m["decision"] == REVIEW).sum() <= 0.001 * len(m)  # the clerical-review band stays small

    d = result.diagnostics
    assert d["exact_links"] > 0.8 * len(rows)
    assert d["reduction_ratio"] > 0.999
    weights = {c: [lv["weight"] for lv in levels] for c, levels in d["model"]["comparisons"].items()}
    for comparison, w in weights.items():
        assert w[0] <= 0 < w[-1], (comparison, w)  # disagreement is evidence against (or none), agreement for

    # Blocking keeps (nearly) every true pair: pair completeness over the exact pass and blocking together.
    position = pd.Series(np.arange(len(persons)), index=persons["NIK"].to_numpy())
    true_pairs = m.loc[should, ["row_id", "true_nik"]].assign(person_index=lambda f: f["true_nik"].map(position))
    kept = true_pairs.merge(result.pairs, on=["row_id", "person_index"], how="left")["source"].notna()
    assert kept.mean() >= 0.999, kept.mean()

    # Every candidate kept for the auditor carries its levels and weights.
    assert {"lvl_nik", "w_nik", "lvl_kk_family", "match_weight", "match_probability", "rank"} <= set(
        result.candidates.columns
    )

    # Rows of one true person share a cluster; different people never do.
    clusters = m.groupby("person_id")["cluster"].nunique()
    assert (clusters == 1).mean() > 0.995
    persons_per_cluster = m.groupby("cluster")["person_id"].nunique()
    assert (persons_per_cluster == 1).all()

    # The waterfall of a probabilistic link adds up to its stored probability.
    row = result.candidates[result.candidates["method"] == "probabilistic"].iloc[0]
    w = waterfall(row, prior=d["model"]["prior"])
    assert w.steps[0].comparison == "prior" and [s.comparison for s in w.steps[1:]] == [c.name for c in COMPARISONS]
    assert w.steps[-1].cumulative == pytest.approx(w.steps[0].weight + row["match_weight"], abs=0.01)
    assert w.probability == pytest.approx(row["match_probability"], abs=1e-4)
    text = render_waterfall(row, model=d["model"])
    assert "peluang awal (prior)" in text and "tanggal lahir" in text and "peluang orang yang sama" in text
    # A duplicate edge uses the prior of two submission rows.
    from pipelines.waterfall import format_percent as light_percent

    edge = result.row_edges.iloc[0]
    assert waterfall(edge, prior=d["model"]["dedupe_prior"]).probability == pytest.approx(
        edge["match_probability"], abs=1e-4
    )
    assert f"peluang orang yang sama: {light_percent(edge['match_probability'])}" in render_waterfall(
        edge, model=d["model"]
    )
    # The run record's model description explains a decision exactly as the linkage code does (dtks trace).
    from pipelines import waterfall as light

    book = light.LevelBook.from_model(d["model"])
    for decision in (row, edge):
        assert light.render_waterfall(decision, book, model=d["model"]) == render_waterfall(decision, model=d["model"])


def test_waterfall_from_a_stored_link_candidate():
    """The warehouse form: levels and weights as JSON, the prior from the run's model."""
    stored = {
        "candidate_nik": "5203011508800001",
        "rank": 1,
        "method": "probabilistic",
        "chosen": True,
        "match_weight": 30.0,
        "match_probability": 0.999,
        "levels": '{"nik": -1, "name": 3, "dob": 5, "desa": 3, "kk": 2}',
        "weights": '{"nik": 0.0, "name": 9.0, "dob": 14.0, "desa": 0.0, "kk": 7.0}',
    }
    text = render_waterfall(stored, model={"prior": 2**-20})
    lines = text.splitlines()
    assert lines[0].startswith("kandidat NIK 5203011508800001; peringkat 1; pencocokan probabilistik; dipilih")
    assert any("NIK" in x and "kosong" in x and "bukan bukti" in x for x in lines)
    assert any("wilayah (desa)" in x and "sudah tercakup oleh nomor KK" in x for x in lines)
    assert "bobot kecocokan (tanpa prior)" in text and "+30.00" in text
    # Without the model, the prior is recovered from the stored probability and weight.
    assert waterfall(stored).probability == pytest.approx(0.999, abs=1e-6)


def test_evaluation_scores_the_review_band_on_its_suggestions():
    key = {"source_file": ["f"] * 4, "source_row": [1, 2, 3, 4]}
    truth = pd.DataFrame(
        {
            **key,
            "person_id": ["P1", "P2", "P3", "U1"],
            "true_nik": ["N1", "N2", "N3", ""],
            "expected_quarantine": ["0"] * 4,
            "expected_categories": ["", "", "", "NIK_TIDAK_DITEMUKAN"],
            "injected": [""] * 4,
        }
    )
    outcome = pd.DataFrame(
        {
            **key,
            "outcome": ["PUBLISHED"] * 4,
            "person_key": ["a", "b", "c", "d"],
            "nik_dukcapil": ["N1", None, None, None],
        }
    )
    findings = pd.DataFrame(
        {
            "source_file": ["f", "f", "f"],
            "source_row": [2, 3, 4],
            "category": ["KEMUNGKINAN_PADAN", "KEMUNGKINAN_PADAN", "NIK_TIDAK_DITEMUKAN"],
            "suggested_value": ["N2", "N9", None],
        }
    )
    review = evaluate(truth, outcome, findings)["categories"]["KEMUNGKINAN_PADAN"]
    assert review["precision"] == 0.5  # one of two suggestions is the row's true person
    assert review["recall"] == pytest.approx(2 / 3)  # P1 linked, P2 suggested, P3 reached by neither
    # No review band at all: nothing wrong claimed, and recall is the link recall.
    none = evaluate(truth, outcome, findings[findings["category"] != "KEMUNGKINAN_PADAN"])
    assert none["categories"]["KEMUNGKINAN_PADAN"]["precision"] == 1.0


def test_prepare_features(quarter):
    rows, persons, _ = quarter
    s, d = prepare_submissions(rows.head(50)), prepare_dukcapil(persons.head(50))
    assert list(s.columns) == list(d.columns)
    assert s["kec"].str.len().eq(6).all() and d["desa"].str.len().eq(10).all()


def test_twins_are_not_merged_but_a_misspelt_repeat_is(quarter):
    """Twins share a family card, a birth date, a mother, a village and often a first name; only their names
    differ. A person submitted twice with a misspelt name shares all of that too. The first must stay two
    persons (merging them would drop a child from the registry), the second must become one."""
    rows, persons, _truth = quarter
    base = rows.iloc[0]
    family = {
        "kode_desa": base["kode_desa"],
        "no_kk": "5203029999990001",  # a card Dukcapil does not know: the family is new
        "tanggal_lahir": "2015-06-20",
        "nama_ibu_kandung": "INAQ SAHRUL",
        "nik": None,
        "hubungan_keluarga": "ANAK",
        "jenis_kelamin": "LAKI-LAKI",
    }
    extra = pd.DataFrame(
        [
            {**family, "nama": "MUHAMMAD HASAN"},
            {**family, "nama": "MUHAMMAD HUSEIN"},  # his twin
            {**family, "nama": "SUKARDI", "tanggal_lahir": "1982-10-01", "hubungan_keluarga": "KEPALA KELUARGA"},
            {**family, "nama": "SKOEARDI", "tanggal_lahir": "1982-10-01", "hubungan_keluarga": "KEPALA KELUARGA"},
        ]
    )
    first_id = int(rows["row_id"].max()) + 1
    extra["row_id"] = range(first_id, first_id + len(extra))
    extra["source_file"] = "2026Q3/submissions/5203/tambahan.csv"
    extra["source_row"] = range(1, len(extra) + 1)
    extra["quarantined"] = False
    extra = extra.reindex(columns=rows.columns)  # the other fields empty
    extra["quarantined"] = False
    result = link_submissions(pd.concat([rows, extra], ignore_index=True), persons, LinkSettings())
    cluster = result.rows.set_index("row_id")["cluster"]
    hasan, husein, sukardi, skoeardi = (cluster[first_id + i] for i in range(4))
    assert hasan != husein
    assert sukardi == skoeardi


def test_every_merged_row_is_compared_with_the_row_its_group_publishes(tmp_path):
    """Rows linked to one Dukcapil person are one person without being compared with each other, so their
    duplicate edge is computed for the auditor; rows Dukcapil does not know are joined by their own
    comparison. Every merged row ends with an edge to its group's published row, with how they joined."""
    from pipelines import survivor

    config = SynthConfig(persons=3_000, seed=11, unknown_share=0.25).with_rates(
        duplicate_same_village=0.08, duplicate_other_village=0.04, nik_missing=0.1
    )
    rows, persons, _ = _validated_quarter(tmp_path, config)
    result = link_submissions(rows, persons, LinkSettings())
    decided = result.rows.merge(rows[["row_id", "source_file", "source_row"]], on="row_id")
    reps = survivor.representatives(decided)
    merged = decided[~decided["row_id"].isin(reps.to_numpy()) & decided["cluster"].duplicated(keep=False)]
    edges = result.row_edges
    joined = edges[edges["accepted"]]
    assert set(joined["basis"]) <= set(survivor.BASES) and edges.loc[~edges["accepted"], "basis"].isna().all()
    assert {survivor.SAME_DUKCAPIL_PERSON, survivor.ROW_COMPARISON} <= set(joined["basis"])
    pairs = set(zip(joined["row_id_a"], joined["row_id_b"], strict=True))
    for row_id, cluster in zip(merged["row_id"], merged["cluster"], strict=True):
        kept = reps[cluster]
        assert (kept, row_id) in pairs or (row_id, kept) in pairs, row_id
    assert len(merged) > 50
