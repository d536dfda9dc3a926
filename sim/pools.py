"""Handler pools: who handles issues, how many at once, and when they are on duty.

A pool is a multi-server queue (Erlang 1917; Kleinrock 1975): the 12345 hotline, a
functional department of a county (条: sector × 块: county), a grid's workers, a town's
people's mediation committee, a county's social organisations, mass organisations and
petition office, and the city's online mediation platform (苏解纷). Servers are case
slots; a slot's ``free_at`` time (hours) carries over from day to day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.city.population import City
from sim.scenario.schema import CATEGORIES_EN, POOL_KINDS, Scenario

(
    K_HOTLINE,
    K_DEPARTMENT,
    K_GRID,
    K_MEDIATION,
    K_SOCIAL,
    K_ONLINE,
    K_PETITION,
    K_MASS,
) = range(8)
N_KINDS = 8
N_DEPT_SECTORS = 9  # sectors 0..8 are departments; sector 9 (信访) is the petition office
PETITION_SECTOR = 9


@dataclass
class Pools:
    """Arrays describing every handler pool and lookup tables to find them.

    Attributes
    ----------
    kind, county, sector : int arrays [n_pools]
        Pool kind (``K_*``), its county (-1 for city-level) and sector (-1 if none).
    servers : int32 [n_pools]
        Concurrent case slots.
    server_ptr : int64 [n_pools + 1]
        Slots of pool p are ``free_at[server_ptr[p]:server_ptr[p+1]]``.
    free_at : float64 [n_servers]
        Hour at which each slot is next free.
    duty : float64 [N_KINDS, 2], weekends : uint8 [N_KINDS]
        On-duty hours and weekend duty per pool kind.
    service_hours, resolve_prob : float64 [N_KINDS, 4]
        Mean handling time (hours) and resolution probability per kind and category.
    staff_per_duty_day : float64 [n_pools]
        Staff-days a pool costs on a day it is on duty.
    dept_pool : int32 [n_counties, 10]
        Department pool of (county, sector); column 9 is the petition office.
    grid_pool : int32 [n_grids]
        The grid workers' pool of each grid (grids of one beat share it,
        ``levers.capability.grids_per_worker``).
    town_pool : int32 [n_towns]
    social_pool, mass_pool, petition_pool : int32 [n_counties]
    hotline_pool, online_pool : int
    grid_mediation : int32 [n_grids] or None
        The people's mediation committee (town pool) of each grid: where a full social
        organisation spills its queue back (:func:`sim.kernels.handle.spill_back`).
    """

    kind: np.ndarray
    county: np.ndarray
    sector: np.ndarray
    servers: np.ndarray
    server_ptr: np.ndarray
    free_at: np.ndarray
    duty: np.ndarray
    weekends: np.ndarray
    service_hours: np.ndarray
    resolve_prob: np.ndarray
    staff_per_duty_day: np.ndarray
    dept_pool: np.ndarray
    grid_pool: np.ndarray
    town_pool: np.ndarray
    social_pool: np.ndarray
    mass_pool: np.ndarray
    petition_pool: np.ndarray
    hotline_pool: int
    online_pool: int
    grid_mediation: np.ndarray | None = None

    @property
    def n_pools(self) -> int:
        return int(self.kind.shape[0])


def _slots(per_100k: float, residents: float) -> int:
    """Slots for a population; at least one whenever the rate is positive."""
    x = per_100k * residents / 1e5
    return 0 if x <= 0 else max(1, int(round(x)))


def workers_per_grid(scenario: Scenario) -> float:
    """Grid workers per grid on average: a beat's workers over its grids
    (``workers_per_grid / grids_per_worker``; 精网微格 at equal staff lowers it)."""
    cap = scenario.levers.capability
    return cap.workers_per_grid / cap.grids_per_worker


def county_extra_workers(city: City, scenario: Scenario) -> np.ndarray:
    """Grid workers added per county at the run's scale (int64 [n_counties]).

    ``levers.capability.county_extra_grid_workers`` gives persons at 1:1 by county; each
    is scaled by ``scenario.scale`` and rounded by largest remainder (Hamilton's method,
    ties in county order) so that the counties' sum is the rounded city total.
    """
    table = scenario.levers.capability.county_extra_grid_workers
    out = np.zeros(city.n_counties, dtype=np.int64)
    if not table:
        return out
    want = np.array([table.get(n, 0) for n in city.county_names_en], dtype=np.float64)
    want *= scenario.scale
    out[:] = np.floor(want)
    left = int(np.floor(want.sum() + 0.5)) - int(out.sum())
    order = np.argsort(-(want - out), kind="stable")
    out[order[:left]] += 1
    return out


@dataclass(frozen=True)
class Beats:
    """The grid workers' beats: consecutive grids of one county sharing their workers.

    Attributes
    ----------
    of_grid : int64 [n_grids]
        The beat of each grid (beats numbered county by county).
    county : int64 [n_beats]
    workers : int64 [n_beats]
        Workers of the beat: ``levers.capability.workers_per_grid`` plus its share of the
        county's added workers (:func:`county_extra_workers`, spread evenly over the
        county's beats).
    extra : int64 [n_beats]
        The added workers alone.
    """

    of_grid: np.ndarray
    county: np.ndarray
    workers: np.ndarray
    extra: np.ndarray


def grid_beats(city: City, scenario: Scenario) -> Beats:
    """The beats of ``city``: a county's grids split evenly into max(1, round(n / k))
    beats of consecutive grids, k = ``levers.capability.grids_per_worker``."""
    cap = scenario.levers.capability
    extra_c = county_extra_workers(city, scenario)
    of_grid = np.zeros(city.n_grids, dtype=np.int64)
    county, extra = [], []
    for c in range(city.n_counties):
        grids = np.flatnonzero(city.grid_county == c)
        n = grids.shape[0]
        if n == 0:
            continue
        k = max(1, int(np.floor(n / cap.grids_per_worker + 0.5)))
        of_grid[grids] = len(county) + (np.arange(n) * k) // n
        # the county's added workers: each beat gets the floor share, the remainder goes
        # to beats spread evenly over the county (not its first beats)
        add = np.full(k, extra_c[c] // k, dtype=np.int64)
        r = int(extra_c[c] % k)
        add[(np.arange(r) * k) // max(r, 1)] += 1
        county += [c] * k
        extra += add.tolist()
    extra_a = np.asarray(extra, dtype=np.int64)
    return Beats(
        of_grid=of_grid,
        county=np.asarray(county, dtype=np.int64),
        workers=cap.workers_per_grid + extra_a,
        extra=extra_a,
    )


def grid_workers(city: City, scenario: Scenario) -> tuple[np.ndarray, np.ndarray] | None:
    """Per grid: its workers and its beat's workers, where counties have added workers.

    Returns ``None`` without added workers (every grid then has
    :func:`workers_per_grid` and every beat ``levers.capability.workers_per_grid``, the
    scalars the kernels use by default). Otherwise two float64 [n_grids] arrays: the
    grid's workers (:func:`workers_per_grid` plus the beat's added workers over its grids)
    and its beat's workers (who share the beat's queue).
    """
    if not scenario.levers.capability.county_extra_grid_workers:
        return None
    b = grid_beats(city, scenario)
    grids_in_beat = np.bincount(b.of_grid, minlength=b.workers.shape[0]).astype(np.float64)
    per_grid = workers_per_grid(scenario) + b.extra[b.of_grid] / grids_in_beat[b.of_grid]
    return per_grid, b.workers[b.of_grid].astype(np.float64)


def social_org_strength(scenario: Scenario, budget: float | None = None) -> float:
    """Strength (0–1) of social organisations: participation mechanisms × funding.

    ``multi_actor_participation · b / (b + b½)`` with b the support budget per resident
    (``budget``, default the city-wide ``levers.system.social_org_budget_yuan_per_resident``)
    and b½ = ``surfacing.social_org_budget_half``.
    """
    lv = scenario.levers
    b = lv.system.social_org_budget_yuan_per_resident if budget is None else budget
    half = scenario.surfacing.social_org_budget_half
    return float(lv.community.multi_actor_participation * b / (b + half)) if b > 0 else 0.0


def county_social_budgets(scenario: Scenario) -> list[float]:
    """Social-organisation support per resident-year of each county of ``scenario.city``:
    ``levers.system.county_social_org_budget_yuan_per_resident`` where it names the county,
    the city-wide ``social_org_budget_yuan_per_resident`` elsewhere."""
    sy = scenario.levers.system
    table = sy.county_social_org_budget_yuan_per_resident
    return [
        float(table.get(c.name_en, sy.social_org_budget_yuan_per_resident))
        for c in scenario.city.counties
    ]


def social_strength_by_grid(city: City, scenario: Scenario) -> np.ndarray | None:
    """Per grid, its county's social-organisation strength (:func:`social_org_strength` at
    the county's budget, :func:`county_social_budgets`); ``None`` where no county has its
    own budget (every grid then has the city-wide strength)."""
    if not scenario.levers.system.county_social_org_budget_yuan_per_resident:
        return None
    s = np.array([social_org_strength(scenario, b) for b in county_social_budgets(scenario)])
    return s[city.grid_county]


def sector_work_shares(scenario: Scenario) -> np.ndarray:
    """Expected share of department workload (slot-hours) per sector (sectors 0..8).

    Σ_c r_c·w_c·mix[c, s]·S_c with r the issue rates, w_c the share of category c that
    reaches a department (enquiries the hotline does not answer; needs and risks;
    disputes go to mediation instead) and S_c the mean handling hours, normalised.
    Departments are staffed in these fixed shares (the siloed plan).
    """
    h = scenario.handling
    r = scenario.generation.rate_per_resident_year.as_tuple()
    w = (1.0 - h.pools["hotline"].resolve_prob.enquiry, 1.0, 0.0, 1.0)
    mix = np.array([h.sector_mix[c] for c in CATEGORIES_EN])[:, :N_DEPT_SECTORS]
    service = np.array([h.pools["department"].service_hours.as_tuple()]).T  # [4, 1]
    work = (np.asarray(r)[:, None] * np.asarray(w)[:, None] * mix * service).sum(axis=0)
    total = work.sum()
    return work / total if total > 0 else np.full(N_DEPT_SECTORS, 1.0 / N_DEPT_SECTORS)


def build_pools(city: City, scenario: Scenario) -> Pools:
    """Create every handler pool of the city with its slots (see module docstring)."""
    h = scenario.handling
    lv = scenario.levers
    n_c = city.n_counties
    county_pop = city.county_population.astype(np.float64)
    grid_n = np.diff(city.grid_start).astype(np.float64)
    # Siloed capacity favours towns: a rural resident is served by rural_capacity_ratio
    # of an urban resident's slots (total kept), see ``service_weight``.
    # 城乡一体化 (levers.community.urban_rural_integration) moves the ratio toward 1
    r0 = h.rural_capacity_ratio
    r = r0 + (1.0 - r0) * lv.community.urban_rural_integration
    f_grid = np.where(city.grid_urban == 1, 1.0, r)
    mean_f = float((f_grid * grid_n).sum() / max(grid_n.sum(), 1.0))
    county_w = np.bincount(city.grid_county, weights=f_grid * grid_n, minlength=n_c) / mean_f
    town_w = np.bincount(city.grid_town, weights=f_grid * grid_n, minlength=city.n_towns) / mean_f
    kinds, counties, sectors, servers = [], [], [], []

    def add(kind: int, county: int, sector: int, n_servers: int) -> int:
        kinds.append(kind)
        counties.append(county)
        sectors.append(sector)
        servers.append(n_servers)
        return len(kinds) - 1

    hotline = add(K_HOTLINE, -1, -1, _slots(h.hotline_seats_per_100k, city.n_residents))
    online = add(
        K_ONLINE,
        -1,
        -1,
        _slots(h.online_slots_per_100k, city.n_residents) if lv.capability.online_mediation else 0,
    )
    dept = np.full((n_c, N_DEPT_SECTORS + 1), -1, dtype=np.int32)
    social = np.empty(n_c, dtype=np.int32)
    mass = np.empty(n_c, dtype=np.int32)
    petition = np.empty(n_c, dtype=np.int32)
    share = sector_work_shares(scenario)
    budgets = county_social_budgets(scenario)
    for c in range(n_c):
        # funded staff and volunteers of the county's social organisations (its own budget
        # where levers.system.county_social_org_budget_yuan_per_resident names it)
        strength = social_org_strength(scenario, budgets[c])
        social_per_100k = (
            budgets[c] * 1e5 / h.social_org_staff_cost_yuan
            + h.social_org_volunteer_slots_per_100k * lv.community.multi_actor_participation
        )
        for s in range(N_DEPT_SECTORS):
            dept[c, s] = add(
                K_DEPARTMENT, c, s, _slots(h.department_slots_per_100k * share[s], county_w[c])
            )
        petition[c] = add(K_PETITION, c, 9, _slots(h.petition_slots_per_100k, county_pop[c]))
        dept[c, 9] = petition[c]
        social[c] = add(K_SOCIAL, c, -1, _slots(social_per_100k, county_pop[c]) if strength else 0)
        mass[c] = add(
            K_MASS,
            c,
            -1,
            _slots(h.mass_org_slots_per_100k * lv.system.mass_org_push, county_pop[c]),
        )
    # one pool per beat (grid_beats): a beat's grids share its workers
    b = grid_beats(city, scenario)
    beats = [add(K_GRID, int(c), -1, int(w)) for c, w in zip(b.county, b.workers, strict=True)]
    grid_pool = np.asarray(beats, dtype=np.int32)[b.of_grid]
    town_pool = np.empty(city.n_towns, dtype=np.int32)
    for t in range(city.n_towns):
        town_pool[t] = add(
            K_MEDIATION, int(city.town_county[t]), 8, _slots(h.mediators_per_100k, town_w[t])
        )

    kind = np.asarray(kinds, dtype=np.uint8)
    servers_a = np.asarray(servers, dtype=np.int32)
    ptr = np.zeros(kind.shape[0] + 1, dtype=np.int64)
    np.cumsum(servers_a, out=ptr[1:])
    duty = np.zeros((N_KINDS, 2))
    weekends = np.zeros(N_KINDS, dtype=np.uint8)
    service = np.zeros((N_KINDS, 4))
    resolve = np.zeros((N_KINDS, 4))
    for k, name in enumerate(POOL_KINDS):
        p = h.pools[name]
        duty[k] = (p.duty_start, p.duty_end)
        weekends[k] = p.weekends
        service[k] = p.service_hours.as_tuple()
        resolve[k] = p.resolve_prob.as_tuple()
    # Staff cost: a slot of a short-service pool (hotline, grid, online) is one person on
    # duty for the duty hours; slots of case-carrying pools are cases_per_staff per person.
    per_slot = np.where(
        np.isin(kind, (K_HOTLINE, K_GRID, K_ONLINE)),
        (duty[kind, 1] - duty[kind, 0]) / 8.0,
        1.0 / h.cases_per_staff,
    )
    assert len(CATEGORIES_EN) == 4
    return Pools(
        kind=kind,
        county=np.asarray(counties, dtype=np.int16),
        sector=np.asarray(sectors, dtype=np.int8),
        servers=servers_a,
        server_ptr=ptr,
        free_at=np.zeros(int(ptr[-1]), dtype=np.float64),
        duty=duty,
        weekends=weekends,
        service_hours=service,
        resolve_prob=resolve,
        staff_per_duty_day=servers_a * per_slot,
        dept_pool=dept,
        grid_pool=grid_pool,
        town_pool=town_pool,
        social_pool=social,
        mass_pool=mass,
        petition_pool=petition,
        hotline_pool=hotline,
        online_pool=online,
        grid_mediation=town_pool[city.grid_town].astype(np.int32),
    )
