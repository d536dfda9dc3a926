"""One whole day of a :class:`sim.model.GovernanceModel` run with the reference twins.

Same stage order and bookkeeping as the body of :meth:`GovernanceModel.step` (stage
timings, the metrics row, weekly compaction of closed issues, ``day`` and ``last_row``),
so a benchmark can time the daily step against its plain-Python twin and a test can
compare the two day by day. Mesa's own clock (``model.time``, ``model.steps``), which
Mesa's wrapper around ``step`` advances, is left alone.
"""

from __future__ import annotations

import time

from . import escalate, generate, handle, measure, route, surface


def reference_step(model) -> dict[str, float]:
    """Advance ``model`` by one day using the twins; returns that day's metrics row."""
    s = model.state
    d = model.day

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn(s, d)
        s.stage_seconds[name] += time.perf_counter() - t0
        return out

    timed("generate", generate.generate_step)
    timed("surface", surface.surface_step)
    _, misuse = timed("route", route.route_step)
    pool_busy = timed("handle", handle.handle_step)
    esc = timed("escalate", escalate.escalate_step)
    t0 = time.perf_counter()
    counts, sums, res_days = measure.measure_step(s, d)
    city = s.city
    row = model.metrics.record(
        d,
        counts,
        sums,
        res_days,
        esc,
        misuse,
        model.staff_days_today(d),
        float(pool_busy.sum()),
        float(city.trust.mean(dtype=float)) if city.n_residents else 0.0,
        float(city.participation.mean(dtype=float)) if city.n_residents else 0.0,
        model._hardship_mean,
    )
    if d % 7 == 6:
        s.issues.compact(24.0 * (d + 1), model.issue_sink)
    s.stage_seconds["measure"] += time.perf_counter() - t0
    model.day += 1
    model.last_row = row
    return row
