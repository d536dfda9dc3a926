"""The early-warning stage run alone on per-day, per-grid inputs (:mod:`sim.kernels.warning`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels.warning import (
    WarningParams,
    WarningScores,
    flag_grids,
    patrol_multiplier,
    risk_indicator,
    warning_scores,
)

__all__ = ["WarningAloneResult", "warning_alone"]


@dataclass(frozen=True)
class WarningAloneResult:
    """Daily output of :func:`warning_alone`.

    Attributes
    ----------
    risk : float ndarray [n_days, n_grids]
    flags : uint8 ndarray [n_days, n_grids]
    patrol : float ndarray [n_days, n_grids]
        Multiplier for the next day's patrols.
    scores : WarningScores or None
        Against ``incidents_by_day`` when given.
    """

    risk: np.ndarray
    flags: np.ndarray
    patrol: np.ndarray
    scores: WarningScores | None


def warning_alone(
    signals_by_day,
    n_residents,
    p: WarningParams,
    hours=None,
    incidents_by_day=None,
    horizon_days: int = 14,
) -> WarningAloneResult:
    """Run the early-warning stage alone on per-day, per-grid inputs.

    Parameters
    ----------
    signals_by_day : array [n_days, 5, n_grids]
        The indicator's observed inputs (order of :data:`sim.kernels.warning.SIGNALS`), as
        the model would have them at the end of each day.
    n_residents : array [n_grids]
    p : WarningParams
    hours : array [n_grids], optional
        Patrol hours per grid (default equal).
    incidents_by_day : int array [n_days, n_grids], optional
        If given, the flags are scored with :func:`warning_scores`.
    horizon_days : int
    """
    x = np.asarray(signals_by_day, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError("signals_by_day must be a 3-D array [n_days, n_signals, n_grids].")
    n_days, _, n_grids = x.shape
    h = np.ones(n_grids) if hours is None else np.asarray(hours, dtype=np.float64)
    risk = np.empty((n_days, n_grids))
    flags = np.zeros((n_days, n_grids), dtype=np.uint8)
    patrol = np.empty((n_days, n_grids))
    for d in range(n_days):
        risk[d] = risk_indicator(x[d], n_residents, p)
        flags[d] = flag_grids(risk[d], p)
        patrol[d] = patrol_multiplier(risk[d], flags[d], h, p, on=True)
    scores = None
    if incidents_by_day is not None:
        scores = warning_scores(flags, incidents_by_day, horizon_days)
    return WarningAloneResult(risk=risk, flags=flags, patrol=patrol, scores=scores)
