"""The daily-stage kernels against their plain-Python twins, and invariants of a run.

Twins (``tests/reference/``) draw the same counter-based random numbers as the kernels,
so every stage must leave the state bit for bit as its kernel does: each issue column,
the pools' ``free_at`` and ``pool_queue_len``, and the stage's return value.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections import Counter

import numba
import numpy as np
import pytest
from reference import escalate as ref_escalate
from reference import generate as ref_generate
from reference import handle as ref_handle
from reference import measure as ref_measure
from reference import route as ref_route
from reference import surface as ref_surface
from reference.step import reference_step

from sim.city import build_city
from sim.issues import (
    FIRST_CLOSED,
    IN_SERVICE,
    ISSUE_FIELDS,
    LATENT,
    LEVEL_NONE,
    LEVEL_PETITION,
    N_CHANNELS,
    N_STATUS,
    NEXT_DIVERT,
    NEXT_PETITION,
    QUEUED,
    RESOLVED,
    ROUTING,
)
from sim.kernels.escalate import escalate_step
from sim.kernels.generate import generate_step
from sim.kernels.handle import handle_step
from sim.kernels.measure import measure_step
from sim.kernels.route import route_step
from sim.kernels.surface import surface_step
from sim.kernels.warning import early_control
from sim.metrics_schema import DAILY_COLUMNS
from sim.model import GovernanceModel, Parameters
from sim.rng import uniform, uniform_py
from sim.scenario.schema import Scenario


def on_state(stage: str, fn):
    """``fn`` (a kernel or its twin) as ``f(state, day)``: its inputs taken from a
    :class:`sim.model.ModelState` as :meth:`GovernanceModel.step` passes them, its
    outputs that the model keeps written back (handling's queues)."""

    def call(state, day: int):
        p = Parameters.from_scenario(state.scenario, state.city, state.seed)
        t, city, pl, seed = state.issues, state.city, state.pools, state.seed
        res = state.residents
        if stage == "generate":
            return fn(t, city, res, p.generate, seed, day, state.generate_hits)
        if stage == "surface":
            return fn(
                t, city, res, pl, state.queue_len, state.warning.patrol_mult, p.surface, seed, day
            )
        if stage == "route":
            return fn(t, pl, city, state.queue_len, city.age_group, p.route, seed, day)
        if stage == "handle":
            out = fn(t, pl, state.accountability.effort, p.handle, seed, day)
            state.queue_len = out.queue_len
            return out
        if stage == "escalate":
            control = early_control(state.warning, p.warning, city.n_grids)
            return fn(
                t, city.n_grids, state.activation.mobilisation, control, pl, state.queue_len,
                res.trust, city.age_group, p.escalate, seed, day,
            )  # fmt: skip
        return fn(t, pl, p.measure, day)

    call.__name__ = getattr(fn, "__name__", stage)
    return call


STAGES = {  # in the order of GovernanceModel.step: name -> (kernel, twin)
    name: (on_state(name, kernel), on_state(name, twin))
    for name, kernel, twin in (
        ("generate", generate_step, ref_generate.generate_step),
        ("surface", surface_step, ref_surface.surface_step),
        ("route", route_step, ref_route.route_step),
        ("handle", handle_step, ref_handle.handle_step),
        ("escalate", escalate_step, ref_escalate.escalate_step),
        ("measure", measure_step, ref_measure.measure_step),
    )
}
ZERO_RATES = {"enquiry": 0.0, "need": 0.0, "dispute": 0.0, "risk": 0.0}
VARIANTS: dict[str, dict[str, object]] = {
    "default": {},
    "severity": {"handling.priority": "severity"},
    "risk": {"handling.priority": "risk", "escalation.grace_days": 2.0},
    "equity": {"handling.priority": "equity", "levers.capability.online_mediation": True},
    "siloed": {"levers.data.centre_integration": 0.0, "levers.system.coordination_group": False},
    "centre": {
        "levers.data.centre_integration": 1.0,
        "levers.data.unified_data_standards": True,
        "levers.data.data_sharing": 1.0,
        "levers.capability.online_mediation": True,
    },
    "workers3": {"levers.capability.workers_per_grid": 3, "handling.priority": "risk"},
    "diversion": {  # disputes bound for court are diverted online first (诉源治理)
        "levers.capability.online_mediation": True,
        "levers.capability.digital_inclusion": 0.5,
        "escalation.failure_litigation_prob": 1.0,
        # a high hazard, so that a diverted case is still open on the compared days
        # (closed rows leave the table the day they close)
        "escalation.litigation_hazard": 0.5,
        "escalation.grace_days": 2.0,
    },
    "no_orgs": {  # social and mass organisations get 0 servers
        "levers.system.social_org_budget_yuan_per_resident": 0.0,
        "levers.system.mass_org_push": 0.0,
    },
    "probs_1": {
        "handling.referral_prob": 1.0,
        "handling.need_retry_prob": 1.0,
        "routing.grid_on_spot_share": 1.0,
        "routing.misuse_risk_per_use": 1.0,
        "escalation.failure_litigation_prob": 1.0,
        "escalation.grace_days": 0.0,
        "escalation.collective_prob": 1.0,
        "escalation.collective_severity": 0.0,
        "escalation.petition_hazard": 1.0,
    },
    "probs_0": {
        "handling.referral_prob": 0.0,
        "handling.need_retry_prob": 0.0,
        "routing.grid_on_spot_share": 0.0,
        "routing.misuse_risk_per_use": 0.0,
        "escalation.failure_litigation_prob": 0.0,
        "escalation.litigation_hazard": 0.0,
        "escalation.petition_hazard": 0.0,
        "levers.data.data_sharing": 0.0,
    },
}
SEEDS = (7, 20231129)
WARM_DAYS = 32  # then stages are compared on days 32, 33, 34 (Fri, Sat, Sun + compaction)
COMPARE_DAYS = 3


def make_scenario(settings: dict[str, object], scale: float = 0.001) -> Scenario:
    """A validated scenario from dotted overrides, like ``--set key.path=value``."""
    # no warm-up: these tests step the model day by day from day 0 themselves
    data: dict = {"name": "t", "scale": scale, "warmup_days": 0}
    for path, value in settings.items():
        *parents, leaf = path.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return Scenario.model_validate(data)


@functools.cache
def city_for(seed: int, scale: float = 0.001):
    """One city per seed, built once and shared by the models (a run never writes it)."""
    return build_city(make_scenario({"seed": seed}, scale))


def build_model(settings: dict[str, object], seed: int, scale: float = 0.001):
    return GovernanceModel(make_scenario(settings, scale), seed=seed, city=city_for(seed, scale))


@pytest.fixture(autouse=True, scope="module")
def one_numba_thread():
    """Run kernels on one thread here: results do not depend on it (see
    test_results_do_not_depend_on_thread_count), and tiny parallel kernels are much
    slower on a busy machine."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def copy_state(state):
    """A deep copy of the model state (its residents' state included) that shares the
    read-only city and the scenario."""
    return copy.deepcopy(
        state, memo={id(state.city): state.city, id(state.scenario): state.scenario}
    )


def end_of_day(state, day: int) -> None:
    """The bookkeeping of GovernanceModel.step after the stages (daily compaction)."""
    state.issues.compact(24.0 * (day + 1), None, hold=day % 7 != 6)


@functools.cache
def snapshots(variant: str, seed: int) -> dict[tuple[str, int], object]:
    """State just before each stage on each compared day, after a kernel warm-up."""
    model = build_model(VARIANTS[variant], seed)
    model.run(WARM_DAYS)
    state = model.state
    out = {}
    for day in range(WARM_DAYS, WARM_DAYS + COMPARE_DAYS):
        for name, (kernel, _) in STAGES.items():
            out[name, day] = copy_state(state)
            kernel(state, day)
        end_of_day(state, day)
    return out


def assert_same_state(kernel_state, twin_state, what: str) -> None:
    ki, ti = kernel_state.issues, twin_state.issues
    assert ti.n == ki.n, f"{what}: number of rows"
    assert ti.next_iid == ki.next_iid, f"{what}: next_iid"
    for name in ISSUE_FIELDS:
        assert ti.cols[name].dtype == ki.cols[name].dtype, f"{what}: dtype of {name}"
        np.testing.assert_array_equal(
            getattr(ti, name), getattr(ki, name), err_msg=f"{what}: column {name}", strict=True
        )
    np.testing.assert_array_equal(
        twin_state.pools.free_at, kernel_state.pools.free_at, err_msg=f"{what}: free_at"
    )
    np.testing.assert_array_equal(
        twin_state.pool_queue_len,
        kernel_state.pool_queue_len,
        err_msg=f"{what}: pool_queue_len",
        strict=True,
    )


def assert_stage_matches(state, stage: str, day: int, what: str = "") -> None:
    """Run the kernel and the twin of ``stage`` on copies of ``state``; compare all."""
    kernel, twin = STAGES[stage]
    k_state, t_state = copy_state(state), copy_state(state)
    k_out = kernel(k_state, day)
    t_out = twin(t_state, day)
    label = f"{stage} day {day} {what}".strip()
    np.testing.assert_equal(t_out, k_out, err_msg=f"{label}: return value")
    assert type(t_out) is type(k_out), f"{label}: return type"
    assert_same_state(k_state, t_state, label)


# --------------------------------------------------------------------------- rng


@pytest.mark.twin
def test_uniform_matches_python_twin_bit_for_bit():
    rng = np.random.default_rng(12345)
    counters = [
        (0, 0, 0, 0),
        (1, 1, 1, 1),
        (20231129, 1, 0, 6_700_000),
        (20231129, 43, 36_499, 2**62),
        (2**63 - 1, 2**62, 2**40, 2**63 - 1),
        (7, 24, 100, 0x5BD1E995),
        (7, 32, 100, 2**62 + 0x632BE5AB),
    ]
    for _ in range(300):
        counters.append(
            (
                int(rng.integers(0, 2**63 - 1)),
                int(rng.integers(0, 64)),
                int(rng.integers(0, 36_500)),
                int(rng.integers(0, 2**62)) if rng.random() < 0.5 else int(rng.integers(0, 10**7)),
            )
        )
    for c in counters:
        fast, slow = uniform(*c), uniform_py(*c)
        assert fast == slow, c
        assert 0.0 <= slow < 1.0, c


# ------------------------------------------------------------- stage vs its twin


def test_variants_include_zero_server_pools():
    pools = build_model(VARIANTS["no_orgs"], SEEDS[0]).state.pools
    assert pools.servers[pools.online_pool] == 0  # online mediation off
    assert (pools.servers[pools.social_pool] == 0).all()
    assert (pools.servers[pools.mass_pool] == 0).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(  # one variant also runs without JIT (marker twin: .ci/run)
    "variant", [pytest.param(v, marks=pytest.mark.twin) if v == "centre" else v for v in VARIANTS]
)
@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_matches_twin(stage, variant, seed):
    snaps = snapshots(variant, seed)
    for day in range(WARM_DAYS, WARM_DAYS + COMPARE_DAYS):
        assert_stage_matches(snaps[stage, day], stage, day, f"({variant}, seed {seed})")


def test_snapshots_have_a_realistic_mix():
    """The compared states hold issues in every open state (else the test proves little)."""
    for variant in ("default", "centre"):
        state = snapshots(variant, SEEDS[1])["route", WARM_DAYS]
        counts = state.issues.status_counts()
        assert (counts[:FIRST_CLOSED] > 0).all(), (variant, counts)
    t = snapshots("diversion", SEEDS[1])["route", WARM_DAYS + 2].issues
    assert ((t.diverted == 1) & (t.status < FIRST_CLOSED)).sum() > 0  # an open diverted case


@pytest.mark.twin
@pytest.mark.parametrize("variant", ["default", "probs_1"])
def test_days_without_issues(variant):
    """Generation rates of 0: no issue ever arises; every stage runs on an empty table."""
    settings = {**VARIANTS[variant], "generation.rate_per_resident_year": ZERO_RATES}
    state = build_model(settings, SEEDS[0]).state
    for day in range(3):
        for stage, (kernel, _) in STAGES.items():
            assert_stage_matches(state, stage, day)
            kernel(state, day)
        assert state.issues.n == 0


def force_status(state, status: int, day: int, seed: int) -> None:
    """Put every row into ``status`` with plausible fields (edge case: all in one state)."""
    t, pl = state.issues, state.pools
    rng = np.random.default_rng(seed)
    n = t.n
    day0 = 24.0 * day
    t.status[:] = status
    t.level[:] = LEVEL_NONE
    for name in ("t_surfaced", "t_ready", "t_start", "t_done", "t_closed"):
        getattr(t, name)[:] = np.nan
    if status == LATENT:
        t.channel[:] = -1
        t.pool[:] = -1
        t.tier[:] = 0
        return
    t.t_surfaced[:] = t.t_created + rng.uniform(0.0, 24.0, n)
    t.channel[:] = rng.integers(0, N_CHANNELS, n)
    t.diverted[:] = rng.integers(0, 2, n)
    if status == ROUTING:
        t.next_step[:] = rng.integers(0, NEXT_DIVERT + 1, n)
        t.tier[:] = rng.integers(0, 5, n)
        t.level[t.next_step == NEXT_PETITION] = LEVEL_PETITION
        t.t_ready[:] = t.t_surfaced
    elif status == QUEUED:  # some in pools without servers, some arriving later
        t.pool[:] = rng.integers(0, pl.n_pools, n)
        t.t_ready[:] = day0 + rng.uniform(-48.0, 30.0, n)
    elif status == IN_SERVICE:
        staffed = np.flatnonzero(pl.servers > 0)
        t.pool[:] = staffed[rng.integers(0, staffed.shape[0], n)]
        t.t_start[:] = day0 + rng.uniform(-48.0, 0.0, n)
        t.t_done[:] = day0 + rng.uniform(-24.0, 48.0, n)
        t.t_ready[:] = t.t_start
    else:  # closed, half of them today
        t.t_closed[:] = day0 + rng.uniform(-24.0, 24.0, n)
        t.pool[:] = rng.integers(-1, pl.n_pools, n)


@pytest.mark.parametrize("status", [LATENT, ROUTING, QUEUED, IN_SERVICE, RESOLVED])
@pytest.mark.parametrize("variant", ["default", "no_orgs", "diversion"])
def test_all_issues_in_one_state(status, variant):
    day = WARM_DAYS
    state = copy_state(snapshots(variant, SEEDS[1])["generate", day])
    assert state.issues.n > 50
    force_status(state, status, day, seed=status)
    for stage in STAGES:
        assert_stage_matches(state, stage, day, f"(all status {status}, {variant})")


@pytest.mark.parametrize("variant", ["default", "diversion", "no_orgs"])
def test_reference_step_matches_model_step(variant):
    """A whole day with the twins (reference_step) equals GovernanceModel.step."""
    fast, slow = build_model(VARIANTS[variant], SEEDS[0]), build_model(VARIANTS[variant], SEEDS[0])
    sunk: dict[str, list] = {"fast": [], "slow": []}
    fast.issue_sink = sunk["fast"].append
    slow.issue_sink = sunk["slow"].append
    for _ in range(9):  # includes the weekly compaction after day 6
        fast.step()  # Mesa's wrapper returns None; the row is in last_row
        row_slow = reference_step(slow)
        assert row_slow is slow.last_row
        np.testing.assert_equal(row_slow, fast.last_row, err_msg=f"day {fast.day - 1}")
        assert_same_state(fast.state, slow.state, f"day {fast.day - 1}")
    assert slow.day == fast.day == 9
    assert len(sunk["slow"]) == len(sunk["fast"]) == 1
    for name in ISSUE_FIELDS:
        np.testing.assert_array_equal(sunk["slow"][0][name], sunk["fast"][0][name])
    assert all(v > 0 for v in slow.state.stage_seconds.values())


def test_results_do_not_depend_on_thread_count():
    n_threads = numba.config.NUMBA_NUM_THREADS
    if n_threads < 2:
        pytest.skip("numba has a single thread here")
    models = []
    for threads in (1, n_threads):
        numba.set_num_threads(threads)
        try:
            model = build_model(VARIANTS["centre"], SEEDS[0])
            model.serial_below = 0  # a small city would otherwise step on one thread
            model.run(10)
        finally:
            numba.set_num_threads(1)
        models.append(model)
    assert_same_state(*(m.state for m in models), "1 thread vs all")
    np.testing.assert_equal(models[0].metrics.cols, models[1].metrics.cols)


# -------------------------------------------------------------------- invariants


class RunRecorder:
    """Sink for compacted rows and live checks after every day's handle stage."""

    def __init__(self, model):
        self.model = model
        self.closed: list[dict[str, np.ndarray]] = []
        self.services: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # pool, start, done
        self.day = 0

    def sink(self, cols: dict[str, np.ndarray]) -> None:
        assert (cols["status"] >= FIRST_CLOSED).all()
        self.closed.append(cols)

    def handle(self, issues, pools, effort, p, seed, day: int):
        out = handle_step(issues, pools, effort, p, seed, day)
        t, pl = issues, pools
        # every service started today, with the pool that gave it
        started = (t.t_start >= 24.0 * day) & (t.t_start < 24.0 * day + 24.0)
        self.services.append((t.pool[started].copy(), t.t_start[started], t.t_done[started]))
        # cases still in service: each holds one slot of its pool until t_done
        in_service = t.status == IN_SERVICE
        assert (t.t_done[in_service] >= 24.0 * day + 24.0).all()
        per_pool = np.bincount(t.pool[in_service], minlength=pl.n_pools)
        over = np.flatnonzero(per_pool > pl.servers)
        assert over.size == 0, f"day {day}: pools {over} exceed their servers"
        for p in np.flatnonzero(per_pool):
            slots = Counter(pl.free_at[pl.server_ptr[p] : pl.server_ptr[p + 1]].tolist())
            held = Counter(t.t_done[in_service & (t.pool == p)].tolist())
            assert not held - slots, f"day {day}: pool {p} cases in service hold no slot"
        return out


def max_concurrent(starts: np.ndarray, ends: np.ndarray) -> int:
    """Most intervals [start, end) open at once (an end at t frees before a start at t)."""
    events = sorted([(e, 0) for e in ends.tolist()] + [(s, 1) for s in starts.tolist()])
    now = peak = 0
    for _, is_start in events:
        now += 1 if is_start else -1
        peak = max(peak, now)
    return peak


@pytest.mark.parametrize("variant", ["default", "workers3", "centre"])
def test_run_invariants(variant, monkeypatch):
    days = 60
    model = build_model(VARIANTS[variant], SEEDS[1], scale=0.002)
    rec = RunRecorder(model)
    model.issue_sink = rec.sink
    model.kernels = dataclasses.replace(model.kernels, handle=rec.handle)
    for day in range(days):
        model.step()
        t = model.state.issues
        assert (t.status < N_STATUS).all(), f"day {day}: invalid status"
        closed = t.status >= FIRST_CLOSED
        assert (np.isnan(t.t_closed) == ~closed).all(), f"day {day}: t_closed vs status"
        n_sunk = sum(c["iid"].shape[0] for c in rec.closed)
        n_held = sum(c["iid"].shape[0] for c in t.held)  # closed, for the week's sink call
        assert t.n + n_held + n_sunk == t.next_iid, f"day {day}: open + closed != created"
    t = model.state.issues
    t.compact(np.inf, rec.sink)  # as a run ends (sim.run): the week's held rows to the sink
    assert not t.held and not (t.status >= FIRST_CLOSED).any()

    # every issue ever created is in exactly one place, with one valid status
    iids = np.concatenate([c["iid"] for c in rec.closed] + [t.iid])
    np.testing.assert_array_equal(np.sort(iids), np.arange(t.next_iid))
    status = np.concatenate([c["status"] for c in rec.closed] + [t.status])
    assert rec.closed and t.next_iid > 1000

    # daily metrics: counts never negative; totals agree with the issue rows
    daily = model.metrics.daily_arrays()
    for name, (_, _, unit) in DAILY_COLUMNS.items():
        if unit in ("count", "staff-days", "hours"):
            assert (daily[name] >= 0).all(), name
    assert daily["new_issues"].sum() == t.next_iid
    closures = sum(daily[k].sum() for k in ("resolved", "failed", "abandoned", "litigated"))
    assert closures == (status >= FIRST_CLOSED).sum()

    # no pool ever serves more cases at once than it has servers (all services, replayed)
    pool = np.concatenate([s[0] for s in rec.services])
    start = np.concatenate([s[1] for s in rec.services])
    done = np.concatenate([s[2] for s in rec.services])
    servers = model.state.pools.servers
    assert pool.size > 500
    for p in np.unique(pool):
        mine = (pool == p) & (done > start)
        assert max_concurrent(start[mine], done[mine]) <= servers[p], f"pool {p}"


# ------------------------------------------------------------------ regressions


def test_every_closure_is_counted_in_the_daily_metrics():
    model = build_model({"handling.referral_prob": 1.0}, 20231129, scale=0.002)
    closed: list[np.ndarray] = []
    model.issue_sink = lambda cols: closed.append(cols["status"])
    model.run(120)
    held = [c["status"] for c in model.state.issues.held]  # closed this week, not yet sunk
    status = np.concatenate([*closed, *held, model.state.issues.status])
    daily = model.metrics.daily_arrays()
    closures = sum(daily[k].sum() for k in ("resolved", "failed", "abandoned", "litigated"))
    assert closures == (status >= FIRST_CLOSED).sum()


def test_escalation_not_before_surfacing():
    model = build_model(
        {"escalation.litigation_hazard": 0.3, "escalation.petition_hazard": 0.3},
        20231129,
        scale=0.002,
    )
    closed: list[dict[str, np.ndarray]] = []
    model.issue_sink = closed.append
    model.run(40)
    t_closed = np.concatenate([c["t_closed"] for c in closed])
    t_surfaced = np.concatenate([c["t_surfaced"] for c in closed])
    surfaced = ~np.isnan(t_surfaced)
    assert (t_closed[surfaced] >= t_surfaced[surfaced]).all()
