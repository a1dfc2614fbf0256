"""The Fellegi-Sunter model: for each comparison level, m = P(level | same person) and
u = P(level | different persons); the match weight of a level is log2(m/u).

Estimated without labels, the way the method is meant to be used at scale:
- u from random pairs (almost all different people), so u is what chance agreement looks like;
- m by expectation-maximisation on the candidate pairs, with u held fixed. EM runs on the distinct
  comparison vectors with their counts (a few thousand), not on every pair: the same result, far faster.
A pair's match weight is the sum of its levels' weights (missing values weigh nothing); its match
probability adds the prior odds that two records taken at random are one person. That prior comes from
EM's share of matches among the candidates, restated per random pair (expected matches over all pairs),
so that a more generous blocking does not make every candidate look likelier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.link.comparisons import COMPARISONS, MISSING, Comparison

_SMOOTHING = 0.5  # Laplace-style pseudo-count, so no level ever has probability 0
# No level of a true pair is rarer than this: a level never seen in training (a KK typo, a sex error)
# must not weigh like an impossibility, since real data has errors the training quarter lacked.
M_FLOOR = 1e-3
# Comparisons that say nothing once another agrees: members of one family card live in one village, so
# "same village" adds no evidence on top of "same KK" (counting both lets households pass for persons);
# the family's card as Dukcapil knows it says nothing more once the row's own card agrees.
IMPLIED_BY: dict[str, tuple[tuple[str, int], ...]] = {
    "desa": (("kk", 2), ("kk_family", 1)),
    "name_tokens": (("name", 3),),
    "kk_family": (("kk", 2),),
}
# Term-frequency adjustment: exact agreement on a common name ("SITI") is weaker evidence than on a rare
# one. For these (comparison, level), u is the value's own frequency, given per pair in column `tf_<name>`.
TF_ADJUSTED: dict[str, int] = {"name": 3}


def _level_counts(levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None) -> np.ndarray:
    present = levels != MISSING
    return np.bincount(levels[present], weights=None if weights is None else weights[present], minlength=n_levels)


def _default_m(comparison: Comparison) -> np.ndarray:
    """Starting point for EM: most true pairs agree fully, a few are near, fewer disagree."""
    k = comparison.n_levels
    m = np.full(k, 0.05 / max(k - 1, 1))
    m[-1] = 0.95
    return m / m.sum()


@dataclass
class FellegiSunter:
    comparisons: tuple[Comparison, ...] = COMPARISONS
    m: dict[str, np.ndarray] = field(default_factory=dict)
    u: dict[str, np.ndarray] = field(default_factory=dict)
    # P(match) of two records before comparing them: of a submission row and a Dukcapil person, and of two
    # submission rows. Estimated from the candidates (`fit_prior`) but stated per random pair, so it does not
    # depend on how generous blocking was.
    prior: float = 1e-6
    dedupe_prior: float = 1e-7
    em_iterations: int = 0
    converged: bool = False
    sessions: list[dict] = field(default_factory=list)
    _u_seen: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _m_seen: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def fit_u(self, random_levels: pd.DataFrame) -> None:
        for c in self.comparisons:
            raw = _level_counts(random_levels[c.name].to_numpy(), c.n_levels)
            self._u_seen[c.name] = raw > 0
            counts = raw + _SMOOTHING
            self.u[c.name] = counts / counts.sum()

    def _table(self, name: str) -> np.ndarray:
        """Level weights; a level seen neither in random pairs nor in training weighs nothing (with one
        kabupaten in the data, "another kabupaten" is evidence neither way)."""
        table = np.log2(self.m[name] / self.u[name])
        everywhere = np.ones_like(table, dtype=bool)
        unseen = ~self._u_seen.get(name, everywhere) & ~self._m_seen.get(name, everywhere)
        return np.where(unseen, 0.0, table)

    def _em(
        self,
        arrays: dict[str, np.ndarray],
        counts: np.ndarray,
        estimate: list[Comparison],
        *,
        max_iterations: int,
        tolerance: float,
    ) -> tuple[dict[str, np.ndarray], float, int, bool]:
        """EM over the distinct comparison patterns in `arrays` (each seen `counts` times) for the `estimate`
        comparisons only, u fixed."""
        m = {c.name: self.m.get(c.name, _default_m(c)) for c in estimate}
        prior, total = 0.5, float(counts.sum())
        n = len(counts)
        for iteration in range(1, max_iterations + 1):
            log_odds = np.full(n, np.log2(prior / (1 - prior)))
            for c in estimate:
                lv = arrays[c.name]
                table = np.log2(m[c.name] / self.u[c.name])
                log_odds += np.where(lv == MISSING, 0.0, table[np.clip(lv, 0, None)])
            posterior = 1.0 / (1.0 + np.exp2(-np.clip(log_odds, -60, 60)))
            expected = posterior * counts
            new_m = {}
            for c in estimate:
                level_counts = _level_counts(arrays[c.name], c.n_levels, expected) + _SMOOTHING * 1e-3
                new_m[c.name] = level_counts / level_counts.sum()
            change = max(float(np.abs(new_m[k] - m[k]).max()) for k in new_m)
            m, prior = new_m, float(np.clip(expected.sum() / total, 1e-6, 1 - 1e-6))
            if change < tolerance:
                return m, prior, iteration, True
        return m, prior, max_iterations, False

    def _patterns(self, arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The distinct comparison vectors among the pairs and how often each occurs: EM works on these
        (a few thousand) instead of every pair (millions), with the same result."""
        key = np.zeros(len(next(iter(arrays.values()))), dtype=np.int64)
        for c in self.comparisons:
            key = key * (c.n_levels + 1) + (arrays[c.name].astype(np.int64) + 1)
        distinct, counts = np.unique(key, return_counts=True)
        out = {}
        for c in reversed(self.comparisons):
            out[c.name] = (distinct % (c.n_levels + 1) - 1).astype(np.int8)
            distinct = distinct // (c.n_levels + 1)
        return out, counts.astype(float)

    def fit_m(
        self,
        levels: pd.DataFrame,
        sessions: list[tuple[str, np.ndarray, set[str]]],
        *,
        max_iterations: int = 60,
        tolerance: float = 1e-5,
    ) -> None:
        """m by EM in training sessions, the way Splink trains: each session takes the pairs that agree on
        some comparisons (`mask`) and estimates m for the *other* comparisons only. Pairs chosen for
        agreeing on a field say nothing about how often true pairs agree on it, and estimating everything
        at once lets households (same KK, village and mother) pass for the same person."""
        arrays_all = {c.name: levels[c.name].to_numpy() for c in self.comparisons}
        estimates: dict[str, list[np.ndarray]] = {c.name: [] for c in self.comparisons}
        self.sessions = []
        for name, mask, excluded in sessions:
            estimate = [c for c in self.comparisons if c.name not in excluded]
            if mask.sum() < 10:
                self.sessions.append({"session": name, "pairs": int(mask.sum()), "skipped": True})
                continue
            arrays, counts = self._patterns({k: v[mask] for k, v in arrays_all.items()})
            m, prior, iterations, converged = self._em(
                arrays, counts, estimate, max_iterations=max_iterations, tolerance=tolerance
            )
            for c in estimate:
                estimates[c.name].append(m[c.name])
                seen = _level_counts(arrays[c.name], c.n_levels) > 0
                self._m_seen[c.name] = self._m_seen.get(c.name, np.zeros(c.n_levels, dtype=bool)) | seen
            self.sessions.append(
                {
                    "session": name,
                    "pairs": int(mask.sum()),
                    "estimated": [c.name for c in estimate],
                    "prior": prior,
                    "iterations": iterations,
                    "converged": converged,
                }
            )
            self.em_iterations += iterations
        for c in self.comparisons:
            found = estimates[c.name]
            m = np.mean(found, axis=0) if found else self.m.get(c.name, _default_m(c))
            m = np.maximum(m, M_FLOOR)
            self.m[c.name] = m / m.sum()
        self.converged = all(s.get("converged", True) for s in self.sessions)

    def candidate_match_share(self, levels: pd.DataFrame, *, prior: float = 0.1, iterations: int = 50) -> float:
        """The share of matches among these candidate pairs, by EM with m and u fixed (each pair's weight is
        fixed, only the share moves)."""
        arrays = self._arrays(levels)
        if not len(next(iter(arrays.values()), [])):
            return prior
        weight = sum(self._weight_arrays(arrays).values())
        for _ in range(iterations):
            bits = np.log2(prior / (1 - prior))
            posterior = 1.0 / (1.0 + np.exp2(-np.clip(bits + weight, -60, 60)))
            new = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
            if abs(new - prior) < 1e-7:
                return new
            prior = new
        return prior

    @staticmethod
    def random_pair_prior(share: float, candidates: int, left: int, right: int) -> float:
        """P(match) of a random pair, from the share of matches among the candidates: the expected matches
        (at most one per left record) over all left x right pairs."""
        matches = min(share * candidates, float(left))
        return float(np.clip(matches / max(left * right, 1), 1e-15, 0.5))

    def fit_prior(self, levels: pd.DataFrame, *, left: int, right: int) -> None:
        """The link prior, from the candidate pairs of `left` rows against `right` persons."""
        share = self.candidate_match_share(levels)
        self.prior = self.random_pair_prior(share, len(levels), left, right)

    def fit_dedupe_prior(self, levels: pd.DataFrame, *, left: int, right: int) -> None:
        """The prior of two submission rows being one person, from their candidate pairs."""
        share = self.candidate_match_share(levels)
        self.dedupe_prior = self.random_pair_prior(share, len(levels), left, right)

    def level_weights(self, comparison: str) -> np.ndarray:
        return self._table(comparison)

    def _arrays(self, levels: pd.DataFrame) -> dict[str, np.ndarray]:
        arrays = {c.name: levels[c.name].to_numpy() for c in self.comparisons}
        for name in TF_ADJUSTED:
            if f"tf_{name}" in levels.columns:
                arrays[f"tf_{name}"] = levels[f"tf_{name}"].to_numpy(dtype=float)
        return arrays

    def weights(self, levels: pd.DataFrame) -> pd.DataFrame:
        """Per pair and comparison, the match weight in bits (0 where missing)."""
        return pd.DataFrame(self._weight_arrays(self._arrays(levels)), index=levels.index)

    def _weight_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for c in self.comparisons:
            lv = arrays[c.name]
            table = self._table(c.name)
            weight = np.where(lv == MISSING, 0.0, table[np.clip(lv, 0, None)])
            tf = arrays.get(f"tf_{c.name}")
            if tf is not None:
                level = TF_ADJUSTED[c.name]
                adjusted = np.log2(self.m[c.name][level] / np.clip(np.nan_to_num(tf, nan=1.0), 1e-9, 1.0))
                weight = np.where((lv == level) & ~np.isnan(tf), adjusted, weight)
            for other, level in IMPLIED_BY.get(c.name, ()):
                weight = np.where(arrays[other] == level, 0.0, weight)
            out[c.name] = weight
        return out

    def _log_odds(self, arrays: dict[str, np.ndarray], prior: float | None = None) -> np.ndarray:
        n = len(next(iter(arrays.values())))
        prior = self.prior if prior is None else prior
        total = np.full(n, np.log2(prior / (1 - prior)))
        for weight in self._weight_arrays(arrays).values():
            total += weight
        return total

    def _posterior(self, arrays: dict[str, np.ndarray], prior: float | None = None) -> np.ndarray:
        return 1.0 / (1.0 + np.exp2(-np.clip(self._log_odds(arrays, prior), -60, 60)))

    def match_weight(self, levels: pd.DataFrame) -> np.ndarray:
        """Sum of level weights, without the prior (comparable across runs)."""
        return self.weights(levels).sum(axis=1).to_numpy()

    def probability(self, levels: pd.DataFrame, prior: float | None = None) -> np.ndarray:
        """Match probability of each pair, with the link prior unless another is given."""
        return self._posterior(self._arrays(levels), prior)

    @classmethod
    def from_description(cls, description: dict) -> FellegiSunter:
        """The model `describe` wrote (a run's link diagnostics), fitted again without data: m, u, the
        priors, and which levels weigh nothing (seen neither in random pairs nor in training)."""
        model = cls(prior=float(description["prior"]), dedupe_prior=float(description["dedupe_prior"]))
        for c in model.comparisons:
            levels = description["comparisons"][c.name]
            model.m[c.name] = np.array([level["m"] for level in levels], dtype=float)
            model.u[c.name] = np.array([level["u"] for level in levels], dtype=float)
            silent = np.array([level["weight"] == 0.0 for level in levels]) & (model.m[c.name] != model.u[c.name])
            model._u_seen[c.name] = model._m_seen[c.name] = ~silent
        return model

    def describe(self) -> dict:
        """The fitted parameters, for the run record and the auditor."""
        return {
            "prior": self.prior,
            "dedupe_prior": self.dedupe_prior,
            "em_iterations": self.em_iterations,
            "sessions": self.sessions,
            "converged": self.converged,
            # How weights combine, so that a waterfall can be explained from the run record alone.
            "implied_by": {name: [list(pair) for pair in pairs] for name, pairs in IMPLIED_BY.items()},
            "tf_adjusted": dict(TF_ADJUSTED),
            "comparisons": {
                c.name: [
                    {
                        "level": i,
                        "label": label,
                        "m": float(self.m[c.name][i]),
                        "u": float(self.u[c.name][i]),
                        "weight": float(self.level_weights(c.name)[i]),
                    }
                    for i, label in enumerate(c.levels)
                ]
                for c in self.comparisons
            },
        }
