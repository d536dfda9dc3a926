"""The article's actors (issue 12): resident self-governance (由民自主) and key-person
management (重点人员管理), each switched through the real model and the mechanism it acts
through shown moving; committees' capacity bound; the watch list read from observed issue
rows only; visits paid for with patrol hours.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import replace

import numpy as np
import pytest

from sim.issues import CAT_DISPUTE, LATENT, LEVEL_PETITION, QUEUED, RESOLVED, ROUTING
from sim.kernels import costs, keyperson, selfgov, surface, trust
from sim.model import GovernanceModel
from sim.pools import K_DEPARTMENT, K_GRID, K_HOTLINE
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from tests.reference import selfgov as ref_selfgov
from tests.reference import surface as ref_surface

BASELINE = "scenarios/yancheng.toml"
SMALL = ("scale=0.002", "warmup_days=0")
SEEDS = (1, 2)
# many residents listed at once: anyone with a known open issue or one unresolved closure
WIDE_LIST = ("key_persons.repeat_open=1", "key_persons.unresolved_to_list=0.5")


def _scenario(*sets: str) -> Scenario:
    return load_scenario(BASELINE, [*SMALL, *sets])


# ------------------------------------------------------------ resident self-governance


def _queue_entries(model: GovernanceModel, days: int) -> dict[str, int]:
    """Run ``days`` days counting the rows routing sends into the hotline, grid and
    department queues (the normal route), through the model's own day."""
    kinds = model.state.pools.kind
    count = {"normal": 0}
    real_route = model.kernels.route

    def counting_route(t, pools, *args):
        before = t.status == ROUTING
        out = real_route(t, pools, *args)
        entered = before & (t.status == QUEUED)
        k = kinds[t.pool[entered]]
        count["normal"] += int(np.isin(k, (K_HOTLINE, K_GRID, K_DEPARTMENT)).sum())
        return out

    with model.using(replace(model.kernels, route=counting_route)):
        model.run(days)
    return count


def test_self_governance_lever_moves_issues_from_queues_to_committees():
    """Paired seeds: with councils in 90 % of communities, committees settle issues and
    fewer enter the hotline, grid and department queues than with none."""
    for seed in SEEDS:
        out = {}
        for share in (0.0, 0.9):
            m = GovernanceModel(
                _scenario(f"levers.system.self_governance={share}", "self_governance.uptake=0.8"),
                seed=seed,
            )
            entered = _queue_entries(m, 60)["normal"]
            out[share] = (m.state.selfgov.settled, entered, m.summary())
        assert out[0.0][0] == 0 and out[0.0][2]["selfgov_settled"] == 0
        assert out[0.9][0] > 50
        assert out[0.9][1] < out[0.0][1] - 0.5 * out[0.9][0], out
        assert 0.0 < out[0.9][2]["selfgov_share"] < 0.3


def test_baseline_committees_settle_a_modest_share():
    m = GovernanceModel(_scenario(), seed=1)
    m.run(60)
    share = m.summary()["selfgov_share"]
    assert 0.005 < share < 0.08, share


def test_committees_never_take_more_than_their_hours_allow(monkeypatch):
    """One member, one hour a day, two hours a case: at most one case a day per
    committee (capacity ⌊0.5 + u⌋); the rest spill back to the normal route."""
    sc = _scenario(
        "levers.system.self_governance=1.0",
        "self_governance.uptake=1.0",
        "self_governance.members=1",
        "self_governance.hours_per_member_day=1.0",
        "self_governance.hours_per_case=2.0",
    )
    model = GovernanceModel(sc, seed=3)
    real = selfgov.selfgov_step
    seen = {"taken": 0, "spilled": 0, "days": 0}

    def checked(issues, grid_community, state, p, seed, day):
        cap = selfgov.committee_capacity(state.active, p.cases_per_day, seed, day)
        before = issues.status.copy()
        out = real(issues, grid_community, state, p, seed, day)
        assert np.all(out.taken_by_community <= cap)
        assert cap.max() <= 1
        assert out.brought == out.settled + out.failed + out.spilled
        # every row the committees closed is a taken case: settled ≤ taken
        newly = (before == ROUTING) & (issues.status == RESOLVED)
        assert int(newly.sum()) == out.settled <= int(out.taken_by_community.sum())
        seen["taken"] += int(out.taken_by_community.sum())
        seen["spilled"] += out.spilled
        seen["days"] += 1
        return out

    monkeypatch.setattr(selfgov, "selfgov_step", checked)
    model.run(30)
    n_com = model.state.selfgov.active.shape[0]
    assert seen["days"] == 30 and seen["spilled"] > 0
    assert seen["taken"] <= n_com * 30


