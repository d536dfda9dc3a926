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
from sim.pools import workers_per_grid


@dataclass(frozen=True)
class Params:
    """Parameters of the early-warning indicator, flags, patrols and work teams.

    Built once from the scenario (:meth:`from_scenario`); the switch itself is
    ``levers.capability.early_warning`` (:attr:`on`).

    Attributes
    ----------
    weight_disputes, weight_grievance, weight_activation : float
        w_D, w_G, w_A ≥ 0 (normalised to sum 1; at least one > 0) [``warning.*``].
    flag_share : float
        f in (0, 1]: share of grids flagged each day (the riskiest).
    redeploy_share : float
        β in [0, 1]: share of patrol hours sent to flagged grids when warning is on.
    horizon_days : int
        H, days within which a flag counts as a hit (``warning.horizon_days``).
    response_per_1000 : float
        Work-team presence (officer-equivalents) per 1,000 residents a flagged grid gets
        (``warning.response_per_1000``).
    response_effect : float
        Share by which a work team cuts the escalation hazards of a flagged grid's known
        disputes (``warning.response_effect``).
    worker_weight : float
        A grid worker's deterrence relative to an officer (``activation.worker_weight``):
        converts the team's presence into staff.
    workers_per_grid : float
        Grid workers per grid (:func:`sim.pools.workers_per_grid`).
    on : bool
        ``levers.capability.early_warning``.
    """

    weight_disputes: float
    weight_grievance: float
    weight_activation: float
    flag_share: float
    redeploy_share: float
    horizon_days: int
    response_per_1000: float
    response_effect: float
    worker_weight: float
    workers_per_grid: float
    on: bool

    @classmethod
    def from_scenario(cls, sc) -> Params:
        w = sc.warning
        return cls(
            weight_disputes=w.weight_disputes,
            weight_grievance=w.weight_grievance,
            weight_activation=w.weight_activation,
            flag_share=w.flag_share,
            redeploy_share=w.redeploy_share,
            horizon_days=w.horizon_days,
            response_per_1000=w.response_per_1000,
            response_effect=w.response_effect,
            worker_weight=sc.activation.worker_weight,
            workers_per_grid=workers_per_grid(sc),
            on=bool(sc.levers.capability.early_warning),
        )

    def __post_init__(self) -> None:
        w = (self.weight_disputes, self.weight_grievance, self.weight_activation)
        if min(w) < 0 or sum(w) <= 0:
            raise ValueError(f"warning weights must be >= 0 with a positive sum. Got {w}.")
        if not 0.0 < self.flag_share <= 1.0:
            raise ValueError(f"warning.flag_share must be in (0, 1]. Got {self.flag_share}.")
        if not 0.0 <= self.redeploy_share <= 1.0:
            raise ValueError(
                f"warning.redeploy_share must be in [0, 1]. Got {self.redeploy_share}."
            )

    @property
    def weights(self) -> np.ndarray:
        w = np.array([self.weight_disputes, self.weight_grievance, self.weight_activation])
        return w / w.sum()


WarningParams = Params  # the name the alone harness and older callers use


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


def open_disputes_by_grid(issues, n_grids: int) -> np.ndarray:
    """Known unresolved disputes per grid from the issue rows (int64 [n_grids])."""
    return _open_disputes_kernel(issues.status, issues.category, issues.grid, int(n_grids))


def risk_indicator(open_disputes, n_residents, grievance, active, p: Params) -> np.ndarray:
    """Composite risk score r_g of every grid (1 = city average), see the module docstring.

    Parameters
    ----------
    open_disputes : array [n_grids]
        Known unresolved disputes per grid (:func:`open_disputes_by_grid`).
    n_residents : array [n_grids]
    grievance, active : array [n_grids]
        Mean grievance and share of active residents per grid (:func:`grid_means`).
    p : Params
    """
    n = np.asarray(n_residents, dtype=np.float64)
    out = np.empty(n.shape[0])
    return _risk_kernel(
        np.asarray(open_disputes, dtype=np.float64), n, np.asarray(grievance, dtype=np.float64),
        np.asarray(active, dtype=np.float64), p.weights, out,
    )  # fmt: skip


