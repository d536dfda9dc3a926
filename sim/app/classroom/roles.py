"""The roles of the role play (沙盘推演): who controls which lever, with which budget.

The roles are data (``sim/app/classroom/roles.toml``, or a file the teacher gives): the
command centre (指挥中心), department lines (条) and the counties (块) — one county role
per county of the scenario's ``[city]``. Each role owns a set of levers and a yearly
budget; a group may move only its own role's levers (:func:`RoleSet.check_owner`).

Teaching assumption (not part of the model): the model's levers are city-wide
(:class:`sim.scenario.schema.Levers`). A lever the counties control takes the
resident-weighted mean of the counties' own settings (:meth:`RoleSet.city_scenario`), so a
county moving its patrols from 2 to 4 hours moves the city's value by its share of the
residents (亭湖区 ≈ 15 %). Its effect is felt city-wide, not in that county alone; the
复盘 page says so.

Budgets (``budget_yuan_per_year``) are teaching settings, not real budgets: the extra
yearly spending a role may commit above the starting configuration, for the whole real
city, priced with :mod:`sim.kernels.costs` (Issue 12's cost model).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.app.levers import CITY_SHAPING, all_levers, get_lever, with_lever
from sim.errors import GovsimError
from sim.scenario.messages import suggest
from sim.scenario.schema import Scenario

ROLES_FILE = Path(__file__).with_name("roles.toml")
KINDS = ("centre", "line", "county")
KIND_LABELS = {"centre": ("指挥中心", "command centre"), "line": ("条", "department line"),
               "county": ("块", "county")}  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoleEntry(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["centre", "line"]
    name_zh: str
    name_en: str
    brief_zh: str = ""
    brief_en: str = ""
    budget_yuan_per_year: float = Field(ge=0)
    levers: list[str] = Field(min_length=1)


class CountiesEntry(_Strict):
    brief_zh: str = ""
    brief_en: str = ""
    budget_yuan_per_year: float = Field(ge=0)
    levers: list[str] = Field(min_length=1)


class RolesFile(_Strict):
    days_per_round: int = Field(30, ge=1, le=365)
    role: list[RoleEntry] = Field(min_length=1)
    counties: CountiesEntry


@dataclass(frozen=True)
class Role:
    """One role: its levers and its budget (yuan per year, whole real city)."""

    id: str
    kind: str  # "centre" | "line" | "county"
    name_zh: str
    name_en: str
    brief_zh: str
    brief_en: str
    budget_yuan_per_year: float
    levers: tuple[str, ...]
    county: int | None = None  # index into scenario.city.counties for a county role

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def brief(self, lang: str) -> str:
        return self.brief_zh if lang == "zh" else self.brief_en


def _check_levers(levers: list[str], where: str, source: str) -> None:
    known = all_levers()
    for i, path in enumerate(levers):
        if path not in known:
            raise GovsimError(
                f"{source}: {where}.levers[{i}] = {path!r}: not a lever"
                f"{suggest(path, list(known), 'lever')}"
            )
        if path in CITY_SHAPING:
            raise GovsimError(
                f"{source}: {where}.levers[{i}] = {path!r}: shapes the city (a new model is "
                "needed), so it cannot be in play in a shared classroom city"
            )


class RoleSet:
    """The roles of one classroom, for one scenario's city (its counties).

    Parameters
    ----------
    spec : RolesFile
        The validated roles file.
    scenario : Scenario
        The starting configuration; its counties give the county roles and the weights
        of the county levers.
    source : str
        Where ``spec`` came from (for messages).
    """

    def __init__(self, spec: RolesFile, scenario: Scenario, source: str = "roles") -> None:
        self.spec = spec
        self.days_per_round = spec.days_per_round
        roles: dict[str, Role] = {}
        owner: dict[str, str] = {}
        for i, r in enumerate(spec.role):
            _check_levers(r.levers, f"role[{i}]", source)
            if r.id in roles:
                raise GovsimError(f"{source}: role[{i}].id = {r.id!r}: used twice")
            for path in r.levers:
                if path in owner:
                    raise GovsimError(
                        f"{source}: role[{i}].levers: {path!r} is already owned by "
                        f"{owner[path]!r}; a lever has one owner"
                    )
                owner[path] = r.id
            roles[r.id] = Role(
                r.id, r.kind, r.name_zh, r.name_en, r.brief_zh, r.brief_en,
                float(r.budget_yuan_per_year), tuple(r.levers),
            )  # fmt: skip
        c = spec.counties
        _check_levers(c.levers, "counties", source)
        specs = all_levers()
        for i, path in enumerate(c.levers):
            if path in owner:
                raise GovsimError(
                    f"{source}: counties.levers[{i}] = {path!r}: already owned by "
                    f"{owner[path]!r}; a lever has one owner"
                )
            if specs[path].kind != "float":
                raise GovsimError(
                    f"{source}: counties.levers[{i}] = {path!r}: a county lever must be a "
                    f"continuous lever (the city takes the counties' weighted mean); "
                    f"this one is {specs[path].kind}"
                )
        self.county_levers = tuple(c.levers)
        counties = scenario.city.counties
        total = float(sum(x.population for x in counties))
        self.county_weights = tuple(x.population / total for x in counties)
        for k, county in enumerate(counties):
            rid = f"county_{county.name_en.lower().replace(' ', '_')}"
            roles[rid] = Role(
                rid, "county", county.name_zh, county.name_en, c.brief_zh, c.brief_en,
                float(c.budget_yuan_per_year), tuple(c.levers), county=k,
            )  # fmt: skip
        self.roles = roles
        self.owner = owner  # lever -> role id, for centre and line levers

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, scenario: Scenario, path: str | Path | None = None) -> RoleSet:
        """Read and validate a roles file (default :data:`ROLES_FILE`).

        Raises
        ------
        GovsimError
            One line naming the file, the key, the value and what is allowed.
        """
        path = Path(path) if path is not None else ROLES_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise GovsimError(f"{path}: cannot read the roles file ({e.strerror or e})") from None
        except tomllib.TOMLDecodeError as e:
            raise GovsimError(f"{path}: not valid TOML ({e})") from None
        return cls.from_data(data, scenario, str(path))

    @classmethod
    def from_data(cls, data: dict[str, Any], scenario: Scenario, source: str) -> RoleSet:
        try:
            spec = RolesFile.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            given = f" = {err['input']!r}" if err["type"] != "missing" else ""
            raise GovsimError(f"{source}: {where}{given}: {err['msg']}") from None
        return cls(spec, scenario, source)

    def to_data(self) -> dict[str, Any]:
        """The roles file as plain data (saved with a classroom session)."""
        return self.spec.model_dump(mode="json")

    # ------------------------------------------------------------------ permissions
    def role(self, role_id: str) -> Role:
        if role_id not in self.roles:
            raise GovsimError(
                f"unknown role {role_id!r}{suggest(role_id, list(self.roles), 'role')}"
            )
        return self.roles[role_id]

    def owners(self, path: str) -> list[Role]:
        """The roles that control ``path`` (one role, or every county)."""
        if path in self.owner:
            return [self.roles[self.owner[path]]]
        if path in self.county_levers:
            return [r for r in self.roles.values() if r.kind == "county"]
        return []

    def refusal(self, role_id: str, path: str, lang: str = "zh") -> str | None:
        """Why ``role_id`` may not move ``path`` (Chinese first), or None when it may."""
        role = self.role(role_id)
        if path in role.levers:
            return None
        specs = all_levers()
        label = specs[path].label(lang) if path in specs else path
        owners = self.owners(path)
        if not owners:
            if lang == "zh":
                return f"「{label}」不在本次沙盘推演之中，任何小组都不能调整。"
            return f"'{label}' is not in play in this role play; no group can move it."
        who = "各县（市、区）" if owners[0].kind == "county" else owners[0].name_zh
        who_en = "the counties" if owners[0].kind == "county" else owners[0].name_en
        if lang == "zh":
            return f"「{label}」由{who}掌握，本组（{role.name_zh}）无权调整。"
        return f"'{label}' belongs to {who_en}; your group ({role.name_en}) cannot move it."

    # ------------------------------------------------------------------ the city
    def city_scenario(self, origin: Scenario, settings: dict[str, dict[str, Any]]) -> Scenario:
        """The city's configuration from each role's settings.

        ``settings``: role id -> lever path -> value (levers a role has not moved keep
        ``origin``'s value). A centre/line lever takes its owner's value; a county lever
        the resident-weighted mean of the counties' values (teaching assumption).
        """
        sc = origin
        for rid, moved in settings.items():
            role = self.role(rid)
            if role.kind == "county":
                continue
            for path, value in moved.items():
                sc = with_lever(sc, path, value)
        for path in self.county_levers:
            start = float(get_lever(origin, path))
            values = [
                float(settings.get(r.id, {}).get(path, start))
                for r in self.roles.values()
                if r.kind == "county"
            ]
            if all(v == start for v in values):
                continue
            mean = sum(w * v for w, v in zip(self.county_weights, values, strict=True))
            sc = with_lever(sc, path, mean)
        return sc
