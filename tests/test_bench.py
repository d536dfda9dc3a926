"""Tests of the benchmark (sim/bench.py): the report's keys and JSON form, not its timings."""

from __future__ import annotations

import json
import sys
import types

import pytest

from sim import bench
from sim.model import STAGES

TINY = {
    "days": 3,
    "reference_days": 1,
    "epstein_steps": 2,
    "progress": False,
    "scales": (0.001,),
    "reference_residents": 2_000,
    "cold_start_runs": 1,
}
RUN_KEYS = {"scale", "residents", "days", "build_s", "wall_s", "resident_days_per_s", "peak_rss_mb"}


def _stand_in_reference() -> types.ModuleType:
    """A stand-in for tests/reference/step.py: one whole day, here with the kernels."""
    module = types.ModuleType("tests.reference.step")

    def reference_step(model):
        return model.step()

    module.reference_step = reference_step
    return module


@pytest.fixture(scope="module")
def report():
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "tests.reference.step", _stand_in_reference())
        return bench.run_bench(**TINY)


def test_report_has_documented_keys_and_positive_numbers(report):
    assert report["numba_warm"] is True
    assert report["days"] == 3
    assert [run["scale"] for run in report["runs"]] == [0.001]
    run = report["runs"][0]
    assert RUN_KEYS <= run.keys()
    assert run["scale_label"] == "1:1000"
    assert run["residents"] > 1000
    assert run["days"] == 3
    for key in ("build_s", "wall_s", "resident_days_per_s", "peak_rss_mb"):
        assert run[key] > 0, key
    assert run["resident_days_per_s"] == pytest.approx(run["residents"] * 3 / run["wall_s"])

    assert set(report["stages"]) == {"1:1000"}
    assert set(report["stages"]["1:1000"]) == set(STAGES)
    assert all(seconds >= 0 for seconds in report["stages"]["1:1000"].values())

    assert report["ratio_vs_reference"] > 0
    assert report["ratio_note"]
    ref = report["reference"]
    assert ref["residents"] == 2_000
    assert ref["days"] == 1
    assert ref["kernel_s_per_day"] > 0
    assert ref["reference_s_per_day"] > 0

    assert report["mesa_epstein_agent_steps_per_s"] > 0
    assert report["ratio_vs_mesa_epstein"] == pytest.approx(
        run["resident_days_per_s"] / report["mesa_epstein_agent_steps_per_s"]
    )
    assert run["end_to_end_s"] == pytest.approx(run["build_s"] + run["wall_s"])
    assert run["end_to_end_resident_days_per_s"] < run["resident_days_per_s"]

    cold = report["cold_start"]
    assert cold["scale_label"] == "1:100" and cold["residents"] > 60_000
    assert len(cold["runs"]) == 1
    parts = cold["imports_s"] + cold["build_s"] + cold["first_day_s"]
    assert 0 < parts == pytest.approx(cold["seconds_to_first_day"])
    assert report["mesa_epstein"]["agents"] > 0
    assert report["mesa_epstein"]["steps"] == 2

    machine = report["machine"]
    assert machine["cpu_count"] >= 1
    assert machine["numba_threads"] >= 1
    assert machine["python"]
    assert machine["platform"]
    assert 0 < run["day_s_median"] <= run["day_s_max"]
    assert report["provenance"]["govsim"]


def test_report_is_valid_json(report):
    text = json.dumps(report, allow_nan=False)
    assert json.loads(text) == report


def test_missing_reference_twins_give_null_ratio_with_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "tests.reference.step", None)  # import raises ImportError
    out = bench.bench_reference(bench.load_bench_scenario()[0], days=1, residents=2_000)
    assert out["ratio_vs_reference"] is None
    assert "not importable" in out["ratio_note"]
    assert out["reference"]["kernel_s_per_day"] > 0


def test_real_reference_twins_give_a_ratio():
    reference_step, why = bench._import_reference_step()
    if reference_step is None:
        pytest.skip(why)
    out = bench.bench_reference(bench.load_bench_scenario()[0], days=1, residents=2_000)
    assert out["ratio_vs_reference"] > 0, out["ratio_note"]
    assert set(out["reference"]["reference_stages_s"]) == set(STAGES)


def test_scale_label():
    assert bench.scale_label(0.01) == "1:100"
    assert bench.scale_label(0.1) == "1:10"
    assert bench.scale_label(1.0) == "1:1"
    assert bench.scale_label(0.015) == "0.015"


def test_cli_child_mode_prints_one_json_object(capsys):
    assert bench.main(["--one", "0.001", "--days", "2", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert RUN_KEYS <= out.keys()
    assert set(out["stages"]) == set(STAGES)


def test_bad_days_is_a_clear_error(capsys):
    assert bench.main(["--days", "0", "--no-progress"]) == 2
    assert "must be ≥ 1" in capsys.readouterr().err