def flag_grids(risk, p: Params) -> np.ndarray:
    """uint8 flags of the ⌈f·G⌉ riskiest grids whose score is above average."""
    r = np.asarray(risk, dtype=np.float64)
    n_flag = math.ceil(p.flag_share * r.shape[0] - 1e-9)
    return _flag_kernel(r, n_flag, np.zeros(r.shape[0], dtype=np.uint8))


def patrol_multiplier(risk, flags, hours, p: Params, on: bool) -> np.ndarray:
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
    base_rate: float
    lift: float


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


@dataclass
class State:
    """What the early warning carries from day to day.

    Attributes
    ----------
    scorer : WarningScorer
        Precision, recall and lift of the flags, day by day.
    last_flags : uint8[n_grids] or None
        Grids flagged at the end of yesterday (None before the first day).
    patrol_mult : float64[n_grids]
        Patrol multiplier m_g for today (ones when warning is off).
    """

    scorer: WarningScorer
    last_flags: np.ndarray | None
    patrol_mult: np.ndarray

    @classmethod
    def start(cls, n_grids: int, p: Params) -> State:
        return cls(WarningScorer(n_grids, p.horizon_days), None, np.ones(n_grids))


def response_team(p: Params, grid_sizes: np.ndarray) -> np.ndarray:
    """Presence (officer-equivalents) of the early-warning work team a grid of each size
    gets when flagged: ``warning.response_per_1000`` per 1,000 residents."""
    return p.response_per_1000 * grid_sizes / 1000.0


def team_presence(state: State, p: Params, grid_sizes: np.ndarray) -> tuple[np.ndarray, float]:
    """早期控制: the work teams sent today to the grids flagged yesterday.

    Returns the added presence per grid (officer-equivalents, zeros without warning) and
    the teams' staff on duty (counted as cost).
    """
    if not (p.on and state.last_flags is not None):
        return np.zeros(grid_sizes.shape[0]), 0.0
    extra = response_team(p, grid_sizes) * state.last_flags
    return extra, float(extra.sum()) / max(p.worker_weight, 1e-9)


def early_control(state: State, p: Params, n_grids: int) -> np.ndarray:
    """c_g = 1 − ``response_effect`` in the grids flagged yesterday when warning is on, else 1.

    The work team takes up a flagged grid's known disputes (包案化解), damping their
    escalation (:mod:`sim.kernels.escalate`).
    """
    if p.on and state.last_flags is not None:
        return 1.0 - p.response_effect * state.last_flags.astype(np.float64)
    return np.ones(n_grids)


def warning_step(state: State, issues, grid_start, grievance, active, incidents, p: Params):
    """Score every grid's risk, flag the riskiest, redeploy tomorrow's patrols.

    Parameters
    ----------
    state : State
        Updated in place: yesterday's flags are replaced, the scorer adds today, the
        patrol multiplier is tomorrow's.
    issues : sim.issues.IssueTable
    grid_start : int64[n_grids + 1]
    grievance : float32[n_residents]
        Today's grievance (``Residents.grievance``).
    active : uint8[n_residents]
        Today's activation.
    incidents : int array [n_grids]
        Today's collective incidents (from escalating disputes and from activation).
        Flags and incidents are scored every day, warning on or off, so the warning's
        precision and recall can always be reported.
    p : Params

    Returns
    -------
    uint8[n_grids]
        Today's flags.
    """
    n_g = grid_start.shape[0] - 1
    risk = risk_indicator(
        open_disputes_by_grid(issues, n_g),
        np.diff(grid_start),
        grid_means(grievance, grid_start),
        grid_means(active, grid_start),
        p,
    )
    flags = flag_grids(risk, p)
    state.last_flags = flags
    state.scorer.add(flags, incidents)
    state.patrol_mult = patrol_multiplier(risk, flags, np.ones(n_g), p, on=p.on)
    if p.on:
        # the work team sent to a flagged grid tomorrow also screens it for hidden
        # disputes (矛盾纠纷排查), as many patrol hours per member as a grid worker
        staff = response_team(p, np.diff(grid_start)) / max(p.worker_weight, 1e-9)
        state.patrol_mult = state.patrol_mult + flags * staff / p.workers_per_grid
    return flags


def warning_report(state: State) -> dict[str, float]:
    """Precision, recall and lift of the flags against the collective incidents that followed."""
    s = state.scorer.scores()
    return {
        "warning_precision": float(s.precision),
        "warning_recall": float(s.recall),
        "warning_lift": float(s.lift),
    }
