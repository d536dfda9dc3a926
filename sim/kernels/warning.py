"""Risk early warning (风险预测预警): a per-grid risk indicator steers patrols to hot spots.

**Indicator.** Each day every grid g gets a composite risk score (OECD/JRC 2008: indicators
normalised, then combined with weights):

    r_g = w_D·(u_g/n_g)/ū + w_G·Ḡ_g/Ḡ + w_A·A_g/Ā,

with u_g the grid's known unresolved disputes (surfaced, not closed), n_g its residents,
Ḡ_g its residents' mean grievance and A_g their share active (Epstein 2002); each term
is divided by its city-wide, resident-weighted mean (ū, Ḡ, Ā), so r_g = Σw means an
average grid. A term whose city mean is 0 contributes 0. The weights are normalised to
sum to 1.

**Flags and patrols.** The ⌈f·G⌉ grids with the highest scores (ties to the lower grid
id) are flagged, f = ``flag_share``, provided their score is above the average (r_g > 1);
when early warning is on, a share β (``redeploy_share``) of every grid's patrol hours is
pooled and sent to the flagged grids in proportion to h_g·r_g (hot-spot patrol, Sherman &
Weisburd 1995), so that with h_g the grid's own patrol hours

    m_g = (1 − β) + [g flagged]·β·(Σ_j h_j)·r_g / Σ_{f flagged} h_f·r_f,

and Σ_g h_g·m_g = Σ_g h_g: the same total hours, riskiest grids first. With no flag
(or early warning off) m_g = 1.

**Scores.** :func:`warning_scores` measures the warning against the collective incidents
that follow, with the signals approach of Kaminsky, Lizondo & Reinhart (1998): a flag on
grid g on day d is a hit if g has an incident on days d+1 … d+H (H = ``horizon_days``);
precision = hits / flags; an incident on day d′ is warned if its grid was flagged on
some day d′−H … d′−1; recall = warned incidents / incidents. Flags too late to be
judged (d > last day − H) and incidents too early to have been warned (d′ < H) are left
out.

References
----------
1. OECD & JRC (2008). Handbook on Constructing Composite Indicators: Methodology and
   User Guide. OECD Publishing. doi:10.1787/9789264043466-en
2. Epstein, J. M. (2002). Modeling civil violence: an agent-based computational
   approach. PNAS 99(suppl. 3), 7243–7250. doi:10.1073/pnas.092080199
3. Sherman, L. W., & Weisburd, D. (1995). General deterrent effects of police patrol in
   crime "hot spots": a randomized, controlled trial. Justice Quarterly 12(4), 625–648.
   doi:10.1080/07418829500096221
4. Kaminsky, G., Lizondo, S., & Reinhart, C. M. (1998). Leading indicators of currency
   crises. IMF Staff Papers 45(1), 1–48. doi:10.2307/3867328
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.issues import CAT_DISPUTE, IN_SERVICE, QUEUED, ROUTING
from sim.kernels.escalate import E_COLLECTIVE


@dataclass(frozen=True)
class WarningParams:
    """Parameters of the early-warning indicator and patrol redeployment.

    Proposed scenario names: ``warning.<attribute>``; the switch itself is
    ``levers.capability.early_warning``.

    Attributes
    ----------
    weight_disputes, weight_grievance, weight_activation : float
        w_D, w_G, w_A ≥ 0 (normalised to sum 1; at least one > 0).
    flag_share : float
        f in (0, 1]: share of grids flagged each day (the riskiest).
    redeploy_share : float
        β in [0, 1]: share of patrol hours sent to flagged grids when warning is on.
    """

    weight_disputes: float = 0.4
    weight_grievance: float = 0.3
    weight_activation: float = 0.3
    flag_share: float = 0.05
    redeploy_share: float = 0.5

    def __post_init__(self) -> None:
        w = (self.weight_disputes, self.weight_grievance, self.weight_activation)
        if min(w) < 0 or sum(w) <= 0:
            raise ValueError(f"WarningParams weights must be >= 0 with a positive sum. Got {w}.")
        if not 0.0 < self.flag_share <= 1.0:
            raise ValueError(f"WarningParams.flag_share must be in (0, 1]. Got {self.flag_share}.")
        if not 0.0 <= self.redeploy_share <= 1.0:
            raise ValueError(
                f"WarningParams.redeploy_share must be in [0, 1]. Got {self.redeploy_share}."
            )

    @property
    def weights(self) -> np.ndarray:
        w = np.array([self.weight_disputes, self.weight_grievance, self.weight_activation])
        return w / w.sum()


@njit(cache=True)
def _open_disputes_kernel(status, category, grid, n_grids):
    """Known unresolved disputes per grid (status ROUTING, QUEUED or IN_SERVICE)."""
    out = np.zeros(n_grids, dtype=np.int64)
    for k in range(status.shape[0]):
        st = status[k]
        if category[k] == CAT_DISPUTE and (st == ROUTING or st == QUEUED or st == IN_SERVICE):
            out[grid[k]] += 1
    return out


@njit(cache=True, parallel=True)
def grid_means(values, grid_start):
    """Mean of ``values`` over each grid's residents (each grid summed in row order)."""
    n = grid_start.shape[0] - 1
    out = np.zeros(n)
    for g in prange(n):
        a, b = grid_start[g], grid_start[g + 1]
        s = 0.0
        for i in range(a, b):
            s += values[i]
        out[g] = s / (b - a) if b > a else 0.0
    return out


