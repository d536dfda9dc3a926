"""The report as a paper's appendix (issue 14): methods, provenance of every invocation, runs,
model digest, figures with alt text and captions, exports; sensitivity with seed variance."""

from __future__ import annotations

import io
import json
import math
import re
import types
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

import sim
from sim.experiment import cli as exp_cli
from sim.experiment import compare, report, sensitivity, sweep
from sim.experiment.indices import RANK_MIN, analyze_design, sobol_flags
from sim.experiment.records import ExperimentFolder
from sim.metrics_schema import SUMMARY_KEYS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "yancheng.toml"
CENTRE = ROOT / "scenarios" / "command_centre.toml"


def fake_run(scenario):
    """Instant stand-in: p90 falls with centre integration and workers, plus seed noise."""
    rng = np.random.default_rng(scenario.seed)
    x = scenario.levers.data.centre_integration
    w = scenario.levers.capability.workers_per_grid
    noise = rng.normal(size=len(SUMMARY_KEYS))
    summary = {k: 50.0 + float(z) for k, z in zip(SUMMARY_KEYS, noise, strict=True)}
    summary["p90_resolution_days"] = 10.0 - 4.0 * x - 1.0 * w + 2.0 * x * w + float(noise[0])
    days = np.arange(scenario.days)
    daily = {"day": days, "gain_index": 60 + 10 * x + rng.normal(size=days.size)}
    return types.SimpleNamespace(
        daily=daily, summary=summary, timings={"run_s": 0.0}, residents=100, county_values={}
    )


def _check_figures(html: str) -> None:
    assert 'alt="figure"' not in html
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert imgs
    for img in imgs:
        alt = re.search(r'alt="([^"]*)"', img)
        assert alt and alt.group(1).strip(), img[:80]
    assert html.count("<figure>") == len(imgs) == html.count("<figcaption>")
    for cap in re.findall(r"<figcaption>(.*?)</figcaption>", html, flags=re.S):
        assert cap.strip()


def _section(html: str, anchor: str) -> str:
    start = html.index(f"id='{anchor}'")
    end = html.find("<h2", start + 1)
    return html[start : end if end > 0 else None]


# --------------------------------------------------------------------------- real tiny runs


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("appendix") / "cmp"
    kw = dict(out=out, days=3, scale=0.002, workers=0, progress=False)
    compare([BASE, CENTRE], reps=2, **kw)
    compare([BASE, CENTRE], reps=3, **kw)  # a second invocation: one more replication
    code = exp_cli.main(["report", str(out), "--quiet"])
    assert code == 0
    return out


def test_methods_section_from_the_records(compare_folder):
    html = (compare_folder / "report.html").read_text(encoding="utf-8")
    plan = ExperimentFolder(compare_folder).read_plan()
    sc = plan.groups[0]["scenario"]
    methods = _section(html, "methods")
    assert "simulates 3 days" in methods and "模拟 3 天" in methods
    assert f"warm-up of {sc['warmup_days']} days" in methods
    assert "Scale 0.002" in methods and "1:500" in methods
    assert "3 replications" in methods and f"Experiment seed {plan.seed}" in methods
    assert "SeedSequence" in methods and "spawn_key=(0, i)" in methods
    for words in ("Fieller", "Holm", "TOST", "SESOI", "Clopper", "Student t"):
        assert words in methods
    # the title comes from the experiment (scenario files compared), no "compare (compare)"
    title = re.search(r"<h1>(.*?)</h1>", html, flags=re.S).group(1)
    assert "yancheng vs command_centre" in title and "compare (compare)" not in html


