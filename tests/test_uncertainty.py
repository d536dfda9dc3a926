"""govsim uncertainty: the uncertain space, Morris/Sobol stages and robustness of conclusions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim.errors import GovsimError
from sim.experiment import uncertain_space as space
from sim.experiment.plan import build_scenario
from sim.experiment.records import read_json
from sim.experiment.uncertainty import (
    robustness_rows,
    robustness_table,
    run_uncertainty,
    top_factors,
    wilson,
)
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "yancheng.toml"


def _dump(path: Path = BASE) -> dict:
    return load_scenario(path).model_dump(mode="json")


def test_space_is_the_registry_assumptions_without_levers_or_fixed_values():
    params = space.uncertain_parameters()
    paths = {p.path for p in params}
    assert not any(p.startswith("levers.") for p in paths)
    assert all(p.low < p.high for p in params)
    assert "handling.pools.hotline.resolve_prob.need" not in paths  # plausible (0, 0)
    reasons = {e["path"]: e["reason"] for e in space.excluded()}
    assert reasons["levers.data.data_sharing"].startswith("lever")
    assert reasons["handling.pools.hotline.resolve_prob.need"].startswith("plausible range")
    only = space.uncertain_parameters(include=["city.counties[*].population"])
    assert [p.path for p in only] == [f"city.counties[{i}].population" for i in range(9) if i != 3]
    with pytest.raises(GovsimError, match=r"exclude\[0\] = \"nope\.\*\": matches no parameter"):
        space.check_patterns(["nope.*"], "exclude", "x.toml")


def test_overrides_keep_the_schema_constraints_and_a_configurations_own_change():
    base = _dump()
    params = space.uncertain_parameters(
        include=["handling.sector_mix.dispute[*]", "city.counties[*].population",
                 "handling.mediators_per_100k", "activation.incident_min_active"]
    )  # fmt: skip
    x = space.latin_hypercube(params, 5, seed=3)
    for row in x:
        o = space.overrides(base, params, row)
        assert math.isclose(sum(o["handling.sector_mix.dispute"]), 1.0)
        assert sum(c["population"] for c in o["city.counties"]) == base["city"]["total_population"]
        assert isinstance(o["activation.incident_min_active"], int)
        build_scenario(base, o, 1)  # validates
    # a configuration that doubles a parameter keeps doubling it at every sample
    changed = json.loads(json.dumps(base))
    changed["handling"]["mediators_per_100k"] *= 2
    o1 = space.overrides(base, params, x[0])
    o2 = space.overrides(changed, params, x[0])
    assert o2["handling.mediators_per_100k"] == pytest.approx(2 * o1["handling.mediators_per_100k"])


def test_wilson_and_robustness_rows_on_known_effects():
    lo, hi = wilson(8, 10)
    assert 0 <= lo < 0.8 < hi <= 1
    # 3 groups (baseline, a, b) × 10 samples × 2 reps; a is better at 7 samples of 10
    v = np.zeros((3, 10, 2))
    v[1, :7] = 1.0
    v[1, 7:] = -1.0
    v[2] = -0.5
    values = {"metrics": {"gain_index": v}, "nominal": {"gain_index": np.array(
        [[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])}}  # fmt: skip
    groups = [{"label": n, "title_zh": n} for n in ("base", "a", "b")]
    rows = robustness_rows(values, groups, ["gain_index"], {})
    got = {r["config"]: r for r in rows}
    assert got["a"]["share"] == pytest.approx(0.7) and got["a"]["sign"] == 1
    assert got["b"]["share"] == 1.0 and got["b"]["sign"] == -1
    for r in rows:
        assert 0 <= r["share_low"] <= r["share"] <= r["share_high"] <= 1
    # a headline sign overrides the nominal one
    rows = robustness_rows(values, groups, ["gain_index"], {("a", "gain_index"): {"diff": -2.0}})
    a = next(r for r in rows if r["config"] == "a")
    assert a["sign"] == -1 and a["share"] == pytest.approx(0.3) and a["sign_source"] == "headline"


def test_top_factors_rank_by_relative_mu_star():
    ind = {
        "problem": {"names": ["p", "q", "r"]},
        "metrics": {
            "m1": {"indices": {"mu_star": [10.0, 1.0, 0.0]}},
            "m2": {"indices": {"mu_star": [0.0, 0.1, 0.2]}},
        },
    }
    top = top_factors(ind, 2)
    assert [t["path"] for t in top] == ["p", "r"]  # r is m2's largest
    assert top[1]["metric"] == "m2"


TINY = """
kind = "uncertainty"
name = "tiny"
base = "{base}"
configurations = ["{cfg}"]
days = 4
scale = 0.001
seed = 5
set = ["warmup_days=0"]   # a fast test: no spin-up
metrics = ["resolution_rate", "gain_index"]
include = ["handling.pools.grid.resolve_prob.need", "generation.rate_per_resident_year.dispute",
           "trust.effect_failed"]
[morris]
trajectories = 2
convergence = false
replications = 2
[sobol]
top_k = 2
samples = 2
convergence = false
replications = 1
[robustness]
samples = 2
replications = 2
"""


def test_tiny_real_uncertainty_run_resumes_and_reports_shares(tmp_path):
    f = tmp_path / "u.toml"
    f.write_text(TINY.format(base=BASE, cfg=ROOT / "scenarios" / "fine_grids.toml"))
    out = tmp_path / "out"
    res = run_uncertainty(f, out, workers=0, progress=False)
    assert len(res["parameters"]) == 3
    assert res["morris"]["status"]["done"] == 2 * 4 * 2
    assert len(res["sobol"]["factors"]) == 2
    table = robustness_table(out)
    assert set(table) == {("fine_grids", "resolution_rate"), ("fine_grids", "gain_index")}
    for share, lo, hi in table.values():
        assert 0 <= lo <= share <= hi <= 1
    for name in ("screening.csv", "screening.md", "sobol.csv", "robustness.csv",
                 "robustness.md", "uncertainty.html"):  # fmt: skip
        assert (out / name).stat().st_size > 0
    assert "结论稳健性" in (out / "uncertainty.html").read_text("utf-8")
    assert (out / "morris" / "stats.json").is_file()  # kind=sensitivity: govsim report reads it
    # rerun: every record is reused, nothing is simulated again
    run_uncertainty(f, out, workers=0, progress=False)
    for stage in ("morris", "sobol", "robustness"):
        inv = read_json(out / stage / "provenance.json")["invocations"]
        assert inv[0]["runs_to_do"] > 0 and inv[-1]["runs_to_do"] == 0


def test_headline_signs_are_read_from_a_compare_folder(tmp_path):
    from sim.experiment.records import write_json
    from sim.experiment.uncertainty import _headline_signs

    rows = [
        {"metric": "gain_index", "scenario": "yancheng", "mean": 62.0},
        {"metric": "gain_index", "scenario": "fine_grids", "diff": 2.3, "p": 0.001},
        {"metric": "escalations", "scenario": "fine_grids", "diff": -80.0, "p": 0.0},
    ]
    write_json(tmp_path / "stats.json", {"kind": "compare", "rows": rows})
    signs = _headline_signs(tmp_path, ["gain_index", "escalations"])
    assert signs == {
        ("fine_grids", "gain_index"): {"diff": 2.3, "p": 0.001},
        ("fine_grids", "escalations"): {"diff": -80.0, "p": 0.0},
    }
    with pytest.raises(GovsimError, match="no stats.json; run `govsim compare"):
        _headline_signs(tmp_path / "missing", ["gain_index"])
