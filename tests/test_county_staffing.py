"""Grid workers added by county (``levers.capability.county_extra_grid_workers``, issue 16):
scaled with the city total kept, spread over the county's beats, acting through the
county's grid pools, patrols and presence, and paid like every grid worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.city.build import build_city
from sim.errors import GovsimError
from sim.kernels import costs
from sim.model import Parameters
from sim.pools import K_GRID, build_pools, county_extra_workers, grid_beats, grid_workers
from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario

COUNTIES = [
    "Tinghu",
    "Yandu",
    "Dafeng",
    "Dongtai",
    "Xiangshui",
    "Binhai",
    "Funing",
    "Sheyang",
    "Jianhu",
]


def _sc(extra: dict[str, int] | None = None, **top) -> Scenario:
    data = {"name": "county_staffing", "scale": 0.002, "days": 40, "seed": 5, **top}
    if extra is not None:
        data["levers"] = {"capability": {"county_extra_grid_workers": extra}}
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def city():
    return build_city(_sc())


def test_counties_are_the_citys(city):
    assert city.county_names_en == COUNTIES


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.sampled_from(COUNTIES), st.integers(0, 5000), max_size=9),
    st.sampled_from([0.002, 0.01, 0.05, 0.1]),
)
def test_rounding_keeps_the_city_total(city, extra, scale):
    """Each county gets its scaled number rounded down or up, and the counties together
    get the scaled city total rounded to the nearest worker."""
    sc = _sc(extra).model_copy(update={"scale": scale})
    got = county_extra_workers(city, sc)
    want = np.array([extra.get(n, 0) * scale for n in COUNTIES])
    assert got.sum() == int(np.floor(want.sum() + 0.5))
    assert np.all(got >= np.floor(want)) and np.all(got <= np.ceil(want))


def test_ties_go_in_county_order(city):
    # 150 × 0.01 = 1.5 each: three workers for the two, the extra one to Dafeng (listed first)
    sc = _sc({"Binhai": 150, "Dafeng": 150}).model_copy(update={"scale": 0.01})
    got = dict(zip(COUNTIES, county_extra_workers(city, sc).tolist(), strict=True))
    assert (got["Dafeng"], got["Binhai"]) == (2, 1)
    assert sum(got.values()) == 3


def test_empty_table_changes_no_pool(city):
    a, b = build_pools(city, _sc()), build_pools(city, _sc({}))
    for f in ("kind", "county", "servers", "grid_pool", "staff_per_duty_day"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert grid_workers(city, _sc()) is None


def test_added_workers_join_their_countys_beats_only(city):
    base, more = _sc(), _sc({"Dafeng": 5000})  # 10 workers at 1:500
    pa, pb = build_pools(city, base), build_pools(city, more)
    grid = pa.kind == K_GRID
    assert np.array_equal(pa.kind, pb.kind) and np.array_equal(pa.grid_pool, pb.grid_pool)
    added = (pb.servers - pa.servers)[grid]
    counties = pa.county[grid]
    dafeng = COUNTIES.index("Dafeng")
    assert added[counties != dafeng].sum() == 0
    assert added[counties == dafeng].sum() == 10
    # evenly: the county's beats differ by at most one added worker
    assert added[counties == dafeng].max() - added[counties == dafeng].min() <= 1
    b = grid_beats(city, more)
    in_dafeng = b.county == dafeng
    assert b.extra.sum() == 10
    assert np.array_equal(b.workers[in_dafeng] - 1, b.extra[in_dafeng])


def test_kernels_get_the_workers_per_grid(city):
    sc = _sc({"Dafeng": 5000})
    w, beat = grid_workers(city, sc)
    dafeng = city.grid_county == COUNTIES.index("Dafeng")
    assert np.all(w[~dafeng] == 1.0) and np.all(beat[~dafeng] == 1.0)
    assert np.all(w[dafeng] > 1.0)
    # the grids' workers add up to the beats' workers
    pools = build_pools(city, sc)
    grid = pools.kind == K_GRID
    assert w.sum() == pytest.approx(pools.servers[grid].sum())
    p = Parameters.from_scenario(sc, city, sc.seed)
    for params in (p.surface, p.activation, p.warning, p.keyperson):
        assert np.array_equal(params.workers_per_grid, w)
    assert np.array_equal(p.surface.workers_per_beat, beat)
    assert Parameters.from_scenario(_sc(), city, 5).surface.workers_per_grid == 1.0


def test_added_workers_are_paid_as_grid_workers(city):
    base, more = _sc(), _sc({"Dafeng": 5000, "Binhai": 2500})  # 10 + 5 workers at 1:500
    c = more.costs
    diff = costs.configuration_cost(more, city) - costs.configuration_cost(base, city)
    assert diff == pytest.approx(15 * c.grid_worker_pay * c.overhead, rel=1e-12)


def test_added_workers_act_in_their_county():
    """More workers in a county patrol more there: more issues surfaced by patrol, and
    the grid pools there take on more cases; the run costs more staff-days."""
    base = run_scenario(_sc())
    more = run_scenario(_sc({"Dafeng": 20_000, "Binhai": 20_000}))
    assert more.summary["staff_days"] > base.summary["staff_days"]
    assert more.daily["surfaced_patrol"].sum() > base.daily["surfaced_patrol"].sum()


@pytest.mark.parametrize(
    ("table", "entry", "suggested"),
    [
        ("capability.county_extra_grid_workers", "Dafneg = 100", "Dafeng"),
        ("system.county_social_org_budget_yuan_per_resident", "Yancheng = 2.0", "Tinghu"),
    ],
)
def test_an_unknown_county_is_named(tmp_path: Path, table: str, entry: str, suggested: str):
    """The error names the file, the table, the unknown county and the known ones."""
    f = tmp_path / "s.toml"
    f.write_text(f'name = "x"\n[levers.{table}]\n{entry}\n', encoding="utf-8")
    with pytest.raises(GovsimError) as e:
        load_scenario(f)
    msg = str(e.value)
    unknown = entry.split(" ")[0]
    assert "s.toml" in msg and unknown in msg and suggested in msg and table in msg


def test_a_negative_number_is_refused(tmp_path: Path):
    f = tmp_path / "s.toml"
    f.write_text(
        'name = "x"\n[levers.capability.county_extra_grid_workers]\nDafeng = -5\n',
        encoding="utf-8",
    )
    with pytest.raises(GovsimError, match="Dafeng"):
        load_scenario(f)


def test_workers_added_mid_run_join_their_beats():
    """Moved in class (change_scenario): the county's beats gain the slots and the grid
    workers, the rest keeps what it had; moving the lever back gives them up."""
    from sim import agents
    from sim.model import GovernanceModel

    sc = _sc(warmup_days=5)
    m = GovernanceModel(sc)
    for _ in range(3):
        m.step()
    before = m.state.pools.servers.copy()
    n_workers = sum(isinstance(a, agents.GridWorker) for a in m.agents)
    m.change_scenario(_sc({"Dafeng": 5000}, warmup_days=5))
    grid = m.state.pools.kind == K_GRID
    dafeng = m.state.pools.county == COUNTIES.index("Dafeng")
    added = m.state.pools.servers - before
    assert added[grid & dafeng].sum() == 10 and not added[~(grid & dafeng)].any()
    assert sum(isinstance(a, agents.GridWorker) for a in m.agents) == n_workers + 10
    m.step()
    m.change_scenario(_sc(warmup_days=5))
    assert np.array_equal(m.state.pools.servers[grid], before[grid])


# ------------------------------------------------- social-organisation funding by county


def _sc_social(table: dict[str, float] | None = None, **top) -> Scenario:
    data = {"name": "county_social", "scale": 0.002, "days": 40, "seed": 5, **top}
    if table is not None:
        data["levers"] = {"system": {"county_social_org_budget_yuan_per_resident": table}}
    return Scenario.model_validate(data)


def test_a_countys_budget_sets_its_social_slots_only(city):
    from sim.pools import K_SOCIAL

    base = build_pools(city, _sc_social())
    more = build_pools(city, _sc_social({"Binhai": 200.0, "Jianhu": 0.0}))
    social = base.kind == K_SOCIAL
    binhai, jianhu = COUNTIES.index("Binhai"), COUNTIES.index("Jianhu")
    diff = (more.servers - base.servers)[social]
    county = base.county[social]
    assert diff[county == binhai][0] > 0
    assert more.servers[social][county == jianhu][0] == 0  # no budget: no strength, no slots
    assert not diff[(county != binhai) & (county != jianhu)].any()
    assert np.array_equal(base.servers[~social], more.servers[~social])


def test_a_countys_budget_sets_its_grids_strength(city):
    from sim.pools import social_org_strength, social_strength_by_grid

    sc = _sc_social({"Binhai": 15.0})
    s = social_strength_by_grid(city, sc)
    binhai = city.grid_county == COUNTIES.index("Binhai")
    assert np.all(s[binhai] == social_org_strength(sc, 15.0))
    assert np.all(s[~binhai] == social_org_strength(sc))
    assert s[binhai][0] > s[~binhai][0]
    assert np.array_equal(Parameters.from_scenario(sc, city, 5).surface.social_strength, s)
    assert social_strength_by_grid(city, _sc_social()) is None


def test_county_budgets_are_paid_per_resident_of_the_county(city):
    sc = _sc_social({"Binhai": 15.0})
    pop = np.array([c.population for c in sc.city.counties], dtype=np.float64)
    b = sc.levers.system.social_org_budget_yuan_per_resident
    extra_per_resident = (15.0 - b) * pop[COUNTIES.index("Binhai")] / pop.sum()
    diff = costs.configuration_cost(sc, city) - costs.configuration_cost(_sc_social(), city)
    assert diff == pytest.approx(extra_per_resident * city.n_residents, rel=1e-9)


def test_funded_counties_surface_more_through_social_organisations():
    base = run_scenario(_sc_social())
    rich = run_scenario(_sc_social(dict.fromkeys(COUNTIES, 20.0)))
    assert rich.daily["surfaced_social_org"].sum() > base.daily["surfaced_social_org"].sum()
    # the same table at the city-wide value is the city-wide configuration, bit for bit
    same = run_scenario(_sc_social(dict.fromkeys(COUNTIES, 1.5)))
    for k, v in base.daily.items():
        assert np.array_equal(v, same.daily[k], equal_nan=True), k


def test_a_plan_names_county_entries_as_variables(tmp_path: Path):
    """An optimise plan varies one county's entry of a by-county table by its key path;
    the cost model prices the candidate, and a misspelt county is refused by name."""
    from sim.experiment import optimise as opt

    root = Path(__file__).resolve().parents[1]
    body = f"""
kind = "optimise"
name = "county_vars"
base = "{(root / "scenarios" / "yancheng.toml").as_posix()}"
scale = 0.01
trials = 4
batch = 2

[budget]
relative_to_base = 1.1

[[variables]]
name = "binhai_social"
path = "levers.system.county_social_org_budget_yuan_per_resident.{{county}}"
type = "float"
range = [0.0, 6.0]

[[variables]]
name = "dafeng_workers"
path = "levers.capability.county_extra_grid_workers.Dafeng"
type = "int"
range = [0, 200]
step = 100

[[objectives]]
metric = "security_index"
"""
    good = tmp_path / "good.toml"
    good.write_text(body.replace("{county}", "Binhai"), encoding="utf-8")
    setup = opt.prepare(good)
    assert [v.name for v in setup.plan.variables] == ["binhai_social", "dafeng_workers"]
    bad = tmp_path / "bad.toml"
    bad.write_text(body.replace("{county}", "Binhia"), encoding="utf-8")
    with pytest.raises(GovsimError, match="Binhia"):
        opt.prepare(bad)
