"""`dtks evaluate`: grade a published quarter against the synthetic generator's ground truth.

- Link precision/recall/F1: over submission rows that should link (the person is in Dukcapil and the row
  is not quarantined), a predicted link is the row's `nik_dukcapil`; correct when it is the true NIK.
- Duplicate F1: over pairs of submission rows, "same person" predicted by a shared `person_key`,
  true by a shared generator `person_id`.
- Per category: precision and recall of the set of (source_file, source_row) flagged with it.
- `KEMUNGKINAN_PADAN` (the clerical-review band, a project addition the generator never expects) is scored
  on what it claims instead: precision = share of review findings whose suggested NIK is the row's true
  NIK; recall = share of rows with a true Dukcapil person whose true NIK the pipeline reaches at all,
  linked or suggested to a clerk (docs/linkage.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from pipelines.contract import CATEGORIES, KEMUNGKINAN_PADAN, SYNTH_GROUND_TRUTH
from pipelines.warehouse.schema import discrepancy, row_outcome

TRUTH_DIR = SYNTH_GROUND_TRUTH


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    support: int  # true positives + false negatives
    predicted: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
            "support": self.support,
            "predicted": self.predicted,
        }


def score(tp: int, fp: int, fn: int) -> Score:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, tp + fn, tp + fp)


def load_truth(landing: Path | str, quarter: str) -> pd.DataFrame:
    path = Path(landing) / quarter / TRUTH_DIR / "rows.csv"
    if not path.exists():
        raise FileNotFoundError(f"No ground truth at {path}: only quarters made by `dtks synth` can be evaluated.")
    return pd.read_csv(path, dtype=str, keep_default_na=False).assign(source_row=lambda t: t["source_row"].astype(int))


def load_published(engine: Engine, quarter: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    with engine.connect() as c:
        outcome = pd.read_sql(select(row_outcome).where(row_outcome.c.quarter == quarter), c)
        findings = pd.read_sql(
            select(
                discrepancy.c.source_file,
                discrepancy.c.source_row,
                discrepancy.c.category,
                discrepancy.c.suggested_value,
            ).where(discrepancy.c.quarter == quarter),
            c,
        )
    return outcome, findings


def _pairs_within(groups: pd.Series) -> set[tuple[int, int]]:
    """All unordered pairs of row positions that share a group label."""
    pairs: set[tuple[int, int]] = set()
    for members in groups.dropna().groupby(groups.dropna()).groups.values():
        m = sorted(members)
        pairs.update((a, b) for i, a in enumerate(m) for b in m[i + 1 :])
    return pairs


def evaluate(truth: pd.DataFrame, outcome: pd.DataFrame, findings: pd.DataFrame) -> dict[str, Any]:
    key = ["source_file", "source_row"]
    merged = truth.merge(outcome, on=key, how="left", validate="one_to_one")
    missing = int(merged["outcome"].isna().sum())

    live = merged["expected_quarantine"] != "1"
    true_nik = merged["true_nik"].where(merged["true_nik"] != "")
    predicted = merged["nik_dukcapil"].where(merged["nik_dukcapil"].notna() & (merged["nik_dukcapil"] != ""))
    should = live & true_nik.notna()
    tp = int((should & predicted.notna() & (predicted == true_nik)).sum())
    fp = int((predicted.notna() & ~(should & (predicted == true_nik))).sum())
    fn = int((should & ~(predicted.notna() & (predicted == true_nik))).sum())
    link = score(tp, fp, fn)

    quarantine_predicted = merged["outcome"].eq("QUARANTINED")
    q_true = merged["expected_quarantine"].eq("1")
    quarantine = score(
        int((q_true & quarantine_predicted).sum()),
        int((~q_true & quarantine_predicted).sum()),
        int((q_true & ~quarantine_predicted).sum()),
    )

    truth_groups = merged["person_id"].where(live & ~quarantine_predicted & merged["person_id"].ne(""))
    predicted_groups = merged["person_key"].where(~quarantine_predicted)
    true_pairs, predicted_pairs = _pairs_within(truth_groups), _pairs_within(predicted_groups)
    dup = score(len(true_pairs & predicted_pairs), len(predicted_pairs - true_pairs), len(true_pairs - predicted_pairs))

    expected = (
        merged[[*key, "expected_categories"]]
        .assign(category=lambda f: f["expected_categories"].str.split(";"))
        .explode("category")
    )
    expected = expected[expected["category"].fillna("") != ""]
    expected_set = set(zip(expected["source_file"], expected["source_row"], expected["category"], strict=True))
    found_set = set(zip(findings["source_file"], findings["source_row"].astype(int), findings["category"], strict=True))
    per_category = {}
    for category in CATEGORIES:
        e = {x for x in expected_set if x[2] == category}
        f = {x for x in found_set if x[2] == category}
        per_category[category] = score(len(e & f), len(f - e), len(e - f)).to_dict()
    per_category[KEMUNGKINAN_PADAN] = _review_score(merged, findings, should, predicted, true_nik).to_dict()

    return {
        "rows": len(truth),
        "rows_missing_from_row_outcome": missing,
        "row_outcome_rows": len(outcome),
        "link": link.to_dict(),
        "duplicates": dup.to_dict(),
        "quarantine": quarantine.to_dict(),
        "categories": per_category,
        "minimum_category_f1": min(
            (v["f1"] for v in per_category.values() if v["support"] or v["predicted"]), default=1.0
        ),
        "link_errors": _link_errors(merged, should, predicted, true_nik),
    }


def _review_score(
    merged: pd.DataFrame, findings: pd.DataFrame, should: pd.Series, predicted: pd.Series, true_nik: pd.Series
) -> Score:
    """The review band: are its suggestions right (precision), and does linking plus review reach every
    row's true person (recall)? A perfect linker has no review band and scores 1.0 on both."""
    key = ["source_file", "source_row"]
    review = findings.loc[findings["category"] == KEMUNGKINAN_PADAN].reindex(columns=[*key, "suggested_value"])
    review = review.assign(source_row=review["source_row"].astype(int), in_review=True).drop_duplicates(key)
    joined = merged[key].merge(review, on=key, how="left")
    suggested = joined["suggested_value"].to_numpy()
    reviewed = joined["in_review"].eq(True).to_numpy()
    right_suggestion = reviewed & should.to_numpy() & (suggested == true_nik.to_numpy())
    linked_right = (should & predicted.notna() & (predicted == true_nik)).to_numpy()
    reached = linked_right | right_suggestion
    n_review, n_should = int(reviewed.sum()), int(should.sum())
    precision = right_suggestion.sum() / n_review if n_review else 1.0
    recall = reached.sum() / n_should if n_should else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(float(precision), float(recall), float(f1), n_should, n_review)


