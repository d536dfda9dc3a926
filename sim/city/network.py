"""The residents' social network in CSR form: households, grid neighbours, long ties.

The network is undirected and stored in compressed sparse row (CSR) form with both
directions of every tie: the neighbours of resident ``i`` are
``indices[indptr[i]:indptr[i + 1]]``, sorted, without duplicates and without ``i``
itself. Because residents are numbered by locality (county, town, community, grid,
household), most neighbours of ``i`` have ids close to ``i``.

Three kinds of ties are laid down (Granovetter 1973 [1]_ strong and weak ties):

- all members of a household are linked (a clique, strong ties);
- random ties to other residents of the same grid (neighbourhood ties);
- random ties to anyone in the city (long, weak ties; with the grid ties this is a
  "locally clustered plus random shortcuts" graph in the spirit of Watts & Strogatz
  1998 [2]_).

References
----------
.. [1] Granovetter, M. S. (1973). The strength of weak ties. American Journal of
   Sociology, 78(6), 1360-1380. doi:10.1086/225469
.. [2] Watts, D. J., & Strogatz, S. H. (1998). Collective dynamics of "small-world"
   networks. Nature, 393, 440-442. doi:10.1038/30918
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["build_network", "edges_to_csr", "household_pairs", "random_ties"]

# Rows shorter than this are sorted by insertion sort (rows are ~10 long); longer by np.sort.
_INSERTION_SORT_MAX = 64


def edges_to_csr(n_nodes: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Build the symmetric CSR adjacency of an undirected edge list.

    Parameters
    ----------
    n_nodes : int
        Number of nodes; node ids are ``0 .. n_nodes - 1``.
    u, v : int array [n_edges]
        Endpoints of the undirected edges ``(u[k], v[k])``. Each tie may be listed once or
        several times, in either direction; self loops (``u[k] == v[k]``) are dropped.

    Returns
    -------
    indptr : int64[n_nodes + 1]
    indices : int32[n_ties]
        Neighbours of node ``i`` are ``indices[indptr[i]:indptr[i + 1]]``, sorted
        ascending, without duplicates or ``i`` itself; every tie is stored in both rows.

    Raises
    ------
    ValueError
        If ``u`` and ``v`` differ in shape or hold an id outside ``[0, n_nodes)``.

    Notes
    -----
    A counting sort by row (scatter), then a per-row sort and de-duplication (parallel
    over rows with ``prange``; each row is independent, so the result does not depend on
    the number of threads), then a compaction. The plain-Python twin is
    ``tests/reference/network.py::edges_to_csr``.
    """
    u = np.asarray(u)
    v = np.asarray(v)
    if u.ndim != 1 or u.shape != v.shape:
        raise ValueError(f"u and v must be 1-D arrays of equal length; got {u.shape}, {v.shape}")
    if not 0 <= n_nodes < 2**31:
        raise ValueError(f"n_nodes must be in [0, 2**31); got {n_nodes}")
    if u.size:
        lo = min(int(u.min()), int(v.min()))
        hi = max(int(u.max()), int(v.max()))
        if lo < 0 or hi >= n_nodes:
            raise ValueError(
                f"edge endpoints must be node ids in [0, {n_nodes}); got values in [{lo}, {hi}]"
            )
    u32 = np.ascontiguousarray(u, dtype=np.int32)
    v32 = np.ascontiguousarray(v, dtype=np.int32)
    indptr, data = _scatter_kernel(np.int64(n_nodes), u32, v32)
    degree = _sort_unique_kernel(indptr, data)
    new_indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(degree, out=new_indptr[1:])
    indices = _compact_kernel(indptr, data, new_indptr)
    return new_indptr, indices


@njit(cache=True)
def _scatter_kernel(n_nodes, u, v):
    """Row offsets of the symmetrised edge list and its entries grouped by row (unsorted)."""
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    for k in range(u.shape[0]):
        if u[k] != v[k]:
            indptr[u[k] + 1] += 1
            indptr[v[k] + 1] += 1
    for i in range(n_nodes):
        indptr[i + 1] += indptr[i]
    pos = indptr[:-1].copy()
    data = np.empty(indptr[n_nodes], dtype=np.int32)
    for k in range(u.shape[0]):
        a = u[k]
        b = v[k]
        if a != b:
            data[pos[a]] = b
            pos[a] += 1
            data[pos[b]] = a
            pos[b] += 1
    return indptr, data


@njit(parallel=True, cache=True)
def _sort_unique_kernel(indptr, data):
    """Sort each row in place, move its distinct entries to the front; return their counts."""
    n_nodes = indptr.shape[0] - 1
    degree = np.zeros(n_nodes, dtype=np.int64)
    for i in prange(n_nodes):
        lo = indptr[i]
        hi = indptr[i + 1]
        if hi - lo <= _INSERTION_SORT_MAX:
            for a in range(lo + 1, hi):
                x = data[a]
                b = a - 1
                while b >= lo and data[b] > x:
                    data[b + 1] = data[b]
                    b -= 1
                data[b + 1] = x
        else:
            data[lo:hi] = np.sort(data[lo:hi])
        m = 0
        for a in range(lo, hi):
            if m == 0 or data[a] != data[lo + m - 1]:
                data[lo + m] = data[a]
                m += 1
        degree[i] = m
    return degree


