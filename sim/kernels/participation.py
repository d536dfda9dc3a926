"""Stage 6 — participation: threshold contagion with efficacy, publicity and decay.

A resident's participation propensity ``p_i ∈ [0, 1]`` (``Residents.participation``: the
propensity to report and take part) is *engaged* when ``p_i ≥ θ_e``
(``engaged_level``). Each day, synchronously from yesterday's values (double buffer):

1. **Threshold contagion** (Granovetter 1978 [1]_; Watts 2002 [2]_, the threshold rule).
   With ``k_i`` neighbours of which ``m_i`` are engaged, the resident is socially reinforced when
   ``k_i > 0`` and ``m_i / k_i ≥ φ_i``; then ``p_i ← max(p_i, θ_e)`` (she joins in).
   Thresholds ``φ_i`` are uniform on ``[φ̄ − s, φ̄ + s]`` (``threshold_mean``,
   ``threshold_spread``), a pure function of (seed, i) through the counter-based hash:
   fixed for the run, never stored.
2. **Decay under neglect** (疏离冷漠). A resident relaxes toward her baseline
   ``b_i = min(1, b₀ + β_pub · publicity + β_org · org_i)`` at daily rate ``δ``:
   ``p_i ← p_i + δ (b_i − p_i)``; a reinforced resident toward ``max(b_i, θ_e)``, so
   she stays engaged while her neighbours are, and publicity can lift her above θ_e.
   Publicity and education (宣传教育, a lever in [0, 1]) and membership of a social or
   mass organisation raise the baseline (Verba, Schlozman & Brady 1995 [3]_:
   organisations recruit and build civic skills).
3. **Efficacy feedback** (Finkel 1985 [4]_: participation and efficacy reinforce each
   other). Each of the resident's own reports resolved since the last step raises
   ``p_i ← p_i + η_s (1 − p_i)``; each that failed lowers ``p_i ← p_i (1 − η_f)``.

4. **Trust carries over** (Hooghe & Marien 2013 [5]_: trust in institutions goes with
   institutional participation). The resident's own trust ``x_i`` shifts the level she
   drifts to by ``β_trust·(x_i − x̄₀)`` (``experience.participation_trust_gain``; x̄₀ the
   city's initial mean trust): ``p_i ← p_i + δ β_trust (x_i − x̄₀)``, added after steps
   1–3. So experience that moves trust (:mod:`sim.kernels.trust`) moves participation
   with it, slowly, at the decay rate.

The result is clipped to [0, 1] (after steps 1–3 and again after step 4) and stored as
float32.

**Watts's model as a special case.** With ``δ = 0``, ``η_s = η_f = 0``, ``s = 0`` and
propensities starting in {0, 1}, a resident is engaged exactly when she is "active" in [2]_,
engagement is permanent, and the kernel is one synchronous sweep of Watts's threshold
rule; :func:`sim.validation.participation.cascade_alone` iterates it to the fixed point.

Departures from [2]_
--------------------
- Propensity is continuous; Watts's binary state is ``p ≥ θ_e``. A triggered resident
  jumps only to ``θ_e`` (not to 1) and, in the full model, can fall back below it (decay,
  failed reports) — Watts's adoption is irreversible.
- Updates are synchronous (all residents read yesterday's states). Watts's cascade
  reaches the same final state under any update order, because the rule is monotone when
  adoption is irreversible; the number of sweeps differs.

References
----------
.. [1] Granovetter, M. (1978). Threshold models of collective behavior. American Journal
   of Sociology 83(6), 1420–1443. doi:10.1086/226707
.. [2] Watts, D. J. (2002). A simple model of global cascades on random networks. PNAS
   99(9), 5766–5771. doi:10.1073/pnas.082090499
.. [3] Verba, S., Schlozman, K. L., & Brady, H. E. (1995). Voice and Equality: Civic
   Voluntarism in American Politics. Harvard University Press.
.. [4] Finkel, S. E. (1985). Reciprocal effects of participation and political efficacy:
   a panel analysis. American Journal of Political Science 29(4), 891–913.
   doi:10.2307/2111186
.. [5] Hooghe, M., & Marien, S. (2013). A comparative analysis of the relation between
   political trust and forms of political participation in Europe. European Societies
   15(1), 131–152. doi:10.1080/14616696.2012.692807
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numba import njit, prange

from sim.kernels.clock import compound
from sim.rng import S_PART_THRESHOLD, uniform

__all__ = [
    "EngagedNeighbours",
    "engaged_bits",
    "participation_row",
    "participation_step",
    "propensity",
    "threshold",
]


@njit(cache=True, inline="always")
def threshold(seed, i, threshold_mean, threshold_spread):
    """Threshold ``φ_i``, uniform on ``[φ̄ − s, φ̄ + s]``: a pure function of (seed, i)."""
    return threshold_mean + threshold_spread * (2.0 * uniform(seed, S_PART_THRESHOLD, 0, i) - 1.0)


@njit(cache=True, inline="always")
def _drifted(
    i, p, m, k, org_member, engaged_level, threshold_mean, threshold_spread, baseline,
    publicity, publicity_gain, org_gain, decay, seed,
):  # fmt: skip
    """Steps 1–2 above: propensity ``p`` (float64) after contagion and drift, unclipped."""
    # written with conditional expressions rather than branches: whether a resident is
    # reinforced is a coin toss from one to the next, which a branch predictor cannot learn
    phi = (
        threshold_mean
        if threshold_spread == 0.0
        else threshold(seed, i, threshold_mean, threshold_spread)
    )
    reinforced = (k > 0) & (m / (k if k > 0 else 1) >= phi)
    p = engaged_level if (reinforced & (p < engaged_level)) else p
    b = baseline + publicity_gain * publicity + org_gain * org_member[i]
    b = 1.0 if b > 1.0 else b
    # drift toward the baseline; an engaged resident is held at least at θ_e
    b = engaged_level if (reinforced & (b < engaged_level)) else b
    return p + decay * (b - p)


@njit(cache=True, inline="always")
def _clip01(p):
    p = 0.0 if p < 0.0 else p
    return 1.0 if p > 1.0 else p


@njit(cache=True, inline="always")
def propensity(
    i, p, m, k, org_member, n_resolved, n_failed, engaged_level, threshold_mean,
    threshold_spread, baseline, publicity, publicity_gain, org_gain, decay, efficacy_gain,
    failure_loss, seed,
):  # fmt: skip
    """Today's propensity of resident ``i`` (steps 1–3 above).

    ``p`` is her own propensity yesterday (as float64) and ``m`` of her ``k`` neighbours
    were engaged yesterday.
    """
    p = _drifted(
        i, p, m, k, org_member, engaged_level, threshold_mean, threshold_spread, baseline,
        publicity, publicity_gain, org_gain, decay, seed,
    )  # fmt: skip
    for _ in range(n_resolved[i]):
        p += efficacy_gain * (1.0 - p)
    for _ in range(n_failed[i]):
        p *= 1.0 - failure_loss
    return _clip01(p)


@njit(cache=True, inline="always")
def participation_row(
    i, p_prev, indptr, indices, org_member, n_resolved, n_failed, engaged_level, threshold_mean,
    threshold_spread, baseline, publicity, publicity_gain, org_gain, decay, efficacy_gain,
    failure_loss, seed,
):  # fmt: skip
    """Today's propensity of resident ``i`` from yesterday's ``p_prev`` (steps 1–3 above)."""
    lo = indptr[i]
    hi = indptr[i + 1]
    m = 0
    for a in range(lo, hi):
        if np.float64(p_prev[indices[a]]) >= engaged_level:  # float64, as compiled
            m += 1
    return propensity(
        i, np.float64(p_prev[i]), m, hi - lo, org_member, n_resolved, n_failed, engaged_level,
        threshold_mean, threshold_spread, baseline, publicity, publicity_gain, org_gain, decay,
        efficacy_gain, failure_loss, seed,
    )  # fmt: skip


@dataclass(frozen=True)
class Params:
    """Participation parameters, built once from the scenario (``participation.*``; the
    publicity lever is ``levers.people.publicity_education``). Field names are the keyword
    arguments of :func:`participation_step` (see there for symbols).

    ``decay`` is per step of the residents' clock: ``participation.decay`` compounded over
    ``attitude_days`` (:func:`sim.kernels.clock.compound`; the daily rate when 1)."""

    publicity: float
    engaged_level: float
    threshold_mean: float
    threshold_spread: float
    baseline: float
    publicity_gain: float
    org_gain: float
    decay: float
    efficacy_gain: float
    failure_loss: float
    trust_gain: float
    trust_ref: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        pp = sc.participation
        return cls(
            trust_gain=sc.experience.participation_trust_gain,
            trust_ref=sc.city.trust_mean,
            publicity=sc.levers.people.publicity_education,
            engaged_level=pp.engaged_level,
            threshold_mean=pp.threshold_mean,
            threshold_spread=pp.threshold_spread,
            baseline=pp.baseline,
            publicity_gain=pp.publicity_gain,
            org_gain=pp.org_gain,
            decay=compound(pp.decay, sc.attitude_days),  # per step of the residents' clock
            efficacy_gain=pp.efficacy_gain,
            failure_loss=pp.failure_loss,
        )

    def kwargs(self) -> dict[str, float]:
        """The keyword arguments of :func:`participation_step`."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


