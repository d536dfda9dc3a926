"""Plain-Python twin of :func:`sim.kernels.measure.measure_step` (one loop over issue rows).

Counts issues by status and open ones by category, today's new issues by category,
today's surfacings by channel (with their detection days), and today's closures by
outcome — transfers, department cases, disputes resolved or litigated, demand
(enquiries and needs) settled and met by urban/rural with its 获得感 gain
``0.5^(days/h)`` — plus the resolution days of every issue resolved today.
"""

from __future__ import annotations

import math

import numpy as np

from sim.issues import (
    ABANDONED,
    CAT_DISPUTE,
    CAT_RISK,
    FAILED,
    FIRST_CLOSED,
    LITIGATED,
    RESOLVED,
)
from sim.kernels.measure import (
    C_CALL_CLOSED,
    C_CALL_OPEN,
    C_CALL_RESOLVED,
    C_CLOSED,
    C_DEMAND_CLOSED,
    C_DEMAND_MET,
    C_DISPATCHED,
    C_DISPUTE_LITIGATED,
    C_DISPUTE_RESOLVED,
    C_DISPUTE_SURFACED,
    C_ENQ_DIRECT,
    C_NEW_CAT,
    C_OPEN_CAT,
    C_REQ_RESOLVED,
    C_REQUESTS,
    C_STATUS,
    C_SURF_CH,
    C_TRANSFERS,
    F_DETECT_DAYS,
    F_GAIN,
    F_REQ_WORKDAYS,
    N_COUNTS,
    N_SUMS,
)
from sim.pools import K_DEPARTMENT, K_HOTLINE


def working_days(t0: float, t1: float) -> float:
    """Weekday (Mon–Fri; day 0 a Monday) time between hours t0 and t1, in days."""

    def weekday_hours(t: float) -> float:
        weeks = math.floor(t / 168.0)
        return 120.0 * weeks + min(t - 168.0 * weeks, 120.0)

    return (weekday_hours(t1) - weekday_hours(t0)) / 24.0


def measure_step(issues, pools, params, day: int):
    """Returns ``(counts, sums, resolution_days_today)`` (layout: ``sim.kernels.measure``)."""
    t, pl = issues, pools
    halflife = params.halflife_days
    day_start, day_end = 24.0 * day, 24.0 * day + 24.0
    counts = [0] * N_COUNTS
    sums = [0.0] * N_SUMS
    resolution_days: list[float] = []
    for k in range(t.n):
        status, category = int(t.status[k]), int(t.category[k])
        created, surfaced, closed = (
            float(t.t_created[k]),
            float(t.t_surfaced[k]),
            float(t.t_closed[k]),
        )
        counts[C_STATUS + status] += 1
        channel = int(t.channel[k])
        is_call = channel in (0, 1)  # 12345 hotline or online platform
        if status < FIRST_CLOSED:
            counts[C_OPEN_CAT + category] += 1
            if is_call:
                counts[C_CALL_OPEN] += 1
        if day_start <= created < day_end:
            counts[C_NEW_CAT + category] += 1
        if day_start <= surfaced < day_end and channel >= 0:
            counts[C_SURF_CH + channel] += 1
            sums[F_DETECT_DAYS] += (surfaced - created) / 24.0
            if is_call:
                counts[C_REQUESTS + (0 if category == 0 else 1)] += 1
            if category == CAT_DISPUTE:
                counts[C_DISPUTE_SURFACED] += 1
        if status < FIRST_CLOSED or not day_start <= closed < day_end:
            continue
        # closed today
        counts[C_CLOSED + status - FIRST_CLOSED] += 1
        counts[C_TRANSFERS] += int(t.transfers[k])
        p = int(t.pool[k])
        if p >= 0 and pl.kind[p] == K_DEPARTMENT:
            counts[C_DISPATCHED] += 1
        if category == CAT_DISPUTE and status == RESOLVED:
            counts[C_DISPUTE_RESOLVED] += 1
        elif category == CAT_DISPUTE and status == LITIGATED:
            counts[C_DISPUTE_LITIGATED] += 1
        urban = 1 if t.urban[k] else 0
        if is_call:
            counts[C_CALL_CLOSED] += 1
            if status == RESOLVED:
                counts[C_CALL_RESOLVED] += 1
        if category == 0 and status == RESOLVED and p >= 0 and pl.kind[p] == K_HOTLINE:
            counts[C_ENQ_DIRECT] += 1
        answered_on_phone = category == 0 and p >= 0 and pl.kind[p] == K_HOTLINE
        if is_call and status == RESOLVED and not answered_on_phone:  # work orders only
            j = 0 if category == 0 else 1
            counts[C_REQ_RESOLVED + j] += 1
            sums[F_REQ_WORKDAYS + j] += working_days(surfaced, closed)
        is_demand = category <= 1  # enquiries and needs
        if is_demand and status in (RESOLVED, FAILED, ABANDONED):
            counts[C_DEMAND_CLOSED + urban] += 1
        if status == RESOLVED:
            days = (closed - surfaced) / 24.0
            resolution_days.append(days)
            if is_demand:
                counts[C_DEMAND_MET + urban] += 1
                # 0.5^x as compiled: LLVM turns pow(0.5, x) into exp2(−x)
                sums[F_GAIN + urban] += math.exp2(-(days / halflife))
    return (
        np.array(counts, dtype=np.int64),
        np.array(sums, dtype=np.float64),
        np.array(resolution_days, dtype=np.float64),
    )


