"""Efficiency frontier and equal-cost comparison (issue 12): the Pareto set, metric
directions, twin pairing, and the report of a tiny real compare."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from sim.experiment import compare, report, tables
from sim.experiment.frontier import (
    FRONTIER_METRICS,
    direction,
    frontier_line,
    frontier_points,
    pareto_efficient,
    survives,
    twin_pairs,
)
from sim.experiment.html_report import _frontier_figure
from sim.metrics_schema import SUMMARY_KEYS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "yancheng.toml"
FINE = ROOT / "scenarios" / "fine_grids.toml"
TWIN = ROOT / "scenarios" / "fine_grids_equal_cost.toml"


# --------------------------------------------------------------------------- Pareto set

# cost, value: A cheapest, B dearer and better, C dearer than B and worse (dominated by B),
# D as dear as B and worse (dominated), E the dearest and the best
COSTS = [100.0, 200.0, 300.0, 200.0, 400.0]
VALUES = [50.0, 60.0, 55.0, 58.0, 70.0]


def test_pareto_higher_is_better():
    assert pareto_efficient(COSTS, VALUES, +1) == [True, True, False, False, True]


def test_pareto_lower_is_better():
    # lower values better: A is cheapest and lowest, so it dominates every other point
    assert pareto_efficient(COSTS, VALUES, -1) == [True, False, False, False, False]
    # a dearer point with a lower (better) value is efficient too
    assert pareto_efficient([100, 200, 300], [10, 5, 7], -1) == [True, True, False]


def test_pareto_ties():
    # identical points do not dominate each other: both efficient
    assert pareto_efficient([1, 1, 2], [5, 5, 4], +1) == [True, True, False]
    # same cost, better value dominates; same value, lower cost dominates
    assert pareto_efficient([1, 1], [5, 6], +1) == [False, True]
    assert pareto_efficient([1, 2], [5, 5], +1) == [True, False]
    assert pareto_efficient([1, 2], [5, 5], -1) == [True, False]


def test_pareto_non_finite_points_are_left_out():
    assert pareto_efficient([1, math.nan, 3], [1, 9, 2], +1) == [True, False, True]
    assert pareto_efficient([1, 2], [math.nan, 1], +1) == [False, True]
    with pytest.raises(ValueError, match="must be \\+1 or -1"):
        pareto_efficient([1], [1], 0)


def test_directions_defined_in_one_place():
    for m in FRONTIER_METRICS:
        assert m in SUMMARY_KEYS
    assert direction("gain_index") == +1 and direction("resolution_rate") == +1
    assert direction("p90_resolution_days") == -1 and direction("escalations") == -1
    assert direction("cost_per_resident") == -1
    with pytest.raises(ValueError, match="no direction"):
        direction("enquiry_share")


def _rows(metric: str, data: dict[str, tuple[float, float]]) -> list[dict]:
    """Stats-like rows: per scenario (outcome mean, cost mean), CIs ± 1."""
    out = []
    for m, i in ((metric, 0), ("cost_per_resident", 1)):
        for lab, v in data.items():
            out.append(
                {
                    "scenario": lab,
                    "metric": m,
                    "mean": v[i],
                    "ci_low": v[i] - 1,
                    "ci_high": v[i] + 1,
                    "n": 2,
                }
            )
    return out


def test_frontier_points_from_rows_mind_direction():
    data = {
        "base": (10.0, 300.0),
        "a": (8.0, 500.0),
        "a_equal_cost": (9.0, 300.0),
        "b": (12.0, 250.0),
    }
    # p90 resolution days: lower is better. b is cheapest but slowest; a_equal_cost
    # dominates base (same cost, faster); a is dearest and fastest.
    pts = frontier_points(_rows("p90_resolution_days", data), "p90_resolution_days")
    eff = {p["scenario"]: p["efficient"] for p in pts}
    assert eff == {"base": False, "a": True, "a_equal_cost": True, "b": True}
    assert [p["scenario"] for p in frontier_line(pts)] == ["b", "a_equal_cost", "a"]
    # the same numbers as a higher-is-better outcome: only b (cheapest and best)
    rows = _rows("gain_index", data)
    assert [p["scenario"] for p in frontier_line(frontier_points(rows, "gain_index"))] == ["b"]
    # no cost among the rows: no frontier
    assert frontier_points([r for r in rows if r["metric"] == "gain_index"], "gain_index") == []


def test_twin_pairs_and_survival():
    assert twin_pairs(["base", "a", "a_equal_cost", "b", "c_equal_cost"]) == [("a", "a_equal_cost")]
    sig_up = {"diff": 1.0, "p": 0.01}
    sig_down = {"diff": -1.0, "p": 0.01}
    ns = {"diff": 1.0, "p": 0.4}
    assert survives(sig_up, sig_up) == "holds"
    assert survives(sig_up, sig_down) == "reversed"
    assert survives(sig_up, ns) == "lost"
    assert survives(ns, sig_down) == "appears"
    assert survives(ns, ns) == "" and survives({}, {}) == ""


def test_twin_line_only_when_both_present():
    data = {"base": (60.0, 300.0), "a": (65.0, 500.0), "a_equal_cost": (63.0, 300.0)}
    rows = _rows("gain_index", data)
    html, _ = _frontier_figure(rows, list(data))
    assert "equal-cost twin: a–a_equal_cost" in html
    rows = [r for r in rows if r["scenario"] != "a_equal_cost"]
    html, summary = _frontier_figure(rows, ["base", "a"])
    assert "equal-cost twin: none" in html and "a–a_equal_cost" not in html
    assert summary == [[tables.metric_label("gain_index"), "越高越好 higher is better", "base, a"]]


# --------------------------------------------------------------------------- real tiny compare


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("frontier") / "cmp"
    compare([BASE, FINE, TWIN], reps=2, out=out, days=3, scale=0.002, workers=0, progress=False)
    report(out)
    return out


def _section(html: str, anchor: str) -> str:
    start = html.index(f"id='{anchor}'")
    end = html.find("<h2", start + 1)
    return html[start : end if end > 0 else None]


def test_report_has_frontier_figure_and_equal_cost_table(folder):
    html = (folder / "report.html").read_text(encoding="utf-8")
    sec = _section(html, "frontier")
    assert "效率前沿" in sec and "efficiency frontier" in sec
    figs = re.findall(r"<figure>(.*?)</figure>", sec, flags=re.S)
    assert len(figs) == 1
    alt = re.search(r'alt="([^"]*)"', figs[0]).group(1)
    assert "cost per resident" in alt and "Pareto-efficient" in alt
    assert "fine_grids–fine_grids_equal_cost" in alt  # the twin line is drawn
    cap = re.search(r"<figcaption>(.*?)</figcaption>", figs[0], flags=re.S).group(1)
    assert cap.startswith("效率前沿") and "efficiency frontier" in cap
    for m in FRONTIER_METRICS:
        assert tables.metric_label(m) in alt
    # the equal-cost table names the configuration and its twin, with both costs
    eq = sec[sec.index("id='equal-cost'") :]
    assert "同等成本对比" in eq and "equal-cost comparison" in eq
    assert "<td>fine_grids 精网微格</td>" in eq
    assert "<td>fine_grids_equal_cost 精网微格（同等成本）</td>" in eq
    assert eq.count("<tr>") == 1 + 3  # header, reference, configuration, twin


def test_exports_carry_the_equal_cost_table(folder):
    for name in ("methods.md", "table.tex", "table.md"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "同等成本对比" in text, name
        assert "fine_grids_equal_cost" in text.replace("\\_", "_"), name


def test_no_twin_no_equal_cost_table_no_twin_line(tmp_path):
    out = tmp_path / "cmp"
    compare([BASE, FINE], reps=2, out=out, days=3, scale=0.002, workers=0, progress=False)
    report(out)
    html = (out / "report.html").read_text(encoding="utf-8")
    sec = _section(html, "frontier")
    assert "<figure>" in sec and "equal-cost twin: none" in sec
    assert "id='equal-cost'" not in html and "同等成本对比" not in html


def test_the_key_table_ends_with_the_cost_per_resident(folder):
    from sim.experiment.summary import summarize

    result = summarize(folder)
    header, body = tables.compare_key_table(result.rows, {})
    assert header[-1].startswith(tables.metric_label("cost_per_resident"))
    by = {r["scenario"]: r for r in result.rows if r["metric"] == "cost_per_resident"}
    ref, fine = body[0], body[1]
    assert ref[-1] == f"{tables.fmt(by['yancheng']['mean'], 'cost_per_resident')} (参照 ref.)"
    # fine grids employ more staff: the cost rises, shown as Δ% beside the mean, no stars
    assert by["fine_grids"]["diff_pct"] > 0
    assert fine[-1].endswith(f"({tables.fmt_pct(by['fine_grids']['diff_pct'])})")
    assert "*" not in fine[-1]


def test_robustness_from_an_uncertainty_folder_sits_beside_each_effect(folder, tmp_path):
    """govsim report DIR --robustness UNC: the share in which each sign holds, per cell."""
    import json
    import shutil
    import subprocess
    import sys

    from sim.experiment.summary import summarize

    own = tmp_path / "cmp"
    shutil.copytree(folder, own)
    unc = tmp_path / "unc"
    unc.mkdir()
    rows = [
        {"config": "fine_grids", "metric": "gain_index", "share": 0.75, "share_low": 0.6,
         "share_high": 0.86},
        {"config": "fine_grids_equal_cost", "metric": "escalations", "share": 0.5,
         "share_low": 0.3, "share_high": 0.7},
    ]  # fmt: skip
    (unc / "uncertainty.json").write_text(json.dumps({"robustness": {"rows": rows}}))
    govsim = str(Path(sys.executable).with_name("govsim"))
    r = subprocess.run([govsim, "report", str(own), "--robustness", str(unc), "--quiet"],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    result = summarize(own, write=False)
    header, body = tables.compare_key_table(result.rows, {}, robustness=result.robustness)
    col = {h: i for i, h in enumerate(header)}
    fine = next(b for b in body if b[0] == "fine_grids")
    twin = next(b for b in body if b[0] == "fine_grids_equal_cost")
    assert fine[col[tables.metric_label("gain_index")]].endswith(" · 75%")
    assert twin[col[tables.metric_label("escalations")]].endswith(" · 50%")
    assert "·" not in fine[col[tables.metric_label("escalations")]]  # none given: no mark
    for name in ("table.md", "report.html", "methods.md"):
        text = (own / name).read_text(encoding="utf-8")
        assert " · 75%" in text and "稳健性 robustness" in text, name
