"""Key-person management (重点人员管理): grid workers watch and visit residents whose
grievances keep coming back.

**The watch list** is built **only from what the city observes** — the same rule as the
early-warning indicator (:mod:`sim.kernels.warning`); never from residents' hidden
grievance, activation, trust or their hidden (LATENT) issues. Resident i is listed on day
d when, counting only her issues the city knows of (surfaced, status not LATENT):

- she is a repeat caller: at least ``repeat_open`` known open issues (重复来电/来访), or
- she has a petition on file (an open issue escalated to 信访), or
- she keeps going away unsatisfied: her remembered unresolved closures
  U_i ≥ ``unresolved_to_list``, where U_i counts her known issues closed unresolved
  (failed, abandoned after they surfaced, taken to court), each weighted
  exp(−age/``memory_days``) (past escalations are remembered through them).

Once listed she stays on the list for ``review_days`` after the last day one of these
held (the list is reviewed, not redrawn daily: 动态管理, 定期研判), then leaves it.

**Visits.** Each listed resident is visited on a given day with probability v/30, v =
``levers.capability.key_person_visits`` (visits per listed person per month; a
counter-based draw per resident and day). A visit takes ``visit_hours`` of a grid worker
**out of the grid's patrol hours** (铁脚板): visits in grid g are made, residents in row
order, while the grid's patrol hours of the day last (:func:`sim.kernels.surface.
patrol_hours` × workers), and the hours they take are not patrolled that day
(:func:`sim.kernels.surface.patrol_factor`), so visits compete with detection at fixed
staff. On a visit, each of the resident's cases waiting in a queue (not yet in service)
of her grid worker, a department, the town mediation committee or the petition office is
settled with probability ``settle_prob`` (RESOLVED at the visit): the worker takes the
case in hand with its handler (包案化解; for a department case, 督办 — the department acts
on it at once), or talks the resident round (息访息诉). A settled case is the resident's
experience of a resolved issue (trust and participation,
:func:`sim.kernels.trust.own_experience`) and leaves the queue; nothing else changes — no
escalation hazard or outcome is multiplied.

Deviations: the department's own hours for a case settled on a visit are not counted
(only the grid worker's visit hours are); cases already in service are left to their
handler, and cases with the hotline, online platform, social or mass organisations are
not touched. The list is kept
for the day; real lists are reviewed monthly.

References
----------
1. 中央政法委 (2019–2020) 市域社会治理现代化试点工作指引: 重点人群服务管理, 矛盾纠纷
   排查化解 (the pilots' guideline; describes lists of key persons, 包案 and regular visits).
2. 葛雪梅 (2023), the source article (docs/sources/DIGEST.md): 铁脚板 patrols, grid workers
   as the first line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.issues import (
    ABANDONED,
    FAILED,
    FIRST_CLOSED,
    LATENT,
    LEVEL_PETITION,
    LITIGATED,
    QUEUED,
    RESOLVED,
)
from sim.pools import K_DEPARTMENT, K_GRID, K_MEDIATION, K_PETITION
from sim.rng import S_KEYPERSON_SETTLE, S_KEYPERSON_VISIT, uniform

VISIT_HOUR = 14.0  # hour of the day a visit is made (the afternoon round; a setting)
DAYS_PER_MONTH = 30.0


@dataclass(frozen=True)
class Params:
    """Key-person parameters, built once from the scenario (``key_persons`` section and
    ``levers.capability.key_person_visits``).

    Attributes
    ----------
    visits_per_month : float
        Visits per listed resident per month (the lever).
    repeat_open, unresolved_to_list : float
        Listing thresholds (module docstring).
    review_days : int
        Days a resident stays listed after a criterion last held.
    decay : float
        Daily decay exp(−1/``memory_days``) of the remembered unresolved closures.
    visit_hours, settle_prob : float
    workers_per_grid : float or float array [n_grids]
        Grid workers per grid (:func:`sim.pools.workers_per_grid`; per grid where counties
        have added workers, :func:`sim.pools.grid_workers`).
    """

    visits_per_month: float
    repeat_open: float
    unresolved_to_list: float
    review_days: int
    decay: float
    visit_hours: float
    settle_prob: float
    workers_per_grid: float | np.ndarray

    @classmethod
    def from_scenario(cls, sc) -> Params:
        from sim.pools import workers_per_grid

        k = sc.key_persons
        return cls(
            visits_per_month=sc.levers.capability.key_person_visits,
            repeat_open=float(k.repeat_open),
            unresolved_to_list=k.unresolved_to_list,
            review_days=int(k.review_days),
            decay=math.exp(-1.0 / k.memory_days),
            visit_hours=k.visit_hours,
            settle_prob=k.settle_prob,
            workers_per_grid=workers_per_grid(sc),
        )


@dataclass
class State:
    """The watch list and what the city remembers of each resident's unresolved issues,
    with totals of the reported days."""

    unresolved: np.ndarray  # float64 [n_residents]: remembered unresolved closures U_i
    listed: np.ndarray  # uint8 [n_residents]: on the watch list today
    until: np.ndarray  # int64 [n_residents]: listed through this day (−1: never)
    ever_listed: np.ndarray  # uint8 [n_residents]: listed on some reported day
    # day buffers, kept so a day allocates nothing resident-sized
    open_known: np.ndarray  # int32 [n_residents]: known open issues today
    flag: np.ndarray  # uint8 [n_residents]: an open petition today; visited today
    visits: int = field(default=0, init=False)
    settled: int = field(default=0, init=False)
    listed_days: int = field(default=0, init=False)  # Σ over reported days: list length
    days: int = field(default=0, init=False)

    @classmethod
    def start(cls, n_residents: int) -> State:
        return cls(
            unresolved=np.zeros(n_residents),
            listed=np.zeros(n_residents, dtype=np.uint8),
            until=np.full(n_residents, -1, dtype=np.int64),
            ever_listed=np.zeros(n_residents, dtype=np.uint8),
            open_known=np.zeros(n_residents, dtype=np.int32),
            flag=np.zeros(n_residents, dtype=np.uint8),
        )

    def reset(self) -> None:
        """Forget the totals (the report starts); the list and memory stay."""
        self.ever_listed[:] = self.listed
        self.visits = self.settled = self.listed_days = self.days = 0


class Visits(NamedTuple):
    """Today's visits (:func:`visit_step`)."""

    visits: int
    settled: int
    hours_per_worker: np.ndarray  # float64 [n_grids]: patrol hours the visits took


