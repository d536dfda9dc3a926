"""Monthly reallocation: pooled allocation is the Erlang-C optimum; equity closes the gap.

Known result (Fox 1966; Dyer & Proll 1977): λ·W_q of an M/M/c queue is decreasing and
convex in c, so greedy marginal allocation of a fixed number of servers minimises the
total expected waiting Σ λ_i·W_q,i. Checked here against brute force over every integer
split of the budget, with W_q from the textbook Erlang C formula (not the module's).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from reference import reallocation as ref

from sim.kernels import reallocation as _reallocation
from sim.kernels.reallocation import (
    _greedy_kernel,
    capacity_per_resident,
    largest_remainder,
    resize_pools,
    social_org_capacity,
)
from sim.pools import Pools
from sim.validation.reallocation import reallocation_alone


def allocate(*args, **kw):
    """The rule with full data sharing, no equity weight and no floor unless told."""
    return _reallocation.allocate(
        *args, **{"sharing": 1.0, "equity_weight": 0.0, "min_slots": 0, **kw}
    )


def wq_textbook(lam: float, mu: float, c: int) -> float:
    """Erlang C's W_q from the factorial form (Kleinrock 1975, §3.5)."""
    if lam == 0:
        return 0.0
    a = lam / mu
    if c <= a:
        return math.inf
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def brute_force(lam, mu, budget, c_min=0):
    """(best objective, all optimal splits) over every split of the budget."""
    n = len(lam)
    best, arg = math.inf, []
    for head in itertools.product(range(c_min, budget + 1), repeat=n - 1):
        last = budget - sum(head)
        if last < c_min:
            continue
        c = (*head, last)
        v = sum(lam[i] * wq_textbook(lam[i], mu[i], c[i]) for i in range(n))
        if v < best - 1e-12 * max(best, 1.0) if best < math.inf else v < best:
            best, arg = v, [c]
        elif math.isfinite(v) and abs(v - best) <= 1e-12 * max(best, 1.0):
            arg.append(c)
    return best, arg


CASES = [  # (arrival rates λ_i per day, service rate μ per slot-day, budget)
    ([3.0, 7.0], 1.0, 14),
    ([3.0, 7.0], 1.0, 12),  # exactly the slots that make both stable
    ([0.5, 9.5], 2.0, 9),
    ([2.0, 5.0, 11.0], 1.0, 24),
    ([2.0, 5.0, 11.0], 1.0, 21),
    ([12.0, 1.0, 4.5], 1.5, 16),
    ([0.0, 4.0, 8.0], 1.0, 18),
    ([6.0, 6.0, 6.0], 1.0, 21),
]


@pytest.mark.parametrize(("lam", "mu", "budget"), CASES)
def test_pooled_with_full_data_is_the_brute_force_optimum(lam, mu, budget):
    slots = allocate("pooled", lam, budget, mu, sharing=1.0)
    mus = [mu] * len(lam)
    best, optimal = brute_force(lam, mus, budget)
    got = sum(lam[i] * wq_textbook(lam[i], mu, int(slots[i])) for i in range(len(lam)))
    assert slots.sum() == budget
    assert got == pytest.approx(best, rel=1e-9)
    assert tuple(int(x) for x in slots) in optimal


