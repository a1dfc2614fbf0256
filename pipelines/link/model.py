"""The Fellegi-Sunter model: for each comparison level, m = P(level | same person) and
u = P(level | different persons); the match weight of a level is log2(m/u).

Estimated without labels, the way the method is meant to be used at scale:
- u from random pairs (almost all different people), so u is what chance agreement looks like;
- m by expectation-maximisation on the candidate pairs, with u held fixed.
A pair's match weight is the sum of its levels' weights (missing values weigh nothing); its match
probability adds the prior odds of a match among candidate pairs, also estimated by EM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.link.comparisons import COMPARISONS, MISSING, Comparison

_SMOOTHING = 0.5  # Laplace-style pseudo-count, so no level ever has probability 0


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
    prior: float = 0.1  # P(match) among candidate pairs
    em_iterations: int = 0
    converged: bool = False

    def fit_u(self, random_levels: pd.DataFrame) -> None:
        for c in self.comparisons:
            counts = _level_counts(random_levels[c.name].to_numpy(), c.n_levels) + _SMOOTHING
            self.u[c.name] = counts / counts.sum()

    def fit_m(self, levels: pd.DataFrame, *, max_iterations: int = 60, tolerance: float = 1e-5) -> None:
        """EM over candidate pairs, u fixed."""
        self.m = {c.name: self.m.get(c.name, _default_m(c)) for c in self.comparisons}
        arrays = {c.name: levels[c.name].to_numpy() for c in self.comparisons}
        for iteration in range(1, max_iterations + 1):
            posterior = self._posterior(arrays)
            total = posterior.sum()
            new_m = {}
            for c in self.comparisons:
                counts = _level_counts(arrays[c.name], c.n_levels, posterior) + _SMOOTHING * 1e-3
                new_m[c.name] = counts / counts.sum()
            change = max(float(np.abs(new_m[n] - self.m[n]).max()) for n in new_m)
            self.m = new_m
            self.prior = float(np.clip(total / len(posterior), 1e-9, 1 - 1e-9)) if len(posterior) else self.prior
            self.em_iterations = iteration
            if change < tolerance:
                self.converged = True
                break

    def level_weights(self, comparison: str) -> np.ndarray:
        return np.log2(self.m[comparison] / self.u[comparison])

    def weights(self, levels: pd.DataFrame) -> pd.DataFrame:
        """Per pair and comparison, the match weight in bits (0 where missing)."""
        out = {}
        for c in self.comparisons:
            lv = levels[c.name].to_numpy()
            table = self.level_weights(c.name)
            out[c.name] = np.where(lv == MISSING, 0.0, table[np.clip(lv, 0, None)])
        return pd.DataFrame(out, index=levels.index)

    def _log_odds(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(arrays.values())))
        total = np.full(n, np.log2(self.prior / (1 - self.prior)))
        for c in self.comparisons:
            lv = arrays[c.name]
            table = np.log2(self.m[c.name] / self.u[c.name])
            total += np.where(lv == MISSING, 0.0, table[np.clip(lv, 0, None)])
        return total

    def _posterior(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp2(-np.clip(self._log_odds(arrays), -60, 60)))

    def match_weight(self, levels: pd.DataFrame) -> np.ndarray:
        """Sum of level weights, without the prior (comparable across runs)."""
        return self.weights(levels).sum(axis=1).to_numpy()

    def probability(self, levels: pd.DataFrame) -> np.ndarray:
        return self._posterior({c.name: levels[c.name].to_numpy() for c in self.comparisons})

    def describe(self) -> dict:
        """The fitted parameters, for the run record and the auditor."""
        return {
            "prior": self.prior,
            "em_iterations": self.em_iterations,
            "converged": self.converged,
            "comparisons": {
                c.name: [
                    {"level": i, "label": label, "m": float(self.m[c.name][i]), "u": float(self.u[c.name][i]),
                     "weight": float(self.level_weights(c.name)[i])}
                    for i, label in enumerate(c.levels)
                ]
                for c in self.comparisons
            },
        }
