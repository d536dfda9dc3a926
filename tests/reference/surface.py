"""Plain-Python twin of :func:`sim.kernels.surface.surface_step` (one loop per hidden issue).

Every LATENT issue faces six competing daily hazards — resident report, grid patrol,
video/big data, social organisation, mass organisation, abandonment. With probability
``1 − exp(−Σh)`` one of them fires, chosen in proportion to the hazards; a resident's
report is split into online, grid worker and 12345 hotline.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

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
from sim.rng import S_SURFACE, S_SURFACE_CHANNEL, S_SURFACE_HOUR, S_SURFACE_SUB, uniform_py

ABANDON = 5  # index of the abandonment hazard
CHANNEL_OF_HAZARD = (None, CH_PATROL, CH_VIDEO, CH_SOCIAL, CH_MASS)


def patrol_factor(state, g: int) -> float:
    """Grid g: effective patrol hours × workers × 1,000 / residents (shrinks with the
    queue of the grid's beat, shared by the beat's workers)."""
    sp = state.p
    workers = float(sp.workers_per_grid)
    queue = float(state.queue_len[state.pools.grid_pool[g]])
    load = 1.0 - queue / (sp.patrol_load_stop * float(sp.workers_per_beat))
    load = min(max(load, 0.0), 1.0)
    hours = sp.patrol_hours_per_day * load * float(state.patrol_mult[g])
    if state.visit_hours is not None:  # hours today's key-person visits took
        hours = max(hours - float(state.visit_hours[g]), 0.0)
    residents = float(state.city.grid_start[g + 1] - state.city.grid_start[g])
    return hours * workers * 1000.0 / max(residents, 1.0)


def hazards(category, vulnerable, participation, trust, patrol, p) -> list[float]:
    """[report, patrol, video, social, mass, abandon] hazards of one hidden issue."""
    report_hazard = p[0:4]
    patrol_detection = p[4:8]
    video_detection = p[8:12]
    coverage_general, coverage_vulnerable, data_sharing = p[12], p[13], p[14]
    social_detection, social_strength = p[15], p[16]
    mass_detection, mass_push = p[17], p[18]
    patience_days = p[19:23]

    report = report_hazard[category] * participation * (0.5 + trust)
    by_patrol = patrol_detection[category] * patrol
    coverage = coverage_vulnerable if vulnerable else coverage_general
    video = 0.0
    if category == 3 or vulnerable:
        video = video_detection[category] * data_sharing * coverage
    social = social_detection * social_strength if category in (1, 2) else 0.0
    mass = mass_detection * mass_push if (category == 1 and vulnerable) else 0.0
    abandon = 1.0 / patience_days[category]
    return [float(x) for x in (report, by_patrol, video, social, mass, abandon)]


def surface_step(
    issues, city, residents, pools, queue_len, patrol_mult, params, seed: int, day: int,
    visit_hours=None,
):  # fmt: skip
    """Surface or abandon today the hidden issues in ``issues``."""
    state = SimpleNamespace(
        issues=issues, city=city, pools=pools, queue_len=queue_len, patrol_mult=patrol_mult,
        p=params, visit_hours=visit_hours,
    )  # fmt: skip
    t, p = issues, params.packed
    report_start, report_end = p[23], p[24]
    online_share, grid_worker_share = p[25], p[26]
    for k in range(t.n):
        if t.status[k] != LATENT:
            continue
        r = int(t.resident[k])
        category = int(t.category[k])
        h = hazards(
            category,
            t.vulnerable[k] != 0,
            float(residents.participation[r]),
            float(residents.trust[r]),
            patrol_factor(state, int(t.grid[k])),
            p,
        )
        total = h[0] + h[1] + h[2] + h[3] + h[4] + h[5]
        q = int(t.iid[k])
        if uniform_py(seed, S_SURFACE, day, q) >= 1.0 - math.exp(-total):
            continue  # stays hidden today
        u = uniform_py(seed, S_SURFACE_CHANNEL, day, q) * total
        j, acc = 0, h[0]
        while j < ABANDON and u >= acc:
            j += 1
            acc += h[j]
        hour = report_start + (report_end - report_start) * uniform_py(seed, S_SURFACE_HOUR, day, q)
        when = max(24.0 * day + hour, float(t.t_created[k]))
        if j == ABANDON:
            t.status[k] = ABANDONED
            t.t_closed[k] = when
            continue
        if j == 0:  # the resident reports: online, to the grid worker, or to 12345
            v = uniform_py(seed, S_SURFACE_SUB, day, q)
            if t.digital[k] and v < online_share:
                channel = CH_ONLINE
            elif category != 0 and v >= 1.0 - grid_worker_share:
                channel = CH_GRID_REPORT
            else:
                channel = CH_HOTLINE
        else:
            channel = CHANNEL_OF_HAZARD[j]
        t.status[k] = ROUTING
        t.channel[k] = channel
        t.next_step[k] = NEXT_INTAKE
        t.t_surfaced[k] = when
        t.t_ready[k] = when
