"""Plain-Python twin of :mod:`sim.kernels.reallocation` (greedy marginal allocation).

Pooled allocation: every pool first gets the fewest slots that keep it stable (or its
floor), then each remaining slot goes, one at a time, to the pool whose weighted mean
waiting λ·W_q falls most (Fox 1966; Dyer & Proll 1977). Equal gains go to the pool with
the most offered load per slot, then to the lower index. Rounding of real-valued targets
is Hamilton's largest-remainder method.
"""

from __future__ import annotations

import math


def erlang_c(c: int, a: float) -> float:
    """Erlang C through Erlang B's recursion (as the kernel computes it)."""
    if c <= 0 or a >= c:
        return 1.0
    if a <= 0.0:
        return 0.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1.0 - b))


def mean_wait(lam: float, mu: float, c: int) -> float:
    if lam <= 0.0:
        return 0.0
    if c <= 0 or lam >= c * mu:
        return math.inf
    return erlang_c(c, lam / mu) / (c * mu - lam)


def greedy(lam, mu, weight, c_min, budget):
    """Slots per pool, or None if the budget cannot make every pool stable."""
    n = len(lam)
    slots = [max(c_min[i], math.floor(lam[i] / mu[i]) + 1 if lam[i] > 0 else 0) for i in range(n)]
    if sum(slots) > budget:
        return None

    def gain(i):
        c = slots[i]
        w = weight[i] * lam[i]
        return w * mean_wait(lam[i], mu[i], c) - w * mean_wait(lam[i], mu[i], c + 1)

    for _ in range(budget - sum(slots)):
        best = 0
        for i in range(1, n):
            gi, gb = gain(i), gain(best)
            busier = lam[i] / mu[i] / (slots[i] + 1) > lam[best] / mu[best] / (slots[best] + 1)
            if gi > gb or (gi == gb and busier):
                best = i
        slots[best] += 1
    return slots


def largest_remainder(target, total, floor_):
    """Integers ≥ floor_ summing to total, nearest to target (which already sums to it)."""
    out = [max(f, math.floor(t)) for t, f in zip(target, floor_, strict=True)]
    frac = [t - o for t, o in zip(target, out, strict=True)]
    for _ in range(total - sum(out)):
        best = max(range(len(out)), key=lambda i: (frac[i], -i))
        out[best] += 1
        frac[best] -= 1.0
    return out
