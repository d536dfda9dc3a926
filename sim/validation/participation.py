"""Participation run alone: Watts's threshold cascade on Erdős–Rényi graphs.

The daily rule of :mod:`sim.kernels.participation` (its row function
:func:`~sim.kernels.participation.participation_row`) with decay, efficacy and publicity
off and a uniform threshold is Watts's (2002) threshold model; :func:`cascade_frequency`
reproduces the cascade window of his Fig. 1.

References
----------
1. Watts, D. J. (2002). A simple model of global cascades on random networks. PNAS 99(9),
   5766–5771. doi:10.1073/pnas.082090499
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit

from sim.city.network import edges_to_csr
from sim.kernels.participation import participation_row
from sim.rng import S_PART_GRAPH, uniform

__all__ = ["cascade_alone", "cascade_frequency", "erdos_renyi"]


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
