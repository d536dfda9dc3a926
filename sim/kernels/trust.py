"""Stage 6 — trust: bounded-confidence exchange along ties and direct experience.

A resident's trust in government ``x_i ∈ [0, 1]`` (``Residents.trust``; Epstein's legitimacy
``L``) changes each day in two steps, synchronously from yesterday's values:

1. **Bounded-confidence exchange** (Deffuant, Neau, Amblard & Weisbuch 2000 [1]_).
   The resident talks with one of her neighbours ``j``, picked uniformly by the
   counter-based hash of (seed, day, i); if their trust differs by less than the
   confidence bound ``d``, she moves toward it: ``x_i ← x_i + μ (x_j − x_i)``.
2. **Direct experience** with her own reports since the last step. Each report with
   outcome ``o`` ∈ {resolved, slow, transferred, failed} applies its signed effect
   ``e_o``: ``x ← x + e_o (1 − x)`` if ``e_o ≥ 0`` (toward 1), ``x ← x + e_o x`` if
   ``e_o < 0`` (toward 0), so trust stays in [0, 1]. Satisfaction with a service
   encounter feeds trust in government (Van Ryzin 2004 [2]_; Bouckaert & Van de Walle
   2003 [3]_), bad experiences weighing more than good ones (Kampen, Van de Walle &
   Bouckaert 2006 [4]_) — hence the defaults' asymmetry.
3. **Procedural justice** (Tyler 2006 [6]_): whatever its outcome, each own report closed
   was handled by a lawful, predictable, explained procedure with probability
   f = ``fair_share_base`` + ``fair_share_gain``·rule_of_law, and applies the expected
   effect ``e_proc = f·effect_fair + (1 − f)·effect_unfair`` (same sign rule). This is
   how rule of law (法治) reaches legitimacy; legitimacy in turn damps petitions
   (:mod:`sim.kernels.escalate`) and activation (:mod:`sim.kernels.activation`).
4. **Word of mouth** (vicarious experience). A resolved report is heard of by
   ``reach_resolved`` residents of the reporter's grid, a failed one by ``reach_failed``
   (a dissatisfied complainant tells about twice as many: TARP 1979/1986), each hearing
   counting ``vicarious_weight`` of an own experience (Rosenbaum et al. 2005 [7]_); the
   story tells how the case was handled too. Every resident of grid g applies, in
   expectation, the effects ``a = ω·(±|e_resolved| + e_proc)·reach_o·(reports of outcome
   o in g today)/n_g`` (sign rule as above; + for resolved, − for failed reports): a
   story moves trust by a resolution's size either way, the negativity of word of mouth
   being in its reach (so it is not counted twice with the own-experience asymmetry). This is what
   lets a city that resolves more, faster and fairly raise trust within a few years,
   and one that fails lower it.

Departures from [1]_ in the city kernel (:func:`trust_step`)
------------------------------------------------------------
- **Synchronous and one-sided.** In [1]_ a random *pair* meets and *both* move, one pair
  at a time (sequential). Here every resident, every day, compares herself with one
  neighbour using yesterday's values and only she moves (the neighbour moves when she
  in turn picks someone), so residents are updated in parallel with results independent
  of the number of threads. A day is thus N one-sided half-meetings (about N/2 meetings
  of [1]_), and mean trust is not conserved, whereas each meeting of [1]_ conserves it.
- **Network, not complete mixing.** Partners are social-network neighbours
  (Deffuant et al. 2000 also place agents on a square lattice).

:func:`sim.validation.trust.deffuant_alone` runs the classic version of [1]_ (complete
mixing, random pairs, sequential) for the known result: final clusters ≈ ⌊1/(2d)⌋ and
consensus for ``d ≥ 0.5`` (an approximate rule: major clusters settle somewhat more than
``2d`` apart, see Lorenz 2007 [5]_); :func:`sim.validation.trust.deffuant_sync_alone` runs
the kernel's synchronous one-sided rule with complete mixing.

References
----------
.. [1] Deffuant, G., Neau, D., Amblard, F., & Weisbuch, G. (2000). Mixing beliefs among
   interacting agents. Advances in Complex Systems 3(1–4), 87–98.
   doi:10.1142/S0219525900000078
.. [2] Van Ryzin, G. G. (2004). Expectations, performance, and citizen satisfaction with
   urban services. Journal of Policy Analysis and Management 23(3), 433–448.
   doi:10.1002/pam.20020
.. [3] Bouckaert, G., & Van de Walle, S. (2003). Comparing measures of citizen trust and
   user satisfaction as indicators of 'good governance'. International Review of
   Administrative Sciences 69(3), 329–343. doi:10.1177/0020852303693003
.. [4] Kampen, J. K., Van de Walle, S., & Bouckaert, G. (2006). Assessing the relation
   between satisfaction with public service delivery and trust in government. Public
   Performance & Management Review 29(4), 387–404.
.. [6] Tyler, T. R. (2006). Psychological perspectives on legitimacy and legitimation.
   Annual Review of Psychology 57, 375–400. doi:10.1146/annurev.psych.57.102904.190038
.. [7] Rosenbaum, D. P., Schuck, A. M., Costello, S. K., Hawkins, D. F., & Ring, M. K.
   (2005). Attitudes toward the police: the effects of direct and vicarious experience.
   Police Quarterly 8(3), 343–365. doi:10.1177/1098611104271085
.. [5] Lorenz, J. (2007). Continuous opinion dynamics under bounded confidence: a
   survey. International Journal of Modern Physics C 18(12), 1819–1838.
   doi:10.1142/S0129183107011789
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
from numba import njit, prange

from sim.issues import ABANDONED, FAILED, FIRST_CLOSED, LITIGATED, RESOLVED
from sim.rng import S_TRUST_PARTNER, uniform

__all__ = [
    "bounded_confidence",
    "experience",
    "heard",
    "trust_step",
    "word_of_mouth",
]


@njit(cache=True, inline="always")
def bounded_confidence(x, y, d, mu):
    """Deffuant's update of ``x`` meeting ``y``: ``x + μ (y − x)`` if ``|y − x| < d``."""
    if abs(y - x) < d:
        return x + mu * (y - x)
    return x


