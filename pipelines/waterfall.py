"""Why two records were joined or not: a Fellegi-Sunter decision's waterfall, as text.

A decision is a sum. It starts from the prior (the log-odds, in bits, that a candidate pair is the same
person before looking at it), adds each comparison's weight for the level the pair reached (log2 m/u; 0
where a value is missing), and turns the total into the match probability. The waterfall lists those
terms in order with the running total, so an auditor can see which fields carried the decision.

A decision comes in any of its stored forms: a row of the warehouse table `link_candidate` or
`duplicate_edge` (`levels` and `weights` as JSON), or a row of `LinkResult.candidates`/`row_edges`
(columns `lvl_<comparison>`, `w_<comparison>`). What the comparisons are (order, level labels, which
agreement makes another comparison redundant) comes in a `LevelBook`: from the linkage code
(`pipelines.link.explain`) or from a run record's model description (`LevelBook.from_model`), so that
`dtks trace` explains a published run without importing the linkage code. Standard library only.
Text an auditor reads is in Bahasa Indonesia, like the level labels.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MISSING = -1  # the level of a comparison with a value missing (the comparisons use this one)


@dataclass(frozen=True)
class LevelBook:
    """What a waterfall needs to know of the comparisons."""

    order: tuple[str, ...]
    labels: Mapping[str, Sequence[str]]  # comparison -> label per level
    implied_by: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    tf_adjusted: Mapping[str, int] = field(default_factory=dict)  # comparison -> frequency-adjusted level

    @classmethod
    def from_model(cls, model: Mapping[str, Any]) -> LevelBook:
        """From a run record's model description (`run.linkage.model`). Runs recorded before the
        description held `implied_by` and `tf_adjusted` get no notes on those."""
        comparisons = model.get("comparisons") or {}
        return cls(
            tuple(comparisons),
            {name: [level["label"] for level in levels] for name, levels in comparisons.items()},
            {name: tuple(tuple(x) for x in pairs) for name, pairs in (model.get("implied_by") or {}).items()},
            dict(model.get("tf_adjusted") or {}),
        )


# How each comparison is named for a reader.
COMPARISON_TITLES: dict[str, str] = {
    "nik": "NIK",
    "name": "nama",
    "name_tokens": "kata-kata nama",
    "dob": "tanggal lahir",
    "sex": "jenis kelamin",
    "kk": "nomor KK",
    "kk_family": "KK keluarga (Dukcapil)",
    "desa": "wilayah (desa)",
    "mother": "nama ibu kandung",
}
METHOD_TITLES: dict[str, str] = {
    "exact": "pass NIK sama (identitas cocok)",
    "exact_rejected": "NIK sama tetapi identitas tidak cocok (lanjut ke pencocokan probabilistik)",
    "probabilistic": "pencocokan probabilistik",
    "duplicate": "lewat baris ganda yang sudah padan",
}


LEGEND = "Bobot dalam bit (log2 m/u): positif mendukung orang yang sama, negatif menentang."


def format_percent(probability: float | None) -> str:
    """A probability as an Indonesian percentage a reader takes in at a glance: `99,87%`, `0,0012%` (two
    significant digits below 1%), `> 99,99%` from there up (a stored 1.0 is a rounded one: a Fellegi-Sunter
    probability never reaches it), `-` when there is none."""
    if probability is None or not math.isfinite(probability):
        return "-"
    value = 100.0 * probability
    if value >= 99.995:
        return "> 99,99%"
    if value >= 1 or value <= 0:
        text = f"{value:.2f}".rstrip("0").rstrip(".") if value not in (0.0, 100.0) else f"{value:.0f}"
    else:
        text = f"{value:.{1 - math.floor(math.log10(value))}f}"
    return text.replace(".", ",") + "%"


@dataclass(frozen=True)
class WaterfallStep:
    comparison: str  # "prior", or a comparison name
    title: str
    level: int | None  # None for the prior; -1 (MISSING) when a value is missing
    label: str
    weight: float  # bits
    cumulative: float  # bits, prior included
    note: str = ""


@dataclass(frozen=True)
class Waterfall:
    steps: list[WaterfallStep]
    prior_known: bool
    match_weight: float  # sum of the comparisons' weights, without the prior
    probability: float | None  # from the prior and the weights; None when the prior is unknown
    stored_probability: float | None


def _as_mapping(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return json.loads(value)
    return dict(value)


def _levels_and_weights(decision: Mapping[str, Any], book: LevelBook) -> tuple[dict[str, int], dict[str, float]]:
    if "levels" in decision and "weights" in decision:
        levels, weights = _as_mapping(decision["levels"]), _as_mapping(decision["weights"])
    else:
        levels = {n: decision[f"lvl_{n}"] for n in book.order if f"lvl_{n}" in decision}
        weights = {n: decision[f"w_{n}"] for n in book.order if f"w_{n}" in decision}
    if not levels:
        raise ValueError("The decision has no comparison levels (expected `levels`/`weights` or `lvl_*`/`w_*`).")
    return {k: int(v) for k, v in levels.items()}, {k: float(weights.get(k, 0.0)) for k in levels}


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _bits(probability: float) -> float:
    return math.log2(probability / (1 - probability))


def _probability(bits: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-max(min(bits, 60.0), -60.0)))


def _note(book: LevelBook, name: str, level: int, weight: float, levels: Mapping[str, int]) -> str:
    if level == MISSING:
        # "tak terpakai": a NIK that is the row's KK, or another family member's (docs/linkage.md).
        return "data kosong atau tak terpakai: bukan bukti"
    for other, other_level in book.implied_by.get(name, ()):
        if levels.get(other) == other_level and weight == 0.0:
            return f"sudah tercakup oleh {COMPARISON_TITLES.get(other, other)}"
    if book.tf_adjusted.get(name) == level:
        return "disesuaikan dengan seberapa umum nama ini"
    return ""


def waterfall(decision: Mapping[str, Any], book: LevelBook, *, prior: float | None = None) -> Waterfall:
    """The decision's terms in order: the prior (when known), then every comparison, with running totals."""
    levels, weights = _levels_and_weights(decision, book)
    total_weight = sum(weights.values())
    stored = _float(decision.get("match_probability"))
    stored_weight = _float(decision.get("match_weight"))
    prior_bits: float | None = None
    if prior is not None and 0 < prior < 1:
        prior_bits = _bits(prior)
    elif stored is not None and 0 < stored < 1:  # recover it: logit(p) = prior + weights
        prior_bits = _bits(stored) - (stored_weight if stored_weight is not None else total_weight)

    steps = []
    running = prior_bits or 0.0
    if prior_bits is not None:
        steps.append(
            WaterfallStep(
                "prior", "peluang awal (prior)", None, format_percent(_probability(prior_bits)), prior_bits, running
            )
        )
    order = [n for n in book.order if n in levels] + [k for k in levels if k not in book.order]
    for name in order:
        level, weight = levels[name], weights[name]
        running += weight
        names = book.labels.get(name, ())
        if level == MISSING:
            label = "kosong"
        elif 0 <= level < len(names):
            label = names[level]
        else:
            label = f"tingkat {level}"
        steps.append(
            WaterfallStep(
                name,
                COMPARISON_TITLES.get(name, name),
                level,
                label,
                weight,
                running,
                _note(book, name, level, weight, levels),
            )
        )
    probability = _probability(running) if prior_bits is not None else None
    return Waterfall(steps, prior_bits is not None, total_weight, probability, stored)


