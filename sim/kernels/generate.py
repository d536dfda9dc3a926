"""Stage 1 — issues arise: enquiries, needs, disputes and safety risks per resident-day.

Each resident has a daily Poisson rate per category (Stage 1 of DESIGN.md):

    λ_c(i) = r_c / 365 · m_c(i),
    m_need(i)    = max(0, 1 + k_H (H_i − H̄)) · (v if vulnerable(i) else 1),
    m_dispute(i) = max(0, 1 + k_H (H_i − H̄)) · κ_g,
    m_risk(i)    = ρ if rural(i) else 1,       m_enquiry = 1,

with H the resident's hardship (Epstein 2002) and κ_b the dispute hot-spot multiplier of
the resident's block (``City.block_start``, :func:`dispute_hotspots`; fixed whatever the
grid drawing): disputes concentrate in a few places
(construction and demolition sites, industrial parks, contested land), as crime
concentrates in a few micro-places (Sherman, Gartin & Buerger 1989; Weisburd 2015).
At most one issue arises per resident-day
(probability 1 − exp(−Σ_c λ_c)), its category drawn in proportion to λ_c — a departure
from independent Poisson streams that changes rates by O(λ²) ≈ 10⁻⁵ per day. Severity is
Kumaraswamy(a, b), a Beta-like law with a closed-form inverse (Kumaraswamy 1980).

References
----------
1. Epstein, J. M. (2002). Modeling civil violence: an agent-based computational approach.
   PNAS 99(suppl 3), 7243–7250. doi:10.1073/pnas.092080199
2. Kumaraswamy, P. (1980). A generalized probability density function for double-bounded
   random processes. Journal of Hydrology 46(1–2), 79–88. doi:10.1016/0022-1694(80)90036-0
3. Sherman, L. W., Gartin, P. R., & Buerger, M. E. (1989). Hot spots of predatory crime:
   routine activities and the criminology of place. Criminology 27(1), 27–56.
   doi:10.1111/j.1745-9125.1989.tb00862.x
4. Weisburd, D. (2015). The law of crime concentration and the criminology of place.
   Criminology 53(2), 133–157. doi:10.1111/1745-9125.12070
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sim.issues import LATENT
from sim.rng import (
    S_GEN_CATEGORY,
    S_GEN_HOUR,
    S_GEN_SECTOR,
    S_GEN_SEVERITY,
    S_GENERATE,
    STREAM_HOTSPOTS,
    hash4,
    pick,
    uniform,
)
from sim.scenario.schema import CATEGORIES_EN


@dataclass(frozen=True, eq=False)
class Params:
    """Generation parameters, built once from the scenario and the city.

    Attributes
    ----------
    rates : float64[4]
        r_c / 365, daily base rate per category (``generation.rate_per_resident_year``).
    h_mean : float
        H̄, the city's mean hardship.
    k_h, v_mult, rural_mult : float
        k_H, v, ρ (``generation.hardship_multiplier``, ``vulnerable_multiplier``,
        ``rural_risk_multiplier``).
    sector_cum : float64[4, n_sectors]
        Cumulative sector mix per category (``handling.sector_mix``).
    sev_a, sev_b : float
        Kumaraswamy severity shape (``generation.severity_a``, ``severity_b``).
    kappa : float64[n_blocks]
        Dispute hot-spot multipliers κ_b of the city's blocks (:func:`dispute_hotspots`):
        hot spots are places where residents live, not cells of the grid drawing, so
        redrawing grids leaves them where they are (issue 12).
    kappa_unit : int32[n_residents]
        The block of each resident (the index into ``kappa``).
    screen : uint16[n_residents]
        Each resident's pre-screen threshold (:func:`screen_thresholds`): her rates do not
        change during a run (hardship, vulnerability, place and hot spots are the city's),
        so the daily sweep only draws and compares.
    """

    rates: np.ndarray
    h_mean: float
    k_h: float
    v_mult: float
    rural_mult: float
    sector_cum: np.ndarray
    sev_a: float
    sev_b: float
    kappa: np.ndarray
    kappa_unit: np.ndarray
    screen: np.ndarray

    @classmethod
    def from_scenario(cls, sc, city, seed: int) -> Params:
        """``seed`` is the model's: the dispute hot spots belong to the city it built."""
        g = sc.generation
        mix = np.array([sc.handling.sector_mix[c] for c in CATEGORIES_EN])
        cum = np.cumsum(mix, axis=1)
        cum[:, -1] = 1.0
        rates = np.asarray(g.rate_per_resident_year.as_tuple()) / 365.0
        h_mean = float(city.hardship.mean(dtype=np.float64)) if city.n_residents else 0.0
        kappa = dispute_hotspots(seed, np.diff(city.block_start), g.dispute_hotspot_cv)
        unit = np.repeat(np.arange(city.n_blocks, dtype=np.int32), np.diff(city.block_start))
        screen = screen_thresholds(
            city.hardship, city.vulnerability, city.urban, unit, kappa, rates, h_mean,
            g.hardship_multiplier, g.vulnerable_multiplier, g.rural_risk_multiplier,
        )  # fmt: skip
        return cls(
            rates=rates,
            h_mean=h_mean,
            k_h=g.hardship_multiplier,
            v_mult=g.vulnerable_multiplier,
            rural_mult=g.rural_risk_multiplier,
            sector_cum=cum,
            sev_a=g.severity_a,
            sev_b=g.severity_b,
            kappa=kappa,
            kappa_unit=unit,
            screen=screen,
        )


BLOCK = 65536  # residents per block; block counts make the output order thread-independent


@njit(cache=True)
def resident_rates(
    hardship_i, vulnerable_i, urban_i, kappa_i, rates, h_mean, k_h, v_mult, rural_mult, out
):  # fmt: skip
    """Daily rates λ_c of one resident into ``out`` (length 4); returns their sum.

    ``kappa_i`` is the dispute hot-spot multiplier κ_b of the resident's block."""
    m_h = 1.0 + k_h * (hardship_i - h_mean)
    if m_h < 0.0:
        m_h = 0.0
    out[0] = rates[0]
    out[1] = rates[1] * m_h * (v_mult if vulnerable_i else 1.0)
    out[2] = rates[2] * m_h * kappa_i
    out[3] = rates[3] * (1.0 if urban_i else rural_mult)
    return out[0] + out[1] + out[2] + out[3]


# A computed 1 − exp(−t) never exceeds t by more than this slack (exp within 1 ulp):
# fl(1 − fl(e^−t)) ≤ (t + 2^−52)(1 + 2^−53) ≤ t (1 + 1e-12) + 1e-15.
_SKIP_REL = 1.0 + 1e-12
_SKIP_ABS = 1e-15


_SCREEN_BITS = 16  # the daily sweep compares the top 16 bits of the draw


@njit(cache=True, parallel=True)
def screen_thresholds(
    hardship, vulnerability, urban, grid, kappa, rates, h_mean, k_h, v_mult, rural_mult
):  # fmt: skip
    """Each resident's pre-screen threshold (uint16[n]) for :func:`_generate_kernel`.

    A resident can have an issue today only if her draw ``u`` is below
    ``T = Σλ (1 + 10⁻¹²) + 10⁻¹⁵`` (since ``1 − exp(−Σλ) ≤ Σλ``, with a rounding slack).
    With ``a`` the top 16 bits of the draw's hash, ``a · 2⁻¹⁶ ≤ u``, so ``u < T`` implies
    ``a ≤ ⌈T · 2¹⁶⌉ − 1``, the threshold returned (capped at 2¹⁶ − 1, which lets every
    draw through). The screen therefore keeps every resident the exact rule could choose,
    and a few more (at most one in ⌈T · 2¹⁶⌉, under 1 % for the calibrated rates) whom
    the exact rule then turns away: the issues drawn are the same bit for bit. ``Σλ`` is
    summed as :func:`resident_rates` sums it (same operations, same order)."""
    n = hardship.shape[0]
    out = np.empty(n, dtype=np.uint16)
    r0, r1, r2, r3 = rates[0], rates[1], rates[2], rates[3]
    top = float(2**_SCREEN_BITS)
    for i in prange(n):
        m_h = 1.0 + k_h * (hardship[i] - h_mean)
        m_h = 0.0 if m_h < 0.0 else m_h
        tot = (
            r0
            + r1 * m_h * (v_mult if vulnerability[i] != 0 else 1.0)
            + r2 * m_h * kappa[grid[i]]
            + r3 * (1.0 if urban[i] else rural_mult)
        )
        t = (tot * _SKIP_REL + _SKIP_ABS) * top
        out[i] = np.uint16(np.ceil(t) - 1.0 if t < top else top - 1.0)
    return out


@njit(cache=True, parallel=True)
def _generate_kernel(
    hardship, vulnerability, urban, grid, kappa, rates, h_mean, k_h, v_mult, rural_mult,
    screen, seed, day, hits,
):  # fmt: skip
    """Pass 1: the residents with an issue today and its category.

    Returns the number of issues per block of ``BLOCK`` residents; block b's issues are
    ``hits[lo:lo + counts[b]]`` (``lo = b · BLOCK``), each ``4 · resident + category``,
    in resident order.

    The sweep draws each resident's hash and keeps her as a candidate when its top 16
    bits pass her ``screen`` (:func:`screen_thresholds`: a superset of those who can have
    an issue, about a quarter of a percent of residents); the exact rule,
    ``u < 1 − exp(−Σλ)``, is applied to the candidates only.
    """
    n = hardship.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    counts = np.zeros(n_blocks, dtype=np.int64)
    shift = np.uint64(64 - _SCREEN_BITS)
    for b in prange(n_blocks):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        lam = np.empty(4)
        c_b = 0
        for i in range(lo, hi):
            if (hash4(seed, S_GENERATE, day, i) >> shift) > screen[i]:
                continue
            tot = resident_rates(
                hardship[i],
                vulnerability[i] != 0,
                urban[i],
                kappa[grid[i]],
                rates,
                h_mean,
                k_h,
                v_mult,
                rural_mult,
                lam,
            )
            if tot <= 0.0:
                continue
            if uniform(seed, S_GENERATE, day, i) < 1.0 - np.exp(-tot):
                c = pick(uniform(seed, S_GEN_CATEGORY, day, i) * tot, lam, 4)
                hits[lo + c_b] = 4 * i + c  # < 2³¹ for up to 5 × 10⁸ residents
                c_b += 1
        counts[b] = c_b
    return counts


@njit(cache=True, parallel=True)
def _write_kernel(
    hits, counts, offsets, base_row, base_iid, grid, county, vulnerability, urban, digital,
    sector_cum, sev_a, sev_b, seed, day,
    o_iid, o_res, o_grid, o_county, o_cat, o_sector, o_sev, o_vul, o_urb, o_dig, o_status,
    o_channel, o_pool, o_tcreated,
):  # fmt: skip
    """Pass 2: write the new issues as rows, block by block in resident order."""
    n_blocks = counts.shape[0]
    for b in prange(n_blocks):
        k = base_row + offsets[b]
        for j in range(b * BLOCK, b * BLOCK + counts[b]):
            i = hits[j] // 4
            c = hits[j] % 4
            iid = base_iid + k - base_row
            o_iid[k] = iid
            o_res[k] = i
            o_grid[k] = grid[i]
            o_county[k] = county[i]
            o_cat[k] = c
            u = uniform(seed, S_GEN_SECTOR, day, iid)
            s = 0
            while s < sector_cum.shape[1] - 1 and u >= sector_cum[c, s]:
                s += 1
            o_sector[k] = s
            u = uniform(seed, S_GEN_SEVERITY, day, iid)
            o_sev[k] = (1.0 - (1.0 - u) ** (1.0 / sev_b)) ** (1.0 / sev_a)
            o_vul[k] = 1 if vulnerability[i] != 0 else 0
            o_urb[k] = urban[i]
            o_dig[k] = digital[i]
            o_status[k] = LATENT
            o_channel[k] = -1
            o_pool[k] = -1
            o_tcreated[k] = 24.0 * day + 24.0 * uniform(seed, S_GEN_HOUR, day, iid)
            k += 1


def generate_step(issues, city, residents, p: Params, seed: int, day: int, hits: np.ndarray) -> int:
    """Stage 1: append today's new issues to ``issues``; returns how many arose.

    Parameters
    ----------
    issues : sim.issues.IssueTable
        Rows are appended.
    city : sim.city.City
        Residents' hardship, vulnerability, urban/rural, grid and county.
    residents : sim.city.Residents
        Residents' digital access (after inclusion).
    p : Params
    seed, day : int
    hits : int32[n_residents]
        A work buffer (its contents are not used afterwards).
    """
    city, g, tab = city, p, issues
    counts = _generate_kernel(
        city.hardship, city.vulnerability, city.urban, g.kappa_unit, g.kappa, g.rates,
        g.h_mean, g.k_h, g.v_mult, g.rural_mult, g.screen, seed, day, hits,
    )  # fmt: skip
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    n_new = int(offsets[-1])
    if n_new == 0:
        return 0
    tab.reserve(n_new)
    f = tab.full
    _write_kernel(
        hits, counts, offsets, tab.n, tab.next_iid, city.grid, city.county,
        city.vulnerability, city.urban, residents.digital, g.sector_cum, g.sev_a, g.sev_b,
        seed, day,
        f("iid"), f("resident"), f("grid"), f("county"), f("category"), f("sector"),
        f("severity"), f("vulnerable"), f("urban"), f("digital"), f("status"), f("channel"),
        f("pool"), f("t_created"),
    )  # fmt: skip
    # Columns not written by the kernel start from zero for the new rows.
    sl = slice(tab.n, tab.n + n_new)
    for name in ("next_step", "tier", "transfers", "level", "collective", "diverted", "busy_hours"):
        f(name)[sl] = 0
    for name in ("t_surfaced", "t_ready", "t_start", "t_done", "t_closed"):
        f(name)[sl] = np.nan
    tab.n += n_new
    tab.next_iid += n_new
    return n_new


def dispute_hotspots(seed: int, grid_sizes: np.ndarray, cv: float) -> np.ndarray:
    """Per-unit (block) dispute-rate multipliers κ: Gamma with mean 1 and coefficient of
    variation cv; ``grid_sizes`` are the units' residents.

    κ_g ~ Gamma(shape 1/cv², scale cv²), drawn once per (seed, city) from its own stream,
    then divided by their resident-weighted mean so the city's dispute rate stays the
    calibrated one. cv = 0 gives κ ≡ 1 (no concentration). With cv = 1.5 the 5 % of grids
    with the highest κ hold about 30 % of the disputes (a "law of concentration",
    Weisburd 2015, milder than for crime at street segments).

    Parameters
    ----------
    seed : int
        Scenario seed (the same grids are hot spots in every scenario with this seed).
    grid_sizes : int array [n_grids]
        Residents per grid.
    cv : float
        ``generation.dispute_hotspot_cv``.

    Returns
    -------
    float64[n_grids]
    """
    n = np.asarray(grid_sizes, dtype=np.float64)
    if cv <= 0.0 or n.shape[0] == 0:
        return np.ones(n.shape[0])
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), STREAM_HOTSPOTS]))
    shape = 1.0 / (cv * cv)
    kappa = rng.gamma(shape, 1.0 / shape, n.shape[0])
    mean = float((kappa * n).sum() / max(n.sum(), 1.0))
    return kappa / mean if mean > 0 else np.ones(n.shape[0])
