"""Stage 3 — route known issues to a handler pool: siloed choice vs. command-centre dispatch.

A ROUTING issue needs one of five things (``sim.issues.NEXT_*``):

- intake: by channel — 12345/online calls go to the hotline; a grid worker who hears of
  or finds an issue handles it on the spot (share ``grid_on_spot_share``; disputes
  always) or reports it up; video/big-data finds go to dispatch; social and mass
  organisations take what reaches them;
- dispatch to a department (条): through the command centre with probability equal to
  the centre's integration of channels (video finds always), otherwise by a siloed
  choice (条块分割). The chosen sector is right with probability
  ``a_centre = a0 + a_std·[unified standards] + a_share·D`` or
  ``a_silo = s0 + s_role·role_clarity``; a wrong choice is a uniformly random other
  sector. The wrong department sends it back after ``misroute_screen_hours`` and it is
  transferred (转办) after ``transfer_delay_hours``, each time reaching the right
  department with accuracy ``a_silo + (a_centre − a_silo)·integration`` (at most
  ``MAX_TRANSFERS`` times). Dispatch takes ``dispatch_delay`` (shorter with unified
  standards) or ``siloed_delay`` hours. A work order sent back costs delay, not a
  department's case slot;
- mediation (disputes): the next tier of the ladder first-line → people's mediation
  (town) → online platform 苏解纷 (if on and the resident has digital access) → social
  organisations (if funded). First-line is the grid worker, or the platform / social /
  mass organisation the dispute came through. With the coordination group
  (协调小组) referrals between tiers are immediate, otherwise they take a transfer delay.
  Past the last tier the dispute goes to court (``failure_litigation_prob``; first
  diverted online when 苏解纷 is on, see :mod:`sim.kernels.diversion`) or closes
  unresolved — the dispute pyramid (Miller & Sarat 1980);
- diversion: to the online platform for pre-filing mediation (诉前调解);
- petition: to the county's petition office (信访).

Every dispatch through the centre with shared data is a data use; each use is misused
with probability ``m0·(1 − e_log·logging)·(1 − e_perm·permission)·(1 − e_det·deterrence)``
(:func:`sim.kernels.datagov.misuse_probability`, the one home of that formula).

References
----------
1. Miller, R. E., & Sarat, A. (1980). Grievances, claims, and disputes: assessing the
   adversary culture. Law & Society Review 15(3/4), 525–566. doi:10.2307/3053502
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim.issues import (
    CAT_DISPUTE,
    CH_GRID_REPORT,
    CH_HOTLINE,
    CH_MASS,
    CH_ONLINE,
    CH_PATROL,
    CH_SOCIAL,
    CH_VIDEO,
    FAILED,
    NEXT_DISPATCH,
    NEXT_DIVERT,
    NEXT_INTAKE,
    NEXT_MEDIATE,
    NEXT_PETITION,
    QUEUED,
    ROUTING,
)
from sim.kernels.datagov import misuse_by_grid, misuse_probability
from sim.kernels.diversion import go_to_court
from sim.rng import S_ROUTE, S_ROUTE_CHOICE, S_ROUTE_MISUSE, S_ROUTE_SECTOR, uniform

# Indices into the packed parameter array.
P_INTEGRATION, P_ACC_CENTRE, P_ACC_SILO, P_DELAY_CENTRE, P_DELAY_SILO = 0, 1, 2, 3, 4
P_DELAY_TRANSFER, P_ON_SPOT, P_SHARING, P_MISUSE, P_COORD, P_LITIGATE = 5, 6, 7, 8, 9, 10
P_SCREEN, P_ACC_TRANSFER = 11, 12
N_ROUTE_PARAMS = 13
MAX_TRANSFERS = 8  # after this many transfers a work order is escalated to the right place
TRY_OFFSET = 0x9E3779B1  # counter offset of the draws of each transfer


@njit(cache=True)
def mediation_tier_pool(tier, channel, digital, grid_pool, town_pool, online_pool, social_pool,
                        mass_pool, servers):  # fmt: skip
    """Pool of the ``tier``-th rung of a dispute's mediation ladder, or -1 past the last."""
    online_ok = online_pool >= 0 and servers[online_pool] > 0 and digital != 0
    social_ok = servers[social_pool] > 0
    if channel == CH_ONLINE and online_ok:
        first = online_pool
    elif channel == CH_SOCIAL and social_ok:
        first = social_pool
    elif channel == CH_MASS and servers[mass_pool] > 0:
        first = mass_pool
    else:
        first = grid_pool
    if tier == 0:
        return first
    if tier == 1:
        return town_pool
    t = 2
    if online_ok and first != online_pool:
        if tier == t:
            return online_pool
        t += 1
    if social_ok and first != social_pool:
        if tier == t:
            return social_pool
    return -1


