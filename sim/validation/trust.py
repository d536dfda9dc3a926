"""Trust exchange run alone: Deffuant et al.'s bounded-confidence model and its clusters.

:func:`deffuant_alone` runs the classic version (complete mixing, random pairs,
sequential) for the known result — final clusters ≈ ⌊1/(2d)⌋, consensus for d ≥ 0.5;
:func:`deffuant_sync_alone` runs the city kernel's synchronous one-sided rule
(:mod:`sim.kernels.trust`) with complete mixing; :func:`count_clusters` scores both.

References
----------
1. Deffuant, G., Neau, D., Amblard, F., & Weisbuch, G. (2000). Mixing beliefs among
   interacting agents. Advances in Complex Systems 3(1–4), 87–98.
   doi:10.1142/S0219525900000078
2. Lorenz, J. (2007). Continuous opinion dynamics under bounded confidence: a survey.
   International Journal of Modern Physics C 18(12), 1819–1838.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.kernels.trust import bounded_confidence
from sim.rng import S_TRUST_INIT, S_TRUST_PAIR, S_TRUST_PARTNER, uniform

__all__ = ["count_clusters", "deffuant_alone", "deffuant_sync_alone"]


@njit(cache=True)
def _initial_opinions(n, seed):
    x = np.empty(n)
    for i in range(n):
        x[i] = uniform(seed, S_TRUST_INIT, 0, i)
    return x


@njit(cache=True)
def _deffuant_pairs(x, d, mu, seed, first, n_meetings):
    """Meetings ``first .. first + n_meetings − 1`` of Deffuant's model, in place."""
    n = x.shape[0]
    for t in range(first, first + n_meetings):
        i = int(uniform(seed, S_TRUST_PAIR, t, 0) * n)
        j = int(uniform(seed, S_TRUST_PAIR, t, 1) * (n - 1))
        if j >= i:
            j += 1
        xi = x[i]
        xj = x[j]
        x[i] = bounded_confidence(xi, xj, d, mu)
        x[j] = bounded_confidence(xj, xi, d, mu)


def deffuant_alone(
    n_agents: int,
    confidence: float,
    convergence: float = 0.5,
    meetings_per_agent: int = 2000,
    seed: int = 0,
    x0: np.ndarray | None = None,
) -> np.ndarray:
    """Deffuant et al.'s (2000) model alone: complete mixing, random pairs, sequential.

    At each meeting a pair ``(i, j)`` is drawn uniformly among all pairs; if
    ``|x_i − x_j| < d`` both move: ``x_i ← x_i + μ (x_j − x_i)`` and
    ``x_j ← x_j + μ (x_i − x_j)`` (old values on the right; Deffuant et al. 2000).

    Parameters
    ----------
    n_agents : int
        ``N`` ≥ 2 (Deffuant et al. use 1,000).
    confidence : float
        ``d``.
    convergence : float
        ``μ`` (0.5: the two meet halfway).
    meetings_per_agent : int
        Number of meetings is ``meetings_per_agent · N``.
    seed : int
    x0 : float array [n_agents], optional
        Initial opinions; default uniform on [0, 1] from the counter-based hash.

    Returns
    -------
    float64[n_agents]
        Final opinions.
    """
    if n_agents < 2:
        raise ValueError(f"n_agents must be >= 2; got {n_agents}")
    if x0 is None:
        x = _initial_opinions(int(n_agents), int(seed))
    else:
        x = np.array(x0, dtype=np.float64)
        if x.shape != (n_agents,):
            raise ValueError(f"x0 must have shape ({n_agents},); got {x.shape}")
    _deffuant_pairs(
        x, float(confidence), float(convergence), int(seed), 0, int(meetings_per_agent * n_agents)
    )
    return x


def deffuant_sync_alone(
    n_agents: int,
    confidence: float,
    convergence: float = 0.5,
    n_days: int = 4000,
    seed: int = 0,
) -> np.ndarray:
    """The city kernel's synchronous one-sided rule alone, with complete mixing.

    Each day every agent picks one other agent uniformly (counter-based hash of
    (seed, day, i)) and updates with :func:`bounded_confidence` from yesterday's values.
    Experience effects are off.

    Parameters
    ----------
    n_agents : int
    confidence, convergence : float
        ``d``, ``μ``.
    n_days : int
    seed : int

    Returns
    -------
    float64[n_agents]
        Final opinions.
    """
    if n_agents < 2:
        raise ValueError(f"n_agents must be >= 2; got {n_agents}")
    return _sync_complete(int(n_agents), float(confidence), float(convergence), int(n_days), seed)


@njit(cache=True)
def _sync_complete(n, d, mu, n_days, seed):
    x = _initial_opinions(n, seed)
    y = np.empty(n)
    for day in range(n_days):
        for i in range(n):
            j = int(uniform(seed, S_TRUST_PARTNER, day, i) * (n - 1))
            if j >= i:
                j += 1
            y[i] = bounded_confidence(x[i], x[j], d, mu)
        x, y = y, x
    return x


def count_clusters(
    x: np.ndarray, min_share: float = 0.0, gap: float = 1e-3
) -> tuple[int, np.ndarray, np.ndarray]:
    """Opinion clusters: runs of sorted opinions with no gap wider than ``gap``.

    Parameters
    ----------
    x : float array
        Opinions.
    min_share : float
        Clusters holding less than this share of the agents are *minor* and not counted.
    gap : float
        Opinions closer than this (after sorting) belong to the same cluster.

    Returns
    -------
    n_major : int
        Clusters holding at least ``min_share`` of the agents.
    centres : float64[n_clusters]
        Mean opinion of every cluster (major and minor), ascending.
    sizes : int64[n_clusters]
    """
    s = np.sort(np.asarray(x, dtype=np.float64))
    if s.shape[0] == 0:
        return 0, np.empty(0), np.empty(0, dtype=np.int64)
    cuts = np.flatnonzero(np.diff(s) > gap) + 1
    bounds = np.concatenate([[0], cuts, [s.shape[0]]])
    sizes = np.diff(bounds)
    centres = np.add.reduceat(s, bounds[:-1]) / sizes
    n_major = int(np.count_nonzero(sizes >= min_share * s.shape[0]))
    return n_major, centres, sizes
