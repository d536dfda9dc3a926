"""Stage 7 — monthly reallocation of case slots among handler pools within a budget.

A group of pools (e.g. the departments of the city, or the towns' mediation committees)
shares a fixed budget of B case slots. Once a month the slots are redistributed by one of
three rules (``levers.capability.resource_allocation``; the article's 资源整合):

- **siloed** (条块分割): fixed shares x_i = B·s_i, the shares each line holds by statute,
  whatever the demand;
- **pooled** (demand-driven): minimise the total expected waiting of the group,

      min Σ_i w_i·λ̂_i·W_q(λ̂_i, μ_i, c_i)   subject to Σ_i c_i = B, c_i ≥ c_min,

  where W_q is Erlang C's mean wait (:mod:`sim.queueing`) and λ̂_i the arrival rate the
  allocator sees. Each pool's service rate μ_i = 24 / h̄_i comes from its own case mix:
  h̄_i is the expected handling hours per case of the cases it received (hours per case
  type of its pool kind, ``handling.pools.*.service_hours``), so a pool receiving
  longer cases is seen to carry more work (workload λ_i·h̄_i, not case counts). Demand
  is seen only as far as data are shared (数据共享, D):
  λ̂_i = D·λ_i + (1 − D)·π_i, with π_i the prior basis (by default the demand implied by
  the fixed shares, s_i·Σλ). The problem is solved exactly by greedy marginal
  allocation: start every pool at the fewest slots that keep it stable
  (c_i = ⌊λ̂_i/μ_i⌋ + 1, or c_min if larger), then give each remaining slot to the pool
  whose weighted waiting falls most. λ·W_q is decreasing and convex in c (Dyer & Proll
  1977; Weber 1980 for G/GI/c), so marginal analysis of a separable convex objective
  under a single budget constraint is optimal (Fox 1966). If the budget cannot make
  every pool stable, every split has infinite waiting; slots are then split in
  proportion to offered load λ̂_i/μ_i;
- **equity** (公共服务均等化): move a share w of the way from the fixed shares to equal
  capacity per resident (the model runs the rule in full, w = 1: it is an allocation
  rule, not a dial of 城乡一体化, which moves its own resources — slots, public-service
  supply — in :mod:`sim.pools` and :func:`sim.kernels.handle.service_supply`; so
  "equity" differs from "siloed" at any integration level),

      x_i = (1 − w)·B·s_i + w·B·n_i / Σ_j n_j,

  with n_i the residents a pool serves; at w = 1 every resident, urban or rural, has the
  same slots per head (Savas 1978, equality of input). The urban–rural gap in capacity
  per head (:func:`capacity_per_resident`) shrinks in proportion to 1 − w. Optionally
  n_i is weighted by a need index ν_i (x ∝ n_i·ν_i; here ν_i = expected hours of work
  per resident of pool i relative to the group's), which equalises capacity per hour of
  work instead of per head (Savas' equity of output).

Real-valued targets become integer slots by largest remainders (Hamilton's method;
Balinski & Young 1982), so the total is exactly B.

Social organisations grow capacity only with time: funding buys slots (K* = budget ÷
cost per slot + volunteers), but staff are recruited and trained at a stated pace — a
linear ramp that builds the whole funded capacity in T = ``social_org_ramp_days``:
K(t + Δ) = min(K*, K(t) + K*·Δ/T); a funding cut takes effect at once, K ≤ K*
(:func:`social_org_capacity`; building a volunteer base and professional staff takes
time, Salamon 1987, "voluntary failure"). Cases are sent to them only while they have
capacity: a social organisation's queue beyond what its slots start within
``handling.social_org_max_wait_days`` duty days spills back to the town's people's
mediation committee (:func:`sim.kernels.handle.spill_back`).

References
----------
1. Fox, B. (1966). Discrete optimization via marginal analysis. Management Science 13(3),
   210–216. doi:10.1287/mnsc.13.3.210
2. Dyer, M. E., & Proll, L. G. (1977). On the validity of marginal analysis for
   allocating servers in M/M/c queues. Management Science 23(9), 1019–1022.
   doi:10.1287/mnsc.23.9.1019
3. Weber, R. R. (1980). On the marginal benefit of adding servers to G/GI/m queues.
   Management Science 26(9), 946–951. doi:10.1287/mnsc.26.9.946
4. Savas, E. S. (1978). On equity in providing public services. Management Science
   24(8), 800–808. doi:10.1287/mnsc.24.8.800
5. Balinski, M. L., & Young, H. P. (1982). Fair Representation: Meeting the Ideal of One
   Man, One Vote. Yale University Press.
6. Salamon, L. M. (1987). Of market failure, voluntary failure, and third-party
   government. Journal of Voluntary Action Research 16(1–2), 29–49.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.issues import QUEUED
from sim.pools import K_MEDIATION, K_SOCIAL
from sim.queueing import mean_wait_nb
from sim.scenario.schema import POOL_KINDS

MODES = ("siloed", "pooled", "equity")


@njit(cache=True)
def _largest_remainder_kernel(target, total, floor_, out):
    """Integers ``out ≥ floor_`` summing to ``total``, nearest to ``target`` (Hamilton).

    ``target`` must be ≥ ``floor_`` and sum to ``total``. Leftover units go to the largest
    fractional parts; ties to the lower index.
    """
    n = target.shape[0]
    given = 0
    for i in range(n):
        out[i] = max(floor_[i], int(math.floor(target[i])))
        given += out[i]
    left = total - given
    frac = np.empty(n)
    for i in range(n):
        frac[i] = target[i] - out[i]
    while left > 0:
        best = 0
        for i in range(1, n):
            if frac[i] > frac[best]:
                best = i
        out[best] += 1
        frac[best] -= 1.0
        left -= 1
    while left < 0:  # only from rounding noise in target: take from the smallest excess
        best = -1
        for i in range(n):
            if out[i] > floor_[i] and (best < 0 or frac[i] < frac[best]):
                best = i
        out[best] -= 1
        frac[best] += 1.0
        left += 1
    return out


@njit(cache=True)
def _greedy_kernel(lam, mu, weight, c_min, budget, out):
    """Greedy marginal allocation of ``budget`` slots minimising Σ w·λ·W_q (see module).

    ``out`` receives the slots. Returns False (and leaves ``out`` untouched) when the
    budget cannot make every pool with demand stable.
    """
    n = lam.shape[0]
    need = 0
    for i in range(n):
        a = lam[i] / mu[i]
        stable = int(math.floor(a)) + 1 if lam[i] > 0.0 else 0
        out[i] = max(c_min[i], stable)
        need += out[i]
    if need > budget:
        return False
    gain = np.empty(n)
    for i in range(n):
        now = weight[i] * lam[i] * mean_wait_nb(lam[i], mu[i], out[i])
        gain[i] = now - weight[i] * lam[i] * mean_wait_nb(lam[i], mu[i], out[i] + 1)
    for _ in range(budget - need):
        best = 0
        for i in range(1, n):
            # larger gain first; equal gains (e.g. all 0) to the most load per slot
            busier = lam[i] / mu[i] / (out[i] + 1) > lam[best] / mu[best] / (out[best] + 1)
            if gain[i] > gain[best] or (gain[i] == gain[best] and busier):
                best = i
        out[best] += 1
        c = out[best]
        now = weight[best] * lam[best] * mean_wait_nb(lam[best], mu[best], c)
        gain[best] = now - weight[best] * lam[best] * mean_wait_nb(lam[best], mu[best], c + 1)
    return True


def _vec(x, n: int, name: str, fn: str = "allocate") -> np.ndarray:
    a = np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"The '{name}' parameter of {fn} must be finite and >= 0. Got {x!r}.")
    return a


def largest_remainder(target, total: int, floor_) -> np.ndarray:
    """Round non-negative ``target`` to integers ≥ ``floor_`` that sum to ``total``.

    ``target`` is first rescaled so that it sums to ``total`` above the floors.
    """
    t = np.asarray(target, dtype=np.float64)
    n = t.shape[0]
    lo = np.broadcast_to(np.asarray(floor_, dtype=np.int64), (n,)).copy()
    room = int(total) - int(lo.sum())
    if room < 0:
        raise ValueError(f"A total of {total} slots cannot give every pool its floor {lo}.")
    extra = np.maximum(t - lo, 0.0)
    s = extra.sum()
    share = extra / s if s > 0 else np.full(n, 1.0 / max(n, 1))
    out = np.empty(n, dtype=np.int64)
    return _largest_remainder_kernel(lo + room * share, int(total), lo, out)


def total_wait(arrivals, mu, slots, weights=None) -> float:
    """Σ_i w_i·λ_i·W_q,i: the group's expected number of cases waiting (Little's law).

    ``inf`` if any pool with demand is unstable. Units: those of λ·W (e.g. cases).
    """
    lam = np.asarray(arrivals, dtype=np.float64)
    n = lam.shape[0]
    m = np.broadcast_to(np.asarray(mu, dtype=np.float64), (n,))
    w = np.ones(n) if weights is None else np.broadcast_to(np.asarray(weights, float), (n,))
    c = np.asarray(slots, dtype=np.int64)
    return float(
        sum(w[i] * lam[i] * mean_wait_nb(lam[i], m[i], int(c[i])) if lam[i] > 0 else 0.0
            for i in range(n))
    )  # fmt: skip


def allocate(
    mode: str,
    arrivals,
    budget: int,
    mu,
    *,
    base_shares=None,
    sharing: float,
    prior=None,
    population=None,
    equity_weight: float,
    need=None,
    min_slots,
    weights=None,
) -> np.ndarray:
    """Split ``budget`` case slots among a group of pools (see the module docstring).

    Parameters
    ----------
    mode : {"siloed", "pooled", "equity"}
        Fixed shares, demand-driven greedy on Erlang C, or urban–rural equalisation.
    arrivals : array-like [n]
        True arrival rate λ_i of each pool (cases per unit time, e.g. per day).
    budget : int
        Total slots B of the group (kept exactly).
    mu : float or array-like [n]
        Service rate per slot μ_i in the same time unit (cases per slot per day).
    base_shares : array-like [n], optional
        Fixed shares s_i (normalised here); default equal shares. Used by "siloed",
        "equity" and as the default prior of "pooled".
    sharing : float
        D in [0, 1]: how much of the true demand the allocator sees ("pooled").
    prior : array-like [n], optional
        π_i, the demand the allocator assumes where data are not shared ("pooled");
        default ``s_i·Σλ`` (the demand the fixed shares imply).
    population : array-like [n], optional
        Residents each pool serves ("equity"; required there).
    equity_weight : float
        w in [0, 1] ("equity").
    need : array-like [n], optional
        ν_i, need per resident of each pool ("equity"; default 1: equal per head).
    min_slots : int or array-like [n]
        Floor c_min on each pool's slots (e.g. 1 to keep every department open).
    weights : array-like [n], optional
        w_i, weight of a waiting case of pool i in the "pooled" objective (default 1).

    Returns
    -------
    ndarray of int64 [n]
        Slots per pool, summing to ``budget``.

    Raises
    ------
    ValueError
        For an unknown mode, bad shapes or values, or a budget below Σ c_min.

    Warns
    -----
    RuntimeWarning
        "pooled" with a budget too small to make every pool stable (falls back to slots
        in proportion to offered load).
    """
    if mode not in MODES:
        raise ValueError(f"The 'mode' parameter of allocate must be one of {MODES}. Got {mode!r}.")
    lam = np.asarray(arrivals, dtype=np.float64)
    if lam.ndim != 1:
        raise ValueError(f"'arrivals' must be a 1-D array. Got shape {lam.shape}.")
    n = lam.shape[0]
    lam = _vec(lam, n, "arrivals")
    m = _vec(mu, n, "mu")
    if np.any(m <= 0):
        raise ValueError(f"The 'mu' parameter of allocate must be > 0. Got {mu!r}.")
    budget = int(budget)
    lo = np.broadcast_to(np.asarray(min_slots, dtype=np.int64), (n,)).copy()
    if np.any(lo < 0) or lo.sum() > budget:
        raise ValueError(
            f"allocate needs 0 <= min_slots and sum(min_slots) <= budget. Got min_slots="
            f"{min_slots!r}, budget={budget}."
        )
    s = np.ones(n) if base_shares is None else _vec(base_shares, n, "base_shares")
    s = s / s.sum() if s.sum() > 0 else np.full(n, 1.0 / max(n, 1))
    if mode == "siloed":
        return largest_remainder(budget * s, budget, lo)
    if mode == "equity":
        if population is None:
            raise ValueError("allocate(mode='equity') needs 'population' (residents per pool).")
        if not 0.0 <= equity_weight <= 1.0:
            raise ValueError(f"'equity_weight' must be in [0, 1]. Got {equity_weight!r}.")
        pop = _vec(population, n, "population")
        if need is not None:
            pop = pop * _vec(need, n, "need")
        per_head = pop / pop.sum() if pop.sum() > 0 else s
        target = budget * ((1.0 - equity_weight) * s + equity_weight * per_head)
        return largest_remainder(target, budget, lo)
    if not 0.0 <= sharing <= 1.0:
        raise ValueError(f"'sharing' must be in [0, 1]. Got {sharing!r}.")
    pi = s * lam.sum() if prior is None else _vec(prior, n, "prior")
    seen = sharing * lam + (1.0 - sharing) * pi
    w = np.ones(n) if weights is None else _vec(weights, n, "weights")
    out = np.empty(n, dtype=np.int64)
    if _greedy_kernel(seen, m, w, lo, budget, out):
        return out
    warnings.warn(
        f"A budget of {budget} slots cannot make every pool stable at the demand seen; "
        "slots are split in proportion to offered load.",
        RuntimeWarning,
        stacklevel=2,
    )
    return largest_remainder(seen / m, budget, lo)


def capacity_per_resident(slots, population, rural_share) -> tuple[float, float]:
    """Slots per 1,000 urban and per 1,000 rural residents of a group of pools.

    A pool's slots are shared by its urban and rural residents in proportion to their
    numbers, so pool i gives ``slots_i / n_i`` per head to both.
    """
    x = np.asarray(slots, dtype=np.float64)
    pop = np.asarray(population, dtype=np.float64)
    r = np.asarray(rural_share, dtype=np.float64)
    per_head = np.divide(x, pop, out=np.zeros_like(x), where=pop > 0)
    urban, rural = pop * (1 - r), pop * r
    u = 1000.0 * float(np.sum(per_head * urban) / urban.sum()) if urban.sum() > 0 else 0.0
    v = 1000.0 * float(np.sum(per_head * rural) / rural.sum()) if rural.sum() > 0 else 0.0
    return u, v


def social_org_capacity(current, target, elapsed_days: float, ramp_days: float):
    """Slots of social organisations after ``elapsed_days`` of growth toward ``target``.

    Linear ramp: K ← min(K*, K + K*·Δ/T), T = ``ramp_days`` the time to build the whole
    funded capacity; above the target (funding cut) K = K* at once. Returns floats;
    round with :func:`largest_remainder` or ``np.rint`` where integers are needed.
    """
    if not ramp_days > 0:
        raise ValueError(f"'ramp_days' must be > 0. Got {ramp_days!r}.")
    k = np.asarray(current, dtype=np.float64)
    kstar = np.asarray(target, dtype=np.float64)
    return np.minimum(kstar, k + kstar * (elapsed_days / ramp_days))


def resize_pools(pools, new_slots, now: float):
    """A copy of ``pools`` with ``new_slots`` servers per pool (e.g. after :func:`allocate`).

    A growing pool gets new slots free at ``now``; a shrinking pool gives up its idle
    slots first (earliest ``free_at``), so cases in service keep their slot; any case
    whose slot goes is still finished (its completion time is already set). Staff cost
    per duty day scales with the slots (per-slot cost of the pool, or of its kind when
    it had none).

    Parameters
    ----------
    pools : sim.pools.Pools
    new_slots : int array [n_pools]
    now : float
        Current hour (24·day).
    """
    new = np.asarray(new_slots, dtype=np.int64)
    if new.shape != pools.servers.shape or np.any(new < 0):
        raise ValueError("new_slots must be non-negative, one per pool.")
    old = pools.servers.astype(np.int64)
    ptr = np.zeros(new.shape[0] + 1, dtype=np.int64)
    np.cumsum(new, out=ptr[1:])
    free_at = np.empty(int(ptr[-1]))
    for p in range(new.shape[0]):
        f = pools.free_at[pools.server_ptr[p] : pools.server_ptr[p + 1]]
        k = int(new[p])
        if k >= f.shape[0]:
            part = np.concatenate([f, np.full(k - f.shape[0], float(now))])
        else:
            keep = np.sort(np.argsort(-f, kind="stable")[:k])
            part = f[keep]
        free_at[ptr[p] : ptr[p + 1]] = part
    per_slot = np.divide(pools.staff_per_duty_day, old, out=np.zeros(old.shape[0]), where=old > 0)
    for kind in np.unique(pools.kind):
        sel = pools.kind == kind
        known = sel & (old > 0)
        if np.any(known):
            per_slot[sel & (old == 0)] = float(np.mean(per_slot[known]))
    return dataclasses.replace(
        pools,
        servers=new.astype(pools.servers.dtype),
        server_ptr=ptr,
        free_at=free_at,
        staff_per_duty_day=per_slot * new,
    )


# ---------------------------------------------------------------------------------------
# The mechanism's month: parameters, state and step


@dataclass(frozen=True)
class Params:
    """Reallocation parameters, built once from the scenario.

    Attributes
    ----------
    mode : str
        ``levers.capability.resource_allocation`` (:data:`MODES`).
    period_days : int
        ``reallocation.period_days``: days between reallocations.
    pool_kinds : tuple of int
        Kinds of pool whose slots are reallocated within the kind
        (``reallocation.pool_kinds``).
    min_slots : int
        c_min (``reallocation.min_slots``).
    sharing : float
        D, ``levers.data.data_sharing`` (demand seen by the "pooled" rule).
    equity_weight : float
        w of the "equity" rule: 1 (the rule in full, see the module docstring).
    social_org_ramp_days : float
        T, days to build the whole funded capacity (``reallocation.social_org_ramp_days``).
    social_org_initial_share : float
        Share of the funded social-organisation slots present on day 0
        (``reallocation.social_org_initial_share``).
    """

    mode: str
    period_days: int
    pool_kinds: tuple[int, ...]
    min_slots: int
    sharing: float
    equity_weight: float
    social_org_ramp_days: float
    social_org_initial_share: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        ra = sc.reallocation
        return cls(
            mode=sc.levers.capability.resource_allocation,
            period_days=ra.period_days,
            pool_kinds=tuple(POOL_KINDS.index(k) for k in ra.pool_kinds),
            min_slots=ra.min_slots,
            sharing=sc.levers.data.data_sharing,
            equity_weight=1.0,
            social_org_ramp_days=ra.social_org_ramp_days,
            social_org_initial_share=ra.social_org_initial_share,
        )


@dataclass
class State:
    """What reallocation carries from day to day (arrays per pool).

    Attributes
    ----------
    base_slots : int64
        Slots of the siloed plan (the budget of each group and its fixed shares).
    social_target, social_capacity : float64
        Funded and current social-organisation slots (0 for other pools).
    arrivals, busy, starts : float64
        Cases that entered the pool's queue, handling hours and services started since
        the last reallocation (the demand and service rates it sees).
    work : float64
        Expected handling hours of the cases that entered the pool's queue since the
        last reallocation (:class:`Demand`).
    """

    base_slots: np.ndarray
    social_target: np.ndarray
    social_capacity: np.ndarray
    arrivals: np.ndarray
    busy: np.ndarray
    starts: np.ndarray
    work: np.ndarray

    @classmethod
    def start(cls, pools, p: Params, social_capacity=None) -> State:
        """Fresh memory; social organisations start below their funded capacity
        (``social_org_initial_share``) unless ``social_capacity`` is given."""
        n_p = pools.n_pools
        social = pools.kind == K_SOCIAL
        target = np.where(social, pools.servers, 0).astype(np.float64)
        if social_capacity is None:
            start = np.rint(target * p.social_org_initial_share)
            social_capacity = np.where(social & (target > 0), np.maximum(start, 1.0), 0.0)
        return cls(
            base_slots=pools.servers.astype(np.int64).copy(),
            social_target=target,
            social_capacity=social_capacity,
            arrivals=np.zeros(n_p),
            busy=np.zeros(n_p),
            starts=np.zeros(n_p),
            work=np.zeros(n_p),
        )

    def initial_pools(self, pools):
        """``pools`` with social organisations shrunk to their initial capacity."""
        new = np.where(pools.kind == K_SOCIAL, self.social_capacity, pools.servers)
        new = new.astype(np.int64)
        return pools if np.array_equal(new, pools.servers) else resize_pools(pools, new, 0.0)


class Demand(NamedTuple):
    """Today's demand on each pool (:func:`queue_arrivals`)."""

    cases: np.ndarray  # int64[n_pools]: cases that entered the queue
    hours: np.ndarray  # float64[n_pools]: their expected handling hours (workload)


