"""Plain-Python twin of :func:`sim.city.network.edges_to_csr` (one loop per node)."""

from __future__ import annotations

import numpy as np


def edges_to_csr(n_nodes: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR adjacency of an undirected edge list: sorted rows, no duplicates or loops.

    Parameters
    ----------
    n_nodes : int
    u, v : int array [n_edges]
        Undirected edges ``(u[k], v[k])``.

    Returns
    -------
    indptr : int64[n_nodes + 1]
    indices : int32[n_ties]
    """
    neighbours: list[set[int]] = [set() for _ in range(n_nodes)]
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    indptr = [0]
    indices: list[int] = []
    for node in range(n_nodes):
        indices.extend(sorted(neighbours[node]))
        indptr.append(len(indices))
    return np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int32)