@njit(cache=True)
def _pick_sector(true_sector, accuracy, u_ok, u_wrong):
    """The true sector with probability ``accuracy``, else another of sectors 0..8."""
    if u_ok < accuracy or true_sector > 8:
        return true_sector
    s = int(u_wrong * 8.0)
    if s >= true_sector:
        s += 1
    return s


@njit(cache=True, parallel=True)
def _route_kernel(
    status, iid, category, sector, county, grid, channel, digital, next_step, tier, level,
    pool, t_ready, t_closed, diverted, transfers, dept_pool, grid_pool, town_pool,
    social_pool, mass_pool, petition_pool, hotline_pool, online_pool, grid_town, servers, p,
    seed, day, misuse,
):  # fmt: skip
    """Send every ROUTING issue to a pool (status QUEUED) or close it (see module doc)."""
    n = status.shape[0]
    for k in prange(n):
        misuse[k] = 0
        if status[k] != ROUTING:
            continue
        q = iid[k]
        c = category[k]
        step = next_step[k]
        ch = channel[k]
        arrival = t_ready[k]
        target = -1
        if step == NEXT_INTAKE:
            if ch == CH_HOTLINE or ch == CH_ONLINE:
                target = hotline_pool
            elif ch == CH_GRID_REPORT or ch == CH_PATROL:
                if c == CAT_DISPUTE or uniform(seed, S_ROUTE, day, q) < p[P_ON_SPOT]:
                    target = grid_pool[grid[k]]
                else:
                    step = NEXT_DISPATCH
            elif ch == CH_SOCIAL and servers[social_pool[county[k]]] > 0:
                target = social_pool[county[k]]
            elif ch == CH_MASS and servers[mass_pool[county[k]]] > 0:
                target = mass_pool[county[k]]
            else:
                step = NEXT_DISPATCH
        if step == NEXT_DISPATCH and c == CAT_DISPUTE:
            step = NEXT_MEDIATE
        if step == NEXT_DIVERT:
            target = online_pool
        elif step == NEXT_PETITION:
            target = petition_pool[county[k]]
        elif step == NEXT_MEDIATE:
            g = grid[k]
            target = mediation_tier_pool(
                tier[k], ch, digital[k], grid_pool[g], town_pool[grid_town[g]], online_pool,
                social_pool[county[k]], mass_pool[county[k]], servers,
            )  # fmt: skip
            if target < 0:
                # decided today: the closing time is today even if the case was ready earlier
                now = max(arrival, 24.0 * day)
                if uniform(seed, S_ROUTE, day, q) < p[P_LITIGATE]:
                    if not go_to_court(
                        k, now, status, level, next_step, t_ready, t_closed, diverted,
                        servers[online_pool] > 0,
                    ):  # fmt: skip
                        status[k] = QUEUED
                        pool[k] = online_pool
                else:
                    status[k] = FAILED
                    t_closed[k] = now
                continue
            if tier[k] > 0 and p[P_COORD] == 0.0:
                arrival += p[P_DELAY_TRANSFER]
        elif step == NEXT_DISPATCH:
            if ch == CH_VIDEO or uniform(seed, S_ROUTE_CHOICE, day, q) < p[P_INTEGRATION]:
                acc = p[P_ACC_CENTRE]
                arrival += p[P_DELAY_CENTRE]
                # a dispatch through the centre uses shared personal data with prob. D
                u = uniform(seed, S_ROUTE_MISUSE, day, q)
                if ch == CH_VIDEO or u < p[P_SHARING]:
                    misuse[k] = 1
                    if uniform(seed, S_ROUTE_MISUSE, day, q + 0x5BD1E995) < p[P_MISUSE]:
                        misuse[k] = 2
            else:
                acc = p[P_ACC_SILO]
                arrival += p[P_DELAY_SILO]
            s = _pick_sector(
                sector[k],
                acc,
                uniform(seed, S_ROUTE_SECTOR, day, q),
                uniform(seed, S_ROUTE_SECTOR, day, q + 0x2545F491),
            )
            # a wrong department sends the work order back (退回) after screening it and
            # it is transferred (转办), until it reaches the right one
            tries = 0
            while s != sector[k]:
                tries += 1
                if transfers[k] < 255:
                    transfers[k] += 1
                arrival += p[P_SCREEN] + p[P_DELAY_TRANSFER]
                if tries >= MAX_TRANSFERS:
                    s = sector[k]
                    break
                s = _pick_sector(
                    sector[k],
                    p[P_ACC_TRANSFER],
                    uniform(seed, S_ROUTE_SECTOR, day, q + TRY_OFFSET * tries),
                    uniform(seed, S_ROUTE_SECTOR, day, q + TRY_OFFSET * tries + 0x2545F491),
                )
            target = dept_pool[county[k], s]
        status[k] = QUEUED
        next_step[k] = step
        pool[k] = target
        t_ready[k] = arrival