def queue_arrivals(issues, was_routing, pools) -> Demand:
    """Cases that entered a pool's queue in today's routing (rows ROUTING before it), and
    their expected handling hours: each case weighs the mean service hours of its type
    (category) at its pool's kind (``pools.service_hours``)."""
    t = issues
    entered = was_routing & (t.status == QUEUED)
    pool = t.pool[entered]
    hours = pools.service_hours[pools.kind[pool], t.category[entered]]
    n = pools.n_pools
    return Demand(np.bincount(pool, minlength=n), np.bincount(pool, weights=hours, minlength=n))


def services_started(issues, n_pools: int, day: int) -> np.ndarray:
    """Services started today per pool (service rates)."""
    t = issues
    started = (t.t_start >= 24.0 * day) & (t.t_start < 24.0 * day + 24.0)
    return np.bincount(t.pool[started], minlength=n_pools)


def savas_need(arrivals, population) -> np.ndarray | None:
    """ν_i: demand (here expected hours of work) per resident of each pool relative to the
    group's mean — equal capacity per unit of work rather than per head (Savas 1978,
    equity of output); None without demand."""
    per_head = arrivals / np.maximum(population, 1.0)
    return per_head / per_head.mean() if per_head.mean() > 0 else None


def reallocation_step(
    state: State, pools, city, arrivals, starts, busy, p: Params, day: int
):  # fmt: skip
    """Stage 7: count today's demand; every ``period_days`` reallocate and grow social orgs.

    Parameters
    ----------
    state : State
        Updated in place.
    pools : sim.pools.Pools
    city : sim.city.City
        Residents per grid, county and town (the population a pool serves).
    arrivals : Demand or array [n_pools]
        Today's queue arrivals and their expected hours (:func:`queue_arrivals`; a plain
        array of cases counts each case as the group's mean hours).
    starts, busy : array [n_pools]
        Services started (:func:`services_started`) and handling hours started today.
    p : Params
    day : int

    Returns
    -------
    sim.pools.Pools
        ``pools``, or a resized copy on a reallocation day.
    """
    if isinstance(arrivals, Demand):
        state.arrivals += arrivals.cases
        state.work += arrivals.hours
    else:
        state.arrivals += arrivals
    state.starts += starts
    state.busy += busy
    period = p.period_days
    if (day + 1) % period != 0:
        return pools
    pl = pools
    new = pl.servers.astype(np.int64).copy()
    if p.mode != "siloed":
        grid_n = np.diff(city.grid_start).astype(np.float64)
        county_pop = np.bincount(city.grid_county, weights=grid_n, minlength=city.n_counties)
        town_pop = np.bincount(city.grid_town, weights=grid_n, minlength=city.n_towns)
        for kind in p.pool_kinds:
            idx = np.flatnonzero(pl.kind == kind)
            if idx.size < 2:
                continue
            budget = int(state.base_slots[idx].sum())
            lam = state.arrivals[idx] / period
            n_starts = state.starts[idx].sum()
            mean_h = state.busy[idx].sum() / n_starts if n_starts > 0 else 24.0
            # workload: each pool's expected hours per case from its own case mix
            cases, work = state.arrivals[idx], state.work[idx]
            has_mix = (cases > 0) & (work > 0)
            per_case = np.where(has_mix, work / np.maximum(cases, 1.0), mean_h)
            mu = 24.0 / np.maximum(per_case, 1e-6)
            if kind == K_MEDIATION:  # town_pool lists the towns' pools in ascending order
                pop = town_pop[np.searchsorted(pl.town_pool, idx)]
            else:
                pop = county_pop[pl.county[idx].astype(np.int64)]
            new[idx] = allocate(
                p.mode,
                lam,
                budget,
                mu,
                base_shares=state.base_slots[idx].astype(np.float64),
                sharing=p.sharing,
                population=pop,
                equity_weight=p.equity_weight,
                need=savas_need(lam / mu, pop),
                # the floor, or the even share where the group's budget cannot give
                # every pool the floor (a downscaled city has many one-slot pools)
                min_slots=min(p.min_slots, budget // idx.size),
            )
    social = pl.kind == K_SOCIAL
    if social.any():
        state.social_capacity = np.where(
            social,
            social_org_capacity(
                state.social_capacity, state.social_target, period, p.social_org_ramp_days
            ),
            0.0,
        )
        grown = np.rint(state.social_capacity)
        new[social] = np.where(state.social_target[social] > 0, np.maximum(grown[social], 1), 0)
    if not np.array_equal(new, pl.servers):
        pl = resize_pools(pl, new, 24.0 * (day + 1))
    state.arrivals[:] = 0.0
    state.work[:] = 0.0
    state.busy[:] = 0.0
    state.starts[:] = 0.0
    return pl
