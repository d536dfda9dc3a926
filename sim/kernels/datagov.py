"""Data governance: misuse of shared data and the trust it destroys in the grid (数据治理).

Every use of shared personal data (a command-centre dispatch with data sharing, a video
find; see :mod:`sim.kernels.route`) is misused with probability

    p_misuse = m₀·(1 − e_log·[终身留痕 logging])·(1 − e_perm·[permission control])
               ·(1 − e_det·deterrence),

the deterrence model of Becker (1968): misuse falls with the chance of being found out
(life-long access logs), the barriers to access (explicit permissions) and the expected
sanction. :func:`misuse_probability` is the formula ``pack_route_params`` uses.

A misuse incident becomes known in the grid of the resident whose data were misused and
lowers the trust of that grid's residents: with n_g incidents in grid g today and a loss
δ (``trust_shock``) per incident,

    shock_g = 1 − (1 − δ)^{n_g},    T_i ← T_i·(1 − shock_g)  for residents i of g.

Trust is lost at once and multiplicatively (each incident takes the share δ of what is
left); regaining it is left to the trust dynamics, and is slow — the asymmetry principle
of Slovic (1993): trust is created slowly and destroyed in an instant.

References
----------
1. Becker, G. S. (1968). Crime and punishment: an economic approach. Journal of Political
   Economy 76(2), 169–217. doi:10.1086/259394
2. Slovic, P. (1993). Perceived risk, trust, and democracy. Risk Analysis 13(6), 675–682.
   doi:10.1111/j.1539-6924.1993.tb01329.x
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.kernels.rng import uniform

# Counter-based random-number streams of this module (see sim.kernels.rng).
S_DATA_USE = 80  # datagov_alone: is a data use misused?

MISUSED = 2  # code of a misused data use in route_step's per-row output (1: used, no misuse)


def misuse_probability(
    m0: float,
    logging: bool | float,
    permission: bool | float,
    deterrence: float,
    *,
    e_log: float,
    e_perm: float,
    e_det: float,
) -> float:
    """Chance that one data use is misused (Becker 1968; same formula as routing).

    Parameters
    ----------
    m0 : float
        ``routing.misuse_risk_per_use``: risk per use without any governance.
    logging, permission : bool or float
        ``levers.data_governance.access_logging`` / ``permission_control`` (0–1).
    deterrence : float
        ``levers.data_governance.misuse_deterrence`` (0–1).
    e_log, e_perm, e_det : float
        ``routing.misuse_logging_effect``, ``misuse_permission_effect``,
        ``misuse_deterrence_effect``: reductions at full strength (0–1).
    """
    for name, v in (("m0", m0), ("logging", logging), ("permission", permission),
                    ("deterrence", deterrence), ("e_log", e_log), ("e_perm", e_perm),
                    ("e_det", e_det)):  # fmt: skip
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"The '{name}' parameter of misuse_probability must be in [0, 1]. "
                             f"Got {v!r}.")  # fmt: skip
    return (
        float(m0)
        * (1.0 - e_log * float(logging))
        * (1.0 - e_perm * float(permission))
        * (1.0 - e_det * float(deterrence))
    )


@njit(cache=True)
def _misuse_count_kernel(misuse, grid, n_grids):
    """Misused data uses (code 2) per grid, in row order."""
    out = np.zeros(n_grids, dtype=np.int64)
    for k in range(misuse.shape[0]):
        if misuse[k] == MISUSED:
            out[grid[k]] += 1
    return out


@njit(cache=True, parallel=True)
def _trust_shock_kernel(incidents, delta, out):
    """shock_g = 1 − (1 − δ)^{n_g}: share of trust lost in grid g today."""
    for g in prange(incidents.shape[0]):
        out[g] = 1.0 - (1.0 - delta) ** incidents[g] if incidents[g] > 0 else 0.0
    return out


@njit(cache=True, parallel=True)
def _apply_shock_kernel(trust, grid_start, shock):
    """T_i ← T_i·(1 − shock_g) for the residents of every grid with a shock."""
    for g in prange(shock.shape[0]):
        s = shock[g]
        if s <= 0.0:
            continue
        keep = 1.0 - s
        for i in range(grid_start[g], grid_start[g + 1]):
            trust[i] = trust[i] * keep


def misuse_by_grid(misuse, grid, n_grids: int) -> np.ndarray:
    """Misuse incidents per grid from ``route_step``'s per-row codes (int64 [n_grids]).

    ``misuse`` is the uint8 array ``route_step`` fills (``state.row_scratch(n)``: 1 = data
    used, 2 = misused); ``grid`` the issues' grid column.
    """
    return _misuse_count_kernel(np.asarray(misuse), np.asarray(grid), int(n_grids))


def trust_shock(incidents_by_grid, delta: float) -> np.ndarray:
    """Per-grid share of trust lost today, 1 − (1 − δ)^{n_g} (float64 [n_grids]).

    Parameters
    ----------
    incidents_by_grid : int array [n_grids]
        Misuse incidents that became known in each grid today.
    delta : float
        δ in [0, 1], share of trust one incident destroys.
    """
    if not 0.0 <= delta <= 1.0:
        raise ValueError(f"The 'delta' parameter of trust_shock must be in [0, 1]. Got {delta!r}.")
    n = np.asarray(incidents_by_grid, dtype=np.int64)
    return _trust_shock_kernel(n, float(delta), np.empty(n.shape[0]))


def apply_trust_shock(trust, grid_start, shock) -> None:
    """Lower the trust of each grid's residents in place: T_i ← T_i·(1 − shock_g).

    ``trust`` is the residents' array (any float dtype); residents of grid g are rows
    ``grid_start[g]:grid_start[g+1]`` (:class:`sim.city.City`).
    """
    _apply_shock_kernel(trust, np.asarray(grid_start, dtype=np.int64), np.asarray(shock))


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