@pytest.mark.parametrize("seed", range(20))
def test_pooled_optimum_random_groups(seed):
    """Random heterogeneous groups (different μ_i), with floors of one slot."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4))
    mu = rng.uniform(0.5, 3.0, n)
    lam = rng.uniform(0.0, 6.0, n) * mu
    need = int(sum(math.floor(x) + 1 for x in lam / mu))
    budget = need + int(rng.integers(0, 8))
    slots = allocate("pooled", lam, budget, mu, min_slots=1)
    best, optimal = brute_force(list(lam), list(mu), budget, c_min=1)
    got = sum(lam[i] * wq_textbook(lam[i], mu[i], int(slots[i])) for i in range(n))
    assert got == pytest.approx(best, rel=1e-9)
    assert tuple(int(x) for x in slots) in optimal


@pytest.mark.twin
@pytest.mark.parametrize("seed", range(6))
def test_greedy_kernel_matches_twin(seed):
    rng = np.random.default_rng(100 + seed)
    n = 6
    mu = rng.uniform(0.5, 2.0, n)
    lam = rng.uniform(0.0, 8.0, n)
    lam[seed % n] = 0.0
    c_min = rng.integers(0, 3, n)
    budget = int(sum(max(c_min[i], math.floor(lam[i] / mu[i]) + 1) for i in range(n))) + 15
    w = rng.uniform(0.5, 2.0, n)
    out = np.empty(n, dtype=np.int64)
    assert _greedy_kernel(lam, mu, w, c_min, budget, out)
    assert out.tolist() == ref.greedy(list(lam), list(mu), list(w), list(c_min), budget)
    assert not _greedy_kernel(lam, mu, w, c_min, 2, out.copy())
    assert ref.greedy(list(lam), list(mu), list(w), list(c_min), 2) is None


@pytest.mark.twin
@pytest.mark.parametrize("seed", range(6))
def test_largest_remainder_matches_twin(seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 10, 7)
    total = 40
    floor_ = np.ones(7, dtype=np.int64)
    got = largest_remainder(t, total, floor_)
    extra = np.maximum(t - floor_, 0)
    target = floor_ + (total - 7) * extra / extra.sum()
    assert got.tolist() == ref.largest_remainder(list(target), total, list(floor_))
    assert got.sum() == total and np.all(got >= 1)
    assert np.all(np.abs(got - target) < 1.0)


def test_sharing_limits_what_pooling_sees():
    lam = np.array([2.0, 10.0])
    shares = np.array([0.5, 0.5])
    full = reallocation_alone("pooled", lam, 18, 1.0, base_shares=shares, sharing=1.0)
    blind = reallocation_alone("pooled", lam, 18, 1.0, base_shares=shares, sharing=0.0)
    half = reallocation_alone("pooled", lam, 18, 1.0, base_shares=shares, sharing=0.5)
    silo = reallocation_alone("siloed", lam, 18, 1.0, base_shares=shares)
    assert blind.slots.tolist() == silo.slots.tolist() == [9, 9]  # sees only the prior
    assert silo.total_wait == math.inf  # 10 a day into 9 slots: unstable
    assert full.slots.tolist() == [4, 14] and half.slots.tolist() == [7, 11]
    assert full.total_wait < half.total_wait < blind.total_wait


def test_siloed_is_fixed_shares_whatever_the_demand():
    for lam in ([1.0, 1.0, 1.0], [9.0, 0.1, 0.1]):
        assert allocate("siloed", lam, 20, 1.0, base_shares=[0.5, 0.3, 0.2]).tolist() == [10, 6, 4]


def test_equity_closes_the_urban_rural_gap():
    pop = np.array([300_000, 200_000, 250_000, 150_000])
    rural = np.array([0.1, 0.3, 0.7, 0.9])
    shares = np.array([0.4, 0.3, 0.2, 0.1])  # historical urban bias in capacity per head
    budget = 900
    gaps = []
    for w in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = allocate("equity", [5.0] * 4, budget, 1.0, base_shares=shares, population=pop,
                     equity_weight=w)  # fmt: skip
        assert x.sum() == budget
        u, r = capacity_per_resident(x, pop, rural)
        gaps.append(u - r)
    assert gaps[0] > 0.3  # urban residents start with more slots per 1,000
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False))
    assert abs(gaps[-1]) < 0.01
    assert gaps[2] == pytest.approx(gaps[0] / 2, abs=0.01)  # shrinks with 1 − w
    # weighted by need (cases per head), capacity per case is equalised instead
    need = np.array([1.0, 1.0, 1.5, 1.5])
    x = allocate("equity", [5.0] * 4, budget, 1.0, base_shares=shares, population=pop,
                 equity_weight=1.0, need=need)  # fmt: skip
    per_case = x / (pop * need)
    assert np.ptp(per_case) / per_case.mean() < 0.01


def test_unstable_budget_warns_and_splits_by_load():
    with pytest.warns(RuntimeWarning, match="cannot make every pool stable"):
        x = allocate("pooled", [3.0, 9.0], 8, 1.0)
    assert x.tolist() == [2, 6]


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "market"}, {"budget": 1, "min_slots": 1}, {"mu": 0.0}, {"sharing": 1.5},
     {"mode": "equity"}, {"mode": "equity", "population": [1, 1, 1], "equity_weight": 2.0},
     {"arrivals": [[1.0]]}, {"arrivals": [-1.0, 1.0, 1.0]}],
)  # fmt: skip
def test_bad_arguments_are_rejected(kwargs):
    args = {"mode": "pooled", "arrivals": [1.0, 2.0, 3.0], "budget": 10, "mu": 1.0, **kwargs}
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        allocate(args.pop("mode"), args.pop("arrivals"), args.pop("budget"), args.pop("mu"),
                 **args)  # fmt: skip


def test_social_org_capacity_grows_on_a_linear_ramp():
    k = 10.0
    path = []
    for _ in range(12):  # monthly steps toward a funded target of 40, ramp T = 360 days
        k = float(social_org_capacity(k, 40.0, 30.0, 360.0))
        path.append(k)
    # 40 slots a year: +3.33 a month until the target, never above it
    assert path[0] == pytest.approx(10.0 + 40.0 / 12)
    assert path[8] == pytest.approx(40.0) and max(path) == 40.0
    assert all(a <= b for a, b in zip(path, path[1:], strict=False))
    # a funding cut takes effect at once
    assert float(social_org_capacity(40.0, 25.0, 30.0, 360.0)) == 25.0


def test_resize_pools_keeps_busy_slots_and_totals():
    pools = Pools(
        kind=np.array([1, 1, 1], dtype=np.uint8), county=np.zeros(3, np.int16),
        sector=np.zeros(3, np.int8), servers=np.array([3, 2, 0], np.int32),
        server_ptr=np.array([0, 3, 5, 5], np.int64),
        free_at=np.array([10.0, 50.0, 30.0, 5.0, 6.0]), duty=np.zeros((8, 2)),
        weekends=np.zeros(8, np.uint8), service_hours=np.ones((8, 4)),
        resolve_prob=np.ones((8, 4)), staff_per_duty_day=np.array([1.5, 1.0, 0.0]),
        dept_pool=np.zeros((1, 10), np.int32), grid_pool=np.zeros(0, np.int32),
        town_pool=np.zeros(0, np.int32), social_pool=np.zeros(1, np.int32),
        mass_pool=np.zeros(1, np.int32), petition_pool=np.zeros(1, np.int32),
        hotline_pool=0, online_pool=0,
    )  # fmt: skip
    new = resize_pools(pools, np.array([2, 4, 1]), now=24.0)
    assert new.server_ptr.tolist() == [0, 2, 6, 7]
    assert new.free_at.tolist() == [50.0, 30.0, 5.0, 6.0, 24.0, 24.0, 24.0]
    assert new.staff_per_duty_day.tolist() == pytest.approx([1.0, 2.0, 0.5])
    assert pools.servers.tolist() == [3, 2, 0]  # the original is untouched


def test_a_floor_the_budget_cannot_give_is_the_even_share():
    """reallocation.min_slots above what a group's budget can give every pool (a
    downscaled city has many one-slot pools) lowers the floor to the even share instead of
    stopping the run (a Latin-hypercube point of the uncertainty analysis did stop)."""
    from sim.run import run_scenario
    from sim.scenario.schema import Scenario

    sc = Scenario.model_validate(
        {
            "name": "floor",
            "scale": 0.002,
            "days": 30,
            "warmup_days": 0,
            "seed": 3,
            "levers": {"capability": {"resource_allocation": "pooled"}},
            "reallocation": {"min_slots": 5, "period_days": 10},
        }
    )
    res = run_scenario(sc)  # stopped with "sum(min_slots) <= budget" before
    assert res.daily["resolved"].sum() > 0
