"""Plain-Python twin of :func:`sim.kernels.route.route_step` (one loop per known issue).

A ROUTING issue goes where its next step says: intake by channel; dispatch to a
department by the command centre (with probability = centre integration; video finds
always) or by a siloed choice, each right with its own accuracy; transfer between
departments; the next rung of a dispute's mediation ladder, or court / closure past the
last rung (a dispute bound for court is first diverted to the online platform when it is
open, see :mod:`.diversion`); diversion to the online platform's pre-filing mediation;
the county petition office. Each dispatch through the centre with shared
data is a data use, misused with a small probability.

The centre dispatches disputes too (those that came by hotline, online or video, at their
first assignment; a severe one straight to the town mediation committee), within each
day's capacity: the town centre of the grid first, then the county, then the city centre,
in table order; a row none can take waits in ROUTING. Disputes whose parties decline
online mediation are marked first (:func:`sim.kernels.diversion.mark_declined`).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

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
from sim.kernels.diversion import mark_declined, platform_accepts
from sim.kernels.route import (  # indices into the packed parameters
    MAX_TRANSFERS,
    P_ACC_CENTRE,
    P_ACC_SILO,
    P_ACC_TRANSFER,
    P_COORD,
    P_DELAY_CENTRE,
    P_DELAY_SILO,
    P_DELAY_TRANSFER,
    P_INTEGRATION,
    P_LITIGATE,
    P_MISUSE,
    P_ON_SPOT,
    P_SCREEN,
    P_SHARING,
    P_TOWN_SEV,
    TRY_OFFSET,
    Routed,
    _capacity,
)
from sim.rng import S_ROUTE, S_ROUTE_CHOICE, S_ROUTE_MISUSE, S_ROUTE_SECTOR, uniform_py

from .diversion import go_to_court

N_DEPARTMENTS = 9  # sectors 0..8; sector 9 is the petition office
MISUSE_OFFSET = 0x5BD1E995  # counter offsets for a second draw of the same stream
WRONG_SECTOR_OFFSET = 0x2545F491


def mediation_ladder(state, k: int) -> list[int]:
    """Pools of a dispute's mediation ladder: first line, town, online, social organisation."""
    t, pl = state.issues, state.pools
    g, county, channel = int(t.grid[k]), int(t.county[k]), int(t.channel[k])
    online, social, mass = pl.online_pool, int(pl.social_pool[county]), int(pl.mass_pool[county])
    online_ok = online >= 0 and pl.servers[online] > 0 and t.digital[k] != 0
    social_ok = pl.servers[social] > 0
    if channel == CH_ONLINE and online_ok:
        first = online
    elif channel == CH_SOCIAL and social_ok:
        first = social
    elif channel == CH_MASS and pl.servers[mass] > 0:
        first = mass
    else:
        first = int(pl.grid_pool[g])
    ladder = [first, int(pl.town_pool[state.city.grid_town[g]])]
    if online_ok and first != online:
        ladder.append(online)
    if social_ok and first != social:
        ladder.append(social)
    return ladder


def choose_sector(true_sector: int, accuracy: float, u_ok: float, u_wrong: float) -> int:
    """The true sector with probability ``accuracy``; else a uniformly random other one."""
    if u_ok < accuracy or true_sector >= N_DEPARTMENTS:
        return true_sector
    others = [s for s in range(N_DEPARTMENTS) if s != true_sector]
    return others[int(u_wrong * (N_DEPARTMENTS - 1))]


