"""Plain-Python twin of :func:`sim.kernels.diversion.go_to_court` (诉源治理).

A dispute about to go to court is, once, diverted to pre-filing mediation on the online
platform when the platform is open; otherwise (or the second time) it is litigated.
"""

from __future__ import annotations

from sim.issues import LEVEL_LITIGATION, LITIGATED, NEXT_DIVERT, ROUTING


def go_to_court(t, k: int, when: float, platform_open: bool) -> bool:
    """Row k of issue table t leaves for court at hour ``when``, or is diverted online.

    Returns True when the dispute was litigated, False when it was diverted.
    """
    if platform_open and t.diverted[k] == 0:
        t.diverted[k] = 1
        t.status[k] = ROUTING
        t.next_step[k] = NEXT_DIVERT
        t.t_ready[k] = when
        return False
    t.status[k] = LITIGATED
    t.level[k] = LEVEL_LITIGATION
    t.t_closed[k] = when
    return True


def platform_open(state) -> bool:
    """Whether the online mediation platform (苏解纷) has any slot."""
    return bool(state.pools.servers[state.pools.online_pool] > 0)
