"""Public evaluation and accountability: residents' verdicts feed handlers' effort (让民做主).

The article moves governance from "为民做主" (deciding for the people) to "让民做主"
(letting the people decide): residents evaluate how their cases were handled, and the
evaluations hold the handling departments to account. Modelled as a retrospective-voting
loop (Ferejohn 1986) with a lagged performance signal:

1. **Evaluation.** Each case closed today is evaluated by its resident with probability
   e (``levers.people.public_evaluation``); the verdict is the resident's satisfaction

       s_k = 0.5^(d_k / h)   if resolved, d_k days from surfacing to closure,
       s_k = 0               otherwise (failed, litigated, abandoned),

   the same discounting as 获得感 (``indices.satisfaction_halflife_days`` = h). The
   verdict is charged to the pool that closed the case (the issue's ``pool``).
2. **Lagged signal.** Each pool p keeps an exponentially weighted mean of its verdicts,
   with decay λ = exp(−1/τ) per day (τ = ``lag_days``; mean age of the signal τ days):

       N_p ← λ·N_p + Σ_today s_k,    D_p ← λ·D_p + n_today,    Ŝ_p = N_p / D_p,

   started at Ŝ_p = s* with a prior weight of ``prior_weight`` evaluations. After a step
   change of satisfaction from s₀ to s₁ (constant evaluations per day) the signal moves
   as Ŝ(t) = s₁ + (s₀ − s₁)·λ^t: half way after τ·ln 2 days (Brown 1959, exponential
   smoothing).
3. **Effort.** A pool whose evaluated performance falls short of the standard s*
   (``satisfaction_target``) is held to account and raises its effort, the more so the
   stronger public evaluation is (Ferejohn's performance threshold; Holmström 1999: the
   response to a performance signal grows with the signal's weight):

       E_p = min(E_max, 1 + κ·e·max(0, s* − Ŝ_p))    for accountable pools, else 1.

   Effort above 1 shortens service (mean service time / E_p) and lowers the chance of
   failing a case (1 − r → (1 − r)/E_p); see :func:`accountability_step`. With e = 0 no
   case is evaluated and E_p = 1 exactly: the loop is removed.

Departures: effort responds only to shortfalls (blame avoidance, Hood 2007: officials act
to avoid blame, not to earn credit), so a pool above the standard stays at its baseline;
effort costs no extra staff (it is intensity, not headcount).

References
----------
1. Ferejohn, J. (1986). Incumbent performance and electoral control. Public Choice
   50(1–3), 5–25. doi:10.1007/BF00124924
2. Holmström, B. (1999). Managerial incentive problems: a dynamic perspective. Review of
   Economic Studies 66(1), 169–182. doi:10.1111/1467-937X.00083
3. Hood, C. (2007). What happens when transparency meets blame-avoidance? Public
   Management Review 9(2), 191–210. doi:10.1080/14719030701340275
4. Brown, R. G. (1959). Statistical Forecasting for Inventory Control. McGraw-Hill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from sim.issues import FAILED, FIRST_CLOSED, RESOLVED
from sim.kernels.rng import uniform

# Counter-based random-number streams of this module (see sim.kernels.rng).
S_EVALUATE = 71  # does the resident evaluate the closed case?
S_ACCOUNT_ALONE = 72  # accountability_alone: is a synthetic case resolved?


@dataclass(frozen=True)
class AccountabilityParams:
    """Parameters of the accountability loop (proposed scenario names in brackets).

    Attributes
    ----------
    evaluation : float
        e, share of closed cases that residents evaluate (0–1); 0 removes the loop
        [``levers.people.public_evaluation``].
    lag_days : float
        τ, time constant of the exponentially weighted evaluation signal (days, > 0)
        [``accountability.lag_days``].
    satisfaction_target : float
        s*, evaluated satisfaction below which a pool is held to account (0–1)
        [``accountability.satisfaction_target``].
    effort_gain : float
        κ, effort added per unit shortfall at full evaluation (≥ 0)
        [``accountability.effort_gain``].
    effort_max : float
        E_max ≥ 1, ceiling on the effort multiplier [``accountability.effort_max``].
    halflife_days : float
        h, satisfaction halves for every h days from surfacing to closure (> 0)
        [``indices.satisfaction_halflife_days``].
    prior_weight : float
        Evaluations' worth of the initial signal Ŝ = s* (> 0); an initial condition.
    """

    evaluation: float = 0.2
    lag_days: float = 30.0
    satisfaction_target: float = 0.6
    effort_gain: float = 2.0
    effort_max: float = 1.5
    halflife_days: float = 10.0
    prior_weight: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "evaluation": 0.0 <= self.evaluation <= 1.0,
            "lag_days": self.lag_days > 0.0,
            "satisfaction_target": 0.0 <= self.satisfaction_target <= 1.0,
            "effort_gain": self.effort_gain >= 0.0,
            "effort_max": self.effort_max >= 1.0,
            "halflife_days": self.halflife_days > 0.0,
            "prior_weight": self.prior_weight > 0.0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(
                    f"AccountabilityParams.{name} = {getattr(self, name)!r} is out of range "
                    "(see the class docstring for allowed values)."
                )


@dataclass
class AccountabilityState:
    """Per-pool memory of the loop: weighted verdict sum N, weight D and effort E."""

    num: np.ndarray
    den: np.ndarray
    effort: np.ndarray

    @property
    def signal(self) -> np.ndarray:
        """Ŝ_p = N_p / D_p, the lagged evaluated satisfaction of each pool."""
        return self.num / self.den


def init_accountability(n_pools: int, p: AccountabilityParams) -> AccountabilityState:
    """Start every pool at the standard (Ŝ = s*) with effort 1."""
    return AccountabilityState(
        num=np.full(n_pools, p.satisfaction_target * p.prior_weight),
        den=np.full(n_pools, p.prior_weight),
        effort=np.ones(n_pools),
    )


@njit(cache=True, parallel=True)
def _evaluate_kernel(status, iid, pool, t_surfaced, t_closed, e, halflife_days, seed, day,
                     score):  # fmt: skip
    """``score[k]`` = satisfaction of row k if closed today and evaluated, else −1."""
    day0 = 24.0 * day
    day1 = day0 + 24.0
    for k in prange(status.shape[0]):
        score[k] = -1.0
        st = status[k]
        if st < FIRST_CLOSED or pool[k] < 0 or not (day0 <= t_closed[k] < day1):
            continue
        if uniform(seed, S_EVALUATE, day, iid[k]) >= e:
            continue
        if st == RESOLVED:
            score[k] = 0.5 ** ((t_closed[k] - t_surfaced[k]) / 24.0 / halflife_days)
        else:
            score[k] = 0.0


@njit(cache=True, parallel=True)
def _effort_kernel(num, den, day_sum, day_cnt, decay, target, gain, e, e_max, accountable,
                   effort):  # fmt: skip
    """Update each pool's weighted signal with today's verdicts, then its effort."""
    for p in prange(num.shape[0]):
        num[p] = decay * num[p] + day_sum[p]
        den[p] = decay * den[p] + day_cnt[p]
        if accountable[p] == 0:
            effort[p] = 1.0
            continue
        short = target - num[p] / den[p]
        if short < 0.0:
            short = 0.0
        x = 1.0 + gain * e * short
        effort[p] = x if x < e_max else e_max


def daily_verdicts(status, iid, pool, t_surfaced, t_closed, n_pools, p, seed, day):
    """Sum and count of today's evaluated verdicts per pool (sums in row order)."""
    score = np.empty(status.shape[0])
    _evaluate_kernel(status, iid, pool, t_surfaced, t_closed, float(p.evaluation),
                     float(p.halflife_days), seed, day, score)  # fmt: skip
    ev = score >= 0.0
    day_sum = np.bincount(pool[ev], weights=score[ev], minlength=n_pools)
    day_cnt = np.bincount(pool[ev], minlength=n_pools).astype(np.float64)
    return day_sum, day_cnt


