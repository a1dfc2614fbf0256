"""The decide stage: findings, row outcomes, the snapshot, quarantine records and, for auditors, every
link candidate and duplicate edge with its agreement levels and weights."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipelines import contract
from pipelines.config import person_key_secret
from pipelines.stages.context import pipeline_config, staged

if TYPE_CHECKING:
    from pipelines.stages.io import StageIO


@staged("decide")
def decide(io: StageIO, kode_kab: str) -> dict[str, Any]:
    from pipelines import province
    from pipelines.finding_suggestions import with_suggestions
    from pipelines.findings import decide_findings
    from pipelines.held import settle_held_rows
    from pipelines.outcomes import decide_outcomes, quarantine_records

    config = pipeline_config(io.ctx)
    secret = person_key_secret(config)  # before any work: a worker without the key stops here
    rows = io.read_frame("validate.rows")
    reasons = io.read_frame("validate.reasons")
    persons = io.read_frame("validate.persons")
    decisions = io.read_frame("link.decisions")
    # What the province step found across kabupaten/kota (a person linked in another one's extract, a
    # person submitted in two) amends this kabupaten's decisions before its findings: its own facts only.
    facts = io.read_frame("province.facts")
    decisions = province.apply(kode_kab, decisions, facts)
    persons, decisions = province.with_foreign_persons(kode_kab, persons, decisions, facts)
    # Rows held for linkage (an implausible birth date) that were not linked are quarantined now.
    held_total = int(rows["quarantine_if_unlinked"].sum()) if "quarantine_if_unlinked" in rows else 0
    rows, reasons, held_quarantined = settle_held_rows(rows, reasons, decisions)
    _gate_after_linkage(io, kode_kab, rows, config, judge_again=len(held_quarantined) > 0)
    discrepancy, per_row = decide_findings(rows, reasons, decisions, persons, config.ineligible_occupations)
    row_outcome, snapshot = decide_outcomes(rows, decisions, per_row, persons, secret)
    discrepancy = with_suggestions(discrepancy, per_row, row_outcome, snapshot)  # the value to use, in words

    raw = io.read_frame("ingest.submissions").reset_index(drop=True)
    raw["row_id"] = range(len(raw))
    raw = raw.merge(rows[["row_id", "file_kode_desa"]].rename(columns={"file_kode_desa": "_fk"}), on="row_id").drop(
        columns="_fk"
    )
    quarantine = quarantine_records(raw, reasons, rows.loc[rows["quarantined"], "row_id"].to_numpy())
    excluded = io.read_frame("validate.persons_excluded")
    if len(excluded):
        quarantine = pd.concat([quarantine, _dukcapil_quarantine(excluded)], ignore_index=True)

    source = rows.set_index("row_id")[["source_file", "source_row"]]
    candidates, edges = _explanations(io, source, persons, decisions)
    edges = _with_survivors(edges, row_outcome, decisions)
    io.write_frame("decide.row_outcome", row_outcome.drop(columns=["row_id"]))
    io.write_frame("decide.dtks_snapshot", snapshot)
    io.write_frame("decide.discrepancy", discrepancy.drop(columns=["row_id"]))
    io.write_frame("decide.quarantine", quarantine)
    io.write_frame("decide.link_candidate", candidates)
    io.write_frame("decide.duplicate_edge", edges)
    io.write_frame("decide.validation_result", reasons.drop(columns=["row_id"]))
    return {
        "rows": len(row_outcome),
        "outcomes": row_outcome["outcome"].value_counts().to_dict(),
        "status_padan": row_outcome["status_padan"].value_counts().to_dict(),
        "persons": len(snapshot),
        "status_dtks": snapshot["status_dtks"].value_counts().to_dict(),
        "findings": discrepancy["category"].value_counts().reindex(contract.CATEGORIES, fill_value=0).to_dict(),
        "quarantine_records": len(quarantine),
        "held_for_linkage": {"rows": held_total, "quarantined": len(held_quarantined)},
    }


def _gate_after_linkage(io: StageIO, kode_kab: str, rows: pd.DataFrame, config, *, judge_again: bool) -> None:
    """The quality gate's result after linkage (`decide/gate.json`): validation's, or, when held rows that
    were not linked are quarantined, the shares judged again; failing, the run is recorded GATE_REJECTED and
    stops."""
    from pipelines.gate import quality_gate
    from pipelines.stages.inputs import file_reports, gate_failure

    files = file_reports(io)
    gate = io.read_json("validate.gate")
    if judge_again:
        judged = quality_gate(rows, files, config.quality_gate, after_linkage=True)
        gate = gate if judged["passed"] else judged
    io.write_json("decide.gate", gate)
    if gate["passed"]:
        return
    raise gate_failure(config.quality_gate.policy, kode_kab, gate)


def _dukcapil_quarantine(excluded: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": excluded["source_file"],
            "source_row": excluded["source_row"],
            "kode_desa": None,
            "raw_fields": "{}",
            "reasons": [
                json.dumps([{"category": "DUKCAPIL", "field": "NIK", "message": r}], ensure_ascii=False)
                for r in excluded["reasons"]
            ],
            "categories": "DUKCAPIL",
        }
    )


def _explanations(
    io: StageIO, source: pd.DataFrame, persons: pd.DataFrame, decisions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Link candidates and duplicate edges in warehouse form: levels and weights as JSON per pair."""
    decisions = decisions.set_index("row_id")
    cand = io.read_frame("link.candidates")
    # The comparisons in the linker's order, from its own output: no linkage code to import here.
    names = [c.removeprefix("lvl_") for c in cand.columns if c.startswith("lvl_")]

    def as_json(frame: pd.DataFrame, prefix: str) -> list[str]:
        # Compact JSON, encoded once per distinct combination: a million exact links share a handful.
        cache: dict[tuple, str] = {}
        out = []
        for row in map(tuple, frame[[f"{prefix}{n}" for n in names]].to_numpy().tolist()):
            text = cache.get(row)
            if text is None:
                text = cache[row] = json.dumps(dict(zip(names, row, strict=True)), separators=(",", ":"))
            out.append(text)
        return out

    chosen_person = decisions["person_index"].reindex(cand["row_id"]).to_numpy()
    # Chosen: the candidate, and the pass, that made the link. The exact pass's rejection of a NIK's owner
    # is listed too, but never as chosen, even when the probabilistic pass then linked the same person.
    chosen = (
        (chosen_person == cand["person_index"].to_numpy())
        & decisions["decision"].reindex(cand["row_id"]).eq("link").to_numpy()
        & (decisions["method"].reindex(cand["row_id"]).to_numpy() == cand["method"].to_numpy())
    )
    person_at = cand["person_index"].to_numpy()
    candidates = pd.DataFrame(
        {
            "source_file": source["source_file"].reindex(cand["row_id"]).to_numpy(),
            "source_row": source["source_row"].reindex(cand["row_id"]).to_numpy(),
            "rank": cand["rank"].to_numpy(),
            "candidate_nik": persons["NIK"].to_numpy()[person_at],
            "candidate_source_file": persons["source_file"].to_numpy()[person_at],
            "candidate_source_row": persons["source_row"].to_numpy()[person_at],
            "method": cand["method"].to_numpy(),
            "chosen": chosen,
            "match_weight": cand["match_weight"].to_numpy(),
            "match_probability": cand["match_probability"].to_numpy(),
            "levels": as_json(cand, "lvl_"),
            "weights": as_json(cand, "w_"),
        }
    )
    e = io.read_frame("link.row_edges")
    e = e[(e["match_probability"] >= 0.5) | e["accepted"]]  # the rest are blocking noise, not decisions
    edges = pd.DataFrame(
        {
            "source_file_a": source["source_file"].reindex(e["row_id_a"]).to_numpy(),
            "source_row_a": source["source_row"].reindex(e["row_id_a"]).to_numpy(),
            "source_file_b": source["source_file"].reindex(e["row_id_b"]).to_numpy(),
            "source_row_b": source["source_row"].reindex(e["row_id_b"]).to_numpy(),
            "accepted": e["accepted"].to_numpy(),
            "match_weight": e["match_weight"].to_numpy(),
            "match_probability": e["match_probability"].to_numpy(),
            "levels": as_json(e, "lvl_"),
            "weights": as_json(e, "w_"),
            "basis": e["basis"].to_numpy() if "basis" in e else None,
        }
    )
    return candidates, edges


