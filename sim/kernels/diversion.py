"""诉源治理 — a dispute about to go to court may first be diverted to online mediation.

When the online platform (苏解纷) is on, a dispute that would be filed in court is
diverted once to pre-filing mediation on the platform (诉前调解) — if its parties take it
up and the platform can take it — and only if that fails does it go to court; otherwise
it goes to court at once. Used by the routing, handling and escalation stages wherever a
dispute leaves for litigation.

**Voluntary uptake.** Pre-filing mediation needs the parties' consent. The parties of
dispute k take it up with probability

    u_k = a_k · w · s_k,

with a_k the resident's ability to use the platform (0 without digital access — CNNIC:
internet penetration 57.6 % rural, 43.2 % among the 60+ at Dec 2021 [2]_, carried by
``Residents.digital``; × ``elderly_ability`` for an elderly resident with access: 46.2 %
of senior netizens can find information online on their own [2]_), w = ``uptake_digital``
the share of court-bound disputes that enter pre-filing mediation (2023: 1,747万 of about
2,988万, derived from [3]_) and s_k = ``severe_uptake_factor`` for a severe dispute, else 1
(an assumption). The draw is a pure function of (seed, issue): a dispute that declines is
marked once (``diverted = DECLINED``) and goes to court directly whenever it gets there
(:func:`mark_declined`, called by routing and escalation before any dispute can leave).

**Capacity.** The platform accepts a diversion only while its backlog, the queued cases
÷ (its slots × cases a slot finishes per day), is below ``max_backlog_days``
(:func:`platform_accepts`). **Settlement.** The platform settles a diverted dispute with
``handling.pools.online.resolve_prob.dispute`` (68.9 %, 2023 court pre-filing mediation,
[3]_); the unsettled go on to court (:mod:`sim.kernels.handle`).

References
----------
1. Supreme People's Court (2021). Opinions on deepening the reform of the diversified
   dispute resolution mechanism and "source governance of litigation" (诉源治理).
.. [2] CNNIC (2022). 第49次《中国互联网络发展状况统计报告》 (49th Statistical Report on
   Internet Development in China).
.. [3] 法院信息化蓝皮书 (2024); Supreme People's Court press conference, 14 Jan 2024:
   2023 诉前调解成功 1,204万件, 40.3 % of civil and administrative disputes brought to court.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.city.population import AGE_ELDERLY
from sim.issues import CAT_DISPUTE, LEVEL_LITIGATION, LITIGATED, NEXT_DIVERT, ROUTING
from sim.pools import K_ONLINE
from sim.rng import S_DIVERT_UPTAKE, uniform

# Values of IssueTable.diverted
UNDECIDED, DIVERTED, DECLINED = 0, 1, 2


@njit(cache=True)
def go_to_court(k, t, status, level, next_step, t_ready, t_closed, diverted, platform_open):
    """Row k leaves for court at hour t, unless it can still be diverted online.

    Returns True when the dispute was litigated, False when it was diverted.
    """
    if platform_open and diverted[k] == UNDECIDED:
        diverted[k] = DIVERTED
        status[k] = ROUTING
        next_step[k] = NEXT_DIVERT
        t_ready[k] = t
        return False
    status[k] = LITIGATED
    level[k] = LEVEL_LITIGATION
    t_closed[k] = t
    return True


@njit(cache=True)
def uptake_probability(digital, elderly, severe, w, elderly_ability, severe_factor):
    """u_k of the module docstring for one dispute."""
    if digital == 0:
        return 0.0
    u = w
    if elderly:
        u *= elderly_ability
    if severe:
        u *= severe_factor
    return u


@njit(cache=True, parallel=True)
def _mark_declined_kernel(
    category, diverted, iid, resident, digital, severity, age_group, w, elderly_ability,
    severe_factor, sev_severe, seed,
):  # fmt: skip
    for k in prange(category.shape[0]):
        if category[k] != CAT_DISPUTE or diverted[k] != UNDECIDED:
            continue
        u = uptake_probability(
            digital[k], age_group[resident[k]] == AGE_ELDERLY, severity[k] > sev_severe, w,
            elderly_ability, severe_factor,
        )  # fmt: skip
        if uniform(seed, S_DIVERT_UPTAKE, 0, iid[k]) >= u:
            diverted[k] = DECLINED


def mark_declined(issues, age_group: np.ndarray, p, seed: int) -> None:
    """Mark the undecided disputes of ``issues`` whose parties decline online mediation
    (``diverted = DECLINED``); ``p`` has ``uptake_digital``, ``elderly_ability``,
    ``severe_uptake_factor`` and ``sev_severe``. Idempotent: the draw depends on the issue
    only."""
    t = issues
    if t.n == 0:
        return
    _mark_declined_kernel(
        t.category, t.diverted, t.iid, t.resident, t.digital, t.severity, age_group,
        p.uptake_digital, p.elderly_ability, p.severe_uptake_factor, p.sev_severe, seed,
    )  # fmt: skip


def platform_accepts(pools, queue_len: np.ndarray, max_backlog_days: float) -> bool:
    """Whether the online platform is on and its backlog is below ``max_backlog_days``:
    queued cases ÷ (slots × disputes a slot finishes per day)."""
    p = pools.online_pool
    servers = int(pools.servers[p])
    if servers <= 0:
        return False
    duty = float(pools.duty[K_ONLINE, 1] - pools.duty[K_ONLINE, 0])
    per_day = servers * duty / max(float(pools.service_hours[K_ONLINE, CAT_DISPUTE]), 1e-9)
    return float(queue_len[p]) < max_backlog_days * per_day