@dataclass(frozen=True, eq=False)
class Params:
    """Routing parameters, built once from the scenario.

    ``packed`` is the float array the kernel reads (indices ``P_*``,
    :func:`pack_route_params`).
    """

    packed: np.ndarray

    @classmethod
    def from_scenario(cls, sc) -> Params:
        return cls(packed=pack_route_params(sc))


class Routed(NamedTuple):
    """What routing did today (:func:`route_step`)."""

    uses: int  # uses of shared personal data
    misuse: int  # misuse incidents
    misuse_by_grid: np.ndarray  # int64[n_grids]: misuse incidents by the resident's grid


def pack_route_params(scenario) -> np.ndarray:
    """Pack routing parameters and levers into the float array the kernel reads."""
    r = scenario.routing
    lv = scenario.levers
    std = lv.data.unified_data_standards
    gov = lv.data_governance
    p = np.zeros(N_ROUTE_PARAMS)
    p[P_INTEGRATION] = lv.data.centre_integration
    p[P_ACC_CENTRE] = min(
        1.0,
        r.centre_accuracy_base
        + r.centre_accuracy_standards * std
        + r.centre_accuracy_sharing * lv.data.data_sharing,
    )
    p[P_ACC_SILO] = min(
        1.0, r.siloed_correct_base + r.siloed_correct_role_gain * lv.system.role_clarity
    )
    p[P_DELAY_CENTRE] = r.dispatch_delay_standards_hours if std else r.dispatch_delay_hours
    p[P_DELAY_SILO] = r.siloed_delay_hours
    p[P_DELAY_TRANSFER] = r.transfer_delay_hours
    p[P_ON_SPOT] = r.grid_on_spot_share
    p[P_SHARING] = lv.data.data_sharing
    p[P_MISUSE] = misuse_probability(
        r.misuse_risk_per_use, gov.access_logging, gov.permission_control,
        gov.misuse_deterrence, e_log=r.misuse_logging_effect,
        e_perm=r.misuse_permission_effect, e_det=r.misuse_deterrence_effect,
    )  # fmt: skip
    p[P_COORD] = 1.0 if lv.system.coordination_group else 0.0
    p[P_SCREEN] = scenario.handling.misroute_screen_hours
    p[P_ACC_TRANSFER] = p[P_ACC_SILO] + (p[P_ACC_CENTRE] - p[P_ACC_SILO]) * p[P_INTEGRATION]
    p[P_LITIGATE] = scenario.escalation.failure_litigation_prob
    return p


def route_step(issues, pools, grid_town, n_grids: int, p: Params, seed: int, day: int) -> Routed:
    """Stage 3: route every ROUTING issue of ``issues`` to a pool of ``pools``.

    ``grid_town`` maps grids to towns (``City.grid_town``). Returns today's data uses and
    misuse incidents, the latter also by grid (for :func:`sim.kernels.datagov.datagov_step`).
    """
    t, pl = issues, pools
    misuse = np.empty(t.n, dtype=np.uint8)  # per row: 1 data used, 2 misused
    _route_kernel(
        t.status, t.iid, t.category, t.sector, t.county, t.grid, t.channel, t.digital,
        t.next_step, t.tier, t.level, t.pool, t.t_ready, t.t_closed, t.diverted, t.transfers,
        pl.dept_pool, pl.grid_pool, pl.town_pool, pl.social_pool, pl.mass_pool, pl.petition_pool,
        pl.hotline_pool, pl.online_pool, grid_town, pl.servers, p.packed, seed, day, misuse,
    )  # fmt: skip
    by_grid = misuse_by_grid(misuse, t.grid, n_grids)
    return Routed(int(np.count_nonzero(misuse)), int(by_grid.sum()), by_grid)
