"""Stage 2 — hidden issues surface through competing channels, or are abandoned.

Each hidden (LATENT) issue faces independent daily hazards, one per channel; the first
to fire surfaces it through that channel (competing risks, e.g. Kalbfleisch & Prentice
2002, ch. 8). With category c, resident i in grid g:

    h_report = ρ_c · p_i · (0.5 + T_i)                 own report (12345, online, grid worker)
    h_patrol = π_c · P_g · w_g · 1000 / n_g             grid worker's patrol (铁脚板)
    h_video  = ν_c · D · V_i                            big data / video (雪亮), data sharing D
    h_social = σ · S                                    social organisations (needs, disputes)
    h_mass   = μ · M                                    mass organisations (vulnerable needs)
    h_give   = 1 / patience_c                           abandoned: need unmet, risk realised

with p_i participation propensity, T_i trust, P_g the day's effective patrol hours per
worker (shrinking with the grid's queue: load-dependent patrols), w_g workers, n_g
residents of the grid, V_i video coverage (vulnerable residents: the 雪亮 coverage lever),
S social-organisation strength, M mass-organisation push. The issue changes state with
probability 1 − exp(−Σh), the channel drawn in proportion to the hazards. A resident's
own report goes online with probability ``online_share_digital`` when the resident has
digital access, to the grid worker with probability ``to_grid_worker_share`` (not for
enquiries), else to the 12345 hotline.

References
----------
1. Kalbfleisch, J. D., & Prentice, R. L. (2002). The Statistical Analysis of Failure Time
   Data (2nd ed.). Wiley. doi:10.1002/9781118032985
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.issues import (
    ABANDONED,
    CH_GRID_REPORT,
    CH_HOTLINE,
    CH_MASS,
    CH_ONLINE,
    CH_PATROL,
    CH_SOCIAL,
    CH_VIDEO,
    LATENT,
    NEXT_INTAKE,
    ROUTING,
)
from sim.rng import S_SURFACE, S_SURFACE_CHANNEL, S_SURFACE_HOUR, S_SURFACE_SUB, pick, uniform


@njit(cache=True)
def issue_hazards(cat, vulnerable, participation, trust, patrol_factor, social, p, out):
    """Channel hazards of one hidden issue into ``out`` (length 6); returns their sum.

    ``out`` = [report, patrol, video, social, mass, abandon]. ``social`` is the strength
    S of the social organisations of the issue's county; ``p`` packs the other
    parameters (see :func:`pack_surface_params`).
    """
    out[0] = p[0 + cat] * participation * (0.5 + trust)
    out[1] = p[4 + cat] * patrol_factor
    cover = p[13] if vulnerable else p[12]
    if cat == 3 or vulnerable:
        out[2] = p[8 + cat] * p[14] * cover
    else:
        out[2] = 0.0
    out[3] = p[15] * social if (cat == 1 or cat == 2) else 0.0
    out[4] = p[17] * p[18] if (cat == 1 and vulnerable) else 0.0
    out[5] = 1.0 / p[19 + cat]
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5]


SURFACE_CHUNK = 4096  # rows per parallel chunk of _surface_kernel


@njit(cache=True, inline="always")
def _surface_row(
    k, h, status, iid, category, vulnerable, resident, grid, digital, t_created, channel,
    next_step, t_surfaced, t_ready, t_closed, participation, trust, patrol_factor, social, p,
    seed, day,
):  # fmt: skip
    """Row ``k`` of :func:`_surface_kernel` (``h``: the hazard buffer)."""
    if status[k] != LATENT:
        return
    r = resident[k]
    c = category[k]
    g = grid[k]
    tot = issue_hazards(
        c, vulnerable[k] != 0, participation[r], trust[r], patrol_factor[g], social[g], p, h
    )
    q = iid[k]
    if uniform(seed, S_SURFACE, day, q) >= 1.0 - np.exp(-tot):
        return
    j = pick(uniform(seed, S_SURFACE_CHANNEL, day, q) * tot, h, 6)
    hour = p[23] + (p[24] - p[23]) * uniform(seed, S_SURFACE_HOUR, day, q)
    t = max(24.0 * day + hour, t_created[k])
    if j == 5:
        status[k] = ABANDONED
        t_closed[k] = t
        return
    if j == 0:
        v = uniform(seed, S_SURFACE_SUB, day, q)
        if digital[k] and v < p[25]:
            ch = CH_ONLINE
        elif c != 0 and v >= 1.0 - p[26]:
            ch = CH_GRID_REPORT
        else:
            ch = CH_HOTLINE
    elif j == 1:
        ch = CH_PATROL
    elif j == 2:
        ch = CH_VIDEO
    elif j == 3:
        ch = CH_SOCIAL
    else:
        ch = CH_MASS
    status[k] = ROUTING
    channel[k] = ch
    next_step[k] = NEXT_INTAKE
    t_surfaced[k] = t
    t_ready[k] = t


@njit(cache=True, parallel=True)
def _surface_kernel(
    status, iid, category, vulnerable, resident, grid, digital, t_created, channel, next_step,
    t_surfaced, t_ready, t_closed, participation, trust, patrol_factor, social, p, seed, day,
):  # fmt: skip
    """Surface or abandon each LATENT issue (rows are independent: parallel over chunks
    of ``SURFACE_CHUNK`` rows, each with one hazard buffer rather than one per issue).
    ``social`` is the social organisations' strength per grid."""
    n = status.shape[0]
    for b in prange((n + SURFACE_CHUNK - 1) // SURFACE_CHUNK):
        h = np.empty(6)
        for k in range(b * SURFACE_CHUNK, min(n, (b + 1) * SURFACE_CHUNK)):
            _surface_row(
                k, h, status, iid, category, vulnerable, resident, grid, digital, t_created,
                channel, next_step, t_surfaced, t_ready, t_closed, participation, trust,
                patrol_factor, social, p, seed, day,
            )  # fmt: skip


@dataclass(frozen=True, eq=False)
class Params:
    """Surfacing parameters, built once from the scenario.

    Attributes
    ----------
    packed : float64[27]
        The hazards' parameters in the layout :func:`issue_hazards` reads
        (:func:`pack_surface_params`).
    workers_per_grid, patrol_hours_per_day : float
        Grid workers per grid (:func:`sim.pools.workers_per_grid`: a beat's workers over
        its grids), ``levers.capability.patrol_hours_per_day``. Workers per grid is a
        float array [n_grids] where counties have added workers
        (:func:`sim.pools.grid_workers`).
    workers_per_beat : float
        ``levers.capability.workers_per_grid``: the workers sharing a beat's queue (per
        grid, its beat's, where counties have added workers).
    patrol_load_stop : float
        ``surfacing.patrol_load_stop``: queued cases per worker at which patrols stop.
    social_strength : float or float array [n_grids]
        Social organisations' strength S (:func:`sim.pools.social_org_strength`); per grid,
        its county's, where counties have their own budget
        (:func:`sim.pools.social_strength_by_grid`).
    """

    packed: np.ndarray
    workers_per_grid: float | np.ndarray
    patrol_hours_per_day: float
    patrol_load_stop: float
    workers_per_beat: float | np.ndarray
    social_strength: float | np.ndarray

    @classmethod
    def from_scenario(cls, sc) -> Params:
        from sim.pools import social_org_strength, workers_per_grid

        return cls(
            packed=pack_surface_params(sc, social_org_strength(sc)),
            workers_per_grid=workers_per_grid(sc),
            patrol_hours_per_day=sc.levers.capability.patrol_hours_per_day,
            patrol_load_stop=sc.surfacing.patrol_load_stop,
            workers_per_beat=float(sc.levers.capability.workers_per_grid),
            social_strength=social_org_strength(sc),
        )


def pack_surface_params(scenario, social_strength: float) -> np.ndarray:
    """Pack the surfacing parameters and levers into the float array the kernel reads."""
    s = scenario.surfacing
    lv = scenario.levers
    p = np.zeros(27)
    p[0:4] = s.report_hazard.as_tuple()
    p[4:8] = s.patrol_detection.as_tuple()
    p[8:12] = s.video_detection.as_tuple()
    p[12] = s.video_coverage_general
    p[13] = lv.community.video_coverage_vulnerable
    p[14] = lv.data.data_sharing
    p[15] = s.social_org_detection
    p[16] = social_strength
    p[17] = s.mass_org_detection
    p[18] = lv.system.mass_org_push
    p[19:23] = s.hidden_patience_days.as_tuple()
    p[23], p[24] = s.report_hours
    p[25] = s.online_share_digital
    p[26] = s.to_grid_worker_share
    return p


def patrol_hours(queue_len, grid_pool, patrol_mult, p: Params) -> np.ndarray:
    """Per grid: the day's patrol hours of one worker, before key-person visits.

    Patrol hours shrink linearly with the grid pool's queue per worker and stop at
    ``surfacing.patrol_load_stop`` queued cases per worker; ``patrol_mult`` is the early
    warning's redeployment of patrol hours toward risky grids (:mod:`sim.kernels.warning`).
    """
    queue = queue_len[grid_pool]  # the beat's queue, shared by the beat's workers
    load = np.clip(1.0 - queue / (p.patrol_load_stop * p.workers_per_beat), 0.0, 1.0)
    return p.patrol_hours_per_day * load * patrol_mult


def patrol_factor(
    queue_len, grid_pool, patrol_mult, grid_start, p: Params, visit_hours=None
) -> np.ndarray:
    """Per grid: effective patrol hours × workers × 1,000 / residents (load-dependent).

    The hours are :func:`patrol_hours` less ``visit_hours`` (per worker, per grid: the
    hours today's key-person visits took from patrols, :mod:`sim.kernels.keyperson`),
    never below 0.
    """
    hours = patrol_hours(queue_len, grid_pool, patrol_mult, p)
    if visit_hours is not None:
        hours = np.maximum(hours - visit_hours, 0.0)
    n_g = np.diff(grid_start).astype(np.float64)
    return hours * p.workers_per_grid * 1000.0 / np.maximum(n_g, 1.0)


def surface_step(
    issues, city, residents, pools, queue_len, patrol_mult, p: Params, seed: int, day: int,
    visit_hours=None,
):  # fmt: skip
    """Stage 2: surface or abandon today the hidden issues in ``issues``.

    ``queue_len`` is yesterday's queue per pool after service (load-dependent patrols),
    ``patrol_mult`` the early warning's patrol multiplier per grid, ``visit_hours`` the
    hours per worker today's key-person visits took from each grid's patrols (None:
    none); residents' participation and trust come from ``residents``
    (:class:`sim.city.Residents`), grid sizes from ``city``.
    """
    t = issues
    patrol = patrol_factor(queue_len, pools.grid_pool, patrol_mult, city.grid_start, p, visit_hours)
    social = np.broadcast_to(np.asarray(p.social_strength, dtype=np.float64), patrol.shape)
    _surface_kernel(
        t.status, t.iid, t.category, t.vulnerable, t.resident, t.grid, t.digital, t.t_created,
        t.channel, t.next_step, t.t_surfaced, t.t_ready, t.t_closed,
        residents.participation, residents.trust, patrol, np.ascontiguousarray(social), p.packed,
        seed, day,
    )  # fmt: skip