def render_waterfall(
    decision: Mapping[str, Any],
    book: LevelBook,
    *,
    prior: float | None = None,
    model: Mapping[str, Any] | None = None,
    compact: bool = False,
) -> str:
    """A decision's waterfall as text: one line per term with its level, weight (bits) and running total,
    then the match weight and the final probability.

    `decision`: a `link_candidate` or `duplicate_edge` row (mapping or pandas Series), or a row of
    `LinkResult.candidates`/`row_edges`. `prior` (the match probability before comparing) or `model` (the
    run's linkage model, whose `prior`, or `dedupe_prior` for a pair of rows, is used) makes the first bar
    exact. `compact` leaves out the candidate's heading and the legend, for a caller that prints (and
    masks) the candidate itself and the legend once.
    """
    if prior is None and model is not None:
        pair_of_rows = "source_file_a" in decision or "row_id_a" in decision  # a duplicate_edge, not a link
        prior = _float(model.get("dedupe_prior" if pair_of_rows else "prior"))
    w = waterfall(decision, book, prior=prior)
    lines = []
    head = []
    if "candidate_nik" in decision:
        head.append(f"kandidat NIK {decision['candidate_nik']}")
    if "rank" in decision and decision["rank"] is not None:
        head.append(f"peringkat {int(decision['rank'])}")
    if decision.get("method"):
        head.append(METHOD_TITLES.get(str(decision["method"]), str(decision["method"])))
    if "chosen" in decision or "accepted" in decision:
        taken = bool(decision.get("chosen", decision.get("accepted")))
        head.append("dipilih" if taken else "tidak dipilih")
    if head and not compact:
        lines.append("; ".join(head))
    lines.append(f"{'langkah':<22} {'tingkat':<44} {'bobot':>8} {'kumulatif':>10}")
    for s in w.steps:
        level = s.label if s.level is None else f"{s.label} ({s.level})"
        line = f"{s.title:<22} {level:<44} {s.weight:>+8.2f} {s.cumulative:>+10.2f}"
        lines.append(line + (f"  [{s.note}]" if s.note else ""))
    lines.append(f"{'bobot kecocokan (tanpa prior)':<67} {w.match_weight:>+8.2f}")
    if w.probability is not None:
        lines.append(f"peluang orang yang sama: {format_percent(w.probability)}")
    else:
        lines.append("peluang orang yang sama: peluang awal tidak diketahui (berikan model tautan proses ini)")
    if w.stored_probability is not None and (w.probability is None or abs(w.probability - w.stored_probability) > 1e-4):
        lines.append(f"peluang tersimpan: {format_percent(w.stored_probability)}")
    if not compact:
        lines.append(LEGEND)
    return "\n".join(lines)
