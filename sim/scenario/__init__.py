"""Scenario schema and loader: TOML files validated once, at the edge."""

from sim.scenario.loader import load_scenario, parse_override, resolve_dict, scenario_hash
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "parse_override", "resolve_dict", "scenario_hash"]
