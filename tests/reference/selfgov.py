"""Plain-Python twin of :func:`sim.kernels.selfgov.selfgov_step` (one loop per issue).

A resident of a community with an active council brings a local, minor new issue (a need
or dispute below the severity limit, reported by her or found on patrol) to her committee
with probability ``uptake``; the committee takes it while it has capacity today and
settles it with probability ``resolve_prob``; the rest go the normal route.
"""

from __future__ import annotations

import math

import numpy as np

from sim.issues import (
    CAT_DISPUTE,
    CAT_NEED,
    CH_GRID_REPORT,
    CH_PATROL,
    NEXT_INTAKE,
    RESOLVED,
    ROUTING,
)
from sim.kernels.selfgov import BRING_OFFSET, Settled
from sim.rng import S_SELFGOV, S_SELFGOV_CAPACITY, S_SELFGOV_OUTCOME, uniform_py

LOCAL_CHANNELS = (CH_GRID_REPORT, CH_PATROL)  # not 12345/online: the city's platform


def selfgov_step(issues, grid_community, state, p, seed: int, day: int) -> Settled:
    """Committees settle today's eligible new issues within their capacity."""
    t = issues
    n_com = len(state.active)
    taken = np.zeros(n_com, dtype=np.int64)
    if p.share <= 0.0 or t.n == 0 or not any(state.active):
        return Settled(0, 0, 0, 0, taken)
    capacity = [
        math.floor(p.cases_per_day + uniform_py(seed, S_SELFGOV_CAPACITY, day, c))
        if state.active[c]
        else 0
        for c in range(n_com)
    ]
    start, end = 24.0 * day, 24.0 * day + 24.0
    brought = settled = failed = spilled = 0
    for k in range(t.n):
        new_today = start <= t.t_surfaced[k] < end
        if t.status[k] != ROUTING or t.next_step[k] != NEXT_INTAKE or not new_today:
            continue
        local = t.category[k] in (CAT_NEED, CAT_DISPUTE) and t.severity[k] < p.max_severity
        if not local or t.channel[k] not in LOCAL_CHANNELS:
            continue
        community = int(grid_community[t.grid[k]])
        if not state.active[community]:
            continue
        q = int(t.iid[k])
        if uniform_py(seed, S_SELFGOV, day + BRING_OFFSET, q) >= p.uptake:
            continue
        brought += 1
        if capacity[community] <= 0:
            spilled += 1
            continue
        capacity[community] -= 1
        taken[community] += 1
        done = min(t.t_ready[k] + p.hours_per_case, end - 1e-6)
        if uniform_py(seed, S_SELFGOV_OUTCOME, day, q) < p.resolve_prob:
            t.status[k] = RESOLVED
            t.t_closed[k] = max(done, t.t_ready[k])
            settled += 1
        else:
            t.t_ready[k] = done
            failed += 1
    state.brought += brought
    state.settled += settled
    state.spilled += spilled
    return Settled(brought, settled, failed, spilled, taken)
