"""The handling stage run alone as an M/M/c queue, against Erlang C (and, with impatient
residents, as an M/M/c+M queue against Erlang-A: :func:`sim.queueing.erlang_a`).

The handling stage (:mod:`sim.kernels.handle`) claims that a pool on duty around the clock,
serving first come first served with exponential service times, is an M/M/c queue even
though the model advances one day at a time. :func:`queue_alone` checks that claim: it
feeds Poisson arrivals (counter-based random numbers) into :func:`sim.kernels.handle.
handle_step` on a one-pool state and measures the mean wait, which must match Erlang C's
(:func:`sim.queueing.mean_wait_erlang_c`; formulas and references there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numba
import numpy as np
from numba import njit

from sim.issues import ABANDONED, CAT_NEED, QUEUED, RESOLVED, IssueTable
from sim.kernels.handle import PRIORITY_CODES, Params, handle_step
from sim.pools import K_MEDIATION, N_KINDS, Pools
from sim.queueing import check_servers, erlang_a, mean_wait_erlang_c
from sim.rng import S_QUEUE_ARRIVAL, uniform


@njit(cache=True)
def _poisson_day(seed, day, rate_per_hour, out):
    """Arrival hours of a Poisson process within day ``day``; returns how many.

    Exponential gaps measured from the start of the day: a Poisson process restricted
    to disjoint days is independent Poisson processes, so restarting each day is exact.
    """
    t = 24.0 * day
    end = t + 24.0
    n = 0
    while n < out.shape[0]:
        t += -math.log(1.0 - uniform(seed, S_QUEUE_ARRIVAL, day, n)) / rate_per_hour
        if t >= end:
            break
        out[n] = t
        n += 1
    return n


@dataclass(frozen=True)
class QueueAloneResult:
    """What :func:`queue_alone` measured (times in hours).

    Attributes
    ----------
    mean_wait : float
        Mean of (service start − arrival) over the measured arrivals.
    erlang_c_wait : float
        W_q from :func:`mean_wait_erlang_c` for the same λ, μ, c.
    n_measured : int
        Arrivals measured (those arriving after the warm-up, up to ``days``).
    share_waited : float
        Share of measured arrivals that waited at all (Erlang C's C(c, a)).
    utilisation : float
        Busy server-hours / (c · measured hours).
    waits : ndarray or None
        With ``record=True``: the wait of every arrival of the run, indexed by issue id
        (arrival order), NaN for arrivals never served.
    abandon_share : float
        Share of measured arrivals who gave up waiting (0 without ``patience``).
    erlang_a_abandon, erlang_a_wait : float
        With ``patience``: Erlang-A's P(abandon) and mean wait of all arrivals (hours),
        beside which ``abandon_share`` and ``mean_wait`` are measured; NaN otherwise.
    """

    mean_wait: float
    erlang_c_wait: float
    n_measured: int
    share_waited: float
    utilisation: float
    waits: np.ndarray | None = None
    abandon_share: float = 0.0
    erlang_a_abandon: float = float("nan")
    erlang_a_wait: float = float("nan")

    @property
    def relative_error(self) -> float:
        return self.mean_wait / self.erlang_c_wait - 1.0 if self.erlang_c_wait > 0 else 0.0


def _one_pool(c: int, mean_service_hours: float) -> Pools:
    """A single pool with ``c`` slots on duty 0–24 every day, resolving every case."""
    duty = np.zeros((N_KINDS, 2))
    duty[:, 1] = 24.0
    service = np.full((N_KINDS, 4), mean_service_hours)
    return Pools(
        kind=np.array([K_MEDIATION], dtype=np.uint8),
        county=np.zeros(1, dtype=np.int16),
        sector=np.full(1, -1, dtype=np.int8),
        servers=np.array([c], dtype=np.int32),
        server_ptr=np.array([0, c], dtype=np.int64),
        free_at=np.zeros(c),
        duty=duty,
        weekends=np.ones(N_KINDS, dtype=np.uint8),
        service_hours=service,
        resolve_prob=np.ones((N_KINDS, 4)),
        staff_per_duty_day=np.zeros(1),
        dept_pool=np.zeros((0, 10), dtype=np.int32),
        grid_pool=np.zeros(0, dtype=np.int32),
        town_pool=np.zeros(0, dtype=np.int32),
        social_pool=np.zeros(0, dtype=np.int32),
        mass_pool=np.zeros(0, dtype=np.int32),
        petition_pool=np.zeros(0, dtype=np.int32),
        hotline_pool=0,
        online_pool=0,
    )


def queue_alone(
    c: int,
    load: float,
    mu: float = 1.0,
    days: int = 2000,
    warmup_days: int = 100,
    seed: int = 0,
    record: bool = False,
    patience: float | None = None,
) -> QueueAloneResult:
    """Run the model's handling stage alone as an M/M/c queue and measure the mean wait.

    A one-pool state (duty 0–24, weekends on, FIFO, every case resolved) is stepped day by
    day through :func:`sim.kernels.handle.handle_step`, exactly as the model calls it.
    Arrivals are Poisson with rate λ = load·c·μ per hour, drawn from the counter-based
    generator (stream :data:`S_QUEUE_ARRIVAL`); service is exponential with mean 1/μ hours
    (the kernel's own draw, stream ``S_SERVICE``). Arrivals in ``[warmup_days, days)`` are
    measured; the run goes on past ``days`` (with arrivals continuing) until every
    measured arrival has been served and resolved, so no wait is censored.

    Parameters
    ----------
    c : int
        Servers (case slots), ≥ 1.
    load : float
        Utilisation ρ = λ/(cμ), in (0, 1). The offered load is a = ρ·c erlangs.
    mu : float
        Service rate per server, per hour (mean service 1/μ hours).
    days, warmup_days : int
        Days simulated (measured window ``[warmup_days, days)``) and discarded warm-up.
    seed : int
        Seed of every counter-based draw.
    record : bool
        Also return every arrival's wait (for path-by-path checks).
    patience : float, optional
        Mean patience (hours) of the waiting residents: they abandon after an exponential
        time (Erlang-A, M/M/c+M); the mean wait is then over all measured arrivals, served
        or abandoned, and is compared with :func:`sim.queueing.erlang_a`.

    Returns
    -------
    QueueAloneResult
        Measured mean wait (hours) beside Erlang C's W_q.

    Notes
    -----
    The per-day kernels are tiny here, so the run switches numba to one thread while it
    lasts (results do not depend on the thread count) and restores the setting.

    References
    ----------
    See the module docstring (Erlang 1917; Kleinrock 1975, §3.5).
    """
    c = check_servers(c, "queue_alone")
    if c < 1:
        raise ValueError(f"The 'c' parameter of queue_alone must be >= 1. Got {c}.")
    if not 0.0 < load < 1.0:
        raise ValueError(f"The 'load' parameter of queue_alone must be in (0, 1). Got {load!r}.")
    if not mu > 0.0:
        raise ValueError(f"The 'mu' parameter of queue_alone must be > 0. Got {mu!r}.")
    if not 0 <= warmup_days < days:
        raise ValueError(
            f"queue_alone needs 0 <= warmup_days < days. Got warmup_days={warmup_days}, "
            f"days={days}."
        )
    lam = load * c * mu
    # FIFO, no referrals, retries, litigation or rural penalty: a plain M/M/c pool
    params = Params(
        priority=PRIORITY_CODES["fifo"],
        grace_h=24.0 * 7.0,
        referral_prob=0.0,
        need_retry_prob=0.0,
        litigate_prob=0.0,
        supply=(1.0, 1.0),  # no urban–rural difference
        travel_h=(0.0,) * N_KINDS,
        social_max_wait_days=math.inf,
        patience_h=(math.inf if patience is None else float(patience),) * N_KINDS,
    )
    state = SimpleNamespace(
        issues=IssueTable(max(64, int(lam * 24 * 4))),
        pools=_one_pool(c, 1.0 / mu),
        params=params,
        seed=int(seed),
        effort=np.ones(1),  # no accountability loop: effort 1
    )
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return _run_queue(state, lam, mu, c, days, warmup_days, seed, record, patience)
    finally:
        numba.set_num_threads(before)


def _run_queue(state, lam, mu, c, days, warmup_days, seed, record, patience) -> QueueAloneResult:
    t = state.issues
    buf = np.empty(max(64, int(lam * 24 * 3 + 20 * math.sqrt(lam * 24) + 100)))
    w_sum, w_n, w_pos, busy, n_gone = 0.0, 0, 0, 0.0, 0
    rec: list[tuple[np.ndarray, np.ndarray]] = []
    t0, t1 = 24.0 * warmup_days, 24.0 * days
    day = 0
    while True:
        n_new = _poisson_day(seed, day, lam, buf)
        while n_new == buf.shape[0]:  # never at sane rates; kept exact regardless
            buf = np.empty(2 * buf.shape[0])
            n_new = _poisson_day(seed, day, lam, buf)
        t.reserve(n_new)
        m = t.n
        t.n = m + n_new
        for a in t.cols.values():
            a[m : m + n_new] = 0
        t.iid[m:] = np.arange(t.next_iid, t.next_iid + n_new)
        t.next_iid += n_new
        t.t_created[m:] = buf[:n_new]
        t.t_ready[m:] = buf[:n_new]
        t.status[m:] = QUEUED
        t.category[m:] = CAT_NEED
        t.pool[m:] = 0
        handle_step(t, state.pools, state.effort, state.params, state.seed, day)
        gone = t.status == ABANDONED
        arr_g = t.t_ready[gone]
        meas_g = (arr_g >= t0) & (arr_g < t1)
        w_sum += float((t.t_closed[gone] - arr_g)[meas_g].sum())
        w_n += int(meas_g.sum())
        w_pos += int(meas_g.sum())
        n_gone += int(meas_g.sum())
        done = t.status == RESOLVED
        arr = t.t_ready[done]
        start = t.t_start[done]
        meas = (arr >= t0) & (arr < t1)
        wait = start[meas] - arr[meas]
        w_sum += float(wait.sum())
        w_n += int(meas.sum())
        w_pos += int(np.count_nonzero(wait > 0.0))
        if record:
            rec.append((t.iid[done], start - arr))
        overlap = np.minimum(t.t_done[done], t1) - np.maximum(start, t0)
        busy += float(np.sum(np.maximum(overlap, 0.0)))
        keep = ~done & ~gone
        m = int(keep.sum())
        for a in t.cols.values():
            a[:m] = a[: t.n][keep]
        t.n = m
        day += 1
        if day >= days and not np.any(t.t_ready < t1):
            break
    waits = None
    if record:
        waits = np.full(t.next_iid, np.nan)
        for ids, w in rec:
            waits[ids] = w
    wq = mean_wait_erlang_c(lam, mu, c)
    ab, wa = (
        (float("nan"), float("nan")) if patience is None else erlang_a(lam, mu, c, 1 / patience)
    )
    return QueueAloneResult(
        mean_wait=w_sum / max(w_n, 1),
        erlang_c_wait=wq,
        n_measured=w_n,
        share_waited=w_pos / max(w_n, 1),
        utilisation=busy / (c * (t1 - t0)),
        waits=waits,
        abandon_share=n_gone / max(w_n, 1),
        erlang_a_abandon=ab,
        erlang_a_wait=wa,
    )
