"""Plain-Python twin of :func:`sim.kernels.generate.generate_step` (one loop per resident).

Each resident, in row order, draws whether an issue arises today (probability
``1 − exp(−Σ_c λ_c)``) and, if so, its category in proportion to the rates λ_c. The new
issues are appended in resident order; each then draws its sector, its Kumaraswamy
severity and its hour of the day from counters keyed by its issue id.
"""

from __future__ import annotations

import math

import numpy as np

from sim.issues import LATENT
from sim.rng import (
    S_GEN_CATEGORY,
    S_GEN_HOUR,
    S_GEN_SECTOR,
    S_GEN_SEVERITY,
    S_GENERATE,
    uniform_py,
)


def daily_rates(hardship, vulnerable, urban, g, kappa: float = 1.0) -> list[float]:
    """λ_c for one resident: [enquiry, need, dispute, risk] per day (κ: grid hot spot)."""
    rates = g.rates
    m_hardship = max(0.0, 1.0 + g.k_h * (hardship - g.h_mean))
    return [
        float(rates[0]),
        float(rates[1]) * m_hardship * (g.v_mult if vulnerable else 1.0),
        float(rates[2]) * m_hardship * kappa,
        float(rates[3]) * (1.0 if urban else g.rural_mult),
    ]


def generate_step(issues, city, residents, p, seed: int, day: int, scratch=None) -> int:
    """Append today's new issues to ``issues``; returns how many arose (``scratch`` unused)."""
    g, tab = p, issues

    arising: list[tuple[int, int]] = []  # (resident, category)
    for i in range(city.n_residents):
        lam = daily_rates(
            float(city.hardship[i]),
            city.vulnerability[i] != 0,
            int(city.urban[i]),
            g,
            float(g.kappa[g.kappa_unit[i]]),
        )
        total = lam[0] + lam[1] + lam[2] + lam[3]
        if total <= 0.0:
            continue
        if uniform_py(seed, S_GENERATE, day, i) >= 1.0 - math.exp(-total):
            continue
        u = uniform_py(seed, S_GEN_CATEGORY, day, i) * total
        category, acc = 0, lam[0]
        while category < 3 and u >= acc:
            category += 1
            acc += lam[category]
        arising.append((i, category))

    if not arising:
        return 0
    tab.reserve(len(arising))
    col = tab.full
    sector_cum = g.sector_cum
    n_sectors = sector_cum.shape[1]
    a, b = g.sev_a, g.sev_b
    for i, category in arising:
        k, iid = tab.n, tab.next_iid
        u_sector = uniform_py(seed, S_GEN_SECTOR, day, iid)
        sector = 0
        while sector < n_sectors - 1 and u_sector >= sector_cum[category, sector]:
            sector += 1
        u_sev = uniform_py(seed, S_GEN_SEVERITY, day, iid)
        severity = (1.0 - (1.0 - u_sev) ** (1.0 / b)) ** (1.0 / a)  # Kumaraswamy inverse CDF
        hour = 24.0 * uniform_py(seed, S_GEN_HOUR, day, iid)

        col("iid")[k] = iid
        col("resident")[k] = i
        col("grid")[k] = city.grid[i]
        col("county")[k] = city.county[i]
        col("category")[k] = category
        col("sector")[k] = sector
        col("severity")[k] = severity
        col("vulnerable")[k] = 1 if city.vulnerability[i] != 0 else 0
        col("urban")[k] = city.urban[i]
        col("digital")[k] = residents.digital[i]
        col("status")[k] = LATENT
        col("channel")[k] = -1
        col("next_step")[k] = 0
        col("pool")[k] = -1
        col("tier")[k] = 0
        col("transfers")[k] = 0
        col("level")[k] = 0
        col("collective")[k] = 0
        col("diverted")[k] = 0
        col("t_created")[k] = 24.0 * day + hour
        for name in ("t_surfaced", "t_ready", "t_start", "t_done", "t_closed"):
            col(name)[k] = np.nan
        col("busy_hours")[k] = 0.0
        tab.n += 1
        tab.next_iid += 1
    return len(arising)