def route_step(issues, pools, city, queue_len, age_group, params, seed: int, day: int) -> Routed:
    """Route every ROUTING issue. Returns today's data uses and misuse incidents (by grid)
    and the centres' dispatches by level, disputes among them, and the rows left waiting."""
    state = SimpleNamespace(issues=issues, pools=pools, city=city)
    t, pl, p = issues, pools, params.packed
    mark_declined(t, age_group, params, seed)
    online_open = platform_accepts(pl, queue_len, params.max_backlog_days)
    uses = incidents = 0
    by_grid = np.zeros(city.n_grids, dtype=np.int64)
    # today's capacity of each centre (same stochastic rounding as the kernel)
    room = {
        "town": _capacity(params.town_rate, seed, day, 0),
        "county": _capacity(params.county_rate, seed, day, 1 << 20),
        "city": _capacity(params.city_rate, seed, day, 1 << 21),
    }
    by_level = {"town": 0, "county": 0, "city": 0}
    centre_disputes = waiting = 0

    def admitted(k: int) -> bool:
        """A centre takes row k: the town's, else the county's, else the city's."""
        for level, unit in (
            ("town", int(city.grid_town[t.grid[k]])),
            ("county", int(t.county[k])),
            ("city", 0),
        ):
            if room[level][unit] > 0:
                room[level][unit] -= 1
                by_level[level] += 1
                return True
        return False

    def data_use(k: int, channel: int, q: int) -> None:
        nonlocal uses, incidents
        if channel == CH_VIDEO or uniform_py(seed, S_ROUTE_MISUSE, day, q) < p[P_SHARING]:
            uses += 1
            if uniform_py(seed, S_ROUTE_MISUSE, day, q + MISUSE_OFFSET) < p[P_MISUSE]:
                incidents += 1
                by_grid[int(t.grid[k])] += 1

    for k in range(t.n):
        if t.status[k] != ROUTING:
            continue
        q = int(t.iid[k])
        category = int(t.category[k])
        county = int(t.county[k])
        channel = int(t.channel[k])
        step = int(t.next_step[k])
        arrival = float(t.t_ready[k])
        target = -1

        if step == NEXT_INTAKE:
            social, mass = int(pl.social_pool[county]), int(pl.mass_pool[county])
            if channel in (CH_HOTLINE, CH_ONLINE):
                target = pl.hotline_pool
            elif channel in (CH_GRID_REPORT, CH_PATROL):
                on_spot = (
                    category == CAT_DISPUTE or uniform_py(seed, S_ROUTE, day, q) < p[P_ON_SPOT]
                )
                if on_spot:
                    target = int(pl.grid_pool[t.grid[k]])
                else:
                    step = NEXT_DISPATCH
            elif channel == CH_SOCIAL and pl.servers[social] > 0:
                target = social
            elif channel == CH_MASS and pl.servers[mass] > 0:
                target = mass
            else:
                step = NEXT_DISPATCH
        if step == NEXT_DISPATCH and category == CAT_DISPUTE:
            step = NEXT_MEDIATE  # disputes are mediated, not dispatched

        if step == NEXT_DIVERT:
            target = pl.online_pool
        elif step == NEXT_PETITION:
            target = int(pl.petition_pool[county])
        elif step == NEXT_MEDIATE:
            if int(t.tier[k]) == 0 and channel in (CH_HOTLINE, CH_ONLINE, CH_VIDEO):
                by_centre = (
                    channel == CH_VIDEO
                    or uniform_py(seed, S_ROUTE_CHOICE, day, q) < p[P_INTEGRATION]
                )
                if by_centre:
                    if not admitted(k):
                        waiting += 1
                        t.next_step[k] = step
                        continue
                    centre_disputes += category == CAT_DISPUTE  # as the kernel counts
                    arrival += p[P_DELAY_CENTRE]
                    data_use(k, channel, q)
                    if float(t.severity[k]) >= p[P_TOWN_SEV]:
                        t.tier[k] = 1  # straight to the town mediation committee
                else:
                    arrival += p[P_DELAY_SILO]  # the hotline hands it to the grid
            ladder = mediation_ladder(state, k)
            tier = int(t.tier[k])
            if tier >= len(ladder):  # past the last rung: court or closed unresolved
                now = max(arrival, 24.0 * day)  # decided today
                if uniform_py(seed, S_ROUTE, day, q) < p[P_LITIGATE]:
                    if not go_to_court(t, k, now, online_open):
                        t.status[k] = QUEUED  # diverted: straight into the platform's queue
                        t.pool[k] = pl.online_pool
                else:
                    t.status[k] = FAILED
                    t.t_closed[k] = now
                continue
            target = ladder[tier]
            if tier > 0 and p[P_COORD] == 0.0:
                arrival += p[P_DELAY_TRANSFER]
        elif step == NEXT_DISPATCH:
            if channel == CH_VIDEO or uniform_py(seed, S_ROUTE_CHOICE, day, q) < p[P_INTEGRATION]:
                if not admitted(k):
                    waiting += 1
                    t.next_step[k] = step
                    continue
                accuracy = p[P_ACC_CENTRE]
                arrival += p[P_DELAY_CENTRE]
                data_use(k, channel, q)
            else:
                accuracy = p[P_ACC_SILO]
                arrival += p[P_DELAY_SILO]
            sector = choose_sector(
                int(t.sector[k]),
                accuracy,
                uniform_py(seed, S_ROUTE_SECTOR, day, q),
                uniform_py(seed, S_ROUTE_SECTOR, day, q + WRONG_SECTOR_OFFSET),
            )
            tries = 0
            while sector != int(t.sector[k]):  # sent back and transferred (退回、转办)
                tries += 1
                t.transfers[k] = min(int(t.transfers[k]) + 1, 255)
                arrival += p[P_SCREEN] + p[P_DELAY_TRANSFER]
                if tries >= MAX_TRANSFERS:
                    sector = int(t.sector[k])
                    break
                sector = choose_sector(
                    int(t.sector[k]),
                    p[P_ACC_TRANSFER],
                    uniform_py(seed, S_ROUTE_SECTOR, day, q + TRY_OFFSET * tries),
                    uniform_py(
                        seed, S_ROUTE_SECTOR, day, q + TRY_OFFSET * tries + WRONG_SECTOR_OFFSET
                    ),
                )
            target = int(pl.dept_pool[county, sector])

        t.status[k] = QUEUED
        t.next_step[k] = step
        t.pool[k] = target
        t.t_ready[k] = arrival
    levels = np.array([by_level["town"], by_level["county"], by_level["city"]], dtype=np.int64)
    return Routed(uses, incidents, by_grid, levels, centre_disputes, waiting)