def test_settled_issues_reach_trust_only_through_residents_experience(monkeypatch):
    """Every resident whose issue a committee settled today is counted as a resolved
    report by trust.own_experience the same day (the experience → trust/participation
    path), and selfgov reads or writes no resident state."""
    names = set(inspect.signature(selfgov.selfgov_step).parameters)
    assert not names & {"trust", "participation", "residents", "res"}
    model = GovernanceModel(
        _scenario("levers.system.self_governance=0.9", "self_governance.uptake=0.8"), seed=2
    )
    real_step, real_exp = selfgov.selfgov_step, trust.own_experience
    today: dict[str, np.ndarray] = {}
    checked = []

    def step(issues, grid_community, state, p, seed, day):
        before = issues.status == ROUTING
        out = real_step(issues, grid_community, state, p, seed, day)
        today["residents"] = issues.resident[before & (issues.status == RESOLVED)].copy()
        return out

    def experience(issues, day, slow_days, exp):
        touched = real_exp(issues, day, slow_days, exp)
        for r in today.get("residents", ()):
            assert exp.n_resolved[r] >= 1
        checked.append(len(today.get("residents", ())))
        return touched

    monkeypatch.setattr(selfgov, "selfgov_step", step)
    monkeypatch.setattr(trust, "own_experience", experience)
    model.run(20)
    assert sum(checked) > 0


def test_councils_are_nested_as_the_lever_rises():
    low = selfgov.active_communities(500, 0.3, 7)
    high = selfgov.active_communities(500, 0.6, 7)
    assert np.all(high >= low) and 0.2 < low.mean() < 0.4 and 0.5 < high.mean() < 0.7


def test_selfgov_kernel_matches_twin():
    model = GovernanceModel(_scenario("levers.system.self_governance=0.8"), seed=4)
    model.run(10)
    s, p = model.state, model.params
    t = s.issues
    # make today's new issues eligible in bulk: surfaced today, routing, intake
    day = model.day
    a, b = copy.deepcopy(t), copy.deepcopy(t)
    st_a, st_b = copy.deepcopy(s.selfgov), copy.deepcopy(s.selfgov)
    for tt in (a, b):
        rows = np.flatnonzero(tt.status == LATENT)[:200]
        tt.status[rows] = ROUTING
        tt.next_step[rows] = 0
        tt.channel[rows] = 2  # told to the grid worker
        tt.t_surfaced[rows] = 24.0 * day + 9.0
        tt.t_ready[rows] = 24.0 * day + 9.0
    out = selfgov.selfgov_step(a, s.city.grid_community, st_a, p.selfgov, model.seed, day)
    ref = ref_selfgov.selfgov_step(b, s.city.grid_community, st_b, p.selfgov, model.seed, day)
    assert out.brought > 0
    assert out[:4] == ref[:4]
    assert np.array_equal(out.taken_by_community, ref.taken_by_community)
    for col in ("status", "t_closed", "t_ready"):
        assert np.array_equal(getattr(a, col), getattr(b, col), equal_nan=True), col


def test_council_cost_follows_the_lever():
    sc = _scenario("levers.system.self_governance=0.5")
    p = costs.Params.from_scenario(sc)
    assert p.per_resident["self_governance"] == pytest.approx(
        0.5 * sc.self_governance.council_cost_per_resident
    )
    zero = costs.Params.from_scenario(_scenario("levers.system.self_governance=0"))
    assert zero.per_resident["self_governance"] == 0.0


# --------------------------------------------------------------- key-person management

HIDDEN = {"grievance", "active", "activation", "trust", "participation", "hardship", "felt"}


def test_watch_list_takes_no_hidden_state():
    for fn in (keyperson.watch_step, keyperson.visit_step):
        assert not set(inspect.signature(fn).parameters) & HIDDEN
    src = inspect.getsource(GovernanceModel._day)
    for name in ("keyperson.watch_step(", "keyperson.visit_step("):
        call = src[src.index(name) :]
        call = call[: call.index(")")]
        for hidden in ("res.", "grievance", "s.activation", "trust"):
            assert hidden not in call, (name, hidden)


def test_watch_list_unchanged_when_hidden_state_is_poisoned(monkeypatch):
    """Each day, build the list a second time with every issue row the city has never
    seen (never surfaced) scrambled — other residents, petitions, closed unresolved today
    — and residents' hidden states set to NaN: the list must be identical."""
    original = keyperson.watch_step
    model = GovernanceModel(_scenario(*WIDE_LIST), seed=5)
    checked = []

    def guarded(state, issues, p, day):
        twin = copy.deepcopy(state)
        poisoned = copy.deepcopy(issues)
        hidden = np.flatnonzero(poisoned.channel < 0)
        rng = np.random.default_rng(day)
        n_res = state.listed.shape[0]
        poisoned.resident[hidden] = rng.integers(0, n_res, hidden.size)
        poisoned.level[hidden] = LEVEL_PETITION
        poisoned.category[hidden] = CAT_DISPUTE
        poisoned.t_closed[hidden] = 24.0 * day + 1.0
        closed_hidden = hidden[poisoned.status[hidden] != LATENT]
        poisoned.status[closed_hidden] = 6  # FAILED
        res, act = model.state.residents, model.state.activation
        saved = res.grievance.copy(), res.trust.copy(), act.active.copy()
        res.grievance[:] = np.nan
        res.trust[:] = np.nan
        act.active[:] = 1
        try:
            n_poisoned = original(twin, poisoned, p, day)
        finally:
            res.grievance[:], res.trust[:], act.active[:] = saved
        n = original(state, issues, p, day)
        assert n == n_poisoned
        assert np.array_equal(state.listed, twin.listed)
        assert np.array_equal(state.unresolved, twin.unresolved)
        assert np.array_equal(state.until, twin.until)
        checked.append((int(hidden.size), n))
        return n

    monkeypatch.setattr(keyperson, "watch_step", guarded)
    model.run(30)
    assert len(checked) == 30
    assert sum(h for h, _ in checked) > 0 and sum(n for _, n in checked) > 0


