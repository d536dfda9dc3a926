"""The governance model: the day as one function, the mechanisms called in order.

``GovernanceModel(mesa.Model)`` holds the arrays (:class:`ModelState`: the city (static,
shareable), its own residents' state, the handler pools, the issue rows and one named
state per mechanism that carries anything from day to day) and the Mesa agents that are
views onto them. :meth:`GovernanceModel.step` is one day (DESIGN.md, "The daily step");
every value passes between the mechanisms at its call sites:

1. generate issues          — :mod:`sim.kernels.generate`
2. surface them             — :mod:`sim.kernels.surface`
3. route (data misuse)      — :mod:`sim.kernels.route`, :mod:`sim.kernels.datagov`
4. handle within capacity   — :mod:`sim.kernels.handle`
5. escalate                 — :mod:`sim.kernels.escalate`
6. update residents         — :mod:`sim.kernels.participation`, :mod:`sim.kernels.trust`,
                              :mod:`sim.kernels.activation`; early warning
                              (:mod:`sim.kernels.warning`); accountability
                              (:mod:`sim.kernels.accountability`)
7. reallocate resources     — :mod:`sim.kernels.reallocation`
8. measure                  — :mod:`sim.kernels.measure`, :mod:`sim.metrics`

Each mechanism's parameters are built once from the scenario (:class:`Parameters`); the
functions that do the work over the arrays are a table (:class:`Kernels`) that the
plain-Python twins in ``tests/reference`` can replace, so twins and kernels share every
line of bookkeeping. Mesa's ``DataCollector`` records the daily metrics.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import mesa
import numba
import numpy as np
from numba import njit, prange

from sim import agents
from sim.city import City, Residents, build_city
from sim.events import COLLECTIVE, MISUSE, WARNING, EventLog
from sim.issues import ROUTING, IssueTable
from sim.kernels import (
    accountability,
    activation,
    costs,
    datagov,
    escalate,
    generate,
    handle,
    keyperson,
    measure,
    participation,
    reallocation,
    route,
    selfgov,
    surface,
    trust,
    warning,
)
from sim.kernels.clock import on_clock
from sim.kernels.compile import precompile
from sim.metrics import MetricsRecorder
from sim.metrics_schema import DAILY_COLUMNS
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
    grid_workers,
    social_strength_by_grid,
)
from sim.rng import S_INCLUSION, uniform
from sim.scenario.loader import scenario_hash
from sim.scenario.schema import Scenario

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


@dataclass(frozen=True)
class Parameters:
    """Every mechanism's ``Params``, built once from the scenario (the schema is the only
    home of defaults)."""

    generate: generate.Params
    surface: surface.Params
    route: route.Params
    datagov: datagov.Params
    handle: handle.Params
    escalate: escalate.Params
    participation: participation.Params
    trust: trust.Params
    activation: activation.Params
    warning: warning.Params
    accountability: accountability.Params
    reallocation: reallocation.Params
    measure: measure.Params
    costs: costs.Params
    selfgov: selfgov.Params
    keyperson: keyperson.Params

    @classmethod
    def from_scenario(cls, sc: Scenario, city: City, seed: int) -> Parameters:
        """``seed`` is the model's: the dispute hot spots belong to the city it built.

        Where counties have added grid workers (``levers.capability.
        county_extra_grid_workers``) or their own social-organisation budget
        (``levers.system.county_social_org_budget_yuan_per_resident``), the kernels that
        read workers per grid or the organisations' strength get them per grid
        (:func:`sim.pools.grid_workers`, :func:`sim.pools.social_strength_by_grid`) instead
        of the city-wide scalar."""
        out = cls(
            generate=generate.Params.from_scenario(sc, city, seed),
            surface=surface.Params.from_scenario(sc),
            route=route.Params.from_scenario(sc, city),
            datagov=datagov.Params.from_scenario(sc),
            handle=handle.Params.from_scenario(sc),
            escalate=escalate.Params.from_scenario(sc),
            participation=participation.Params.from_scenario(sc),
            trust=trust.Params.from_scenario(sc),
            activation=activation.Params.from_scenario(sc),
            warning=warning.Params.from_scenario(sc),
            accountability=accountability.Params.from_scenario(sc),
            reallocation=reallocation.Params.from_scenario(sc),
            measure=measure.Params.from_scenario(sc),
            costs=costs.Params.from_scenario(sc),
            selfgov=selfgov.Params.from_scenario(sc),
            keyperson=keyperson.Params.from_scenario(sc),
        )
        social = social_strength_by_grid(city, sc)
        if social is not None:
            out = replace(out, surface=replace(out.surface, social_strength=social))
        per_grid = grid_workers(city, sc)
        if per_grid is None:
            return out
        w, beat = per_grid
        return replace(
            out,
            surface=replace(out.surface, workers_per_grid=w, workers_per_beat=beat),
            activation=replace(out.activation, workers_per_grid=w),
            warning=replace(out.warning, workers_per_grid=w),
            keyperson=replace(out.keyperson, workers_per_grid=w),
        )


@dataclass(frozen=True)
class Kernels:
    """The functions that do each day's work over the arrays, by stage.

    :data:`KERNELS` are the numba kernels; ``tests/reference/step.py`` has the
    plain-Python twins with the same signatures.
    """

    generate: Callable
    surface: Callable
    route: Callable
    handle: Callable
    escalate: Callable
    participation: Callable
    trust: Callable
    activation: Callable
    measure: Callable


KERNELS = Kernels(
    generate=generate.generate_step,
    surface=surface.surface_step,
    route=route.route_step,
    handle=handle.handle_step,
    escalate=escalate.escalate_step,
    participation=participation.participation_step,
    trust=trust.trust_step,
    activation=activation.activation_step,
    measure=measure.measure_step,
)


@dataclass
class ModelState:
    """The arrays of a run: territory, residents' state, pools, issues and mechanism states.

    Attributes
    ----------
    city : City
        The static territory and residents' fixed attributes (never written by a run, so
        several models may share one).
    residents : Residents
        This run's residents' state (trust, participation, grievance, digital access after
        inclusion), started from copies of ``city.initial`` and changed day by day.
    pools : Pools
        Handler pools (reallocation resizes them).
    issues : IssueTable
    queue_len : float64[n_pools]
        Cases queued in each pool after yesterday's service (load-dependent patrols).
    experience : trust.Experience
        Residents' own reports closed today, by outcome.
    neighbours : participation.EngagedNeighbours
        Engaged neighbours of every resident, kept from one day to the next.
    participation_spare, trust_spare : float32[n_residents]
        Double buffers: tomorrow's participation and trust are written here, then swapped
        with the residents' arrays.
    activation, warning, accountability, reallocation
        The named states of those mechanisms.
    """

    scenario: Scenario
    seed: int
    city: City
    residents: Residents
    pools: Pools
    issues: IssueTable
    generate_hits: np.ndarray  # int32[n_residents]: generate's work buffer
    queue_len: np.ndarray
    experience: trust.Experience
    neighbours: participation.EngagedNeighbours
    participation_spare: np.ndarray
    trust_spare: np.ndarray
    activation: activation.State
    warning: warning.State
    accountability: accountability.State
    reallocation: reallocation.State
    survey: measure.SurveyState  # what residents remember for the indices (sim.metrics)
    selfgov: selfgov.State  # active councils; issues they settled (由民自主)
    keyperson: keyperson.State  # the key-person watch list and visits (重点人员管理)
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @property
    def pool_queue_len(self) -> np.ndarray:
        """Alias of :attr:`queue_len`."""
        return self.queue_len


def mechanism_states(
    sc: Scenario, p: Parameters, city: City, pools: Pools, seed: int | None = None
) -> dict:
    """Fresh day-to-day states of the mechanisms (social organisations not yet grown);
    ``seed`` (default the scenario's) draws which communities have an active council."""
    n = city.n_residents
    return {
        "experience": trust.Experience.zeros(n),
        # the city's network is symmetric with sorted rows by construction
        # (sim.city.network.edges_to_csr)
        "neighbours": participation.EngagedNeighbours(symmetric=True),
        "participation_spare": np.empty(n, dtype=np.float32),
        "trust_spare": np.empty(n, dtype=np.float32),
        "activation": activation.State.start(n, city.n_grids, city.n_blocks),
        "warning": warning.State.start(city.n_grids, p.warning),
        "accountability": accountability.init_accountability(
            pools.n_pools, p.accountability, pools.kind
        ),
        "reallocation": reallocation.State.start(pools, p.reallocation),
        "survey": measure.SurveyState.start(city),
        "selfgov": selfgov.State.start(
            int(city.grid_community.max()) + 1 if city.n_grids else 0,
            p.selfgov,
            sc.seed if seed is None else seed,
        ),
        "keyperson": keyperson.State.start(n),
    }


def apply_digital_inclusion(residents: Residents, inclusion: float, seed: int) -> None:
    """Give online access to a share ``inclusion`` of residents who lack it (数字包容);
    ``residents.digital`` is changed in place.

    Each resident without access gains it when a counter-based draw (seed,
    ``S_INCLUSION``, resident) falls below ``inclusion``, so the same residents gain it in
    every scenario with the same seed (common random numbers).
    """
    if inclusion <= 0.0 or residents.n_residents == 0:
        return
    u = _inclusion_draws(seed, residents.n_residents)
    residents.digital[(residents.digital == 0) & (u < inclusion)] = 1


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


@dataclass(frozen=True)
class Snapshot:
    """A warmed-up model (:meth:`GovernanceModel.snapshot`): its arrays, day and key."""

    key: str  # snapshot_key of the warm-up (scenario with its seed, model version)
    seed: int
    day: int
    steps: int
    state: ModelState


def warmup_scenario(scenario: Scenario) -> Scenario:
    """The scenario in force during ``scenario``'s warm-up.

    The scenario itself, unless it sets ``warmup_levers`` or
    ``warmup_department_slots_per_100k``: then those levers, except the ones that shape
    the city (:attr:`GovernanceModel.CITY_SHAPING`), which stay the scenario's own, and
    those department slots.
    """
    slots = scenario.warmup_department_slots_per_100k
    if slots is not None:
        handling = scenario.handling.model_copy(update={"department_slots_per_100k": slots})
        scenario = scenario.model_copy(
            update={"handling": handling, "warmup_department_slots_per_100k": None}
        )
    if scenario.warmup_levers is None:
        return scenario
    levers = scenario.warmup_levers
    for path in GovernanceModel.CITY_SHAPING:
        parts = path.split(".")
        if parts[0] != "levers":
            continue
        section, name = parts[1], parts[2]
        own = getattr(scenario.levers, section)
        sec = getattr(levers, section).model_copy(update={name: getattr(own, name)})
        levers = levers.model_copy(update={section: sec})
    return scenario.model_copy(update={"levers": levers, "warmup_levers": None})


def snapshot_key(scenario: Scenario) -> str:
    """Which warm-up a run of ``scenario`` starts from: the hash of its warm-up scenario
    (with the seed and model version; its name, titles and number of reported days left
    out). Runs with
    the same key can fork one :class:`Snapshot`."""
    neutral = {"days": 1, "name": "warmup", "title_zh": "", "title_en": "", "description": ""}
    return scenario_hash(warmup_scenario(scenario).model_copy(update=neutral))


def _reporter(key: str) -> Callable:
    return lambda m: m.last_row[key]


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
        A prebuilt city (for reuse across scenarios that share the territory). The run
        never writes to it: the residents' changing state is the model's own
        (``state.residents``, copied from ``city.initial``).
    kernels : Kernels, optional
        The functions that do the day's work (default :data:`KERNELS`; the twins of
        ``tests/reference`` plug in here).
    events : bool or EventLog, optional
        Record an event log (:mod:`sim.events`) from the first reported day: True for
        one that keeps every event in memory, or a configured :class:`EventLog`
        (a window of days, a Parquet sink). Off by default (no work done for it).

    Attributes
    ----------
    params : Parameters
        Every mechanism's parameters, built from the scenario.
    events : EventLog or None
        The event log, if one is recorded (may also be set before the first step).
    state : ModelState
    datacollector : mesa.DataCollector
        The daily metrics (one model reporter per column of ``sim.metrics_schema``),
        reported days only (the warm-up is forgotten).
    running : bool
        Mesa's flag: :meth:`run` stops when it is False.
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

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        city: City | None = None,
        kernels: Kernels | None = None,
        events: bool | EventLog = False,
    ):
        # on a cold numba cache: every kernel at once on every core, before the first call
        # compiles them one by one (sim.kernels.compile; a no-op once they are cached)
        precompile()
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        warm = warmup_scenario(scenario)  # the scenario itself unless warmup_* is set
        self.config = warm
        self.seed = seed
        self.day = 0
        self.kernels = KERNELS if kernels is None else kernels
        t0 = time.perf_counter()
        if city is None:
            city = build_city(
                scenario if seed == scenario.seed else scenario.model_copy(update={"seed": seed})
            )
        self.build_seconds = time.perf_counter() - t0
        residents = city.initial.copy()
        apply_digital_inclusion(residents, scenario.levers.capability.digital_inclusion, seed)
        pools = build_pools(city, warm)
        self.params = Parameters.from_scenario(warm, city, seed)
        cap = max(1024, int(city.n_residents * 0.02))
        self.state = ModelState(
            scenario=warm,
            seed=seed,
            city=city,
            residents=residents,
            pools=pools,
            issues=IssueTable(cap),
            generate_hits=np.empty(city.n_residents, dtype=np.int32),
            queue_len=np.zeros(pools.n_pools),
            **mechanism_states(warm, self.params, city, pools, seed),
        )
        s = self.state
        s.pools = s.reallocation.initial_pools(s.pools)
        for _ in range(activation.SETTLE_SWEEPS):  # activation settles before day 0
            self._activation(-1, count=False)
        self._attach()
        self.warm_up(scenario.warmup_days)
        if warm is not scenario:  # the scenario's own levers from day 0 on
            self.change_scenario(scenario)
        if events is not False:  # the warm-up's events are forgotten with its metrics
            self.events = EventLog() if events is True else events

    def _attach(self) -> None:
        """Everything besides the arrays: metrics, the data collector, the Mesa agents."""
        city = self.state.city
        self.metrics = MetricsRecorder(self.config, max(city.n_residents, 1))
        self.datacollector = self._new_datacollector()
        self.issue_sink: Callable[[dict[str, np.ndarray]], None] | None = None
        self._create_agents()
        self._residents: dict[int, agents.ResidentView] = {}
        self.last_row: dict[str, float] | None = None
        self._slow_means: tuple[float, float] | None = None
        self.running = True
        self.events: EventLog | None = None

    def snapshot(self) -> bytes:
        """The model after its warm-up, as bytes that :meth:`restore` forks runs from.

        Taken before the first reported day, it holds the arrays (:class:`ModelState`,
        with the city), the day and the Mesa step count; parameters, metrics and agents
        are rebuilt from them. A run forked from it equals, bit for bit, a run that
        simulates the warm-up itself (``tests/test_snapshot.py``): every random draw is
        keyed by the model's seed and day (:mod:`sim.rng`), not by a stream position.

        Raises
        ------
        ValueError
            If a reported day has been simulated already.
        """
        if self.config.warmup_levers is not None:
            raise ValueError(
                "snapshot the warm-up model itself, "
                "GovernanceModel(warmup_scenario(scenario)), not a run already switched "
                "to its own levers"
            )
        if self.day != self.metrics.day_offset:
            raise ValueError(
                f"snapshot after day {self.day - self.metrics.day_offset} of the reported run: "
                "a snapshot is taken right after the warm-up, before day 0"
            )
        snap = Snapshot(
            key=snapshot_key(self.config.model_copy(update={"seed": self.seed})),
            seed=self.seed,
            day=self.day,
            steps=getattr(self, "steps", 0),
            state=self.state,
        )
        return pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def restore(
        cls,
        data: bytes,
        scenario: Scenario,
        kernels: Kernels | None = None,
        events: bool | EventLog = False,
    ) -> GovernanceModel:
        """Fork ``scenario``'s run from a warm-up :meth:`snapshot` (its warm-up skipped).

        Parameters
        ----------
        data : bytes
            A snapshot of a model warmed up under ``warmup_scenario(scenario)`` with the
            scenario's seed (:func:`snapshot_key` must match).
        scenario : Scenario
            The run to continue: its levers apply from day 0 (``change_scenario``).

        Raises
        ------
        ValueError
            If the snapshot was warmed up under another scenario, seed or model version.
        """
        precompile()  # as in __init__: a fork may be a process's first model
        snap: Snapshot = pickle.loads(data)
        want = snapshot_key(scenario)
        if snap.key != want:
            raise ValueError(
                f"this snapshot ({snap.key[:12]}) is of another warm-up than the run "
                f"{scenario.name!r} with seed {scenario.seed} needs ({want[:12]})"
            )
        self = cls.__new__(cls)
        mesa.Model.__init__(self, rng=snap.seed)
        if hasattr(self, "steps"):
            self.steps = snap.steps
        warm = snap.state.scenario
        self.config = warm
        self.seed = snap.seed
        self.day = snap.day
        self.kernels = KERNELS if kernels is None else kernels
        self.build_seconds = 0.0
        self.params = Parameters.from_scenario(warm, snap.state.city, snap.seed)
        self.state = snap.state
        self._attach()
        self.metrics.day_offset = self.day
        if warm.model_dump() != scenario.model_dump():
            self.change_scenario(scenario)
        if events is not False:
            self.events = EventLog() if events is True else events
        return self

    @staticmethod
    def _new_datacollector() -> mesa.DataCollector:
        return mesa.DataCollector(model_reporters={k: _reporter(k) for k in DAILY_COLUMNS})

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
        self.datacollector = self._new_datacollector()
        # the warning is scored from day 0; flags raised during warm-up send no team
        s.warning = replace(
            s.warning,
            scorer=warning.WarningScorer(s.city.n_grids, self.params.warning.horizon_days),
            last_flags=None,
            team_share=None,
        )
        s.selfgov.reset()
        s.keyperson.reset()
        s.stage_seconds = dict.fromkeys(STAGES, 0.0)
        self.last_row = None

    def _create_agents(self) -> None:
        pl = self.state.pools
        for p in range(pl.n_pools):
            k = int(pl.kind[p])
            if k == K_GRID:
                continue
            _POOL_AGENT[k](self, p)
        seen = set()
        for g, p in enumerate(pl.grid_pool):
            if int(p) in seen:  # a beat's workers are created once, at its first grid
                continue
            seen.add(int(p))
            for _ in range(int(pl.servers[p])):
                agents.GridWorker(self, int(p), g)

    # Fields that shape the city itself: a run cannot change them, only a new model can.
    CITY_SHAPING: tuple[str, ...] = (
        "city",
        "scale",
        "seed",
        "levers.capability.residents_per_grid",
        "levers.capability.grids_per_worker",
        "levers.capability.digital_inclusion",
    )

    @staticmethod
    def city_shaping_changes(old: Scenario, new: Scenario) -> list[str]:
        """The fields of :attr:`CITY_SHAPING` that differ between ``old`` and ``new``."""

        def get(sc: Scenario, path: str):
            obj = sc
            for part in path.split("."):
                obj = getattr(obj, part)
            return obj

        return [k for k in GovernanceModel.CITY_SHAPING if get(old, k) != get(new, k)]

    def change_scenario(self, scenario: Scenario) -> None:
        """Switch to ``scenario`` from the next day on (e.g. a lever moved in class).

        Everything the run has built up stays: the day, the residents' state, the open
        issues and queues, the pools' slots and their free times, and every mechanism's
        memory (activation and its grid incidents and mobilisation, the early warning's
        scores, flags and patrols, accountability signals and effort, reallocation's
        budgets and demand). Only the parameters change, and where a lever changes a
        pool's capacity the pool gains or loses that many slots (a new slot is free now,
        a pool that shrinks gives up its idle slots first); funded social-organisation
        capacity follows the new budget, their current capacity keeps growing towards it.
        Re-applying the current scenario therefore changes nothing.

        Fields that shape the city itself (:attr:`CITY_SHAPING`: ``city``, ``scale``,
        ``seed``, residents per grid, digital inclusion) cannot change mid-run: build a
        new model for those.

        Raises
        ------
        ValueError
            If a city-shaping field differs (the message names them).
        """
        old = self.config
        changed = self.city_shaping_changes(old, scenario)
        if changed:
            raise ValueError(
                f"{', '.join(changed)} shape the city and cannot change mid-run; "
                "start a new model (reset) instead"
            )
        s = self.state
        params = Parameters.from_scenario(scenario, s.city, s.seed)
        was = build_pools(s.city, old)
        new = build_pools(s.city, scenario)
        pools = s.pools
        delta = new.servers.astype(np.int64) - was.servers.astype(np.int64)
        social = pools.kind == K_SOCIAL
        ra = s.reallocation
        target = np.where(social, new.servers, 0).astype(np.float64)
        funded = ra.social_target > 0
        # social organisations: current capacity kept (it keeps growing towards the
        # funded one), never above it; newly funded ones start as in a new run
        start = np.maximum(np.rint(target * params.reallocation.social_org_initial_share), 1.0)
        cap = np.where(funded, np.minimum(ra.social_capacity, target), start)
        cap = np.where(social & (target > 0), cap, 0.0)
        social_slots = np.where(funded, np.minimum(pools.servers, target), start)
        social_slots = np.where(target > 0, social_slots, 0).astype(np.int64)
        slots = np.where(
            social, social_slots, np.maximum(pools.servers.astype(np.int64) + delta, 0)
        )
        if not np.array_equal(slots, pools.servers):
            pools = reallocation.resize_pools(pools, slots, 24.0 * self.day)
        same_kind_data = all(
            np.array_equal(getattr(was, f), getattr(new, f))
            for f in ("duty", "weekends", "service_hours", "resolve_prob")
        )
        if not same_kind_data:
            pools = replace(
                pools,
                duty=new.duty,
                weekends=new.weekends,
                service_hours=new.service_hours,
                resolve_prob=new.resolve_prob,
            )
        moved = (was.staff_per_duty_day != new.staff_per_duty_day) | (slots != s.pools.servers)
        if moved.any():
            # staff cost per slot of the new configuration, for the slots the pool has
            # (pools the change does not touch keep theirs as they are)
            per_slot = np.divide(
                new.staff_per_duty_day,
                new.servers,
                out=np.divide(
                    pools.staff_per_duty_day,
                    pools.servers,
                    out=np.zeros(pools.n_pools),
                    where=pools.servers > 0,
                ),
                where=new.servers > 0,
            )
            staff = np.where(moved, per_slot * pools.servers, pools.staff_per_duty_day)
            pools = replace(pools, staff_per_duty_day=staff)
        rebuilt_agents = pools.n_pools != s.pools.n_pools or (
            scenario.levers.capability.workers_per_grid != old.levers.capability.workers_per_grid
            or scenario.levers.capability.county_extra_grid_workers
            != old.levers.capability.county_extra_grid_workers
        )
        s.pools = pools
        ra.base_slots = np.maximum(ra.base_slots + np.where(social, 0, delta), 0)
        ra.social_target = target
        ra.social_capacity = cap
        acc = s.accountability
        if params.accountability != self.params.accountability:
            acc.accountable = np.isin(pools.kind, params.accountability.accountable_kinds).astype(
                np.uint8
            )
            np.minimum(acc.effort, params.accountability.effort_max, out=acc.effort)
        if not params.warning.on:
            s.warning.patrol_mult[:] = 1.0
        if params.selfgov.share != self.params.selfgov.share:  # councils follow the lever
            s.selfgov.active = selfgov.active_communities(
                s.selfgov.active.shape[0], params.selfgov.share, s.seed
            )
        s.scenario = scenario
        self.params = params
        self.config = scenario
        self.metrics.ix = scenario.indices
        if rebuilt_agents:
            for a in list(self.agents):
                if isinstance(a, agents.PoolAgent):
                    a.remove()
            self._create_agents()

    def summary(self) -> dict[str, float]:
        """The run summary: metrics (``sim.metrics``), the early warning's scores and the
        configuration's yearly cost (:meth:`cost_breakdown`)."""
        yuan = sum(self.cost_breakdown().values())
        n = max(self.state.city.n_residents, 1)
        surfaced = float(np.sum(self.metrics.cols["surfaced"]))
        return {
            **self.metrics.summary(),
            **warning.warning_report(self.state.warning),
            **selfgov.selfgov_report(self.state.selfgov, surfaced),
            **keyperson.keyperson_report(self.state.keyperson),
            "cost_yuan": yuan,
            "cost_per_resident": yuan / n,
        }

    def cost_breakdown(self) -> dict[str, float]:
        """Yearly cost (yuan, simulated city) of the current configuration by item
        (:mod:`sim.kernels.costs`): the staff its pools are planned with, its platforms and
        programmes, and the early-warning work teams as funded."""
        s, p = self.state, self.params.costs
        staff = costs.staff_by_kind(build_pools(s.city, self.config), p.cases_per_staff)
        n_vuln = int(np.count_nonzero(s.city.vulnerability))
        return costs.yearly_cost(staff, s.city.n_residents, n_vuln, p)

    def resident(self, row: int) -> agents.ResidentView:
        """The resident in ``row`` as a Mesa agent (a view onto the arrays; cached)."""
        if not 0 <= row < self.state.city.n_residents:
            raise IndexError(f"resident {row} out of range 0..{self.state.city.n_residents - 1}")
        if row not in self._residents:
            self._residents[row] = agents.ResidentView(self, row)
        return self._residents[row]

    def staff_days_today(self, day: int) -> float:
        pl = self.state.pools
        on = (day % 7) < 5 or pl.weekends[pl.kind].astype(bool)
        return float(np.sum(pl.staff_per_duty_day * on))

    @contextmanager
    def _clock(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.state.stage_seconds[name] += time.perf_counter() - t0

    @contextmanager
    def using(self, kernels: Kernels):
        """Within the block, the day's work is done by ``kernels`` (e.g. the twins)."""
        saved = self.kernels
        self.kernels = kernels
        try:
            yield self
        finally:
            self.kernels = saved

    def step(self) -> None:
        """Advance one day; the day's metrics row is ``last_row`` (and in ``datacollector``).

        A city of fewer than ``serial_below`` residents runs the day on one numba thread.
        (Mesa wraps ``step`` and discards its return value.)
        """
        threads = numba.get_num_threads()
        if threads > 1 and self.state.city.n_residents < self.serial_below:
            numba.set_num_threads(1)
            try:
                self._day()
            finally:
                numba.set_num_threads(threads)
        else:
            self._day()

    def _day(self) -> None:
        """The day: each mechanism in order, its inputs and outputs at the call site."""
        s, p, k, d, seed = self.state, self.params, self.kernels, self.day, self.seed
        city, res, t, log = s.city, s.residents, s.issues, self.events
        if log is not None:
            log.start_day(d, d - self.metrics.day_offset)
        # 1 generate · 2 surface (key-person visits take their hours from patrols first)
        with self._clock("generate"):
            k.generate(t, city, res, p.generate, seed, d, s.generate_hits)
        with self._clock("surface"):
            visits = keyperson.visit_step(
                s.keyperson, t, city, s.pools, s.queue_len, s.warning.patrol_mult,
                p.keyperson, p.surface, seed, d,
            )  # fmt: skip
            k.surface(
                t, city, res, s.pools, s.queue_len, s.warning.patrol_mult, p.surface, seed, d,
                visits.hours_per_worker,
            )  # fmt: skip
        if log is not None:
            log.record_surfaced(t)
        # 3 committees settle local, minor new issues (由民自主); route the rest, then data
        #   misuse hits trust in its grid
        with self._clock("route"):
            selfgov.selfgov_step(t, city.grid_community, s.selfgov, p.selfgov, seed, d)
        was_routing = t.status == ROUTING
        with self._clock("route"):
            routed = k.route(t, s.pools, city, s.queue_len, city.age_group, p.route, seed, d)
        datagov.datagov_step(res.trust, city.grid_start, routed.misuse_by_grid, p.datagov)
        if log is not None:
            log.record_routed(t, was_routing)
            log.record_grids(MISUSE, routed.misuse_by_grid, city.grid_county)
        arrivals = reallocation.queue_arrivals(t, was_routing, s.pools)
        # 4 handle
        with self._clock("handle"):
            handled = k.handle(t, s.pools, s.accountability.effort, p.handle, seed, d)
        s.queue_len = handled.queue_len
        if log is not None:
            log.record_handled(t)
        kind_done, kind_resolved = measure.outcomes_by_kind(t, s.pools, d)
        starts = reallocation.services_started(t, s.pools.n_pools, d)
        # 5 escalate (early control damps flagged grids; mobilisation is yesterday's)
        with self._clock("escalate"):
            control = warning.early_control(s.warning, p.warning, city.n_grids)
            esc = k.escalate(
                t, city.n_grids, s.activation.mobilisation, control, s.pools, s.queue_len,
                res.trust, city.age_group, p.escalate, seed, d,
            )  # fmt: skip
        if log is not None:
            log.record_escalated(t, esc.codes)
        # 6 residents: own experience → participation, trust → activation; early warning;
        #   accountability. Trust and participation move on the residents' clock (every
        #   day, or every attitude_days days with compounded rates: sim.kernels.clock)
        with self._clock("dynamics"):
            every = s.scenario.attitude_days
            tick = on_clock(d, every)
            e = s.experience
            trust.own_experience(t, d, p.trust.slow_days, e)
            if tick:
                new_p = k.participation(
                    res.participation, city.nbr_indptr, city.nbr_indices, city.org_member,
                    e.n_resolved, e.n_failed, **p.participation.kwargs(), seed=seed,
                    trust=res.trust, out=s.participation_spare, neighbours=s.neighbours,
                )  # fmt: skip
                s.participation_spare, res.participation = res.participation, new_p
                new_x = k.trust(
                    res.trust, city.nbr_indptr, city.nbr_indices, e.n_resolved, e.n_slow,
                    e.n_transferred, e.n_failed, seed=seed, day=d, **p.trust.kwargs(),
                    grid_start=city.grid_start, out=s.trust_spare,
                )  # fmt: skip
                s.trust_spare, res.trust = res.trust, new_x
                e.clear()
                self._slow_means = None  # trust and participation moved
            unrest, team_staff = self._activation(d, count=True)
            flags = warning.warning_step(
                s.warning, t, city.grid_start, esc.collective_by_grid + unrest.onsets,
                p.warning, d,
            )  # fmt: skip
            accountability.accountability_step(
                s.accountability, t, s.accountability.accountable, p.accountability, seed, d
            )
            keyperson.watch_step(s.keyperson, t, p.keyperson, d)  # observed rows only
        if log is not None:  # activation onsets; flags that send a work team tomorrow
            log.record_grids(COLLECTIVE, unrest.onsets, city.grid_county)
            if p.warning.on:
                log.record_grids(WARNING, flags, city.grid_county)
        # 7 reallocate (monthly)
        with self._clock("reallocate"):
            s.pools = reallocation.reallocation_step(
                s.reallocation, s.pools, city, arrivals, starts, handled.pool_busy,
                p.reallocation, d,
            )  # fmt: skip
        # 8 measure
        with self._clock("measure"):
            counts, sums, res_days = k.measure(t, s.pools, p.measure, d)
            # today's incidents where they arose: petitions on their grid's middle block
            on_blocks = s.survey.to_blocks(esc.collective_by_grid) + unrest.block_onsets
            survey = measure.survey_step(
                s.survey, p.measure, t, city, res.trust, s.activation.felt,
                esc.collective_by_grid + unrest.onsets, d, on_blocks, every=every,
            )  # fmt: skip
            row = self.metrics.record(
                d,
                counts,
                sums,
                res_days,
                esc[:3],
                routed.misuse,
                self.staff_days_today(d) + team_staff,
                float(handled.pool_busy.sum()),
                *self._trust_participation_means(),
                kind_done=kind_done,
                kind_resolved=kind_resolved,
                unrest=unrest.incidents,
                # the mean of 0/1 flags, as a count (the same float, a tenth of the time)
                active_share=(
                    np.count_nonzero(s.activation.active) / city.n_residents
                    if city.n_residents
                    else 0.0
                ),
                warning_staff=team_staff,
                survey=survey,
            )
            if log is not None:
                log.record_closed(t)
            # closed rows leave the table every day (a third of its rows otherwise, walked
            # by every kernel that scans it); the sink gets them weekly, as it always has
            week_end = d % 7 == 6
            t.compact(24.0 * (d + 1), self.issue_sink, hold=not week_end)
            if week_end and log is not None:
                log.flush()
        self.day += 1
        self.last_row = row
        self.datacollector.collect(self)

    def _trust_participation_means(self) -> tuple[float, float]:
        """Mean trust and participation, recomputed only after they moved (on a clock of
        several days they stay put in between: sim.kernels.clock)."""
        if self._slow_means is None:
            res = self.state.residents
            n = self.state.city.n_residents
            self._slow_means = (
                float(res.trust.mean(dtype=np.float64)) if n else 0.0,
                float(res.participation.mean(dtype=np.float64)) if n else 0.0,
            )
        return self._slow_means

    def _activation(self, day: int, count: bool) -> tuple[activation.Unrest, float]:
        """Epstein activation of every resident on the city's blocks (stage 6), deterred by
        the grids' presence (shared among the blocks by residents) and yesterday's
        early-warning work teams. Returns the unrest and the teams' staff."""
        s, p, city, res = self.state, self.params, self.state.city, self.state.residents
        grid_sizes = np.diff(city.grid_start)
        presence = activation.presence(s.warning.patrol_mult, grid_sizes, p.activation)
        extra, team_staff = warning.team_presence(s.warning, p.warning, grid_sizes)
        if team_staff or extra.any():
            presence = presence + extra
        felt = activation.felt_hardship(
            city.hardship, s.issues, city.block_start, p.activation, day, s.activation.felt
        )
        unrest = activation.update(
            s.activation, self.kernels.activation, felt, res.trust, city.grid_start, presence,
            res.grievance, p.activation, self.seed, count, block_start=city.block_start,
        )  # fmt: skip
        return unrest, team_staff

    def run(self, days: int, progress: Callable[[int], None] | None = None) -> None:
        """Run up to ``days`` steps (fewer if ``running`` turns False), calling
        ``progress(day)`` after each."""
        for _ in range(days):
            if not self.running:
                break
            self.step()
            if progress is not None:
                progress(self.day)
