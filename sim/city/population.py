"""The city as arrays: territory (counties, towns, communities, grids) and residents.

A :class:`City` is static: nothing writes to it after :func:`sim.city.build_city` (its
arrays are read-only). The residents' state that changes during a run (trust,
participation, grievance, digital access after inclusion) is a
:class:`~sim.city.residents.Residents` that each model starts from ``City.initial``.

Residents are a structure of arrays ordered by locality (county, town, community, grid,
household), so that a grid's residents are one contiguous slice ``grid_start[g] :
grid_start[g + 1]`` and social-network neighbours sit close together in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.city.residents import Residents

# Vulnerability bit flags (DIGEST.md: 孤寡老人、留守儿童、救助对象).
VULN_ELDERLY_ALONE = np.uint8(1)
VULN_LEFT_BEHIND = np.uint8(2)
VULN_ASSISTANCE = np.uint8(4)

AGE_CHILD, AGE_WORKING, AGE_ELDERLY = 0, 1, 2


@dataclass(frozen=True)
class City:
    """Territory and residents of one simulated city (scaled); never written after it is
    built (frozen, arrays read-only), so models may share it.

    Attributes
    ----------
    county_names_zh, county_names_en : list of str
        Names of the county-level divisions, index = county id.
    county_population : int64[n_counties]
        Simulated residents per county.
    grid_county, grid_town, grid_community : int32[n_grids]
        Territorial parents of each grid.
    grid_urban : uint8[n_grids]
        1 for an urban community grid, 0 for a rural village grid.
    grid_start : int64[n_grids + 1]
        Residents of grid g are rows ``grid_start[g]:grid_start[g+1]``.
    grid_lon, grid_lat : float64[n_grids]
        A point inside the grid's county polygon (for maps).
    block_start : int64[n_blocks + 1]
        Residents of block b are rows ``block_start[b]:block_start[b+1]``: fixed population
        units of about ``city.block_residents`` (小区/自然村) that residents, households
        and neighbour ties belong to and collective action is counted on; grids are drawn
        over them (:func:`sim.city.build.redraw_grids`).
    block_town, block_community : int32[n_blocks]
        The town and community (village) each block belongs to.
    town_county : int32[n_towns]
    county, grid, household, age_group, urban, hardship, vulnerability, org_member
        The residents' static attributes (one row per resident).
    initial : Residents
        The residents' state as built (trust, participation, grievance, digital access
        before inclusion); read-only: each model copies it
        (:meth:`sim.city.residents.Residents.copy`) and changes its copy.
    nbr_indptr : int64[n_residents + 1], nbr_indices : int32[n_edges]
        Undirected social network in CSR form (both directions stored).
    """

    county_names_zh: list[str]
    county_names_en: list[str]
    county_population: np.ndarray
    grid_county: np.ndarray
    grid_town: np.ndarray
    grid_community: np.ndarray
    grid_urban: np.ndarray
    grid_start: np.ndarray
    grid_lon: np.ndarray
    grid_lat: np.ndarray
    block_start: np.ndarray
    block_town: np.ndarray
    block_community: np.ndarray
    town_county: np.ndarray
    # residents (static)
    county: np.ndarray  # int16
    grid: np.ndarray  # int32
    household: np.ndarray  # int32
    age_group: np.ndarray  # uint8: AGE_CHILD / AGE_WORKING / AGE_ELDERLY
    urban: np.ndarray  # uint8
    hardship: np.ndarray  # float32 in [0, 1], Epstein's H
    vulnerability: np.ndarray  # uint8 bit mask of VULN_*
    org_member: np.ndarray  # uint8, 1 = member of a social or mass organisation
    # social network
    nbr_indptr: np.ndarray
    nbr_indices: np.ndarray
    # residents' state as built (a model starts its own Residents from a copy)
    initial: Residents

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        self.initial.read_only()

    @property
    def n_residents(self) -> int:
        return int(self.grid.shape[0])

    @property
    def n_grids(self) -> int:
        return int(self.grid_county.shape[0])

    @property
    def n_blocks(self) -> int:
        return int(self.block_start.shape[0] - 1)

    @property
    def n_towns(self) -> int:
        return int(self.town_county.shape[0])

    @property
    def n_counties(self) -> int:
        return len(self.county_names_zh)

    def nbytes(self) -> int:
        """Memory held by the arrays, the initial residents' state included (bytes)."""
        return self.initial.nbytes() + sum(
            getattr(self, f.name).nbytes
            for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        )
