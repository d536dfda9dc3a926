"""Moving a lever mid-run changes the future, not the past (issue 15).

``GovernanceModel.change_scenario`` keeps every state (residents, issues, queues, pools'
slots, activation, early warning, accountability effort, reallocation memory) and only
changes the parameters (and, for a lever that changes capacity, the pools' slots) from the
next day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model import GovernanceModel
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "yancheng.toml", ["scale=0.004"])


def _run(sc, days, switch_at=None, switch_to=None):
    m = GovernanceModel(sc)
    for d in range(days):
        if d == switch_at:
            m.change_scenario(switch_to)
        m.step()
    return m.metrics.daily_arrays()


def _with(sc, **levers):
    data = sc.model_dump()
    for path, v in levers.items():
        group, name = path.split("__")
        data["levers"][group][name] = v
    return type(sc).model_validate(data)


def test_same_scenario_mid_run_changes_nothing(scenario):
    plain = _run(scenario, 60)
    again = _run(scenario, 60, switch_at=31, switch_to=scenario.model_copy(deep=True))
    for k in plain:
        np.testing.assert_array_equal(plain[k], again[k], err_msg=k)


@pytest.mark.parametrize(
    "levers",
    [
        {"capability__workers_per_grid": 4},
        {"system__social_org_budget_yuan_per_resident": 12.0},
        {"capability__online_mediation": True},
        {"capability__early_warning": True, "capability__resource_allocation": "pooled"},
    ],
    ids=["workers", "social_budget", "online_on", "warning_pooled"],
)
def test_lever_change_only_affects_later_days(scenario, levers):
    other = _with(scenario, **levers)
    plain = _run(scenario, 45)
    moved = _run(scenario, 45, switch_at=30, switch_to=other)
    for k in plain:
        np.testing.assert_array_equal(plain[k][:30], moved[k][:30], err_msg=k)
    assert any(not np.array_equal(plain[k][30:], moved[k][30:], equal_nan=True) for k in plain)
    # the run goes on from its own state: no burst of incidents after the change
    for inc in ("unrest_incidents", "escalations_collective"):
        assert moved[inc][30:].sum() <= plain[inc][30:].sum() + 3, inc


def test_city_shaping_lever_names_itself(scenario):
    m = GovernanceModel(scenario)
    m.step()
    with pytest.raises(ValueError, match="residents_per_grid"):
        m.change_scenario(_with(scenario, capability__residents_per_grid=900))


def test_lever_there_and_back_the_same_day_changes_nothing(scenario):
    """A student switching a lever on and off again before the next day changes nothing."""
    other = _with(scenario, capability__online_mediation=True, capability__workers_per_grid=3)
    plain = _run(scenario, 40)
    m = GovernanceModel(scenario)
    for d in range(40):
        if d == 20:
            m.change_scenario(other)
            m.change_scenario(scenario)
        m.step()
    there = m.metrics.daily_arrays()
    for k in plain:
        np.testing.assert_array_equal(plain[k], there[k], err_msg=k)
