"""Participation (threshold contagion): kernel vs twin, invariants, and Watts's window.

The known result (slow): on Erdős–Rényi graphs with a uniform threshold φ = 0.18 and one
random seed node, global cascades happen only for mean degrees z inside the window of
Watts (2002, Fig. 1), whose edges solve the cascade condition
Σ_k k(k − 1) ρ_k p_k = z with ρ_k = 1 for k ≤ ⌊1/φ⌋ (Watts 2002: the
cascade condition for the vulnerable cluster to percolate), p_k the Poisson(z) degree distribution.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from reference import participation as ref

from sim.city.network import edges_to_csr
from sim.kernels import participation as _participation
from sim.kernels.participation import (
    EngagedNeighbours,
)
from sim.scenario.schema import Scenario
from sim.validation.participation import cascade_alone, cascade_frequency, erdos_renyi

PARAMS = {
    "default": {},
    "no_spread": {"threshold_spread": 0.0, "threshold_mean": 0.3},
    "zero_threshold": {"threshold_mean": 0.0, "threshold_spread": 0.0},
    "one_threshold": {"threshold_mean": 1.0, "threshold_spread": 0.0},
    "fast_decay": {"decay": 1.0, "baseline": 0.9, "publicity_gain": 0.5, "org_gain": 0.5},
    "strong_feedback": {"efficacy_gain": 1.0, "failure_loss": 1.0},
    "no_feedback": {"efficacy_gain": 0.0, "failure_loss": 0.0, "decay": 0.0},
}

# the schema's values: kernels have no defaults for modelled quantities
DEFAULTS = {
    k: v
    for k, v in _participation.Params.from_scenario(Scenario.model_validate({"name": "t"}))
    .kwargs()
    .items()
    if k not in ("publicity",)
}
PARAMS = {name: {**DEFAULTS, **kw} for name, kw in PARAMS.items()}


def participation_step(*args, **kw):
    """The kernel, with the schema's values for the parameters not given."""
    return _participation.participation_step(*args, **{**DEFAULTS, **kw})


def small_world(n: int, seed: int, isolated: int = 3):
    """A random graph with a few isolated nodes and random states and counts."""
    rng = np.random.default_rng(seed)
    m = 2 * n
    u = rng.integers(isolated, n, m)
    v = rng.integers(isolated, n, m)
    indptr, indices = edges_to_csr(n, u, v)
    p = rng.random(n).astype(np.float32)
    p[rng.random(n) < 0.3] = 0.5  # exactly at the engaged level
    org = (rng.random(n) < 0.3).astype(np.uint8)
    n_res = rng.integers(0, 3, n).astype(np.int32)
    n_fail = rng.integers(0, 3, n).astype(np.int32)
    return p, indptr, indices, org, n_res, n_fail


@pytest.mark.twin
@pytest.mark.parametrize("name", sorted(PARAMS))
@pytest.mark.parametrize("seed", [1, 2])
def test_kernel_matches_twin(name, seed):
    p, indptr, indices, org, n_res, n_fail = small_world(80, seed)
    kw = {"publicity": 0.4, "seed": seed, **PARAMS[name]}
    got = participation_step(p, indptr, indices, org, n_res, n_fail, **kw)
    want = ref.participation_step(p, indptr, indices, org, n_res, n_fail, **kw)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want, strict=True)
    assert np.all((got >= 0.0) & (got <= 1.0))


@pytest.mark.twin
@pytest.mark.parametrize("name", ["default", "strong_feedback"])
def test_kernel_matches_twin_with_few_reports_over_several_blocks(name):
    """Most residents have no report (the kernel's branch-free sweep), a few do; the
    engaged neighbours are counted afresh, then kept (EngagedNeighbours) for a second day."""
    p, indptr, indices, org, n_res, n_fail = small_world(9000, 4)
    rng = np.random.default_rng(5)
    n_res = np.where(rng.random(9000) < 0.01, n_res, 0).astype(np.int32)
    n_fail = np.where(rng.random(9000) < 0.01, n_fail, 0).astype(np.int32)
    kw = {"publicity": 0.4, "seed": 4, **PARAMS[name]}
    memory = EngagedNeighbours()
    for _ in range(2):
        got = participation_step(p, indptr, indices, org, n_res, n_fail, **kw, neighbours=memory)
        want = ref.participation_step(p, indptr, indices, org, n_res, n_fail, **kw)
        np.testing.assert_array_equal(got, want, strict=True)
        p = got


