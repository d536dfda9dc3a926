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

# Streams: one per use, so that no two uses of the same counters coincide.
S_GENERATE = 1
S_GEN_CATEGORY = 2
S_GEN_SECTOR = 3
S_GEN_SEVERITY = 4
S_GEN_HOUR = 5
S_SURFACE = 11
S_SURFACE_CHANNEL = 12
S_SURFACE_SUB = 13
S_SURFACE_HOUR = 14
S_ROUTE = 21
S_ROUTE_CHOICE = 22
S_ROUTE_SECTOR = 23
S_ROUTE_MISUSE = 24
S_SERVICE = 31
S_OUTCOME = 32
S_OUTCOME_NEXT = 33
S_ESCALATE = 41
S_ESCALATE_KIND = 42
S_ESCALATE_COLLECTIVE = 43

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
