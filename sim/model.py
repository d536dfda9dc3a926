"""The governance model: builds the state and calls the daily stages in order.

``GovernanceModel(mesa.Model)`` holds the arrays (:class:`ModelState`) and the Mesa
agents that are views onto them; it orders the stages but holds none of their rules.
One step is one day (DESIGN.md, "The daily step"):

1. generate issues          — :mod:`sim.kernels.generate`
2. surface them             — :mod:`sim.kernels.surface`
3. route                    — :mod:`sim.kernels.route`
4. handle within capacity   — :mod:`sim.kernels.handle`
5. escalate                 — :mod:`sim.kernels.escalate`
6. update residents         — seam: ``dynamics_step`` (not yet in the model)
7. reallocate resources     — seam: ``reallocate_step`` (not yet in the model)
8. measure                  — :mod:`sim.kernels.measure`, :mod:`sim.metrics`
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import mesa
import numba
import numpy as np
from numba import njit, prange

from sim import agents
from sim.city import City, build_city
from sim.issues import ROUTING, IssueTable
from sim.kernels.escalate import escalate_step
from sim.kernels.generate import dispute_hotspots, generate_step
from sim.kernels.handle import handle_step, outcomes_by_kind
from sim.kernels.measure import measure_step
from sim.kernels.rng import S_INCLUSION, uniform
from sim.kernels.route import pack_route_params, route_step
from sim.kernels.surface import pack_surface_params, surface_step
from sim.kernels.warning import WarningScorer, incidents_by_grid
from sim.metrics import MetricsRecorder
from sim.pools import (
    K_DEPARTMENT,
    K_GRID,
    K_HOTLINE,
    K_MASS,
    K_MEDIATION,
    K_ONLINE,
    K_PETITION,
    K_SOCIAL,
    Pools,
    build_pools,
    social_org_strength,
)
from sim.scenario.schema import CATEGORIES_EN, Scenario
from sim.stages import (
    DYNAMICS_KERNELS,
    DynamicsState,
    accountability_stage,
    apply_initial_social_capacity,
    count_arrivals,
    count_services,
    init_dynamics,
    misuse_stage,
    reallocation_stage,
    resident_stage,
    settle_activation,
    warning_report,
    warning_stage,
)

STAGES = (
    "generate",
    "surface",
    "route",
    "handle",
    "escalate",
    "dynamics",
    "reallocate",
    "measure",
)
KERNEL_STAGES = {
    "generate": generate_step,
    "surface": surface_step,
    "route": route_step,
    "handle": handle_step,
    "escalate": escalate_step,
    "measure": measure_step,
    # stage 6's resident kernels (called inside the dynamics stage)
    **DYNAMICS_KERNELS,
}


@dataclass
class Params:
    """Scenario parameters packed once into the arrays the kernels read."""

    generation_arrays: dict
    surface: np.ndarray
    route: np.ndarray


def pack_params(scenario: Scenario, city: City, seed: int) -> Params:
    """Pack every stage's parameters (kernels never read the pydantic object).

    ``seed`` is the model's: the dispute hot spots belong to the city it built."""
    g = scenario.generation
    mix = np.array([scenario.handling.sector_mix[c] for c in CATEGORIES_EN])
    cum = np.cumsum(mix, axis=1)
    cum[:, -1] = 1.0
    gen = {
        "rates": np.asarray(g.rate_per_resident_year.as_tuple()) / 365.0,
        "h_mean": float(city.hardship.mean(dtype=np.float64)) if city.n_residents else 0.0,
        "k_h": g.hardship_multiplier,
        "v_mult": g.vulnerable_multiplier,
        "rural_mult": g.rural_risk_multiplier,
        "sector_cum": cum,
        "sev_a": g.severity_a,
        "sev_b": g.severity_b,
        "kappa": dispute_hotspots(seed, np.diff(city.grid_start), g.dispute_hotspot_cv),
    }
    return Params(
        generation_arrays=gen,
        surface=pack_surface_params(scenario, social_org_strength(scenario)),
        route=pack_route_params(scenario),
    )


