"""Stage 8 — what is open, what surfaced and closed today, and the residents' answers.

:func:`measure_step` is one sequential pass over the issue rows, so that float sums are
added in row order (bit-identical for any thread count). :func:`survey_step` gives the
three indices (获得感, 幸福感, 安全感) as the shares of residents who would answer the
published survey items positively (docs/model.md, "Indices"): each resident remembers her
own issues met and unmet and the collective incidents around her, and answers with a
logistic probability of them and of her trust; the kernel runs over grids in parallel,
each grid's sum in its own row (the same result for any thread count).

References
----------
1. National Bureau of Statistics (2003). 2002年全国群众安全感抽样调查. People's Daily,
   2003-03-03, p. 2 (the 安全感 item and its answer shares).
2. Chinese Academy of Social Sciences, Chinese Social Survey 2019 (幸福感), as reported
   in Chinese Social Sciences Today, 2020-09-30.
3. Van Ryzin, G. G. (2006). Testing the expectancy disconfirmation model of citizen
   satisfaction with local government. J. Public Adm. Res. Theory, 16(4), 599–611.
4. Skogan, W. G. (1990). Disorder and Decline. Free Press.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.city.build import county_centroids
from sim.issues import (
    ABANDONED,
    CAT_DISPUTE,
    CAT_RISK,
    FAILED,
    FIRST_CLOSED,
    LITIGATED,
    RESOLVED,
)
from sim.kernels.activation import block_grid

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
C_CALL_OPEN = 42  # 12345 / online requests open now (not yet closed)
C_CALL_CLOSED = 43  # 12345 / online requests closed today (any outcome)
C_CALL_RESOLVED = 44  # of those, resolved
N_COUNTS = 45

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
        ts = t_surfaced[k]
        ch = channel[k]
        call = ch == 0 or ch == 1  # 12345 hotline or online platform
        if st < FIRST_CLOSED:
            counts[C_OPEN_CAT + c] += 1
            if call:
                counts[C_CALL_OPEN] += 1
        if day0 <= t_created[k] < day1:
            counts[C_NEW_CAT + c] += 1
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
        if call:
            counts[C_CALL_CLOSED] += 1
            if st == RESOLVED:
                counts[C_CALL_RESOLVED] += 1
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
    """Measurement parameters (``[indices]``, docs/model.md "Indices").

    ``halflife_days`` is h (a need met after t days counts 0.5^(t/h)); the rest are the
    survey response model's: ``decay`` = exp(−1/τ) per day (τ = ``recall_days``),
    intercepts ``a`` = logit of ``base_share`` (gain, happiness, security) and the
    logit slopes.
    """

    halflife_days: float
    decay: float
    a: tuple[float, float, float]
    trust: float
    met: float
    unmet: float
    grid_incident: float
    area_incident: float
    distance_decay_km: float
    open_risk: float
    hardship: float
    security_in_happiness: float

    @classmethod
    def from_scenario(cls, sc) -> Params:
        ix = sc.indices
        b = ix.base_share
        return cls(
            halflife_days=ix.satisfaction_halflife_days,
            decay=math.exp(-1.0 / ix.recall_days),
            a=tuple(math.log(q / (1.0 - q)) for q in (b.gain, b.happiness, b.security)),
            trust=ix.trust_logit,
            met=ix.met_logit,
            unmet=ix.unmet_logit,
            grid_incident=ix.grid_incident_logit,
            area_incident=ix.area_incident_logit,
            distance_decay_km=ix.distance_decay_km,
            open_risk=ix.open_risk_logit,
            hardship=ix.hardship_logit,
            security_in_happiness=ix.security_in_happiness,
        )


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


# ----------------------------------------------------------------------------------------
# The indices as survey response shares (docs/model.md, "Indices"; issue 13.4).
#
# Each resident i answers three published survey items; she answers positively with
# probability σ(z), z a logit of her own experience, exposure and trust:
#
#   安全感  z_S = a_S + β_T(T_i − T₀) − β_g X_b − Σ_c' β_a e^(−d(c,c')/L) K_c' − β_r R_g
#   获得感  z_G = a_G + β_T(T_i − T₀) + β_m M_i − β_u U_i
#   幸福感  z_H = a_H + β_T(T_i − T₀) − β_h (H_i − H₀) + ½(β_m M_i − β_u U_i) − w·E_i
#
# with E_i = β_g X_b + Σ_c' β_a e^(−d(c,c')/L) K_c' + β_r R_g her exposure (the safety
# terms of z_S; b her block, g her grid, c her county).
#
# M_i, U_i: own needs, enquiries and disputes met (weighted 0.5^(t/h)) and closed unmet,
# X_b: collective incidents on the own block (小区/自然村: the fixed place she lives in,
# not the grid drawn over it), K_c: incidents per 100k residents of county
# c — all remembered with weight exp(−age/τ); R_g open safety risks per 1,000 residents of
# the grid now; H_i felt hardship. The index is 100 × the mean of σ(z) over residents.
# ----------------------------------------------------------------------------------------

N_INDICES = 3
I_GAIN, I_HAPPINESS, I_SECURITY = 0, 1, 2
# kernel output columns 3, 4: Σ p(1−p) of the security and happiness answers (their
# slopes with respect to exposure, for the linearised 'why it moved' split)
N_SURVEY_COLS = 5


@dataclass(frozen=True)
class Cells:
    """The city cut at both grid and block boundaries: each cell is the residents one grid
    and one block share (a grid drawn at the block size is one cell). Residents are
    ordered so that both are runs of consecutive residents, and so is each cell.

    Attributes
    ----------
    start : int64[n_cells + 1]
        First resident of each cell (the union of ``grid_start`` and ``block_start``).
    grid, block : int64[n_cells]
        The grid and the block of each cell.
    grid_size : int64[n_grids]
        Residents per grid (open risks are per 1,000 residents of the grid).
    grid_block : int64[n_grids]
        The block of each grid's middle resident (:func:`sim.kernels.activation.block_grid`
        with the roles swapped).
    n_blocks : int
    """

    start: np.ndarray
    grid: np.ndarray
    block: np.ndarray
    grid_size: np.ndarray
    grid_block: np.ndarray
    n_blocks: int

    @classmethod
    def of(cls, city) -> Cells:
        gs = np.asarray(city.grid_start, dtype=np.int64)
        bs = np.asarray(city.block_start, dtype=np.int64)
        start = np.union1d(gs, bs)
        first = start[:-1]
        return cls(
            start=start,
            grid=np.searchsorted(gs, first, side="right") - 1,
            block=np.searchsorted(bs, first, side="right") - 1,
            grid_size=np.diff(gs),
            grid_block=block_grid(gs, bs),  # the unit holding each grid's middle resident
            n_blocks=int(bs.shape[0] - 1),
        )


@dataclass
class SurveyState:
    """What residents remember (decayed stocks) and the fixed references of the items.

    Attributes
    ----------
    met, unmet : float32[n_residents]
        M_i and U_i.
    block_incidents : float64[n_blocks]
        X_b: collective incidents remembered on each block (小区/自然村,
        ``city.block_start``). A resident remembers the incidents of the fixed place she
        lives in, not of the grid drawn over it, so redrawing grids over the same residents
        moves no exposure (issue 13: with a grid-level memory, smaller grids looked safer).
    county_incidents : float64[n_counties]
        Incidents remembered per county (K_c × population_c / 100k).
    county_km : float64[n_counties, n_counties]
        Distances d(c, c') between the counties' centres (km,
        :func:`sim.city.build.county_centroids`).
    per_100k : float64[n_counties]
        100,000 ÷ population of each county (0 for an empty one).
    trust_ref, hardship_ref : float
        T₀ (initial mean trust) and H₀ (median hardship) of the reference resident.
    """

    met: np.ndarray
    unmet: np.ndarray
    block_incidents: np.ndarray
    county_incidents: np.ndarray
    county_km: np.ndarray
    per_100k: np.ndarray
    trust_ref: float
    hardship_ref: float
    risk_by_grid: np.ndarray  # float64[n_grids]: yesterday's open safety risks
    cells: Cells  # the pieces of grids and blocks the kernel walks over
    # each cell's last answers (float64[n_cells, 5], survey_step's sums): the rolling
    # panel of a residents' clock of several days (sim.kernels.clock); None when daily
    answers: np.ndarray | None = None

    def to_blocks(self, per_grid: np.ndarray) -> np.ndarray:
        """Counts recorded per grid (a group petition, :mod:`sim.kernels.escalate`), put on
        the block of each grid's middle resident (float64[n_blocks])."""
        c = self.cells
        v = np.asarray(per_grid, dtype=np.float64)
        return np.bincount(c.grid_block, weights=v, minlength=c.n_blocks)

    def county_kernel(self, distance_decay_km: float) -> np.ndarray:
        """e^(−d(c,c')/L) × 100k / population_c': county incidents → the exposure rate of a
        resident of county c (``float64[n_counties, n_counties]``)."""
        return np.exp(-self.county_km / distance_decay_km) * self.per_100k[None, :]

    @classmethod
    def start(cls, city) -> SurveyState:
        n, n_c = city.n_residents, city.n_counties
        sizes = np.diff(city.grid_start).astype(np.float64)
        pop = np.bincount(city.grid_county, weights=sizes, minlength=n_c)
        w = np.maximum(pop, 1.0)
        # fixed county centres, not the drawn grid points (those vary with the grids)
        lon, lat = county_centroids(list(city.county_names_zh)).T
        km_lat = 111.2
        km_lon = 111.2 * np.cos(np.radians(lat.mean() if n_c else 0.0))
        d = np.hypot((lon[:, None] - lon[None, :]) * km_lon, (lat[:, None] - lat[None, :]) * km_lat)
        trust0 = city.initial.trust
        return cls(
            met=np.zeros(n, dtype=np.float32),
            unmet=np.zeros(n, dtype=np.float32),
            block_incidents=np.zeros(city.block_start.shape[0] - 1),
            county_incidents=np.zeros(n_c),
            county_km=d,
            per_100k=np.where(pop > 0, 1e5 / w, 0.0),
            trust_ref=float(trust0.mean(dtype=np.float64)) if n else 0.0,
            hardship_ref=float(np.median(city.hardship)) if n else 0.0,
            risk_by_grid=np.zeros(city.n_grids),
            cells=Cells.of(city),
        )


@njit(cache=True)
def _experience_kernel(
    status, category, resident, grid, t_surfaced, t_closed, day, halflife_days, met, unmet,
    risk_by_grid,
):  # fmt: skip
    """Add today's closed own issues to M and U; count open safety risks by grid."""
    day0 = 24.0 * day
    day1 = day0 + 24.0
    for k in range(status.shape[0]):
        st = status[k]
        c = category[k]
        if st < FIRST_CLOSED:
            if c == CAT_RISK:
                risk_by_grid[grid[k]] += 1.0
            continue
        if c == CAT_RISK or not (day0 <= t_closed[k] < day1):
            continue
        i = resident[k]
        if st == RESOLVED:
            d = (t_closed[k] - t_surfaced[k]) / 24.0
            met[i] += np.float32(0.5 ** (d / halflife_days))
        else:  # failed, abandoned, litigated
            unmet[i] += np.float32(1.0)


@njit(cache=True, parallel=True)
def _survey_kernel(
    cell_start, exposure, trust, felt, met, unmet, a_g, a_h, a_s, b_t, b_m, b_u, b_h, w_s,
    trust_ref, hardship_ref, every, day, out,
):  # fmt: skip
    """Σ over each cell's residents of P(positive answer) per item into ``out[c, k]``.

    A cell (:class:`Cells`) is where one grid and one block overlap, so its residents
    share one exposure E (``exposure[c]``). σ(z) = 1 / (1 + e^(−z)) with e^(−z) factored
    into the parts the items share: per cell e^(−a)·e^(±E), per resident
    e^(−β_T(T − T₀)) and e^(β_h(H − H₀)), and e^(−own/2) only for the few residents with
    remembered experience — two exponentials per resident instead of three. Each cell
    writes only its own row, so the sums do not depend on the thread count.

    Only the cells asked today are computed, the others keep their row: cell ``c`` is
    asked on the days with ``(c + day) % every == every − 1`` (every cell every day when
    ``every`` is 1; a rolling panel, 1/``every`` of the cells a day, otherwise).
    """
    n_cells = cell_start.shape[0] - 1
    for c in prange(n_cells):
        if (c + day) % every != every - 1:
            continue
        lo, hi = cell_start[c], cell_start[c + 1]
        k_s = math.exp(-a_s + exposure[c])
        k_g = math.exp(-a_g)
        k_h = math.exp(-a_h + w_s * exposure[c])
        s_g = 0.0
        s_h = 0.0
        s_s = 0.0
        d_s = 0.0
        d_h = 0.0
        for i in range(lo, hi):
            e_t = math.exp(-b_t * (np.float64(trust[i]) - trust_ref))
            e_h = math.exp(b_h * (np.float64(felt[i]) - hardship_ref))
            half = 1.0  # e^(−own/2)
            if met[i] != 0.0 or unmet[i] != 0.0:
                half = math.exp(-0.5 * (b_m * np.float64(met[i]) - b_u * np.float64(unmet[i])))
            p_s = 1.0 / (1.0 + k_s * e_t)
            s_s += p_s
            d_s += p_s * (1.0 - p_s)
            s_g += 1.0 / (1.0 + k_g * e_t * half * half)
            p_h = 1.0 / (1.0 + k_h * e_t * e_h * half)
            s_h += p_h
            d_h += p_h * (1.0 - p_h)
        out[c, I_GAIN] = s_g
        out[c, I_HAPPINESS] = s_h
        out[c, I_SECURITY] = s_s
        out[c, 3] = d_s
        out[c, 4] = d_h


@dataclass(frozen=True)
class SurveyDay:
    """The day's index shares (0–1) and the linearised parts of 安全感's and 幸福感's change
    (index points): today's new collective incidents, the fading of remembered ones, and
    the change in open safety risks (security); all exposure (happiness)."""

    shares: np.ndarray  # float64[3]: gain, happiness, security
    by_cell: np.ndarray  # float64[n_cells, 5]: sums per cell (shares ×n, slopes; Cells)
    security_incidents: float
    security_fading: float
    security_risks: float
    happiness_exposure: float
    cell_grid: np.ndarray  # int64[n_cells]: the grid of each cell
    n_grids: int

    @property
    def by_grid(self) -> np.ndarray:
        """The same sums per grid (float64[n_grids, 5]), added up only when asked."""
        out = np.zeros((self.n_grids, N_SURVEY_COLS))
        np.add.at(out, self.cell_grid, self.by_cell)
        return out


def survey_step(
    state: SurveyState,
    p: Params,
    issues,
    city,
    trust,
    felt,
    incidents_by_grid,
    day: int,
    incidents_by_block: np.ndarray | None = None,
    *,
    every: int,
) -> SurveyDay:
    """Ask every resident today (:func:`_survey_kernel`) after she forgets by exp(−1/τ)
    and adds her issues closed today and today's collective incidents
    (``incidents_by_grid``, for the counties; ``incidents_by_block``, the same incidents
    on the blocks they arose on, for the near exposure — default: each grid's on the
    block of its middle resident).

    With ``every`` = k > 1 (the residents' clock, :mod:`sim.kernels.clock`) the survey is
    a rolling panel: the memories move every day, but each day only the cells due today
    (1/k of them, :func:`_survey_kernel`) are asked again; the others' answers, and the
    slopes the parts of today's change are taken from, are those of their last asking
    (``state.answers``; everyone is asked on the first day). Asking everyone on one day of
    the week instead would give the index that weekday's level (open risks pile up over
    the weekend), not the week's.

    A resident's exposure is her block's remembered incidents, her county's and its
    neighbours' rates, and the open risks per 1,000 residents of her grid; residents of
    one cell (:class:`Cells`) share it. The parts of the change are first-order:
    Σ_cells Σ_{i∈cell} p_i(1 − p_i) × (change of the cell's exposure from that cause) ÷ n,
    in index points (what remains — trust, own experience, hardship, curvature — is the
    rest).
    """
    st, t, cells = state, issues, state.cells
    n_c = city.n_counties
    gc = city.grid_county
    cell_county = gc[cells.grid]
    kernel = st.county_kernel(p.distance_decay_km)
    old_area = p.area_incident * (kernel @ st.county_incidents)
    old_near = p.grid_incident * st.block_incidents[cells.block] + old_area[cell_county]
    st.met *= np.float32(p.decay)
    st.unmet *= np.float32(p.decay)
    st.block_incidents *= p.decay
    st.county_incidents *= p.decay
    risk_by_grid = np.zeros(city.n_grids)
    _experience_kernel(
        t.status, t.category, t.resident, t.grid, t.t_surfaced, t.t_closed, day,
        p.halflife_days, st.met, st.unmet, risk_by_grid,
    )  # fmt: skip
    inc = np.asarray(incidents_by_grid, dtype=np.float64)
    inc_c = np.bincount(gc, weights=inc, minlength=n_c)
    inc_b = (
        st.to_blocks(inc)
        if incidents_by_block is None
        else np.asarray(incidents_by_block, dtype=np.float64)
    )
    st.block_incidents += inc_b
    st.county_incidents += inc_c
    area = p.area_incident * (kernel @ st.county_incidents)
    n_g = np.maximum(cells.grid_size, 1)
    risk_rate = 1000.0 * risk_by_grid / n_g
    exposure = (
        p.grid_incident * st.block_incidents[cells.block]
        + area[cell_county]
        + p.open_risk * risk_rate[cells.grid]
    )
    first = st.answers is None or every == 1
    out = np.zeros((cells.grid.shape[0], N_SURVEY_COLS)) if first else st.answers.copy()
    _survey_kernel(
        cells.start, exposure, trust, felt, st.met, st.unmet, p.a[0], p.a[1], p.a[2], p.trust,
        p.met, p.unmet, p.hardship, p.security_in_happiness, st.trust_ref, st.hardship_ref,
        1 if first else int(every), int(day), out,
    )  # fmt: skip
    st.answers = None if every == 1 else out
    n = max(city.n_residents, 1)
    new = p.grid_incident * inc_b[cells.block] + (p.area_incident * (kernel @ inc_c))[cell_county]
    fading = (p.decay - 1.0) * old_near
    risks = (p.open_risk * 1000.0 * (risk_by_grid - st.risk_by_grid) / n_g)[cells.grid]
    st.risk_by_grid = risk_by_grid
    d_s, d_h = out[:, 3], out[:, 4]
    exposure_change = new + fading + risks
    return SurveyDay(
        shares=out[:, :N_INDICES].sum(axis=0) / n,
        by_cell=out,
        cell_grid=cells.grid,
        n_grids=city.n_grids,
        security_incidents=-100.0 * _dot(d_s, new) / n,
        security_fading=-100.0 * _dot(d_s, fading) / n,
        security_risks=-100.0 * _dot(d_s, risks) / n,
        happiness_exposure=-100.0 * p.security_in_happiness * _dot(d_h, exposure_change) / n,
    )


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b by numpy's pairwise sum, not BLAS: a BLAS dot (``a @ b``) picks its kernel
    by CPU and may split across threads, so its last bits differ between machines."""
    return float(np.sum(a * b))
