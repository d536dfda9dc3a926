"""Plain-Python twin of :mod:`sim.kernels.accountability` (one loop per case, per pool).

Residents evaluate a closed case with probability e; the verdict is their satisfaction
(0.5^(days to closure / h) if resolved, else 0). Each pool's verdicts enter an
exponentially weighted mean with daily decay exp(−1/τ); a pool whose lagged mean falls
short of the standard s* raises its effort to 1 + κ·e·(s* − Ŝ), at most E_max.
"""

from __future__ import annotations

import math

from sim.issues import FIRST_CLOSED, RESOLVED
from sim.rng import S_EVALUATE, uniform_py


def verdict(status, t_surfaced, t_closed, halflife_days) -> float:
    """Satisfaction of a closed case: discounted by days to closure if resolved, else 0."""
    if status == RESOLVED:
        # 0.5^x, computed as the kernel's compiled code does: LLVM rewrites pow(0.5, x) as
        # exp2(−x), which differs from C's pow in the last bit for some x
        return math.exp2(-((t_closed - t_surfaced) / 24.0 / halflife_days))
    return 0.0


def daily_verdicts(status, iid, pool, t_surfaced, t_closed, n_pools, p, seed, day):
    """Per pool: sum and number of verdicts on cases closed today and evaluated."""
    day_sum = [0.0] * n_pools
    day_cnt = [0.0] * n_pools
    for k in range(len(status)):
        closed_today = 24.0 * day <= t_closed[k] < 24.0 * day + 24.0
        if status[k] < FIRST_CLOSED or pool[k] < 0 or not closed_today:
            continue
        if uniform_py(seed, S_EVALUATE, day, int(iid[k])) >= p.evaluation:
            continue  # the resident does not evaluate
        day_sum[pool[k]] += verdict(status[k], t_surfaced[k], t_closed[k], p.halflife_days)
        day_cnt[pool[k]] += 1.0
    return day_sum, day_cnt


def accountability_step(acc, issues, accountable, p, seed, day):
    """Update every pool's lagged signal and effort in place; returns the efforts."""
    n_pools = len(acc.num)
    day_sum, day_cnt = daily_verdicts(
        issues.status, issues.iid, issues.pool, issues.t_surfaced, issues.t_closed, n_pools, p,
        seed, day,
    )  # fmt: skip
    decay = math.exp(-1.0 / p.lag_days)
    for q in range(n_pools):
        acc.num[q] = decay * acc.num[q] + day_sum[q]
        acc.den[q] = decay * acc.den[q] + day_cnt[q]
        if not accountable[q] or acc.den[q] <= 0.0:
            acc.effort[q] = 1.0  # not accountable, or no verdict left in memory
            continue
        shortfall = max(0.0, p.satisfaction_target - acc.num[q] / acc.den[q])
        acc.effort[q] = min(p.effort_max, 1.0 + p.effort_gain * p.evaluation * shortfall)
    return acc.effort
