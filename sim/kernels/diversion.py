"""诉源治理 — a dispute about to go to court is first diverted to online mediation.

When the online platform (苏解纷) is on, a dispute that would be filed in court is
diverted once to pre-filing mediation on the platform (诉前调解; court pre-filing
mediation succeeds in about 70 % of cases, calibration.md); only if that fails does it
go to court. Without the platform it goes to court at once. Used by the routing,
handling and escalation stages wherever a dispute leaves for litigation.

References
----------
1. Supreme People's Court (2021). Opinions on deepening the reform of the diversified
   dispute resolution mechanism and "source governance of litigation" (诉源治理).
"""

from __future__ import annotations

from numba import njit

from sim.issues import LEVEL_LITIGATION, LITIGATED, NEXT_DIVERT, ROUTING


@njit(cache=True)
def go_to_court(k, t, status, level, next_step, t_ready, t_closed, diverted, platform_open):
    """Row k leaves for court at hour t, unless it can still be diverted online.

    Returns True when the dispute was litigated, False when it was diverted.
    """
    if platform_open and diverted[k] == 0:
        diverted[k] = 1
        status[k] = ROUTING
        next_step[k] = NEXT_DIVERT
        t_ready[k] = t
        return False
    status[k] = LITIGATED
    level[k] = LEVEL_LITIGATION
    t_closed[k] = t
    return True
