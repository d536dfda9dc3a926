"""Stage 6 — grievance and activation: Epstein's civil-violence rule per grid.

Each resident ``i`` of grid ``g`` (Epstein 2002 [1]_, Model I, agent rule A):

    G_i = H_i · (1 − L_i)                                   grievance
    P_i = 1 − exp(−k · round(C_g / A_i))                    estimated arrest probability
    N_i = R_i · P_i                                         net risk
    active_i  ⇔  G_i − N_i > T                              activation rule

with ``H_i`` the resident's hardship (``City.hardship``), ``L_i`` the legitimacy the
resident grants the government — its own trust (``Residents.trust``), ``R_i`` its risk
aversion, ``k`` the arrest constant, ``T`` the activation threshold, ``C_g`` the
enforcement presence in the grid (grid workers and police, see
:func:`enforcement_presence`) and ``A_i = 1 + (active residents of the grid other than i)``
(the resident counts herself, as in [1]_). ``round`` is Python's round-half-to-even, as in
Mesa's implementation [2]_: it is not in [1]_ but Mesa notes that without it the dynamics
of [1]_ cannot be replicated; ``np.rint`` rounds the same way.

A unit whose active residents reach ``max(incident_min_active, incident_share · n_g)``
makes a collective incident (群体性事件) that day.

The units are the city's **blocks** (``City.block_start``: fixed groups of about
``city.block_residents`` residents, 小区/自然村), not its grids: residents see and join
the actives of the place they live in, which does not change when the administration
draws its grids finer (issue 12: an incident threshold per grid made finer grids
"produce" incidents, an areal-unit artefact, Openshaw 1984 [3]_). The grids' enforcement
presence is carried onto the blocks in proportion to the residents they share
(:func:`grids_to_blocks`), and each grid's mobilisation is the resident-weighted mean of
its blocks' (:func:`blocks_to_grids`). With grids of the block size the two coincide.

Departures from [1]_ in the city kernel (:func:`activation_step`)
------------------------------------------------------------------
- **Vision = the block.** A resident sees the enforcement presence and the active residents
  of its own block (about 1,000 residents), not a radius-``v`` patch of a lattice; nobody
  moves and nobody is jailed (arrests are not modelled in the city: activation is the
  propensity to join a collective action, deterred by the visible presence ``C_g``).
- **Synchronous update.** ``A_i`` counts the grid's actives of the *previous* day (double
  buffer), so every resident can be updated in parallel and the result does not depend on
  the number of threads; [1]_ activates agents in random sequential order (that version,
  with movement and jail, is :func:`sim.validation.docking.epstein.run_epstein`).
- **Risk aversion is a pure function of the resident.** ``R_i ~ U(0, 1)`` as in [1]_, drawn
  from the counter-based hash ``uniform(seed, S_RISK_AVERSION, 0, i)`` instead of being
  stored: the same resident keeps the same ``R_i`` for the whole run.
- **Legitimacy is personal.** ``L`` is a single regime-wide constant in [1]_; here it is the
  resident's own trust, which changes over the run (:mod:`sim.kernels.trust`).

References
----------
.. [1] Epstein, J. M. (2002). Modeling civil violence: an agent-based computational
   approach. PNAS 99(suppl 3), 7243–7250. doi:10.1073/pnas.092080199
.. [2] Mesa developers. ``mesa.examples.advanced.epstein_civil_violence`` (Mesa 3.5.1),
   ``agents.py``: ``Citizen.update_estimated_arrest_probability``.
.. [3] Openshaw, S. (1984). The Modifiable Areal Unit Problem. CATMOG 38. Geo Books,
   Norwich.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from sim.issues import CAT_DISPUTE, CAT_NEED, FIRST_CLOSED
from sim.pools import workers_per_grid
from sim.rng import S_RISK_AVERSION, uniform

__all__ = [
    "S_RISK_AVERSION",
    "activation_step",
    "add_by_grid",
    "block_grid",
    "blocks_to_grids",
    "grids_to_blocks",
    "arrest_probability",
    "enforcement_presence",
    "grievance",
    "is_active",
    "risk_aversion",
]


@njit(cache=True, inline="always")
def grievance(hardship, legitimacy):
    """Grievance ``G = H · (1 − L)`` (Epstein 2002, Model I)."""
    return hardship * (1.0 - legitimacy)


@njit(cache=True, inline="always")
def arrest_probability(cops, actives, k):
    """Estimated arrest probability ``P = 1 − exp(−k · round(C / A))``.

    ``round`` is half-to-even (``np.rint``, like Python's ``round`` used by Mesa);
    ``actives`` ≥ 1 because the agent counts herself.
    """
    return 1.0 - math.exp(-k * np.rint(cops / actives))


@njit(cache=True, inline="always")
def is_active(grievance_i, risk_aversion_i, cops, actives, k, threshold):
    """Epstein's activation rule: active if ``G − R · P > T`` (Epstein 2002, agent rule A).

    Parameters
    ----------
    grievance_i : float
        ``G``, see :func:`grievance`.
    risk_aversion_i : float
        ``R`` in [0, 1].
    cops : float
        ``C``, enforcement presence within vision (cops, or grid workers and police).
    actives : float
        ``A``, active agents within vision *including the agent herself* (≥ 1).
    k : float
        Arrest constant (2.3 in [1]_ of the module docstring).
    threshold : float
        ``T`` (0.1 in Epstein 2002).
    """
    return grievance_i - risk_aversion_i * arrest_probability(cops, actives, k) > threshold


@njit(cache=True, inline="always")
def risk_aversion(seed, i):
    """Risk aversion ``R_i ~ U(0, 1)`` of resident ``i``: a pure function of (seed, i)."""
    return uniform(seed, S_RISK_AVERSION, 0, i)


@njit(cache=True, parallel=True)
def _activation_kernel(
    hardship, trust, active_prev, grid_start, presence, k, threshold, seed,
    grievance_out, active_out, grid_active,
):  # fmt: skip
    """Synchronous Epstein update, parallel over grids (each grid writes only its rows).

    A resident's ``A_i`` takes one of two values in her grid (she was active yesterday or
    not), so :func:`arrest_probability` is evaluated twice per grid rather than once per
    resident: the same arguments give the same bits, so each decision is
    :func:`is_active`'s exactly, without an exponential per resident.
    """
    n_grids = grid_start.shape[0] - 1
    for g in prange(n_grids):
        lo = grid_start[g]
        hi = grid_start[g + 1]
        a_prev = 0
        for i in range(lo, hi):
            a_prev += active_prev[i]
        c_g = presence[g]
        p_calm = arrest_probability(c_g, 1.0 + a_prev, k)  # she was not active yesterday
        p_active = arrest_probability(c_g, 1.0 + (a_prev - 1), k) if a_prev > 0 else 0.0
        a_new = 0
        for i in range(lo, hi):
            gr = grievance(np.float64(hardship[i]), np.float64(trust[i]))
            grievance_out[i] = gr
            p_i = p_active if active_prev[i] != 0 else p_calm
            # is_active(gr, R_i, c_g, A_i, k, threshold), with P(c_g, A_i) from above
            on = gr - risk_aversion(seed, i) * p_i > threshold
            active_out[i] = 1 if on else 0
            a_new += 1 if on else 0
        grid_active[g] = a_new


def enforcement_presence(
    workers_per_grid: np.ndarray | float,
    police_per_grid: np.ndarray | float,
    worker_weight: float,
    n_grids: int,
) -> np.ndarray:
    """Enforcement presence ``C_g = police_g + worker_weight · workers_g`` per grid.

    Parameters
    ----------
    workers_per_grid, police_per_grid : float or float array [n_grids]
        Grid workers (网格员) and police officers on duty in each grid.
    worker_weight : float
        Deterrence of a grid worker relative to a police officer (Epstein's cop = 1).
    n_grids : int

    Returns
    -------
    float64[n_grids]
    """
    c = np.asarray(police_per_grid, dtype=np.float64) + worker_weight * np.asarray(
        workers_per_grid, dtype=np.float64
    )
    # a new writable array either way (a view of a grid array would be read-only, and the
    # kernel would be compiled for both kinds of array)
    return np.array(np.broadcast_to(c, (n_grids,)), dtype=np.float64)


@njit(cache=True)
def _overlap_kernel(values, src_start, dst_start, per_src, out):
    """out[d] = Σ_s values[s]·|s ∩ d| / (|s| if per_src else |d|) over the overlapping
    row ranges of two partitions of the same rows (two-pointer merge)."""
    n_src = src_start.shape[0] - 1
    n_dst = dst_start.shape[0] - 1
    s = 0
    for d in range(n_dst):
        lo = dst_start[d]
        hi = dst_start[d + 1]
        acc = 0.0
        while s < n_src and src_start[s + 1] <= lo:
            s += 1
        j = s
        while j < n_src and src_start[j] < hi:
            a = max(lo, src_start[j])
            b = min(hi, src_start[j + 1])
            if b > a:
                size = src_start[j + 1] - src_start[j] if per_src else hi - lo
                if b - a == size:
                    acc += values[j]
                else:
                    acc += values[j] * (b - a) / size
            j += 1
        out[d] = acc
    return out


def grids_to_blocks(per_grid: np.ndarray, grid_start: np.ndarray, block_start: np.ndarray):
    """Share each grid's amount (e.g. enforcement presence C_g) among the blocks in
    proportion to the residents they share: C_b = Σ_g C_g·|g ∩ b|/n_g (float64[n_blocks]).
    Total preserved; a block that is one grid gets exactly that grid's amount."""
    out = np.empty(block_start.shape[0] - 1)
    v = np.ascontiguousarray(per_grid, dtype=np.float64)
    return _overlap_kernel(v, grid_start, block_start, True, out)


def blocks_to_grids(per_block: np.ndarray, block_start: np.ndarray, grid_start: np.ndarray):
    """Resident-weighted mean over each grid of a per-block value (e.g. mobilisation m_b):
    m_g = Σ_b m_b·|b ∩ g|/n_g (float64[n_grids])."""
    out = np.empty(grid_start.shape[0] - 1)
    v = np.ascontiguousarray(per_block, dtype=np.float64)
    return _overlap_kernel(v, block_start, grid_start, False, out)


def block_grid(block_start: np.ndarray, grid_start: np.ndarray) -> np.ndarray:
    """The grid holding each block's middle resident (int64[n_blocks]): where an incident
    of the block is recorded (event log, early-warning scores)."""
    mid = (block_start[:-1] + block_start[1:]) // 2
    return np.searchsorted(grid_start, mid, side="right") - 1


@njit(cache=True, parallel=True)
def _add_by_grid_kernel(x, grid_start, v):
    for g in prange(grid_start.shape[0] - 1):
        add = np.float32(v[g])
        if add == 0.0:
            continue
        for i in range(grid_start[g], grid_start[g + 1]):
            x[i] = min(np.float32(1.0), x[i] + add)


def add_by_grid(x: np.ndarray, grid_start: np.ndarray, v: np.ndarray) -> np.ndarray:
    """In place: ``x[i] ← min(1, x[i] + v[g])`` for every resident i of grid g (float32).

    Used for the shared part of felt hardship (:func:`felt_hardship`); no
    population-sized temporary. Returns ``x``.
    """
    if grid_start.shape[0] - 1 != v.shape[0] or int(grid_start[-1]) != x.shape[0]:
        raise ValueError(
            f"v must have one entry per grid ({grid_start.shape[0] - 1}) and grid_start must "
            f"end at {x.shape[0]}; got {v.shape[0]} and {int(grid_start[-1])}"
        )
    _add_by_grid_kernel(x, grid_start, np.asarray(v, dtype=np.float64))
    return x


def activation_step(
    hardship: np.ndarray,
    trust: np.ndarray,
    active: np.ndarray,
    grid_start: np.ndarray,
    presence: np.ndarray,
    grievance_out: np.ndarray,
    *,
    arrest_constant: float,
    threshold: float,
    incident_share: float,
    incident_min_active: int,
    seed: int,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stage 6: grievance and activation of every resident (Epstein 2002, Model I).

    Parameters
    ----------
    hardship : float32[n_residents]
        ``H`` (``City.hardship``).
    trust : float32[n_residents]
        ``L``, the resident's trust (``Residents.trust``).
    active : uint8[n_residents]
        Yesterday's activation (1 = active); not modified (double buffer).
    grid_start : int64[n_grids + 1]
        Residents of grid ``g`` are rows ``grid_start[g]:grid_start[g + 1]``.
    presence : float64[n_grids]
        ``C_g``, see :func:`enforcement_presence`.
    grievance_out : float32[n_residents]
        Written in place with ``G = H · (1 − L)`` (``Residents.grievance``).
    arrest_constant : float
        ``k`` (Epstein: 2.3).
    threshold : float
        ``T`` (Epstein: 0.1).
    incident_share, incident_min_active : float, int
        A grid makes a collective incident when its active residents number at least
        ``max(incident_min_active, incident_share · n_g)``.
    seed : int
        Run seed (risk aversion ``R_i`` is a pure function of seed and resident).
    out : uint8[n_residents], optional
        Where to write today's activation (must not share memory with ``active``); a
        new array if not given.

    Returns
    -------
    active_new : uint8[n_residents]
        Today's activation.
    grid_active : int32[n_grids]
        Active residents per grid.
    incident : uint8[n_grids]
        1 where the grid makes a collective incident today.

    Raises
    ------
    ValueError
        If array lengths disagree.

    Notes
    -----
    See the module docstring for the rule and its departures from Epstein (2002). The
    plain-Python twin is ``tests/reference/activation.py::activation_step``.
    """
    n = hardship.shape[0]
    if trust.shape[0] != n or active.shape[0] != n or grievance_out.shape[0] != n:
        raise ValueError(
            "hardship, trust, active and grievance_out must have one entry per resident; got "
            f"lengths {hardship.shape[0]}, {trust.shape[0]}, {active.shape[0]}, "
            f"{grievance_out.shape[0]}"
        )
    n_grids = grid_start.shape[0] - 1
    if presence.shape[0] != n_grids or (n_grids >= 0 and int(grid_start[-1]) != n):
        raise ValueError(
            f"presence must have one entry per grid ({n_grids}) and grid_start must end at "
            f"{n}; got {presence.shape[0]} and {int(grid_start[-1])}"
        )
    if out is None:
        active_new = np.empty(n, dtype=np.uint8)
    else:
        if out.shape != (n,) or out.dtype != np.uint8 or np.shares_memory(out, active):
            raise ValueError(
                f"out must be a separate uint8 array of {n} entries (the update is "
                "synchronous: it cannot overwrite yesterday's activation)"
            )
        active_new = out
    grid_active = np.empty(n_grids, dtype=np.int32)
    _activation_kernel(
        hardship, trust, active.astype(np.uint8, copy=False), grid_start,
        presence.astype(np.float64, copy=False), float(arrest_constant), float(threshold),
        int(seed), grievance_out, active_new, grid_active,
    )  # fmt: skip
    n_g = np.diff(grid_start).astype(np.float64)
    need = np.maximum(float(incident_min_active), incident_share * n_g)
    incident = (grid_active >= need).astype(np.uint8)
    return active_new, grid_active, incident


# ---------------------------------------------------------------------------------------
# The mechanism's day: parameters, state, felt hardship, presence, incidents


@dataclass(frozen=True)
class Params:
    """Activation parameters, built once from the scenario (``activation.*``).

    Attributes
    ----------
    arrest_constant, threshold : float
        k and T of Epstein's rule.
    incident_share, incident_min_active : float, int
        A grid's critical mass: ``max(incident_min_active, incident_share · n_g)`` actives.
    presence_per_1000 : float
        Police (officer-equivalents) per 1,000 residents of a grid.
    worker_weight : float
        Deterrence of a grid worker relative to an officer.
    workers_per_grid : float or float array [n_grids]
        Grid workers per grid (:func:`sim.pools.workers_per_grid`; per grid where counties
        have added workers, :func:`sim.pools.grid_workers`).
    unresolved_hardship, shared_hardship : float
        b and b_s of :func:`felt_hardship`.
    grace_days : float
        ``escalation.grace_days``: an issue open longer weighs on its resident.
    mobilisation_exponent : float
        γ of :func:`mobilisation` (``escalation.mobilisation_exponent``).
    """

    arrest_constant: float
    threshold: float
    incident_share: float
    incident_min_active: int
    presence_per_1000: float
    worker_weight: float
    workers_per_grid: float | np.ndarray
    unresolved_hardship: float
    shared_hardship: float
    grace_days: float
    mobilisation_exponent: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        ap = sc.activation
        return cls(
            arrest_constant=ap.arrest_constant,
            threshold=ap.threshold,
            incident_share=ap.incident_share,
            incident_min_active=ap.incident_min_active,
            presence_per_1000=ap.presence_per_1000,
            worker_weight=ap.worker_weight,
            workers_per_grid=workers_per_grid(sc),
            unresolved_hardship=ap.unresolved_hardship,
            shared_hardship=ap.shared_hardship,
            grace_days=sc.escalation.grace_days,
            mobilisation_exponent=sc.escalation.mobilisation_exponent,
        )

    def kwargs(self) -> dict[str, float]:
        """The rule's keyword arguments of :func:`activation_step`."""
        keep = ("arrest_constant", "threshold", "incident_share", "incident_min_active")
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in keep}


SETTLE_SWEEPS = 30  # sweeps of the rule before day 0 (activation settles; no incidents)


@dataclass
class State:
    """What activation carries from day to day.

    Attributes
    ----------
    active : uint8[n_residents]
        Today's activation (yesterday's while the rule runs).
    spare : uint8[n_residents]
        The double buffer the rule writes tomorrow's activation into.
    block_incident : uint8[n_blocks]
        1 while a block is in an incident episode (hysteresis, see :func:`update`).
    mobilisation : float64[n_grids]
        m_g for tomorrow's escalation (:func:`mobilisation`, carried from the blocks onto
        the grids by :func:`blocks_to_grids`).
    felt : float32[n_residents]
        Buffer of today's felt hardship (:func:`felt_hardship`).
    """

    active: np.ndarray
    spare: np.ndarray
    block_incident: np.ndarray
    mobilisation: np.ndarray
    felt: np.ndarray

    @classmethod
    def start(cls, n_residents: int, n_grids: int, n_blocks: int | None = None) -> State:
        return cls(
            active=np.zeros(n_residents, dtype=np.uint8),
            spare=np.empty(n_residents, dtype=np.uint8),
            block_incident=np.zeros(n_grids if n_blocks is None else n_blocks, dtype=np.uint8),
            mobilisation=np.zeros(n_grids),
            felt=np.empty(n_residents, dtype=np.float32),
        )


class Unrest(NamedTuple):
    """Collective incidents from activation today (counted at their onset)."""

    incidents: int
    onsets: np.ndarray  # int64[n_grids]: onsets recorded at the grid of the block's middle
    block_onsets: np.ndarray  # int64[n_blocks]: the same onsets on the blocks they arose on


def presence(patrol_mult, grid_sizes, p: Params) -> np.ndarray:
    """C_g: the grid's police and its grid workers, whose presence follows their patrols
    (the early warning redeploys them: ``patrol_mult``); workers per grid are a beat's
    workers over its grids (:func:`sim.pools.workers_per_grid`)."""
    n_g = grid_sizes.astype(np.float64)
    workers = p.workers_per_grid * patrol_mult
    return enforcement_presence(
        workers, p.presence_per_1000 * n_g / 1000.0, p.worker_weight, n_g.shape[0]
    )


@njit(cache=True)
def _own_burden_kernel(hardship, status, category, resident, t_created, cutoff, b, out):
    """``out = min(1, H + b·u_i)`` (float32), u_i the resident's open needs and disputes
    created before ``cutoff``; ``out = H`` when ``b ≤ 0``. In one pass over the residents
    and two over the rows, adding ``b`` once per issue as ``np.add.at`` would, and capping
    only the residents it added to (the others are capped on the copy): the same floats
    as a copy, ``np.add.at`` and ``np.minimum`` over everyone."""
    one = np.float32(1.0)
    if b <= 0.0:
        for i in range(hardship.shape[0]):
            out[i] = hardship[i]
        return
    for i in range(hardship.shape[0]):
        out[i] = min(hardship[i], one)
    bf = np.float32(b)
    for k in range(status.shape[0]):
        if _burdens(status, category, t_created, cutoff, k):
            out[resident[k]] += bf
    for k in range(status.shape[0]):
        if _burdens(status, category, t_created, cutoff, k):
            out[resident[k]] = min(out[resident[k]], one)


@njit(cache=True, inline="always")
def _burdens(status, category, t_created, cutoff, k):
    """Row ``k`` is an open need or dispute created before ``cutoff``."""
    c = category[k]
    return (
        status[k] < FIRST_CLOSED and t_created[k] < cutoff and (c == CAT_DISPUTE or c == CAT_NEED)
    )


def felt_hardship(hardship, issues, block_start, p: Params, day: int, out) -> np.ndarray:
    """Hardship H plus the burden of the resident's own long-unresolved issues (into ``out``).

    H'_i = min(1, H_i + b·u_i + b_s·100·U_b/n_b), u_i the resident's open needs and
    disputes older than ``escalation.grace_days`` (hidden or known),
    b = ``activation.unresolved_hardship``: grievance accumulates from hardship and
    unresolved issues (DIGEST.md, mechanism 3). U_b counts the disputes of the residents
    of block b (``block_start``; any partition of the residents) open that long: a
    neighbourhood's long-unresolved conflicts are a grievance its residents share
    (relative deprivation, Gurr 1970), b_s = ``activation.shared_hardship`` per such
    dispute per 100 residents.

    References
    ----------
    1. Gurr, T. R. (1970). Why Men Rebel. Princeton University Press.
    """
    t = issues
    b, b_s = p.unresolved_hardship, p.shared_hardship
    if (b <= 0 and b_s <= 0) or not t.n:
        np.copyto(out, hardship)
        return out
    cutoff = 24.0 * (day + 1) - 24.0 * p.grace_days
    _own_burden_kernel(
        hardship, t.status, t.category, t.resident, t.t_created, cutoff, float(b), out
    )
    if b_s > 0:
        aged_open = (t.status < FIRST_CLOSED) & (t.t_created < cutoff)
        disputes = aged_open & (t.category == CAT_DISPUTE)
        n_blocks = block_start.shape[0] - 1
        n_b = np.diff(block_start)
        block = np.searchsorted(block_start, t.resident[disputes], side="right") - 1
        per_100 = 100.0 * np.bincount(block, minlength=n_blocks) / np.maximum(n_b, 1)
        add_by_grid(out, block_start, b_s * per_100)
    return out


def critical_mass(grid_sizes, p: Params) -> np.ndarray:
    """Actives that make a unit's (block's) collective incident: max(min_active, share·n)."""
    return np.maximum(p.incident_min_active, p.incident_share * grid_sizes.astype(np.float64))


def mobilisation(grid_active, critical, p: Params) -> np.ndarray:
    """m_g = min(1, A_g / critical mass)^γ: how readily a dispute escalating in the grid
    turns collective tomorrow (Oliver, Marwell & Teixeira 1985; :mod:`sim.kernels.escalate`)."""
    return np.minimum(1.0, grid_active / critical) ** p.mobilisation_exponent


def update(
    state: State, rule, hardship, trust, grid_start, presence_g, grievance_out, p: Params,
    seed: int, count: bool, block_start=None,
) -> Unrest:  # fmt: skip
    """The mechanism's day: Epstein's rule for every resident, then incidents and m_g.

    ``rule`` is :func:`activation_step` (or its plain-Python twin); ``hardship`` is felt
    hardship (:func:`felt_hardship`), ``presence_g`` the enforcement presence C_g of each
    grid. The rule runs on the blocks (``block_start``; the grids when not given): C_g is
    shared among them (:func:`grids_to_blocks`) and their mobilisation carried back onto
    the grids (:func:`blocks_to_grids`). An incident is an episode: it starts when a block
    crosses the critical mass and ends only when its active share falls below half of it
    (hysteresis, so that noise around the threshold does not count as many incidents);
    onsets are counted when ``count`` and recorded at the grid of the block's middle
    resident (:func:`block_grid`). ``state`` is updated in place (activation double
    buffer, episodes, m_g).
    """
    units = grid_start if block_start is None else block_start
    same = units is grid_start or np.array_equal(units, grid_start)
    presence_u = presence_g if same else grids_to_blocks(presence_g, grid_start, units)
    new, unit_active, incident = rule(
        hardship, trust, state.active, units, presence_u, grievance_out, **p.kwargs(),
        seed=seed, out=state.spare,
    )  # fmt: skip
    state.active, state.spare = new, state.active  # double buffer
    critical = critical_mass(np.diff(units), p)
    m_u = mobilisation(unit_active, critical, p)
    state.mobilisation = m_u if same else blocks_to_grids(m_u, units, grid_start)
    onset = (incident == 1) & (state.block_incident == 0) & count
    calm = unit_active < 0.5 * critical
    state.block_incident = np.where(calm, 0, np.maximum(state.block_incident, incident)).astype(
        np.uint8
    )
    n_onsets = int(onset.sum())
    on_blocks = onset.astype(np.int64)
    if same:
        return Unrest(n_onsets, on_blocks, on_blocks)
    at_grid = np.bincount(
        block_grid(units, grid_start), weights=onset, minlength=grid_start.shape[0] - 1
    ).astype(np.int64)
    return Unrest(n_onsets, at_grid, on_blocks)
