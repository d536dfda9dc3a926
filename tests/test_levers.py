"""Every lever of the six groups has an effect: moving it changes what the model produces."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.app.levers import all_levers, table_levers
from sim.run import run_scenario
from sim.scenario.schema import Levers, Scenario

# A small, sensitive base: rare events (misuse, petitions) made common enough to show
# in 60 days of a 13,000-resident city.
BASE = {
    "name": "levers",
    "scale": 0.002,
    "days": 60,
    "seed": 11,
    "routing": {"misuse_risk_per_use": 0.3},
    "escalation": {"petition_hazard": 0.05, "grace_days": 2.0},
    "reallocation": {"period_days": 10},
}


def _moved(group: str, name: str, value):
    """A clearly different valid value for a lever."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, dict):  # the by-county tables: one county moved
        if name == "county_extra_grid_workers":
            return {"Dafeng": 3000}  # 6 workers at 1:500
        return {"Dafeng": 20.0}  # county_social_org_budget_yuan_per_resident
    if name == "resource_allocation":
        return "pooled"
    field = Levers.model_fields[group].annotation.model_fields[name]
    if isinstance(value, int):
        return value * 3 if name != "residents_per_grid" else 300
    hi = next((m.le for m in field.metadata if hasattr(m, "le")), 1.0)
    return hi if value < 0.5 * hi else 0.0


LEVERS = [(g, n, v) for g, fields in Levers().model_dump().items() for n, v in fields.items()]


def _daily(sc: dict) -> dict[str, np.ndarray]:
    return run_scenario(Scenario.model_validate(sc)).daily


@pytest.fixture(scope="module")
def base_daily():
    return _daily(BASE)


def _schema_levers() -> set[str]:
    """Dotted lever paths from the scenario's JSON schema (what ``--set`` accepts)."""
    schema = Scenario.model_json_schema()
    defs = schema["$defs"]
    levers = defs[schema["properties"]["levers"]["$ref"].rsplit("/", 1)[-1]]
    out = set()
    for group, ref in levers["properties"].items():
        group_def = defs[ref["$ref"].rsplit("/", 1)[-1]]
        out |= {f"levers.{group}.{name}" for name in group_def["properties"]}
    return out


def _documented_levers() -> set[str]:
    """Levers of the table in docs/model.md §4 ("Levers ... and what they act on")."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "model.md").read_text("utf-8")
    section = text.split("## 4 Levers", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(levers\.[a-z_]+\.[a-z0-9_]+)` \|", section, flags=re.M))


def test_every_lever_is_listed():
    """The levers tested here are those of the schema, of the docs and of the teaching
    page, and each is moved to a different valid value (a new lever must be in all)."""
    tested = {f"levers.{g}.{n}" for g, n, _ in LEVERS}
    assert len(tested) == len(LEVERS) >= 20
    assert tested == _schema_levers()
    assert tested == _documented_levers()
    assert tested == set(all_levers()) | set(table_levers())
    assert not set(all_levers()) & set(table_levers())
    for group, name, value in LEVERS:
        moved = _moved(group, name, value)
        assert moved != value, f"levers.{group}.{name}"
        Scenario.model_validate({**BASE, "levers": {group: {name: moved}}})


@pytest.mark.parametrize(("group", "name", "value"), LEVERS, ids=[f"{g}.{n}" for g, n, _ in LEVERS])
def test_lever_changes_the_outcome(base_daily, group, name, value):
    moved = _moved(group, name, value)
    sc = {**BASE, "levers": {group: {name: moved}}}
    if name in ("urban_rural_integration",):
        sc["levers"]["capability"] = {"resource_allocation": "siloed"}  # acts at build too
    if name == "warning_team_staff_per_100k":  # the teams act with the warning on only
        sc["levers"]["capability"]["early_warning"] = True
        base_daily = _daily({**BASE, "levers": {"capability": {"early_warning": True}}})
    daily = _daily(sc)
    changed = [k for k in base_daily if not np.array_equal(base_daily[k], daily[k], equal_nan=True)]
    assert changed, f"levers.{group}.{name}: {value!r} → {moved!r} changed nothing"
