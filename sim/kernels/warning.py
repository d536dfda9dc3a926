"""Risk early warning (风险预测预警): a per-grid risk indicator steers patrols to hot spots.

**Indicator.** Each day every grid g gets a composite risk score (OECD/JRC 2008: indicators
normalised, then combined with weights) built **only from what the city observes** —
never from residents' hidden grievance or activation (issue 12):

    r_g = Σ_k w_k·(x_kg/n_g)/x̄_k,   k ∈ {disputes, repeat, petitions, surge, incidents},

with n_g the grid's residents and, per grid (:func:`observed_signals`):

- x_D: known unresolved disputes (surfaced, not closed: 矛盾纠纷排查 lists);
- x_R: repeat callers — residents with two or more known open issues (重复来电/来访);
- x_P: open petitions on file (issues escalated to 信访, not closed);
- x_S: surge — surfaced issues of the last week above the grid's own long-run level
  (12345 hotline and grid-report spikes), ``max(0, s7 − s90)`` of two exponentially
  weighted daily counts with means of 7 and 90 days;
- x_I: past collective incidents, exponentially weighted (mean age 90 days).

Each term is divided by its city-wide, resident-weighted mean x̄_k = Σ_g x_kg / Σ_g n_g,
so r_g = Σw means an average grid. A term whose city mean is 0 contributes 0. The
weights are normalised to sum to 1.

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
out. The lead time of a warned incident is d′ minus the first day its grid was flagged in
d′−H … d′−1; false alarms are flags not followed by an incident, reported per 100 grids
per year (:func:`warning_report`).

**Early control (早期控制).** The city funds a number of work-team members
(``levers.capability.warning_team_staff_per_100k``, paid whether sent or not); each day
those on duty go to the flagged grids in order of falling risk until they are used up
(:func:`assign_teams`), so a flagged grid gets a work team the next day only if the
budget reaches it. A team acts through presence only — its officer-equivalents join the
grid's enforcement presence in Epstein's rule (:func:`team_presence`) — and screens the
grid for hidden disputes (extra patrol hours). An earlier version also multiplied the
escalation hazards of the grid's disputes by ``1 − response_effect``, which counted the
same deterrence twice and was a bare multiplier on an outcome; it is gone
(:func:`early_control` returns ones).

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

from sim.issues import CAT_DISPUTE, FIRST_CLOSED, LATENT, LEVEL_PETITION
from sim.pools import workers_per_grid


@dataclass(frozen=True)
class Params:
    """Parameters of the early-warning indicator, flags, patrols and work teams.

    Built once from the scenario (:meth:`from_scenario`); the switch itself is
    ``levers.capability.early_warning`` (:attr:`on`).

    Attributes
    ----------
    weight_disputes, weight_repeat, weight_petitions, weight_surge, weight_incidents : float
        w_D, w_R, w_P, w_S, w_I ≥ 0 (normalised to sum 1; at least one > 0)
        [``warning.*``].
    flag_share : float
        f in (0, 1]: share of grids flagged each day (the riskiest).
    redeploy_share : float
        β in [0, 1]: share of patrol hours sent to flagged grids when warning is on.
    horizon_days : int
        H, days within which a flag counts as a hit (``warning.horizon_days``).
    response_per_1000 : float
        Work-team presence (officer-equivalents) per 1,000 residents a flagged grid gets
        (``warning.response_per_1000``).
    worker_weight : float
        A grid worker's deterrence relative to an officer (``activation.worker_weight``):
        converts the team's presence into staff.
    workers_per_grid : float or float array [n_grids]
        Grid workers per grid (:func:`sim.pools.workers_per_grid`; per grid where counties
        have added workers, :func:`sim.pools.grid_workers`).
    team_staff_per_100k : float
        Funded work-team members per 100k residents
        (``levers.capability.warning_team_staff_per_100k``).
    duty_share : float
        Share of the calendar days a member is on duty (working days ÷ 365,
        ``costs.working_days_per_year``): the members on duty a day are
        ``team_staff_per_100k · N / 10⁵ · duty_share``.
    on : bool
        ``levers.capability.early_warning``.
    """

    weight_disputes: float
    weight_repeat: float
    weight_petitions: float
    weight_surge: float
    weight_incidents: float
    flag_share: float
    redeploy_share: float
    horizon_days: int
    response_per_1000: float
    worker_weight: float
    workers_per_grid: float | np.ndarray
    team_staff_per_100k: float
    duty_share: float
    on: bool

    @classmethod
    def from_scenario(cls, sc) -> Params:
        w = sc.warning
        return cls(
            weight_disputes=w.weight_disputes,
            weight_repeat=w.weight_repeat,
            weight_petitions=w.weight_petitions,
            weight_surge=w.weight_surge,
            weight_incidents=w.weight_incidents,
            flag_share=w.flag_share,
            redeploy_share=w.redeploy_share,
            horizon_days=w.horizon_days,
            response_per_1000=w.response_per_1000,
            worker_weight=sc.activation.worker_weight,
            workers_per_grid=workers_per_grid(sc),
            team_staff_per_100k=sc.levers.capability.warning_team_staff_per_100k,
            duty_share=sc.costs.working_days_per_year / 365.0,
            on=bool(sc.levers.capability.early_warning),
        )

    def __post_init__(self) -> None:
        w = self._w
        if min(w) < 0 or sum(w) <= 0:
            raise ValueError(f"warning weights must be >= 0 with a positive sum. Got {w}.")
        if not 0.0 < self.flag_share <= 1.0:
            raise ValueError(f"warning.flag_share must be in (0, 1]. Got {self.flag_share}.")
        if not 0.0 <= self.redeploy_share <= 1.0:
            raise ValueError(
                f"warning.redeploy_share must be in [0, 1]. Got {self.redeploy_share}."
            )

    @property
    def _w(self) -> tuple[float, ...]:
        return (
            self.weight_disputes,
            self.weight_repeat,
            self.weight_petitions,
            self.weight_surge,
            self.weight_incidents,
        )

    @property
    def weights(self) -> np.ndarray:
        """Normalised weights in the order of :data:`SIGNALS`."""
        w = np.array(self._w)
        return w / w.sum()


WarningParams = Params  # the name the alone harness and older callers use

SIGNALS = ("disputes", "repeat", "petitions", "surge", "incidents")
N_SIGNALS = len(SIGNALS)
SURGE_SHORT_DAYS = 7.0  # mean age of the short count of surfaced issues (a week)
SURGE_LONG_DAYS = 90.0  # … of the grid's own long-run level (a quarter)
INCIDENT_MEMORY_DAYS = 90.0  # mean age of the remembered collective incidents


@njit(cache=True)
def _observed_kernel(status, category, level, grid, resident, t_surfaced, day, n_grids):
    """Per grid: known open disputes, repeat callers, open petitions, surfaced today.

    Only known rows (status not LATENT) are read; a repeat caller is counted once, at the
    grid of its second known open issue (rows are in creation order)."""
    out = np.zeros((4, n_grids), dtype=np.float64)
    t0 = 24.0 * day
    n = status.shape[0]
    seen = {}  # resident -> known open issues so far
    seen[-1] = 0
    for k in range(n):
        st = status[k]
        if st == LATENT:
            continue
        g = grid[k]
        if t_surfaced[k] >= t0 and t_surfaced[k] < t0 + 24.0:
            out[3, g] += 1.0
        if st >= FIRST_CLOSED:
            continue
        if category[k] == CAT_DISPUTE:
            out[0, g] += 1.0
        if level[k] == LEVEL_PETITION:
            out[2, g] += 1.0
        r = resident[k]
        c = seen.get(r, 0) + 1
        seen[r] = c
        if c == 2:
            out[1, g] += 1.0
    return out


def observed_signals(issues, n_grids: int, day: int) -> np.ndarray:
    """What the city sees of each grid today (float64 [4, n_grids]): known open disputes,
    repeat callers, open petitions and issues surfaced today (:mod:`module <sim.kernels.
    warning>` docstring). Reads only rows the city knows of (surfaced)."""
    t = issues
    return _observed_kernel(
        t.status, t.category, t.level, t.grid, t.resident.astype(np.int64), t.t_surfaced,
        int(day), int(n_grids),
    )  # fmt: skip


def open_disputes_by_grid(issues, n_grids: int) -> np.ndarray:
    """Known unresolved disputes per grid from the issue rows (int64 [n_grids])."""
    t = issues
    known_open = (t.status != LATENT) & (t.status < FIRST_CLOSED) & (t.category == CAT_DISPUTE)
    return np.bincount(t.grid[known_open], minlength=int(n_grids)).astype(np.int64)


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
def _risk_kernel(signals, n_residents, w, out):
    """Composite risk r_g (see module docstring) into ``out``."""
    n = out.shape[0]
    n_k = signals.shape[0]
    pop = 0.0
    for g in range(n):
        pop += n_residents[g]
    mean = np.zeros(n_k)
    for k in range(n_k):  # city means per resident, summed in grid order
        s = 0.0
        for g in range(n):
            s += signals[k, g]
        mean[k] = s / pop if pop > 0 else 0.0
    for g in range(n):
        r = 0.0
        if n_residents[g] > 0:
            for k in range(n_k):
                if mean[k] > 0.0:
                    r += w[k] * (signals[k, g] / n_residents[g]) / mean[k]
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


def risk_indicator(signals, n_residents, p: Params) -> np.ndarray:
    """Composite risk score r_g of every grid (1 = city average), see the module docstring.

    Parameters
    ----------
    signals : array [5, n_grids]
        The observed counts per grid in the order of :data:`SIGNALS` (disputes, repeat
        callers, petitions, surge, past incidents).
    n_residents : array [n_grids]
    p : Params
    """
    n = np.asarray(n_residents, dtype=np.float64)
    x = np.ascontiguousarray(signals, dtype=np.float64)
    if x.shape != (N_SIGNALS, n.shape[0]):
        raise ValueError(
            f"signals must have shape ({N_SIGNALS}, n_grids={n.shape[0]}); got {x.shape}"
        )
    return _risk_kernel(x, n, p.weights, np.empty(n.shape[0]))


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
        self.lead_days = 0  # Σ over warned incidents of the days since the first flag

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
            warned = self.flags.any(axis=0)
            self.n_warned += int(x[warned].sum())
            if (warned & happened).any():
                slot_day = d - h + ((np.arange(h) - d) % h)  # day held by each ring slot
                first = np.where(self.flags, slot_day[:, None], d).min(axis=0)
                self.lead_days += int(((d - first) * x)[warned].sum())
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
    team_share : float64[n_grids] or None
        Share of a full work team each grid gets today (:func:`assign_teams`; None before
        the first day or with warning off).
    patrol_mult : float64[n_grids]
        Patrol multiplier m_g for today (ones when warning is off).
    surfaced_short, surfaced_long : float64[n_grids]
        Exponentially weighted daily counts of surfaced issues (mean ages
        :data:`SURGE_SHORT_DAYS`, :data:`SURGE_LONG_DAYS`).
    incident_memory : float64[n_grids]
        Exponentially weighted count of observed collective incidents.
    """

    scorer: WarningScorer
    last_flags: np.ndarray | None
    patrol_mult: np.ndarray
    surfaced_short: np.ndarray
    surfaced_long: np.ndarray
    incident_memory: np.ndarray
    team_share: np.ndarray | None = None

    @classmethod
    def start(cls, n_grids: int, p: Params) -> State:
        z = np.zeros
        scorer = WarningScorer(n_grids, p.horizon_days)
        return cls(scorer, None, np.ones(n_grids), z(n_grids), z(n_grids), z(n_grids))


