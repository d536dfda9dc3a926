"""Stages 6–7 glue: connect the mechanisms run alone to the model's state each day.

Each function reads and writes :class:`sim.model.ModelState` and calls one mechanism
module (its equations, parameters and references are documented there):

- :func:`resident_stage` — own experience, participation contagion, trust exchange and
  activation of residents (:mod:`sim.kernels.participation`, :mod:`sim.kernels.trust`,
  :mod:`sim.kernels.activation`);
- :func:`misuse_stage` — data misuse lowers trust in its grid (:mod:`sim.kernels.datagov`);
- :func:`accountability_stage` — public evaluation → departmental effort
  (:mod:`sim.kernels.accountability`);
- :func:`warning_stage` — per-grid risk indicator, flags and patrol redeployment
  (:mod:`sim.kernels.warning`);
- :func:`reallocation_stage` — monthly reallocation of case slots and the growth of
  social-organisation capacity (:mod:`sim.kernels.reallocation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.issues import ABANDONED, FAILED, FIRST_CLOSED, LITIGATED, QUEUED, RESOLVED
from sim.kernels import accountability as acc_mod
from sim.kernels import activation, datagov, participation, reallocation, trust, warning
from sim.pools import K_MEDIATION, K_SOCIAL
from sim.scenario.schema import POOL_KINDS


@dataclass
class DynamicsState:
    """Per-run memory of stages 6–7 (all arrays indexed by pool or grid)."""

    effort: np.ndarray  # per pool, accountability effort E_p (1 = baseline)
    patrol_mult: np.ndarray  # per grid, early-warning patrol multiplier
    acc: acc_mod.AccountabilityState
    accountable: np.ndarray  # per pool, uint8
    base_slots: np.ndarray  # per pool, slots of the siloed plan
    social_target: np.ndarray  # per pool, funded social-org slots (0 for other pools)
    social_capacity: np.ndarray  # per pool, current social-org capacity (float)
    arrivals: np.ndarray  # per pool, cases that entered its queue since the last reallocation
    busy: np.ndarray  # per pool, handling hours started since the last reallocation
    starts: np.ndarray  # per pool, services started since the last reallocation
    scorer: warning.WarningScorer  # precision, recall and lift of the flags, day by day
    last_flags: np.ndarray | None = None  # per grid, uint8: flagged at the end of yesterday
    active: np.ndarray | None = None  # per resident, uint8 (stage 6 activation)
    active_spare: np.ndarray | None = None  # per resident, uint8: tomorrow's buffer
    grid_incident: np.ndarray | None = None  # per grid, uint8: above the incident threshold
    unrest_today: int = 0  # collective incidents from activation today (onsets)
    unrest_onset: np.ndarray | None = None  # per grid, int64: onsets today
    mobilisation: np.ndarray | None = None  # per grid, float64: A_g / critical mass, ≤ 1
    response_staff: float = 0.0  # early-warning work-team staff on duty today
    felt: np.ndarray | None = None  # per resident, felt hardship buffer
    # per-resident experience of the day (uint8 counts; only touched rows non-zero)
    n_resolved: np.ndarray | None = None
    n_slow: np.ndarray | None = None
    n_transferred: np.ndarray | None = None
    n_failed: np.ndarray | None = None
    # stage 6 double buffers: tomorrow's participation and trust are written here, then
    # swapped with the city's arrays (no per-day allocation of population-sized arrays)
    participation_next: np.ndarray | None = None  # per resident, float32
    trust_next: np.ndarray | None = None  # per resident, float32
    # engaged neighbours of every resident, kept from one day to the next (the city's
    # network is symmetric with sorted rows by construction: sim.city.network.edges_to_csr)
    neighbours: participation.EngagedNeighbours = field(
        default_factory=lambda: participation.EngagedNeighbours(symmetric=True)
    )


# Stage 6's resident kernels, by name (GovernanceModel.advance may replace them by twins).
DYNAMICS_KERNELS = {
    "participation": participation.participation_step,
    "trust": trust.trust_step,
    "activation": activation.activation_step,
}


def accountability_params(scenario) -> acc_mod.AccountabilityParams:
    a = scenario.accountability
    return acc_mod.AccountabilityParams(
        evaluation=scenario.levers.people.public_evaluation,
        lag_days=a.lag_days,
        satisfaction_target=a.satisfaction_target,
        effort_gain=a.effort_gain,
        effort_max=a.effort_max,
        halflife_days=scenario.indices.satisfaction_halflife_days,
    )


def warning_params(scenario) -> warning.WarningParams:
    w = scenario.warning
    return warning.WarningParams(
        weight_disputes=w.weight_disputes,
        weight_grievance=w.weight_grievance,
        weight_activation=w.weight_activation,
        flag_share=w.flag_share,
        redeploy_share=w.redeploy_share,
    )


def init_dynamics(scenario, city, pools) -> DynamicsState:
    """Fresh stage 6–7 memory; social organisations start below their funded capacity."""
    n_p = pools.n_pools
    kinds = [POOL_KINDS.index(k) for k in scenario.accountability.accountable_kinds]
    social = pools.kind == K_SOCIAL
    target = np.where(social, pools.servers, 0).astype(np.float64)
    start = np.rint(target * scenario.reallocation.social_org_initial_share)
    start = np.where(social & (target > 0), np.maximum(start, 1.0), 0.0)
    return DynamicsState(
        effort=np.ones(n_p),
        patrol_mult=np.ones(city.n_grids),
        acc=acc_mod.init_accountability(n_p, accountability_params(scenario)),
        scorer=warning.WarningScorer(city.n_grids, scenario.warning.horizon_days),
        accountable=np.isin(pools.kind, kinds).astype(np.uint8),
        base_slots=pools.servers.astype(np.int64).copy(),
        social_target=target,
        social_capacity=start,
        arrivals=np.zeros(n_p),
        busy=np.zeros(n_p),
        starts=np.zeros(n_p),
        active=np.zeros(city.n_residents, dtype=np.uint8),
        grid_incident=np.zeros(city.n_grids, dtype=np.uint8),
        mobilisation=np.zeros(city.n_grids),
        n_resolved=np.zeros(city.n_residents, dtype=np.uint8),
        n_slow=np.zeros(city.n_residents, dtype=np.uint8),
        n_transferred=np.zeros(city.n_residents, dtype=np.uint8),
        n_failed=np.zeros(city.n_residents, dtype=np.uint8),
    )


def apply_initial_social_capacity(state) -> None:
    """Shrink social-organisation pools to their initial (unfunded-yet) capacity."""
    dyn, pl = state.dyn, state.pools
    new = np.where(pl.kind == K_SOCIAL, dyn.social_capacity, pl.servers).astype(np.int64)
    if not np.array_equal(new, pl.servers):
        state.pools = reallocation.resize_pools(pl, new, 0.0)


def _experience(state, day: int) -> np.ndarray:
    """Count today's closed issues per resident by outcome; returns the rows touched.

    Resolved (and, of those, slower than ``trust.slow_days``), transferred at least once,
    and failed — closed unresolved, abandoned (neglect) or gone to court.
    """
    t, dyn = state.issues, state.dyn
    st = t.status
    today = (st >= FIRST_CLOSED) & (t.t_closed >= 24.0 * day) & (t.t_closed < 24.0 * day + 24.0)
    rows = np.flatnonzero(today)
    res = t.resident[rows]
    resolved = st[rows] == RESOLVED
    failed = (st[rows] == FAILED) | (st[rows] == ABANDONED) | (st[rows] == LITIGATED)
    days = (t.t_closed[rows] - t.t_surfaced[rows]) / 24.0
    slow = resolved & (days > state.scenario.trust.slow_days)
    moved = t.transfers[rows] > 0
    for arr, mask in (
        (dyn.n_resolved, resolved),
        (dyn.n_slow, slow),
        (dyn.n_transferred, moved),
        (dyn.n_failed, failed),
    ):
        np.add.at(arr, res[mask], 1)
    return res


def response_team(scenario, grid_sizes: np.ndarray) -> np.ndarray:
    """Presence (officer-equivalents) of the early-warning work team a grid of each size
    gets when flagged: ``warning.response_per_1000`` per 1,000 residents."""
    return scenario.warning.response_per_1000 * grid_sizes / 1000.0


def felt_hardship(state, day: int) -> np.ndarray:
    """Hardship H plus the burden of the resident's own long-unresolved issues.

    H'_i = min(1, H_i + b·u_i + b_s·100·U_g/n_g), u_i the resident's open needs and
    disputes older than ``escalation.grace_days`` (hidden or known),
    b = ``activation.unresolved_hardship``: grievance accumulates from hardship and
    unresolved issues (DIGEST.md, mechanism 3). U_g counts the grid's disputes open that
    long: a neighbourhood's long-unresolved conflicts are a grievance its residents share
    (relative deprivation, Gurr 1970), b_s = ``activation.shared_hardship`` per such
    dispute per 100 residents. Written into a buffer reused every day.
    """
    city, dyn, t = state.city, state.dyn, state.issues
    if dyn.felt is None:
        dyn.felt = np.empty_like(city.hardship)
    np.copyto(dyn.felt, city.hardship)
    b = state.scenario.activation.unresolved_hardship
    b_s = state.scenario.activation.shared_hardship
    if (b <= 0 and b_s <= 0) or not t.n:
        return dyn.felt
    aged_open = (t.status < FIRST_CLOSED) & (
        t.t_created < 24.0 * (day + 1) - 24.0 * state.scenario.escalation.grace_days
    )
    disputes = aged_open & (t.category == 2)
    if b > 0:
        old = disputes | (aged_open & (t.category == 1))
        np.add.at(dyn.felt, t.resident[old], np.float32(b))
        np.minimum(dyn.felt, np.float32(1.0), out=dyn.felt)
    if b_s > 0:
        old = disputes
        n_g = np.diff(city.grid_start)
        per_100 = 100.0 * np.bincount(t.grid[old], minlength=city.n_grids) / np.maximum(n_g, 1)
        activation.add_by_grid(dyn.felt, city.grid_start, b_s * per_100)
    return dyn.felt


def settle_activation(state, sweeps: int = 30) -> None:
    """Run the activation rule to a steady state before day 0 (no incidents counted)."""
    for _ in range(sweeps):
        resident_stage(state, -1, warm_up=True)


def resident_stage(state, day: int, warm_up: bool = False, kernels=None) -> None:
    """Stage 6 for residents: participation, trust and activation (synchronous update).

    Each kernel reads yesterday's arrays and writes new ones, which then replace the
    city's. Collective incidents from activation are counted at their onset (a grid
    crossing the incident threshold). ``kernels`` may map "participation", "trust" and
    "activation" to other functions with the kernels' signatures (the plain-Python twins);
    missing names use :data:`DYNAMICS_KERNELS`.
    """
    sc, city, dyn = state.scenario, state.city, state.dyn
    k = {**DYNAMICS_KERNELS, **{n: f for n, f in (kernels or {}).items() if n in DYNAMICS_KERNELS}}
    if warm_up:
        _activation(state, day, count=False, step=k["activation"])
        return
    touched = _experience(state, day)
    n = city.n_residents
    if dyn.participation_next is None or dyn.participation_next.shape[0] != n:
        dyn.participation_next = np.empty(n, dtype=np.float32)
        dyn.trust_next = np.empty(n, dtype=np.float32)
    pp = sc.participation
    new_p = k["participation"](
        city.participation, city.nbr_indptr, city.nbr_indices, city.org_member,
        dyn.n_resolved, dyn.n_failed, publicity=sc.levers.people.publicity_education,
        seed=state.seed, engaged_level=pp.engaged_level, threshold_mean=pp.threshold_mean,
        threshold_spread=pp.threshold_spread, baseline=pp.baseline,
        publicity_gain=pp.publicity_gain, org_gain=pp.org_gain, decay=pp.decay,
        efficacy_gain=pp.efficacy_gain, failure_loss=pp.failure_loss,
        out=dyn.participation_next, neighbours=dyn.neighbours,
    )  # fmt: skip
    dyn.participation_next, city.participation = city.participation, new_p
    tp = sc.trust
    new_x = k["trust"](
        city.trust, city.nbr_indptr, city.nbr_indices, dyn.n_resolved, dyn.n_slow,
        dyn.n_transferred, dyn.n_failed, seed=state.seed, day=day, confidence=tp.confidence,
        convergence=tp.convergence, effect_resolved=tp.effect_resolved,
        effect_slow=tp.effect_slow, effect_transferred=tp.effect_transferred,
        effect_failed=tp.effect_failed, out=dyn.trust_next,
    )  # fmt: skip
    dyn.trust_next, city.trust = city.trust, new_x
    for arr in (dyn.n_resolved, dyn.n_slow, dyn.n_transferred, dyn.n_failed):
        arr[touched] = 0
    _activation(state, day, count=True, step=k["activation"])


def _activation(state, day: int, count: bool, step=None) -> None:
    """Epstein activation of every resident and the grid incidents it makes."""
    sc, city, dyn = state.scenario, state.city, state.dyn
    ap = sc.activation
    n_g = np.diff(city.grid_start).astype(np.float64)
    # grid workers' presence follows their patrols (early warning redeploys them)
    workers = sc.levers.capability.workers_per_grid * dyn.patrol_mult
    presence = activation.enforcement_presence(
        workers, ap.presence_per_1000 * n_g / 1000.0, ap.worker_weight, city.n_grids
    )
    dyn.response_staff = 0.0
    if sc.levers.capability.early_warning and dyn.last_flags is not None:
        # 早期控制: a work team goes to each grid flagged yesterday (presence in officer-
        # equivalents; its staff-days are counted as cost)
        extra = response_team(sc, n_g) * dyn.last_flags
        presence = presence + extra
        dyn.response_staff = float(extra.sum()) / max(ap.worker_weight, 1e-9)
    hardship = felt_hardship(state, day)
    if dyn.active_spare is None:
        dyn.active_spare = np.empty_like(dyn.active)
    new, grid_active, incident = (step or activation.activation_step)(
        hardship, city.trust, dyn.active, city.grid_start, presence, city.grievance,
        arrest_constant=ap.arrest_constant, threshold=ap.threshold,
        incident_share=ap.incident_share, incident_min_active=ap.incident_min_active,
        seed=state.seed, out=dyn.active_spare,
    )  # fmt: skip
    dyn.active, dyn.active_spare = new, dyn.active  # double buffer
    # an incident is an episode: it starts when a grid crosses the threshold and ends
    # only when its active share falls below half of it (hysteresis, so that noise
    # around the threshold does not count as many incidents)
    critical = np.maximum(ap.incident_min_active, ap.incident_share * n_g)
    # the share of the critical mass present: how readily a dispute escalating in the grid
    # turns collective tomorrow (sim.kernels.escalate)
    gamma = sc.escalation.mobilisation_exponent
    dyn.mobilisation = np.minimum(1.0, grid_active / critical) ** gamma
    onset = (incident == 1) & (dyn.grid_incident == 0) & count
    calm = grid_active < 0.5 * critical
    dyn.unrest_today = int(onset.sum())
    dyn.unrest_onset = onset.astype(np.int64)
    dyn.grid_incident = np.where(calm, 0, np.maximum(dyn.grid_incident, incident)).astype(np.uint8)


def misuse_stage(state, misuse_codes: np.ndarray) -> None:
    """Trust falls in grids where data were misused today (call right after routing)."""
    inc = datagov.misuse_by_grid(misuse_codes, state.issues.grid, state.city.n_grids)
    if inc.any():
        shock = datagov.trust_shock(inc, state.scenario.routing.misuse_trust_shock)
        datagov.apply_trust_shock(state.city.trust, state.city.grid_start, shock)


def count_arrivals(state, was_routing: np.ndarray) -> None:
    """Cases that entered a pool's queue in today's routing (demand seen by stage 7)."""
    t = state.issues
    entered = was_routing & (t.status == QUEUED)
    state.dyn.arrivals += np.bincount(t.pool[entered], minlength=state.pools.n_pools)


def count_services(state, day: int, pool_busy: np.ndarray) -> None:
    """Handling hours and services started today per pool (service rates for stage 7)."""
    t = state.issues
    started = (t.t_start >= 24.0 * day) & (t.t_start < 24.0 * day + 24.0)
    state.dyn.starts += np.bincount(t.pool[started], minlength=state.pools.n_pools)
    state.dyn.busy += pool_busy


def accountability_stage(state, day: int) -> None:
    """Residents evaluate today's closed cases; effort of accountable pools follows."""
    dyn = state.dyn
    p = accountability_params(state.scenario)
    dyn.effort = acc_mod.accountability_step(
        dyn.acc, state.issues, dyn.accountable, p, state.seed, day
    ).copy()


