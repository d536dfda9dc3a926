"""Tests of the city synthesis (sim/city/build.py) and the social network (sim/city/network.py).

Rates are checked on one city at scale 0.01 (67,096 residents); each tolerance is about
five binomial (or Beta) standard errors at that sample size, noted beside the check.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from reference.network import edges_to_csr as edges_to_csr_reference

from sim.city import City, build_city
from sim.city.build import MAX_HOUSEHOLD_SIZE
from sim.city.network import edges_to_csr, household_pairs, random_ties
from sim.city.population import (
    AGE_CHILD,
    AGE_ELDERLY,
    VULN_ASSISTANCE,
    VULN_ELDERLY_ALONE,
    VULN_LEFT_BEHIND,
)
from sim.errors import GovsimError
from sim.scenario.schema import CapabilityLevers, CityParams, County, Levers, Scenario

RESIDENT_DTYPES = {
    "county": np.int16,
    "grid": np.int32,
    "household": np.int32,
    "age_group": np.uint8,
    "urban": np.uint8,
    "hardship": np.float32,
    "vulnerability": np.uint8,
    "digital": np.uint8,
    "org_member": np.uint8,
    "trust": np.float32,
    "participation": np.float32,
    "grievance": np.float32,
}
INITIAL_STATE = {"digital", "trust", "participation", "grievance"}  # on City.initial


def resident_array(city: City, name: str) -> np.ndarray:
    """A per-resident array of the city: static, or the initial state of a run."""
    return getattr(city.initial if name in INITIAL_STATE else city, name)


TERRITORY_DTYPES = {
    "county_population": np.int64,
    "grid_county": np.int32,
    "grid_town": np.int32,
    "grid_community": np.int32,
    "grid_urban": np.uint8,
    "grid_start": np.int64,
    "grid_lon": np.float64,
    "grid_lat": np.float64,
    "town_county": np.int32,
    "nbr_indptr": np.int64,
    "nbr_indices": np.int32,
}


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario(name="t", scale=0.01)


@pytest.fixture(scope="module")
def city(scenario: Scenario) -> City:
    return build_city(scenario)


def _small_city_scenario(**city_kw) -> Scenario:
    counties = [
        County(name_zh="甲县", name_en="Jia", population=300_000, urban_share=0.7),
        County(name_zh="乙县", name_en="Yi", population=150_001, urban_share=0.3),
        County(name_zh="丙县", name_en="Bing", population=50_000, urban_share=0.0),
    ]
    params = CityParams(total_population=500_001, counties=counties, **city_kw)
    return Scenario(name="t", scale=0.01, city=params)


def _rows(indptr: np.ndarray, indices: np.ndarray) -> list[np.ndarray]:
    return [indices[indptr[i] : indptr[i + 1]] for i in range(indptr.shape[0] - 1)]


# ------------------------------------------------------------------ territory and counts


@pytest.mark.parametrize("scale", [0.002, 0.0037, 0.005, 0.01])
def test_totals_exact_and_counties_proportional(scale: float) -> None:
    sc = Scenario(name="t", scale=scale)
    c = build_city(sc)
    n = int(np.floor(sc.city.total_population * scale + 0.5))
    assert c.n_residents == n
    assert int(c.county_population.sum()) == n
    assert int(c.grid_start[-1]) == n
    assert np.array_equal(np.bincount(c.county, minlength=c.n_counties), c.county_population)
    quotas = np.array([k.population for k in sc.city.counties]) * scale
    assert np.all(np.abs(c.county_population - quotas) < 1.0)  # largest remainder
    assert c.county_names_zh == [k.name_zh for k in sc.city.counties]
    assert c.county_names_en == [k.name_en for k in sc.city.counties]


def test_dtypes_and_shapes(city: City) -> None:
    n = city.n_residents
    for name, dtype in RESIDENT_DTYPES.items():
        arr = resident_array(city, name)
        assert arr.dtype == dtype, name
        assert arr.shape == (n,), name
    for name, dtype in TERRITORY_DTYPES.items():
        assert getattr(city, name).dtype == dtype, name
    g = city.n_grids
    for name in ("grid_county", "grid_town", "grid_community", "grid_urban", "grid_lon"):
        assert getattr(city, name).shape == (g,), name
    assert city.grid_start.shape == (g + 1,)
    assert city.nbr_indptr.shape == (n + 1,)
    assert city.county_population.shape == (city.n_counties,)


@pytest.mark.parametrize("residents_per_grid", [500, 1000, 2500])
def test_grid_sizes_near_residents_per_grid(residents_per_grid: int) -> None:
    """Grids are drawn over the residents of each county's urban and rural parts:
    round(n / size) grids split as evenly as possible, rural grids
    ``city.rural_grid_size_ratio`` times larger."""
    levers = Levers(capability=CapabilityLevers(residents_per_grid=residents_per_grid))
    sc = Scenario(name="t", scale=0.005, levers=levers)
    c = build_city(sc)
    sizes = np.diff(c.grid_start)
    for k in range(c.n_counties):
        for urban in (1, 0):
            part = (c.grid_county == k) & (c.grid_urban == urban)
            if not part.any():
                continue
            s = sizes[part]
            size = residents_per_grid * (1.0 if urban else sc.city.rural_grid_size_ratio)
            n = int(s.sum())
            assert s.shape[0] == max(1, int(np.floor(n / size + 0.5)))
            # split as evenly as possible, boundaries moved to a household's end
            slack = 2 * MAX_HOUSEHOLD_SIZE
            assert s.max() - s.min() <= 1 + slack
            if s.shape[0] >= 2:  # round(n / R) grids: each has R·x/round(x) ∈ [0.75 R, 1.25 R]
                assert np.all(np.abs(s - size) <= 0.25 * size + 1 + slack)
            else:
                assert s[0] < 1.5 * size + 1


def test_number_of_grids_scales(scenario: Scenario) -> None:
    small = build_city(Scenario(name="t", scale=0.005))
    large = build_city(scenario)  # 0.01
    assert abs(large.n_grids - 2 * small.n_grids) <= small.n_counties
    assert abs(np.diff(large.grid_start).mean() - np.diff(small.grid_start).mean()) < 50


def test_urban_grids_and_hierarchy(scenario: Scenario, city: City) -> None:
    p = scenario.city
    block_county = city.county[city.block_start[:-1]]
    block_urban = city.urban[city.block_start[:-1]]
    for k, spec in enumerate(p.counties):  # urban share counted on the residents' blocks
        urban = block_urban[block_county == k]
        n_grids = urban.shape[0]
        n_urban = int(urban.sum())
        expected = int(np.floor(n_grids * spec.urban_share + 0.5))
        if n_grids >= 2:
            expected = min(max(expected, 1), n_grids - 1)
        assert n_urban == expected
        assert np.all(urban[:n_urban] == 1) and np.all(urban[n_urban:] == 0)  # urban first
    # ids are global, contiguous and non-decreasing along the grids
    for ids in (city.grid_county, city.grid_town, city.grid_community):
        assert ids[0] == 0 and np.all(np.diff(ids) >= 0) and np.all(np.diff(ids) <= 1)
    assert city.grid_town[-1] == city.n_towns - 1
    # a community: at most grids_per_community grids, one county, one kind (urban or rural)
    comm_sizes = np.bincount(city.grid_community)
    assert comm_sizes.max() <= p.grids_per_community
    for ids in (city.grid_community, city.grid_town):
        for attr in (city.grid_county, city.grid_urban):
            change = ids[1:] == ids[:-1]
            assert np.all(attr[1:][change] == attr[:-1][change])
    # a town: at most communities_per_town communities; town_county matches its grids
    first = np.flatnonzero(np.r_[True, np.diff(city.grid_community) > 0])
    assert np.bincount(city.grid_town[first]).max() <= p.communities_per_town
    assert np.array_equal(city.town_county[city.grid_town], city.grid_county)


def test_towns_at_full_scale_counts() -> None:
    # Territory only (no residents): the 1:1 city has ≈6,700 grids and ≈140 towns.
    from sim.city.build import _county_residents, _territory

    sc = Scenario(name="t", scale=1.0)
    t = _territory(sc.city, _county_residents(sc.city, 1.0), 1000)
    assert 6600 <= t["grid_county"].shape[0] <= 6800
    assert 100 <= t["town_county"].shape[0] <= 200


def test_locality_ordering(city: City) -> None:
    assert np.all(np.diff(city.grid) >= 0)
    assert np.all(np.diff(city.household) >= 0)
    assert city.household[0] == 0 and np.all(np.diff(city.household) <= 1)
    assert city.grid_start[0] == 0
    assert np.array_equal(np.diff(city.grid_start), np.bincount(city.grid, minlength=city.n_grids))
    assert np.array_equal(city.county, city.grid_county[city.grid])
    assert np.array_equal(city.urban, city.grid_urban[city.grid])
    # county, town and community follow the resident order too
    for ids in (city.grid_town, city.grid_community):
        assert np.all(np.diff(ids[city.grid]) >= 0)
    # a household never spans two grids
    change = city.household[1:] == city.household[:-1]
    assert np.all(city.grid[1:][change] == city.grid[:-1][change])


def test_scale_too_small_is_a_clear_error() -> None:
    with pytest.raises(GovsimError, match="too small.*响水县"):
        build_city(Scenario(name="t", scale=1e-6))


# ------------------------------------------------------------------ residents


def test_households(scenario: Scenario, city: City) -> None:
    sizes = np.bincount(city.household)
    assert sizes.min() >= 1 and sizes.max() <= 8
    # sd of the mean size over ~25,800 households ≈ 0.008; one cut household per grid ≈ -0.01
    assert abs(sizes.mean() - scenario.city.mean_household_size) < 0.05
    # every household of two or more has a resident who is not a child
    adults = np.bincount(city.household, weights=city.age_group != AGE_CHILD)
    assert np.all(adults >= 1)


def test_age_shares(scenario: Scenario, city: City) -> None:
    p = scenario.city
    age = city.age_group
    urban = city.urban == 1
    # binomial sd of a share over 67,096 residents ≤ 0.0018
    assert abs((age == AGE_CHILD).mean() - p.child_share) < 0.01
    assert abs((age == AGE_ELDERLY).mean() - p.elderly_share) < 0.01
    rural_e = (age[~urban] == AGE_ELDERLY).mean()
    urban_e = (age[urban] == AGE_ELDERLY).mean()
    assert 1.3 < rural_e / urban_e < 1.7  # rural older, ratio 1.5 by design


def test_vulnerability_rates(scenario: Scenario, city: City) -> None:
    p = scenario.city
    v = city.vulnerability
    elderly = city.age_group == AGE_ELDERLY
    alone = (v & VULN_ELDERLY_ALONE) > 0
    size = np.bincount(city.household)[city.household]
    assert np.array_equal(alone, elderly & (size == 1))  # the definition
    # ~18,800 elderly: sd of the rate ≈ 0.0024
    assert abs(alone[elderly].mean() - p.elderly_alone_rate) < 0.012
    left = (v & VULN_LEFT_BEHIND) > 0
    rural_child = (city.urban == 0) & (city.age_group == AGE_CHILD)
    assert not np.any(left & ~rural_child)
    # ~3,400 rural children: sd ≈ 0.006
    assert abs(left[rural_child].mean() - p.left_behind_rate) < 0.03
    assist = (v & VULN_ASSISTANCE) > 0
    assert abs(assist.mean() - p.assistance_rate) < 0.004  # sd ≈ 0.0007
    h = city.hardship
    assert h[assist].mean() > h[~assist].mean() + 0.05  # higher with hardship


def test_attributes(scenario: Scenario, city: City) -> None:
    p = scenario.city
    urban = city.urban == 1
    elderly = city.age_group == AGE_ELDERLY
    init = city.initial
    # Beta(mean, κ=4): sd of H is ≈ 0.19-0.21, so the mean over ≥24,000 has sd ≤ 0.0014
    assert abs(city.hardship[urban].mean() - p.hardship_urban) < 0.007
    assert abs(city.hardship[~urban].mean() - p.hardship_rural) < 0.007
    # Beta(mean, κ=10): sd ≈ 0.15, so sd of the mean ≈ 0.0006
    assert abs(init.trust.mean() - p.trust_mean) < 0.003
    assert abs(init.participation.mean() - p.participation_mean) < 0.003
    for x in (city.hardship, init.trust, init.participation, init.grievance):
        assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_array_equal(init.grievance, city.hardship * (np.float32(1) - init.trust))
    # digital access (binomial sd ≤ 0.004 in each group); elderly at half the rate
    assert abs(init.digital[urban & ~elderly].mean() - p.digital_access_urban) < 0.015
    assert abs(init.digital[~urban & ~elderly].mean() - p.digital_access_rural) < 0.02
    assert abs(init.digital[urban & elderly].mean() - 0.5 * p.digital_access_urban) < 0.02
    assert abs(city.org_member.mean() - p.org_membership_rate) < 0.007  # sd ≈ 0.0014
    assert set(np.unique(init.digital)) <= {0, 1} and set(np.unique(city.org_member)) <= {0, 1}


def test_determinism(scenario: Scenario, city: City) -> None:
    again = build_city(scenario)
    other = build_city(scenario.model_copy(update={"seed": scenario.seed + 1}))
    differs = []
    for name in (*RESIDENT_DTYPES, *TERRITORY_DTYPES):
        a, b = resident_array(city, name), resident_array(again, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
        c = resident_array(other, name)
        differs.append(a.shape != c.shape or not np.array_equal(a, c))
    assert np.array_equal(city.county_population, other.county_population)  # not random
    assert any(differs)
    for name in ("household", "trust", "hardship", "nbr_indices", "grid_lon"):
        assert not np.array_equal(resident_array(city, name), resident_array(other, name)), name


# ------------------------------------------------------------------ social network


def test_csr_well_formed(city: City) -> None:
    indptr, indices = city.nbr_indptr, city.nbr_indices
    n = city.n_residents
    assert indptr[0] == 0 and indptr[-1] == indices.shape[0]
    assert np.all(np.diff(indptr) >= 0)
    assert indices.min() >= 0 and indices.max() < n
    row = np.repeat(np.arange(n), np.diff(indptr))
    assert not np.any(row == indices)  # no self loops
    same_row = row[1:] == row[:-1]
    assert np.all(indices[1:][same_row] > indices[:-1][same_row])  # sorted, no duplicates
    # symmetric: the sorted (row, col) keys equal the sorted (col, row) keys
    key = row * n + indices
    assert np.array_equal(np.sort(indices.astype(np.int64) * n + row), key)


def test_network_content(scenario: Scenario, city: City) -> None:
    p = scenario.city
    indptr, indices = city.nbr_indptr, city.nbr_indices
    n = city.n_residents
    row = np.repeat(np.arange(n), np.diff(indptr))
    key = row * n + indices.astype(np.int64)
    # every pair of household members is linked
    hu, hv = household_pairs(city.household)
    assert np.all(np.isin(hu.astype(np.int64) * n + hv, key))
    # mean degree ≈ grid + long ties + household ties E[s(s-1)]/E[s], minus repeats
    sizes = np.bincount(city.household)
    household_degree = (sizes * (sizes - 1)).sum() / n
    expected = p.neighbours_in_grid + p.long_ties + household_degree
    degree = np.diff(indptr)
    assert expected - 0.3 < degree.mean() < expected + 0.01
    assert degree.min() >= 1
    # ties outside the own household: mostly in the own grid (6 of 7 per resident)
    other_hh = city.household[row] != city.household[indices]
    same_grid = city.grid[row] == city.grid[indices]
    share = same_grid[other_hh].mean()
    assert 0.8 < share < 0.9


def test_network_parameters_zero() -> None:
    sc = _small_city_scenario(neighbours_in_grid=0, long_ties=0)
    c = build_city(sc)
    row = np.repeat(np.arange(c.n_residents), np.diff(c.nbr_indptr))
    assert np.array_equal(c.household[row], c.household[c.nbr_indices])  # households only


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("n_nodes", "n_edges"), [(0, 0), (1, 0), (5, 0), (7, 40), (60, 200)])
def test_edges_to_csr_matches_reference(seed: int, n_nodes: int, n_edges: int) -> None:
    rng = np.random.default_rng(seed)
    high = max(n_nodes, 1)
    u = rng.integers(0, high, n_edges) if n_nodes else np.zeros(0, np.int64)
    v = rng.integers(0, high, n_edges) if n_nodes else np.zeros(0, np.int64)
    if n_edges:  # make sure duplicates, reversed duplicates and self loops occur
        u = np.r_[u, u[:5], v[:5], u[:3]]
        v = np.r_[v, v[:5], u[:5], u[:3]]
    got = edges_to_csr(n_nodes, u, v)
    want = edges_to_csr_reference(n_nodes, u, v)
    assert np.array_equal(got[0], want[0]) and got[0].dtype == np.int64
    assert np.array_equal(got[1], want[1]) and got[1].dtype == np.int32


def test_edges_to_csr_long_rows_and_clique() -> None:
    # a row longer than the insertion-sort threshold, and a complete graph
    n = 150
    u = np.r_[np.zeros(n, np.int64), np.arange(n)]
    v = np.r_[np.arange(n)[::-1], np.arange(n)[::-1]]
    got = edges_to_csr(n, u, v)
    want = edges_to_csr_reference(n, u, v)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    iu, iv = np.triu_indices(9, 1)
    indptr, indices = edges_to_csr(9, iv, iu)
    for i, r in enumerate(_rows(indptr, indices)):
        assert r.tolist() == [j for j in range(9) if j != i]


def test_edges_to_csr_rejects_bad_ids() -> None:
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        edges_to_csr(3, np.array([0, 3]), np.array([1, 1]))
    with pytest.raises(ValueError, match="equal length"):
        edges_to_csr(3, np.array([0, 1]), np.array([1]))


def test_household_pairs_brute_force() -> None:
    household = np.array([0, 1, 1, 2, 2, 2, 3, 4, 4, 4, 4])
    u, v = household_pairs(household)
    want = {
        (i, j)
        for i in range(household.size)
        for j in range(i + 1, household.size)
        if household[i] == household[j]
    }
    assert set(zip(u.tolist(), v.tolist(), strict=True)) == want
    assert len(u) == len(want)


def test_random_ties_stay_in_group() -> None:
    rng = np.random.default_rng(5)
    group_start = np.array([0, 1, 3, 10, 30, 30, 100])
    u, v = random_ties(rng, group_start, 5.0)
    group = np.repeat(np.arange(6), np.diff(group_start))
    assert not np.any(u == v)
    assert np.array_equal(group[u], group[v])
    counts = np.bincount(u, minlength=100)
    assert counts[0] == 0  # alone in its group
    assert set(np.unique(counts[1:])) <= {2, 3}  # floor(5/2) plus one with prob. 1/2


# ------------------------------------------------------------------ map points


def _inside_even_odd(ring: np.ndarray, x: float, y: float) -> bool:
    """Ray casting (even-odd rule), independent of matplotlib."""
    x0, y0 = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = ring[1:, 0], ring[1:, 1]
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.count_nonzero(crosses & (x < xc)) % 2)


def test_grid_points_inside_county_polygon(city: City) -> None:
    text = resources.files("sim").joinpath("data", "yancheng_counties.geojson").read_text("utf-8")
    features = {f["properties"]["name_zh"]: f["geometry"] for f in json.loads(text)["features"]}
    assert set(city.county_names_zh) <= set(features)
    for g in range(city.n_grids):
        geom = features[city.county_names_zh[city.grid_county[g]]]
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        x, y = city.grid_lon[g], city.grid_lat[g]
        inside = any(
            _inside_even_odd(np.asarray(rings[0]), x, y)
            and not any(_inside_even_odd(np.asarray(h), x, y) for h in rings[1:])
            for rings in polygons
        )
        assert inside, (g, city.county_names_zh[city.grid_county[g]], x, y)


def test_user_defined_city_falls_back_to_circle() -> None:
    c = build_city(_small_city_scenario())
    assert c.n_residents == 5000 and c.n_counties == 3
    assert np.all(np.isfinite(c.grid_lon)) and np.all(np.isfinite(c.grid_lat))
    centres = np.array(
        [
            [c.grid_lon[c.grid_county == k].mean(), c.grid_lat[c.grid_county == k].mean()]
            for k in range(3)
        ]
    )
    assert np.all(np.hypot(*(centres - [120.16, 33.35]).T) > 0.3)  # on the circle, apart
    assert np.all(c.grid_urban[c.grid_county == 2] == 0)  # urban_share 0: all rural