@dataclass
class ModelState:
    """Everything a stage reads or writes: arrays, packed parameters, counters."""

    scenario: Scenario
    seed: int
    city: City
    pools: Pools
    params: Params
    issues: IssueTable
    scratch_u8: np.ndarray
    pool_queue_len: np.ndarray
    dyn: DynamicsState | None = None
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    _row_scratch: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))

    def row_scratch(self, n: int) -> np.ndarray:
        """A reusable uint8 buffer of length ``n`` (one byte per issue row)."""
        if self._row_scratch.shape[0] < n:
            self._row_scratch = np.zeros(max(n, 2 * self._row_scratch.shape[0]), dtype=np.uint8)
        return self._row_scratch[:n]


def apply_digital_inclusion(city: City, inclusion: float, seed: int) -> None:
    """Give online access to a share ``inclusion`` of residents who lack it (数字包容).

    Each resident without access gains it when a counter-based draw (seed,
    ``S_INCLUSION``, resident) falls below ``inclusion``, so the same residents gain it in
    every scenario with the same seed (common random numbers).
    """
    if inclusion <= 0.0 or city.n_residents == 0:
        return
    u = _inclusion_draws(seed, city.n_residents)
    city.digital[(city.digital == 0) & (u < inclusion)] = 1


@njit(cache=True, parallel=True)
def _inclusion_draws(seed, n):
    out = np.empty(n)
    for i in prange(n):
        out[i] = uniform(seed, S_INCLUSION, 0, i)
    return out


_POOL_AGENT = {
    K_HOTLINE: agents.CommandCentre,
    K_DEPARTMENT: agents.Department,
    K_MEDIATION: agents.MediationCommittee,
    K_SOCIAL: agents.SocialOrganisation,
    K_ONLINE: agents.OnlineMediationPlatform,
    K_PETITION: agents.PetitionOffice,
    K_MASS: agents.MassOrganisation,
}


