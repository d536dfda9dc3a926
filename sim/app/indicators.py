"""Per-grid indicators for the city map, computed from the model's arrays.

- ``unresolved``: open issues (hidden, routing, queued or in service) per 1,000 residents;
- ``trust``: mean trust in government (legitimacy L) of the grid's residents;
- ``participation``: mean participation propensity of the grid's residents;
- ``risk``: open safety risks (安全隐患) per 1,000 residents.
"""

from __future__ import annotations

import numpy as np

from sim.issues import CAT_RISK, FIRST_CLOSED

INDICATOR_KEYS = ("unresolved", "trust", "participation", "risk")


def grid_population(city) -> np.ndarray:
    return np.diff(city.grid_start).astype(np.float64)


def _per_grid_mean(values: np.ndarray, city) -> np.ndarray:
    n = grid_population(city)
    if values.shape[0] == 0:
        return np.full(city.n_grids, np.nan)
    sums = np.bincount(city.grid, weights=values.astype(np.float64), minlength=city.n_grids)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, sums / np.maximum(n, 1), np.nan)


def _per_grid_open(state, mask_extra=None) -> np.ndarray:
    city, t = state.city, state.issues
    open_ = t.status < FIRST_CLOSED
    if mask_extra is not None:
        open_ &= mask_extra
    counts = np.bincount(t.grid[open_], minlength=city.n_grids).astype(np.float64)
    n = grid_population(city)
    return np.where(n > 0, 1000.0 * counts / np.maximum(n, 1), np.nan)


def grid_indicator(state, key: str) -> np.ndarray:
    """Values of indicator ``key`` for every grid (float64[n_grids]; NaN for empty grids)."""
    if key == "unresolved":
        return _per_grid_open(state)
    if key == "risk":
        return _per_grid_open(state, state.issues.category == CAT_RISK)
    if key == "trust":
        return _per_grid_mean(state.residents.trust, state.city)
    if key == "participation":
        return _per_grid_mean(state.residents.participation, state.city)
    raise ValueError(f"unknown indicator {key!r}; allowed: {', '.join(INDICATOR_KEYS)}")


def county_indicator(state, key: str) -> np.ndarray:
    """The indicator aggregated per county (resident-weighted), float64[n_counties]."""
    city = state.city
    vals = grid_indicator(state, key)
    n = grid_population(city)
    ok = np.isfinite(vals)
    num = np.bincount(city.grid_county[ok], weights=(vals * n)[ok], minlength=city.n_counties)
    den = np.bincount(city.grid_county[ok], weights=n[ok], minlength=city.n_counties)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)
