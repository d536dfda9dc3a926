"""Plain-Python twin of :mod:`sim.kernels.warning` (loops over grids and days).

Risk of a grid = weighted sum of its observed signals per resident (known open disputes,
repeat callers, petitions, surge, past incidents), each divided by its city mean per
resident. The ⌈f·G⌉ riskiest
grids above average are flagged; a share β of all patrol hours goes to them in
proportion to hours × risk. A flag is a hit if its grid has an incident within the
next H days; an incident is warned if its grid was flagged within the H days before.
"""

from __future__ import annotations

import math


def risk_indicator(signals, n_residents, weights):
    """``signals[k][g]``: observed count k of grid g."""
    pop = 0.0
    for g in range(len(n_residents)):
        pop += n_residents[g]
    means = []
    for row in signals:
        s = 0.0
        for g in range(len(n_residents)):
            s += row[g]
        means.append(s / pop if pop > 0 else 0.0)
    risk = []
    for g in range(len(n_residents)):
        r = 0.0
        if n_residents[g] > 0:
            for k, row in enumerate(signals):
                if means[k] > 0:
                    r += weights[k] * (row[g] / n_residents[g]) / means[k]
        risk.append(r)
    return risk


def flag_grids(risk, flag_share):
    n_flag = math.ceil(flag_share * len(risk) - 1e-9)
    order = sorted(range(len(risk)), key=lambda g: (-risk[g], g))
    flags = [0] * len(risk)
    for g in order[:n_flag]:
        if risk[g] > 1.0:
            flags[g] = 1
    return flags


def patrol_multiplier(risk, flags, hours, beta):
    total = sum(hours)
    hot = 0.0
    for g in range(len(risk)):
        if flags[g]:
            hot += hours[g] * risk[g]
    if hot <= 0.0:
        return [1.0] * len(risk)
    return [
        (1.0 - beta) + (beta * total * risk[g] / hot if flags[g] else 0.0) for g in range(len(risk))
    ]


def warning_scores(flags, incidents, horizon):
    """(precision, recall, n_flags, n_hits, n_incidents, n_warned), flag by flag."""
    n_days, n_grids = len(flags), len(flags[0])
    n_flags = n_hits = n_inc = n_warned = 0
    for d in range(n_days - horizon):
        for g in range(n_grids):
            if flags[d][g]:
                n_flags += 1
                if any(incidents[e][g] > 0 for e in range(d + 1, d + horizon + 1)):
                    n_hits += 1
    for d in range(horizon, n_days):
        for g in range(n_grids):
            if incidents[d][g] > 0:
                n_inc += incidents[d][g]
                if any(flags[e][g] for e in range(d - horizon, d)):
                    n_warned += incidents[d][g]
    precision = n_hits / n_flags if n_flags else math.nan
    recall = n_warned / n_inc if n_inc else math.nan
    return precision, recall, n_flags, n_hits, n_inc, n_warned
