"""Plain-Python twin of :func:`sim.kernels.escalate.escalate_step` (one loop per dispute).

An open dispute that is not being handled (hidden, waiting for routing or queued) and is
older than the grace period faces, at the end of the day, competing hazards of going to
court and — unless it has already petitioned — of petitioning. Litigation closes it
(unless it is first diverted to the online platform, see :mod:`.diversion`); a petition
sends it to the county petition office and, for a severe dispute, may turn into a
collective incident (once per dispute) with a probability scaled by its grid's
mobilisation. Known disputes in grids under early control escalate less.

The petition hazard grows with the resident's distrust, ((1 − x)/(1 − x̄₀))^κ, and legal aid
takes a share ρ of it into court (rule of law acts through trust and legal channels only).
Disputes whose parties decline online mediation are marked first (shared with the kernel:
:func:`sim.kernels.diversion.mark_declined`), and the platform takes diversions only below
its backlog limit.
"""

from __future__ import annotations

import math

import numpy as np

from sim.issues import (
    CAT_DISPUTE,
    CH_ESCALATION,
    LATENT,
    LEVEL_NONE,
    LEVEL_PETITION,
    NEXT_PETITION,
    QUEUED,
    ROUTING,
)
from sim.kernels.diversion import mark_declined, platform_accepts
from sim.kernels.escalate import (
    E_COLLECTIVE,
    E_DIVERTED,
    E_LITIGATION,
    E_PETITION,
    Escalated,
)
from sim.rng import S_ESCALATE, S_ESCALATE_COLLECTIVE, S_ESCALATE_KIND, uniform_py

from .diversion import go_to_court

TIME_OFFSET = 0x1F3D5B79  # counter offset of the draw of the escalation's hour


def escalate_step(
    issues, n_grids, mobilisation, control, pools, queue_len, trust, age_group, params, seed, day
) -> Escalated:
    """Escalate waiting disputes. Returns petitions, litigations, collective incidents
    (also by grid) and what happened to each row (an ``E_*`` code, 0 for nothing)."""
    t, e = issues, params
    mark_declined(t, age_group, e, seed)
    online_open = platform_accepts(pools, queue_len, e.max_backlog_days)
    h_litigate = e.h_lit
    h_petition = e.h_pet
    p_collective = e.p_coll
    grace_h = e.grace_h
    end_of_day = 24.0 * day + 24.0
    by_grid = np.zeros(n_grids, dtype=np.int64)
    codes = np.zeros(t.n, dtype=np.uint8)  # per row: what happened to it (E_*)

    petitions = litigations = collective = 0
    for k in range(t.n):
        status = int(t.status[k])
        if t.category[k] != CAT_DISPUTE or status not in (LATENT, ROUTING, QUEUED):
            continue
        if end_of_day - float(t.t_created[k]) < grace_h:
            continue
        h_pet = 0.0
        if t.level[k] == LEVEL_NONE:
            distrust = 1.0 - float(trust[int(t.resident[k])])
            if distrust > 0.0:
                h_pet = h_petition * (distrust / e.distrust_ref) ** e.kappa
        g = int(t.grid[k])
        # a work team takes up the known disputes of a grid flagged yesterday
        calm = 1.0 if status == LATENT else float(control[g])
        total = (h_litigate + h_pet) * calm
        if total <= 0.0:
            continue
        q = int(t.iid[k])
        if uniform_py(seed, S_ESCALATE, day, q) >= 1.0 - math.exp(-total):
            continue
        at = 24.0 * day + 24.0 * uniform_py(seed, S_ESCALATE_KIND, day, q + TIME_OFFSET)
        at = max(at, float(t.t_created[k]))
        for last_event in (float(t.t_surfaced[k]), float(t.t_ready[k])):
            if not math.isnan(last_event):  # not before it surfaced or last left a handler
                at = max(at, last_event)
        if status == LATENT:
            t.channel[k] = CH_ESCALATION
            t.t_surfaced[k] = at
        # legal aid and court-annexed mediation take a share of would-be petitions to court
        if (
            uniform_py(seed, S_ESCALATE_KIND, day, q) * total
            < (h_litigate + e.legal_share * h_pet) * calm
        ):
            if go_to_court(t, k, at, online_open):
                litigations += 1  # (a diversion online is not counted)
                codes[k] = E_LITIGATION
            else:
                codes[k] = E_DIVERTED
            continue
        petitions += 1  # a collective incident is also a petition (集体访)
        codes[k] = E_PETITION
        if (
            t.collective[k] == 0
            and float(t.severity[k]) > e.sev_coll
            and uniform_py(seed, S_ESCALATE_COLLECTIVE, day, q)
            < p_collective * float(mobilisation[g])
        ):
            t.collective[k] = 1
            collective += 1
            by_grid[g] += 1
            codes[k] = E_COLLECTIVE
        t.level[k] = LEVEL_PETITION
        t.status[k] = ROUTING
        t.next_step[k] = NEXT_PETITION
        t.t_ready[k] = at
    return Escalated(petitions, litigations, collective, by_grid, codes)
