"""Plain-Python twin of :mod:`sim.kernels.datagov` (one loop per data use and resident).

Each misused data use is an incident in its grid; n incidents in a grid cut the trust of
each of its residents to (1 − δ)^n of what it was.
"""

from __future__ import annotations

from sim.kernels.datagov import MISUSED
from sim.rng import S_DATA_USE, uniform_py


def misuse_by_grid(misuse, grid, n_grids):
    out = [0] * n_grids
    for k in range(len(misuse)):
        if misuse[k] == MISUSED:
            out[grid[k]] += 1
    return out


def trust_shock(incidents, delta):
    out = []
    for n in incidents:
        keep = 1.0
        for _ in range(int(n)):
            keep *= 1.0 - delta
        out.append(1.0 - keep if n > 0 else 0.0)
    return out


def apply_trust_shock(trust, grid_start, shock):
    """In place, with the product in double precision, then stored in trust's dtype."""
    for g in range(len(shock)):
        if shock[g] <= 0.0:
            continue
        for i in range(grid_start[g], grid_start[g + 1]):
            trust[i] = float(trust[i]) * (1.0 - shock[g])


def use_draws(seed, day, uses, p):
    """Misuse incidents per grid among its data uses today."""
    return [
        sum(uniform_py(seed, S_DATA_USE, day, g * 1_000_000 + j) < p for j in range(uses[g]))
        for g in range(len(uses))
    ]
