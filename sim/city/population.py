"""The city as arrays: territory (counties, towns, communities, grids) and residents.

Residents are a structure of arrays ordered by locality (county, town, community, grid,
household), so that a grid's residents are one contiguous slice ``grid_start[g] :
grid_start[g + 1]`` and social-network neighbours sit close together in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Vulnerability bit flags (DIGEST.md: 孤寡老人、留守儿童、救助对象).
VULN_ELDERLY_ALONE = np.uint8(1)
VULN_LEFT_BEHIND = np.uint8(2)
VULN_ASSISTANCE = np.uint8(4)

AGE_CHILD, AGE_WORKING, AGE_ELDERLY = 0, 1, 2


@dataclass
class City:
    """Territory and residents of one simulated city (scaled).

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
    town_county : int32[n_towns]
    resident_* : per-resident arrays (see ``RESIDENT_FIELDS``).
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
    town_county: np.ndarray
    # residents (static)
    county: np.ndarray  # int16
    grid: np.ndarray  # int32
    household: np.ndarray  # int32
    age_group: np.ndarray  # uint8: AGE_CHILD / AGE_WORKING / AGE_ELDERLY
    urban: np.ndarray  # uint8
    hardship: np.ndarray  # float32 in [0, 1], Epstein's H
    vulnerability: np.ndarray  # uint8 bit mask of VULN_*
    digital: np.ndarray  # uint8, 1 = can use online channels
    org_member: np.ndarray  # uint8, 1 = member of a social or mass organisation
    # residents (dynamic; updated by stage 6)
    trust: np.ndarray  # float32 in [0, 1], legitimacy L
    participation: np.ndarray  # float32 in [0, 1], propensity to report
    grievance: np.ndarray  # float32 in [0, 1]
    # social network
    nbr_indptr: np.ndarray
    nbr_indices: np.ndarray

    @property
    def n_residents(self) -> int:
        return int(self.grid.shape[0])

    @property
    def n_grids(self) -> int:
        return int(self.grid_county.shape[0])

    @property
    def n_towns(self) -> int:
        return int(self.town_county.shape[0])

    @property
    def n_counties(self) -> int:
        return len(self.county_names_zh)

    def nbytes(self) -> int:
        """Memory held by the arrays (bytes)."""
        return sum(
            getattr(self, f.name).nbytes
            for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        )
