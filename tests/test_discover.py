"""govsim discover: PRIM recovers a planted failure box; a tiny real run resumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import GovsimError
from sim.experiment import uncertain_space as space
from sim.experiment.discover import (
    county_failure_shares,
    find_boxes,
    html_section,
    load_boxes,
    run_discover,
)
from sim.experiment.records import read_json

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"
A = "handling.pools.grid.resolve_prob.need"  # plausible 0.5–0.7
B = "trust.slow_days"  # plausible 3–14 days

SYNTHETIC = f"""
kind = "discover"
name = "synthetic"
base = "{SCEN / "yancheng.toml"}"
strategies = ["{SCEN / "fine_grids.toml"}"]
samples = 400
include = ["handling.pools.grid.resolve_prob.*", "generation.rate_per_resident_year.*",
           "trust.*"]
county = false
[[goals]]
metric = "gain_index"
threshold = 0.5
"""


def _planted(x: pd.DataFrame, strategies: list[str]) -> dict:
    """The strategy gains 1 point except where A ≥ 0.64 and B ≤ 7.4 days (it loses 1)."""
    inside = (x[A] >= 0.64) & (x[B] <= 7.4)
    base = np.full(len(x), 60.0)
    return {"gain_index": {"baseline": base, strategies[0]: base + np.where(inside, -1.0, 1.0)}}


def test_discover_recovers_a_planted_failure_box(tmp_path):
    f = tmp_path / "d.toml"
    f.write_text(SYNTHETIC)
    res = run_discover(f, tmp_path / "out", model=_planted)
    (case,) = res["cases"]
    assert case["status"] == "boxes" and 0.05 < case["failure_share"] < 0.3
    box = case["boxes"][0]
    assert box["coverage"] >= 0.8 and box["density"] >= 0.8
    lim = {d["path"]: d for d in box["limits"]}
    assert set(lim) == {A, B}  # restrictions by chance dropped (quasi-p > 0.05)
    assert all(d["qp"] < 0.05 for d in lim.values())
    assert lim[A]["low"] == pytest.approx(0.64, abs=0.02)
    assert lim[A]["high"] == pytest.approx(0.7, abs=0.01)
    assert lim[B]["high"] == pytest.approx(7.4, abs=0.6)
    assert lim[B]["low"] == pytest.approx(3.0, abs=0.1)
    assert lim[A]["zh"] and lim[B]["unit_zh"] == "天"  # the registry's label and unit
    # what the planner report reads back
    back = load_boxes(tmp_path / "out")
    assert back["cases"][0]["boxes"][0]["coverage"] == box["coverage"]
    page = html_section(tmp_path / "out")
    assert "覆盖率" in page and lim[B]["zh"] in page
    assert A in (tmp_path / "out" / "boxes.csv").read_text("utf-8")


def test_find_boxes_when_a_strategy_never_or_always_fails():
    params = space.uncertain_parameters(include=[A, B])
    x = pd.DataFrame(space.latin_hypercube(params, 20, 1), columns=[A, B])
    assert find_boxes(x, np.zeros(20, bool), params)["status"] == "never_fails"
    assert find_boxes(x, np.ones(20, bool), params)["status"] == "always_fails"


def test_discover_file_errors_name_the_key(tmp_path):
    f = tmp_path / "d.toml"
    f.write_text(SYNTHETIC.replace('metric = "gain_index"', 'metric = "gains"'))
    with pytest.raises(GovsimError, match=r"goals\[0\]\.metric = \"gains\": must be one of"):
        run_discover(f, tmp_path / "out", model=_planted)
    f.write_text(SYNTHETIC.replace('kind = "discover"', 'kind = "uncertainty"'))
    with pytest.raises(GovsimError, match='govsim discover` runs files of kind = "discover"'):
        run_discover(f, tmp_path / "out", model=_planted)


TINY = f"""
kind = "discover"
name = "tiny"
base = "{SCEN / "yancheng.toml"}"
strategies = ["{SCEN / "fine_grids.toml"}"]
samples = 4
replications = 1
days = 5
scale = 0.001
seed = 3
set = ["warmup_days=0"]
include = [{A!r}, {B!r}]
county = true
[[goals]]
metric = "gain_index"
"""


def test_tiny_real_discover_run_per_county_and_resumes(tmp_path):
    f = tmp_path / "d.toml"
    f.write_text(TINY.replace("'", '"'))
    out = tmp_path / "out"
    res = run_discover(f, out, workers=0, progress=False)
    scopes = [c["scope"] for c in res["cases"]]
    assert scopes.count("city") == 1 and scopes.count("county") == 9  # the nine counties
    for c in res["cases"]:
        assert c["points"] == 4 and 0 <= c["failure_share"] <= 1
    shares = county_failure_shares(res)["fine_grids"]
    assert len(shares) == 9 and all(0 <= v <= 1 for v in shares.values())
    assert (out / "county_failure_fine_grids.png").stat().st_size > 0
    assert "分县失效比例地图" in html_section(out)
    run_discover(f, out, workers=0, progress=False)
    inv = read_json(out / "discover" / "provenance.json")["invocations"]
    assert inv[0]["runs_to_do"] == 8 and inv[-1]["runs_to_do"] == 0