PART_BLOCK = 4096  # residents per block of the day kernel's two sweeps


@njit(cache=True, parallel=True)
def _participation_kernel(
    p_prev, counts, indptr, org_member, n_resolved, n_failed, engaged_level, threshold_mean,
    threshold_spread, baseline, publicity, publicity_gain, org_gain, decay, efficacy_gain,
    failure_loss, trust, trust_pull, trust_ref, seed, p_out,
):  # fmt: skip
    """One synchronous day; row i reads yesterday's state only and writes only ``p_out[i]``.

    ``trust_pull`` = δ·β_trust (step 4; 0 switches it off, ``trust`` then unread).

    ``counts[i]`` is the number of resident i's neighbours engaged yesterday
    (:class:`EngagedNeighbours`). Each block is swept twice: first every resident as if
    she had no report today (no loop: the sweep vectorises), then the few with reports.
    """
    n = p_prev.shape[0]
    for b in prange((n + PART_BLOCK - 1) // PART_BLOCK):
        lo = b * PART_BLOCK
        hi = min(n, lo + PART_BLOCK)
        for i in range(lo, hi):
            p_out[i] = _clip01(
                _drifted(
                    i, np.float64(p_prev[i]), counts[i], indptr[i + 1] - indptr[i], org_member,
                    engaged_level, threshold_mean, threshold_spread, baseline, publicity,
                    publicity_gain, org_gain, decay, seed,
                )
            )  # fmt: skip
        for i in range(lo, hi):
            if n_resolved[i] != 0 or n_failed[i] != 0:
                p_out[i] = propensity(
                    i, np.float64(p_prev[i]), counts[i], indptr[i + 1] - indptr[i],
                    org_member, n_resolved, n_failed, engaged_level, threshold_mean,
                    threshold_spread, baseline, publicity, publicity_gain, org_gain, decay,
                    efficacy_gain, failure_loss, seed,
                )  # fmt: skip
        if trust_pull != 0.0:
            for i in range(lo, hi):
                # in float64 with the JIT off too (NumPy 2 keeps float32 − Python float
                # in float32; numba promotes): the twin and the kernel agree either way
                pulled = np.float64(p_out[i]) + trust_pull * (np.float64(trust[i]) - trust_ref)
                p_out[i] = _clip01(pulled)


@njit(cache=True, parallel=True)
def _engaged_bits_kernel(p, engaged_level, bits):
    """Bit ``i & 7`` of ``bits[i >> 3]`` is 1 where ``p[i] ≥ θ_e`` (8 residents a byte)."""
    n = p.shape[0]
    for b in prange(bits.shape[0]):
        lo = 8 * b
        hi = min(n, lo + 8)
        v = 0
        for i in range(lo, hi):
            if np.float64(p[i]) >= engaged_level:  # float64 compare, JIT or not
                v |= 1 << (i - lo)
        bits[b] = v


@njit(cache=True, parallel=True)
def _count_engaged_kernel(bits, indptr, indices, counts):
    """``counts[i]`` = engaged neighbours of ``i``: each row reads its neighbours' bits."""
    for i in prange(counts.shape[0]):
        m = 0
        for a in range(indptr[i], indptr[i + 1]):
            j = np.uint32(indices[a])  # unsigned: no wraparound test on the index
            m += np.int64((bits[j >> np.uint32(3)] >> (j & np.uint32(7))) & np.uint32(1))
        counts[i] = m


@njit(cache=True)
def _n_changed(old, new):
    """Residents whose bit differs between ``old`` and ``new``."""
    c = 0
    for b in range(old.shape[0]):
        x = np.int64(old[b] ^ new[b])
        while x != 0:
            x &= x - 1
            c += 1
    return c


@njit(cache=True)
def _push_changes_kernel(old, new, indptr, indices, counts):
    """Adjust ``counts`` (engaged neighbours under ``old``) to ``new``: every resident
    whose bit changed adds ±1 to each of her neighbours (the network is symmetric)."""
    for b in range(old.shape[0]):
        x = np.int64(old[b] ^ new[b])
        if x == 0:
            continue
        for bit in range(8):
            if (x >> bit) & 1:
                j = 8 * b + bit
                up = (new[b] >> bit) & 1
                for a in range(indptr[j], indptr[j + 1]):
                    i = indices[a]
                    if up:
                        counts[i] += 1
                    else:
                        counts[i] -= 1


@njit(cache=True, parallel=True)
def _symmetric_kernel(indptr, indices):
    """True when rows are strictly increasing and in range and ``j ∈ N(i) ⇔ i ∈ N(j)``."""
    n = indptr.shape[0] - 1
    bad = 0
    for i in prange(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        for a in range(lo, hi):
            j = indices[a]
            if j < 0 or j >= n or (a > lo and indices[a - 1] >= j):
                bad += 1
                continue
            left = indptr[j]
            right = indptr[j + 1]
            while left < right:  # binary search for i in row j
                mid = (left + right) >> 1
                if indices[mid] < i:
                    left = mid + 1
                else:
                    right = mid
            if left == indptr[j + 1] or indices[left] != i:
                bad += 1
    return bad == 0


class EngagedNeighbours:
    """How many neighbours of each resident are engaged: the memory of
    :func:`participation_step` from one day to the next.

    Counting every resident's engaged neighbours anew each day reads the state of every
    neighbour of everyone (62 million ties at 1:1, many of them far away in memory), but
    from one day to the next only a few residents cross ``θ_e`` (about 0.1 % a day in the
    Yancheng baseline). :meth:`update` therefore keeps the counts of the previous call
    and the engagement they were counted from, compares today's engagement with it, and
    adds ±1 to the counts of the neighbours of each resident who changed. The counts are
    exact: the same integers as a fresh count, so results do not change.

    The update needs a symmetric network with sorted rows (``j`` lists ``i`` whenever
    ``i`` lists ``j``; :func:`sim.city.network.edges_to_csr` builds such networks). The
    counts are recounted from scratch when the network is not symmetric, when it is a
    different network (another array object) from the last call, or when more than 1/16
    of the residents changed. Today's engagement is always computed from the propensities
    passed in, so changes made to them between calls are taken into account.

    Parameters
    ----------
    symmetric : bool, optional
        True when every network passed in is known to be symmetric with sorted rows (the
        city's is, by construction); by default this is checked once per network, which
        takes seconds at 1:1 (a binary search per tie).
    """

    def __init__(self, symmetric: bool | None = None) -> None:
        self.known_symmetric = symmetric
        self.indptr: np.ndarray | None = None
        self.indices: np.ndarray | None = None
        self.symmetric: bool | None = None  # checked on the first incremental update
        self.counts: np.ndarray | None = None  # engaged neighbours per resident
        self.bits: np.ndarray | None = None  # the engagement ``counts`` were counted from
        self._today: np.ndarray | None = None

    def update(
        self,
        participation: np.ndarray,
        engaged_level: float,
        indptr: np.ndarray,
        indices: np.ndarray,
    ) -> np.ndarray:
        """Engaged neighbours of every resident (``p ≥ engaged_level``) in network
        ``(indptr, indices)``; returns the counts (uint8, or int32 for degrees over 255)."""
        n = participation.shape[0]
        same = (
            self.counts is not None
            and self.counts.shape[0] == n
            and self.indptr is indptr
            and self.indices is indices
        )
        if not same:
            max_degree = int(np.max(indptr[1:] - indptr[:-1])) if n else 0
            self.counts = np.empty(n, dtype=np.uint8 if max_degree <= 255 else np.int32)
            self.bits = np.empty((n + 7) // 8, dtype=np.uint8)
            self._today = np.empty_like(self.bits)
            self.indptr, self.indices = indptr, indices
            self.symmetric = self.known_symmetric
        today = engaged_bits(participation, engaged_level, self._today)
        incremental = same and 16 * _n_changed(self.bits, today) <= n
        if incremental and self.symmetric is None:
            self.symmetric = bool(_symmetric_kernel(indptr, indices))
        if incremental and self.symmetric:
            _push_changes_kernel(self.bits, today, indptr, indices, self.counts)
        else:
            _count_engaged_kernel(today, indptr, indices, self.counts)
        self.bits, self._today = today, self.bits
        return self.counts


def engaged_bits(
    participation: np.ndarray, engaged_level: float, out: np.ndarray | None = None
) -> np.ndarray:
    """Who is engaged (``p_i ≥ θ_e``), packed one bit per resident.

    Parameters
    ----------
    participation : float32[n_residents]
        Propensities ``p``.
    engaged_level : float
        ``θ_e``.
    out : uint8[(n_residents + 7) // 8], optional
        Where to write the bits.

    Returns
    -------
    uint8[(n_residents + 7) // 8]
        Bit ``i & 7`` (least significant first) of byte ``i >> 3`` is 1 when resident
        ``i`` is engaged.
    """
    n_bytes = (participation.shape[0] + 7) // 8
    if out is None:
        out = np.empty(n_bytes, dtype=np.uint8)
    elif out.shape != (n_bytes,) or out.dtype != np.uint8:
        raise ValueError(f"out must be uint8[{n_bytes}]; got {out.dtype}{list(out.shape)}")
    _engaged_bits_kernel(participation, float(engaged_level), out)
    return out


def participation_step(
    participation: np.ndarray,
    nbr_indptr: np.ndarray,
    nbr_indices: np.ndarray,
    org_member: np.ndarray,
    n_resolved: np.ndarray,
    n_failed: np.ndarray,
    *,
    publicity: float,
    seed: int,
    engaged_level: float,
    threshold_mean: float,
    threshold_spread: float,
    baseline: float,
    publicity_gain: float,
    org_gain: float,
    decay: float,
    efficacy_gain: float,
    failure_loss: float,
    trust_gain: float,
    trust_ref: float,
    trust: np.ndarray | None = None,
    out: np.ndarray | None = None,
    neighbours: EngagedNeighbours | None = None,
) -> np.ndarray:
    """Stage 6: one day of participation dynamics (see the module docstring).

    Parameters
    ----------
    participation : float32[n_residents]
        Yesterday's propensity ``p`` (``Residents.participation``); not modified.
    nbr_indptr : int64[n_residents + 1]
    nbr_indices : int32[n_ties]
        Social network in CSR form (``City.nbr_indptr``, ``City.nbr_indices``).
    org_member : uint8[n_residents]
        1 for members of a social or mass organisation (``City.org_member``).
    n_resolved, n_failed : int array [n_residents]
        The resident's own reports resolved / failed since the last step.
    publicity : float
        宣传教育 lever in [0, 1] (``levers.people.publicity_education``).
    seed : int
        Run seed (thresholds are a pure function of seed and resident).
    engaged_level : float
        ``θ_e``: propensity at which a resident counts as engaged (Watts's "active").
    threshold_mean, threshold_spread : float
        ``φ̄`` and ``s``: thresholds are uniform on ``[φ̄ − s, φ̄ + s]``.
    baseline : float
        ``b₀``, the propensity a neglected resident relaxes to without publicity.
    publicity_gain, org_gain : float
        ``β_pub``, ``β_org``: baseline raised by full publicity, by membership.
    decay : float
        ``δ``, daily relaxation rate toward the baseline when not reinforced.
    efficacy_gain, failure_loss : float
        ``η_s``, ``η_f``: effect of each resolved / failed own report.
    trust_gain, trust_ref : float
        ``β_trust`` and ``x̄₀`` of step 4 (off at 0 or without ``trust``).
    trust : float32[n_residents], optional
        Residents' trust yesterday (step 4).
    out : float32[n_residents], optional
        Where to write today's propensity (must not be ``participation``).
    neighbours : EngagedNeighbours, optional
        The count of engaged neighbours kept from the previous day (pass the same object
        every day: today's count then costs a fraction of a fresh one; see
        :class:`EngagedNeighbours`). Without it the count is made afresh.

    Returns
    -------
    float32[n_residents]
        Today's propensity (``out`` if given).

    Raises
    ------
    ValueError
        If lengths disagree, or ``out`` is ``participation`` (the update is synchronous).

    Notes
    -----
    The plain-Python twin is ``tests/reference/participation.py::participation_step``.
    """
    n = participation.shape[0]
    for name, arr in (("org_member", org_member), ("n_resolved", n_resolved)):
        if arr.shape[0] != n:
            raise ValueError(f"{name} must have {n} entries (one per resident); got {arr.shape[0]}")
    if n_failed.shape[0] != n or nbr_indptr.shape[0] != n + 1:
        raise ValueError(
            f"n_failed must have {n} entries and nbr_indptr {n + 1}; got {n_failed.shape[0]} "
            f"and {nbr_indptr.shape[0]}"
        )
    if out is None:
        out = np.empty(n, dtype=np.float32)
    elif out is participation or np.shares_memory(out, participation):
        raise ValueError("out must not share memory with participation (synchronous update)")
    if neighbours is None:
        neighbours = EngagedNeighbours()
    counts = neighbours.update(participation, float(engaged_level), nbr_indptr, nbr_indices)
    pull = float(decay) * float(trust_gain) if trust is not None else 0.0
    if trust is None:
        trust = participation  # not read: the pull is off
    elif trust.shape[0] != n:
        raise ValueError(f"trust must have {n} entries (one per resident); got {trust.shape[0]}")
    _participation_kernel(
        participation, counts, nbr_indptr, org_member, n_resolved, n_failed,
        float(engaged_level), float(threshold_mean), float(threshold_spread), float(baseline),
        float(publicity), float(publicity_gain), float(org_gain), float(decay),
        float(efficacy_gain), float(failure_loss), trust, pull, float(trust_ref), int(seed),
        out,
    )  # fmt: skip
    return out