def accountability_step(acc, issues, accountable, p: AccountabilityParams, seed, day):
    """Evaluate today's closed cases and update every pool's effort multiplier.

    Parameters
    ----------
    acc : AccountabilityState
        Per-pool memory, updated in place.
    issues : IssueTable
        The model's issue rows (``status``, ``iid``, ``pool``, ``t_surfaced``,
        ``t_closed`` are read); call after the handling and escalation stages of ``day``.
    accountable : uint8 array [n_pools]
        1 for pools held to account (e.g. departments), 0 for others (effort stays 1).
    p : AccountabilityParams
    seed, day : int

    Returns
    -------
    ndarray [n_pools]
        ``acc.effort``: the multiplier E_p ∈ [1, E_max] to use from the next day on.

    Notes
    -----
    Apply E_p in the handling stage as ``service_time / E_p`` and
    ``resolve_prob → 1 − (1 − resolve_prob) / E_p`` for the pool's cases.
    """
    n_pools = acc.num.shape[0]
    day_sum, day_cnt = daily_verdicts(
        issues.status, issues.iid, issues.pool, issues.t_surfaced, issues.t_closed, n_pools, p,
        seed, day,
    )  # fmt: skip
    _effort_kernel(
        acc.num, acc.den, day_sum, day_cnt, math.exp(-1.0 / p.lag_days), p.satisfaction_target,
        p.effort_gain, p.evaluation, p.effort_max, np.asarray(accountable, dtype=np.uint8),
        acc.effort,
    )  # fmt: skip
    return acc.effort


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