@njit(cache=True)
def _watch_kernel(status, level, resident, channel, t_closed, day, unresolved, decay,
                  repeat_open, unresolved_to_list, review_days, until, listed, open_known,
                  petition):  # fmt: skip
    """Decay and add today's known unresolved closures into ``unresolved``; rebuild
    ``listed`` from known open issues, open petitions and ``unresolved`` (kept on for
    ``review_days`` after a criterion last held, ``until``). Only rows with
    status not LATENT and a channel (surfaced) are read. ``open_known`` and ``petition``
    are the caller's buffers (overwritten)."""
    n_res = unresolved.shape[0]
    for i in range(n_res):
        unresolved[i] *= decay
        open_known[i] = 0
        petition[i] = 0
    t0 = 24.0 * day
    for k in range(status.shape[0]):
        st = status[k]
        if st == LATENT or channel[k] < 0:
            continue  # unknown to the city
        r = resident[k]
        if st >= FIRST_CLOSED:
            if t0 <= t_closed[k] < t0 + 24.0 and (
                st == FAILED or st == ABANDONED or st == LITIGATED
            ):
                unresolved[r] += 1.0
            continue
        open_known[r] += 1
        if level[k] == LEVEL_PETITION:
            petition[r] = 1
    n_listed = 0
    for i in range(n_res):
        on = open_known[i] >= repeat_open or petition[i] != 0
        on = on or unresolved[i] >= unresolved_to_list
        if on:
            until[i] = day + review_days
        listed[i] = 1 if until[i] >= day else 0
        n_listed += listed[i]
    return n_listed


def watch_step(state: State, issues, p: Params, day: int) -> int:
    """Stage 6: update the watch list from today's observed issue rows (module docstring);
    returns the number listed. Reads no hidden state: only known (surfaced) issue rows."""
    t = issues
    n = _watch_kernel(
        t.status, t.level, t.resident.astype(np.int64), t.channel, t.t_closed, int(day),
        state.unresolved, p.decay, p.repeat_open, p.unresolved_to_list, p.review_days,
        state.until, state.listed, state.open_known, state.flag,
    )  # fmt: skip
    state.ever_listed |= state.listed
    state.listed_days += int(n)
    state.days += 1
    return int(n)


