"""The levers of the article's six sections as page controls, read from the schema.

Each :class:`LeverSpec` is derived from a field of :class:`sim.scenario.schema.Levers`
(type, bounds, default, description), so the page offers exactly what a scenario file
can set. Levers that shape the city (``residents_per_grid``, ``digital_inclusion``)
restart the run.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

import annotated_types
from pydantic import ValidationError

from sim.app.text import (
    CHOICE_LABELS,
    GROUPS,
    LEVER_HELP,
    LEVER_LABELS,
    ON_OFF,
    SECTION_MARKS,
    UNIT_LABELS,
    pick,
)
from sim.errors import GovsimError
from sim.io import set_dotted
from sim.scenario.schema import Levers, Scenario

# Levers that GovernanceModel.change_scenario refuses mid-run (its CITY_SHAPING): moving
# one restarts the run at day 0, and the page says so next to the lever before it is moved.
CITY_SHAPING = frozenset(
    {
        "levers.capability.residents_per_grid",
        "levers.capability.grids_per_worker",
        "levers.capability.digital_inclusion",
    }
)


@dataclass(frozen=True)
class LeverSpec:
    """One lever as a control: a switch (bool), a slider (int/float) or a choice."""

    path: str  # "levers.<group>.<name>"
    group: str
    name: str
    kind: str  # "bool" | "int" | "float" | "choice"
    default: Any
    minimum: float | None
    maximum: float | None
    step: float | None
    choices: tuple[str, ...]
    label_zh: str
    label_en: str
    description: str
    restarts: bool
    unit: str = ""  # the schema registry's unit ("" for switches and choices)

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def format_value(self, value: Any, lang: str) -> str:
        """The value as the page shows it: 开/关 (On/Off), a choice's name, a share in
        per cent, a level 0–1, or a number with its unit (``"2 人/网格"``)."""
        if self.kind == "bool":
            return pick(ON_OFF[bool(value)], lang)
        if self.kind == "choice":
            return pick(CHOICE_LABELS.get(value, (str(value), str(value))), lang)
        if self.unit == "share 0–1":
            return f"{100 * float(value):.0f}%"
        if self.unit == "lever level 0–1":
            return f"{float(value):.2f}"
        unit = UNIT_LABELS.get(self.unit)
        number = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{number} {pick(unit, lang)}" if unit else number

    def help(self, lang: str) -> str:
        """What the lever means, with its unit and the article's section, e.g.
        ``"§四 · 每个网格的专职网格员人数（单位：人/网格）"``."""
        meaning = pick(LEVER_HELP.get(self.path, (self.description, self.description)), lang)
        unit = UNIT_LABELS.get(self.unit)
        if self.kind == "bool":
            unit_text = pick(("开/关", "on/off"), lang)
        elif self.kind == "choice":
            unit_text = ""
        elif self.unit == "share 0–1":
            unit_text = pick(("比例 0–100%", "share 0–100%"), lang)
        elif self.unit == "lever level 0–1":
            unit_text = pick(("力度 0–1：0 没有，1 全面推行", "level 0–1: 0 none, 1 full"), lang)
        else:
            unit_text = pick(unit, lang) if unit else self.unit
        mark = pick(SECTION_MARKS[self.group], lang)
        if not unit_text:
            return f"{mark} · {meaning}"
        if lang == "zh":
            return f"{mark} · {meaning}（单位：{unit_text}）"
        return f"{mark} · {meaning} (unit: {unit_text})"


def _bounds(field) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in field.metadata:
        if isinstance(m, annotated_types.Ge | annotated_types.Gt):
            lo = float(getattr(m, "ge", getattr(m, "gt", None)))
        if isinstance(m, annotated_types.Le | annotated_types.Lt):
            hi = float(getattr(m, "le", getattr(m, "lt", None)))
    return lo, hi


def _slider_range(path: str, kind: str, lo, hi, default) -> tuple[float, float, float]:
    """A classroom-sized slider range inside the schema's bounds."""
    special = {
        "levers.capability.residents_per_grid": (200, 2000, 100),
        "levers.capability.workers_per_grid": (1, 5, 1),
        "levers.capability.patrol_hours_per_day": (0.0, 8.0, 0.5),
        "levers.system.social_org_budget_yuan_per_resident": (0.0, 20.0, 0.5),
        "levers.capability.key_person_visits": (0.0, 8.0, 0.5),
        "levers.capability.warning_team_staff_per_100k": (0.0, 40.0, 2.0),
    }
    if path in special:
        return special[path]
    if kind == "float" and lo == 0.0 and hi == 1.0:
        return 0.0, 1.0, 0.05
    lo = 0.0 if lo is None else lo
    hi = max(float(default) * 4, 1.0) if hi is None else hi
    return lo, hi, (1 if kind == "int" else (hi - lo) / 20)


