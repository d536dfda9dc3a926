"""Every lever of the six groups has an effect: moving it changes what the model produces."""

from __future__ import annotations

import numpy as np
import pytest

from sim.run import run_scenario
from sim.scenario.schema import CapabilityLevers, Levers, Scenario

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


def test_every_lever_is_listed():
    assert len(LEVERS) == sum(len(f) for f in Levers().model_dump().values())
    assert "early_warning" in CapabilityLevers.model_fields


@pytest.mark.parametrize(("group", "name", "value"), LEVERS, ids=[f"{g}.{n}" for g, n, _ in LEVERS])
def test_lever_changes_the_outcome(base_daily, group, name, value):
    moved = _moved(group, name, value)
    sc = {**BASE, "levers": {group: {name: moved}}}
    if name in ("urban_rural_integration",):
        sc["levers"]["capability"] = {"resource_allocation": "siloed"}  # acts at build too
    daily = _daily(sc)
    changed = [k for k in base_daily if not np.array_equal(base_daily[k], daily[k], equal_nan=True)]
    assert changed, f"levers.{group}.{name}: {value!r} → {moved!r} changed nothing"
