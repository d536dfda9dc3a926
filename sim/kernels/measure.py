"""Stage 8 — one pass over the issue rows: what is open, what surfaced and closed today.

The pass is sequential so that float sums are added in row order (bit-identical for any
thread count); it touches issues only, never residents. The indices built on these
counts are defined in :mod:`sim.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.issues import (
    ABANDONED,
    CAT_DISPUTE,
    FAILED,
    FIRST_CLOSED,
    LITIGATED,
    RESOLVED,
)

# Layout of the integer counters returned by the kernel.
C_STATUS = 0  # 8 slots: issues by status now (open ones are the current snapshot)
C_OPEN_CAT = 8  # 4 slots: open issues by category
C_NEW_CAT = 12  # 4 slots: issues created today by category
C_SURF_CH = 16  # 8 slots: issues surfaced today by channel
C_CLOSED = 24  # 4 slots: resolved, litigated, failed, abandoned today
C_DISPUTE_RESOLVED = 28
C_DISPUTE_LITIGATED = 29
C_TRANSFERS = 30  # transfers of issues closed today
C_DISPATCHED = 31  # issues closed today that reached a department
C_DEMAND_CLOSED = 32  # 2 slots (rural, urban): needs and enquiries closed today
C_DEMAND_MET = 34  # 2 slots (rural, urban): of those, resolved
C_REQUESTS = 36  # 2 slots (enquiry, other): issues surfaced today via 12345 / online
C_REQ_RESOLVED = 38  # 2 slots (enquiry, other): such work orders resolved today
C_ENQ_DIRECT = 40  # enquiries resolved today by the hotline itself
C_DISPUTE_SURFACED = 41  # disputes that surfaced today (claims, by any channel)
N_COUNTS = 42

# Float sums.
F_DETECT_DAYS = 0  # Σ detection days of issues surfaced today
F_GAIN = 1  # 2 slots (rural, urban): Σ 0.5^(days/h) over demand resolved today
F_REQ_WORKDAYS = 3  # 2 slots (enquiry, other): Σ working days to resolve such work orders
N_SUMS = 5


@njit(cache=True)
def working_days(t0, t1):
    """Working days (Monday–Friday, day 0 a Monday) elapsed between hours t0 ≤ t1."""
    return (_weekday_hours(t1) - _weekday_hours(t0)) / 24.0


@njit(cache=True, inline="always")
def _weekday_hours(t):
    """Weekday hours from hour 0 to hour t."""
    week = np.floor(t / 168.0)
    r = t - 168.0 * week
    return 120.0 * week + min(r, 120.0)


@njit(cache=True)
def _measure_kernel(
    status, category, channel, urban, transfers, level, pool_kind_of_row, t_created,
    t_surfaced, t_closed, day, halflife_days, res_days_out,
):  # fmt: skip
    """Counts and sums for ``day``; resolution days of today's resolved into ``res_days_out``.

    Returns ``(counts, sums, n_resolved_today)``.
    """
    day0 = 24.0 * day
    day1 = day0 + 24.0
    counts = np.zeros(N_COUNTS, dtype=np.int64)
    sums = np.zeros(N_SUMS)
    n_res = 0
    for k in range(status.shape[0]):
        st = status[k]
        c = category[k]
        counts[C_STATUS + st] += 1
        if st < FIRST_CLOSED:
            counts[C_OPEN_CAT + c] += 1
        if day0 <= t_created[k] < day1:
            counts[C_NEW_CAT + c] += 1
        ts = t_surfaced[k]
        ch = channel[k]
        call = ch == 0 or ch == 1  # 12345 hotline or online platform
        if day0 <= ts < day1 and ch >= 0:
            counts[C_SURF_CH + ch] += 1
            sums[F_DETECT_DAYS] += (ts - t_created[k]) / 24.0
            if call:
                counts[C_REQUESTS + (0 if c == 0 else 1)] += 1
            if c == CAT_DISPUTE:
                counts[C_DISPUTE_SURFACED] += 1
        if st < FIRST_CLOSED or not (day0 <= t_closed[k] < day1):
            continue
        counts[C_CLOSED + (st - FIRST_CLOSED)] += 1
        counts[C_TRANSFERS] += transfers[k]
        if pool_kind_of_row[k] == 1:
            counts[C_DISPATCHED] += 1
        if c == CAT_DISPUTE:
            if st == RESOLVED:
                counts[C_DISPUTE_RESOLVED] += 1
            elif st == LITIGATED:
                counts[C_DISPUTE_LITIGATED] += 1
        u = 1 if urban[k] else 0
        if c == 0 and st == RESOLVED and pool_kind_of_row[k] == 0:
            counts[C_ENQ_DIRECT] += 1
        # work orders: requests not answered on the phone (an enquiry resolved by the
        # hotline itself is not a work order)
        if call and st == RESOLVED and not (c == 0 and pool_kind_of_row[k] == 0):
            j = 0 if c == 0 else 1
            counts[C_REQ_RESOLVED + j] += 1
            sums[F_REQ_WORKDAYS + j] += working_days(ts, t_closed[k])
        if c <= 1 and (st == RESOLVED or st == FAILED or st == ABANDONED):
            counts[C_DEMAND_CLOSED + u] += 1
        if st == RESOLVED:
            d = (t_closed[k] - t_surfaced[k]) / 24.0
            res_days_out[n_res] = d
            n_res += 1
            if c <= 1:
                counts[C_DEMAND_MET + u] += 1
                sums[F_GAIN + u] += 0.5 ** (d / halflife_days)
    return counts, sums, n_res


@dataclass(frozen=True)
class Params:
    """Measurement parameters: h, the satisfaction half-life in days
    (``indices.satisfaction_halflife_days``)."""

    halflife_days: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        return cls(halflife_days=sc.indices.satisfaction_halflife_days)


def measure_step(issues, pools, p: Params, day: int):
    """Stage 8 pass: returns ``(counts, sums, resolution_days_today)``."""
    t = issues
    res = np.empty(t.n, dtype=np.float64)
    pk = np.where(t.pool >= 0, pools.kind[np.maximum(t.pool, 0)], 255).astype(np.uint8)
    counts, sums, n_res = _measure_kernel(
        t.status, t.category, t.channel, t.urban, t.transfers, t.level, pk, t.t_created,
        t.t_surfaced, t.t_closed, day, p.halflife_days, res,
    )  # fmt: skip
    return counts, sums, res[:n_res]


def outcomes_by_kind(issues, pools, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Services that ended today and how many of them resolved, per pool kind.

    Read right after the handling stage: a case whose service ended today is resolved
    by it if it is now RESOLVED at that same hour. (A measurement, not a mechanism.)
    """
    t, pl = issues, pools
    done = (t.t_done >= 24.0 * day) & (t.t_done < 24.0 * day + 24.0)
    kinds = pl.kind[t.pool[done]]
    res = (t.status[done] == RESOLVED) & (t.t_closed[done] == t.t_done[done])
    n_kinds = int(pl.duty.shape[0])
    return (
        np.bincount(kinds, minlength=n_kinds).astype(np.int64),
        np.bincount(kinds[res], minlength=n_kinds).astype(np.int64),
    )