def _with_survivors(edges: pd.DataFrame, row_outcome: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Per duplicate edge whose rows ended as one person: which side was published (`survivor`, `a` or `b`)
    and the step of `pipelines.survivor`'s rule that chose it over the other (`survivor_rule`)."""
    from pipelines import survivor

    keys = ["source_file", "source_row"]
    facts = row_outcome[[*keys, "row_id", "outcome"]].merge(
        decisions[["row_id", "method", "match_probability"]], on="row_id", how="left"
    )
    facts = facts.set_index(keys)
    side = {}
    for name in ("a", "b"):
        index = pd.MultiIndex.from_arrays([edges[f"source_file_{name}"], edges[f"source_row_{name}"]])
        side[name] = facts.reindex(index).reset_index(drop=True)
    published_a = side["a"]["outcome"].eq(contract.OUTCOME_PUBLISHED).to_numpy()
    published_b = side["b"]["outcome"].eq(contract.OUTCOME_PUBLISHED).to_numpy()
    one_person = edges["accepted"].to_numpy(dtype=bool)
    kept_side = np.where(one_person & published_a, "a", np.where(one_person & published_b, "b", None))
    records = {
        n: side[n].assign(source_file=edges[f"source_file_{n}"], source_row=edges[f"source_row_{n}"]).to_dict("records")
        for n in "ab"
    }
    rules = [
        None if kept is None else survivor.deciding_step(records[kept][i], records["b" if kept == "a" else "a"][i])
        for i, kept in enumerate(kept_side)
    ]
    edges = edges.assign(survivor=kept_side)
    return edges.assign(survivor_rule=rules)