@njit(parallel=True, cache=True)
def _compact_kernel(indptr, data, new_indptr):
    """Copy the first ``new_indptr[i+1] - new_indptr[i]`` entries of each row together."""
    n_nodes = indptr.shape[0] - 1
    out = np.empty(new_indptr[n_nodes], dtype=np.int32)
    for i in prange(n_nodes):
        src = indptr[i]
        for a in range(new_indptr[i], new_indptr[i + 1]):
            out[a] = data[src]
            src += 1
    return out


def household_pairs(household: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of members of each household (each pair once, ``u < v``).

    Parameters
    ----------
    household : int array [n_residents]
        Household id of each resident, ``0 .. n_households - 1``, non-decreasing (each
        household is a contiguous run of residents).

    Returns
    -------
    u, v : int32[n_pairs]
        ``n_pairs = sum(s * (s - 1) / 2)`` over household sizes ``s``.
    """
    n = household.shape[0]
    if n == 0:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    hh_end = np.cumsum(np.bincount(household))  # one past the last member of each household
    later = hh_end[household] - np.arange(1, n + 1)  # members after i in its household
    u = np.repeat(np.arange(n, dtype=np.int32), later)
    first = np.cumsum(later) - later  # where i's pairs start in u
    v = np.arange(u.shape[0], dtype=np.int64)
    v -= np.repeat(first, later)  # 0, 1, ... within i's run
    v += u
    v += 1
    return u, v.astype(np.int32)


def random_ties(
    rng: np.random.Generator, group_start: np.ndarray, mean_degree: float
) -> tuple[np.ndarray, np.ndarray]:
    """Random ties between members of the same group (grid, or the whole city).

    Each node initiates ``floor(d / 2)`` ties, plus one more with probability
    ``d / 2 - floor(d / 2)``, to other members of its group drawn uniformly (never itself),
    so its expected degree from these ties is ``d`` = ``mean_degree`` (half initiated,
    half received) and no node gets fewer than ``floor(d / 2)``. Nodes alone in their
    group get none. Repeated pairs are merged later by :func:`edges_to_csr`.

    Parameters
    ----------
    rng : numpy.random.Generator
    group_start : int array [n_groups + 1]
        Group ``g`` is nodes ``group_start[g]:group_start[g + 1]`` (``group_start[0] == 0``).
    mean_degree : float
        ``d``, the mean number of such ties per node (ties counted at both ends).

    Returns
    -------
    u, v : int32[n_ties]
        Initiating node and its partner.
    """
    group_start = np.asarray(group_start, dtype=np.int64)
    sizes = np.diff(group_start)
    n = int(group_start[-1])
    half = mean_degree / 2.0
    base = int(np.floor(half))
    count = np.full(n, base, dtype=np.int8 if base < 100 else np.int32)
    if half > base:
        count += rng.random(n) < half - base
    group = np.repeat(np.arange(sizes.shape[0], dtype=np.int32), sizes)
    count[sizes[group] < 2] = 0
    u = np.repeat(np.arange(n, dtype=np.int32), count)
    del count
    g = group[u]
    del group
    start = group_start[g]
    others = (sizes[g] - 1).astype(np.float64)
    del g
    # partner = a uniform draw among the group's other members (skip over oneself)
    j = (rng.random(u.shape[0]) * others).astype(np.int64)
    del others
    j += j >= u - start
    j += start
    return u, j.astype(np.int32)


def build_network(
    rng: np.random.Generator,
    household: np.ndarray,
    grid_start: np.ndarray,
    neighbours_in_grid: float,
    long_ties: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The city's social network: household cliques, grid ties and long ties, as CSR.

    Parameters
    ----------
    rng : numpy.random.Generator
    household : int array [n_residents]
        Household id per resident, contiguous runs (see :func:`household_pairs`).
    grid_start : int64[n_grids + 1]
        Residents of grid ``g`` are ``grid_start[g]:grid_start[g + 1]``.
    neighbours_in_grid : float
        Mean number of random ties per resident to others in the same grid.
    long_ties : float
        Mean number of random ties per resident to anyone in the city.

    Returns
    -------
    nbr_indptr : int64[n_residents + 1]
    nbr_indices : int32[n_ties]
        See :func:`edges_to_csr`.

    Notes
    -----
    "Ties per resident" counts a tie at both ends (it is the mean degree added), so the
    mean degree is about ``neighbours_in_grid + long_ties`` plus the household ties
    (``E[s(s-1)]/E[s]`` ≈ 2.4 for a mean household of 2.6), minus the few repeated pairs.
    """
    n = int(household.shape[0])
    hu, hv = household_pairs(household)
    gu, gv = random_ties(rng, grid_start, neighbours_in_grid)
    lu, lv = random_ties(rng, np.array([0, n], dtype=np.int64), long_ties)
    u = np.concatenate([hu, gu, lu])
    del hu, gu, lu
    v = np.concatenate([hv, gv, lv])
    del hv, gv, lv
    return edges_to_csr(n, u, v)
