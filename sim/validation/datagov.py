"""Data governance run alone: data uses, misuse and the trust shock, grid by grid.

See :mod:`sim.kernels.datagov` for the mechanism (Becker 1968; Slovic 1993).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.kernels.datagov import apply_trust_shock, trust_shock
from sim.rng import S_DATA_USE, uniform

__all__ = ["DatagovAloneResult", "datagov_alone"]


@njit(cache=True, parallel=True)
def _use_draws_kernel(seed, day, uses, p, out):
    """Misuse incidents per grid among ``uses[g]`` data uses, each misused w.p. p."""
    for g in prange(uses.shape[0]):
        n = 0
        base = g * 1_000_000
        for j in range(uses[g]):
            if uniform(seed, S_DATA_USE, day, base + j) < p:
                n += 1
        out[g] = n
    return out


@dataclass(frozen=True)
class DatagovAloneResult:
    """Result of :func:`datagov_alone`.

    Attributes
    ----------
    incidents : int ndarray [n_days, n_grids]
    trust : float ndarray [n_grids]
        Trust of a resident of each grid at the end (started at ``trust0``).
    trust_loss : float
        Mean over grids of trust0 − trust at the end.
    misuse_prob : float
    """

    incidents: np.ndarray
    trust: np.ndarray
    trust_loss: float
    misuse_prob: float


def datagov_alone(
    uses_per_grid_day,
    days: int,
    misuse_prob: float,
    delta: float = 0.05,
    trust0: float = 0.62,
    seed: int = 0,
) -> DatagovAloneResult:
    """Run data use, misuse and the trust shock alone, grid by grid, day by day.

    Each grid makes ``uses_per_grid_day`` uses of shared data a day; each is misused with
    probability ``misuse_prob`` (e.g. from :func:`misuse_probability`, counter-based
    draws of stream :data:`S_DATA_USE`), and every incident cuts the grid's trust by the
    share ``delta`` (:func:`trust_shock`). There is no recovery here. Because draws are
    common to all settings, a stricter governance (smaller ``misuse_prob``) has, for the
    same seed, a subset of the incidents of a laxer one.

    Parameters
    ----------
    uses_per_grid_day : int array [n_grids]
        At most 1,000,000 each.
    days : int
    misuse_prob, delta, trust0 : float in [0, 1]
    seed : int
    """
    uses = np.asarray(uses_per_grid_day, dtype=np.int64)
    if uses.ndim != 1 or np.any(uses < 0) or np.any(uses > 1_000_000):
        raise ValueError("uses_per_grid_day must be a 1-D array of ints in [0, 1_000_000].")
    if not 0.0 <= misuse_prob <= 1.0 or not 0.0 <= trust0 <= 1.0:
        raise ValueError("misuse_prob and trust0 must be in [0, 1].")
    n_grids = uses.shape[0]
    incidents = np.zeros((int(days), n_grids), dtype=np.int64)
    trust = np.full(n_grids, float(trust0))
    starts = np.arange(n_grids + 1, dtype=np.int64)  # one representative resident per grid
    for d in range(int(days)):
        _use_draws_kernel(seed, d, uses, float(misuse_prob), incidents[d])
        apply_trust_shock(trust, starts, trust_shock(incidents[d], delta))
    return DatagovAloneResult(
        incidents=incidents,
        trust=trust,
        trust_loss=float(np.mean(trust0 - trust)) if n_grids else 0.0,
        misuse_prob=float(misuse_prob),
    )
