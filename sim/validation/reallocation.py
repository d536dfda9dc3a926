"""Reallocation run alone: a budget of slots among M/M/c pools, scored with Erlang C.

See :mod:`sim.kernels.reallocation` (Fox 1966; Dyer & Proll 1977; Savas 1978).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels.reallocation import allocate, total_wait

__all__ = ["ReallocationAloneResult", "reallocation_alone"]


@dataclass(frozen=True)
class ReallocationAloneResult:
    """Result of :func:`reallocation_alone`.

    Attributes
    ----------
    slots : int ndarray [n]
    total_wait : float
        Σ λ_i·W_q,i at the true arrival rates (expected cases waiting).
    mean_wait : float
        Mean wait of a case, total_wait / Σλ (in the time unit of the rates).
    """

    slots: np.ndarray
    total_wait: float
    mean_wait: float


def reallocation_alone(mode: str, arrivals, budget: int, mu, **kwargs) -> ReallocationAloneResult:
    """Allocate a budget of slots among a group of M/M/c pools and evaluate the result.

    Calls :func:`allocate` (same arguments; full data sharing, no equity weight and no
    floor unless given) and scores the allocation with Erlang C at
    the **true** arrival rates, so a pooled allocation made with little data sharing
    shows what misjudged demand costs.
    """
    kwargs = {"sharing": 1.0, "equity_weight": 0.0, "min_slots": 0, **kwargs}
    slots = allocate(mode, arrivals, budget, mu, **kwargs)
    lam = np.asarray(arrivals, dtype=np.float64)
    tw = total_wait(lam, mu, slots)
    return ReallocationAloneResult(
        slots=slots, total_wait=tw, mean_wait=tw / lam.sum() if lam.sum() > 0 else 0.0
    )
