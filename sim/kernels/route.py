"""Stage 3 — route known issues to a handler pool: siloed choice vs. command-centre dispatch.

A ROUTING issue needs one of five things (``sim.issues.NEXT_*``):

- intake: by channel — 12345/online calls go to the hotline; a grid worker who hears of
  or finds an issue handles it on the spot (share ``grid_on_spot_share``; disputes
  always) or reports it up; video/big-data finds go to dispatch; social and mass
  organisations take what reaches them;
- dispatch to a department (条): through the command centre with probability equal to
  the centre's integration of channels (video finds always), otherwise by a siloed
  choice (条块分割). **The centre's capacity is bounded** (联合指挥中心 at three levels,
  市、县（区）、镇（街道）): each day the town centre of the issue's grid dispatches up to
  its capacity, its overflow goes to the county centre, then the city centre (rows in
  table order, oldest first); what none can take waits in ROUTING until the next day
  (when it is offered again, and may go the siloed way). A centre's capacity per day is
  integration × dispatchers per 100k × ``orders_per_dispatcher_day`` × its residents ÷
  10⁵ (``command_centre.*``), rounded stochastically. The chosen sector is right with probability
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
  mass organisation the dispute came through. **The centre dispatches disputes too**: a
  dispute that reached the hotline, the online channel or video goes, at its first
  assignment, through the centre with the same probability (integration; video always)
  and within the same capacity; the centre sends one of severity ≥
  ``command_centre.town_level_severity`` straight to the town mediation committee
  (矛调中心, tier 1), others to the grid worker, after ``dispatch_delay``; without the
  centre the hotline hands it to the grid after ``siloed_delay``. With the coordination group
  (协调小组) referrals between tiers are immediate, otherwise they take a transfer delay.
  The coordination group (``levers.system.coordination_group``) and ``role_clarity`` are
  the model's Party-committee leadership and city-level coordination (党委领导、市级统筹);
  there is no separate Party-committee agent (docs/model.md, "The article's actors").
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
from sim.kernels.diversion import go_to_court, mark_declined, platform_accepts
from sim.rng import (
    S_ROUTE,
    S_ROUTE_CENTRE,
    S_ROUTE_CHOICE,
    S_ROUTE_MISUSE,
    S_ROUTE_SECTOR,
    uniform,
)

# Indices into the packed parameter array.
P_INTEGRATION, P_ACC_CENTRE, P_ACC_SILO, P_DELAY_CENTRE, P_DELAY_SILO = 0, 1, 2, 3, 4
P_DELAY_TRANSFER, P_ON_SPOT, P_SHARING, P_MISUSE, P_COORD, P_LITIGATE = 5, 6, 7, 8, 9, 10
P_SCREEN, P_ACC_TRANSFER, P_TOWN_SEV = 11, 12, 13
N_ROUTE_PARAMS = 14
# Per row, today: the centre's answer (CENTRE_NONE: not asked)
CENTRE_NONE, CENTRE_ASKED, CENTRE_TOWN, CENTRE_COUNTY, CENTRE_CITY = 0, 1, 2, 3, 4
LEVELS = ("town", "county", "city")
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


@njit(cache=True, inline="always")
def _data_use(ch, p, seed, day, q):
    """A dispatch through the centre uses shared personal data with probability D (video
    finds always): 0 no use, 1 used, 2 misused."""
    if ch == CH_VIDEO or uniform(seed, S_ROUTE_MISUSE, day, q) < p[P_SHARING]:
        if uniform(seed, S_ROUTE_MISUSE, day, q + 0x5BD1E995) < p[P_MISUSE]:
            return 2
        return 1
    return 0


@njit(cache=True)
def admit_to_centres(centre, grid, county, grid_town, town_cap, county_cap, city_cap):
    """Admit the rows marked CENTRE_ASKED, in table order: the town centre of the row's
    grid while it has capacity, then the county centre, then the city centre; the rest stay
    CENTRE_ASKED (they wait). The capacities (int arrays) are used up in place."""
    for k in range(centre.shape[0]):
        if centre[k] != CENTRE_ASKED:
            continue
        tw = grid_town[grid[k]]
        c = county[k]
        if town_cap[tw] > 0:
            town_cap[tw] -= 1
            centre[k] = CENTRE_TOWN
        elif county_cap[c] > 0:
            county_cap[c] -= 1
            centre[k] = CENTRE_COUNTY
        elif city_cap[0] > 0:
            city_cap[0] -= 1
            centre[k] = CENTRE_CITY


@njit(cache=True)
def stochastic_capacity(expected, seed, day, offset):
    """⌊expected_i + u_i⌋ with u_i a uniform draw of (seed, day, offset + i): integer
    capacities whose mean is ``expected`` (a small city's centres still dispatch)."""
    out = np.empty(expected.shape[0], dtype=np.int64)
    for i in range(expected.shape[0]):
        out[i] = int(np.floor(expected[i] + uniform(seed, S_ROUTE_CENTRE, day, offset + i)))
    return out


@njit(cache=True, parallel=True)
def _route_kernel(
    status, iid, category, sector, county, grid, channel, digital, next_step, tier, level,
    pool, t_ready, t_closed, diverted, transfers, severity, dept_pool, grid_pool, town_pool,
    social_pool, mass_pool, petition_pool, hotline_pool, online_pool, grid_town, servers,
    platform_open, p, seed, day, centre, misuse,
):  # fmt: skip
    """Send every ROUTING issue to a pool (status QUEUED) or close it (see module doc).

    A row that the command centre is to dispatch goes ahead only if ``centre[k]`` says a
    centre admitted it (CENTRE_TOWN..CENTRE_CITY); otherwise it is marked CENTRE_ASKED and
    stays ROUTING (:func:`route_step` admits and calls the kernel again)."""
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
            if tier[k] == 0 and (ch == CH_HOTLINE or ch == CH_ONLINE or ch == CH_VIDEO):
                if ch == CH_VIDEO or uniform(seed, S_ROUTE_CHOICE, day, q) < p[P_INTEGRATION]:
                    if centre[k] < CENTRE_TOWN:  # waits for a centre to admit it
                        centre[k] = CENTRE_ASKED
                        next_step[k] = step
                        continue
                    arrival += p[P_DELAY_CENTRE]
                    misuse[k] = _data_use(ch, p, seed, day, q)
                    if severity[k] >= p[P_TOWN_SEV]:
                        tier[k] = 1  # straight to the town mediation committee (矛调中心)
                else:
                    arrival += p[P_DELAY_SILO]  # the hotline hands it to the grid
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
                        platform_open,
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
                if centre[k] < CENTRE_TOWN:  # waits for a centre to admit it
                    centre[k] = CENTRE_ASKED
                    next_step[k] = step
                    continue
                acc = p[P_ACC_CENTRE]
                arrival += p[P_DELAY_CENTRE]
                misuse[k] = _data_use(ch, p, seed, day, q)
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
    :func:`pack_route_params`). ``town_rate``, ``county_rate``, ``city_rate`` are the
    centres' expected dispatches per day (float64 [n_towns], [n_counties], [1];
    :func:`centre_capacity`; unbounded without a city). The online-mediation fields are
    those of :class:`sim.kernels.escalate.Params`.
    """

    packed: np.ndarray
    town_rate: np.ndarray
    county_rate: np.ndarray
    city_rate: np.ndarray
    uptake_digital: float
    elderly_ability: float
    severe_uptake_factor: float
    sev_severe: float
    max_backlog_days: float

    @classmethod
    def from_scenario(cls, sc, city=None) -> Params:
        om = sc.online_mediation
        town, county, whole = centre_capacity(sc, city)
        return cls(
            packed=pack_route_params(sc),
            town_rate=town,
            county_rate=county,
            city_rate=whole,
            uptake_digital=om.uptake_digital,
            elderly_ability=om.elderly_ability,
            severe_uptake_factor=om.severe_uptake_factor,
            sev_severe=sc.escalation.collective_severity,
            max_backlog_days=om.max_backlog_days,
        )


def centre_capacity(sc, city=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected work orders the town, county and city centres dispatch per day:
    integration × dispatchers per 100k × orders per dispatcher-day × residents ÷ 10⁵.
    Without a city (unit tests of the kernel alone): unbounded."""
    if city is None:
        return np.full(1, np.inf), np.full(1, np.inf), np.full(1, np.inf)
    cc = sc.command_centre
    per = sc.levers.data.centre_integration * cc.orders_per_dispatcher_day / 1e5
    grid_pop = np.diff(city.grid_start).astype(np.float64)
    town_pop = np.bincount(city.grid_town, weights=grid_pop, minlength=city.n_towns)
    county_pop = np.bincount(city.grid_county, weights=grid_pop, minlength=city.n_counties)
    return (
        per * cc.town_dispatchers_per_100k * town_pop,
        per * cc.county_dispatchers_per_100k * county_pop,
        np.array([per * cc.city_dispatchers_per_100k * grid_pop.sum()]),
    )


