"""Synthesise the scaled city from a scenario: territory, residents, social network.

:func:`build_city` turns ``scenario.city`` (census-based parameters, calibration.md) and
``scenario.scale`` into a :class:`~sim.city.population.City`: counties split into grids of
about ``levers.capability.residents_per_grid`` residents, grids grouped into communities
(villages) and towns (streets), residents in households with ages, hardship, trust and
vulnerability, and the CSR social network of :mod:`sim.city.network`.

Every random draw comes from a :class:`numpy.random.Generator` seeded by
``SeedSequence([scenario.seed, STREAM_*])``: one stream for the residents, one for the
network, one for the map points, so the same scenario gives a bit-identical city and a
change to, say, the network parameters leaves the residents unchanged.

References
----------
.. [1] Epstein, J. M. (2002). Modeling civil violence: An agent-based computational
   approach. PNAS, 99(suppl. 3), 7243-7250. doi:10.1073/pnas.092080199
   (grievance G = H (1 - L), p. 7244).
.. [2] National Bureau of Statistics of China (2021). Press conference on the main data
   of the 7th national population census, 11 May 2021: aged 60+ were 23.81 % of rural
   and 15.82 % of urban residents (ratio ≈ 1.5).
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources

import numpy as np
from matplotlib.path import Path

from sim.city.network import build_network
from sim.city.population import (
    AGE_CHILD,
    AGE_ELDERLY,
    AGE_WORKING,
    VULN_ASSISTANCE,
    VULN_ELDERLY_ALONE,
    VULN_LEFT_BEHIND,
    City,
)
from sim.city.residents import RESIDENT_STATE, Residents
from sim.errors import GovsimError
from sim.rng import STREAM_GEOGRAPHY, STREAM_NETWORK, STREAM_RESIDENTS
from sim.scenario.schema import CityParams, Scenario

__all__ = [
    "MAX_HOUSEHOLD_SIZE",
    "STREAM_GEOGRAPHY",
    "STREAM_NETWORK",
    "STREAM_RESIDENTS",
    "build_city",
    "load_county_shapes",
    "points_in_shape",
    "redraw_grids",
]

# Random streams: SeedSequence([scenario.seed, STREAM_*]), defined in the registry
# sim.rng (changing one changes every city built from it).

MAX_HOUSEHOLD_SIZE = 8
# Rural share of elderly ÷ urban share (7th census, [2]); child shares are kept equal.
RURAL_ELDERLY_RATIO = 1.5
# Beta concentrations (alpha + beta) of the resident attributes.
HARDSHIP_CONCENTRATION = 4.0
TRUST_CONCENTRATION = 10.0
PARTICIPATION_CONCENTRATION = 10.0
# Digital access of the elderly relative to others in the same (urban or rural) area.
ELDERLY_DIGITAL_FACTOR = 0.5
# Fallback map layout for counties missing from the boundary file (degrees).
_FALLBACK_CENTRE = (120.16, 33.35)  # Yancheng city centre, approx.
_FALLBACK_RADIUS = 0.5
_FALLBACK_SPREAD = 0.1

_GEOJSON = "yancheng_counties.geojson"


def build_city(scenario: Scenario) -> City:
    """Synthesise the scaled city of a scenario.

    Parameters
    ----------
    scenario : Scenario
        Uses ``city``, ``scale``, ``seed`` and ``levers.capability.residents_per_grid``.

    Returns
    -------
    City
        Residents ordered by county, town, community, grid, household.

    Raises
    ------
    GovsimError
        If the scale is so small that a county would get no resident.

    Notes
    -----
    Territory. ``n = round(total_population * scale)`` residents are shared among the
    counties by the largest-remainder method on ``population * scale``. A county with
    ``r`` residents has ``max(1, round(r / residents_per_grid))`` grids (so the grid size
    stays fixed and the number of grids scales), ``round(n_grids * urban_share)`` of them
    urban (at least one of each kind when there are two grids or more and the share is
    strictly between 0 and 1), urban grids first. Residents are split among a county's
    grids as evenly as possible. Consecutive urban (then rural) grids form communities of
    ``grids_per_community`` grids, and these form towns of ``communities_per_town``
    communities (the last ones are balanced, not left short); urban and rural grids never
    share a community or town.

    Residents. See :func:`_households` and :func:`_residents`. Hardship ``H`` is
    Beta(mean ``hardship_urban``/``hardship_rural``, concentration 4); trust (legitimacy
    ``L``) and participation are Beta(mean, concentration 10); grievance
    ``G = H (1 - L)`` (Epstein 2002 [1]_). Digital access has probability
    ``digital_access_urban``/``_rural``, halved for the elderly (not renormalised: the
    city-wide rate is below the parameter). Social-assistance recipients (救助对象) are
    drawn with probability ``assistance_rate * H / mean(H)``, so the expected rate is
    ``assistance_rate`` and rises with hardship. Left-behind children (留守儿童) are rural
    children with probability ``left_behind_rate``.

    Network. :func:`sim.city.network.build_network` with ``neighbours_in_grid`` and
    ``long_ties`` as mean degrees.
    """
    p = scenario.city
    county_population = _county_residents(p, scenario.scale)
    # residents live on fixed blocks; grids are drawn over the blocks afterwards, so
    # the residents (households, ties, hardship …) do not depend on the grid size
    territory = _territory(p, county_population, p.block_residents)

    rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, STREAM_RESIDENTS]))
    residents = _residents(rng, p, territory)

    rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, STREAM_NETWORK]))
    nbr_indptr, nbr_indices = build_network(
        rng,
        residents["household"],
        territory["grid_start"],
        p.neighbours_in_grid,
        p.long_ties,
    )

    grids = _draw_grids(
        territory["grid_start"],
        territory,
        scenario.levers.capability.residents_per_grid,
        p.rural_grid_size_ratio,
        residents["household"],
    )
    residents["grid"] = _resident_grid(grids["grid_start"])
    rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, STREAM_GEOGRAPHY]))
    grid_lon, grid_lat = _grid_points(rng, [c.name_zh for c in p.counties], grids["grid_county"])

    return City(
        county_names_zh=[c.name_zh for c in p.counties],
        county_names_en=[c.name_en for c in p.counties],
        county_population=county_population,
        **grids,
        grid_lon=grid_lon,
        grid_lat=grid_lat,
        block_start=territory["grid_start"],
        block_town=territory["grid_town"],
        block_community=territory["grid_community"],
        town_county=territory["town_county"],
        nbr_indptr=nbr_indptr,
        nbr_indices=nbr_indices,
        initial=Residents(**{k: residents.pop(k) for k in RESIDENT_STATE}),
        **residents,
    )


# --------------------------------------------------------------------------- territory


def _round_half_up(x: np.ndarray | float) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def _largest_remainder(quotas: np.ndarray, total: int) -> np.ndarray:
    """Integers summing to ``total``, each the floor or ceiling of its quota (Hamilton)."""
    base = np.floor(quotas).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(quotas - base), kind="stable")
    base[order[:short]] += 1
    return base


def _county_residents(p: CityParams, scale: float) -> np.ndarray:
    """Simulated residents per county (int64), summing to ``round(total * scale)``."""
    n = int(_round_half_up(p.total_population * scale))
    quotas = np.array([c.population for c in p.counties], dtype=np.float64) * scale
    counts = _largest_remainder(quotas * (n / quotas.sum()), n)
    if counts.min() < 1:
        c = p.counties[int(np.argmin(counts))]
        need = 1.0 / c.population
        raise GovsimError(
            f"scale = {scale} is too small: county {c.name_zh} ({c.name_en}, population "
            f"{c.population:,}) would get no resident; use scale >= {need:.2g}"
        )
    return counts


def _even_split(total: int, parts: int) -> np.ndarray:
    sizes = np.full(parts, total // parts, dtype=np.int64)
    sizes[: total % parts] += 1
    return sizes


def _chunk(n_items: int, per_chunk: int) -> tuple[np.ndarray, int]:
    """Assign ``n_items`` consecutive items to ``ceil(n / per_chunk)`` balanced chunks."""
    if n_items == 0:
        return np.zeros(0, dtype=np.int64), 0
    n_chunks = -(-n_items // per_chunk)
    return (np.arange(n_items, dtype=np.int64) * n_chunks) // n_items, n_chunks


def _territory(p: CityParams, county_population: np.ndarray, residents_per_grid: int) -> dict:
    """Grids, communities and towns of each county (see :func:`build_city`, Notes)."""
    sizes, county, urban, community, town, town_county = [], [], [], [], [], []
    n_comm = n_town = 0
    for c, spec in enumerate(p.counties):
        r = int(county_population[c])
        n_grids = max(1, int(_round_half_up(r / residents_per_grid)))
        n_urban = int(_round_half_up(n_grids * spec.urban_share))
        if n_grids >= 2 and 0.0 < spec.urban_share < 1.0:
            n_urban = min(max(n_urban, 1), n_grids - 1)
        sizes.append(_even_split(r, n_grids))
        county.append(np.full(n_grids, c))
        for is_urban, n_kind in ((1, n_urban), (0, n_grids - n_urban)):
            comm, k_comm = _chunk(n_kind, p.grids_per_community)
            comm_town, k_town = _chunk(k_comm, p.communities_per_town)
            urban.append(np.full(n_kind, is_urban))
            community.append(comm + n_comm)
            town.append(comm_town[comm] + n_town)
            town_county.append(np.full(k_town, c))
            n_comm += k_comm
            n_town += k_town
    sizes = np.concatenate(sizes)
    grid_start = np.zeros(sizes.shape[0] + 1, dtype=np.int64)
    np.cumsum(sizes, out=grid_start[1:])
    return {
        "grid_sizes": sizes,
        "grid_start": grid_start,
        "grid_county": np.concatenate(county).astype(np.int32),
        "grid_urban": np.concatenate(urban).astype(np.uint8),
        "grid_community": np.concatenate(community).astype(np.int32),
        "grid_town": np.concatenate(town).astype(np.int32),
        "town_county": np.concatenate(town_county).astype(np.int32),
    }


def _resident_grid(grid_start: np.ndarray) -> np.ndarray:
    sizes = np.diff(grid_start)
    return np.repeat(np.arange(sizes.shape[0], dtype=np.int32), sizes)


def _draw_grids(
    block_start: np.ndarray,
    blocks: dict,
    residents_per_grid: int,
    rural_ratio: float = 1.0,
    household: np.ndarray | None = None,
) -> dict:
    """Grids of about ``residents_per_grid`` residents (× ``rural_ratio`` in the
    countryside) drawn over the residents' blocks.

    Each run of consecutive blocks of one county and kind (urban or rural) — its
    residents are contiguous rows — is split as evenly as possible into
    ``max(1, round(n / size))`` grids; a grid takes the county, kind, community and town
    of the block its first resident lives in. A boundary that would cut a household is
    moved to the household's end (``household``: households never span two grids). With
    grids of the block size this gives back the blocks themselves.
    """
    county = blocks["grid_county"]
    urban = blocks["grid_urban"]
    n_blocks = county.shape[0]
    key = county.astype(np.int64) * 2 + urban
    cut = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    sizes = []
    for a, b in zip(cut[:-1], cut[1:], strict=True):
        n = int(block_start[b] - block_start[a])
        size = residents_per_grid * (1.0 if urban[a] else rural_ratio)
        sizes.append(_even_split(n, max(1, int(_round_half_up(n / size)))))
    sizes = np.concatenate(sizes) if n_blocks else np.zeros(0, dtype=np.int64)
    grid_start = np.zeros(sizes.shape[0] + 1, dtype=np.int64)
    np.cumsum(sizes, out=grid_start[1:])
    if household is not None and household.shape[0]:
        starts = np.flatnonzero(np.r_[True, household[1:] != household[:-1]])
        starts = np.r_[starts, household.shape[0]]
        grid_start[1:-1] = starts[np.searchsorted(starts, grid_start[1:-1])]
    block_of = np.searchsorted(block_start, grid_start[:-1], side="right") - 1
    return {
        "grid_start": grid_start,
        "grid_county": county[block_of].astype(np.int32),
        "grid_urban": urban[block_of].astype(np.uint8),
        "grid_community": blocks["grid_community"][block_of].astype(np.int32),
        "grid_town": blocks["grid_town"][block_of].astype(np.int32),
    }


def redraw_grids(city: City, residents_per_grid: int, rural_ratio: float = 1.0) -> City:
    """The same city — same residents, households, ties, blocks, communities and towns —
    with its grids drawn anew at about ``residents_per_grid`` residents each
    (× ``rural_ratio`` in the countryside, ``city.rural_grid_size_ratio``).

    Used to compare grid sizes over identical residents (issue 12, 精网微格): only the
    grid partition (and the residents' grid ids) change. A new grid's map point is that
    of the old grid holding its first resident.
    """
    b = city.block_start
    blocks = {
        "grid_county": city.county[b[:-1]].astype(np.int32),
        "grid_urban": city.urban[b[:-1]],
        "grid_community": city.block_community,
        "grid_town": city.block_town,
    }
    grids = _draw_grids(b, blocks, residents_per_grid, rural_ratio, city.household)
    old = city.grid[grids["grid_start"][:-1]]
    return replace(
        city,
        **grids,
        grid=_resident_grid(grids["grid_start"]),
        grid_lon=city.grid_lon[old].copy(),
        grid_lat=city.grid_lat[old].copy(),
        initial=city.initial.copy(),
    )


# --------------------------------------------------------------------------- residents


def _poisson_rate_for_mean(mean_size: float) -> float:
    """λ such that ``E[min(1 + Poisson(λ), MAX_HOUSEHOLD_SIZE)] = mean_size`` (bisection)."""
    cap = MAX_HOUSEHOLD_SIZE - 1
    target = min(max(mean_size - 1.0, 0.0), cap - 1e-6)
    if target == 0.0:
        return 0.0

    def capped_mean(lam: float) -> float:
        pk = np.exp(-lam)  # P(X = 0)
        below = mean = 0.0
        for k in range(cap):
            below += pk
            mean += k * pk
            pk *= lam / (k + 1)
        return mean + cap * (1.0 - below)

    lo, hi = 0.0, 100.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if capped_mean(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _elderly_shares(p: CityParams, urban_fraction: float) -> tuple[float, float]:
    """Elderly share in urban and rural grids: rural = 1.5 × urban, city-wide = elderly_share."""
    e = p.elderly_share
    if not 0.0 < urban_fraction < 1.0:
        return e, e
    e_urban = e / (urban_fraction + RURAL_ELDERLY_RATIO * (1.0 - urban_fraction))
    e_rural = RURAL_ELDERLY_RATIO * e_urban
    room = max(1.0 - p.child_share, 0.0)
    if e_rural > room:  # keep rural shares feasible, move the excess to the towns
        e_rural = room
        e_urban = min(max((e - (1.0 - urban_fraction) * e_rural) / urban_fraction, 0.0), room)
    return e_urban, e_rural


def _households(
    rng: np.random.Generator,
    p: CityParams,
    grid_start: np.ndarray,
    grid_sizes: np.ndarray,
    grid_elderly: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Household ids, filled contiguously within each grid, and the elderly-alone flags.

    Each grid starts with ``k ~ Binomial(n_g, elderly_alone_rate * e_g)`` one-person
    households of elderly residents living alone (孤寡老人; ``e_g`` is the grid's elderly
    share), so that about ``elderly_alone_rate`` of the elderly live alone. The rest of
    the grid is filled with households of size ``min(1 + Poisson(λ), 8)``, λ chosen so that
    the mean household size over the city is ``mean_household_size``; the household that
    would cross the end of a grid is cut there (one short household per grid).

    Returns
    -------
    household : int32[n]
        Global household id, non-decreasing.
    alone : bool[n]
        Resident is one of the elderly living alone.
    """
    n = int(grid_start[-1])
    grid = np.repeat(np.arange(grid_sizes.shape[0]), grid_sizes)
    k = rng.binomial(grid_sizes, np.clip(p.elderly_alone_rate * grid_elderly, 0.0, 1.0))
    alone = (np.arange(n) - grid_start[grid]) < k[grid]
    del grid
    n_alone = int(k.sum())
    rest_sizes = grid_sizes - k
    n_rest = n - n_alone
    # Mean size of the other households so that n / (all households) = mean_household_size.
    other_households = n / p.mean_household_size - n_alone
    mean_rest = n_rest / other_households if other_households > 0 else float(MAX_HOUSEHOLD_SIZE)
    lam = _poisson_rate_for_mean(mean_rest)
    # Household starts in the stream of non-alone residents, grid after grid.
    is_start = np.zeros(n_rest, dtype=bool)
    filled, chunks = 0, []
    while filled < n_rest:
        m = int((n_rest - filled) / max(1.0 + lam, 1.0) * 1.05) + 64
        s = np.minimum(1 + rng.poisson(lam, m), MAX_HOUSEHOLD_SIZE)
        chunks.append(np.cumsum(s) + filled)
        filled = int(chunks[-1][-1])
    ends = np.concatenate(chunks)
    is_start[ends[ends < n_rest]] = True
    rest_start = np.cumsum(rest_sizes) - rest_sizes
    is_start[rest_start[rest_sizes > 0]] = True  # a grid's first household starts there
    starts = alone.copy()
    starts[~alone] = is_start
    del is_start
    household = np.cumsum(starts, dtype=np.int32)
    household -= 1
    return household, alone


def _beta_with_mean(
    rng: np.random.Generator, mean: float, concentration: float, size: int
) -> np.ndarray:
    """Beta(mean * κ, (1 - mean) * κ) draws as float32; a point mass at mean 0 or 1."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(size, min(max(mean, 0.0), 1.0), dtype=np.float32)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size).astype(np.float32)


def _residents(rng: np.random.Generator, p: CityParams, territory: dict) -> dict:
    """Per-resident arrays of the City (see :func:`build_city`, Notes).

    Ages: the elderly living alone are fixed by :func:`_households`; other one-person
    households are working-age; the first member of a larger household (its head) is
    working or elderly; children are drawn among the other members. The probabilities are
    set separately for urban and rural residents from the actual household counts so that
    the expected shares are ``child_share`` (equal in town and country) and the elderly
    share of :func:`_elderly_shares` (rural older, city-wide ``elderly_share``).
    """
    grid_start = territory["grid_start"]
    grid_sizes = territory["grid_sizes"]
    grid_urban = territory["grid_urban"]
    n = int(grid_start[-1])
    grid = np.repeat(np.arange(grid_sizes.shape[0], dtype=np.int32), grid_sizes)
    urban = grid_urban[grid]
    county = territory["grid_county"][grid].astype(np.int16)

    is_urban = urban.astype(bool)
    urban_fraction = float(is_urban.mean()) if n else 0.0
    e_urban, e_rural = _elderly_shares(p, urban_fraction)
    grid_elderly = np.where(grid_urban == 1, e_urban, e_rural)
    household, alone = _households(rng, p, grid_start, grid_sizes, grid_elderly)

    # Household roles.
    hh_size = np.bincount(household)[household]
    first = np.ones(n, dtype=bool)
    first[1:] = household[1:] != household[:-1]
    head = first & (hh_size >= 2)
    member = ~first  # non-first member of a larger household
    del hh_size, first

    # Per-role probabilities of being a child / elderly, by urban and rural.
    p_child = np.zeros(n)
    p_elderly = np.zeros(n)
    for mask, e_share in ((is_urban, e_urban), (~is_urban, e_rural)):
        n_cls = int(mask.sum())
        n_head = int((head & mask).sum())
        n_member = int((member & mask).sum())
        n_alone = int((alone & mask).sum())
        elderly_left = max(e_share * n_cls - n_alone, 0.0)
        pc = min(p.child_share * n_cls / n_member, 1.0) if n_member else 0.0
        pe = min(elderly_left / (n_head + n_member), 1.0) if n_head + n_member else 0.0
        pe_member = min(pe, 1.0 - pc)
        pe_head = (
            min(max((elderly_left - pe_member * n_member) / n_head, 0.0), 1.0) if n_head else 0.0
        )
        p_child[member & mask] = pc
        p_elderly[member & mask] = pe_member
        p_elderly[head & mask] = pe_head
    del head, member
    draw = rng.random(n)
    age_group = np.full(n, AGE_WORKING, dtype=np.uint8)
    age_group[draw < p_child] = AGE_CHILD
    p_elderly += p_child
    age_group[(draw >= p_child) & (draw < p_elderly)] = AGE_ELDERLY
    age_group[alone] = AGE_ELDERLY
    del p_child, p_elderly, draw
    elderly = age_group == AGE_ELDERLY

    hardship = np.empty(n, dtype=np.float32)
    hardship[is_urban] = _beta_with_mean(
        rng, p.hardship_urban, HARDSHIP_CONCENTRATION, int(is_urban.sum())
    )
    hardship[~is_urban] = _beta_with_mean(
        rng, p.hardship_rural, HARDSHIP_CONCENTRATION, n - int(is_urban.sum())
    )

    vulnerability = np.where(alone, VULN_ELDERLY_ALONE, np.uint8(0)).astype(np.uint8)
    left_behind = (~is_urban) & (age_group == AGE_CHILD) & (rng.random(n) < p.left_behind_rate)
    vulnerability[left_behind] |= VULN_LEFT_BEHIND
    mean_h = float(hardship.mean(dtype=np.float64)) if n else 0.0
    if mean_h > 0.0:
        p_assist = np.minimum(p.assistance_rate * hardship / mean_h, 1.0)
    else:
        p_assist = np.full(n, p.assistance_rate)
    vulnerability[rng.random(n) < p_assist] |= VULN_ASSISTANCE
    del left_behind, p_assist

    p_digital = np.where(is_urban, p.digital_access_urban, p.digital_access_rural)
    p_digital[elderly] *= ELDERLY_DIGITAL_FACTOR
    digital = (rng.random(n) < p_digital).astype(np.uint8)
    del p_digital
    org_member = (rng.random(n) < p.org_membership_rate).astype(np.uint8)

    trust = _beta_with_mean(rng, p.trust_mean, TRUST_CONCENTRATION, n)
    participation = _beta_with_mean(rng, p.participation_mean, PARTICIPATION_CONCENTRATION, n)
    grievance = (hardship * (np.float32(1.0) - trust)).astype(np.float32)

    return {
        "county": county,
        "grid": grid,
        "household": household,
        "age_group": age_group,
        "urban": urban,
        "hardship": hardship,
        "vulnerability": vulnerability,
        "digital": digital,
        "org_member": org_member,
        "trust": trust,
        "participation": participation,
        "grievance": grievance,
    }


# --------------------------------------------------------------------------- geography


def load_county_shapes() -> dict[str, list[tuple[Path, list[Path]]]]:
    """County polygons of the packaged boundary file, by Chinese name.

    Returns
    -------
    dict
        ``name_zh -> [(exterior, [holes...]), ...]``, one entry per polygon part, each
        ring a :class:`matplotlib.path.Path` in (lon, lat).
    """
    text = resources.files("sim").joinpath("data", _GEOJSON).read_text(encoding="utf-8")
    shapes: dict[str, list[tuple[Path, list[Path]]]] = {}
    for feature in json.loads(text)["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        shapes[feature["properties"]["name_zh"]] = [
            (Path(np.asarray(rings[0])[:, :2]), [Path(np.asarray(h)[:, :2]) for h in rings[1:]])
            for rings in polygons
        ]
    return shapes


def _ring_area_centroid(ring: Path) -> tuple[float, np.ndarray]:
    """|area| and centroid of one closed ring (shoelace formula, in lon/lat degrees)."""
    v = np.asarray(ring.vertices, dtype=np.float64)
    x, y = v[:, 0], v[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = 0.5 * cross.sum()
    if a == 0.0:
        return 0.0, v.mean(axis=0)
    c = np.array([((x + x1) * cross).sum(), ((y + y1) * cross).sum()]) / (6.0 * a)
    return abs(a), c


def county_centroids(county_names: list[str]) -> np.ndarray:
    """Each county's centre (lon, lat; float64[n_counties, 2]): the mean position of its
    grids' map points in expectation (:func:`_grid_points` draws them uniformly in the
    county polygon, or in a disc around a fallback centre), so it depends neither on the
    grids' number nor on the draw — unlike the mean of the drawn points."""
    shapes = load_county_shapes()
    out = np.empty((len(county_names), 2))
    for c, name in enumerate(county_names):
        if name in shapes:
            total, moment = 0.0, np.zeros(2)
            for exterior, holes in shapes[name]:
                for ring, sign in [(exterior, 1.0)] + [(h, -1.0) for h in holes]:
                    a, cen = _ring_area_centroid(ring)
                    total += sign * a
                    moment += sign * a * cen
            out[c] = moment / total
        else:
            angle = 2.0 * np.pi * c / len(county_names)
            out[c] = np.array(_FALLBACK_CENTRE) + _FALLBACK_RADIUS * np.array(
                [np.cos(angle), np.sin(angle)]
            )
    return out


