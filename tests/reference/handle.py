"""Plain-Python twin of :func:`sim.kernels.handle.handle_step` (one event loop per pool).

Each pool is a c-server, non-preemptive priority queue whose servers start cases only on
duty. Within the day, event by event: the server that frees first takes the best waiting
case that has arrived by then (ties by arrival order); a server's free time carries over
to the next day. Afterwards every case whose service ended today is settled: answered,
passed on, transferred, resolved, referred up the mediation ladder, sent to court (first
diverted online when the platform is open, see :mod:`.diversion`), or closed unresolved.
"""

from __future__ import annotations

import heapq
import math
from types import SimpleNamespace

import numpy as np

from sim.issues import (
    ABANDONED,
    CAT_DISPUTE,
    CAT_ENQUIRY,
    CAT_NEED,
    FAILED,
    IN_SERVICE,
    LEVEL_LITIGATION,
    LITIGATED,
    NEXT_DISPATCH,
    NEXT_MEDIATE,
    QUEUED,
    RESOLVED,
    ROUTING,
)
from sim.kernels.handle import PRIORITY_CODES, Handled, spill_back
from sim.pools import K_DEPARTMENT, K_GRID, K_HOTLINE, K_MASS, K_ONLINE, K_PETITION, K_SOCIAL
from sim.rng import S_OUTCOME, S_OUTCOME_NEXT, S_PATIENCE, S_SERVICE, uniform_py

from .diversion import go_to_court, platform_open

PRIORITY_WEIGHT = 1.0e7  # one priority class outranks any difference in arrival hours
LITIGATION_OFFSET = 0x632BE5AB  # counter offset of the court-or-drop draw


RULES = {code: name for name, code in PRIORITY_CODES.items()}


def gives_up_at(state, k: int) -> float:
    """Erlang-A: the hour the resident of queued case k gives up (exponential patience
    with the pool kind's mean, one draw per queue entry)."""
    t, pl = state.issues, state.pools
    mean = float(state.p.patience_h[int(pl.kind[int(t.pool[k])])])
    if not mean > 0.0 or math.isinf(mean):
        return math.inf
    ready = float(t.t_ready[k])
    u = uniform_py(state.seed, S_PATIENCE, math.floor(ready), int(t.iid[k]))
    return ready - mean * math.log(1.0 - u)


def on_duty_from(t: float, duty_start: float, duty_end: float, weekends: bool) -> float:
    """Earliest time ≥ t at which a pool with these duty hours can start a case."""
    day = math.floor(t / 24.0)
    for _ in range(16):  # looks at most 16 days ahead
        if weekends or day % 7 < 5:
            start, end = 24.0 * day + duty_start, 24.0 * day + duty_end
            if t < start:
                return start
            if t < end:
                return t
        day += 1
        t = 24.0 * day
    return t


def priority(rule: str, t: float, t_ready, t_created, severity, vulnerable, urban, grace_h):
    """Sort key of a waiting case at time t (smaller first); arrival time breaks ties."""
    if rule == "severity":
        return -severity * PRIORITY_WEIGHT + t_ready
    if rule == "risk":  # severity × (1 + waiting / grace period)
        return -(severity * (1.0 + (t - t_created) / grace_h)) * PRIORITY_WEIGHT + t_ready
    if rule == "equity":  # vulnerable residents first, then rural
        return -(2.0 * vulnerable + (1.0 - urban)) * PRIORITY_WEIGHT + t_ready
    return t_ready  # fifo


def serve_pool(state, p: int, waiting: list[int], day: int) -> float:
    """Start today's services of pool p; ``waiting`` rows sorted by arrival. Returns hours."""
    t, pl, hp, seed = state.issues, state.pools, state.p, state.seed
    day_start, day_end = 24.0 * day, 24.0 * day + 24.0
    first_slot, last_slot = int(pl.server_ptr[p]), int(pl.server_ptr[p + 1])
    if not waiting or last_slot == first_slot:
        return 0.0
    kind = int(pl.kind[p])
    duty_start, duty_end = float(pl.duty[kind, 0]), float(pl.duty[kind, 1])
    weekends = pl.weekends[kind] != 0
    rule = RULES[hp.priority]
    grace_h = hp.grace_h
    free_at = [float(x) for x in pl.free_at[first_slot:last_slot]]

    busy = 0.0
    queue: list[tuple[float, int]] = []  # (priority key, arrival index)
    n_arrived = 0
    while True:
        server = min(range(len(free_at)), key=free_at.__getitem__)  # frees first
        now = max(free_at[server], day_start)
        if not queue:
            if n_arrived == len(waiting):
                break
            now = max(now, float(t.t_ready[waiting[n_arrived]]))
        now = on_duty_from(now, duty_start, duty_end, weekends)
        if now >= day_end:
            break
        while n_arrived < len(waiting) and t.t_ready[waiting[n_arrived]] <= now:
            k = waiting[n_arrived]
            key = priority(
                rule,
                now,
                float(t.t_ready[k]),
                float(t.t_created[k]),
                float(t.severity[k]),
                int(t.vulnerable[k]),
                int(t.urban[k]),
                grace_h,
            )
            heapq.heappush(queue, (key, n_arrived))
            n_arrived += 1
        if not queue:
            continue
        _, j = heapq.heappop(queue)
        k = waiting[j]
        gone = gives_up_at(state, k)
        if gone < now:  # the resident gave up before a slot was free
            t.status[k] = ABANDONED
            t.t_closed[k] = max(gone, day_start)
            continue
        u = uniform_py(seed, S_SERVICE, day, int(t.iid[k]))
        duration = -float(pl.service_hours[kind, t.category[k]]) * math.log(1.0 - u)
        if t.urban[k] == 0:  # travel to a rural case
            duration += float(hp.travel_h[kind])
        effort = float(state.effort[p])
        if effort != 1.0:  # accountability: more effort, faster handling
            duration /= effort
        t.status[k] = IN_SERVICE
        t.t_start[k] = now
        t.t_done[k] = now + duration
        t.busy_hours[k] = float(t.busy_hours[k]) + duration
        free_at[server] = now + duration
        busy += duration
    pl.free_at[first_slot:last_slot] = free_at
    return busy


