"""Data governance: misuse incidents and the trust they destroy in their grid.

Known behaviour: strict governance (life-long logging, permission control, strong
deterrence) lowers the misuse probability multiplicatively (Becker 1968), so over many
draws it gives fewer incidents and a smaller loss of trust than lax governance; a
grid's trust falls by (1 − δ)^n after n incidents (Slovic 1993).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from reference import datagov as ref

from sim.kernels.datagov import (
    apply_trust_shock,
    misuse_by_grid,
    misuse_probability,
    trust_shock,
)
from sim.kernels.route import P_MISUSE, pack_route_params
from sim.scenario.schema import Scenario
from sim.validation.datagov import _use_draws_kernel as use_draws
from sim.validation.datagov import datagov_alone

EFFECTS = {"e_log": 0.6, "e_perm": 0.5, "e_det": 0.7}
M0 = 0.002
LAX = misuse_probability(M0, False, False, 0.0, **EFFECTS)
STRICT = misuse_probability(M0, True, True, 1.0, **EFFECTS)


def test_misuse_probability_is_the_routing_formula():
    sc = Scenario.model_validate(
        {"name": "t", "levers": {"data_governance": {"access_logging": True,
                                                     "misuse_deterrence": 0.4}}}
    )  # fmt: skip
    r, g = sc.routing, sc.levers.data_governance
    p = misuse_probability(
        r.misuse_risk_per_use, g.access_logging, g.permission_control, g.misuse_deterrence,
        e_log=r.misuse_logging_effect, e_perm=r.misuse_permission_effect,
        e_det=r.misuse_deterrence_effect,
    )  # fmt: skip
    assert p == pack_route_params(sc)[P_MISUSE]
    assert LAX == M0 and STRICT == pytest.approx(M0 * 0.4 * 0.5 * 0.3)
    with pytest.raises(ValueError):
        misuse_probability(1.5, False, False, 0.0, **EFFECTS)


@pytest.mark.twin
@pytest.mark.parametrize("seed", range(4))
def test_kernels_match_twin(seed):
    rng = np.random.default_rng(seed)
    n_grids = 12
    codes = rng.choice(np.array([0, 1, 2], np.uint8), 500, p=[0.5, 0.4, 0.1])
    grid = rng.integers(0, n_grids, 500).astype(np.int32)
    counts = misuse_by_grid(codes, grid, n_grids)
    assert counts.tolist() == ref.misuse_by_grid(codes, grid, n_grids)
    shock = trust_shock(counts, 0.07)
    np.testing.assert_array_equal(shock, ref.trust_shock(counts.tolist(), 0.07))
    starts = np.concatenate([[0], np.cumsum(rng.integers(0, 30, n_grids))])
    trust = rng.random(starts[-1]).astype(np.float32)
    twin = trust.copy()
    apply_trust_shock(trust, starts, shock)
    ref.apply_trust_shock(twin, starts, list(shock))
    np.testing.assert_array_equal(trust, twin)
    uses = rng.integers(0, 400, n_grids)
    out = use_draws(seed, 3, uses, 0.05, np.empty(n_grids, np.int64))
    assert out.tolist() == ref.use_draws(seed, 3, uses.tolist(), 0.05)


def test_trust_shock_known_values():
    np.testing.assert_allclose(trust_shock([0, 1, 2, 10], 0.1), [0, 0.1, 0.19, 1 - 0.9**10])
    assert np.all(trust_shock([3, 0], 0.0) == 0.0)
    trust = np.array([0.5, 0.8, 0.6, 0.4])
    apply_trust_shock(trust, [0, 2, 2, 4], trust_shock([1, 0, 2], 0.1))
    np.testing.assert_allclose(trust, [0.45, 0.72, 0.6 * 0.81, 0.4 * 0.81])
    with pytest.raises(ValueError):
        trust_shock([1], 1.5)


def test_strict_governance_fewer_incidents_and_less_trust_lost():
    uses = np.full(20, 50)  # 1,000 data uses a day in 20 grids
    lax_inc, strict_inc, lax_loss, strict_loss = [], [], [], []
    for seed in range(30):
        lax = datagov_alone(uses, 60, LAX, delta=0.05, seed=seed)
        strict = datagov_alone(uses, 60, STRICT, delta=0.05, seed=seed)
        # common random numbers: strict incidents are a subset of lax ones
        assert np.all(strict.incidents <= lax.incidents)
        assert strict.trust_loss <= lax.trust_loss
        lax_inc.append(lax.incidents.sum())
        strict_inc.append(strict.incidents.sum())
        lax_loss.append(lax.trust_loss)
        strict_loss.append(strict.trust_loss)
    n_uses = 60 * uses.sum()
    # binomial counts: means within 4 standard errors of uses·p
    for inc, p in ((lax_inc, LAX), (strict_inc, STRICT)):
        se = np.sqrt(n_uses * p * (1 - p) / len(inc))
        assert np.mean(inc) == pytest.approx(n_uses * p, abs=4 * se)
    assert np.mean(strict_inc) < 0.1 * np.mean(lax_inc)
    assert np.mean(strict_loss) < 0.15 * np.mean(lax_loss)
    # expected loss per grid: T0·(1 − E[(1 − δ)^N]), N ~ Poisson(uses·days·p)
    lam = 60 * 50 * LAX
    expected = 0.62 * (1 - np.exp(-lam * 0.05))
    assert np.mean(lax_loss) == pytest.approx(expected, rel=0.05)


def test_no_data_use_no_incident():
    res = datagov_alone(np.zeros(5, int), 10, LAX, seed=1)
    assert res.incidents.sum() == 0 and res.trust_loss == 0.0
    with pytest.raises(ValueError):
        datagov_alone([-1], 10, LAX)


def test_results_do_not_depend_on_thread_count():
    out = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            out.append(datagov_alone(np.full(16, 300), 20, 0.01, seed=2))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(out[0].incidents, out[1].incidents)
    np.testing.assert_array_equal(out[0].trust, out[1].trust)
