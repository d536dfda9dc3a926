"""Costs (issue 12): each lever that adds staff or a platform raises the yearly cost by what
it adds; the baseline's cost per resident lies within the range its sources allow; every
summary and ``govsim run``'s table carry the cost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.city import build_city
from sim.cli import format_summary
from sim.kernels import costs
from sim.metrics_schema import SUMMARY_KEYS
from sim.model import GovernanceModel
from sim.pools import K_GRID, K_ONLINE, build_pools
from sim.scenario import load_scenario
from sim.scenario.registry import parameters
from sim.scenario.schema import CostParams, Scenario

BASE = {"name": "costs", "scale": 0.002, "days": 5, "warmup_days": 0, "seed": 5}


@pytest.fixture(scope="module")
def city():
    return build_city(Scenario(**BASE))


def _cost(city, sc: Scenario) -> dict[str, float]:
    p = costs.Params.from_scenario(sc)
    staff = costs.staff_by_kind(build_pools(city, sc), p.cases_per_staff)
    n_vuln = int(np.count_nonzero(city.vulnerability))
    return costs.yearly_cost(staff, city.n_residents, n_vuln, p)


def _with(**levers) -> Scenario:
    """The base scenario with ``group__name=value`` levers set."""
    lv: dict = {}
    for key, v in levers.items():
        group, name = key.split("__")
        lv.setdefault(group, {})[name] = v
    return Scenario(**BASE, levers=lv)


def _diff(city, **levers) -> dict[str, float]:
    a, b = _cost(city, Scenario(**BASE)), _cost(city, _with(**levers))
    return {k: b[k] - a[k] for k in a if abs(b[k] - a[k]) > 1e-9}


def test_workers_per_grid_adds_the_workers_times_their_pay(city):
    c = CostParams()
    d = _diff(city, capability__workers_per_grid=3)
    assert set(d) == {"grid_worker"}
    assert d["grid_worker"] == pytest.approx(2 * city.n_grids * c.grid_worker_pay * c.overhead)


def test_online_mediation_adds_its_platform_and_its_mediators(city):
    sc = _with(capability__online_mediation=True)
    c = sc.costs
    d = _diff(city, capability__online_mediation=True)
    assert set(d) == {"online_platform", "online_mediator"}
    platform = c.online_mediation_build / c.platform_life_years + c.online_mediation_operation
    assert d["online_platform"] == pytest.approx(platform * sc.scale)
    slots = build_pools(city, sc).servers[build_pools(city, sc).online_pool]
    assert slots > 0
    assert d["online_mediator"] == pytest.approx(slots * c.mediator_pay * c.overhead)


@pytest.mark.parametrize(
    ("lever", "value", "item"),
    [
        ("capability__early_warning", True, ("warning_system", "warning_teams")),
        ("data__unified_data_standards", True, "data_standards"),
        ("data_governance__access_logging", True, "access_logging"),
        ("data_governance__permission_control", True, "permission_control"),
        ("data__centre_integration", 1.0, ("command_centre", "centre_dispatchers")),
        ("data__data_sharing", 1.0, "data_sharing"),
    ],
)
def test_each_platform_lever_adds_only_its_platform(city, lever, value, item):
    d = _diff(city, **{lever: value})
    items = set(item) if isinstance(item, tuple) else {item}  # centre, warning: also staff
    assert set(d) == items
    assert all(d[i] > 0 for i in items)


def test_a_platform_costs_the_same_per_resident_at_any_scale():
    c = CostParams()
    for scale in (0.001, 0.01, 1.0):
        p = costs.Params.from_scenario(
            Scenario(**{**BASE, "scale": scale}, levers={"capability": {"online_mediation": True}})
        )
        cost = costs.yearly_cost(np.zeros(8), 100, 0, p)
        full = c.online_mediation_build / c.platform_life_years + c.online_mediation_operation
        assert cost["online_platform"] == pytest.approx(full * scale)


@pytest.mark.parametrize(
    ("lever", "value", "item"),
    [
        ("system__social_org_budget_yuan_per_resident", 3.0, "social_org_funding"),
        ("people__publicity_education", 1.0, "publicity"),
        ("people__public_evaluation", 1.0, "evaluation"),
        ("capability__digital_inclusion", 1.0, "digital_inclusion"),
        ("capability__rule_of_law", 1.0, "rule_of_law"),
        ("community__video_coverage_vulnerable", 1.0, "video_vulnerable"),
        ("community__multi_actor_participation", 1.0, "volunteers"),
    ],
)
def test_programme_levers_raise_their_item(city, lever, value, item):
    d = _diff(city, **{lever: value})
    assert d.get(item, 0.0) > 0
    assert all(v > 0 for v in d.values())  # no lever makes something else cheaper


def test_social_org_budget_is_its_own_cost(city):
    d = _diff(city, system__social_org_budget_yuan_per_resident=3.0)
    assert d["social_org_funding"] == pytest.approx(1.5 * city.n_residents)


def test_staff_by_kind_counts_one_grid_worker_per_slot(city):
    sc = Scenario(**BASE)
    pools = build_pools(city, sc)
    staff = costs.staff_by_kind(pools, sc.handling.cases_per_staff)
    assert staff[K_GRID] == city.n_grids * sc.levers.capability.workers_per_grid
    assert staff[K_ONLINE] == 0


def test_warning_teams_are_paid_as_funded(city):
    """The work teams cost their funded members at officer pay, with warning on only, and
    the same whatever a run's flags use of them."""
    c = CostParams()
    off = _cost(city, _with(capability__warning_team_staff_per_100k=20.0))["warning_teams"]
    assert off == 0.0
    for t in (5.0, 20.0):
        sc = _with(capability__early_warning=True, capability__warning_team_staff_per_100k=t)
        d = _cost(city, sc)["warning_teams"]
        assert d == pytest.approx(t * city.n_residents / 1e5 * c.officer_pay * c.overhead)


