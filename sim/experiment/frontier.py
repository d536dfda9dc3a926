"""Outcomes against cost (issue 12): which way is better, the Pareto set, equal-cost twins.

A configuration that spends more can look better only because it spends more. The report
therefore plots each headline outcome against ``cost_per_resident`` (yuan per
resident-year, :mod:`sim.kernels.costs`) and marks the Pareto-efficient scenarios, and it
pairs each configuration with its equal-cost twin (``<name>_equal_cost``: the baseline's
budget re-spent by the configuration's logic, ``scenarios/*_equal_cost.toml``).

Pareto efficiency here is the usual one on two criteria, cost (lower is better) and the
outcome (in its own direction, :data:`METRIC_DIRECTION`): a scenario is dominated when
another is at most as costly and at least as good, and strictly better in one of the
two; the efficient set is the scenarios no other dominates. Two scenarios with exactly the
same cost and outcome do not dominate each other (both are efficient). The set is of the
means over replications: it does not account for their uncertainty, which the figure's
error bars show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

COST_METRIC = "cost_per_resident"
EQUAL_COST_SUFFIX = "_equal_cost"

# +1: higher is better, −1: lower is better. The one place that says which way an outcome
# improves (the frontier, the equal-cost table); metrics not listed have no direction.
METRIC_DIRECTION: dict[str, int] = {
    "resolution_rate": +1,
    "pre_litigation_share": +1,
    "participation_rate": +1,
    "trust_mean": +1,
    "gain_index": +1,
    "happiness_index": +1,
    "security_index": +1,
    "mediation_success": +1,
    "p90_resolution_days": -1,
    "mean_resolution_days": -1,
    "median_resolution_days": -1,
    "mean_detection_days": -1,
    "escalations": -1,
    "escalations_petition": -1,
    "escalations_litigation": -1,
    "escalations_collective": -1,
    "urban_rural_gap": -1,
    "misuse_incidents": -1,
    "unrest_incidents": -1,
    "cost_yuan": -1,
    "cost_per_resident": -1,
}

# the outcomes the report draws against cost (the README's headline outcomes)
FRONTIER_METRICS = (
    "gain_index",
    "happiness_index",
    "security_index",
    "resolution_rate",
    "p90_resolution_days",
    "escalations",
)


def direction(metric: str) -> int:
    """+1 if higher values of ``metric`` are better, −1 if lower ones are.

    Raises ``ValueError`` for a metric without a direction (see :data:`METRIC_DIRECTION`).
    """
    try:
        return METRIC_DIRECTION[metric]
    except KeyError:
        raise ValueError(
            f"metric {metric!r} has no direction (better = higher or lower); known: "
            f"{', '.join(sorted(METRIC_DIRECTION))}"
        ) from None


def pareto_efficient(
    costs: Sequence[float], values: Sequence[float], better: int = +1
) -> list[bool]:
    """For each (cost, value) point, whether it is Pareto-efficient.

    Lower cost is better; a higher value is better when ``better`` is +1, a lower one when
    it is −1. Point i is dominated when some j has cost_j ≤ cost_i and value_j at least as
    good, with one of the two strict; identical points do not dominate each other. Points
    with a non-finite cost or value are never efficient and dominate nothing.
    """
    if better not in (1, -1):
        raise ValueError(f"better must be +1 or -1. Got {better!r} instead.")
    if len(costs) != len(values):
        raise ValueError(f"costs and values differ in length: {len(costs)} vs {len(values)}")
    pts = [
        (float(c), better * float(v)) if math.isfinite(c) and math.isfinite(v) else None
        for c, v in zip(costs, values, strict=True)
    ]
    out = []
    for i, p in enumerate(pts):
        if p is None:
            out.append(False)
            continue
        dominated = any(
            q is not None
            and j != i
            and q[0] <= p[0]
            and q[1] >= p[1]
            and (q[0] < p[0] or q[1] > p[1])
            for j, q in enumerate(pts)
        )
        out.append(not dominated)
    return out


def _nan(v: Any) -> float:
    return math.nan if v is None else float(v)


def frontier_points(rows: Sequence[Mapping[str, Any]], metric: str) -> list[dict[str, Any]]:
    """One point per scenario: its outcome and cost (mean, 95 % CI) and whether efficient.

    ``rows`` are the compare statistics rows (``stats.compare_stats``); scenarios in their
    order. Empty if ``metric`` or the cost is not among them.
    """
    by = {(r["scenario"], r["metric"]): r for r in rows}
    labels = [r["scenario"] for r in rows if r["metric"] == metric]
    if not labels or not any(r["metric"] == COST_METRIC for r in rows):
        return []
    pts = []
    for lab in labels:
        y, x = by[(lab, metric)], by.get((lab, COST_METRIC), {})
        pts.append(
            {
                "scenario": lab,
                "value": _nan(y.get("mean")),
                "value_low": _nan(y.get("ci_low")),
                "value_high": _nan(y.get("ci_high")),
                "cost": _nan(x.get("mean")),
                "cost_low": _nan(x.get("ci_low")),
                "cost_high": _nan(x.get("ci_high")),
            }
        )
    eff = pareto_efficient([p["cost"] for p in pts], [p["value"] for p in pts], direction(metric))
    for p, e in zip(pts, eff, strict=True):
        p["efficient"] = e
    return pts


def frontier_line(points: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The efficient points in the order the frontier line joins them: by cost."""
    return sorted((p for p in points if p["efficient"]), key=lambda p: (p["cost"], p["value"]))


def twin_pairs(labels: Sequence[str]) -> list[tuple[str, str]]:
    """(configuration, its equal-cost twin) for every configuration whose twin is present."""
    present = set(labels)
    return [
        (lab, lab + EQUAL_COST_SUFFIX)
        for lab in labels
        if not lab.endswith(EQUAL_COST_SUFFIX) and lab + EQUAL_COST_SUFFIX in present
    ]


def survives(config: Mapping[str, Any], twin: Mapping[str, Any], alpha: float = 0.05) -> str:
    """Whether a configuration's effect vs the reference holds for its equal-cost twin.

    From the paired rows of both (``diff`` and the unadjusted ``p`` dual to the CI shown):
    ``"holds"`` (both significant, same sign), ``"reversed"`` (both significant, opposite
    signs), ``"lost"`` (the configuration's effect is significant, the twin's is not),
    ``"appears"`` (only the twin's is), ``""`` (neither, or no comparison).
    """

    def sig(r: Mapping[str, Any]) -> int:
        p, d = r.get("p", r.get("p_holm")), r.get("diff")
        if p is None or d is None or not (math.isfinite(p) and math.isfinite(d)) or p >= alpha:
            return 0
        return 1 if d > 0 else -1 if d < 0 else 0

    a, b = sig(config), sig(twin)
    if a and b:
        return "holds" if a == b else "reversed"
    if a:
        return "lost"
    if b:
        return "appears"
    return ""