def response_team(p: Params, grid_sizes: np.ndarray) -> np.ndarray:
    """Presence (officer-equivalents) of the early-warning work team a grid of each size
    gets when flagged: ``warning.response_per_1000`` per 1,000 residents."""
    return p.response_per_1000 * grid_sizes / 1000.0


def team_staff_on_duty(p: Params, n_residents: int) -> float:
    """Work-team members on duty a day: the funded members
    (``levers.capability.warning_team_staff_per_100k`` per 100k residents) × the share of
    days each works (:attr:`Params.duty_share`); zero with warning off."""
    return p.team_staff_per_100k * n_residents / 1e5 * p.duty_share if p.on else 0.0


def assign_teams(risk, flags, need, capacity: float) -> np.ndarray:
    """Share (0–1) of a full work team each grid gets: flagged grids in order of falling
    risk (ties to the lower grid id) until the members on duty are used up; the last grid
    reached gets what is left.

    Parameters
    ----------
    risk : float array [n_grids]
        The indicator r_g (:func:`risk_indicator`).
    flags : uint8 array [n_grids]
        :func:`flag_grids`.
    need : float array [n_grids]
        Members of a full team for each grid (:func:`response_team` ÷ worker weight).
    capacity : float
        Members on duty (:func:`team_staff_on_duty`).

    Returns
    -------
    float64 [n_grids]
        s_g with Σ_g s_g·need_g = min(capacity, Σ_flagged need_g); 0 off the flags.
    """
    r = np.asarray(risk, dtype=np.float64)
    share = np.zeros(r.shape[0])
    flagged = np.flatnonzero(np.asarray(flags))
    if flagged.size == 0 or capacity <= 0:
        return share
    order = flagged[np.lexsort((flagged, -r[flagged]))]
    n = np.asarray(need, dtype=np.float64)[order]
    before = np.concatenate(([0.0], np.cumsum(n)[:-1]))
    left = np.maximum(capacity - before, 0.0)
    share[order] = np.where(n > 0, np.minimum(left / np.where(n > 0, n, 1.0), 1.0), 0.0)
    return share