def test_no_residents():
    e = np.empty(0, dtype=np.int32)
    out = participation_step(
        np.empty(0, np.float32), np.zeros(1, np.int64), e, e.astype(np.uint8), e, e,
        publicity=0.5, seed=0,
    )  # fmt: skip
    assert out.shape == (0,)


def test_results_do_not_depend_on_thread_count():
    p, indptr, indices, org, n_res, n_fail = small_world(50_000, 3)
    before = numba.get_num_threads()
    try:
        outs = []
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            outs.append(
                participation_step(p, indptr, indices, org, n_res, n_fail, publicity=0.3, seed=9)
            )
    finally:
        numba.set_num_threads(before)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0], strict=True)


def test_out_must_not_alias_input():
    p, indptr, indices, org, n_res, n_fail = small_world(20, 1)
    with pytest.raises(ValueError, match="synchronous"):
        participation_step(p, indptr, indices, org, n_res, n_fail, publicity=0, seed=0, out=p)
    with pytest.raises(ValueError, match="one per resident"):
        participation_step(p, indptr, indices, org[:-1], n_res, n_fail, publicity=0, seed=0)


def test_publicity_raises_and_neglect_lowers_propensity():
    """Without ties or reports, propensity relaxes to b₀ + β_pub·publicity (+ β_org)."""
    n = 1000
    p = np.full(n, 0.35, dtype=np.float32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    e = np.empty(0, np.int32)
    org = np.zeros(n, np.uint8)
    org[: n // 2] = 1
    zeros = np.zeros(n, np.int32)
    means = {}
    for pub in (0.0, 1.0):
        q = p
        for _ in range(300):
            q = participation_step(
                q, indptr, e, org, zeros, zeros, publicity=pub, seed=0, baseline=0.2,
                publicity_gain=0.3, org_gain=0.15, decay=0.01,
            )  # fmt: skip
        means[pub] = q
    # b = 0.2 + 0.3·pub + 0.15·org; after 300 days at δ = 0.01 the gap shrinks by e^-3
    for pub, q in means.items():
        for member in (0, 1):
            b = 0.2 + 0.3 * pub + 0.15 * member
            want = b + (0.35 - b) * 0.99**300
            assert q[org == member].mean() == pytest.approx(want, abs=1e-4)
    assert means[1.0].mean() > means[0.0].mean()


def test_efficacy_feedback():
    n = 4
    p = np.full(n, 0.4, dtype=np.float32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    e = np.empty(0, np.int32)
    n_res = np.array([0, 1, 2, 0], np.int32)
    n_fail = np.array([0, 0, 0, 1], np.int32)
    q = participation_step(
        p, indptr, e, np.zeros(n, np.uint8), n_res, n_fail, publicity=0.0, seed=0, decay=0.0
    )
    p0 = float(np.float32(0.4))
    assert q[1] == np.float32(p0 + 0.1 * (1.0 - p0))
    assert q[2] > q[1] > q[0] > q[3]


@pytest.mark.twin
@pytest.mark.parametrize("z", [1.5, 3.0, 6.0])
def test_cascade_matches_full_sweep_twin(z):
    """The frontier-restricted cascade reaches the same state in the same sweeps."""
    rng = np.random.default_rng(int(z * 10))
    for _ in range(5):
        indptr, indices = erdos_renyi(300, z, rng)
        seeds = rng.integers(0, 300, 2)
        got, sweeps = cascade_alone(indptr, indices, 0.18, seeds)
        want, want_sweeps = ref.cascade_alone(indptr, indices, 0.18, seeds)
        np.testing.assert_array_equal(got, want)
        assert sweeps == want_sweeps


def test_erdos_renyi_degrees_are_poisson():
    rng = np.random.default_rng(0)
    deg = np.concatenate([np.diff(erdos_renyi(5000, 4.0, rng)[0]) for _ in range(10)])
    assert deg.mean() == pytest.approx(4.0, abs=0.05)
    assert deg.var() == pytest.approx(4.0, abs=0.15)
    share0 = np.mean(deg == 0)
    assert share0 == pytest.approx(math.exp(-4.0), abs=0.005)


def analytic_window(phi: float) -> tuple[float, float]:
    """The two z solving Σ_k k(k−1) ρ_k p_k = z for Poisson p_k, ρ_k = [k ≤ ⌊1/φ⌋]."""
    from scipy import optimize, stats

    k_star = math.floor(1.0 / phi)
    k = np.arange(k_star + 1)

    def excess(z):
        return float(np.sum(k * (k - 1) * stats.poisson.pmf(k, z))) - z

    peak = optimize.minimize_scalar(lambda z: -excess(z), bounds=(1.0, 10.0), method="bounded")
    assert excess(peak.x) > 0.0, "no cascade window for this φ"
    return optimize.brentq(excess, 0.5, peak.x), optimize.brentq(excess, peak.x, 20.0)


def crossing(z, f, level, rising):
    """z where the frequency crosses ``level`` (linear interpolation), scanning upward."""
    for a in range(len(z) - 1):
        lo, hi = f[a], f[a + 1]
        if (rising and lo < level <= hi) or (not rising and lo >= level > hi):
            return z[a] + (level - lo) * (z[a + 1] - z[a]) / (hi - lo)
    raise AssertionError(f"no crossing of {level} in {list(zip(z, f, strict=True))}")


@pytest.mark.slow
def test_watts_cascade_window():
    """Watts (2002), Fig. 1: the cascade window of φ = 0.18 on Erdős–Rényi graphs.

    n = 10,000 nodes; 200 trials per z (a fresh graph and one uniformly chosen seed node
    each); a cascade is global when it reaches ≥ 1 % of the nodes. A measured edge is
    where the frequency of global cascades crosses 5 %, interpolated on a grid of z
    (step 0.05 at the lower edge, 0.1 at the upper). Tolerance: each measured edge within
    10 % of the analytic one (z₁ ≈ 1.02, z₂ ≈ 5.76). The measured upper edge sits above
    z₂ (≈ 6.1 here): in finite networks cascades also hop between vulnerable clusters,
    displacing the upper boundary upward (Whitney, "Exploring Watts' cascade boundary",
    MIT ESD working paper), an effect already visible in Watts's own simulations.
    Inside the window (z = 2 … 5) most seeds trigger a global cascade; outside (z = 0.5,
    7.5, 10) none does.
    """
    phi = 0.18
    z1, z2 = analytic_window(phi)
    assert z1 == pytest.approx(1.0207, abs=1e-3) and z2 == pytest.approx(5.7647, abs=1e-3)
    rng = np.random.default_rng(2002)
    z_low = np.round(np.arange(0.8, 1.31, 0.05), 2)
    z_high = np.round(np.arange(5.5, 6.61, 0.1), 2)
    f_low, _ = cascade_frequency(z_low, 10_000, phi, 200, rng)
    f_high, _ = cascade_frequency(z_high, 10_000, phi, 200, rng)
    edge_low = crossing(z_low, f_low, 0.05, rising=True)
    edge_high = crossing(z_high, f_high, 0.05, rising=False)
    print(f"analytic window [{z1:.3f}, {z2:.3f}]; measured [{edge_low:.3f}, {edge_high:.3f}]")
    print("lower:", dict(zip(z_low.tolist(), f_low.tolist(), strict=True)))
    print("upper:", dict(zip(z_high.tolist(), f_high.tolist(), strict=True)))
    assert abs(edge_low - z1) <= 0.1 * z1
    assert abs(edge_high - z2) <= 0.1 * z2
    f_in, size_in = cascade_frequency([2.0, 3.0, 4.0, 5.0], 10_000, phi, 50, rng)
    f_out, _ = cascade_frequency([0.5, 7.5, 10.0], 10_000, phi, 50, rng)
    print("inside:", f_in.tolist(), "sizes", size_in.tolist(), "outside:", f_out.tolist())
    assert np.all(f_in >= 0.5)
    assert np.all(size_in >= 0.75)  # global cascades take most of the network
    assert np.all(f_out == 0.0)
