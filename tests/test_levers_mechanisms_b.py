"""Levers of issue 12 (deliverable 1, part b): each switched through the real model, and
the mechanism it acts through shown moving.

- fine grids (精网微格): incidents on fixed blocks, grids redrawn over the same residents;
- social organisations: funded capacity on a ramp, spill-back when full;
- urban–rural integration: the gap from supply, staffing and travel, closed only by what
  integration moves;
- reallocation by workload (hours), not case counts;
- early warning from observed signals only (no hidden state read), one deterrence;
- queues: Erlang-A abandonment feeding residents' experience.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import statistics

import numpy as np
import pytest

from sim.city import build_city
from sim.city.build import redraw_grids
from sim.issues import ABANDONED, CAT_DISPUTE, CAT_NEED, LATENT, QUEUED
from sim.kernels import activation, handle, reallocation, warning
from sim.model import GovernanceModel
from sim.pools import K_DEPARTMENT, K_GRID, K_MEDIATION, K_SOCIAL, build_pools
from sim.queueing import erlang_a
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.validation.queueing import queue_alone

BASELINE = "scenarios/yancheng.toml"
SMALL = ("scale=0.003", "warmup_days=0")
EQUAL_STAFF = (
    "levers.capability.residents_per_grid=333",
    "levers.capability.grids_per_worker=3",
)


def _scenario(*sets: str) -> Scenario:
    return load_scenario(BASELINE, [*SMALL, *sets])


# ----------------------------------------------------------------------- fine grids


def test_redrawn_grids_keep_the_residents():
    sc = _scenario()
    city = build_city(sc)
    fine = redraw_grids(city, 333, sc.city.rural_grid_size_ratio)
    assert fine.n_grids > 2.5 * city.n_grids
    for name in ("hardship", "household", "county", "urban", "nbr_indices", "block_start"):
        assert np.array_equal(getattr(fine, name), getattr(city, name)), name
    assert np.array_equal(fine.initial.trust, city.initial.trust)
    # every grid inside one county part; households never split
    assert np.array_equal(fine.county, fine.grid_county[fine.grid])
    same_hh = fine.household[1:] == fine.household[:-1]
    assert np.all(fine.grid[1:][same_hh] == fine.grid[:-1][same_hh])
    # a scenario with finer grids builds exactly that city: same residents
    built = build_city(_scenario("levers.capability.residents_per_grid=333"))
    for name in ("grid_start", "grid_town", "grid_community", "grid_urban", "grid_county"):
        assert np.array_equal(getattr(built, name), getattr(fine, name)), name
    assert np.array_equal(built.hardship, city.hardship)


def test_equal_staff_beats_have_the_baseline_workers():
    base_sc = _scenario("scale=0.02")
    fine_sc = _scenario("scale=0.02", *EQUAL_STAFF)
    base, fine = build_city(base_sc), build_city(fine_sc)
    pools = [build_pools(base, base_sc), build_pools(fine, fine_sc)]
    workers = [int(pl.servers[pl.kind == K_GRID].sum()) for pl in pools]
    assert fine.n_grids > 2.5 * base.n_grids
    assert abs(workers[1] - workers[0]) <= 0.03 * workers[0]  # the same grid workers
    # a beat pool serves about three grids
    per_beat = np.bincount(pools[1].grid_pool)
    per_beat = per_beat[per_beat > 0]
    assert 2.5 <= per_beat.mean() <= 3.5 and per_beat.max() <= 4


def test_block_activation_ignores_the_grid_drawing():
    """Same residents, same presence per resident: Epstein's rule on blocks gives the
    same actives whatever the grids (the old per-grid rule would not)."""
    sc = _scenario()
    city = build_city(sc)
    fine = redraw_grids(city, 333, sc.city.rural_grid_size_ratio)
    p = activation.Params.from_scenario(sc)
    out = []
    for c in (city, fine):
        n_g = np.diff(c.grid_start).astype(np.float64)
        c_g = activation.enforcement_presence(
            n_g / 1000.0, p.presence_per_1000 * n_g / 1000.0, p.worker_weight, c.n_grids
        )  # one worker per 1,000 residents in both drawings: the same presence
        state = activation.State.start(c.n_residents, c.n_grids, c.n_blocks)
        trust = c.initial.trust.copy()
        g = np.empty(c.n_residents, dtype=np.float32)
        felt = np.minimum(np.float32(1.0), c.hardship * np.float32(1.6))  # many actives
        for _ in range(10):
            unrest = activation.update(
                state, activation.activation_step, felt, trust, c.grid_start, c_g, g, p,
                seed=7, count=True, block_start=c.block_start,
            )  # fmt: skip
        out.append((state.active.copy(), unrest.incidents, state.block_incident.copy()))
    assert out[0][0].sum() > 0
    assert np.array_equal(out[0][0], out[1][0])
    assert np.array_equal(out[0][2], out[1][2])


def test_presence_and_mobilisation_move_between_grids_and_blocks():
    grid_start = np.array([0, 300, 600, 1000, 1300], dtype=np.int64)
    block_start = np.array([0, 1000, 1300], dtype=np.int64)
    c_g = np.array([1.0, 1.0, 2.0, 3.0])
    c_b = activation.grids_to_blocks(c_g, grid_start, block_start)
    np.testing.assert_allclose(c_b, [4.0, 3.0])  # totals kept; a block = one grid: exact
    m_g = activation.blocks_to_grids(np.array([0.5, 1.0]), block_start, grid_start)
    np.testing.assert_allclose(m_g, [0.5, 0.5, 0.5, 1.0])
    straddle = np.array([0, 700, 1300], dtype=np.int64)
    np.testing.assert_allclose(
        activation.blocks_to_grids(np.array([0.5, 1.0]), block_start, straddle),
        [0.5, (300 * 0.5 + 300 * 1.0) / 600],
    )


ESCALATING = (
    "escalation.petition_hazard=0.1",
    "escalation.grace_days=2",
    "escalation.mobilisation_exponent=0",
    "escalation.collective_severity=0.3",
)


def _incidents(sc: Scenario, seed: int, days: int) -> int:
    m = GovernanceModel(sc, seed=seed)
    m.run(days)
    s = m.summary()
    return int(s["escalations_collective"] + s["unrest_incidents"])


@pytest.mark.slow
def test_redrawing_grids_at_equal_staff_leaves_incidents_unchanged():
    """Must hold (issue 12): the same residents with grids redrawn at equal staff make as
    many collective incidents, within sampling error, over paired seeds."""
    sets = ("scale=0.005", "warmup_days=30", *ESCALATING)
    base = load_scenario(BASELINE, list(sets))
    fine = load_scenario(BASELINE, [*sets, *EQUAL_STAFF])
    diffs, totals = [], []
    for seed in range(6):
        a, b = _incidents(base, seed, 365), _incidents(fine, seed, 365)
        diffs.append(b - a)
        totals.append(a)
    assert sum(totals) >= 30  # enough incidents to compare
    mean = statistics.fmean(diffs)
    se = statistics.stdev(diffs) / math.sqrt(len(diffs))
    assert abs(mean) <= 2.5 * se + 0.5, (diffs, totals)
    assert abs(mean) <= 0.2 * statistics.fmean(totals) + 1.0, (diffs, totals)


# --------------------------------------------------------------- social organisations


def test_social_org_capacity_follows_the_funding_ramp():
    sc = _scenario("levers.system.social_org_budget_yuan_per_resident=6.0",
                   "levers.community.multi_actor_participation=0.8",
                   "reallocation.social_org_ramp_days=120")  # fmt: skip
    m = GovernanceModel(sc)
    social = m.state.pools.kind == K_SOCIAL
    target = m.state.reallocation.social_target[social]
    path = [m.state.pools.servers[social].sum()]
    for _ in range(5):
        m.run(30)
        path.append(m.state.pools.servers[social].sum())
    assert path[0] < target.sum()
    assert all(a <= b for a, b in zip(path, path[1:], strict=False))
    assert path[1] > path[0]  # grows from the first month on (no year-long lag)
    assert path[-1] == pytest.approx(target.sum(), abs=float(social.sum()))  # in 120 days


def test_social_orgs_spill_back_when_full():
    """A full social organisation keeps only what it can start within its wait limit; the
    rest goes back (disputes to the town's mediation, others to dispatch)."""
    sets = ("levers.system.social_org_budget_yuan_per_resident=6.0",
            "levers.community.multi_actor_participation=0.8",
            "surfacing.social_org_detection=0.05")  # fmt: skip
    spilled, queue = [], []
    for wait in (0.5, 60.0):
        m = GovernanceModel(_scenario(*sets, f"handling.social_org_max_wait_days={wait}"))
        total = []

        def counting(*args, _real=m.kernels.handle, _total=total):
            out = _real(*args)
            _total.append(out.spilled)
            return out

        m.kernels = dataclasses.replace(m.kernels, handle=counting)
        q = []
        for _ in range(60):
            m.step()
            q.append(m.state.queue_len[m.state.pools.kind == K_SOCIAL].sum())
        spilled.append(sum(total))
        queue.append(np.mean(q))
    assert spilled[0] > 0 and spilled[0] > 5 * spilled[1]
    assert queue[0] < queue[1]


def test_spill_back_moves_the_excess_to_the_default_pool():
    m = GovernanceModel(_scenario("levers.system.social_org_budget_yuan_per_resident=6.0",
                                  "levers.community.multi_actor_participation=0.8"))  # fmt: skip
    t, pl = m.state.issues, m.state.pools
    sp = int(np.flatnonzero(pl.kind == K_SOCIAL)[0])
    c = int(pl.servers[sp])
    n = 200
    t.reserve(n)
    rows = np.arange(t.n, t.n + n)
    t.n += n
    t.status[rows] = QUEUED
    t.pool[rows] = sp
    t.category[rows] = np.where(np.arange(n) % 2 == 0, CAT_DISPUTE, CAT_NEED)
    t.t_ready[rows] = np.arange(n, dtype=float) * 0.01
    t.iid[rows] = np.arange(n) + 10_000_000
    t.grid[rows] = np.flatnonzero(pl.grid_mediation >= 0)[0]
    hours = pl.service_hours[K_SOCIAL, t.category[rows]]
    room = c * (pl.duty[K_SOCIAL, 1] - pl.duty[K_SOCIAL, 0]) * 20.0
    kept_want = int(np.searchsorted(np.cumsum(hours), room, side="right"))
    moved = handle.spill_back(t, pl, 20.0, day=0)
    assert moved == n - kept_want > 0 and kept_want > 0
    stayed = rows[(t.pool[rows] == sp) & (t.status[rows] == QUEUED)]
    assert stayed.size == kept_want and np.all(stayed == rows[:kept_want])  # oldest kept
    gone = rows[kept_want:]
    disputes = gone[t.category[gone] == CAT_DISPUTE]
    assert np.all(pl.kind[t.pool[disputes]] == K_MEDIATION)
    others = gone[t.category[gone] != CAT_DISPUTE]
    assert np.all(t.status[others] == 1)  # ROUTING: back to dispatch


# ----------------------------------------------------------------- urban–rural gap


def test_integration_moves_public_service_supply_with_the_total_kept():
    base = _scenario()
    f_u = sum(c.population * c.urban_share for c in base.city.counties) / sum(
        c.population for c in base.city.counties
    )
    eps = base.handling.service_supply_elasticity
    for w in (0.0, 0.5, 1.0):
        sc = _scenario(f"levers.community.urban_rural_integration={w}")
        rural, urban = handle.service_supply(sc)
        s_r, s_u = rural ** (1 / eps), urban ** (1 / eps)
        assert f_u * s_u + (1 - f_u) * s_r == pytest.approx(1.0)  # resources moved, not made
        if w < 1.0:
            assert rural < 1.0 < urban
    assert handle.service_supply(_scenario("levers.community.urban_rural_integration=1.0")) == (
        pytest.approx(1.0),
        pytest.approx(1.0),
    )


def test_rural_gap_from_grid_size_travel_and_capacity():
    sc = _scenario("scale=0.02")
    c = build_city(sc)
    sizes = np.diff(c.grid_start)
    assert sizes[c.grid_urban == 0].mean() > 1.2 * sizes[c.grid_urban == 1].mean()
    p = handle.Params.from_scenario(sc)
    assert p.travel_h[K_GRID] > 0 and p.travel_h[K_DEPARTMENT] > 0
    # integration moves department slots toward the countryside, the total kept
    pl = build_pools(c, sc)
    moved = build_pools(c, _scenario("scale=0.02", "levers.community.urban_rural_integration=1"))
    dept = pl.kind == K_DEPARTMENT
    total = int(pl.servers[dept].sum())
    assert abs(int(moved.servers[dept].sum()) - total) <= 0.02 * total
    shares = np.array([cc.urban_share for cc in sc.city.counties])
    town = dept & (pl.county == int(np.argmax(shares)))  # the most urban county gives up
    assert moved.servers[town].sum() < pl.servers[town].sum()
    country = dept & np.isin(pl.county, np.flatnonzero(shares < np.median(shares)))
    assert moved.servers[country].sum() > pl.servers[country].sum()


@pytest.mark.slow
def test_integration_narrows_the_gap_but_travel_and_grids_remain():
    gaps = {}
    for w in (0.0, 1.0):
        vals = []
        for seed in range(3):
            sc = load_scenario(
                BASELINE, ["scale=0.005", f"levers.community.urban_rural_integration={w}"]
            )
            m = GovernanceModel(sc, seed=seed)
            m.run(240)
            vals.append(m.summary()["urban_rural_gap"])
        gaps[w] = statistics.fmean(vals)
    assert gaps[1.0] < gaps[0.0]
    assert gaps[0.0] > 0.02


def test_equity_rule_is_not_siloed_at_zero_integration():
    sets = ("levers.community.urban_rural_integration=0.0", "reallocation.period_days=30")
    silo = GovernanceModel(_scenario(*sets))
    equity = GovernanceModel(_scenario(*sets, "levers.capability.resource_allocation=equity"))
    for m in (silo, equity):
        m.run(30)
    assert not np.array_equal(silo.state.pools.servers, equity.state.pools.servers)


# -------------------------------------------------------------- reallocation by work


def test_pooled_reallocation_follows_hours_not_case_counts():
    m = GovernanceModel(_scenario("levers.capability.resource_allocation=pooled",
                                  "levers.data.data_sharing=1.0"))  # fmt: skip
    s, pl = m.state, m.state.pools
    idx = np.flatnonzero(pl.kind == K_DEPARTMENT)
    period = m.params.reallocation.period_days
    cases = np.zeros(pl.n_pools)
    cases[idx] = 2.0 * period  # the same number of cases everywhere
    hours = cases * 2.0
    heavy, light = idx[0], idx[1]
    hours[heavy] = cases[heavy] * 8.0  # four times the work per case
    ra = reallocation.State.start(pl, m.params.reallocation)
    demand = reallocation.Demand(cases.astype(np.int64), hours)
    zeros = np.zeros(pl.n_pools)
    by_work = reallocation.reallocation_step(
        ra, pl, s.city, demand, zeros, zeros, m.params.reallocation, period - 1
    )
    ra2 = reallocation.State.start(pl, m.params.reallocation)
    flat = reallocation.Demand(cases.astype(np.int64), cases * 2.0)
    by_count = reallocation.reallocation_step(
        ra2, pl, s.city, flat, zeros, zeros, m.params.reallocation, period - 1
    )
    gain = by_work.servers[heavy] - by_count.servers[heavy]
    assert gain > 0
    assert by_work.servers[idx].sum() == by_count.servers[idx].sum()  # same budget
    assert by_work.servers[light] <= by_count.servers[light]


# ------------------------------------------------------------------- early warning

HIDDEN = {"grievance", "active", "activation", "trust", "participation", "hardship", "felt"}


def test_warning_step_takes_no_hidden_state():
    names = set(inspect.signature(warning.warning_step).parameters)
    assert not names & HIDDEN
    src = inspect.getsource(GovernanceModel._day)
    call = src[src.index("warning.warning_step(") :]
    call = call[: call.index(")  # fmt: skip")]
    for hidden in ("res.", "grievance", "s.activation", "trust"):
        assert hidden not in call, hidden


def test_warning_flags_unchanged_when_hidden_state_is_poisoned(monkeypatch):
    """Run a city with early warning on; every day, call the indicator a second time with
    the hidden issue rows scrambled and residents' hidden states set to NaN / random:
    flags and every output must be identical."""
    original = warning.warning_step
    checked = []
    model = GovernanceModel(_scenario("levers.capability.early_warning=true", *ESCALATING))

    def guarded(state, issues, grid_start, incidents, p, day):
        import copy

        twin_state = copy.deepcopy(state)
        poisoned = copy.deepcopy(issues)
        n = poisoned.n
        hidden = np.flatnonzero(poisoned.status[:n] == LATENT)
        rng = np.random.default_rng(day)
        poisoned.grid[hidden] = rng.integers(0, grid_start.shape[0] - 1, hidden.size)
        poisoned.category[hidden] = CAT_DISPUTE
        poisoned.level[hidden] = 1
        poisoned.t_surfaced[hidden] = 24.0 * day + 1.0
        res, act = model.state.residents, model.state.activation
        saved = res.grievance.copy(), res.trust.copy(), act.active.copy()
        res.grievance[:] = np.nan
        res.trust[:] = np.nan
        act.active[:] = rng.integers(0, 2, act.active.size)
        try:
            flags_poisoned = original(twin_state, poisoned, grid_start, incidents, p, day)
        finally:
            res.grievance[:], res.trust[:], act.active[:] = saved
        flags = original(state, issues, grid_start, incidents, p, day)
        assert np.array_equal(flags, flags_poisoned)
        assert np.array_equal(state.patrol_mult, twin_state.patrol_mult)
        checked.append(int(hidden.size))
        return flags

    monkeypatch.setattr(warning, "warning_step", guarded)
    model.run(40)
    assert len(checked) == 40 and sum(checked) > 0
    assert model.state.warning.last_flags.any()


def test_warning_report_and_single_deterrence():
    m = GovernanceModel(_scenario("levers.capability.early_warning=true", *ESCALATING))
    m.run(60)
    s = m.summary()
    for key in ("warning_precision", "warning_recall", "warning_lift", "warning_lead_days",
                "warning_false_alarms_per_100_grids_year"):  # fmt: skip
        assert key in s
    assert s["warning_false_alarms_per_100_grids_year"] >= 0
    if s["warning_recall"] > 0:
        assert 1 <= s["warning_lead_days"] <= m.params.warning.horizon_days
    # the team deters through presence (activation), never a second time in escalation
    sw = m.state.warning
    assert np.all(warning.early_control(sw, m.params.warning, m.state.city.n_grids) == 1.0)
    extra, staff = warning.team_presence(sw, m.params.warning, np.diff(m.state.city.grid_start))
    sent = sw.team_share > 0
    assert staff > 0 and np.all(extra[sent] > 0) and np.all(extra[~sent] == 0)
    assert np.all(sw.last_flags[sent] == 1)  # teams go to flagged grids only
    on_duty = warning.team_staff_on_duty(m.params.warning, m.state.city.n_residents)
    assert staff <= on_duty * (1 + 1e-12)  # never more members than are funded


def test_work_teams_go_to_the_riskiest_flagged_grids_until_the_members_run_out():
    risk = np.array([1.5, 3.0, 2.0, 9.0, 2.0])
    flags = np.array([1, 1, 1, 0, 1], dtype=np.uint8)  # grid 3 is not flagged
    need = np.array([2.0, 1.0, 2.0, 5.0, 4.0])
    share = warning.assign_teams(risk, flags, need, capacity=4.0)
    # order: grid 1 (3.0), grid 2 (2.0, lower id first), grid 4 (2.0), grid 0
    assert share.tolist() == [0.0, 1.0, 1.0, 0.0, 0.25]  # grid 4 gets what is left
    assert float(share @ need) == 4.0
    everything = warning.assign_teams(risk, flags, need, capacity=100.0)
    assert everything.tolist() == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert not warning.assign_teams(risk, flags, need, capacity=0.0).any()


def test_more_funded_team_members_send_more_teams():
    def sent(staff_per_100k):
        team = f"levers.capability.warning_team_staff_per_100k={staff_per_100k}"
        sc = _scenario("levers.capability.early_warning=true", *ESCALATING, team)
        m = GovernanceModel(sc)
        m.run(40)
        return m.metrics.warning_staff_days, m.summary()["cost_yuan"]

    (few, c_few), (many, c_many) = sent(3.0), sent(30.0)
    assert many > few > 0 and c_many > c_few


def test_lead_time_counted_from_the_first_flag():
    sc = warning.WarningScorer(2, 5)
    for d in range(12):
        flags = np.array([d in (3, 5), 0], dtype=np.uint8)
        incidents = np.array([1 if d == 7 else 0, 0])
        sc.add(flags, incidents)
    assert sc.n_warned == 1 and sc.lead_days == 4  # flagged on day 3, incident on day 7


# ------------------------------------------------------------------------ queues


@pytest.mark.parametrize(("c", "load", "patience"), [(4, 0.95, 2.0), (10, 0.8, 0.5)])
def test_handling_matches_erlang_a(c, load, patience):
    r = queue_alone(c, load, days=600, warmup_days=30, seed=5, patience=patience)
    p_ab, wait = erlang_a(load * c, 1.0, c, 1.0 / patience)
    assert r.erlang_a_abandon == pytest.approx(p_ab)
    assert r.abandon_share == pytest.approx(p_ab, rel=0.1)
    assert r.mean_wait == pytest.approx(wait, rel=0.1)


def test_erlang_a_limits():
    # very patient customers: Erlang C's wait; very impatient: almost nobody waits long
    from sim.queueing import mean_wait_erlang_c

    _, w = erlang_a(4.0, 1.0, 5, 1e-6)
    assert w == pytest.approx(mean_wait_erlang_c(4.0, 1.0, 5), rel=1e-3)
    p, w = erlang_a(4.0, 1.0, 5, 1e4)  # leave at once: Erlang B's loss system
    b = 1.0
    for k in range(1, 6):
        b = 4.0 * b / (k + 4.0 * b)
    assert p == pytest.approx(b, rel=1e-3) and w < 1e-4


def test_abandonment_feeds_participation_and_trust():
    """Impatient residents give up on long queues; their failures lower participation and
    trust through the experience record (paired seeds, one city)."""
    sc = _scenario("handling.department_slots_per_100k=150")  # slow departments
    out = {}
    for name, days in (("impatient", 0.5), ("patient", 3000.0)):
        m = GovernanceModel(sc.model_copy(update={"handling": sc.handling.model_copy(
            update={"case_patience_days": days})}))  # fmt: skip
        gave_up = []  # closed rows leave the table weekly: count them on the way out
        m.issue_sink = lambda cols, _g=gave_up: _g.append(
            int(np.count_nonzero((cols["status"] == ABANDONED) & ~np.isnan(cols["t_start"])
                                 | (cols["status"] == ABANDONED) & ~np.isnan(cols["t_surfaced"])))
        )  # fmt: skip
        m.run(91)
        out[name] = (
            sum(gave_up),
            float(m.state.residents.participation.mean()),
            float(m.state.residents.trust.mean()),
        )
    assert out["impatient"][0] > out["patient"][0]
    assert out["impatient"][1] < out["patient"][1]
    assert out["impatient"][2] < out["patient"][2]