def test_key_person_visits_lever_settles_cases_and_is_reported():
    for seed in SEEDS:
        out = {}
        for v in (0.0, 8.0):
            m = GovernanceModel(
                _scenario(f"levers.capability.key_person_visits={v}", *WIDE_LIST), seed=seed
            )
            m.run(40)
            out[v] = m.summary()
        assert out[0.0]["key_person_visits"] == 0 and out[0.0]["key_person_settled"] == 0
        assert out[0.0]["key_persons_listed"] > 0  # listed whether visited or not
        assert out[8.0]["key_person_visits"] > 100
        assert out[8.0]["key_person_settled"] > 0


def test_visits_take_patrol_hours_and_slow_detection():
    """At fixed staff, visits so many that they use up the patrol hours: fewer issues
    found on patrol and slower detection (paired seeds)."""
    for seed in SEEDS:
        out = {}
        for v in (0.0, 30.0):
            m = GovernanceModel(
                _scenario(
                    f"levers.capability.key_person_visits={v}",
                    "key_persons.visit_hours=1.5",
                    *WIDE_LIST,
                ),
                seed=seed,
            )
            m.run(40)
            out[v] = (float(np.sum(m.metrics.cols["surfaced_patrol"])), m.summary())
        assert out[30.0][0] < 0.8 * out[0.0][0], out
        assert out[30.0][1]["mean_detection_days"] > out[0.0][1]["mean_detection_days"]


def test_visits_stay_within_each_grids_patrol_hours():
    m = GovernanceModel(
        _scenario("levers.capability.key_person_visits=30", "key_persons.visit_hours=1.5",
                  *WIDE_LIST),
        seed=6,
    )  # fmt: skip
    m.run(15)
    s, p = m.state, m.params
    assert s.keyperson.listed.any()
    budget = surface.patrol_hours(s.queue_len, s.pools.grid_pool, s.warning.patrol_mult, p.surface)
    v = keyperson.visit_step(
        s.keyperson, s.issues, s.city, s.pools, s.queue_len, s.warning.patrol_mult,
        p.keyperson, p.surface, m.seed, m.day,
    )  # fmt: skip
    assert v.visits > 0
    assert np.all(v.hours_per_worker <= budget + 1e-9)
    # patrols lose exactly those hours (never below zero)
    full = surface.patrol_factor(
        s.queue_len, s.pools.grid_pool, s.warning.patrol_mult, s.city.grid_start, p.surface
    )
    less = surface.patrol_factor(
        s.queue_len, s.pools.grid_pool, s.warning.patrol_mult, s.city.grid_start, p.surface,
        v.hours_per_worker,
    )  # fmt: skip
    assert np.all(less <= full) and less.sum() < full.sum()


def test_surface_with_visits_matches_twin():
    m = GovernanceModel(_scenario(), seed=8)
    m.run(5)
    s, p = m.state, m.params
    rng = np.random.default_rng(0)
    visits = rng.uniform(0.0, 3.0, s.city.n_grids)
    a, b = copy.deepcopy(s.issues), copy.deepcopy(s.issues)
    args = (s.city, s.residents, s.pools, s.queue_len, s.warning.patrol_mult, p.surface)
    surface.surface_step(a, *args, m.seed, m.day, visits)
    ref_surface.surface_step(b, *args, m.seed, m.day, visits)
    for col in ("status", "channel", "t_surfaced", "t_closed"):
        assert np.array_equal(getattr(a, col), getattr(b, col), equal_nan=True), col


def test_councils_follow_the_lever_mid_run():
    """change_scenario: raising self_governance mid-run activates more communities (the
    ones already active stay), and the committees start settling more."""
    sc = _scenario("levers.system.self_governance=0.2")
    m = GovernanceModel(sc, seed=9)
    m.run(10)
    before = m.state.selfgov.active.copy()
    m.change_scenario(_scenario("levers.system.self_governance=0.9"))
    after = m.state.selfgov.active
    assert np.all(after >= before) and after.sum() > before.sum()
    assert m.params.selfgov.share == 0.9