@njit(cache=True)
def _risk_kernel(open_disputes, n_residents, grievance, active, w, out):
    """Composite risk r_g (see module docstring) into ``out``."""
    n = out.shape[0]
    pop = 0.0
    su = 0.0
    sg = 0.0
    sa = 0.0
    for g in range(n):  # city means, resident-weighted, in grid order
        pop += n_residents[g]
        su += open_disputes[g]
        sg += grievance[g] * n_residents[g]
        sa += active[g] * n_residents[g]
    mu = su / pop if pop > 0 else 0.0
    mg = sg / pop if pop > 0 else 0.0
    ma = sa / pop if pop > 0 else 0.0
    for g in range(n):
        r = 0.0
        if mu > 0.0 and n_residents[g] > 0:
            r += w[0] * (open_disputes[g] / n_residents[g]) / mu
        if mg > 0.0:
            r += w[1] * grievance[g] / mg
        if ma > 0.0:
            r += w[2] * active[g] / ma
        out[g] = r
    return out


@njit(cache=True)
def _flag_kernel(risk, n_flag, flags):
    """Flag the ``n_flag`` riskiest grids with r > 1 (ties to the lower id)."""
    order = np.argsort(-risk, kind="mergesort")
    flags[:] = 0
    for j in range(min(n_flag, order.shape[0])):
        g = order[j]
        if risk[g] <= 1.0:
            break
        flags[g] = 1
    return flags


@njit(cache=True)
def _patrol_kernel(risk, flags, hours, beta, out):
    """Patrol multiplier m_g (see module docstring); Σ h·m = Σ h."""
    n = risk.shape[0]
    total = 0.0
    hot = 0.0
    for g in range(n):
        total += hours[g]
        if flags[g]:
            hot += hours[g] * risk[g]
    for g in range(n):
        if hot > 0.0:
            out[g] = 1.0 - beta
            if flags[g]:
                out[g] += beta * total * risk[g] / hot
        else:
            out[g] = 1.0
    return out


@njit(cache=True)
def _code_count_kernel(codes, grid, code, n_grids):
    out = np.zeros(n_grids, dtype=np.int64)
    for k in range(codes.shape[0]):
        if codes[k] == code:
            out[grid[k]] += 1
    return out


def incidents_by_grid(escalation_codes, grid, n_grids: int) -> np.ndarray:
    """Collective incidents per grid from ``escalate_step``'s per-row codes (int64).

    ``escalation_codes`` is the uint8 array ``escalate_step`` fills
    (``state.row_scratch(n)`` right after the stage; ``E_COLLECTIVE`` marks an incident).
    """
    return _code_count_kernel(
        np.asarray(escalation_codes), np.asarray(grid), E_COLLECTIVE, int(n_grids)
    )


def open_disputes_by_grid(issues, n_grids: int) -> np.ndarray:
    """Known unresolved disputes per grid from the issue rows (int64 [n_grids])."""
    return _open_disputes_kernel(issues.status, issues.category, issues.grid, int(n_grids))


