"""Mesa agents: the governance actors, each a view onto its rows of the model's arrays.

The rules live in the stage kernels (``sim.kernels``); these agents are how a person —
a teacher in class, a researcher in a notebook — finds and inspects an actor: a grid
worker, a department (条 × 块), an organisation, the command centre, a resident. They
hold no state of their own beyond indices into the arrays, so the arrays stay the one
source of truth and the daily step never loops over agents in Python.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.issues import IN_SERVICE, QUEUED
from sim.scenario.schema import SECTORS_EN, SECTORS_ZH


class PoolAgent(mesa.Agent):
    """An actor that handles issues through one handler pool (see ``sim.pools``)."""

    kind_zh = "处置主体"

    def __init__(self, model: mesa.Model, pool: int) -> None:
        super().__init__(model)
        self.pool = int(pool)

    @property
    def slots(self) -> int:
        """Cases it can handle at once."""
        return int(self.model.state.pools.servers[self.pool])

    @property
    def queue_length(self) -> int:
        """Issues waiting in its queue now."""
        t = self.model.state.issues
        return int(np.count_nonzero((t.status == QUEUED) & (t.pool == self.pool)))

    @property
    def in_service(self) -> int:
        """Issues it is handling now."""
        t = self.model.state.issues
        return int(np.count_nonzero((t.status == IN_SERVICE) & (t.pool == self.pool)))

    @property
    def county_zh(self) -> str:
        c = int(self.model.state.pools.county[self.pool])
        return self.model.state.city.county_names_zh[c] if c >= 0 else "市级"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind_zh} {self.county_zh} pool={self.pool}>"


class GridWorker(PoolAgent):
    """网格员: patrols the grid (铁脚板), mediates and handles small issues on the spot."""

    kind_zh = "网格员"

    def __init__(self, model: mesa.Model, pool: int, grid: int) -> None:
        super().__init__(model, pool)
        self.grid = int(grid)


class Department(PoolAgent):
    """职能部门 (条) of one county (块): one sector's case handlers."""

    kind_zh = "职能部门"

    @property
    def sector(self) -> int:
        return int(self.model.state.pools.sector[self.pool])

    @property
    def name_zh(self) -> str:
        return f"{self.county_zh}{SECTORS_ZH[self.sector]}"

    @property
    def name_en(self) -> str:
        return SECTORS_EN[self.sector]


class MediationCommittee(PoolAgent):
    """人民调解委员会 of a town/street."""

    kind_zh = "人民调解委员会"


class SocialOrganisation(PoolAgent):
    """社会组织 of a county: surfaces 社情民意, mediates and serves (助推器)."""

    kind_zh = "社会组织"


class MassOrganisation(PoolAgent):
    """群团组织 (trade union, Youth League, Women's Federation) of a county: 群团助推."""

    kind_zh = "群团组织"


class PetitionOffice(PoolAgent):
    """信访局 of a county."""

    kind_zh = "信访部门"


class OnlineMediationPlatform(PoolAgent):
    """苏解纷: the online dispute diversion and mediation platform."""

    kind_zh = "苏解纷平台"


class CommandCentre(PoolAgent):
    """联合指挥中心 with the 12345 hotline: integrates channels and dispatches (54321)."""

    kind_zh = "联合指挥中心"

    @property
    def integration(self) -> float:
        return float(self.model.config.levers.data.centre_integration)


class ResidentView(mesa.Agent):
    """A resident, as a Mesa agent that reads its row of the resident arrays.

    Static attributes come from the city (read-only); the state that changes during a run
    (trust, participation, grievance, digital access) from the model's
    :class:`sim.city.Residents`, and can be written. Created on demand by
    :meth:`sim.model.GovernanceModel.resident`; at city scale residents are never all
    materialised as objects.
    """

    _STATIC = (
        "county",
        "grid",
        "household",
        "age_group",
        "urban",
        "hardship",
        "vulnerability",
        "org_member",
    )
    _STATE = ("digital", "trust", "participation", "grievance")
    _FIELDS = _STATIC + _STATE

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self.row = int(row)

    def __getattr__(self, name: str):
        if name in ResidentView._STATE:
            return getattr(self.model.state.residents, name)[self.row].item()
        if name in ResidentView._STATIC:
            return getattr(self.model.state.city, name)[self.row].item()
        raise AttributeError(name)

    def __setattr__(self, name: str, value) -> None:
        if name in ResidentView._STATE:
            getattr(self.model.state.residents, name)[self.row] = value
        elif name in ResidentView._STATIC:
            raise AttributeError(f"{name} is a static attribute of the city (read-only)")
        else:
            super().__setattr__(name, value)

    @property
    def neighbours(self) -> np.ndarray:
        c = self.model.state.city
        return c.nbr_indices[c.nbr_indptr[self.row] : c.nbr_indptr[self.row + 1]]

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in ResidentView._FIELDS}
