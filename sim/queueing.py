"""Erlang C (M/M/c) formulas (used by reallocation; the handling stage is checked against
them by :func:`sim.validation.queueing.queue_alone`).

With arrival rate λ, service rate μ per server and c servers, the offered load is
a = λ/μ (erlangs) and the utilisation ρ = a/c < 1. Erlang's formula C gives the
probability that an arrival has to wait ([2], §3.5)

    C(c, a) = [a^c / c! · c/(c − a)] / [Σ_{k<c} a^k/k! + a^c / c! · c/(c − a)],

and the mean wait in queue is W_q = C(c, a) / (cμ − λ). C is computed
from Erlang B through the stable recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))
and C = c·B / (c − a·(1 − B)) ([3]), which needs no factorials and stays accurate for
thousands of servers.

References
----------
1. Erlang, A. K. (1917). Solution of some problems in the theory of probabilities of
   significance in automatic telephone exchanges. Elektroteknikeren 13, 5–13.
2. Kleinrock, L. (1975). Queueing Systems, Vol. 1: Theory. Wiley. §3.5 (M/M/m).
3. Jagerman, D. L. (1974). Some properties of the Erlang loss function. Bell System
   Technical Journal 53(3), 525–551.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def erlang_b_nb(c, a):
    """Erlang B blocking probability B(c, a) (recursion of [3]); ``c`` ≥ 0, ``a`` ≥ 0."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@njit(cache=True)
def erlang_c_nb(c, a):
    """Erlang C waiting probability; 1 when the queue is unstable (``a`` ≥ ``c``)."""
    if c <= 0 or a >= c:
        return 1.0
    if a <= 0.0:
        return 0.0
    b = erlang_b_nb(c, a)
    return c * b / (c - a * (1.0 - b))


@njit(cache=True)
def mean_wait_nb(lam, mu, c):
    """Mean wait in queue W_q of M/M/c; ``inf`` when unstable (λ ≥ cμ)."""
    if lam <= 0.0:
        return 0.0
    if c <= 0 or lam >= c * mu:
        return np.inf
    return erlang_c_nb(c, lam / mu) / (c * mu - lam)


def check_servers(c, fn: str) -> int:
    """``c`` as an int number of servers (≥ 0), or a ValueError naming ``fn``."""
    if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 0:
        raise ValueError(f"The 'c' parameter of {fn} must be an int in [0, inf). Got {c!r}.")
    return int(c)


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C).

    Parameters
    ----------
    c : int
        Number of servers (≥ 0).
    a : float
        Offered load λ/μ in erlangs (≥ 0).

    Returns
    -------
    float
        C(c, a) in [0, 1]; 1.0 when ``a >= c`` (the queue grows without bound).

    Notes
    -----
    Computed as C = c·B / (c − a(1 − B)) from Erlang B's recursion ([3] of the module),
    stable for large ``c`` where the factorial form overflows.
    """
    c = check_servers(c, "erlang_c")
    if not a >= 0.0:
        raise ValueError(f"The 'a' parameter of erlang_c must be a float >= 0. Got {a!r}.")
    return float(erlang_c_nb(c, float(a)))


def mean_wait_erlang_c(lam: float, mu: float, c: int) -> float:
    """Mean waiting time in queue of M/M/c: W_q = C(c, λ/μ) / (cμ − λ).

    Parameters
    ----------
    lam : float
        Arrival rate λ (per unit time, ≥ 0).
    mu : float
        Service rate μ of one server (per the same unit time, > 0).
    c : int
        Number of servers.

    Returns
    -------
    float
        W_q in the time unit of the rates; ``inf`` if λ ≥ cμ, 0 if λ = 0.
    """
    c = check_servers(c, "mean_wait_erlang_c")
    if not mu > 0.0:
        raise ValueError(f"The 'mu' parameter of mean_wait_erlang_c must be > 0. Got {mu!r}.")
    if not lam >= 0.0:
        raise ValueError(f"The 'lam' parameter of mean_wait_erlang_c must be >= 0. Got {lam!r}.")
    return float(mean_wait_nb(float(lam), float(mu), c))


def erlang_a(
    lam: float, mu: float, c: int, theta: float, tol: float = 1e-12
) -> tuple[float, float]:
    """Erlang-A (M/M/c+M, Palm 1943): share of arrivals who abandon and their mean wait.

    Customers arrive at rate λ, are served at rate μ by ``c`` servers and each waiting
    customer abandons at rate θ (exponential patience with mean 1/θ). The number in
    system is a birth–death chain with birth rate λ and death rate
    ``min(n, c)·μ + max(n − c, 0)·θ`` (Mandelbaum & Zeltyn 2005, §3); it is summed until
    the terms fall below ``tol`` (θ > 0 makes it stable at any load). Then
    E[Q] = Σ (n − c)⁺ π_n, P(abandon) = θ·E[Q]/λ and, by Little's law, the mean wait in
    queue of all arrivals (served or not) is E[W] = E[Q]/λ.

    Parameters
    ----------
    lam, mu : float
        Arrival rate and service rate per server (> 0; one time unit).
    c : int
        Servers (≥ 1).
    theta : float
        Abandonment rate 1/mean patience (> 0).

    Returns
    -------
    (p_abandon, mean_wait) : tuple of float

    References
    ----------
    Garnett, O., Mandelbaum, A., & Reiman, M. (2002). Designing a call center with
    impatient customers. MSOM 4(3), 208–227. doi:10.1287/msom.4.3.208.7753.
    Mandelbaum, A., & Zeltyn, S. (2005). The Palm/Erlang-A queue, with applications to
    call centers. Technion (lecture notes), §3–4.
    """
    c = check_servers(c, "erlang_a")
    if c < 1 or not (lam > 0.0 and mu > 0.0 and theta > 0.0):
        raise ValueError(
            f"erlang_a needs lam, mu, theta > 0 and c >= 1. Got lam={lam!r}, mu={mu!r}, "
            f"c={c!r}, theta={theta!r}."
        )
    term, total, queue = 1.0, 1.0, 0.0
    n = 0
    while True:
        n += 1
        term *= lam / (min(n, c) * mu + max(n - c, 0) * theta)
        total += term
        queue += max(n - c, 0) * term
        if n > c and term < tol * total:
            break
    eq = queue / total
    return theta * eq / lam, eq / lam
