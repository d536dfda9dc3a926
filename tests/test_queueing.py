"""Handling as queues: Erlang C, and the handling stage run alone as an M/M/c queue.

Known result (Erlang 1917; Kleinrock 1975, §3.5): in an M/M/c queue with offered load
a = λ/μ < c, the mean wait is W_q = C(c, a)/(cμ − λ). The handling kernel, fed Poisson
arrivals with exponential service, c slots on duty around the clock and FIFO, must
(1) reproduce the FIFO c-server recursion (Kiefer & Wolfowitz 1955) case by case, and
(2) give mean waits within 5 % of W_q at loads 0.5, 0.8 and 0.9 for c = 1, 3, 10.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.queueing import erlang_c, mean_wait_erlang_c
from sim.rng import S_SERVICE, uniform_py
from sim.validation.queueing import _poisson_day, queue_alone

MU = 12.0  # services of 5 minutes: many arrivals per simulated day keep the runs short

# Service times (1/μ) simulated per case, chosen from pilot runs so that the standard
# deviation of the measured mean wait is about 1.2 %, which makes 5 % a ≥ 4σ band.
SERVICE_TIMES = {
    (1, 0.5): 3e5, (1, 0.8): 1.3e6, (1, 0.9): 3.9e6,
    (3, 0.5): 3e5, (3, 0.8): 4.5e5, (3, 0.9): 1.25e6,
    (10, 0.5): 7.5e5, (10, 0.8): 3e5, (10, 0.9): 5.1e5,
}  # fmt: skip
WARMUP_DAYS = 50


def erlang_c_factorial(c: int, a: float) -> float:
    """Textbook form (Kleinrock 1975, §3.5), in logs so that large c does not overflow."""
    log_top = c * math.log(a) - math.lgamma(c + 1) + math.log(c / (c - a))
    terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)] + [log_top]
    m = max(terms)
    total = sum(math.exp(t - m) for t in terms)
    return math.exp(log_top - m) / total


@pytest.mark.parametrize(
    ("c", "a"), [(1, 0.5), (2, 1.0), (3, 2.4), (10, 9.0), (50, 45.0), (2000, 1950.0)]
)
def test_erlang_c_matches_textbook_formula(c, a):
    assert erlang_c(c, a) == pytest.approx(erlang_c_factorial(c, a), rel=1e-10)


def test_erlang_c_known_values_and_edges():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = ρ
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(3, 5.0) == 1.0 and erlang_c(0, 0.1) == 1.0
    assert erlang_c(4, 0.0) == 0.0
    assert mean_wait_erlang_c(0.8, 1.0, 1) == pytest.approx(0.8 / 0.2)  # ρ/(μ − λ)
    assert mean_wait_erlang_c(0.0, 1.0, 3) == 0.0
    assert mean_wait_erlang_c(3.0, 1.0, 3) == math.inf
    for bad in (lambda: erlang_c(-1, 1.0), lambda: erlang_c(1.5, 1.0),
                lambda: erlang_c(2, -1.0), lambda: mean_wait_erlang_c(1.0, 0.0, 2),
                lambda: queue_alone(0, 0.5), lambda: queue_alone(2, 1.0),
                lambda: queue_alone(2, 0.5, days=10, warmup_days=10)):  # fmt: skip
        with pytest.raises(ValueError):
            bad()


def fifo_recursion(c: int, mu: float, days: int, seed: int) -> np.ndarray:
    """Waits of the FIFO c-server queue (Kiefer–Wolfowitz) on the kernel's own draws."""
    buf = np.empty(100_000)
    free = [0.0] * c
    waits = []
    k = 0
    for day in range(days):
        n = _poisson_day(seed, day, 0.9 * c * mu, buf)
        for a in buf[:n]:
            j = min(range(c), key=lambda s: free[s])
            t = max(a, free[j])
            u = uniform_py(seed, S_SERVICE, math.floor(t / 24.0), k)
            free[j] = t - (1.0 / mu) * math.log(1.0 - u)
            waits.append(t - a)
            k += 1
    return np.asarray(waits)


@pytest.mark.parametrize(("c", "mu"), [(3, 1.0 / 30.0), (10, 1.0 / 60.0), (3, 1.0)])
def test_kernel_is_the_fifo_multiserver_recursion(c, mu):
    """Case by case, including services that span several days (1/μ = 30 h, 60 h)."""
    days = 400 if mu < 1 else 30
    res = queue_alone(c, 0.9, mu=mu, days=days, warmup_days=0, seed=11, record=True)
    ref = fifo_recursion(c, mu, days, seed=11)
    got = res.waits[: ref.shape[0]]
    assert np.count_nonzero(ref > 0) > 100  # queues did form
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def erlang_c_check(c: int, load: float, seed: int = 1):
    days = int(SERVICE_TIMES[c, load] / (24.0 * MU)) + WARMUP_DAYS
    res = queue_alone(c, load, mu=MU, days=days, warmup_days=WARMUP_DAYS, seed=seed)
    return res


FAST = [(1, 0.5), (3, 0.8), (10, 0.9)]


@pytest.mark.parametrize(("c", "load"), FAST)
def test_mean_wait_matches_erlang_c(c, load):
    res = erlang_c_check(c, load)
    assert abs(res.relative_error) < 0.05, res
    assert res.share_waited == pytest.approx(erlang_c(c, load * c), abs=0.02)
    assert res.utilisation == pytest.approx(load, abs=0.01)


@pytest.mark.slow
@pytest.mark.parametrize(("c", "load"), [k for k in SERVICE_TIMES if k not in FAST])
@pytest.mark.parametrize("seed", [1, 2])
def test_mean_wait_matches_erlang_c_full_table(c, load, seed):
    res = erlang_c_check(c, load, seed)
    assert abs(res.relative_error) < 0.05, res
    assert res.share_waited == pytest.approx(erlang_c(c, load * c), abs=0.02)