def team_presence(state: State, p: Params, grid_sizes: np.ndarray) -> tuple[np.ndarray, float]:
    """早期控制: the work teams sent today to the grids flagged yesterday, as far as the
    funded members on duty reach (:func:`assign_teams`).

    Returns the added presence per grid (officer-equivalents, zeros without warning) and
    the teams' members sent today (reported; their cost is the funded members,
    :mod:`sim.kernels.costs`).
    """
    if not (p.on and state.team_share is not None):
        return np.zeros(grid_sizes.shape[0]), 0.0
    extra = response_team(p, grid_sizes) * state.team_share
    return extra, float(extra.sum()) / max(p.worker_weight, 1e-9)


def early_control(state: State, p: Params, n_grids: int) -> np.ndarray:
    """Escalation damping c_g of the early warning: ones.

    The work team sent to a flagged grid acts through its presence in Epstein's rule
    (:func:`team_presence`) and its screening for hidden disputes; damping the
    escalation hazards as well (the former ``1 − response_effect``) counted the same
    deterrence twice, as a bare multiplier on an outcome (issue 12). Kept as the
    escalation stage's input so that stage's signature does not change.
    """
    return np.ones(n_grids)


def observe(state: State, issues, n_grids: int, incidents, day: int) -> np.ndarray:
    """Today's observed signals per grid (float64 [5, n_grids], order of :data:`SIGNALS`);
    updates the surge counts and the incident memory of ``state`` in place."""
    x = observed_signals(issues, n_grids, day)
    a_s, a_l = 1.0 / SURGE_SHORT_DAYS, 1.0 / SURGE_LONG_DAYS
    state.surfaced_short += a_s * (x[3] - state.surfaced_short)
    state.surfaced_long += a_l * (x[3] - state.surfaced_long)
    state.incident_memory += (1.0 / INCIDENT_MEMORY_DAYS) * (
        np.asarray(incidents, dtype=np.float64) - state.incident_memory
    )
    surge = np.maximum(state.surfaced_short - state.surfaced_long, 0.0)
    return np.stack([x[0], x[1], x[2], surge, state.incident_memory])


