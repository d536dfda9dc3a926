"""Counter-based random numbers: every draw is a pure function of where it is used.

A draw is ``uniform(seed, stream, day, idx)``: the SplitMix64 finaliser (Steele, Lea &
Flood 2014) applied to a combination of the four counters. No generator state is shared,
so a parallel loop gives bit-identical results for any number of threads, and the
plain-Python reference twins in ``tests/reference/`` consume exactly the same draws.

References
----------
1. Steele, G. L., Lea, D., & Flood, C. H. (2014). Fast splittable pseudorandom number
   generators. OOPSLA '14, 453–472. doi:10.1145/2660193.2660195
2. Salmon, J. K., Moraes, M. A., Dror, R. O., & Shaw, D. E. (2011). Parallel random
   numbers: as easy as 1, 2, 3. SC '11. doi:10.1145/2063384.2063405 (counter-based idea)
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The registry of random streams: every stream number of the simulator is defined here by
# name, and nowhere else. A counter-based draw is ``uniform(seed, S_*, day, idx)``; the
# city and a few once-per-run draws use ``SeedSequence([seed, STREAM_*])``. Numbers are
# fixed forever: changing one changes every run that uses it.

# Stage 1 — generation (sim.kernels.generate)
S_GENERATE = 1
S_GEN_CATEGORY = 2
S_GEN_SECTOR = 3
S_GEN_SEVERITY = 4
S_GEN_HOUR = 5
# Stage 2 — surfacing (sim.kernels.surface)
S_SURFACE = 11
S_SURFACE_CHANNEL = 12
S_SURFACE_SUB = 13
S_SURFACE_HOUR = 14
# Stage 3 — routing (sim.kernels.route)
S_ROUTE = 21
S_ROUTE_CHOICE = 22
S_ROUTE_SECTOR = 23
S_ROUTE_MISUSE = 24
S_ROUTE_CENTRE = 25  # day, idx = town / county / city: stochastic rounding of dispatch capacity
# Stage 4 — handling (sim.kernels.handle)
S_SERVICE = 31
S_OUTCOME = 32
S_OUTCOME_NEXT = 33
S_PATIENCE = 34  # day = hour the case joined the queue, idx = issue: its patience (Erlang-A)
# Stage 5 — escalation (sim.kernels.escalate)
S_ESCALATE = 41
S_ESCALATE_KIND = 42
S_ESCALATE_COLLECTIVE = 43
S_DIVERT_UPTAKE = 44  # day 0, idx = issue id: do the parties take up online mediation?
# Stage 6 — residents
S_PART_THRESHOLD = 50  # day 0, idx = resident: participation threshold φ_i
S_PART_GRAPH = 51  # day 0, idx = draw number: Erdős–Rényi graphs (sim.validation.participation)
S_TRUST_PARTNER = 52  # day, idx = resident: the neighbour talked to
S_TRUST_PAIR = 53  # day = meeting number, idx 0/1: pairs of sim.validation.trust
S_TRUST_INIT = 54  # day 0, idx = agent: initial opinions of sim.validation.trust
S_RISK_AVERSION = 56  # day 0, idx = resident: Epstein's risk aversion R_i
# Epstein docking (sim.validation.docking.epstein)
S_DOCK_SETUP = 57  # day 0: cell contents; day 1: hardship; day 2: risk aversion
S_DOCK_ORDER = 58  # day = step: the random activation order
S_DOCK_ACT = 59  # day = step, idx = 3·agent + {0: move, 1: arrestee, 2: jail term}
# Queueing validation (sim.validation.queueing)
S_QUEUE_ARRIVAL = 70
# Accountability (sim.kernels.accountability)
S_EVALUATE = 71  # does the resident evaluate the closed case?
S_ACCOUNT_ALONE = 72  # sim.validation.accountability: is a synthetic case resolved?
# Data governance (sim.validation.datagov)
S_DATA_USE = 80  # is a data use misused?
# Digital inclusion (sim.model.apply_digital_inclusion)
S_INCLUSION = 90  # day 0, idx = resident: does a resident without access gain it?
# Resident self-governance (sim.kernels.selfgov)
S_SELFGOV = 100  # day 0, idx = community: active council?; day d+1, idx = issue: brought?
S_SELFGOV_CAPACITY = 101  # day, idx = community: stochastic rounding of the capacity
S_SELFGOV_OUTCOME = 102  # day, idx = issue: settled by the committee?
# Key-person management (sim.kernels.keyperson)
S_KEYPERSON_VISIT = 110  # day, idx = resident: is the listed resident visited today?
S_KEYPERSON_SETTLE = 111  # day, idx = issue: does the visit settle the open case?

# SeedSequence streams: ``SeedSequence([seed, STREAM_*])``.
STREAM_HOTSPOTS = 7  # the grids' dispute hot-spot multipliers (sim.kernels.generate)
STREAM_RESIDENTS = 0x43_49_54_59_01  # "CITY" + 1: residents (sim.city.build)
STREAM_NETWORK = 0x43_49_54_59_02  # the social network (sim.city.build)
STREAM_GEOGRAPHY = 0x43_49_54_59_03  # grid and county geography (sim.city.build)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def hash4(seed, stream, day, idx):
    """64-bit hash of four non-negative integer counters (SplitMix64 chain)."""
    z = _mix(np.uint64(seed) + _GOLDEN)
    z = _mix(z ^ (np.uint64(stream) + _GOLDEN))
    z = _mix(z ^ (np.uint64(day) + _GOLDEN))
    return _mix(z ^ (np.uint64(idx) + _GOLDEN))


@njit(cache=True, inline="always")
def uniform(seed, stream, day, idx):
    """A uniform draw in [0, 1) determined by (seed, stream, day, idx)."""
    return float(hash4(seed, stream, day, idx) >> _S11) * _INV53


@njit(cache=True, inline="always")
def pick(u, weights, n):
    """The first index ``j < n`` at which the running sum of ``weights`` exceeds ``u``
    (``n − 1`` if none): a draw from the categorical law ``weights / Σ weights`` when ``u``
    is uniform on [0, Σ weights) (inverse transform)."""
    j = 0
    acc = weights[0]
    while j < n - 1 and u >= acc:
        j += 1
        acc += weights[j]
    return j


_MASK = (1 << 64) - 1


def _mix_py(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def uniform_py(seed: int, stream: int, day: int, idx: int) -> float:
    """Plain-Python twin of :func:`uniform` (same bits), for reference implementations."""
    g = 0x9E3779B97F4A7C15
    z = _mix_py((seed + g) & _MASK)
    z = _mix_py(z ^ ((stream + g) & _MASK))
    z = _mix_py(z ^ ((day + g) & _MASK))
    z = _mix_py(z ^ ((idx + g) & _MASK))
    return (z >> 11) * 2.0**-53
