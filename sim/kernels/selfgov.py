"""Resident self-governance (由民自主): village/residents' committees settle local issues.

The article's fourth actor after the Party committee, the government departments and the
grids is the residents themselves: the village (residents') committee (村（居）民委员会)
and its consultation council (协商议事会, "有事好商量") settle small, local matters —
neighbour disputes, small requests — before they enter the grid or department queues.

**Which communities.** A share ``s`` of the villages and communities
(``levers.system.self_governance``) has an active consultation council. Community c is
active when the counter-based draw u(seed, ``S_SELFGOV``, 0, c) < s, so raising the lever
adds communities and never removes one (common random numbers across scenarios).

**Which issues.** On the day an issue becomes known (ROUTING, intake not yet made,
surfaced today), a resident of an active community brings it to the committee with
probability ``uptake`` when it is local and minor: a need or a dispute of severity below
``max_severity``, told to the grid worker or found on the grid worker's patrol — known
locally. A resident who called 12345 or went online chose the city's platform, and issues
found by video, organisations or escalation are not local.

**Bounded capacity.** A committee has ``members`` members, each giving
``hours_per_member_day`` hours a day to council work; a case takes ``hours_per_case``
hours, so a committee takes at most ⌊members·hours/hours_per_case + u⌋ cases a day (u a
uniform draw: the capacity's mean is exact). Cases are taken oldest first (table order);
once a committee is full, the rest **spill back** to the normal route (stage 3) the same
day, with no delay.

**Outcome.** A case the committee takes is settled (RESOLVED, closed ``hours_per_case``
hours after it was brought, at the latest at the end of the day) with probability
``resolve_prob``; otherwise it goes the normal route after those hours. A settled issue is
the resident's own experience of a resolved issue: it enters trust and participation
through the same path as any other closed issue (:func:`sim.kernels.trust.own_experience`
→ :mod:`sim.kernels.trust`, :mod:`sim.kernels.participation`) and nothing else; no
outcome is multiplied.

Deviations: a council meets on fixed days in practice; here a case is settled within the
day it is brought (the hours are its effort, not its waiting). The committee's other work
(administration, services) is outside the model; only the council hours are bounded.

The Party committee's leadership and city-level coordination (党委领导、市级统筹) are not a
separate actor here: they are ``levers.system.coordination_group`` (the coordination group
that refers disputes between tiers without delay, :mod:`sim.kernels.route`) and
``levers.system.role_clarity`` (厘清角色定位: a siloed first choice of department is right
more often).

References
----------
1. 中华人民共和国城市居民委员会组织法 (1989, rev. 2018), art. 3 (调解民间纠纷) and art. 7
   (居民委员会由主任、副主任和委员共五至九人组成); 村民委员会组织法 (rev. 2018), art. 2
   and art. 6 (三至七人).
2. 中共中央办公厅、国务院办公厅 (2015). 关于加强城乡社区协商的意见 (community consultation).
3. 葛雪梅 (2023), the source article (docs/sources/DIGEST.md): 由民自主, 社会治理共同体.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.issues import (
    CAT_DISPUTE,
    CAT_NEED,
    CH_GRID_REPORT,
    CH_PATROL,
    NEXT_INTAKE,
    RESOLVED,
    ROUTING,
)
from sim.rng import S_SELFGOV, S_SELFGOV_CAPACITY, S_SELFGOV_OUTCOME, uniform

# draws of stream S_SELFGOV: day 0 → is the community active; day d ≥ 1 → does the
# resident bring issue idx (offset so the two never share a counter)
ACTIVE_DAY = 0
BRING_OFFSET = 1


@dataclass(frozen=True)
class Params:
    """Self-governance parameters, built once from the scenario (``self_governance``
    section and ``levers.system.self_governance``).

    Attributes
    ----------
    share : float
        Share of communities with an active consultation council (the lever).
    uptake : float
        Probability a resident of an active community brings an eligible issue there.
    max_severity : float
        Issues below this severity are local and minor.
    cases_per_day : float
        Expected cases a committee can take per day: members × hours ÷ hours per case.
    hours_per_case : float
    resolve_prob : float
    """

    share: float
    uptake: float
    max_severity: float
    cases_per_day: float
    hours_per_case: float
    resolve_prob: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        g = sc.self_governance
        return cls(
            share=sc.levers.system.self_governance,
            uptake=g.uptake,
            max_severity=g.max_severity,
            cases_per_day=g.members * g.hours_per_member_day / g.hours_per_case,
            hours_per_case=g.hours_per_case,
            resolve_prob=g.resolve_prob,
        )


@dataclass
class State:
    """Totals of the reported days (reset at the start of the report) and which
    communities have an active council."""

    active: np.ndarray  # uint8 [n_communities]
    brought: int = field(default=0, init=False)
    settled: int = field(default=0, init=False)
    spilled: int = field(default=0, init=False)

    @classmethod
    def start(cls, n_communities: int, p: Params, seed: int) -> State:
        return cls(active=active_communities(n_communities, p.share, seed))

    def reset(self) -> None:
        self.brought = self.settled = self.spilled = 0


class Settled(NamedTuple):
    """What the committees did today (:func:`selfgov_step`)."""

    brought: int  # issues brought to a committee (eligible, resident chose it)
    settled: int  # … settled there (closed RESOLVED)
    failed: int  # … taken but not settled (back to the normal route)
    spilled: int  # … not taken: the committee was full (back to the normal route)
    taken_by_community: np.ndarray  # int64 [n_communities]: cases taken today


@njit(cache=True)
def active_communities(n_communities, share, seed):
    """uint8 [n_communities]: 1 where the community has an active council."""
    out = np.zeros(n_communities, dtype=np.uint8)
    for c in range(n_communities):
        if uniform(seed, S_SELFGOV, ACTIVE_DAY, c) < share:
            out[c] = 1
    return out


@njit(cache=True)
def committee_capacity(active, cases_per_day, seed, day):
    """int64 [n_communities]: cases each committee can take today (0 if inactive),
    ⌊cases_per_day + u⌋ with u a uniform draw of (seed, day, community)."""
    n = active.shape[0]
    out = np.zeros(n, dtype=np.int64)
    for c in range(n):
        if active[c]:
            out[c] = int(np.floor(cases_per_day + uniform(seed, S_SELFGOV_CAPACITY, day, c)))
    return out


@njit(cache=True)
def _selfgov_kernel(
    status, iid, category, severity, channel, next_step, grid, t_surfaced, t_ready, t_closed,
    grid_community, active, capacity, uptake, max_severity, hours_per_case, resolve_prob,
    seed, day, taken,
):  # fmt: skip
    """Take today's eligible new issues to their committee while it has capacity (table
    order, sequential: committees are shared by rows). Returns (brought, settled, failed,
    spilled); ``capacity`` is used up and ``taken`` counted in place."""
    t0 = 24.0 * day
    t_end = t0 + 24.0
    brought = settled = failed = spilled = 0
    for k in range(status.shape[0]):
        if status[k] != ROUTING or next_step[k] != NEXT_INTAKE:
            continue
        if t_surfaced[k] < t0 or t_surfaced[k] >= t_end:
            continue
        c = category[k]
        if c != CAT_NEED and c != CAT_DISPUTE:
            continue
        if severity[k] >= max_severity:
            continue
        ch = channel[k]
        if ch != CH_GRID_REPORT and ch != CH_PATROL:
            continue  # 12345/online: the resident chose the city's platform
        com = grid_community[grid[k]]
        if not active[com]:
            continue
        q = iid[k]
        if uniform(seed, S_SELFGOV, day + BRING_OFFSET, q) >= uptake:
            continue
        brought += 1
        if capacity[com] <= 0:
            spilled += 1  # the committee is full today: the normal route
            continue
        capacity[com] -= 1
        taken[com] += 1
        done = min(t_ready[k] + hours_per_case, t_end - 1e-6)
        if uniform(seed, S_SELFGOV_OUTCOME, day, q) < resolve_prob:
            status[k] = RESOLVED
            t_closed[k] = max(done, t_ready[k])
            settled += 1
        else:
            t_ready[k] = done  # the hours spent, then the normal route
            failed += 1
    return brought, settled, failed, spilled


def selfgov_step(issues, grid_community, state: State, p: Params, seed: int, day: int) -> Settled:
    """Stage 3 (before routing): committees of active communities settle today's eligible
    new issues within their capacity (module docstring); the rest go the normal route.

    ``grid_community`` maps each grid to its village/community (``city.grid_community``).
    The issue rows are changed in place; today's counts are returned and added to
    ``state``'s totals.
    """
    t = issues
    n_com = state.active.shape[0]
    taken = np.zeros(n_com, dtype=np.int64)
    if p.share <= 0.0 or t.n == 0 or not state.active.any():
        return Settled(0, 0, 0, 0, taken)
    cap = committee_capacity(state.active, p.cases_per_day, seed, day)
    brought, settled, failed, spilled = _selfgov_kernel(
        t.status, t.iid, t.category, t.severity, t.channel, t.next_step, t.grid, t.t_surfaced,
        t.t_ready, t.t_closed, grid_community, state.active, cap, p.uptake, p.max_severity,
        p.hours_per_case, p.resolve_prob, seed, day, taken,
    )  # fmt: skip
    state.brought += brought
    state.settled += settled
    state.spilled += spilled
    return Settled(brought, settled, failed, spilled, taken)


def selfgov_report(state: State, surfaced: float) -> dict[str, float]:
    """Issues settled by committees in the reported days, and their share of the issues
    that surfaced (``surfaced``: the metrics' count)."""
    return {
        "selfgov_settled": float(state.settled),
        "selfgov_share": state.settled / surfaced if surfaced > 0 else float("nan"),
    }