class Routed(NamedTuple):
    """What routing did today (:func:`route_step`)."""

    uses: int  # uses of shared personal data
    misuse: int  # misuse incidents
    misuse_by_grid: np.ndarray  # int64[n_grids]: misuse incidents by the resident's grid
    centre_by_level: np.ndarray  # int64[3]: dispatched by the town, county, city centres
    centre_disputes: int  # disputes dispatched by a centre
    centre_waiting: int  # asked a centre, none could take them today


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
    p[P_TOWN_SEV] = scenario.command_centre.town_level_severity
    return p


def route_step(issues, pools, city, queue_len, age_group, p: Params, seed: int, day: int) -> Routed:
    """Stage 3: route every ROUTING issue of ``issues`` to a pool of ``pools``.

    ``city`` gives the grids' towns and counties (``grid_town``, ``n_grids``); ``queue_len``
    the pools' queues (the online platform's backlog); ``age_group`` the residents' ages
    (online-mediation uptake, :func:`sim.kernels.diversion.mark_declined`). The kernel runs
    twice: rows the centre is to dispatch are admitted in between, within today's
    capacities (:func:`admit_to_centres`). Returns today's data uses and misuse incidents
    (also by grid, for :func:`sim.kernels.datagov.datagov_step`) and the centres' work.
    """
    t, pl = issues, pools
    mark_declined(t, age_group, p, seed)
    open_ = platform_accepts(pl, queue_len, p.max_backlog_days)
    centre = np.zeros(t.n, dtype=np.uint8)
    misuse = np.empty(t.n, dtype=np.uint8)  # per row: 1 data used, 2 misused
    again = np.empty(t.n, dtype=np.uint8)
    dispute_asked = None
    for out in (misuse, again):
        _route_kernel(
            t.status, t.iid, t.category, t.sector, t.county, t.grid, t.channel, t.digital,
            t.next_step, t.tier, t.level, t.pool, t.t_ready, t.t_closed, t.diverted,
            t.transfers, t.severity, pl.dept_pool, pl.grid_pool, pl.town_pool, pl.social_pool,
            pl.mass_pool, pl.petition_pool, pl.hotline_pool, pl.online_pool, city.grid_town,
            pl.servers, open_, p.packed, seed, day, centre, out,
        )  # fmt: skip
        if out is misuse:
            asked = centre == CENTRE_ASKED
            if not asked.any():
                break
            dispute_asked = asked & (t.category == CAT_DISPUTE)
            admit_to_centres(
                centre, t.grid, t.county, city.grid_town,
                _capacity(p.town_rate, seed, day, 0), _capacity(p.county_rate, seed, day, 1 << 20),
                _capacity(p.city_rate, seed, day, 1 << 21),
            )  # fmt: skip
        else:
            np.maximum(misuse, again, out=misuse)
    by_grid = misuse_by_grid(misuse, t.grid, city.n_grids)
    levels = np.bincount(centre, minlength=CENTRE_CITY + 1)
    n_disputes = 0
    if dispute_asked is not None:
        n_disputes = int(np.count_nonzero(dispute_asked & (centre >= CENTRE_TOWN)))
    return Routed(
        int(np.count_nonzero(misuse)),
        int(by_grid.sum()),
        by_grid,
        levels[CENTRE_TOWN:].astype(np.int64),
        n_disputes,
        int(levels[CENTRE_ASKED]),
    )


def _capacity(rate: np.ndarray, seed: int, day: int, offset: int) -> np.ndarray:
    """Today's integer capacities from expected ones (unbounded stays unbounded)."""
    if np.isinf(rate).any():
        return np.full(rate.shape[0], np.iinfo(np.int64).max // 2, dtype=np.int64)
    return stochastic_capacity(rate, seed, day, offset)