def risk_indicator(open_disputes, n_residents, grievance, active, p: WarningParams) -> np.ndarray:
    """Composite risk score r_g of every grid (1 = city average), see the module docstring.

    Parameters
    ----------
    open_disputes : array [n_grids]
        Known unresolved disputes per grid (:func:`open_disputes_by_grid`).
    n_residents : array [n_grids]
    grievance, active : array [n_grids]
        Mean grievance and share of active residents per grid (:func:`grid_means`).
    p : WarningParams
    """
    n = np.asarray(n_residents, dtype=np.float64)
    out = np.empty(n.shape[0])
    return _risk_kernel(
        np.asarray(open_disputes, dtype=np.float64), n, np.asarray(grievance, dtype=np.float64),
        np.asarray(active, dtype=np.float64), p.weights, out,
    )  # fmt: skip


def flag_grids(risk, p: WarningParams) -> np.ndarray:
    """uint8 flags of the ⌈f·G⌉ riskiest grids whose score is above average."""
    r = np.asarray(risk, dtype=np.float64)
    n_flag = math.ceil(p.flag_share * r.shape[0] - 1e-9)
    return _flag_kernel(r, n_flag, np.zeros(r.shape[0], dtype=np.uint8))


def patrol_multiplier(risk, flags, hours, p: WarningParams, on: bool = True) -> np.ndarray:
    """Per-grid patrol multiplier m_g keeping total patrol hours (all ones when off).

    Parameters
    ----------
    risk : array [n_grids]
    flags : uint8 array [n_grids]
        From :func:`flag_grids`.
    hours : array [n_grids]
        Each grid's own patrol hours h_g (e.g. workers × hours per day).
    on : bool
        ``levers.capability.early_warning``.
    """
    r = np.asarray(risk, dtype=np.float64)
    if not on:
        return np.ones(r.shape[0])
    return _patrol_kernel(
        r, np.asarray(flags, dtype=np.uint8), np.asarray(hours, dtype=np.float64),
        float(p.redeploy_share), np.empty(r.shape[0]),
    )  # fmt: skip


@dataclass(frozen=True)
class WarningScores:
    """Precision and recall of flags against the incidents that follow.

    Attributes
    ----------
    precision : float
        hits / flags (NaN without judged flags).
    recall : float
        warned incidents / incidents (NaN without judged incidents).
    n_flags, n_hits, n_incidents, n_warned : int
        The counts behind them (incidents counted with multiplicity).
    base_rate : float
        Share of all judged grid-days followed by an incident within H days: the
        precision of flagging grids at random (NaN without judged days).
    lift : float
        precision / base_rate: how many times better than flagging at random (NaN when
        either is NaN or the base rate is 0).
    """

    precision: float
    recall: float
    n_flags: int
    n_hits: int
    n_incidents: int
    n_warned: int
    base_rate: float = float("nan")
    lift: float = float("nan")


def warning_scores(flags_by_day, incidents_by_day, horizon_days: int) -> WarningScores:
    """Precision and recall of early-warning flags (signals approach, see module).

    Parameters
    ----------
    flags_by_day : bool array [n_days, n_grids]
        Grid flagged at the end of day d.
    incidents_by_day : int array [n_days, n_grids]
        Collective incidents in grid g on day d.
    horizon_days : int
        H ≥ 1: a flag on day d predicts an incident on days d+1 … d+H.
    """
    f = np.asarray(flags_by_day).astype(bool)
    x = np.asarray(incidents_by_day).astype(np.int64)
    h = int(horizon_days)
    if f.ndim != 2 or f.shape != x.shape:
        raise ValueError(
            f"flags_by_day and incidents_by_day must be 2-D of one shape [days, grids]. "
            f"Got {f.shape} and {x.shape}."
        )
    if h < 1:
        raise ValueError(f"The 'horizon_days' parameter must be >= 1. Got {horizon_days!r}.")
    n_days = f.shape[0]
    c = np.zeros((n_days + 1, f.shape[1]), dtype=np.int64)  # prefix sums over days
    np.cumsum(x > 0, axis=0, out=c[1:])
    cf = np.zeros_like(c)
    np.cumsum(f, axis=0, out=cf[1:])
    judged = max(n_days - h, 0)  # flags on days 0 … n_days−1−H
    ahead = c[np.minimum(np.arange(judged) + 1 + h, n_days)] - c[np.arange(judged) + 1]
    hits = int(np.count_nonzero(f[:judged] & (ahead > 0)))
    n_flags = int(np.count_nonzero(f[:judged]))
    n_judged = judged * f.shape[1]
    base_rate = int(np.count_nonzero(ahead > 0)) / n_judged if n_judged else float("nan")
    days = np.arange(h, n_days)  # incidents on days H … n_days−1
    before = cf[days] - cf[days - h]
    n_inc = int(x[h:].sum())
    warned = int(x[h:][before > 0].sum())
    precision = hits / n_flags if n_flags else float("nan")
    lift = precision / base_rate if base_rate > 0 else float("nan")  # NaN stays NaN
    return WarningScores(
        precision=precision,
        recall=warned / n_inc if n_inc else float("nan"),
        n_flags=n_flags,
        n_hits=hits,
        n_incidents=n_inc,
        n_warned=warned,
        base_rate=base_rate,
        lift=lift,
    )