def settle(state, k: int, day: int) -> None:
    """Outcome of the case in row k, whose service has just ended."""
    t, pl, hp, seed = state.issues, state.pools, state.p, state.seed
    q = int(t.iid[k])
    category = int(t.category[k])
    p = int(t.pool[k])
    kind = int(pl.kind[p])
    done = float(t.t_done[k])
    u = uniform_py(seed, S_OUTCOME, day, q)
    u_next = uniform_py(seed, S_OUTCOME_NEXT, day, q)
    resolve_prob = float(pl.resolve_prob[kind, category])
    effort = float(state.effort[p])

    if kind == K_HOTLINE:  # enquiries answered on the phone, other calls passed on
        if category == CAT_ENQUIRY and u < resolve_prob:
            t.status[k] = RESOLVED
            t.t_closed[k] = done
        else:
            t.status[k] = ROUTING
            t.next_step[k] = NEXT_MEDIATE if category == CAT_DISPUTE else NEXT_DISPATCH
            t.t_ready[k] = done
        return
    if kind == K_DEPARTMENT and category == CAT_NEED:  # public services where she lives
        resolve_prob = min(1.0, resolve_prob * float(hp.supply[int(t.urban[k])]))
    if effort != 1.0:  # accountability: more effort, fewer failures
        resolve_prob = 1.0 - (1.0 - resolve_prob) / effort
    if u < resolve_prob:
        t.status[k] = RESOLVED
        t.t_closed[k] = done
        return
    if category == CAT_DISPUTE:
        if t.diverted[k] == 1 and kind == K_ONLINE:
            # pre-filing mediation failed: the dispute was on its way to court
            t.status[k] = LITIGATED
            t.level[k] = LEVEL_LITIGATION
            t.t_closed[k] = done
        elif kind != K_PETITION and u_next < hp.referral_prob:
            t.status[k] = ROUTING
            t.next_step[k] = NEXT_MEDIATE
            t.tier[k] = (int(t.tier[k]) + 1) % 256
            t.t_ready[k] = done
        else:
            u_court = uniform_py(seed, S_OUTCOME, day, q + LITIGATION_OFFSET)
            if u_court < hp.litigate_prob:
                go_to_court(t, k, done, platform_open(state))
            else:
                t.status[k] = FAILED
                t.t_closed[k] = done
        return
    if kind in (K_GRID, K_SOCIAL, K_MASS) and u_next < hp.need_retry_prob:
        t.status[k] = ROUTING
        t.next_step[k] = NEXT_DISPATCH
        t.t_ready[k] = done
        return
    t.status[k] = FAILED
    t.t_closed[k] = done


def handle_step(issues, pools, effort, params, seed: int, day: int) -> Handled:
    """Serve every pool's queue today and settle finished cases; returns hours per pool
    and the queues left."""
    state = SimpleNamespace(issues=issues, pools=pools, effort=effort, p=params, seed=seed)
    t, pl = issues, pools
    spilled = spill_back(t, pl, params.social_max_wait_days, day)  # shared bookkeeping
    n_pools = pl.n_pools
    waiting: list[list[int]] = [[] for _ in range(n_pools)]
    for k in range(t.n):
        if t.status[k] == QUEUED:
            waiting[int(t.pool[k])].append(k)

    pool_busy = np.zeros(n_pools)
    for p in range(n_pools):
        by_arrival = sorted(waiting[p], key=lambda k: (float(t.t_ready[k]), int(t.iid[k])))
        pool_busy[p] = serve_pool(state, p, by_arrival, day)

    day_end = 24.0 * day + 24.0
    for k in range(t.n):  # still waiting: patience run out within the day
        if t.status[k] == QUEUED:
            gone = gives_up_at(state, k)
            if gone < day_end:
                t.status[k] = ABANDONED
                t.t_closed[k] = max(gone, day_end - 24.0)
    for k in range(t.n):
        if t.status[k] == IN_SERVICE and t.t_done[k] < day_end:
            settle(state, k, day)

    queue_len = [0.0] * n_pools  # still waiting after today's service
    for k in range(t.n):
        if t.status[k] == QUEUED:
            queue_len[int(t.pool[k])] += 1.0
    return Handled(pool_busy, np.array(queue_len), spilled)