def test_every_invocation_runs_table_and_model_digest(compare_folder):
    html = (compare_folder / "report.html").read_text(encoding="utf-8")
    prov = json.loads((compare_folder / "provenance.json").read_text(encoding="utf-8"))
    assert len(prov["invocations"]) == 2
    digest = sim.model_version()
    assert all(inv["model_version"] == digest for inv in prov["invocations"])
    section = _section(html, "provenance")
    assert section.count(f"<td>{digest}</td>") == 2  # one row per invocation
    assert digest in _section(html, "methods")
    runs = _section(html, "runs")
    plan = ExperimentFolder(compare_folder).read_plan()
    assert len(plan.runs) == 6
    for run in plan.runs:
        assert f"<td>{run['run_id'][:12]}</td>" in runs and f"<td>{run['seed']}</td>" in runs
    assert runs.count("<td>done</td>") == 6


def test_figures_have_alt_text_and_captions(compare_folder):
    _check_figures((compare_folder / "report.html").read_text(encoding="utf-8"))


def test_latex_and_markdown_exports(compare_folder):
    tex = (compare_folder / "table.tex").read_text(encoding="utf-8")
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") >= 1
    assert r"\toprule" in tex and r"\subsection*{Methods}" in tex
    body = tex.split(r"\begin{tabular}")[1]
    assert "_" not in body.replace(r"\_", "")  # special characters escaped
    md = (compare_folder / "methods.md").read_text(encoding="utf-8")
    assert md.startswith("# ") and "## 方法" in md and "## Methods" in md
    assert "| " in md and "warm-up" in md


# --------------------------------------------------------------------------- stand-in runs


def test_sweep_report_main_effects_with_cis_and_interaction(tmp_path):
    exp = tmp_path / "s.toml"
    exp.write_text(
        f"""
kind = "sweep"
name = "appendix_sweep"
base = "{BASE.as_posix()}"
replications = 3
days = 2
metrics = ["p90_resolution_days", "gain_index"]
[[factors]]
path = "levers.data.centre_integration"
values = [0.0, 0.5, 1.0]
[[factors]]
path = "levers.capability.workers_per_grid"
values = [1, 3]
""",
        encoding="utf-8",
    )
    sweep(exp, out=tmp_path / "out", workers=0, progress=False, run_fn=fake_run)
    html = report(tmp_path / "out", progress=False).read_text(encoding="utf-8")
    _check_figures(html)
    assert "95% t interval" in html and "Interaction plot of" in html
    title = re.search(r"<h1>(.*?)</h1>", html, flags=re.S).group(1)
    assert "appendix_sweep" in title
    assert "Full factorial design, 6 design points" in html
    assert (tmp_path / "out" / "table.tex").is_file()


def test_sensitivity_report_has_mu_sigma_and_convergence_plots(tmp_path):
    exp = tmp_path / "m.toml"
    exp.write_text(
        f"""
kind = "sensitivity"
name = "appendix_morris"
base = "{BASE.as_posix()}"
samples = 4
replications = 3
days = 2
metrics = ["p90_resolution_days"]
[[factors]]
path = "levers.data.centre_integration"
range = [0.0, 1.0]
[[factors]]
path = "levers.capability.workers_per_grid"
range = [1, 3]
""",
        encoding="utf-8",
    )
    res = sensitivity(exp, out=tmp_path / "out", workers=0, progress=False, run_fn=fake_run)
    p90 = res.indices["metrics"]["p90_resolution_days"]
    assert len(p90["per_replication"]["mu_star"]) == 3
    assert p90["convergence"]["fresh_seeds"] is True
    html = report(tmp_path / "out", progress=False).read_text(encoding="utf-8")
    _check_figures(html)
    assert "Morris mu-star against sigma" in html and "Convergence of mu-star" in html
    assert "rank stability" in html


# --------------------------------------------------------------------------- indices