def _spec(group: str, name: str, field) -> LeverSpec:
    path = f"levers.{group}.{name}"
    ann = field.annotation
    choices: tuple[str, ...] = ()
    if ann is bool:
        kind = "bool"
    elif ann is int:
        kind = "int"
    elif typing.get_origin(ann) is typing.Literal:
        kind, choices = "choice", tuple(typing.get_args(ann))
    else:
        kind = "float"
    lo, hi = _bounds(field)
    step = None
    if kind in ("int", "float"):
        lo, hi, step = _slider_range(path, kind, lo, hi, field.default)
    desc = field.description or ""
    zh, en = LEVER_LABELS.get(path, (desc.split(":")[0], name.replace("_", " ")))
    return LeverSpec(
        path=path,
        group=group,
        name=name,
        kind=kind,
        default=field.default,
        minimum=lo,
        maximum=hi,
        step=step,
        choices=choices,
        label_zh=zh,
        label_en=en,
        description=desc,
        restarts=path in CITY_SHAPING,
        unit=((field.json_schema_extra or {}).get("registry") or {}).get("unit", "")
        if isinstance(field.json_schema_extra, dict)
        else "",
    )


def lever_groups() -> list[tuple[str, list[LeverSpec]]]:
    """The six groups in the article's order, each with its levers in schema order.

    Table-valued levers (``levers.capability.county_extra_grid_workers``, by county) have
    no slider: they are set in scenario files and plans (:func:`table_levers`)."""
    out = []
    for group in GROUPS:
        cls = Levers.model_fields[group].annotation
        specs = [
            _spec(group, name, f)
            for name, f in cls.model_fields.items()
            if typing.get_origin(f.annotation) is not dict
        ]
        out.append((group, specs))
    return out


def table_levers() -> list[str]:
    """Paths of the table-valued levers, which the page does not show as sliders."""
    return [
        f"levers.{group}.{name}"
        for group in GROUPS
        for name, f in Levers.model_fields[group].annotation.model_fields.items()
        if typing.get_origin(f.annotation) is dict
    ]


def all_levers() -> dict[str, LeverSpec]:
    return {s.path: s for _, specs in lever_groups() for s in specs}


def get_lever(scenario: Scenario, path: str) -> Any:
    """The value of ``levers.<group>.<name>`` in ``scenario``."""
    _, group, name = path.split(".")
    return getattr(getattr(scenario.levers, group), name)


def with_lever(scenario: Scenario, path: str, value: Any) -> Scenario:
    """A copy of ``scenario`` with one lever set, validated like a scenario file.

    Raises
    ------
    GovsimError
        For an unknown lever or a value out of range (one line naming the lever, the
        value and what is allowed).
    """
    specs = all_levers()
    if path not in specs:
        raise GovsimError(f"unknown lever {path!r}; known: {', '.join(specs)}")
    spec = specs[path]
    if spec.kind == "int":
        value = int(round(float(value)))
    elif spec.kind == "float":
        value = float(value)
    elif spec.kind == "bool":
        value = bool(value)
    data = scenario.model_dump()
    set_dotted(data, path, value)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err.get("msg", str(exc)).removeprefix("Value error, ")
        raise GovsimError(f"{path} = {value!r}: {msg}") from None


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """Every lever's current value, keyed by path."""
    return {p: get_lever(scenario, p) for p in all_levers()}


def describe_change(spec: LeverSpec, before: Any, after: Any, lang: str) -> str:
    """``"在线调解平台 关 → 开"``: a lever's change as the page and the class record show it."""
    return (
        f"{spec.label(lang)} {spec.format_value(before, lang)} → {spec.format_value(after, lang)}"
    )


def changed_levers(base: Scenario, other: Scenario) -> dict[str, tuple[Any, Any]]:
    """Levers whose values differ between ``base`` and ``other``: path -> (base, other)."""
    a, b = lever_values(base), lever_values(other)
    return {p: (a[p], b[p]) for p in a if a[p] != b[p]}