def warning_stage(state, day: int, escalation_incidents: np.ndarray) -> None:
    """Score every grid's risk, flag the riskiest, redeploy tomorrow's patrols.

    ``escalation_incidents`` are today's collective incidents per grid from escalating
    disputes (:func:`sim.kernels.warning.incidents_by_grid`). Flags and collective
    incidents are scored every day, warning on or off, so the warning's precision and
    recall can always be reported.
    """
    city, dyn = state.city, state.dyn
    wp = warning_params(state.scenario)
    n_g = city.n_grids
    inc = escalation_incidents
    if dyn.unrest_onset is not None:
        inc = inc + dyn.unrest_onset  # collective incidents from activation too
    active = (
        warning.grid_means(dyn.active, city.grid_start) if dyn.active is not None else np.zeros(n_g)
    )
    risk = warning.risk_indicator(
        warning.open_disputes_by_grid(state.issues, n_g),
        np.diff(city.grid_start),
        warning.grid_means(city.grievance, city.grid_start),
        active,
        wp,
    )
    flags = warning.flag_grids(risk, wp)
    dyn.last_flags = flags
    dyn.scorer.add(flags, inc)
    sc = state.scenario
    dyn.patrol_mult = warning.patrol_multiplier(
        risk, flags, np.ones(n_g), wp, on=sc.levers.capability.early_warning
    )
    if sc.levers.capability.early_warning:
        # the work team sent to a flagged grid tomorrow also screens it for hidden
        # disputes (矛盾纠纷排查), as many patrol hours per member as a grid worker
        staff = response_team(sc, np.diff(city.grid_start)) / max(sc.activation.worker_weight, 1e-9)
        dyn.patrol_mult = dyn.patrol_mult + flags * staff / sc.levers.capability.workers_per_grid