DIVISORS = {"platform_life_years", "video_device_life_years", "working_days_per_year"}


def _at(which: int) -> Scenario:
    """The base with every cost parameter at the end of its plausible range that makes the
    cost lowest (0) or highest (1): divisors (lives, working days) at the other end."""
    rows = {r.path.split(".", 1)[1]: r for r in parameters() if r.path.startswith("costs.")}
    values = {k: r.plausible[1 - which if k in DIVISORS else which] for k, r in rows.items()}
    return Scenario(**{**BASE, "costs": values})


def test_baseline_cost_per_resident_is_within_its_sources_range(city):
    base = load_scenario("scenarios/yancheng.toml")
    sc = Scenario(**{**base.model_dump(), **BASE})
    per = sum(_cost(city, sc).values()) / city.n_residents
    lo = sum(_cost(city, _at(0).model_copy(update={"levers": sc.levers})).values())
    hi = sum(_cost(city, _at(1).model_copy(update={"levers": sc.levers})).values())
    assert lo / city.n_residents < per < hi / city.n_residents
    # order of magnitude: grid workers, officers and platforms of a city of 6.7 M residents
    assert 100.0 < per < 500.0


def test_cost_is_in_every_summary_and_in_the_printed_table():
    m = GovernanceModel(Scenario(**BASE))
    m.run(3)
    s = m.summary()
    assert s["cost_yuan"] > 0
    assert s["cost_per_resident"] == pytest.approx(s["cost_yuan"] / m.state.city.n_residents)
    assert s["cost_yuan"] == pytest.approx(sum(m.cost_breakdown().values()))
    assert {"cost_yuan", "cost_per_resident"} <= set(SUMMARY_KEYS)
    table = format_summary(s)
    assert "年度成本（元）" in table and "人均成本（元/人·年）" in table


def test_cost_items_are_labelled():
    assert set(costs.ITEMS) >= set(costs.ROLE_OF_KIND.values())
    p = costs.Params.from_scenario(Scenario(**BASE))
    assert set(p.platforms_city) | set(p.per_resident) <= set(costs.ITEMS)


TWINS = sorted(Path("scenarios").glob("*_equal_cost.toml"))


@pytest.fixture(scope="module")
def city_of():
    cache: dict = {}

    def get(sc: Scenario):
        key = (sc.levers.capability.residents_per_grid, sc.levers.capability.digital_inclusion)
        key += (sc.seed, sc.scale, sc.city.model_dump_json())
        if key not in cache:
            cache[key] = build_city(sc)
        return cache[key]

    return get


def test_there_is_a_twin_for_every_configuration_that_costs_more_or_less():
    names = {p.name.removesuffix("_equal_cost.toml") for p in TWINS}
    assert {"fine_grids", "command_centre", "online_mediation", "modernised"} <= names


@pytest.mark.parametrize("path", TWINS, ids=lambda p: p.stem)
def test_each_equal_cost_twin_costs_the_baseline_within_one_percent(path, city_of):
    base = load_scenario("scenarios/yancheng.toml")
    twin = load_scenario(path)
    assert abs(costs.budget_gap(twin, base, city_of)) < 0.01
    original = load_scenario(Path("scenarios") / path.name.replace("_equal_cost", ""))
    assert abs(costs.budget_gap(original, base, city_of)) > 0.01  # the twin was needed