@njit(cache=True, inline="always")
def experience(x, n, effect):
    """Apply ``n`` experiences of signed ``effect`` to trust ``x`` (stays in [0, 1])."""
    for _ in range(n):
        if effect >= 0.0:
            x += effect * (1.0 - x)
        else:
            x += effect * x
    return x


@njit(cache=True, inline="always")
def heard(x, a):
    """Apply an expected (fractional) experience of signed size ``a`` to trust ``x``."""
    if a >= 0.0:
        return x + a * (1.0 - x)
    return x + a * x


@njit(cache=True, inline="always")
def partner_slot(seed, day, i, lo, k):
    """Where in ``indices`` is the neighbour that resident ``i`` (row ``lo``, ``k > 0``
    neighbours) talks to on ``day``: uniform over her neighbours, from (seed, day, i)."""
    return lo + int(uniform(seed, S_TRUST_PARTNER, day, i) * k)


@njit(cache=True, inline="always")
def trust_update(
    i, x, x_partner, talks, n_resolved, n_slow, n_transferred, n_failed, d, mu, e_resolved,
    e_slow, e_transferred, e_failed, e_proc, a_res, a_fail,
):  # fmt: skip
    """Steps 1–4 above for resident ``i`` with trust ``x``, meeting a partner whose trust
    is ``x_partner`` if ``talks``, hearing ``a_res``, ``a_fail`` in her grid; clipped to
    [0, 1]."""
    if talks:
        x = bounded_confidence(x, x_partner, d, mu)
    x = heard(x, a_res)
    x = heard(x, a_fail)
    x = experience(x, n_resolved[i], e_resolved)
    x = experience(x, n_slow[i], e_slow)
    x = experience(x, n_transferred[i], e_transferred)
    x = experience(x, n_failed[i], e_failed)
    x = experience(x, n_resolved[i] + n_failed[i], e_proc)
    if x < 0.0:
        x = 0.0
    elif x > 1.0:
        x = 1.0
    return x


