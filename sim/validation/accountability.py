"""The accountability loop run alone for one department (:mod:`sim.kernels.accountability`).

With a step change of satisfaction the lagged signal follows exponential smoothing
(Brown 1959), and effort responds to shortfalls only (Ferejohn 1986; Hood 2007).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit

from sim.issues import FAILED, RESOLVED
from sim.kernels.accountability import (
    AccountabilityParams,
    accountability_step,
    init_accountability,
)
from sim.rng import S_ACCOUNT_ALONE, uniform

__all__ = ["AccountabilityAloneResult", "accountability_alone"]


@dataclass(frozen=True)
class AccountabilityAloneResult:
    """Daily series of :func:`accountability_alone` (index = day).

    Attributes
    ----------
    effort, signal : ndarray [days]
        Effort multiplier after the day's update, and the lagged signal Ŝ.
    satisfaction : ndarray [days]
        Mean satisfaction of the day's closed cases (evaluated or not).
    """

    effort: np.ndarray
    signal: np.ndarray
    satisfaction: np.ndarray


def accountability_alone(
    resolve_prob_by_day,
    p: AccountabilityParams,
    cases_per_day: int = 200,
    feedback: bool = False,
    seed: int = 0,
) -> AccountabilityAloneResult:
    """Run the accountability loop alone for one department.

    Each day ``cases_per_day`` cases close the moment they surface; each is resolved
    (satisfaction 1) with probability r_t or fails (satisfaction 0), so the day's mean
    satisfaction is ≈ r_t. The cases go through :func:`accountability_step` exactly as
    in the model.

    Parameters
    ----------
    resolve_prob_by_day : array-like [days]
        r_t, baseline resolution probability of each day (0–1).
    p : AccountabilityParams
    cases_per_day : int
    feedback : bool
        If True, the loop is closed: the day's resolution probability is
        ``1 − (1 − r_t) / E`` with E the effort set the day before, so effort raises
        satisfaction, which in turn relaxes effort. If False (open loop) satisfaction
        follows r_t and the response of effort to it can be read directly.
    seed : int

    Returns
    -------
    AccountabilityAloneResult
    """
    r = np.asarray(resolve_prob_by_day, dtype=np.float64)
    if r.ndim != 1 or np.any((r < 0.0) | (r > 1.0)):
        raise ValueError("resolve_prob_by_day must be a 1-D array of probabilities in [0, 1].")
    n = int(cases_per_day)
    if n < 1:
        raise ValueError(f"cases_per_day must be >= 1. Got {cases_per_day!r}.")
    before = numba.get_num_threads()
    numba.set_num_threads(1)  # tiny daily kernels; results do not depend on threads
    try:
        return _run_alone(r, p, n, feedback, seed)
    finally:
        numba.set_num_threads(before)


def _run_alone(r, p, n, feedback, seed) -> AccountabilityAloneResult:
    acc = init_accountability(1, p)
    accountable = np.ones(1, dtype=np.uint8)
    days = r.shape[0]
    eff, sig, sat = np.empty(days), np.empty(days), np.empty(days)
    rows = np.arange(n, dtype=np.int64)
    issues = _Rows(n)
    for d in range(days):
        rd = 1.0 - (1.0 - r[d]) / acc.effort[0] if feedback else r[d]
        issues.iid[:] = d * n + rows
        u = _alone_draws(seed, d, issues.iid)
        issues.status[:] = np.where(u < rd, RESOLVED, FAILED)
        issues.t_surfaced[:] = 24.0 * d + 12.0
        issues.t_closed[:] = 24.0 * d + 12.0
        sat[d] = float(np.mean(issues.status == RESOLVED))
        accountability_step(acc, issues, accountable, p, seed, d)
        eff[d] = acc.effort[0]
        sig[d] = acc.signal[0]
    return AccountabilityAloneResult(effort=eff, signal=sig, satisfaction=sat)


class _Rows:
    """Minimal issue rows for :func:`accountability_alone` (one pool, pool 0)."""

    def __init__(self, n: int) -> None:
        self.status = np.zeros(n, dtype=np.uint8)
        self.iid = np.zeros(n, dtype=np.int64)
        self.pool = np.zeros(n, dtype=np.int32)
        self.t_surfaced = np.zeros(n)
        self.t_closed = np.zeros(n)


@njit(cache=True)
def _alone_draws(seed, day, iid):
    out = np.empty(iid.shape[0])
    for k in range(iid.shape[0]):
        out[k] = uniform(seed, S_ACCOUNT_ALONE, day, iid[k])
    return out