def survey_step(
    state, p, issues, city, trust, felt, incidents_by_grid, day: int, incidents_by_block=None
):
    """Twin of :func:`sim.kernels.measure.survey_step`: each resident's three answers.

    Every resident forgets by exp(−1/τ), adds her issues closed today (met ones weighted
    0.5^(t/h)), and answers each item positively with probability σ(z) (docs/model.md,
    "Indices"). Collective incidents are remembered on the blocks (a grid's, by default,
    on the block of its middle resident), each resident exposed to her own block's
    memory. Returns the mean probability per item (gain, happiness, security).
    """
    t = issues
    st = state
    st.met *= np.float32(p.decay)
    st.unmet *= np.float32(p.decay)
    st.block_incidents *= p.decay
    st.county_incidents *= p.decay
    bs, gs = city.block_start, city.grid_start

    def block_of(i: int) -> int:
        return int(np.searchsorted(bs, i, side="right")) - 1

    if incidents_by_block is None:
        for g in range(city.n_grids):
            mid = (int(gs[g]) + int(gs[g + 1])) // 2
            st.block_incidents[block_of(mid)] += float(incidents_by_grid[g])
    else:
        for b in range(bs.shape[0] - 1):
            st.block_incidents[b] += float(incidents_by_block[b])
    risk = np.zeros(city.n_grids)
    for k in range(t.n):
        status, category = int(t.status[k]), int(t.category[k])
        if status < FIRST_CLOSED:
            if category == CAT_RISK:
                risk[int(t.grid[k])] += 1.0
            continue
        closed = float(t.t_closed[k])
        if category == CAT_RISK or not 24.0 * day <= closed < 24.0 * day + 24.0:
            continue
        i = int(t.resident[k])
        if status == RESOLVED:
            days = (closed - float(t.t_surfaced[k])) / 24.0
            st.met[i] += np.float32(math.exp2(-(days / p.halflife_days)))
        else:
            st.unmet[i] += np.float32(1.0)
    st.risk_by_grid = risk
    for g in range(city.n_grids):
        st.county_incidents[int(city.grid_county[g])] += float(incidents_by_grid[g])
    area = p.area_incident * (st.county_kernel(p.distance_decay_km) @ st.county_incidents)

    def sigma(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    a_gain, a_happy, a_safe = p.a
    total = np.zeros(3)
    for g in range(city.n_grids):
        lo, hi = int(city.grid_start[g]), int(city.grid_start[g + 1])
        if hi == lo:
            continue
        for i in range(lo, hi):
            exposure = (  # her own block's memory, her county's, her grid's open risks
                p.grid_incident * st.block_incidents[block_of(i)]
                + area[int(city.grid_county[g])]
                + p.open_risk * 1000.0 * risk[g] / (hi - lo)
            )
            d_trust = p.trust * (float(trust[i]) - st.trust_ref)
            own = p.met * float(st.met[i]) - p.unmet * float(st.unmet[i])
            z_happy = a_happy + d_trust - p.hardship * (float(felt[i]) - st.hardship_ref)
            total += (
                sigma(a_gain + d_trust + own),
                sigma(z_happy + 0.5 * own - p.security_in_happiness * exposure),
                sigma(a_safe + d_trust - exposure),
            )
    return total / max(city.n_residents, 1)
