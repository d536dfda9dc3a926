"""Directions that hold on average over seeds on the Yancheng scenario (issue: resident
dynamics and resource integration). Each compares a configuration file with the baseline
over the same seeds (common random numbers)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from sim.run import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (1, 2, 3)
SMALL = ["scale=0.005", "days=180"]


@functools.cache
def _summary(name: str, seed: int, extra: tuple[str, ...]) -> dict:
    """A run's summary; each (configuration, seed) runs once however many keys are read."""
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml", [*SMALL, f"seed={seed}", *extra])
    return run_scenario(sc).summary


def mean_summary(name: str, key: str, extra: tuple[str, ...] = ()) -> float:
    return float(np.mean([_summary(name, s, tuple(extra))[key] for s in SEEDS]))


@pytest.fixture(scope="module")
def base():
    keys = ("participation_rate", "misuse_incidents", "trust_mean", "urban_rural_gap")
    return {k: mean_summary("yancheng", k) for k in keys}


def test_publicity_raises_participation(base):
    assert mean_summary("people_centred", "participation_rate") > base["participation_rate"]


def test_strict_data_governance_fewer_misuse_and_more_trust_than_lax():
    strict_misuse = mean_summary("data_strict", "misuse_incidents")
    lax_misuse = mean_summary("data_lax", "misuse_incidents")
    assert strict_misuse < lax_misuse
    assert mean_summary("data_strict", "trust_mean") > mean_summary("data_lax", "trust_mean")


def test_equity_allocation_narrows_the_urban_rural_gap(base):
    assert base["urban_rural_gap"] > 0  # rural residents' needs are met less often
    assert mean_summary("urban_rural", "urban_rural_gap") < base["urban_rural_gap"]


@pytest.mark.slow
def test_early_warning_fewer_petitions_in_every_seed_and_flags_beat_chance():
    """Early warning flags the dispute hot spots; patrols and work teams screen them and
    take up their disputes, so fewer escalate to petitions. At 1:20 for a year (petitions
    are ~200 a seed), paired by seed (common random numbers), each seed has fewer.

    What it does not show: fewer *collective incidents*. They are rare (a few per 100,000
    residents a year); over these seeds the baseline had 58 (escalations and activation
    episodes) and early warning 56, and the 1:20 headline over 10 replications gives
    −4.8 % [−11.7 %, +3.0 %] per 100,000 resident-years — no detectable change. (This
    test asserted "fewer incidents" until 2026-12-07, which those counts did not support.)
    The baseline must still have incidents for the flags to be judged on."""
    settings = ["scale=0.05", "days=365"]
    keys = ("escalations_collective", "unrest_incidents", "escalations_petition")

    def per_seed(name: str) -> list[dict[str, float]]:
        out = []
        for s in SEEDS:
            sc = load_scenario(ROOT / "scenarios" / f"{name}.toml", [*settings, f"seed={s}"])
            summary = run_scenario(sc).summary
            row = {k: int(summary[k]) for k in keys}
            row["warning_lift"] = float(summary["warning_lift"])
            out.append(row)
        return out

    base, warned = per_seed("yancheng"), per_seed("early_warning")
    print(f"\nper seed {SEEDS}: baseline {base}\nearly warning {warned}")  # pytest -s
    base_inc = sum(r["escalations_collective"] + r["unrest_incidents"] for r in base)
    assert base_inc >= 10, base  # the baseline has incidents the flags can precede
    for b, w in zip(base, warned, strict=True):
        assert w["escalations_petition"] < b["escalations_petition"], (base, warned)
    # the flags beat chance: incidents follow flagged grids several times more often
    # than grids picked at random (measured ≈ 2–3.5 per seed at 1:20)
    assert np.mean([r["warning_lift"] for r in base]) > 2.0, base
