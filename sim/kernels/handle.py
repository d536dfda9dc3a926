"""Stage 4 — handle queued issues in hours within the day; decide each outcome.

Each pool is a non-preemptive priority queue with c servers (case slots) that start new
cases only while on duty (Kleinrock 1976, ch. 3). The day is simulated event by event:
the slot that frees first takes the best waiting case that has arrived by then, so
waiting times follow the queue's own dynamics rather than a daily tick (a queue stepped
once a day doubles Erlang C's wait at load 0.5). With duty around the clock, FIFO and
exponential service this is exactly an M/M/c queue whose mean wait is Erlang C's
(Erlang 1917). A slot's free time carries over across days; a case whose service runs
past the day's end finishes on a later day. Pools are independent within a day, so
they run in parallel.

Outcomes at completion (Stage 4 of DESIGN.md):

- hotline: an enquiry is answered directly with ``resolve_prob.enquiry``, else it
  becomes a work order to dispatch; other calls are taken in and passed on
  (disputes to mediation, the rest to dispatch);
- otherwise resolved with ``1 − (1 − r)/E_p``, r = ``resolve_prob[kind, category]``
  (for residents' needs at departments, min(1, r·s^ε) with s the public-service supply
  per head where the resident lives, :func:`service_supply`), E_p the
  pool's effort under public evaluation (:mod:`sim.kernels.accountability`; handling
  times are divided by E_p too); an unresolved dispute is
  referred up the mediation ladder (``referral_prob``) or goes to court /
  closes unresolved; an unresolved need or risk at a grid or an organisation is passed
  to a department (``need_retry_prob``), else it closes unresolved.

Residents are impatient (Erlang-A, Palm 1943; Garnett, Mandelbaum & Reiman 2002): a case
that joins a queue at t_r carries an exponential patience P (mean
``handling.hotline_patience_minutes`` at the hotline, ``handling.case_patience_days``
elsewhere); if no slot has started it by t_r + P the resident gives up — the case closes
ABANDONED at t_r + P (recorded no earlier than the day it is found, so a case queued
after its patience ran out closes that day), which the resident's experience counts as a failure
(:func:`sim.kernels.trust.own_experience`), so it lowers participation and trust. With
duty around the clock and FIFO this is the M/M/c+M queue of
:func:`sim.queueing.erlang_a` (checked by :func:`sim.validation.queueing.queue_alone`).

References
----------
1. Erlang, A. K. (1917). Solution of some problems in the theory of probabilities of
   significance in automatic telephone exchanges. Elektroteknikeren 13, 5–13.
2. Kleinrock, L. (1976). Queueing Systems, Vol. 2: Computer Applications. Wiley.
3. Garnett, O., Mandelbaum, A., & Reiman, M. (2002). Designing a call center with
   impatient customers. Manufacturing & Service Operations Management 4(3), 208–227.
   doi:10.1287/msom.4.3.208.7753
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

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
from sim.kernels.diversion import go_to_court
from sim.pools import (
    K_DEPARTMENT,
    K_GRID,
    K_HOTLINE,
    K_MASS,
    K_MEDIATION,
    K_ONLINE,
    K_PETITION,
    K_SOCIAL,
    N_KINDS,
)
from sim.rng import S_OUTCOME, S_OUTCOME_NEXT, S_PATIENCE, S_SERVICE, uniform

PRIORITY_CODES = {"fifo": 0, "severity": 1, "risk": 2, "equity": 3}
_BIG = 1.0e7  # larger than any time in hours (36,500 days · 24 h)


@njit(cache=True, inline="always")
def next_duty(t, d_start, d_end, weekends):
    """Earliest time ≥ t at which a pool with these duty hours can start a case."""
    d = math.floor(t / 24.0)
    for _ in range(16):
        if weekends or (d % 7) < 5:
            start = 24.0 * d + d_start
            end = 24.0 * d + d_end
            if t < start:
                return start
            if t < end:
                return t
        d += 1
        t = 24.0 * d
    return t


@njit(cache=True, inline="always")
def priority_key(rule, t, t_ready, t_created, severity, vulnerable, urban, grace_h):
    """Smaller key = served first; ties broken by arrival order."""
    if rule == 1:
        return -severity * _BIG + t_ready
    if rule == 2:
        return -(severity * (1.0 + (t - t_created) / grace_h)) * _BIG + t_ready
    if rule == 3:
        return -(2.0 * vulnerable + (1.0 - urban)) * _BIG + t_ready
    return t_ready


@njit(cache=True, inline="always")
def _less(hk, hv, a, b):
    return hk[a] < hk[b] or (hk[a] == hk[b] and hv[a] < hv[b])


@njit(cache=True)
def _heap_push(hk, hv, base, size, key, val):
    i = size
    hk[base + i] = key
    hv[base + i] = val
    while i > 0:
        parent = (i - 1) // 2
        if _less(hk, hv, base + i, base + parent):
            hk[base + i], hk[base + parent] = hk[base + parent], hk[base + i]
            hv[base + i], hv[base + parent] = hv[base + parent], hv[base + i]
            i = parent
        else:
            break
    return size + 1


@njit(cache=True)
def _heap_pop(hk, hv, base, size):
    top = hv[base]
    size -= 1
    hk[base] = hk[base + size]
    hv[base] = hv[base + size]
    i = 0
    while True:
        left = 2 * i + 1
        right = left + 1
        m = i
        if left < size and _less(hk, hv, base + left, base + m):
            m = left
        if right < size and _less(hk, hv, base + right, base + m):
            m = right
        if m == i:
            break
        hk[base + i], hk[base + m] = hk[base + m], hk[base + i]
        hv[base + i], hv[base + m] = hv[base + m], hv[base + i]
        i = m
    return top, size


@njit(cache=True, inline="always")
def gives_up_at(seed, iid_k, t_ready_k, patience_mean):
    """Hour at which the resident of a case queued since ``t_ready_k`` gives up: t_r + P,
    P exponential with mean ``patience_mean`` hours (one draw per queue entry)."""
    if not patience_mean > 0.0 or patience_mean == np.inf:
        return np.inf
    u = uniform(seed, S_PATIENCE, np.int64(math.floor(t_ready_k)), iid_k)
    return t_ready_k - patience_mean * math.log(1.0 - u)


@njit(cache=True, parallel=True)
def _serve_kernel(
    case_ptr, cases, pool_kind, server_ptr, free_at, duty, weekends, service_mean,
    status, iid, category, t_ready, t_created, severity, vulnerable, urban,
    t_start, t_done, busy_hours, rule, grace_h, seed, day, pool_busy, heap_k, heap_v, effort,
    patience, t_closed, travel,
):  # fmt: skip
    """Start services in every pool for the day ``[24·day, 24·day + 24)`` (event by event).

    ``cases[case_ptr[p]:case_ptr[p+1]]`` are pool p's queued rows sorted by arrival. A
    case whose resident gave up before a slot took it closes ABANDONED then (Erlang-A);
    cases still waiting at the end of the day are left to :func:`_give_up_kernel`.
    """
    day0 = 24.0 * day
    day1 = day0 + 24.0
    n_pools = case_ptr.shape[0] - 1
    for p in prange(n_pools):
        lo = case_ptr[p]
        n = case_ptr[p + 1] - lo
        s0 = server_ptr[p]
        c = server_ptr[p + 1] - s0
        pool_busy[p] = 0.0
        if n == 0 or c == 0:
            continue
        kind = pool_kind[p]
        d_start = duty[kind, 0]
        d_end = duty[kind, 1]
        wk = weekends[kind] != 0
        size = 0
        i = 0
        while True:
            best = s0
            for s in range(s0 + 1, s0 + c):
                if free_at[s] < free_at[best]:
                    best = s
            t = max(free_at[best], day0)
            if size == 0:
                if i >= n:
                    break
                t = max(t, t_ready[cases[lo + i]])
            t = next_duty(t, d_start, d_end, wk)
            if t >= day1:
                break
            while i < n and t_ready[cases[lo + i]] <= t:
                k = cases[lo + i]
                key = priority_key(
                    rule, t, t_ready[k], t_created[k], severity[k], vulnerable[k], urban[k], grace_h
                )
                size = _heap_push(heap_k, heap_v, lo, size, key, i)
                i += 1
            if size == 0:
                continue
            j, size = _heap_pop(heap_k, heap_v, lo, size)
            k = cases[lo + j]
            gone = gives_up_at(seed, iid[k], t_ready[k], patience[kind])
            if gone < t:  # the resident gave up before a slot was free
                status[k] = ABANDONED
                t_closed[k] = max(gone, day0)  # recorded today at the earliest
                continue
            u = uniform(seed, S_SERVICE, day, iid[k])
            dur = -service_mean[kind, category[k]] * math.log(1.0 - u)
            if urban[k] == 0:  # on-site work in the countryside: travel first
                dur += travel[kind]
            if effort[p] != 1.0:  # accountability: more effort, faster handling
                dur /= effort[p]
            status[k] = IN_SERVICE
            t_start[k] = t
            t_done[k] = t + dur
            free_at[best] = t + dur
            busy_hours[k] += dur
            pool_busy[p] += dur


@njit(cache=True, parallel=True)
def _give_up_kernel(status, pool, pool_kind, iid, t_ready, patience, seed, day, t_closed):
    """Cases still queued at the end of ``day`` whose resident's patience ran out within
    it close ABANDONED at that hour (whatever their pool's duty or slots)."""
    day1 = 24.0 * day + 24.0
    for k in prange(status.shape[0]):
        if status[k] == QUEUED:
            gone = gives_up_at(seed, iid[k], t_ready[k], patience[pool_kind[pool[k]]])
            if gone < day1:
                status[k] = ABANDONED
                t_closed[k] = max(gone, day1 - 24.0)  # recorded today at the earliest


@njit(cache=True, parallel=True)
def _complete_kernel(
    status, iid, category, sector, pool, next_step, tier, transfers, level, diverted, t_done,
    t_ready, t_closed, pool_kind, pool_sector, resolve_prob, referral_prob, need_retry_prob,
    litigate_prob, platform_open, seed, day, effort, urban, supply,
):  # fmt: skip
    """Decide the outcome of every case whose service ends before the end of ``day``."""
    day1 = 24.0 * day + 24.0
    n = status.shape[0]
    for k in prange(n):
        if status[k] != IN_SERVICE or t_done[k] >= day1:
            continue
        q = iid[k]
        c = category[k]
        p = pool[k]
        kind = pool_kind[p]
        done = t_done[k]
        u = uniform(seed, S_OUTCOME, day, q)
        u2 = uniform(seed, S_OUTCOME_NEXT, day, q)
        if kind == K_HOTLINE:
            if c == CAT_ENQUIRY and u < resolve_prob[kind, c]:
                status[k] = RESOLVED
                t_closed[k] = done
            else:
                status[k] = ROUTING
                next_step[k] = NEXT_MEDIATE if c == CAT_DISPUTE else NEXT_DISPATCH
                t_ready[k] = done
            continue
        r = resolve_prob[kind, c]
        if kind == K_DEPARTMENT and c == CAT_NEED:  # public services where she lives
            r = min(1.0, r * supply[urban[k]])
        if effort[p] != 1.0:  # accountability: more effort, fewer failures
            r = 1.0 - (1.0 - r) / effort[p]
        if u < r:
            status[k] = RESOLVED
            t_closed[k] = done
            continue
        if c == CAT_DISPUTE:
            if diverted[k] == 1 and kind == K_ONLINE:
                # pre-filing mediation failed: the dispute was on its way to court
                status[k] = LITIGATED
                level[k] = LEVEL_LITIGATION
                t_closed[k] = done
            elif kind != K_PETITION and u2 < referral_prob:
                status[k] = ROUTING
                next_step[k] = NEXT_MEDIATE
                tier[k] += 1
                t_ready[k] = done
            else:
                # the dispute leaves unresolved: to court, or dropped
                if uniform(seed, S_OUTCOME, day, q + 0x632BE5AB) < litigate_prob:
                    go_to_court(
                        k, done, status, level, next_step, t_ready, t_closed, diverted,
                        platform_open,
                    )  # fmt: skip
                else:
                    status[k] = FAILED
                    t_closed[k] = done
            continue
        if (kind == K_GRID or kind == K_SOCIAL or kind == K_MASS) and u2 < need_retry_prob:
            status[k] = ROUTING
            next_step[k] = NEXT_DISPATCH
            t_ready[k] = done
            continue
        status[k] = FAILED
        t_closed[k] = done


@dataclass(frozen=True)
class Params:
    """Handling parameters, built once from the scenario.

    Attributes
    ----------
    priority : int
        Queue discipline code (:data:`PRIORITY_CODES` of ``handling.priority``).
    grace_h : float
        Hours of the "risk" rule's waiting scale: 24·max(``escalation.grace_days``, 1).
    referral_prob, need_retry_prob : float
        ``handling.referral_prob``, ``handling.need_retry_prob``.
    litigate_prob : float
        ``escalation.failure_litigation_prob``: a failed dispute goes to court.
    supply : tuple (rural, urban)
        s^ε of :func:`service_supply`: a department resolves a need with
        min(1, r·s^ε).
    travel_h : tuple of N_KINDS floats
        Extra hours per rural case at on-site pools (grid, department, mediation):
        ``handling.rural_travel_hours``.
    social_max_wait_days : float
        ``handling.social_org_max_wait_days`` (:func:`spill_back`).
    patience_h : tuple of N_KINDS floats
        Mean patience (hours) of a case waiting in each kind of pool (Erlang-A):
        ``handling.hotline_patience_minutes`` / 60 at the hotline,
        ``handling.case_patience_days`` · 24 elsewhere; ``inf`` = never gives up.
    """

    priority: int
    grace_h: float
    referral_prob: float
    need_retry_prob: float
    litigate_prob: float
    supply: tuple[float, float]
    travel_h: tuple[float, ...]
    social_max_wait_days: float
    patience_h: tuple[float, ...]

    @classmethod
    def from_scenario(cls, sc) -> Params:
        h = sc.handling
        patience = np.full(N_KINDS, 24.0 * h.case_patience_days)
        patience[K_HOTLINE] = h.hotline_patience_minutes / 60.0
        return cls(
            priority=PRIORITY_CODES[sc.handling.priority],
            grace_h=24.0 * max(sc.escalation.grace_days, 1.0),
            referral_prob=sc.handling.referral_prob,
            need_retry_prob=sc.handling.need_retry_prob,
            litigate_prob=sc.escalation.failure_litigation_prob,
            supply=service_supply(sc),
            travel_h=tuple(
                h.rural_travel_hours if k in (K_GRID, K_DEPARTMENT, K_MEDIATION) else 0.0
                for k in range(N_KINDS)
            ),
            social_max_wait_days=h.social_org_max_wait_days,
            patience_h=tuple(float(x) for x in patience),
        )


class Handled(NamedTuple):
    """What handling did today (:func:`handle_step`)."""

    pool_busy: np.ndarray  # float64[n_pools]: handling hours started today
    queue_len: np.ndarray  # float64[n_pools]: cases still queued after today's service
    spilled: int  # cases a full social organisation sent back to mediation today


def spill_back(issues, pools, max_wait_days: float, day: int) -> int:
    """Social organisations take cases only within their capacity and hours (issue 12).

    Each social-organisation pool keeps its waiting cases, oldest first (by arrival, then
    id), while their expected handling hours (``pools.service_hours`` by case type) fit
    in what its slots can work within ``max_wait_days`` duty days
    (slots × duty hours × days); the rest spill back to the default route, from now: a
    dispute is queued at the people's mediation committee of its town
    (``pools.grid_mediation``), any other case goes back to dispatch to a department
    (ROUTING, ``NEXT_DISPATCH``: routed tomorrow). A spill-back is not a transfer between
    departments (the resident is not sent away). Changes ``issues`` in place; returns
    the number spilled.
    """
    t, pl = issues, pools
    if pl.grid_mediation is None or not np.any(pl.kind == K_SOCIAL):
        return 0
    rows = np.flatnonzero((t.status == QUEUED) & (pl.kind[t.pool] == K_SOCIAL))
    if rows.size == 0:
        return 0
    rows = rows[np.lexsort((t.iid[rows], t.t_ready[rows], t.pool[rows]))]
    pool = t.pool[rows].astype(np.int64)
    hours = pl.service_hours[K_SOCIAL, t.category[rows]]
    cum = np.cumsum(hours)
    first = np.r_[True, pool[1:] != pool[:-1]]
    cum -= np.repeat((cum - hours)[first], np.diff(np.r_[np.flatnonzero(first), rows.size]))
    duty = pl.duty[K_SOCIAL, 1] - pl.duty[K_SOCIAL, 0]
    room = pl.servers[pool] * duty * max_wait_days
    out = rows[cum > room]
    if out.size:
        t.t_ready[out] = np.maximum(t.t_ready[out], 24.0 * day)
        dispute = out[t.category[out] == CAT_DISPUTE]
        t.pool[dispute] = pl.grid_mediation[t.grid[dispute]]
        other = out[t.category[out] != CAT_DISPUTE]
        t.status[other] = ROUTING
        t.next_step[other] = NEXT_DISPATCH
    return int(out.size)


def service_supply(scenario) -> tuple[float, float]:
    """Availability factors s^ε (rural, urban) of public services (education, health,
    social assistance) where a resident lives.

    Supply per head is s_r = σ·s_u in the countryside, σ = ``handling.rural_service_supply``
    before integration; the city's total is fixed (resident-weighted mean supply 1, urban
    share of residents from ``city.counties``). 城乡一体化 w moves supply to the countryside
    (article §2, 公共服务均等化): σ(w) = σ + w·(1 − σ), so rural supply rises and urban
    supply falls — the gap closes only through the resources moved. ε =
    ``handling.service_supply_elasticity``.
    """
    h, cp = scenario.handling, scenario.city
    w = scenario.levers.community.urban_rural_integration
    pop = np.array([c.population for c in cp.counties], dtype=np.float64)
    f_u = float((pop * np.array([c.urban_share for c in cp.counties])).sum() / pop.sum())
    sigma = h.rural_service_supply + w * (1.0 - h.rural_service_supply)
    s_u = 1.0 / (f_u + (1.0 - f_u) * sigma)
    eps = h.service_supply_elasticity
    return ((sigma * s_u) ** eps, s_u**eps)


def queued_by_pool(status, pool, t_ready, iid, n_pools):
    """Rows of QUEUED issues grouped by pool, each group sorted by (arrival, id).

    Returns ``(case_ptr, cases)`` in CSR form.
    """
    rows = np.flatnonzero(status == QUEUED)
    order = np.lexsort((iid[rows], t_ready[rows], pool[rows]))
    cases = rows[order].astype(np.int64)
    counts = np.bincount(pool[cases], minlength=n_pools)
    ptr = np.zeros(n_pools + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, cases


def handle_step(issues, pools, effort, p: Params, seed: int, day: int) -> Handled:
    """Stage 4: serve queues in every pool today and settle finished cases.

    ``effort`` is each pool's accountability effort E_p (:mod:`sim.kernels.accountability`).
    Returns the handling hours started today and the queues left, per pool.
    """
    t, pl = issues, pools
    spilled = spill_back(t, pl, p.social_max_wait_days, day)
    ptr, cases = queued_by_pool(t.status, t.pool, t.t_ready, t.iid, pl.n_pools)
    heap_k = np.empty(cases.shape[0], dtype=np.float64)
    heap_v = np.empty(cases.shape[0], dtype=np.int64)
    pool_busy = np.zeros(pl.n_pools)
    patience = np.asarray(p.patience_h, dtype=np.float64)
    _serve_kernel(
        ptr, cases, pl.kind, pl.server_ptr, pl.free_at, pl.duty, pl.weekends, pl.service_hours,
        t.status, t.iid, t.category, t.t_ready, t.t_created, t.severity, t.vulnerable, t.urban,
        t.t_start, t.t_done, t.busy_hours, p.priority, p.grace_h, seed, day, pool_busy, heap_k,
        heap_v, effort, patience, t.t_closed, np.asarray(p.travel_h, dtype=np.float64),
    )  # fmt: skip
    _give_up_kernel(t.status, t.pool, pl.kind, t.iid, t.t_ready, patience, seed, day, t.t_closed)
    _complete_kernel(
        t.status, t.iid, t.category, t.sector, t.pool, t.next_step, t.tier, t.transfers,
        t.level, t.diverted, t.t_done, t.t_ready, t.t_closed, pl.kind, pl.sector,
        pl.resolve_prob, p.referral_prob, p.need_retry_prob, p.litigate_prob,
        platform_open(pl), seed, day, effort, t.urban, np.asarray(p.supply, dtype=np.float64),
    )  # fmt: skip
    # queue length per pool after today's service (for load-dependent patrols)
    still = t.status == QUEUED
    queue_len = np.bincount(t.pool[still], minlength=pl.n_pools).astype(np.float64)
    return Handled(pool_busy, queue_len, spilled)


def platform_open(pools) -> bool:
    """Whether the online mediation platform (苏解纷) has any slot (诉源治理 diverts to it)."""
    return bool(pools.servers[pools.online_pool] > 0)