class GovernanceModel(mesa.Model):
    """City-level social governance, one step per day.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario (see ``sim.scenario``).
    seed : int, optional
        Master seed; defaults to ``scenario.seed``. Every random draw of the daily
        stages is a counter-based hash of (seed, stream, day, id), so results do not
        depend on thread count; Mesa's ``rng`` is seeded with it as well.
    city : City, optional
        A prebuilt city (for reuse across scenarios that share the territory).

    Attributes
    ----------
    serial_below : int
        A city with fewer residents than this steps on one numba thread: its parallel
        kernels are too short to pay for waking a second thread, and waiting for a thread
        that another process holds costs more than the work. On the 2-core machine of the
        README a day of 67,000 residents took 3.4 ms on one thread and 4.0 ms on two, of
        200,000 residents 10.5 and 7.6 ms. Results do not depend on the number of
        threads; set it to 0 (or the environment variable ``GOVSIM_SERIAL_BELOW``, read at
        import) to use numba's thread count always.
    """

    serial_below: int = int(os.environ.get("GOVSIM_SERIAL_BELOW", "100000"))

    def __init__(self, scenario: Scenario, seed: int | None = None, city: City | None = None):
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.config = scenario
        self.seed = seed
        self.day = 0
        t0 = time.perf_counter()
        if city is None:
            city = build_city(
                scenario if seed == scenario.seed else scenario.model_copy(update={"seed": seed})
            )
        self.build_seconds = time.perf_counter() - t0
        apply_digital_inclusion(city, scenario.levers.capability.digital_inclusion, seed)
        pools = build_pools(city, scenario)
        cap = max(1024, int(city.n_residents * 0.02))
        self.state = ModelState(
            scenario=scenario,
            seed=seed,
            city=city,
            pools=pools,
            params=pack_params(scenario, city, seed),
            issues=IssueTable(cap),
            scratch_u8=np.empty(city.n_residents, dtype=np.uint8),
            pool_queue_len=np.zeros(pools.n_pools),
        )
        self.state.dyn = init_dynamics(scenario, city, pools)
        apply_initial_social_capacity(self.state)
        settle_activation(self.state)
        self.metrics = MetricsRecorder(scenario, max(city.n_residents, 1))
        self.issue_sink: Callable[[dict[str, np.ndarray]], None] | None = None
        self._hardship_mean = (
            float(city.hardship.mean(dtype=np.float64)) if city.n_residents else 0.0
        )
        self._create_agents()
        self._residents: dict[int, agents.ResidentView] = {}
        self.last_row: dict[str, float] | None = None
        self.warm_up(scenario.warmup_days)

    def warm_up(self, days: int) -> None:
        """Simulate ``days`` days of spin-up, then forget their metrics.

        Queues fill and trust and activation settle before reporting starts; the
        reported days are numbered from 0 after the warm-up. Random draws keep counting
        the model's own days, so a run with a warm-up is a continuation, not a restart.
        """
        if days <= 0:
            return
        self.run(days)
        s = self.state
        self.metrics = MetricsRecorder(self.config, max(s.city.n_residents, 1))
        self.metrics.day_offset = self.day
        # the warning is scored from day 0; flags raised during warm-up send no team
        s.dyn.scorer = WarningScorer(s.city.n_grids, self.config.warning.horizon_days)
        s.dyn.last_flags = None
        s.stage_seconds = dict.fromkeys(STAGES, 0.0)
        self.last_row = None

    def _create_agents(self) -> None:
        pl = self.state.pools
        for p in range(pl.n_pools):
            k = int(pl.kind[p])
            if k == K_GRID:
                continue
            _POOL_AGENT[k](self, p)
        workers = self.config.levers.capability.workers_per_grid
        for g, p in enumerate(pl.grid_pool):
            for _ in range(workers):
                agents.GridWorker(self, int(p), g)

    def change_scenario(self, scenario: Scenario) -> None:
        """Switch to ``scenario`` mid-run (e.g. a lever moved in class), keeping the state.

        The city, the open issues and the day stay; parameters are repacked and the
        handler pools rebuilt (a pool whose number of slots is unchanged keeps its
        slots' free times, others start free at the current hour). Fields that shape
        the city itself (``city``, ``scale``, ``seed``, residents per grid) cannot
        change mid-run: build a new model for those.

        Raises
        ------
        ValueError
            If a city-shaping field differs.
        """
        old = self.config
        fixed = {
            "city": (old.city, scenario.city),
            "scale": (old.scale, scenario.scale),
            "seed": (old.seed, scenario.seed),
            "levers.capability.residents_per_grid": (
                old.levers.capability.residents_per_grid,
                scenario.levers.capability.residents_per_grid,
            ),
            "levers.capability.digital_inclusion": (
                old.levers.capability.digital_inclusion,
                scenario.levers.capability.digital_inclusion,
            ),
        }
        changed = [k for k, (a, b) in fixed.items() if a != b]
        if changed:
            raise ValueError(
                f"{', '.join(changed)} shape the city and cannot change mid-run; "
                "start a new model (reset) instead"
            )
        s = self.state
        new_pools = build_pools(s.city, scenario)
        old_pools = s.pools
        now = 24.0 * self.day
        for p in range(new_pools.n_pools):
            a0, a1 = new_pools.server_ptr[p], new_pools.server_ptr[p + 1]
            if p < old_pools.n_pools and old_pools.servers[p] == new_pools.servers[p]:
                b0 = old_pools.server_ptr[p]
                new_pools.free_at[a0:a1] = old_pools.free_at[b0 : b0 + (a1 - a0)]
            else:
                new_pools.free_at[a0:a1] = now
        s.pools = new_pools
        s.scenario = scenario
        # stage 6–7 memory restarts with the new configuration (effort, slots, logs kept)
        old_dyn = s.dyn
        s.dyn = init_dynamics(scenario, s.city, new_pools)
        s.dyn.scorer, s.dyn.last_flags = old_dyn.scorer, old_dyn.last_flags
        s.dyn.social_capacity = np.where(new_pools.kind == K_SOCIAL, new_pools.servers, 0).astype(
            np.float64
        )
        s.params = pack_params(scenario, s.city, s.seed)
        if s.pool_queue_len.shape[0] != new_pools.n_pools:
            s.pool_queue_len = np.zeros(new_pools.n_pools)
        self.config = scenario
        self.metrics.ix = scenario.indices
        for a in list(self.agents):
            if isinstance(a, agents.PoolAgent):
                a.remove()
        self._create_agents()

    def summary(self) -> dict[str, float]:
        """The run summary: metrics (``sim.metrics``) and the early warning's scores."""
        return {**self.metrics.summary(), **warning_report(self.state)}

    def resident(self, row: int) -> agents.ResidentView:
        """The resident in ``row`` as a Mesa agent (a view onto the arrays; cached)."""
        if not 0 <= row < self.state.city.n_residents:
            raise IndexError(f"resident {row} out of range 0..{self.state.city.n_residents - 1}")
        if row not in self._residents:
            self._residents[row] = agents.ResidentView(self, row)
        return self._residents[row]

    def _timed(self, name: str, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        self.state.stage_seconds[name] += time.perf_counter() - t0
        return out

    def staff_days_today(self, day: int) -> float:
        pl = self.state.pools
        on = (day % 7) < 5 or pl.weekends[pl.kind].astype(bool)
        return float(np.sum(pl.staff_per_duty_day * on))

    def step(self) -> dict[str, float]:
        """Advance one day. The day's metrics row is kept in ``last_row``.

        (Mesa wraps ``step``, so callers read ``model.last_row`` rather than the return.)
        """
        return self.advance(KERNEL_STAGES)

    def advance(self, stages: dict) -> dict[str, float]:
        """Run one day with the given stage functions (the kernels, or their twins).

        ``stages`` maps each name of ``STAGES`` but "dynamics" and "reallocate" to a
        function ``f(state, day)``, and may map "participation", "trust" and
        "activation" to stage 6's resident kernels (``sim.stages.DYNAMICS_KERNELS``, with
        their signatures); the reference twins in ``tests/reference`` plug in here, so the
        twins and the kernels share every line of bookkeeping. A city of fewer than
        ``serial_below`` residents runs the day on one numba thread.
        """
        threads = numba.get_num_threads()
        if threads > 1 and self.state.city.n_residents < self.serial_below:
            numba.set_num_threads(1)
            try:
                return self._advance(stages)
            finally:
                numba.set_num_threads(threads)
        return self._advance(stages)

    def _advance(self, stages: dict) -> dict[str, float]:
        s = self.state
        d = self.day
        t = s.issues
        self._timed("generate", stages["generate"], s, d)
        self._timed("surface", stages["surface"], s, d)
        was_routing = t.status == ROUTING
        _, misuse = self._timed("route", stages["route"], s, d)
        misuse_stage(s, s.row_scratch(t.n))  # codes the routing stage left (1 use, 2 misuse)
        count_arrivals(s, was_routing)
        pool_busy = self._timed("handle", stages["handle"], s, d)
        kind_done, kind_resolved = outcomes_by_kind(s, d)
        count_services(s, d, pool_busy)
        esc = self._timed("escalate", stages["escalate"], s, d)
        # stage 6: resident dynamics, accountability, early warning
        t0 = time.perf_counter()
        # collective incidents per grid, from the codes the escalation stage left
        esc_incidents = incidents_by_grid(s.row_scratch(t.n), t.grid, s.city.n_grids)
        resident_stage(s, d, kernels=stages)
        warning_stage(s, d, esc_incidents)
        accountability_stage(s, d)
        s.stage_seconds["dynamics"] += time.perf_counter() - t0
        # stage 7: monthly reallocation
        self._timed("reallocate", reallocation_stage, s, d)
        t0 = time.perf_counter()
        counts, sums, res_days = stages["measure"](s, d)
        city = s.city
        row = self.metrics.record(
            d,
            counts,
            sums,
            res_days,
            esc,
            misuse,
            self.staff_days_today(d) + s.dyn.response_staff,
            float(pool_busy.sum()),
            float(city.trust.mean(dtype=np.float64)) if city.n_residents else 0.0,
            float(city.participation.mean(dtype=np.float64)) if city.n_residents else 0.0,
            self._hardship_mean,
            kind_done=kind_done,
            kind_resolved=kind_resolved,
            unrest=s.dyn.unrest_today,
            active_share=float(s.dyn.active.mean()) if city.n_residents else 0.0,
        )
        if d % 7 == 6:
            s.issues.compact(24.0 * (d + 1), self.issue_sink)
        s.stage_seconds["measure"] += time.perf_counter() - t0
        self.day += 1
        self.last_row = row
        return row

    def run(self, days: int, progress: Callable[[int], None] | None = None) -> None:
        """Run ``days`` steps, calling ``progress(day)`` after each."""
        for _ in range(days):
            self.step()
            if progress is not None:
                progress(self.day)
