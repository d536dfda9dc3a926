"""Risk early warning: indicator, flags, patrol redeployment, and precision/recall.

Known answers: hand-built flags and incidents with precision and recall counted by hand;
a synthetic city whose incidents follow a known latent risk, where the indicator's flags
beat chance; conservation of patrol hours.
"""

from __future__ import annotations

import dataclasses as _dc

import numba
import numpy as np
import pytest
from reference import warning as ref

from sim.issues import (
    CAT_DISPUTE,
    CAT_NEED,
    IN_SERVICE,
    LATENT,
    QUEUED,
    RESOLVED,
    ROUTING,
    rows_by_grid,
)
from sim.kernels import warning as _warning
from sim.kernels.escalate import E_COLLECTIVE, E_PETITION
from sim.kernels.warning import WarningParams as _Params
from sim.kernels.warning import (
    WarningScorer,
    flag_grids,
    grid_means,
    open_disputes_by_grid,
    risk_indicator,
    warning_scores,
)
from sim.scenario.schema import Scenario as _Scenario
from sim.validation.warning import warning_alone

_SCHEMA = _Params.from_scenario(_Scenario.model_validate({"name": "t"}))


def patrol_multiplier(risk, flags, hours, p, on=True):
    """The kernel, on unless told otherwise."""
    return _warning.patrol_multiplier(risk, flags, hours, p, on=on)


def WarningParams(**kw):
    """The scenario's parameters with ``kw`` replaced (the schema holds the defaults)."""
    return _dc.replace(_SCHEMA, **kw)


P = WarningParams(flag_share=0.2, redeploy_share=0.5)


def random_inputs(seed: int, n: int = 25):
    rng = np.random.default_rng(seed)
    pop = rng.integers(0, 1500, n).astype(float)
    pop[0] = 0.0  # an empty grid
    signals = rng.poisson([[3.0], [1.0], [0.5], [0.8], [0.1]], (5, n)).astype(float)
    signals[:, pop == 0] = 0
    signals[4] *= rng.random(n) < 0.5
    return pop, signals


@pytest.mark.twin
@pytest.mark.parametrize("seed", range(5))
def test_kernels_match_twin(seed):
    pop, signals = random_inputs(seed)
    r = risk_indicator(signals, pop, P)
    r_ref = ref.risk_indicator(signals.tolist(), pop, list(P.weights))
    np.testing.assert_array_equal(r, r_ref)
    f = flag_grids(r, P)
    assert f.tolist() == ref.flag_grids(list(r), P.flag_share)
    hours = np.random.default_rng(seed).uniform(1, 4, r.shape[0])
    m = patrol_multiplier(r, f, hours, P)
    np.testing.assert_array_equal(m, ref.patrol_multiplier(list(r), list(f), list(hours), 0.5))


def test_patrols_keep_total_hours_and_go_to_the_riskiest():
    pop, signals = random_inputs(7)
    r = risk_indicator(signals, pop, P)
    f = flag_grids(r, P)
    hours = np.full(r.shape[0], 2.0)
    m = patrol_multiplier(r, f, hours, P)
    assert np.sum(m * hours) == pytest.approx(np.sum(hours))
    assert f.sum() == 5  # ⌈0.2·25⌉
    assert np.all(r[f == 1] > np.max(r[f == 0]))  # the riskiest first
    assert np.all(m[f == 1] > 1.0) and np.all(m[f == 0] == 0.5)
    assert np.all(patrol_multiplier(r, f, hours, P, on=False) == 1.0)


def test_indicator_average_grid_scores_one_and_degenerate_inputs():
    pop = np.array([100.0, 100.0])
    one = np.array([[1, 1], [2, 2], [1, 1], [3, 3], [0, 0]], float)
    r = risk_indicator(one, pop, P)
    np.testing.assert_allclose(r, 1.0 - P.weights[4])  # incident term absent
    zero = risk_indicator(np.zeros((5, 2)), pop, P)
    assert np.all(zero == 0.0)
    assert flag_grids(zero, P).sum() == 0  # nothing above average: no flag
    assert np.all(patrol_multiplier(zero, flag_grids(zero, P), [1, 1], P) == 1.0)