def warning_step(state: State, issues, grid_start, incidents, p: Params, day: int):
    """Score every grid's risk from what the city observes, flag the riskiest, redeploy
    tomorrow's patrols.

    Parameters
    ----------
    state : State
        Updated in place: yesterday's flags are replaced, the scorer adds today, the
        patrol multiplier is tomorrow's, the surge and incident memories move on.
    issues : sim.issues.IssueTable
        Only the rows the city knows of (surfaced) are read (:func:`observed_signals`).
    grid_start : int64[n_grids + 1]
        Residents per grid (the indicator's denominators).
    incidents : int array [n_grids]
        Today's collective incidents (public events: from escalating disputes and from
        activation). Flags and incidents are scored every day, warning on or off, so the
        warning's precision and recall can always be reported.
    p : Params
    day : int

    Returns
    -------
    uint8[n_grids]
        Today's flags.

    Notes
    -----
    No hidden state of the residents (grievance, activation, trust, latent issues) is an
    input: ``tests/test_levers_mechanisms_b.py`` checks the signature and that poisoning
    the hidden issue rows leaves the flags unchanged.
    """
    n_g = grid_start.shape[0] - 1
    signals = observe(state, issues, n_g, incidents, day)
    risk = risk_indicator(signals, np.diff(grid_start), p)
    flags = flag_grids(risk, p)
    state.last_flags = flags
    state.scorer.add(flags, incidents)
    state.patrol_mult = patrol_multiplier(risk, flags, np.ones(n_g), p, on=p.on)
    if p.on:
        # tomorrow's work teams go to the riskiest flagged grids while the funded members
        # on duty last; a team also screens its grid for hidden disputes (矛盾纠纷排查),
        # as many patrol hours per member as a grid worker
        staff = response_team(p, np.diff(grid_start)) / max(p.worker_weight, 1e-9)
        capacity = team_staff_on_duty(p, int(grid_start[-1]))
        state.team_share = assign_teams(risk, flags, staff, capacity)
        state.patrol_mult = state.patrol_mult + state.team_share * staff / p.workers_per_grid
    return flags


def warning_report(state: State) -> dict[str, float]:
    """Precision, recall and lift of the flags against the collective incidents that
    followed; mean lead time (days from the first flag to a warned incident) and false
    alarms (flags not followed by an incident) per 100 grids per year of judged days."""
    sc = state.scorer
    s = sc.scores()
    judged_days = sc.n_judged / max(sc.n_grids, 1)
    false_alarms = (
        100.0 * (sc.n_flags - sc.n_hits) / sc.n_grids * 365.0 / judged_days
        if judged_days > 0 and sc.n_grids
        else float("nan")
    )
    return {
        "warning_precision": float(s.precision),
        "warning_recall": float(s.recall),
        "warning_lift": float(s.lift),
        "warning_lead_days": sc.lead_days / sc.n_warned if sc.n_warned else float("nan"),
        "warning_false_alarms_per_100_grids_year": float(false_alarms),
    }
