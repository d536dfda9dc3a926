"""Accountability: public evaluation feeds departmental effort with a lag (让民做主).

Known behaviour of the loop (module docstring of sim.kernels.accountability): after a
step drop in satisfaction the lagged signal moves as Ŝ(t) = s₁ + (s₀ − s₁)·λ^t with
λ = exp(−1/τ), so effort starts to rise only once Ŝ falls below the standard, and
reaches half its new level after a predictable delay; with evaluation off there is no
response at all.
"""

from __future__ import annotations

import copy
import dataclasses as _dc
import math

import numba
import numpy as np
import pytest
from reference import accountability as ref

from sim.issues import ABANDONED, FAILED, LITIGATED, QUEUED, RESOLVED
from sim.kernels.accountability import AccountabilityParams as _Params
from sim.kernels.accountability import (
    accountability_step,
    init_accountability,
)
from sim.scenario.schema import Scenario as _Scenario
from sim.validation.accountability import accountability_alone

_SCHEMA = _Params.from_scenario(_Scenario.model_validate({"name": "t"}))


def AccountabilityParams(**kw):
    """The scenario's parameters with ``kw`` replaced (the schema holds the defaults)."""
    return _dc.replace(_SCHEMA, **kw)


DROP_DAY = 150
P = AccountabilityParams(
    evaluation=0.5, lag_days=30.0, satisfaction_target=0.7, effort_gain=2.0, effort_max=2.0
)


class Rows:
    """Random issue rows of several pools over a few days (closed today or not)."""

    def __init__(self, n: int, n_pools: int, day: int, rng: np.random.Generator) -> None:
        statuses = np.array([QUEUED, RESOLVED, RESOLVED, FAILED, LITIGATED, ABANDONED])
        self.status = rng.choice(statuses, n).astype(np.uint8)
        self.iid = rng.permutation(10 * n)[:n].astype(np.int64)
        self.pool = rng.integers(-1, n_pools, n).astype(np.int32)
        self.t_surfaced = 24.0 * day - rng.uniform(0, 24 * 20, n)
        self.t_closed = 24.0 * day + rng.uniform(-30, 30, n)


@pytest.mark.twin
@pytest.mark.parametrize("evaluation", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("seed", [1, 2])
def test_kernel_matches_twin(evaluation, seed):
    p = AccountabilityParams(evaluation=evaluation, lag_days=5.0, satisfaction_target=0.8,
                             effort_gain=3.0, effort_max=1.8, halflife_days=4.0)  # fmt: skip
    rng = np.random.default_rng(seed)
    n_pools = 5
    accountable = np.array([1, 1, 0, 1, 1], dtype=np.uint8)
    fast = init_accountability(n_pools, p)
    slow = copy.deepcopy(fast)
    for day in range(6):
        rows = Rows(300, n_pools, day, rng)
        accountability_step(fast, rows, accountable, p, seed, day)
        ref.accountability_step(slow, rows, accountable, p, seed, day)
        np.testing.assert_array_equal(fast.num, slow.num)
        np.testing.assert_array_equal(fast.den, slow.den)
        np.testing.assert_array_equal(fast.effort, slow.effort)
    assert fast.effort[2] == 1.0  # not accountable
    if evaluation == 0.0:
        assert np.all(fast.effort == 1.0)
    else:
        assert np.any(fast.effort > 1.0)  # ~half of cases fail: far below the standard


def test_no_rows_and_no_pools():
    p = AccountabilityParams()
    rows = Rows(0, 1, 0, np.random.default_rng(0))
    acc = init_accountability(3, p)
    assert np.all(accountability_step(acc, rows, np.ones(3, np.uint8), p, 0, 0) == 1.0)
    empty = init_accountability(0, p)
    assert accountability_step(empty, rows, np.ones(0, np.uint8), p, 0, 0).shape == (0,)


def step_drop(days: int = 300) -> np.ndarray:
    r = np.full(days, 0.9)
    r[DROP_DAY:] = 0.3
    return r


def expected_signal(p: AccountabilityParams, r: np.ndarray) -> np.ndarray:
    """Ŝ with every day's satisfaction at its expectation r_t."""
    lam = math.exp(-1.0 / p.lag_days)
    num, den = p.satisfaction_target * p.prior_weight, p.prior_weight
    out = np.empty(r.shape[0])
    for d, rd in enumerate(r):
        num, den = lam * num + rd, lam * den + 1.0
        out[d] = num / den
    return out


def test_effort_responds_to_a_drop_after_the_lag():
    r = step_drop()
    res = accountability_alone(r, P, cases_per_day=400, seed=3)
    # the signal follows the exponential smoothing of the day's satisfaction
    np.testing.assert_allclose(res.signal[20:], expected_signal(P, r)[20:], atol=0.02)
    assert np.all(res.effort[:DROP_DAY] == 1.0)  # above the standard: baseline effort
    # Ŝ(t) = 0.3 + 0.6·λ^t crosses s* = 0.7 after τ·ln(3/2) ≈ 12 days: no response before
    lag = P.lag_days * math.log(0.6 / 0.4)
    assert np.all(res.effort[DROP_DAY : DROP_DAY + int(lag) - 3] == 1.0)
    # final effort 1 + κ·e·(s* − 0.3) = 1.4; half of the rise (Ŝ = 0.5) after τ·ln 3 days
    final = 1.0 + P.effort_gain * P.evaluation * (P.satisfaction_target - 0.3)
    assert res.effort[-30:].mean() == pytest.approx(final, abs=0.02)
    half = np.argmax(res.effort[DROP_DAY:] > 1.0 + (final - 1.0) / 2)
    assert half == pytest.approx(P.lag_days * math.log(3.0), abs=4)


def test_no_evaluation_no_response():
    off = AccountabilityParams(**{**P.__dict__, "evaluation": 0.0})
    for feedback in (False, True):
        res = accountability_alone(step_drop(), off, cases_per_day=400, seed=3, feedback=feedback)
        assert np.all(res.effort == 1.0)
        np.testing.assert_allclose(res.signal, off.satisfaction_target, rtol=1e-12)


def test_closed_loop_restores_part_of_the_drop():
    r = step_drop()
    open_ = accountability_alone(r, P, cases_per_day=400, seed=3)
    closed = accountability_alone(r, P, cases_per_day=400, seed=3, feedback=True)
    late = slice(DROP_DAY + 100, None)
    # with effort E the failure rate 0.7 becomes 0.7/E: satisfaction recovers part way
    assert closed.satisfaction[late].mean() > open_.satisfaction[late].mean() + 0.1
    assert closed.satisfaction[late].mean() < P.satisfaction_target
    assert 1.0 < closed.effort[late].mean() < open_.effort[late].mean()


def test_results_do_not_depend_on_thread_count():
    out = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            out.append(accountability_alone(step_drop(60), P, cases_per_day=500, seed=4))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(out[0].effort, out[1].effort)
    np.testing.assert_array_equal(out[0].signal, out[1].signal)


@pytest.mark.parametrize(
    "bad",
    [{"evaluation": 1.5}, {"lag_days": 0.0}, {"effort_max": 0.9}, {"effort_gain": -1.0},
     {"satisfaction_target": -0.1}, {"halflife_days": 0.0}, {"prior_weight": 0.0}],
)  # fmt: skip
def test_bad_parameters_are_rejected(bad):
    with pytest.raises(ValueError):
        AccountabilityParams(**bad)
    with pytest.raises(ValueError):
        accountability_alone([0.5, 1.2], AccountabilityParams())
