"""Plain-Python twin of :mod:`sim.kernels.participation` (one loop per resident).

Each resident reads yesterday's propensities: if at least a share φ_i of her neighbours
are engaged (propensity ≥ θ_e) she joins in (propensity at least θ_e); otherwise she
relaxes toward her baseline (publicity, organisation membership). Then each own report
resolved raises her propensity, each failed one lowers it. Watts's cascade is the same
rule, swept over all nodes until nothing changes.
"""

from __future__ import annotations

import numpy as np

from sim.rng import S_PART_THRESHOLD, uniform_py


def threshold(seed, i, threshold_mean, threshold_spread) -> float:
    """φ_i, uniform on [φ̄ − s, φ̄ + s]."""
    u = uniform_py(seed, S_PART_THRESHOLD, 0, i)
    return threshold_mean + threshold_spread * (2.0 * u - 1.0)


def new_propensity(i, p, indptr, indices, org_member, n_resolved, n_failed, q) -> float:
    """Today's propensity of resident i; ``q`` holds the parameters by name."""
    own = float(p[i])
    neighbours = [int(j) for j in indices[indptr[i] : indptr[i + 1]]]
    reinforced = False
    if neighbours:
        engaged = sum(1 for j in neighbours if float(p[j]) >= q["engaged_level"])
        phi = threshold(q["seed"], i, q["threshold_mean"], q["threshold_spread"])
        if engaged / len(neighbours) >= phi:
            reinforced = True
            own = max(own, q["engaged_level"])
    baseline = q["baseline"] + q["publicity_gain"] * q["publicity"]
    baseline = min(1.0, baseline + q["org_gain"] * int(org_member[i]))
    if reinforced:  # an engaged resident drifts toward her baseline, but not below θ_e
        baseline = max(baseline, q["engaged_level"])
    own += q["decay"] * (baseline - own)
    for _ in range(int(n_resolved[i])):
        own += q["efficacy_gain"] * (1.0 - own)
    for _ in range(int(n_failed[i])):
        own *= 1.0 - q["failure_loss"]
    return min(max(own, 0.0), 1.0)


def participation_step(
    participation, nbr_indptr, nbr_indices, org_member, n_resolved, n_failed, *,
    publicity, seed, engaged_level, threshold_mean, threshold_spread, baseline,
    publicity_gain, org_gain, decay, efficacy_gain, failure_loss, trust_gain=0.0,
    trust_ref=0.0, trust=None,
):  # fmt: skip
    """Today's propensities (float32), computed resident by resident; with ``trust``, each
    is then pulled by δ·β_trust·(x_i − x̄₀) (trust carries over to participation)."""
    q = dict(
        publicity=publicity, seed=seed, engaged_level=engaged_level,
        threshold_mean=threshold_mean, threshold_spread=threshold_spread, baseline=baseline,
        publicity_gain=publicity_gain, org_gain=org_gain, decay=decay,
        efficacy_gain=efficacy_gain, failure_loss=failure_loss,
    )  # fmt: skip
    n = len(participation)
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        out[i] = new_propensity(
            i, participation, nbr_indptr, nbr_indices, org_member, n_resolved, n_failed, q
        )
        if trust is not None and decay * trust_gain != 0.0:
            pulled = float(out[i]) + decay * trust_gain * (float(trust[i]) - trust_ref)
            out[i] = min(max(pulled, 0.0), 1.0)
    return out


def cascade_alone(indptr, indices, phi, seed_nodes, max_sweeps=None):
    """Watts's cascade by full synchronous sweeps until no node changes."""
    n = len(indptr) - 1
    p = np.zeros(n, dtype=np.float32)
    for s in seed_nodes:
        p[int(s)] = 1.0
    zeros = np.zeros(n, dtype=np.uint8)
    max_sweeps = n if max_sweeps is None else max_sweeps
    sweeps = 0
    while sweeps < max_sweeps:
        new = participation_step(
            p, indptr, indices, zeros, zeros, zeros, publicity=0.0, seed=0, engaged_level=0.5,
            threshold_mean=phi, threshold_spread=0.0, baseline=0.0, publicity_gain=0.0,
            org_gain=0.0, decay=0.0, efficacy_gain=0.0, failure_loss=0.0,
        )  # fmt: skip
        sweeps += 1
        changed = bool(np.any(new != p))
        p = new
        if not changed:
            break
    return p >= 0.5, sweeps