def test_open_disputes_and_grid_means():
    class Rows:
        status = np.array([LATENT, ROUTING, QUEUED, IN_SERVICE, RESOLVED, QUEUED], np.uint8)
        category = np.array([CAT_DISPUTE] * 5 + [CAT_NEED], np.uint8)
        grid = np.array([0, 0, 1, 1, 1, 1], np.int32)

    assert open_disputes_by_grid(Rows, 3).tolist() == [1, 2, 0]
    codes = np.array([0, E_COLLECTIVE, E_PETITION, E_COLLECTIVE, E_COLLECTIVE, 0], np.uint8)
    assert rows_by_grid(codes, Rows.grid, E_COLLECTIVE, 3).tolist() == [1, 2, 0]
    values = np.array([0.1, 0.3, 0.5, 1.0], np.float32)
    np.testing.assert_allclose(grid_means(values, np.array([0, 2, 2, 4])), [0.2, 0.0, 0.75])


def test_scores_on_a_hand_built_case():
    # 10 days, 3 grids, horizon 3. Judged flags: days 0..6; judged incidents: days 3..9.
    flags = np.zeros((10, 3), bool)
    inc = np.zeros((10, 3), int)
    flags[1, 0] = True  # grid 0: incident on day 3 → hit
    inc[3, 0] = 1
    flags[2, 1] = True  # grid 1: incident on day 6 (4 days later) → miss
    inc[6, 1] = 2  # ...and those 2 incidents were not warned (flag 4 days before)
    flags[5, 2] = flags[6, 2] = True  # grid 2: incident on day 7 → both hits
    inc[7, 2] = 1
    flags[8, 0] = True  # too late to judge (8 > 10 − 1 − 3)
    inc[1, 1] = 1  # too early to judge (1 < 3)
    s = warning_scores(flags, inc, 3)
    assert (s.n_flags, s.n_hits) == (4, 3)
    assert (s.n_incidents, s.n_warned) == (4, 2)
    assert s.precision == 0.75 and s.recall == 0.5
    assert (s.precision, s.recall, s.n_flags, s.n_hits, s.n_incidents, s.n_warned) == (
        ref.warning_scores(flags.tolist(), inc.tolist(), 3)
    )
    empty = warning_scores(np.zeros((5, 2), bool), np.zeros((5, 2), int), 2)
    assert np.isnan(empty.precision) and np.isnan(empty.recall)
    with pytest.raises(ValueError):
        warning_scores(flags, inc[:, :2], 3)
    with pytest.raises(ValueError):
        warning_scores(flags, inc, 0)


@pytest.mark.twin
@pytest.mark.parametrize("seed", range(4))
def test_scores_match_twin_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    flags = rng.random((40, 6)) < 0.1
    inc = rng.poisson(0.05, (40, 6))
    s = warning_scores(flags, inc, 5)
    got = (s.precision, s.recall, s.n_flags, s.n_hits, s.n_incidents, s.n_warned)
    np.testing.assert_equal(got, ref.warning_scores(flags.tolist(), inc.tolist(), 5))


def synthetic_city(seed: int, n_days: int = 200, n_grids: int = 100):
    """Latent tension (persistent level + AR(1) swings) drives the observed signals
    (disputes, repeat callers, petitions) and, three days later, incidents (rate ∝
    tension³: hot spots)."""
    rng = np.random.default_rng(seed)
    pop = np.full(n_grids, 1000.0)
    base = rng.gamma(0.5, 2.0, n_grids)
    tension = np.zeros((n_days, n_grids))
    x = base.copy()
    for d in range(n_days):
        x = base + 0.9 * (x - base) + rng.normal(0, 0.3, n_grids)
        tension[d] = np.maximum(x, 0)
    signals = np.zeros((n_days, 5, n_grids))
    signals[:, 0] = rng.poisson(2.0 * tension)
    signals[:, 1] = rng.poisson(0.5 * tension**2)
    signals[:, 2] = rng.poisson(0.2 * tension**2)
    incidents = np.zeros((n_days, n_grids), int)
    incidents[3:] = rng.poisson(0.002 * tension[:-3] ** 3)
    return pop, signals, incidents