def warning_report(state) -> dict[str, float]:
    """Precision and recall of the flags against the collective incidents that followed."""
    dyn = state.dyn
    s = dyn.scorer.scores()
    return {
        "warning_precision": float(s.precision),
        "warning_recall": float(s.recall),
        "warning_lift": float(s.lift),
    }


def reallocation_stage(state, day: int) -> None:
    """Every ``period_days``: reallocate slots within each group; grow social orgs."""
    sc = state.scenario
    ra = sc.reallocation
    period = ra.period_days
    if (day + 1) % period != 0:
        return
    dyn, pl, city = state.dyn, state.pools, state.city
    new = pl.servers.astype(np.int64).copy()
    mode = sc.levers.capability.resource_allocation
    if mode != "siloed":
        grid_n = np.diff(city.grid_start).astype(np.float64)
        county_pop = np.bincount(city.grid_county, weights=grid_n, minlength=city.n_counties)
        town_pop = np.bincount(city.grid_town, weights=grid_n, minlength=city.n_towns)
        for kind_name in ra.pool_kinds:
            kind = POOL_KINDS.index(kind_name)
            idx = np.flatnonzero(pl.kind == kind)
            if idx.size < 2:
                continue
            budget = int(dyn.base_slots[idx].sum())
            lam = dyn.arrivals[idx] / period
            starts = dyn.starts[idx].sum()
            mean_h = dyn.busy[idx].sum() / starts if starts > 0 else 24.0
            mu = 24.0 / max(mean_h, 1e-6)
            if kind == K_MEDIATION:  # town_pool lists the towns' pools in ascending order
                pop = town_pop[np.searchsorted(pl.town_pool, idx)]
            else:
                pop = county_pop[pl.county[idx].astype(np.int64)]
            # equity of output (Savas 1978): equal capacity per case, not per head
            per_head = lam / np.maximum(pop, 1.0)
            need = per_head / per_head.mean() if per_head.mean() > 0 else None
            new[idx] = reallocation.allocate(
                mode,
                lam,
                budget,
                mu,
                base_shares=dyn.base_slots[idx].astype(np.float64),
                sharing=sc.levers.data.data_sharing,
                population=pop,
                equity_weight=sc.levers.community.urban_rural_integration,
                need=need,
                min_slots=ra.min_slots,
            )
    social = pl.kind == K_SOCIAL
    if social.any():
        dyn.social_capacity = np.where(
            social,
            reallocation.social_org_capacity(
                dyn.social_capacity, dyn.social_target, period, ra.social_org_lag_days
            ),
            0.0,
        )
        grown = np.rint(dyn.social_capacity)
        new[social] = np.where(dyn.social_target[social] > 0, np.maximum(grown[social], 1), 0)
    if not np.array_equal(new, pl.servers):
        state.pools = reallocation.resize_pools(pl, new, 24.0 * (day + 1))
    dyn.arrivals[:] = 0.0
    dyn.busy[:] = 0.0
    dyn.starts[:] = 0.0
