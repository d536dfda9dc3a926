"""Issue 12, deliverable 1 (rule of law, online mediation, command centre) and 4 (behaviour
that moves): each lever acts through a named mechanism, and switching it moves that
mechanism in the real model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from reference import trust as ref_trust

from sim.city import build_city
from sim.city.network import edges_to_csr
from sim.city.population import AGE_ELDERLY, AGE_WORKING
from sim.issues import CAT_DISPUTE, IssueTable
from sim.kernels import costs, diversion, escalate, route, trust
from sim.model import KERNELS, GovernanceModel
from sim.pools import build_pools
from sim.scenario.schema import Scenario

SMALL = {"name": "mech_a", "scale": 0.002, "days": 60, "seed": 5, "warmup_days": 10}


def _sc(**over) -> Scenario:
    """The small base with nested overrides, e.g. ``levers={"data": {...}}``."""
    data = {**SMALL}
    for key, value in over.items():
        data[key] = value
    return Scenario.model_validate(data)


def _levers(**groups) -> dict:
    return {"levers": groups}


# ------------------------------------------------------------------------- rule of law


def test_rule_of_law_is_no_multiplier_on_escalation_hazards():
    """The hazards and the collective probability do not depend on the lever; only the
    share taken into the legal channel does."""
    lo = escalate.Params.from_scenario(_sc(**_levers(capability={"rule_of_law": 0.0})))
    hi = escalate.Params.from_scenario(_sc(**_levers(capability={"rule_of_law": 1.0})))
    assert (lo.h_pet, lo.h_lit, lo.p_coll) == (hi.h_pet, hi.h_lit, hi.p_coll)
    assert lo.legal_share == 0.0 < hi.legal_share
    assert (
        "rule_of_law_effect"
        not in Scenario.model_json_schema()["$defs"]["EscalationParams"]["properties"]
    )


def test_rule_of_law_makes_handling_fairer_for_trust():
    """Procedural justice: the expected effect of a closed report on trust rises with the
    lever, from a loss at rule of law 0 to a gain at 1 (at the schema's values)."""
    e = [
        trust.Params.from_scenario(_sc(**_levers(capability={"rule_of_law": r}))).effect_procedure
        for r in (0.0, 0.5, 1.0)
    ]
    assert e[0] < 0.0 < e[2]
    assert e[0] < e[1] < e[2]


def test_distrust_drives_petitions():
    x_ref = 0.62
    low, mean, high = (escalate.petition_propensity(x, 1.0 - x_ref, 1.0) for x in (0.9, x_ref, 0.2))
    assert low < mean < high
    assert mean == pytest.approx(1.0)
    assert escalate.petition_propensity(1.0, 0.38, 1.0) == 0.0


def _run(sc: Scenario, days: int, route_log: list | None = None) -> GovernanceModel:
    kernels = KERNELS
    if route_log is not None:

        def logged(*a, **k):
            out = route.route_step(*a, **k)
            route_log.append(out)
            return out

        kernels = replace(KERNELS, route=logged)
    m = GovernanceModel(sc, kernels=kernels)
    m.run(days)
    return m


@pytest.mark.slow
def test_rule_of_law_raises_mean_trust_and_lowers_petitions():
    """Same city and seed: rule of law 0.9 against 0.1 over a year. Trust (legitimacy)
    rises through fair procedure; petitions fall through trust and legal channels."""
    base = {"escalation": {"petition_hazard": 0.02}, "days": 365}
    lo = _run(_sc(**base, **_levers(capability={"rule_of_law": 0.1})), 365)
    hi = _run(_sc(**base, **_levers(capability={"rule_of_law": 0.9})), 365)
    t_lo = float(lo.state.residents.trust.mean())
    t_hi = float(hi.state.residents.trust.mean())
    assert t_hi > t_lo + 0.01
    assert hi.summary()["escalations_petition"] < lo.summary()["escalations_petition"]


# ---------------------------------------------------------------------- online mediation


@pytest.fixture(scope="module")
def city():
    return build_city(_sc(scale=0.005))


def _one_dispute_each(city, severity: float = 0.3) -> IssueTable:
    """One court-bound dispute per resident (the real city's residents and access)."""
    n = city.n_residents
    t = IssueTable(n)
    t.reserve(n)
    t.n = n
    t.iid[:] = np.arange(n)
    t.resident[:] = np.arange(n)
    t.category[:] = CAT_DISPUTE
    t.severity[:] = severity
    t.urban[:] = city.urban
    t.digital[:] = city.initial.digital
    t.diverted[:] = 0
    return t


def test_online_uptake_is_lower_for_the_elderly_and_rural_than_urban_working_age(city):
    p = route.Params.from_scenario(_sc(scale=0.005), city)
    t = _one_dispute_each(city)
    diversion.mark_declined(t, city.age_group, p, seed=5)
    takes = t.diverted == diversion.UNDECIDED
    urban = city.urban == 1
    working = city.age_group == AGE_WORKING
    share = {
        "urban working": takes[urban & working].mean(),
        "elderly": takes[city.age_group == AGE_ELDERLY].mean(),
        "rural": takes[~urban].mean(),
    }
    assert share["elderly"] < share["urban working"] - 0.15
    assert share["rural"] < share["urban working"] - 0.05
    # never above the published pre-filing share, none without access
    assert share["urban working"] < p.uptake_digital
    assert not takes[city.initial.digital == 0].any()


def test_severe_disputes_take_up_online_mediation_less(city):
    p = route.Params.from_scenario(_sc(scale=0.005), city)
    shares = []
    for sev in (0.3, 0.9):
        t = _one_dispute_each(city, sev)
        diversion.mark_declined(t, city.age_group, p, seed=5)
        shares.append((t.diverted == diversion.UNDECIDED).mean())
    assert shares[1] < shares[0]


def test_online_settlement_rate_is_the_published_one():
    sc = Scenario(name="x")
    assert sc.handling.pools["online"].resolve_prob.dispute == pytest.approx(0.69, abs=0.01)


def test_platform_refuses_diversions_beyond_its_backlog(city):
    sc = _sc(scale=0.005, **_levers(capability={"online_mediation": True}))
    pools = build_pools(city, sc)
    q = np.zeros(pools.n_pools)
    assert diversion.platform_accepts(pools, q, 10.0)
    q[pools.online_pool] = 1e6
    assert not diversion.platform_accepts(pools, q, 10.0)
    off = build_pools(city, _sc(scale=0.005))
    assert not diversion.platform_accepts(off, np.zeros(off.n_pools), 10.0)


@pytest.mark.slow
def test_online_mediation_diverts_only_those_who_take_it_up():
    """With the platform on, fewer disputes are litigated, but not all: those without
    access or consent still go to court."""
    esc = {"litigation_hazard": 0.02}
    off = _run(_sc(escalation=esc), 60).summary()
    on = _run(_sc(escalation=esc, **_levers(capability={"online_mediation": True})), 60)
    s = on.summary()
    assert 0 < s["escalations_litigation"] < off["escalations_litigation"]
    assert s["escalations_litigation"] > 0.3 * off["escalations_litigation"]


# ------------------------------------------------------------------------ command centre


def test_command_centre_dispatches_disputes_within_its_capacity():
    log: list = []
    sc = _sc(
        days=30,
        **_levers(data={"centre_integration": 1.0, "unified_data_standards": True}),
    )
    m = _run(sc, 30, log)
    assert sum(r.centre_disputes for r in log) > 0
    p = m.params.route
    # at most ⌊rate + u⌋ per centre and day
    bound = np.array(
        [np.floor(p.town_rate + 1).sum(), np.floor(p.county_rate + 1).sum(), p.city_rate[0] + 1]
    )
    for r in log:
        assert np.all(r.centre_by_level <= bound)


def test_a_centre_without_dispatchers_leaves_work_orders_waiting():
    log: list = []
    cc = {
        "town_dispatchers_per_100k": 0.05,
        "county_dispatchers_per_100k": 0.0,
        "city_dispatchers_per_100k": 0.0,
    }
    sc = _sc(days=20, command_centre=cc, **_levers(data={"centre_integration": 1.0}))
    _run(sc, 20, log)
    assert max(r.centre_waiting for r in log) > 0
    full = _sc(days=20, **_levers(data={"centre_integration": 1.0}))
    log_full: list = []
    _run(full, 20, log_full)
    assert sum(int(r.centre_by_level.sum()) for r in log_full) > sum(
        int(r.centre_by_level.sum()) for r in log
    )


def test_without_integration_no_dispatcher_is_paid_and_none_dispatches():
    sc = _sc(days=10, **_levers(data={"centre_integration": 0.0}))
    assert costs.Params.from_scenario(sc).per_resident["centre_dispatchers"] == 0.0
    log: list = []
    _run(sc, 10, log)
    assert sum(int(r.centre_by_level.sum()) for r in log) == 0


def test_command_centre_dispatchers_cost_money():
    half = costs.Params.from_scenario(_sc(**_levers(data={"centre_integration": 0.5})))
    full = costs.Params.from_scenario(_sc(**_levers(data={"centre_integration": 1.0})))
    assert 0.0 < half.per_resident["centre_dispatchers"] < full.per_resident["centre_dispatchers"]


# ------------------------------------------------------------------- behaviour that moves


@pytest.mark.slow
def test_trust_and_participation_follow_experience_over_a_year():
    """A city whose departments and mediators resolve little loses trust and
    participation against one that resolves much, same residents and seed."""
    good = _sc(days=365)
    pools = {
        kind: pool.model_copy(
            update={
                "resolve_prob": pool.resolve_prob.model_copy(
                    update={"need": 0.3, "dispute": 0.3, "risk": 0.3}
                )
            }
        )
        for kind, pool in good.handling.pools.items()
    }
    bad = good.model_copy(update={"handling": good.handling.model_copy(update={"pools": pools})})
    g = _run(good, 365).state.residents
    b = _run(bad, 365).state.residents
    assert float(b.trust.mean()) < float(g.trust.mean()) - 0.02
    assert float(b.participation.mean()) < float(g.participation.mean())


def test_word_of_mouth_reaches_the_reporters_grid_only():
    grid_start = np.array([0, 4, 8])
    n_res = np.array([2, 0, 0, 0, 0, 0, 0, 0], dtype=np.uint8)
    n_fail = np.zeros(8, dtype=np.uint8)
    a_res, a_fail = trust.word_of_mouth(n_res, n_fail, grid_start, 0.03, -0.06, 5.0, 10.0, 0.5)
    assert a_res[0] == pytest.approx(0.5 * 0.03 * 5.0 * 2 / 4)
    assert a_res[1] == 0.0 and not a_fail.any()


@pytest.mark.twin
def test_trust_kernel_matches_twin_with_word_of_mouth_and_procedure():
    rng = np.random.default_rng(3)
    n = 3000
    indptr, indices = edges_to_csr(n, rng.integers(0, n, 2 * n), rng.integers(0, n, 2 * n))
    x = rng.random(n).astype(np.float32)
    counts = [np.where(rng.random(n) < 0.02, 1, 0).astype(np.uint8) for _ in range(4)]
    grid_start = np.array([0, 0, 700, 1500, 1500, 2900, 3000], dtype=np.int64)
    kw = {
        **trust.Params.from_scenario(_sc()).kwargs(),
        "seed": 4,
        "day": 9,
        "grid_start": grid_start,
    }
    got = trust.trust_step(x, indptr, indices, *counts, **kw)
    want = ref_trust.trust_step(x, indptr, indices, *counts, **kw)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert not np.array_equal(
        got, trust.trust_step(x, indptr, indices, *counts, **{**kw, "vicarious_weight": 0.0})
    )


@pytest.mark.twin
def test_participation_kernel_matches_twin_with_trust_carried_over():
    from reference import participation as ref_participation

    from sim.kernels import participation

    rng = np.random.default_rng(8)
    n = 2000
    indptr, indices = edges_to_csr(n, rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n))
    prop = rng.random(n).astype(np.float32)
    x = rng.random(n).astype(np.float32)
    org = (rng.random(n) < 0.2).astype(np.uint8)
    n_res = (rng.random(n) < 0.05).astype(np.int32)
    n_fail = (rng.random(n) < 0.05).astype(np.int32)
    kw = {**participation.Params.from_scenario(_sc()).kwargs(), "decay": 0.05, "seed": 3}
    args = (prop, indptr, indices, org, n_res, n_fail)
    got = participation.participation_step(*args, **kw, trust=x)
    want = ref_participation.participation_step(*args, **kw, trust=x)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    without = participation.participation_step(*args, **kw)
    # residents who trust more than the city's initial mean are pulled up, the others down
    above = x > kw["trust_ref"] + 0.05
    below = x < kw["trust_ref"] - 0.05
    assert (got[above] >= without[above]).all() and (got[below] <= without[below]).all()
    assert (got != without).any()
