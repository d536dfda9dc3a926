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

import numpy as np
from numba import njit, prange

from sim.issues import FIRST_CLOSED, RESOLVED
from sim.rng import S_EVALUATE, uniform
from sim.scenario.schema import POOL_KINDS

PRIOR_WEIGHT = 1.0  # evaluations' worth of the initial signal (an initial condition)


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
        Evaluations' worth of the initial signal Ŝ = s* (> 0); an initial condition
        (:data:`PRIOR_WEIGHT` in the model).
    accountable_kinds : tuple of int
        Pool kinds held to account (``accountability.accountable_kinds``).
    """

    evaluation: float
    lag_days: float
    satisfaction_target: float
    effort_gain: float
    effort_max: float
    halflife_days: float
    prior_weight: float
    accountable_kinds: tuple[int, ...]

    @classmethod
    def from_scenario(cls, sc) -> AccountabilityParams:
        a = sc.accountability
        return cls(
            evaluation=sc.levers.people.public_evaluation,
            lag_days=a.lag_days,
            satisfaction_target=a.satisfaction_target,
            effort_gain=a.effort_gain,
            effort_max=a.effort_max,
            halflife_days=sc.indices.satisfaction_halflife_days,
            prior_weight=PRIOR_WEIGHT,
            accountable_kinds=tuple(POOL_KINDS.index(k) for k in a.accountable_kinds),
        )

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
    """Per-pool memory of the loop: weighted verdict sum N, weight D and effort E.

    ``accountable`` (uint8 per pool) marks the pools held to account, when known."""

    num: np.ndarray
    den: np.ndarray
    effort: np.ndarray
    accountable: np.ndarray | None = None

    @property
    def signal(self) -> np.ndarray:
        """Ŝ_p = N_p / D_p, the lagged evaluated satisfaction of each pool (NaN where no
        verdict is left in memory, D_p = 0: no signal)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.den > 0.0, self.num / np.where(self.den > 0.0, self.den, 1.0), np.nan
            )


def init_accountability(
    n_pools: int, p: AccountabilityParams, pool_kind: np.ndarray | None = None
) -> AccountabilityState:
    """Start every pool at the standard (Ŝ = s*) with effort 1.

    With ``pool_kind`` the pools of ``p.accountable_kinds`` are marked accountable."""
    return AccountabilityState(
        num=np.full(n_pools, p.satisfaction_target * p.prior_weight),
        den=np.full(n_pools, p.prior_weight),
        effort=np.ones(n_pools),
        accountable=None
        if pool_kind is None
        else np.isin(pool_kind, p.accountable_kinds).astype(np.uint8),
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
        if accountable[p] == 0 or den[p] <= 0.0:
            # not accountable, or no verdict left in memory (the weight underflowed after a
            # long idle spell with a tiny lag): no signal, no pressure
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
    # float64 on a day without verdicts too (bincount of nothing is int64 even with weights)
    day_sum = np.bincount(pool[ev], weights=score[ev], minlength=n_pools).astype(np.float64)
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


Params = AccountabilityParams
State = AccountabilityState