class WarningScorer:
    """:func:`warning_scores` computed day by day in bounded memory.

    A run adds each day's flags and incidents with :meth:`add`; only the last H days of
    flags are kept (a ring), so memory does not grow with the number of days. A flag
    leaves the ring once its horizon has passed, and is then counted (hit or not);
    :meth:`scores` equals :func:`warning_scores` on the whole history.

    Parameters
    ----------
    n_grids : int
    horizon_days : int
        H ≥ 1.
    """

    def __init__(self, n_grids: int, horizon_days: int) -> None:
        h = int(horizon_days)
        if h < 1:
            raise ValueError(f"The 'horizon_days' parameter must be >= 1. Got {horizon_days!r}.")
        self.horizon = h
        self.n_grids = int(n_grids)
        self.flags = np.zeros((h, self.n_grids), dtype=bool)  # days d−H … d−1, slot d % H
        self.hit = np.zeros((h, self.n_grids), dtype=bool)  # flag followed by an incident
        self.followed = np.zeros((h, self.n_grids), dtype=bool)  # grid-day followed by one
        self.days = 0
        self.n_flags = self.n_hits = self.n_judged = self.n_followed = 0
        self.n_incidents = self.n_warned = 0

    def add(self, flags: np.ndarray, incidents: np.ndarray) -> None:
        """Add one day: the flags raised at its end and the incidents during it."""
        d, h = self.days, self.horizon
        f = np.asarray(flags).astype(bool)
        x = np.asarray(incidents).astype(np.int64)
        if f.shape != (self.n_grids,) or x.shape != (self.n_grids,):
            raise ValueError(
                f"flags and incidents must have one entry per grid ({self.n_grids}); got "
                f"{f.shape} and {x.shape}"
            )
        happened = x > 0
        ring_days = min(d, h)  # slots holding days max(0, d − H) … d − 1
        if d >= h:  # today's incidents can have been warned by the flags of days d−H … d−1
            self.n_incidents += int(x.sum())
            self.n_warned += int(x[self.flags.any(axis=0)].sum())
        if ring_days:
            self.hit |= self.flags & happened
            self.followed |= happened
        slot = d % h
        if d >= h:  # day d − H (in this slot) has seen its whole horizon d−H+1 … d
            self.n_flags += int(self.flags[slot].sum())
            self.n_hits += int(self.hit[slot].sum())
            self.n_followed += int(self.followed[slot].sum())
            self.n_judged += self.n_grids
        self.flags[slot] = f
        self.hit[slot] = False
        self.followed[slot] = False
        self.days += 1

    def scores(self) -> WarningScores:
        """The scores of the days added so far (flags of the last H days not yet judged)."""
        precision = self.n_hits / self.n_flags if self.n_flags else float("nan")
        base_rate = self.n_followed / self.n_judged if self.n_judged else float("nan")
        return WarningScores(
            precision=precision,
            recall=self.n_warned / self.n_incidents if self.n_incidents else float("nan"),
            n_flags=self.n_flags,
            n_hits=self.n_hits,
            n_incidents=self.n_incidents,
            n_warned=self.n_warned,
            base_rate=base_rate,
            lift=precision / base_rate if base_rate > 0 else float("nan"),
        )
