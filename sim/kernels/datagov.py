"""Data governance: misuse of shared data and the trust it destroys in the grid (数据治理).

Every use of shared personal data (a command-centre dispatch with data sharing, a video
find; see :mod:`sim.kernels.route`) is misused with probability

    p_misuse = m₀·(1 − e_log·[终身留痕 logging])·(1 − e_perm·[permission control])
               ·(1 − e_det·deterrence),

the deterrence model of Becker (1968): misuse falls with the chance of being found out
(life-long access logs), the barriers to access (explicit permissions) and the expected
sanction. :func:`misuse_probability` is the one home of the formula (routing's
:func:`sim.kernels.route.pack_route_params` calls it).

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

from sim.issues import rows_by_grid

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


@njit(cache=True, parallel=True)
def _trust_shock_kernel(incidents, delta, out):
    """shock_g = 1 − (1 − δ)^{n_g}: share of trust lost in grid g today."""
    for g in prange(incidents.shape[0]):
        # (1 − δ)^n as n multiplications, written out so that the twin does the same
        # arithmetic (numba's ** and Python's pow differ in the last bits)
        keep = 1.0
        for _ in range(incidents[g]):
            keep *= 1.0 - delta
        out[g] = 1.0 - keep if incidents[g] > 0 else 0.0
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

    ``misuse`` is the uint8 array routing fills (1 = data used, 2 = misused); ``grid`` the
    issues' grid column.
    """
    return rows_by_grid(np.asarray(misuse), np.asarray(grid), MISUSED, int(n_grids))


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


@dataclass(frozen=True)
class Params:
    """Data-governance parameters, built once from the scenario.

    Attributes
    ----------
    misuse_prob : float
        Chance one data use is misused (:func:`misuse_probability` of the scenario).
    trust_shock : float
        δ, share of trust one incident destroys (``routing.misuse_trust_shock``).
    """

    misuse_prob: float
    trust_shock: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        r, g = sc.routing, sc.levers.data_governance
        return cls(
            misuse_prob=misuse_probability(
                r.misuse_risk_per_use,
                g.access_logging,
                g.permission_control,
                g.misuse_deterrence,
                e_log=r.misuse_logging_effect,
                e_perm=r.misuse_permission_effect,
                e_det=r.misuse_deterrence_effect,
            ),  # fmt: skip
            trust_shock=r.misuse_trust_shock,
        )


def datagov_step(trust, grid_start, misuse_by_grid_today, p: Params) -> None:
    """Trust falls at once in the grids where data were misused today (in place).

    ``misuse_by_grid_today`` comes from routing (:class:`sim.kernels.route.Routed`).
    """
    if misuse_by_grid_today.any():
        apply_trust_shock(trust, grid_start, trust_shock(misuse_by_grid_today, p.trust_shock))


def apply_trust_shock(trust, grid_start, shock) -> None:
    """Lower the trust of each grid's residents in place: T_i ← T_i·(1 − shock_g).

    ``trust`` is the residents' array (any float dtype); residents of grid g are rows
    ``grid_start[g]:grid_start[g+1]`` (:class:`sim.city.City`).
    """
    _apply_shock_kernel(trust, np.asarray(grid_start, dtype=np.int64), np.asarray(shock))
