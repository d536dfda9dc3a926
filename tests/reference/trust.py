"""Plain-Python twin of :mod:`sim.kernels.trust` (one loop per resident or meeting).

Each resident picks one neighbour from the counter-based hash and, if their trust differs
by less than the confidence bound d, moves a fraction μ toward it (yesterday's values);
then each of her own reports moves her trust by its outcome's signed effect. The classic
Deffuant model draws random pairs one after another and moves both.
"""

from __future__ import annotations

import numpy as np

from sim.rng import S_TRUST_INIT, S_TRUST_PAIR, S_TRUST_PARTNER, uniform_py


def bounded_confidence(x, y, d, mu) -> float:
    """Deffuant et al. (2000), eq. 1: move toward y if closer than d."""
    return x + mu * (y - x) if abs(y - x) < d else x


def experience(x, n, effect) -> float:
    """n reports with a signed effect: toward 1 if positive, toward 0 if negative."""
    for _ in range(int(n)):
        x = x + effect * (1.0 - x) if effect >= 0.0 else x + effect * x
    return x


def heard(x, a) -> float:
    """An expected experience of signed size a (word of mouth)."""
    return x + a * (1.0 - x) if a >= 0.0 else x + a * x


def trust_step(
    trust, nbr_indptr, nbr_indices, n_resolved, n_slow, n_transferred, n_failed, *, seed, day,
    confidence, convergence, effect_resolved, effect_slow, effect_transferred, effect_failed,
    effect_procedure, reach_resolved, reach_failed, vicarious_weight, meetings=1,
    grid_start=None,
):  # fmt: skip
    """Today's trust (float32), computed resident by resident: exchange with a neighbour,
    what she heard of reports in her grid, her own reports, how fairly they were handled."""
    n = len(trust)
    if grid_start is None:  # no grids: no word of mouth
        grid_start = [0, n]
        vicarious_weight = 0.0
    # word of mouth: per grid, the reports resolved and failed today
    heard_of = {}
    for g in range(len(grid_start) - 1):
        lo, hi = int(grid_start[g]), int(grid_start[g + 1])
        size = max(hi - lo, 1)
        resolved = sum(int(v) for v in n_resolved[lo:hi]) if vicarious_weight != 0.0 else 0
        failed = sum(int(v) for v in n_failed[lo:hi]) if vicarious_weight != 0.0 else 0
        # a story of a case tells its outcome and how it was handled
        a_res = (
            vicarious_weight * (effect_resolved + effect_procedure) * reach_resolved
            * resolved / size
        )  # fmt: skip
        a_fail = (
            vicarious_weight
            * (-abs(effect_resolved) + effect_procedure)
            * reach_failed
            * failed
            / size
        )
        for i in range(lo, hi):
            heard_of[i] = (min(max(a_res, -1.0), 1.0), min(max(a_fail, -1.0), 1.0))
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        x = float(trust[i])
        neighbours = nbr_indices[nbr_indptr[i] : nbr_indptr[i + 1]]
        if len(neighbours) > 0:  # one meeting a day of the step, oldest first
            for past in range(meetings - 1, -1, -1):
                pick = int(uniform_py(seed, S_TRUST_PARTNER, day - past, i) * len(neighbours))
                x = bounded_confidence(x, float(trust[neighbours[pick]]), confidence, convergence)
        a_res, a_fail = heard_of[i]
        x = heard(heard(x, a_res), a_fail)
        x = experience(x, n_resolved[i], effect_resolved)
        x = experience(x, n_slow[i], effect_slow)
        x = experience(x, n_transferred[i], effect_transferred)
        x = experience(x, n_failed[i], effect_failed)
        x = experience(x, int(n_resolved[i]) + int(n_failed[i]), effect_procedure)
        out[i] = min(max(x, 0.0), 1.0)
    return out


def deffuant_alone(n_agents, confidence, convergence=0.5, meetings_per_agent=2000, seed=0):
    """Classic Deffuant model: random pairs, one meeting after another, both move."""
    x = [uniform_py(seed, S_TRUST_INIT, 0, i) for i in range(n_agents)]
    for t in range(meetings_per_agent * n_agents):
        i = int(uniform_py(seed, S_TRUST_PAIR, t, 0) * n_agents)
        j = int(uniform_py(seed, S_TRUST_PAIR, t, 1) * (n_agents - 1))
        if j >= i:
            j += 1
        x[i], x[j] = (
            bounded_confidence(x[i], x[j], confidence, convergence),
            bounded_confidence(x[j], x[i], confidence, convergence),
        )
    return np.array(x)


def deffuant_sync_alone(n_agents, confidence, convergence=0.5, n_days=4000, seed=0):
    """Synchronous one-sided rule with complete mixing (the city kernel's variant)."""
    x = [uniform_py(seed, S_TRUST_INIT, 0, i) for i in range(n_agents)]
    for day in range(n_days):
        new = []
        for i in range(n_agents):
            j = int(uniform_py(seed, S_TRUST_PARTNER, day, i) * (n_agents - 1))
            if j >= i:
                j += 1
            new.append(bounded_confidence(x[i], x[j], confidence, convergence))
        x = new
    return np.array(x)