def _link_errors(merged: pd.DataFrame, should: pd.Series, predicted: pd.Series, true_nik: pd.Series) -> dict[str, Any]:
    """Counts of the generator's injected error kinds among wrong or missed links: where to look next."""
    wrong = (predicted.notna() & should & (predicted != true_nik)) | (predicted.notna() & ~should)
    missed = should & predicted.isna()
    out = {}
    for name, mask in (("wrong", wrong), ("missed", missed)):
        kinds = merged.loc[mask, "injected"].fillna("").str.split(";").explode()
        out[name] = {"rows": int(mask.sum()), "injected": kinds[kinds != ""].value_counts().head(12).to_dict()}
    return out


def evaluate_quarter(engine: Engine, landing: Path | str, quarter: str) -> dict[str, Any]:
    truth = load_truth(landing, quarter)
    outcome, findings = load_published(engine, quarter)
    result = evaluate(truth, outcome, findings)
    result["quarter"] = quarter
    return result


def format_report(result: dict[str, Any]) -> str:
    lines = [
        f"Evaluation of {result.get('quarter', '')} against the generator's ground truth ({result['rows']} rows)",
        f"  rows missing from row_outcome: {result['rows_missing_from_row_outcome']}",
    ]
    for name in ("link", "duplicates", "quarantine"):
        s = result[name]
        lines.append(
            f"  {name:<11} P {s['precision']:.4f}  R {s['recall']:.4f}  F1 {s['f1']:.4f}  "
            f"(true {s['support']}, predicted {s['predicted']})"
        )
    lines.append("  per category:")
    for category, s in result["categories"].items():
        if category == KEMUNGKINAN_PADAN:  # scored on what it claims (module docstring)
            lines.append(
                f"    {category:<24} P {s['precision']:.4f}  R {s['recall']:.4f}  "
                f"({s['predicted']} rows in review; R = rows whose true person was linked or suggested, "
                f"of {s['support']})"
            )
        elif s["support"] or s["predicted"]:
            lines.append(
                f"    {category:<24} P {s['precision']:.4f}  R {s['recall']:.4f}  "
                f"(true {s['support']}, found {s['predicted']})"
            )
    return "\n".join(lines)
