"""Plain-Python twin of :func:`sim.kernels.activation.activation_step` (one loop per resident).

Epstein (2002): grievance G = H·(1 − L); estimated arrest probability
P = 1 − exp(−k·round(C/A)) with C the grid's enforcement presence and A the grid's
actives of yesterday (herself counted as one); active if G − R·P > T. A grid with at
least max(min count, share × residents) actives makes a collective incident.
"""

from __future__ import annotations

import math

import numpy as np

from sim.rng import S_RISK_AVERSION, uniform_py


def is_active(grievance, risk_aversion, cops, actives, k, threshold) -> bool:
    """Epstein's rule; ``round`` is Python's (half to even), as in Mesa."""
    arrest_probability = 1.0 - math.exp(-k * round(cops / actives))
    return grievance - risk_aversion * arrest_probability > threshold


def activation_step(
    hardship, trust, active, grid_start, presence, grievance_out, *, arrest_constant,
    threshold, incident_share, incident_min_active, seed,
):  # fmt: skip
    """Returns (active_new, grid_active, incident); writes grievance_out."""
    n_grids = len(grid_start) - 1
    active_new = np.zeros(len(hardship), dtype=np.uint8)
    grid_active = np.zeros(n_grids, dtype=np.int32)
    incident = np.zeros(n_grids, dtype=np.uint8)
    for g in range(n_grids):
        rows = range(int(grid_start[g]), int(grid_start[g + 1]))
        active_yesterday = sum(int(active[i]) for i in rows)
        for i in rows:
            grievance = float(hardship[i]) * (1.0 - float(trust[i]))
            grievance_out[i] = grievance
            others = active_yesterday - int(active[i])
            risk = uniform_py(seed, S_RISK_AVERSION, 0, i)
            if is_active(grievance, risk, float(presence[g]), 1.0 + others, arrest_constant,
                         threshold):  # fmt: skip
                active_new[i] = 1
                grid_active[g] += 1
        need = max(float(incident_min_active), incident_share * len(rows))
        incident[g] = 1 if grid_active[g] >= need else 0
    return active_new, grid_active, incident