def points_in_shape(shape: list[tuple[Path, list[Path]]], points: np.ndarray) -> np.ndarray:
    """Whether each (lon, lat) row of ``points`` lies inside the (multi)polygon ``shape``."""
    inside = np.zeros(points.shape[0], dtype=bool)
    for exterior, holes in shape:
        part = exterior.contains_points(points)
        for hole in holes:
            part &= ~hole.contains_points(points)
        inside |= part
    return inside


def _grid_points(
    rng: np.random.Generator, county_names: list[str], grid_county: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One map point per grid, uniform inside its county polygon (rejection sampling).

    A county missing from the boundary file (a user-defined city) is placed on a circle of
    radius 0.5° around the Yancheng centre, at angle ``2π c / n_counties``, and its grids
    uniformly in a disc of radius 0.1° around that point.
    """
    shapes = load_county_shapes()
    lon = np.empty(grid_county.shape[0])
    lat = np.empty(grid_county.shape[0])
    for c, name in enumerate(county_names):
        idx = np.flatnonzero(grid_county == c)
        need = idx.shape[0]
        if need == 0:
            continue
        if name in shapes:
            shape = shapes[name]
            lo = np.min([ext.vertices.min(axis=0) for ext, _ in shape], axis=0)
            hi = np.max([ext.vertices.max(axis=0) for ext, _ in shape], axis=0)
            found: list[np.ndarray] = []
            n_found = 0
            while n_found < need:
                cand = lo + rng.random((max(64, 4 * need), 2)) * (hi - lo)
                cand = cand[points_in_shape(shape, cand)]
                found.append(cand)
                n_found += cand.shape[0]
            pts = np.concatenate(found)[:need]
        else:
            angle = 2.0 * np.pi * c / len(county_names)
            centre = np.array(_FALLBACK_CENTRE) + _FALLBACK_RADIUS * np.array(
                [np.cos(angle), np.sin(angle)]
            )
            r = _FALLBACK_SPREAD * np.sqrt(rng.random(need))
            t = 2.0 * np.pi * rng.random(need)
            pts = centre + np.column_stack([r * np.cos(t), r * np.sin(t)])
        lon[idx] = pts[:, 0]
        lat[idx] = pts[:, 1]
    return lon, lat