@njit(cache=True)
def plan_visits(listed, resident_grid, grid_beat, budget_hours, visits_per_month, visit_hours,
                seed, day, visited, used_hours):  # fmt: skip
    """Mark in ``visited`` the listed residents visited today (each with probability
    visits_per_month / 30) while their beat's ``budget_hours`` last (``grid_beat``: the
    beat, i.e. grid pool, of each grid; a beat's workers serve all its grids); add the
    hours to ``used_hours`` (per beat). Returns the number of visits."""
    prob = visits_per_month / DAYS_PER_MONTH
    n = 0
    for i in range(listed.shape[0]):
        visited[i] = 0
        if listed[i] == 0:
            continue
        if uniform(seed, S_KEYPERSON_VISIT, day, i) >= prob:
            continue
        b = grid_beat[resident_grid[i]]
        if used_hours[b] + visit_hours > budget_hours[b] + 1e-9:
            continue  # the beat's patrol hours are used up today
        used_hours[b] += visit_hours
        visited[i] = 1
        n += 1
    return n


@njit(cache=True)
def _settle_kernel(status, iid, resident, pool, t_ready, t_closed, pool_kind, visited,
                   settle_prob, seed, day):  # fmt: skip
    """Settle, with probability ``settle_prob``, each case of a visited resident waiting
    (QUEUED, already in the queue at the visit) in a grid, department, mediation or
    petition pool."""
    now = 24.0 * day + VISIT_HOUR
    n = 0
    for k in range(status.shape[0]):
        if status[k] != QUEUED or visited[resident[k]] == 0:
            continue
        pk = pool_kind[pool[k]]
        if pk != K_GRID and pk != K_DEPARTMENT and pk != K_MEDIATION and pk != K_PETITION:
            continue
        if t_ready[k] > now:
            continue  # not yet in the queue
        if uniform(seed, S_KEYPERSON_SETTLE, day, iid[k]) < settle_prob:
            status[k] = RESOLVED
            t_closed[k] = now
            n += 1
    return n


def visit_step(
    state: State, issues, city, pools, queue_len, patrol_mult, p: Params, p_surface,
    seed: int, day: int,
) -> Visits:  # fmt: skip
    """Stage 2 (before surfacing): grid workers visit listed residents within the grids'
    patrol hours (:func:`sim.kernels.surface.patrol_hours` with ``p_surface``, the
    surfacing parameters), settling some of their waiting cases. Returns the visits, the
    cases settled and the hours per worker the visits took from each grid's patrols."""
    from sim.kernels.surface import patrol_hours

    n_g = city.n_grids
    if p.visits_per_month <= 0.0 or not state.listed.any():
        return Visits(0, 0, np.zeros(n_g))
    # the hours come from the beat's workers, whose beat may span several grids
    # (levers.capability.grids_per_worker): the budget and the hours used are the beat's,
    # and the hours used are taken from its grids in proportion to their patrol hours, so
    # redrawing grids over the same workers does not change what visits can do
    per_worker = patrol_hours(queue_len, pools.grid_pool, patrol_mult, p_surface)
    budget_grid = per_worker * p.workers_per_grid
    beat = pools.grid_pool
    budget = np.bincount(beat, weights=budget_grid, minlength=pools.n_pools)
    used_beat = np.zeros(pools.n_pools)
    visited = state.flag  # a day buffer (plan_visits overwrites it)
    n = plan_visits(
        state.listed, city.grid, beat, budget, p.visits_per_month, p.visit_hours, seed, day,
        visited, used_beat,
    )  # fmt: skip
    b = budget[beat]
    share = np.divide(budget_grid, b, out=np.zeros(n_g), where=b > 0.0)
    used = used_beat[beat] * share
    t = issues
    settled = 0
    if n:
        settled = _settle_kernel(
            t.status, t.iid, t.resident, t.pool, t.t_ready, t.t_closed, pools.kind, visited,
            p.settle_prob, seed, day,
        )  # fmt: skip
    state.visits += int(n)
    state.settled += int(settled)
    return Visits(int(n), int(settled), used / np.maximum(p.workers_per_grid, 1e-12))


def keyperson_report(state: State) -> dict[str, float]:
    """Residents listed on some reported day, mean list length, visits made and cases
    settled on visits in the reported days."""
    return {
        "key_persons_listed": float(np.count_nonzero(state.ever_listed)),
        "key_persons_listed_mean": state.listed_days / state.days if state.days else 0.0,
        "key_person_visits": float(state.visits),
        "key_person_settled": float(state.settled),
    }