@dataclass(frozen=True)
class Params:
    """Trust parameters, built once from the scenario (``trust.*``).

    The exchange and experience fields are the keyword arguments of :func:`trust_step`;
    ``slow_days`` is the delay after which a resolved report counts as slow
    (:func:`own_experience`). ``effect_procedure`` is e_proc of step 3 (from
    ``legitimacy.*`` and ``levers.capability.rule_of_law``); the word-of-mouth fields are
    ``experience.*``. ``meetings`` is the days of a step of the residents' clock
    (``attitude_days``, :mod:`sim.kernels.clock`): one meeting a day."""

    confidence: float
    convergence: float
    effect_resolved: float
    effect_slow: float
    effect_transferred: float
    effect_failed: float
    effect_procedure: float
    reach_resolved: float
    reach_failed: float
    vicarious_weight: float
    slow_days: float
    meetings: int

    @classmethod
    def from_scenario(cls, sc) -> Params:
        tp, lg, ex = sc.trust, sc.legitimacy, sc.experience
        fair = min(1.0, lg.fair_share_base + lg.fair_share_gain * sc.levers.capability.rule_of_law)
        return cls(
            confidence=tp.confidence,
            convergence=tp.convergence,
            effect_resolved=tp.effect_resolved,
            effect_slow=tp.effect_slow,
            effect_transferred=tp.effect_transferred,
            effect_failed=tp.effect_failed,
            effect_procedure=fair * lg.effect_fair + (1.0 - fair) * lg.effect_unfair,
            reach_resolved=ex.reach_resolved,
            reach_failed=ex.reach_failed,
            vicarious_weight=ex.vicarious_weight,
            slow_days=tp.slow_days,
            meetings=sc.attitude_days,
        )

    def kwargs(self) -> dict[str, float]:
        """The keyword arguments of :func:`trust_step`."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "slow_days"}


@dataclass
class Experience:
    """Each resident's own reports closed today, by outcome (uint8 counts, reused daily).

    Read by :func:`trust_step` and :func:`sim.kernels.participation.participation_step`;
    :func:`own_experience` fills them and :meth:`clear` zeroes the touched rows."""

    n_resolved: np.ndarray
    n_slow: np.ndarray
    n_transferred: np.ndarray
    n_failed: np.ndarray
    # residents counted since the last clear (one array per day: :func:`own_experience`'s
    # rows), so a clock of several days (sim.kernels.clock) clears everyone it counted
    rows: list[np.ndarray] = field(default_factory=list, init=False)

    @classmethod
    def zeros(cls, n_residents: int) -> Experience:
        return cls(*(np.zeros(n_residents, dtype=np.uint8) for _ in range(4)))

    def clear(self, rows: np.ndarray | None = None) -> None:
        """Zero ``rows`` (default: every row counted since the last clear)."""
        if rows is None:
            rows = np.concatenate(self.rows) if self.rows else np.zeros(0, dtype=np.int64)
            self.rows.clear()
        for arr in (self.n_resolved, self.n_slow, self.n_transferred, self.n_failed):
            arr[rows] = 0


@njit(cache=True)
def _own_experience_kernel(
    status, t_closed, t_surfaced, transfers, resident, day, slow_days, n_resolved, n_slow,
    n_transferred, n_failed, rows_out,
):  # fmt: skip
    """One pass over the issue rows: count each closed today into its resident's counters
    and list the residents (in row order) in ``rows_out``; returns how many."""
    t0 = 24.0 * day
    t1 = t0 + 24.0
    n = 0
    for k in range(status.shape[0]):
        st = status[k]
        if st < FIRST_CLOSED or not (t_closed[k] >= t0 and t_closed[k] < t1):
            continue
        r = resident[k]
        if st == RESOLVED:
            n_resolved[r] += 1
            if (t_closed[k] - t_surfaced[k]) / 24.0 > slow_days:
                n_slow[r] += 1
        elif st == FAILED or st == ABANDONED or st == LITIGATED:
            n_failed[r] += 1
        if transfers[k] > 0:
            n_transferred[r] += 1
        rows_out[n] = r
        n += 1
    return n


def own_experience(issues, day: int, slow_days: float, exp: Experience) -> np.ndarray:
    """Count today's closed issues per resident by outcome into ``exp``; returns the rows
    (residents) touched.

    Resolved (and, of those, slower than ``slow_days``), transferred at least once, and
    failed — closed unresolved, abandoned (neglect) or gone to court.
    """
    t = issues
    buf = np.empty(t.n, dtype=np.int64)
    n = _own_experience_kernel(
        t.status, t.t_closed, t.t_surfaced, t.transfers, t.resident, int(day),
        float(slow_days), exp.n_resolved, exp.n_slow, exp.n_transferred, exp.n_failed, buf,
    )  # fmt: skip
    res = buf[:n]
    exp.rows.append(res)
    return res


TRUST_BLOCK = 1024  # residents per block of the kernel's three sweeps


@njit(cache=True, parallel=True)
def _trust_kernel(
    x_prev, indptr, indices, n_resolved, n_slow, n_transferred, n_failed, d, mu, e_resolved,
    e_slow, e_transferred, e_failed, e_proc, grid_start, a_res, a_fail, seed, day, meetings,
    x_out,
):  # fmt: skip
    """One synchronous step; row i reads ``x_prev`` only and writes only ``x_out[i]``.

    A step of ``meetings`` days (the residents' clock, :mod:`sim.kernels.clock`) has the
    resident meet, one after another, the partners she would have met on each of those
    days (:func:`partner_slot` of ``day − meetings + 1`` … ``day``), whose trust is the
    one they had at the start of the step; the experiences and word of mouth of the step
    follow the last meeting. One meeting is the daily model.

    In blocks of ``TRUST_BLOCK`` residents: pick every partner (:func:`partner_slot`), then
    fetch their trust in a tight loop (a partner may live anywhere in the city, so most of
    the time goes to memory, and a tight loop keeps many fetches in flight), then update
    every resident as if she had no report today (the exchange alone, written without
    branches so that the sweep vectorises), then redo the few with reports
    (:func:`trust_update`).
    """
    n = x_prev.shape[0]
    n_blocks = (n + TRUST_BLOCK - 1) // TRUST_BLOCK
    for b in prange(n_blocks):
        lo_i = b * TRUST_BLOCK
        m = min(n, lo_i + TRUST_BLOCK) - lo_i
        slot = np.empty(m, dtype=np.int64)
        x_partner = np.empty(m, dtype=np.float32)
        x_met = np.empty(m)  # her trust before the step's last meeting (float64)
        for c in range(m):
            x_met[c] = np.float64(x_prev[lo_i + c])
        for j in range(meetings - 1, 0, -1):  # the step's earlier days, oldest first
            for c in range(m):
                i = lo_i + c
                lo = indptr[i]
                k = indptr[i + 1] - lo
                slot[c] = partner_slot(seed, day - j, i, lo, k) if k > 0 else -1
            for c in range(m):
                x_partner[c] = x_prev[indices[slot[c]]] if slot[c] >= 0 else 0.0
            for c in range(m):
                x = x_met[c]
                y = np.float64(x_partner[c])
                x_met[c] = x + mu * (y - x) if (slot[c] >= 0) & (abs(y - x) < d) else x
        for c in range(m):
            i = lo_i + c
            lo = indptr[i]
            k = indptr[i + 1] - lo
            slot[c] = partner_slot(seed, day, i, lo, k) if k > 0 else -1
        for c in range(m):
            x_partner[c] = x_prev[indices[slot[c]]] if slot[c] >= 0 else 0.0
        # what residents of the block's grids heard today (residents are ordered by grid)
        g0 = np.searchsorted(grid_start, lo_i, side="right") - 1
        pos = np.empty(m)
        neg = np.empty(m)
        g = g0
        for c in range(m):
            while lo_i + c >= grid_start[g + 1]:
                g += 1
            pos[c] = a_res[g]
            neg[c] = a_fail[g]
        for c in range(m):
            # trust_update without reports: bounded_confidence, word of mouth, the clip
            x = x_met[c]
            y = np.float64(x_partner[c])
            x = x + mu * (y - x) if (slot[c] >= 0) & (abs(y - x) < d) else x
            x = heard(heard(x, pos[c]), neg[c])
            x = 0.0 if x < 0.0 else x
            x_out[lo_i + c] = 1.0 if x > 1.0 else x
        for c in range(m):
            i = lo_i + c
            if n_resolved[i] != 0 or n_slow[i] != 0 or n_transferred[i] != 0 or n_failed[i] != 0:
                x_out[i] = trust_update(
                    i, x_met[c], np.float64(x_partner[c]), slot[c] >= 0,
                    n_resolved, n_slow, n_transferred, n_failed, d, mu, e_resolved, e_slow,
                    e_transferred, e_failed, e_proc, pos[c], neg[c],
                )  # fmt: skip


def trust_step(
    trust: np.ndarray,
    nbr_indptr: np.ndarray,
    nbr_indices: np.ndarray,
    n_resolved: np.ndarray,
    n_slow: np.ndarray,
    n_transferred: np.ndarray,
    n_failed: np.ndarray,
    *,
    seed: int,
    day: int,
    confidence: float,
    convergence: float,
    effect_resolved: float,
    effect_slow: float,
    effect_transferred: float,
    effect_failed: float,
    effect_procedure: float,
    reach_resolved: float,
    reach_failed: float,
    vicarious_weight: float,
    meetings: int,
    grid_start: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Stage 6: one day of trust exchange and direct experience (see the module docstring).

    Parameters
    ----------
    trust : float32[n_residents]
        Yesterday's trust ``x`` (``Residents.trust``); not modified.
    nbr_indptr : int64[n_residents + 1]
    nbr_indices : int32[n_ties]
        Social network in CSR form (``City.nbr_indptr``, ``City.nbr_indices``).
    n_resolved, n_slow, n_transferred, n_failed : int array [n_residents]
        The resident's own reports since the last step, by outcome: resolved in time,
        resolved late, transferred between departments, failed (closed unresolved).
    seed, day : int
        The partner of resident ``i`` is a pure function of (seed, day, i).
    confidence : float
        ``d``, the confidence bound: no exchange between trust levels ``d`` or more apart.
    convergence : float
        ``μ`` in (0, 0.5] (Deffuant et al. use 0.5 and lower).
    effect_resolved, effect_slow, effect_transferred, effect_failed : float
        Signed effect ``e_o`` of each report with that outcome, in [−1, 1].
    effect_procedure : float
        ``e_proc``, applied once per own report closed (resolved or failed), step 3.
    reach_resolved, reach_failed, vicarious_weight : float
        Word of mouth (step 4): residents of the grid who hear of a resolved / failed
        report, and the weight of a report heard of.
    meetings : int
        Days in the step (the residents' clock, :mod:`sim.kernels.clock`): the resident
        meets the partners of days ``day − meetings + 1`` … ``day`` one after another, at
        their trust of the step's start, before her reports of the step; 1 is one day.
    grid_start : int64[n_grids + 1], optional
        Residents of grid g are rows ``grid_start[g]:grid_start[g+1]``; without it there
        is no word of mouth (step 4 off).
    out : float32[n_residents], optional
        Where to write today's trust (must not share memory with ``trust``).

    Returns
    -------
    float32[n_residents]
        Today's trust (``out`` if given).

    Raises
    ------
    ValueError
        If lengths disagree, or ``out`` shares memory with ``trust``.

    Notes
    -----
    The plain-Python twin is ``tests/reference/trust.py::trust_step``.
    """
    n = trust.shape[0]
    counts = {
        "n_resolved": n_resolved,
        "n_slow": n_slow,
        "n_transferred": n_transferred,
        "n_failed": n_failed,
    }
    for name, arr in counts.items():
        if arr.shape[0] != n:
            raise ValueError(f"{name} must have {n} entries (one per resident); got {arr.shape[0]}")
    if nbr_indptr.shape[0] != n + 1:
        raise ValueError(f"nbr_indptr must have {n + 1} entries; got {nbr_indptr.shape[0]}")
    if out is None:
        out = np.empty(n, dtype=np.float32)
    elif np.shares_memory(out, trust):
        raise ValueError("out must not share memory with trust (synchronous update)")
    if grid_start is None:  # no grids: no word of mouth
        grid_start = np.array([0, n], dtype=np.int64)
        vicarious_weight = 0.0
    # a story heard moves trust by a resolution's size either way: the negativity of word
    # of mouth is in its reach (TARP), not counted twice
    a_res, a_fail = word_of_mouth(
        n_resolved, n_failed, grid_start, effect_resolved + effect_procedure,
        -abs(effect_resolved) + effect_procedure, reach_resolved, reach_failed,
        vicarious_weight,
    )  # fmt: skip
    _trust_kernel(
        trust, nbr_indptr, nbr_indices, n_resolved, n_slow, n_transferred, n_failed,
        float(confidence), float(convergence), float(effect_resolved), float(effect_slow),
        float(effect_transferred), float(effect_failed), float(effect_procedure),
        np.asarray(grid_start, dtype=np.int64), a_res, a_fail, int(seed), int(day),
        int(meetings), out,
    )  # fmt: skip
    return out


@njit(cache=True)
def _grid_sums(n_resolved, n_failed, grid_start, res, fail):
    """Per grid, the residents' reports of resolved and failed issues (residents are
    ordered by grid); no resident-sized temporary."""
    for g in range(grid_start.shape[0] - 1):
        a = 0
        b = 0
        for i in range(grid_start[g], grid_start[g + 1]):
            a += n_resolved[i]
            b += n_failed[i]
        res[g] = a
        fail[g] = b


def word_of_mouth(
    n_resolved, n_failed, grid_start, effect_resolved, effect_failed, reach_resolved,
    reach_failed, vicarious_weight,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per grid, the expected effects a resident hears of today (step 4): ω·e_o·reach_o·
    (reports of outcome o in the grid)/(residents of the grid), for resolved and failed."""
    grid_start = np.asarray(grid_start, dtype=np.int64)
    sizes = np.diff(grid_start).astype(np.float64)
    n_g = sizes.shape[0]
    res = np.zeros(n_g)
    fail = np.zeros(n_g)
    if n_g and grid_start[-1] > 0 and vicarious_weight != 0.0:
        _grid_sums(n_resolved, n_failed, grid_start, res, fail)
    size = np.maximum(sizes, 1.0)
    a_res = vicarious_weight * effect_resolved * reach_resolved * res / size
    a_fail = vicarious_weight * effect_failed * reach_failed * fail / size
    return np.clip(a_res, -1.0, 1.0), np.clip(a_fail, -1.0, 1.0)
