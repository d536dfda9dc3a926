"""Stage 6 — participation: threshold contagion with efficacy, publicity and decay.

A resident's participation propensity ``p_i ∈ [0, 1]`` (``City.participation``: the
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

The result is clipped to [0, 1] and stored as float32.

**Watts's model as a special case.** With ``δ = 0``, ``η_s = η_f = 0``, ``s = 0`` and
propensities starting in {0, 1}, a resident is engaged exactly when she is "active" in [2]_,
engagement is permanent, and the kernel is one synchronous sweep of Watts's threshold
rule; :func:`cascade_alone` iterates it to the fixed point.

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
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from sim.city.network import edges_to_csr
from sim.kernels.rng import uniform

__all__ = [
    "S_PART_GRAPH",
    "S_PART_THRESHOLD",
    "cascade_alone",
    "cascade_frequency",
    "erdos_renyi",
    "participation_row",
    "participation_step",
    "threshold",
]

# Counter-based random-number streams of this module (see sim.kernels.rng).
S_PART_THRESHOLD = 50  # day 0, idx = resident: threshold φ_i
S_PART_GRAPH = 51  # day 0, idx = draw number: Erdős–Rényi graphs of the alone experiment


@njit(cache=True, inline="always")
def threshold(seed, i, threshold_mean, threshold_spread):
    """Threshold ``φ_i``, uniform on ``[φ̄ − s, φ̄ + s]``: a pure function of (seed, i)."""
    return threshold_mean + threshold_spread * (2.0 * uniform(seed, S_PART_THRESHOLD, 0, i) - 1.0)


@njit(cache=True, inline="always")
def participation_row(
    i, p_prev, indptr, indices, org_member, n_resolved, n_failed, engaged_level, threshold_mean,
    threshold_spread, baseline, publicity, publicity_gain, org_gain, decay, efficacy_gain,
    failure_loss, seed,
):  # fmt: skip
    """Today's propensity of resident ``i`` from yesterday's ``p_prev`` (steps 1–3 above)."""
    p = np.float64(p_prev[i])
    lo = indptr[i]
    hi = indptr[i + 1]
    k = hi - lo
    reinforced = False
    if k > 0:
        m = 0
        for a in range(lo, hi):
            if p_prev[indices[a]] >= engaged_level:
                m += 1
        if threshold_spread == 0.0:
            phi = threshold_mean
        else:
            phi = threshold(seed, i, threshold_mean, threshold_spread)
        if m / k >= phi:
            reinforced = True
            if p < engaged_level:
                p = engaged_level
    b = baseline + publicity_gain * publicity + org_gain * org_member[i]
    if b > 1.0:
        b = 1.0
    # drift toward the baseline; an engaged resident is held at least at θ_e
    if reinforced and b < engaged_level:
        b = engaged_level
    p += decay * (b - p)
    for _ in range(n_resolved[i]):
        p += efficacy_gain * (1.0 - p)
    for _ in range(n_failed[i]):
        p *= 1.0 - failure_loss
    if p < 0.0:
        p = 0.0
    elif p > 1.0:
        p = 1.0
    return p


@njit(cache=True, parallel=True)
def _participation_kernel(
    p_prev, indptr, indices, org_member, n_resolved, n_failed, engaged_level, threshold_mean,
    threshold_spread, baseline, publicity, publicity_gain, org_gain, decay, efficacy_gain,
    failure_loss, seed, p_out,
):  # fmt: skip
    """One synchronous day; row i reads ``p_prev`` only and writes only ``p_out[i]``."""
    for i in prange(p_prev.shape[0]):
        p_out[i] = participation_row(
            i, p_prev, indptr, indices, org_member, n_resolved, n_failed, engaged_level,
            threshold_mean, threshold_spread, baseline, publicity, publicity_gain, org_gain,
            decay, efficacy_gain, failure_loss, seed,
        )  # fmt: skip


@njit(cache=True)
def _cascade_kernel(p, indptr, indices, phi, max_sweeps):
    """Watts's cascade: synchronous sweeps of :func:`participation_row` to the fixed point.

    Decay, efficacy and publicity off, uniform threshold ``phi``. A sweep re-evaluates
    only the neighbours of the nodes that changed in the previous sweep: with decay off the
    row rule is idempotent (``f(f(p, N), N) = f(p, N)``), so every other node would keep
    its value, and the sequence of states is that of full synchronous sweeps. Sequential
    (small graphs; an experiment repeats many trials). Returns the sweeps done.
    """
    n = p.shape[0]
    zeros = np.zeros(n, dtype=np.uint8)
    mark = np.full(n, -1, dtype=np.int64)
    changed = np.empty(n, dtype=np.int64)
    n_changed = n  # the first sweep evaluates every node
    cand = np.empty(n, dtype=np.int64)
    new = np.empty(n, dtype=np.float32)
    sweeps = 0
    first = True
    while sweeps < max_sweeps and n_changed > 0:
        n_cand = 0
        if first:
            for i in range(n):
                cand[n_cand] = i
                n_cand += 1
            first = False
        else:
            for c in range(n_changed):
                j = changed[c]
                for a in range(indptr[j], indptr[j + 1]):
                    i = indices[a]
                    if mark[i] != sweeps:
                        mark[i] = sweeps
                        cand[n_cand] = i
                        n_cand += 1
        for c in range(n_cand):
            new[c] = participation_row(
                cand[c], p, indptr, indices, zeros, zeros, zeros, 0.5, phi, 0.0, 0.0, 0.0,
                0.0, 0.0, 0.0, 0.0, 0.0, 0,
            )  # fmt: skip
        n_changed = 0
        for c in range(n_cand):
            i = cand[c]
            if new[c] != p[i]:
                p[i] = new[c]
                changed[n_changed] = i
                n_changed += 1
        sweeps += 1
    return sweeps


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
    engaged_level: float = 0.5,
    threshold_mean: float = 0.25,
    threshold_spread: float = 0.1,
    baseline: float = 0.2,
    publicity_gain: float = 0.3,
    org_gain: float = 0.15,
    decay: float = 0.01,
    efficacy_gain: float = 0.1,
    failure_loss: float = 0.15,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Stage 6: one day of participation dynamics (see the module docstring).

    Parameters
    ----------
    participation : float32[n_residents]
        Yesterday's propensity ``p`` (``City.participation``); not modified.
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
    out : float32[n_residents], optional
        Where to write today's propensity (must not be ``participation``).

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
    _participation_kernel(
        participation, nbr_indptr, nbr_indices, org_member, n_resolved, n_failed,
        float(engaged_level), float(threshold_mean), float(threshold_spread), float(baseline),
        float(publicity), float(publicity_gain), float(org_gain), float(decay),
        float(efficacy_gain), float(failure_loss), int(seed), out,
    )  # fmt: skip
    return out


@njit(cache=True)
def _gnp_edges(n, p, seed):
    """Edges ``(v, w)``, ``w < v``, of G(n, p) by geometric skipping (Batagelj & Brandes 2005)."""
    cap = int(p * n * (n - 1) / 2.0 + 10.0 * np.sqrt(p * n * n / 2.0) + 64.0)
    u = np.empty(cap, dtype=np.int32)
    v = np.empty(cap, dtype=np.int32)
    m = 0
    if p <= 0.0:
        return u[:0], v[:0]
    log_q = np.log(1.0 - p) if p < 1.0 else -np.inf
    row = 1
    col = -1
    k = 0
    while row < n:
        r = uniform(seed, S_PART_GRAPH, 0, k)
        k += 1
        col += 1 + (int(np.floor(np.log(1.0 - r) / log_q)) if p < 1.0 else 0)
        while col >= row and row < n:
            col -= row
            row += 1
        if row < n:
            if m == cap:
                u2 = np.empty(2 * cap, dtype=np.int32)
                v2 = np.empty(2 * cap, dtype=np.int32)
                u2[:cap] = u
                v2[:cap] = v
                u = u2
                v = v2
                cap *= 2
            u[m] = row
            v[m] = col
            m += 1
    return u[:m], v[:m]


def erdos_renyi(
    n_nodes: int, mean_degree: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """An Erdős–Rényi random graph G(n, p) with ``p = z / (n − 1)``, in CSR form.

    Parameters
    ----------
    n_nodes : int
        ``n`` ≥ 2.
    mean_degree : float
        ``z``, the expected degree.
    rng : numpy.random.Generator
        Draws the seed of the counter-based hash (stream :data:`S_PART_GRAPH`) that places
        the edges.

    Returns
    -------
    indptr : int64[n_nodes + 1]
    indices : int32[n_ties]
        See :func:`sim.city.network.edges_to_csr`.

    Notes
    -----
    Each of the n(n − 1)/2 pairs is an edge independently with probability ``p``
    (Erdős & Rényi 1959; Gilbert 1959), generated in O(n + m) by skipping geometrically
    distributed gaps between edges (Batagelj & Brandes 2005, algorithm G(n, p)).

    References
    ----------
    1. Batagelj, V., & Brandes, U. (2005). Efficient generation of large random networks.
       Physical Review E 71, 036113. doi:10.1103/PhysRevE.71.036113
    """
    if n_nodes < 2 or not 0.0 <= mean_degree <= n_nodes - 1:
        raise ValueError(
            f"need n_nodes >= 2 and 0 <= mean_degree <= n_nodes - 1; got {n_nodes}, {mean_degree}"
        )
    seed = int(rng.integers(0, 2**63 - 1))
    u, v = _gnp_edges(int(n_nodes), float(mean_degree) / (n_nodes - 1), seed)
    return edges_to_csr(int(n_nodes), u, v)


def cascade_alone(
    indptr: np.ndarray,
    indices: np.ndarray,
    phi: float,
    seed_nodes: np.ndarray,
    max_sweeps: int | None = None,
) -> tuple[np.ndarray, int]:
    """Watts's threshold cascade alone: seed nodes on, then sweeps to the fixed point.

    Repeats the daily rule of :func:`participation_step` (the same row function,
    :func:`participation_row`) with decay, efficacy and publicity off and a uniform threshold
    ``φ`` (``threshold_spread = 0``) until no node changes.

    Parameters
    ----------
    indptr, indices : CSR adjacency (see :func:`erdos_renyi`)
    phi : float
        Uniform threshold ``φ``: a node adopts when ``m / k ≥ φ``.
    seed_nodes : int array
        Initially active nodes.
    max_sweeps : int, optional
        Stop after this many synchronous sweeps (default: number of nodes).

    Returns
    -------
    active : bool[n_nodes]
        Final adopters (seed nodes included).
    n_sweeps : int
        Synchronous sweeps done, the last one changing nothing (unless ``max_sweeps`` hit).
    """
    n = indptr.shape[0] - 1
    p = np.zeros(n, dtype=np.float32)
    p[np.asarray(seed_nodes, dtype=np.int64)] = 1.0
    sweeps = _cascade_kernel(
        p, indptr, indices, float(phi), n if max_sweeps is None else max_sweeps
    )
    return p >= 0.5, int(sweeps)


def cascade_frequency(
    mean_degrees: np.ndarray,
    n_nodes: int,
    phi: float,
    n_trials: int,
    rng: np.random.Generator,
    global_share: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency of global cascades from one random seed on Erdős–Rényi graphs (Watts Fig. 1).

    For each mean degree ``z``, ``n_trials`` times: draw a fresh G(n, z/(n−1)), turn on one
    node chosen uniformly at random, run :func:`cascade_alone`, and count the cascade as
    global when it reaches at least ``global_share`` of the nodes.

    Parameters
    ----------
    mean_degrees : float array
        Values of ``z``.
    n_nodes : int
        ``n`` (10,000 in Watts 2002).
    phi : float
        Uniform threshold.
    n_trials : int
    rng : numpy.random.Generator
    global_share : float
        Minimum final share of active nodes for a global cascade.

    Returns
    -------
    frequency : float64[len(mean_degrees)]
        Share of trials with a global cascade.
    mean_size : float64[len(mean_degrees)]
        Mean final share of active nodes among the global cascades (NaN if none).
    """
    z_values = np.asarray(mean_degrees, dtype=np.float64)
    freq = np.zeros(z_values.shape[0])
    size = np.full(z_values.shape[0], np.nan)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # small graphs: parallel CSR building does not pay
    try:
        _trials(z_values, n_nodes, phi, n_trials, rng, global_share, freq, size)
    finally:
        numba.set_num_threads(threads)
    return freq, size


def _trials(z_values, n_nodes, phi, n_trials, rng, global_share, freq, size):
    for a, z in enumerate(z_values):
        sizes = []
        for _ in range(n_trials):
            indptr, indices = erdos_renyi(n_nodes, z, rng)
            seed_node = rng.integers(0, n_nodes, size=1)
            active, _ = cascade_alone(indptr, indices, phi, seed_node)
            share = np.count_nonzero(active) / n_nodes
            if share >= global_share:
                sizes.append(share)
        freq[a] = len(sizes) / n_trials
        if sizes:
            size[a] = float(np.mean(sizes))