def _morris(n=10, seed=1):
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}
    x = morris_sample.sample(problem, n, num_levels=4, seed=seed)
    sampler = {"levels": 4, "samples": n // 2, "rows_per_sample": 4, "convergence": True}
    return problem, x, {**sampler, "tolerance": 0.3}


def test_morris_indices_per_replication_with_bootstrap_ci():
    problem, x, sampler = _morris()
    rng = np.random.default_rng(5)
    y = np.array([3 * x[:, 0] + x[:, 1] + 0.5 * rng.normal(size=len(x)) for _ in range(6)])
    res = analyze_design("morris", problem, x, y, sampler, seed=3)
    ind = res["indices"]
    assert len(res["per_replication"]["mu_star"]) == 6
    per = np.array(res["per_replication"]["mu_star"])
    assert ind["mu_star"] == pytest.approx(per.mean(axis=0).tolist())
    for i in range(3):
        assert ind["mu_star_low"][i] <= ind["mu_star"][i] <= ind["mu_star_high"][i]
        assert ind["mu_star_low"][i] < ind["mu_star_high"][i]  # seed noise is visible
    assert sum(res["top_factor_share"].values()) == pytest.approx(1.0)
    assert res["top_factor_share"]["a"] > 0.5
    # reproducible: the bootstrap over replications is seeded
    again = analyze_design("morris", problem, x, y, sampler, seed=3)
    assert again["indices"]["mu_star_low"] == ind["mu_star_low"]
    # one replication: no bootstrap CI, the seeds of N and 2N cannot differ
    one = analyze_design("morris", problem, x, y[0], sampler, seed=3)
    assert math.isnan(one["indices"]["mu_star_low"][0])
    assert one["convergence"]["fresh_seeds"] is False


def test_convergence_fails_on_unstable_ranks():
    problem, x, sampler = _morris()
    half = sampler["samples"] * sampler["rows_per_sample"]
    first = 2 * x[:, 0] + x[:, 1]  # a ranks first at N
    second = x[:, 0] + 5 * x[:, 1]  # the added half makes b the most influential
    y = np.concatenate([first[:half], second[half:]])
    res = analyze_design("morris", problem, x, np.array([y, y]), sampler, seed=1)
    conv = res["convergence"]
    assert conv["rank_spearman"] < RANK_MIN and "rank_kendall" in conv
    assert res["same_top_factor"] is False and res["converged"] is False
    # the path of sizes for the convergence plot ends at 2N
    sizes = [p["samples"] for p in conv["path"]]
    assert sizes[-1] == 2 * sampler["samples"] and sampler["samples"] in sizes
    # a stable design passes on the same criteria
    ok = analyze_design("morris", problem, x, np.array([first, first]), sampler, seed=1)
    assert ok["convergence"]["rank_spearman"] == pytest.approx(1.0) and ok["converged"]


def test_sobol_negative_index_is_flagged_with_its_meaning():
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}
    x = sobol_sample.sample(problem, 8, calc_second_order=False, seed=2)
    y = x[:, 0] + np.random.default_rng(0).normal(scale=2.0, size=len(x))  # noise dominates
    sampler = {"samples": 8, "rows_per_sample": 5, "convergence": False, "tolerance": 0.1}
    res = analyze_design("sobol", problem, x, y, sampler, seed=1)
    s1 = res["indices"]["S1"]
    assert min(s1) < 0  # small N and a noisy output: an impossible estimate
    flagged = {f["factor"] for f in res["flags"] if f["flag"] == "S1<0"}
    assert flagged == {n for n, v in zip(problem["names"], s1, strict=True) if v < 0}
    assert all("sampling error" in f["en"] for f in res["flags"])
    # every bound of the theory is checked
    flags = sobol_flags(["p", "q"], {"S1": [1.2, 0.5], "ST": [1.3, -0.1]})
    assert {(f["factor"], f["flag"]) for f in flags} == {
        ("p", "S1>1"),
        ("q", "ST<0"),
        ("q", "S1>ST"),
    }


def test_cli_report_prints_nothing_unexpected(compare_folder):
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert exp_cli.main(["report", str(compare_folder), "--quiet"]) == 0
    assert (compare_folder / "methods.md").is_file()