def test_warning_beats_chance_on_a_synthetic_city():
    pop, signals, incidents = synthetic_city(seed=5)
    p = WarningParams(flag_share=0.1)
    res = warning_alone(signals, pop, p, incidents_by_day=incidents, horizon_days=7)
    s = res.scores
    assert s.n_incidents > 100
    # random flags of 10 % of the grids warn ≈ 1 − 0.9^7 ≈ 52 % of incidents and are
    # right as often as a random grid-week has an incident
    rng = np.random.default_rng(0)
    chance = warning_scores(rng.random(res.flags.shape) < 0.1, incidents, 7)
    assert chance.recall == pytest.approx(1 - 0.9**7, abs=0.1)
    assert s.precision > 3 * chance.precision
    assert s.recall > 0.8 > chance.recall + 0.2
    np.testing.assert_allclose((res.patrol * 1.0).sum(axis=1), pop.shape[0])  # hours kept


def test_results_do_not_depend_on_thread_count():
    values = np.random.default_rng(1).random(10_000)
    starts = np.arange(0, 10_001, 100)
    out = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            out.append(grid_means(values, starts))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(*out)


@pytest.mark.parametrize(
    "bad", [{"flag_share": 0.0}, {"redeploy_share": 1.5}, {"weight_disputes": -1.0},
            {"weight_disputes": 0.0, "weight_repeat": 0.0, "weight_petitions": 0.0,
             "weight_surge": 0.0, "weight_incidents": 0.0}]
)  # fmt: skip
def test_bad_parameters_are_rejected(bad):
    with pytest.raises(ValueError):
        WarningParams(**bad)


def test_lift_is_precision_over_the_base_rate():
    """4 grids, 10 days, H = 2: grid 0 has an incident on day 5. Flagging grid 0 on days
    3 and 4 is perfect (precision 1); of the 4 × 8 judged grid-days, 2 are followed by
    the incident within H days (grid 0, days 3 and 4), so the base rate is 2/32 and the
    lift 16. Flagging every grid every day has lift 1."""
    incidents = np.zeros((10, 4), dtype=np.int64)
    incidents[5, 0] = 1
    flags = np.zeros((10, 4), dtype=np.uint8)
    flags[3:5, 0] = 1
    s = warning_scores(flags, incidents, 2)
    assert s.precision == 1.0 and s.base_rate == 2 / 32 and s.lift == 16.0
    everywhere = warning_scores(np.ones((10, 4), dtype=np.uint8), incidents, 2)
    assert everywhere.lift == 1.0
    assert np.isnan(warning_scores(flags, np.zeros_like(incidents), 2).lift)


@pytest.mark.parametrize("seed", range(6))
def test_scorer_day_by_day_equals_scores_on_the_whole_history(seed):
    """WarningScorer keeps only H days of flags yet scores like warning_scores."""
    rng = np.random.default_rng(seed)
    n_days, n_grids = int(rng.integers(1, 60)), int(rng.integers(1, 12))
    horizon = int(rng.integers(1, 20))
    flags = (rng.random((n_days, n_grids)) < 0.2).astype(np.uint8)
    incidents = rng.poisson(0.1, (n_days, n_grids))
    scorer = WarningScorer(n_grids, horizon)
    for d in range(n_days):
        scorer.add(flags[d], incidents[d])
    assert scorer.flags.shape == (horizon, n_grids)  # bounded memory
    got, want = scorer.scores(), warning_scores(flags, incidents, horizon)
    for name in ("n_flags", "n_hits", "n_incidents", "n_warned"):
        assert getattr(got, name) == getattr(want, name), name
    for name in ("precision", "recall", "base_rate", "lift"):
        a, b = getattr(got, name), getattr(want, name)
        assert (np.isnan(a) and np.isnan(b)) or a == b, (name, a, b)
