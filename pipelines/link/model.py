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
# No level of a true pair is rarer than this: a level never seen in training (a KK typo, a sex error)
# must not weigh like an impossibility, since real data has errors the training quarter lacked.
M_FLOOR = 1e-3
# Comparisons that say nothing once another agrees: members of one family card live in one village, so
# "same village" adds no evidence on top of "same KK" (counting both lets households pass for persons).
IMPLIED_BY: dict[str, tuple[str, int]] = {"desa": ("kk", 2), "name_tokens": ("name", 3)}
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
    prior: float = 0.1  # P(match) among candidate pairs
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
        self, arrays: dict[str, np.ndarray], estimate: list[Comparison], *, max_iterations: int, tolerance: float
    ) -> tuple[dict[str, np.ndarray], float, int, bool]:
        """EM over the pairs in `arrays` for the `estimate` comparisons only, u fixed."""
        m = {c.name: self.m.get(c.name, _default_m(c)) for c in estimate}
        prior, n = 0.5, len(next(iter(arrays.values())))
        for iteration in range(1, max_iterations + 1):
            log_odds = np.full(n, np.log2(prior / (1 - prior)))
            for c in estimate:
                lv = arrays[c.name]
                table = np.log2(m[c.name] / self.u[c.name])
                log_odds += np.where(lv == MISSING, 0.0, table[np.clip(lv, 0, None)])
            posterior = 1.0 / (1.0 + np.exp2(-np.clip(log_odds, -60, 60)))
            new_m = {}
            for c in estimate:
                counts = _level_counts(arrays[c.name], c.n_levels, posterior) + _SMOOTHING * 1e-3
                new_m[c.name] = counts / counts.sum()
            change = max(float(np.abs(new_m[k] - m[k]).max()) for k in new_m)
            m, prior = new_m, float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
            if change < tolerance:
                return m, prior, iteration, True
        return m, prior, max_iterations, False

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
            arrays = {k: v[mask] for k, v in arrays_all.items()}
            m, prior, iterations, converged = self._em(
                arrays, estimate, max_iterations=max_iterations, tolerance=tolerance
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

    def fit_prior(self, levels: pd.DataFrame, *, iterations: int = 50) -> None:
        """The share of matches among these pairs, by EM with m and u fixed."""
        arrays = self._arrays(levels)
        if not len(next(iter(arrays.values()), [])):
            return
        for _ in range(iterations):
            new = float(np.clip(self._posterior(arrays).mean(), 1e-6, 1 - 1e-6))
            if abs(new - self.prior) < 1e-7:
                break
            self.prior = new

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
            if c.name in IMPLIED_BY:
                other, level = IMPLIED_BY[c.name]
                weight = np.where(arrays[other] == level, 0.0, weight)
            out[c.name] = weight
        return out

    def _log_odds(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(arrays.values())))
        total = np.full(n, np.log2(self.prior / (1 - self.prior)))
        for weight in self._weight_arrays(arrays).values():
            total += weight
        return total

    def _posterior(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp2(-np.clip(self._log_odds(arrays), -60, 60)))

    def match_weight(self, levels: pd.DataFrame) -> np.ndarray:
        """Sum of level weights, without the prior (comparable across runs)."""
        return self.weights(levels).sum(axis=1).to_numpy()

    def probability(self, levels: pd.DataFrame) -> np.ndarray:
        return self._posterior(self._arrays(levels))

    def describe(self) -> dict:
        """The fitted parameters, for the run record and the auditor."""
        return {
            "prior": self.prior,
            "em_iterations": self.em_iterations,
            "sessions": self.sessions,
            "converged": self.converged,
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
