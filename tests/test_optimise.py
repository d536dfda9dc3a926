"""``govsim optimise``: the known optimum of a toy plan, the budget as a hard constraint,
common random numbers, determinism, resumption, plan-file errors (issue 16).

The toy plan has two service desks (the 12345 hotline and the online mediation platform of
a two-county city), each an M/M/c queue, and a budget that pays for 14 workers in all.
Its candidates run through the whole optimise path (plan file, costs module, Optuna,
replications with common random numbers, records, leaders, paired statistics); only the
run function is narrowed to the two queues, simulated by the model's handling kernel
(:func:`sim.validation.queueing.queue_alone`). The optimum is found independently by brute
force over the integer allocations with Erlang C (:func:`sim.queueing.mean_wait_erlang_c`)
and the costs module.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim.errors import GovsimError
from sim.experiment import optimise as opt
from sim.queueing import mean_wait_erlang_c
from sim.scenario import load_scenario
from sim.validation.queueing import queue_alone

ROOT = Path(__file__).resolve().parents[1]
LAM = (6.0, 3.0)  # arrivals per hour at the hotline and at the online platform
MU = 1.0  # services per hour per worker
WORKERS = 14  # the budget pays for this many workers beyond the fixed costs
UNSTABLE_WAIT_H = 1e3
SEED = 7

TOY_SCENARIO = f"""
name = "toy_two_desks"
extends = "{(ROOT / "scenarios" / "yancheng.toml").as_posix()}"
scale = 1.0
days = 30

[city]
total_population = 100000
[[city.counties]]
name_zh = "亭湖区"
name_en = "Tinghu"
population = 50000
urban_share = 0.8
[[city.counties]]
name_zh = "盐都区"
name_en = "Yandu"
population = 50000
urban_share = 0.6

[costs]
operator_pay = 80000.0
mediator_pay = 80000.0

[levers.capability]
online_mediation = true
"""


def toy_run(sc):
    """Two M/M/c desks; servers = slots per 100k (the toy city has 100,000 residents)."""
    c = (round(sc.handling.hotline_seats_per_100k), round(sc.handling.online_slots_per_100k))
    waits = []
    for lam, ci in zip(LAM, c, strict=True):
        if lam >= ci * MU:
            waits.append(UNSTABLE_WAIT_H)
        else:
            r = queue_alone(ci, lam / (ci * MU), MU, days=120, warmup_days=10, seed=sc.seed % 2**31)
            waits.append(r.mean_wait)
    w = float(np.dot(LAM, waits) / sum(LAM))
    return SimpleNamespace(summary={"mean_resolution_days": w / 24.0}, daily={})


_INTERRUPT = {"after": 0}


def toy_run_interrupted(sc):
    """``toy_run`` that stops the whole optimisation (as Ctrl-C would) after a few runs."""
    _INTERRUPT["after"] -= 1
    if _INTERRUPT["after"] < 0:
        raise KeyboardInterrupt
    return toy_run(sc)


def _toy_plan(tmp_path: Path, *, budget: float, trials: int = 36, seed: int = SEED) -> Path:
    (tmp_path / "toy.toml").write_text(TOY_SCENARIO, encoding="utf-8")
    plan = f"""
kind = "optimise"
name = "toy"
base = "toy.toml"
seed = {seed}
trials = {trials}
batch = 6
replications = 2
leaders = 4
leader_replications = 4

[budget]
yuan_per_year = {budget!r}

[[variables]]
name = "hotline"
path = "handling.hotline_seats_per_100k"
type = "int"
range = [6, 12]

[[variables]]
name = "online"
path = "handling.online_slots_per_100k"
type = "int"
range = [3, 9]

[[objectives]]
metric = "mean_resolution_days"
"""
    path = tmp_path / "plan.toml"
    path.write_text(plan, encoding="utf-8")
    return path


def _cost(costs: opt.CostModel, base, c1: int, c2: int, seed: int = SEED) -> float:
    """Yearly cost of the toy city with c1 hotline and c2 online workers (the costs module;
    the city of replication 0's seed, as the optimiser builds it)."""
    h = base.handling.model_copy(
        update={"hotline_seats_per_100k": float(c1), "online_slots_per_100k": float(c2)}
    )
    city_seed = opt.planning.replication_seed(seed, 0)
    return costs.city_yuan(base.model_copy(update={"handling": h, "seed": city_seed}))


@pytest.fixture(scope="module")
def toy_budget(tmp_path_factory):
    """Budget = the cost of 14 workers at the two desks; the brute-force optimum."""
    tmp = tmp_path_factory.mktemp("toy_scenario")
    (tmp / "toy.toml").write_text(TOY_SCENARIO, encoding="utf-8")
    base = load_scenario(tmp / "toy.toml")
    costs = opt.CostModel()
    # half a worker's pay to spare: 14 workers fit, 15 do not, whatever the plan's seed (the
    # seed draws the city, and the 雪亮 devices of its vulnerable residents cost a little)
    half_worker = 0.5 * base.costs.operator_pay * base.costs.overhead
    budget = _cost(costs, base, WORKERS // 2, WORKERS - WORKERS // 2) + half_worker
    best = None
    for c1 in range(6, 13):
        for c2 in range(3, 10):
            if _cost(costs, base, c1, c2) > budget:
                continue
            w = (
                LAM[0] * mean_wait_erlang_c(LAM[0], MU, c1)
                + LAM[1] * mean_wait_erlang_c(LAM[1], MU, c2)
            ) / sum(LAM)
            if best is None or w < best[0]:
                best = (w, c1, c2)
    return budget, best, costs, base


@pytest.mark.parametrize(
    "seed",
    [SEED, pytest.param(5, marks=pytest.mark.slow), pytest.param(11, marks=pytest.mark.slow)],
)
def test_toy_plan_finds_the_erlang_c_optimum_and_never_exceeds_the_budget(
    tmp_path, toy_budget, seed
):
    budget, (w_best, c1, c2), costs, base = toy_budget
    assert (c1, c2) == (9, 5)  # the independent answer (Erlang C, brute force)
    res = opt.optimise(
        _toy_plan(tmp_path, budget=budget, seed=seed),
        tmp_path / "out",
        workers=0,
        progress=False,
        run_fn=toy_run,
    )
    (rec,) = res["recommendations"]
    assert (rec["params"]["hotline"], rec["params"]["online"]) == (9, 5)
    assert rec["cost_yuan_city"] <= budget
    # every candidate above budget was never run; every run candidate is within budget
    for t in res["trials"]:
        cost = _cost(costs, base, t["params"]["hotline"], t["params"]["online"], seed)
        assert t["cost_yuan_city"] == pytest.approx(cost)
        if cost > budget:
            assert t["feasible"] is False and t["point"] is None
        else:
            assert t["point"] is not None
    assert res["counts"]["infeasible_never_run"] > 0  # the search did meet the budget
    # the recommendation is compared with the base, paired by replication, with a CI
    (row,) = [r for r in rec["vs_base"] if r["metric"] == "mean_resolution_days"]
    assert row["n"] == 4 and row["diff_ci_low"] <= row["diff"] <= row["diff_ci_high"]


def test_same_seed_same_study_and_common_random_numbers(tmp_path, toy_budget):
    budget = toy_budget[0]
    plan = _toy_plan(tmp_path, budget=budget, trials=8)
    kw = {"workers": 0, "progress": False, "run_fn": toy_run}
    a = opt.optimise(plan, tmp_path / "a", **kw)
    b = opt.optimise(plan, tmp_path / "b", **kw)
    assert [t["params"] for t in a["trials"]] == [t["params"] for t in b["trials"]]
    assert [t["values"] for t in a["trials"]] == [t["values"] for t in b["trials"]]
    # every point ran with the same replication seeds (common random numbers)
    exp = json.loads((tmp_path / "a" / "evaluations" / "experiment.json").read_text())
    seeds: dict[int, set] = {}
    for r in exp["runs"]:
        seeds.setdefault(r["rep"], set()).add(r["seed"])
    assert all(len(s) == 1 for s in seeds.values())
    # interrupted in the middle of a batch (after 5 runs), then rerun: the same study
    _INTERRUPT["after"] = 5
    with pytest.raises(KeyboardInterrupt):
        opt.optimise(plan, tmp_path / "c", **{**kw, "run_fn": toy_run_interrupted})
    c = opt.optimise(plan, tmp_path / "c", **kw)
    assert [t["params"] for t in c["trials"]] == [t["params"] for t in a["trials"]]
    assert [t["values"] for t in c["trials"]] == [t["values"] for t in a["trials"]]


def test_a_budget_below_every_candidate_recommends_nothing(tmp_path, toy_budget):
    budget, _, costs, base = toy_budget
    low = _cost(costs, base, 6, 3) - 1.0
    res = opt.optimise(
        _toy_plan(tmp_path, budget=low, trials=6),
        tmp_path / "out",
        workers=0,
        progress=False,
        run_fn=toy_run,
    )
    assert res["recommendations"] == [] and res["leaders"] == []
    assert res["counts"]["feasible"] == 0
    assert "无可行推荐" in opt.summary_text(res)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("trials = 36", "trials = 0"), "trials = 0: must be ≥ 1"),
        (('type = "int"\nrange = [6, 12]', 'type = "int"'), "needs range = [low, high]"),
        (("handling.hotline_seats_per_100k", "handling.hotline_seat"), "unknown key"),
        (("[budget]\n", "[budget]\nrelative_to_base = 1.0\n"), "not both/neither"),
        (('metric = "mean_resolution_days"', 'metric = "speed"'), "objectives[0].metric"),
        (('type = "int"\nrange = [6, 12]', 'type = "bool"'), 'holds a float; use type = "float"'),
    ],
)
def test_bad_plans_say_file_key_value_and_what_is_allowed(tmp_path, edit, message):
    path = _toy_plan(tmp_path, budget=1e6)
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(GovsimError) as err:
        opt.prepare(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_another_plan_in_the_same_folder_is_refused(tmp_path, toy_budget):
    budget = toy_budget[0]
    kw = {"workers": 0, "progress": False, "run_fn": toy_run}
    opt.optimise(_toy_plan(tmp_path, budget=budget, trials=2), tmp_path / "out", **kw)
    with pytest.raises(GovsimError, match="holds another optimisation"):
        opt.optimise(_toy_plan(tmp_path, budget=budget, trials=2, seed=8), tmp_path / "out", **kw)


PLANS = sorted((ROOT / "experiments" / "plans").glob("*.toml"))


def test_the_three_planner_questions_have_example_plans():
    names = {p.stem for p in PLANS}
    assert {"same_budget", "budget_cut_10", "grid_workers_200"} <= names


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.stem)
def test_example_plans_validate_against_the_schema(path):
    setup = opt.prepare(path)
    assert setup.groups[0]["scenario"]["scale"] == 0.01  # documented at 1:100
    assert setup.plan.trials >= setup.plan.batch
    base = setup.plan.budget
    if path.stem == "budget_cut_10":
        assert base.relative_to_base == 0.9
    if path.stem == "grid_workers_200":  # 200 × grid worker pay × overhead
        sc = load_scenario(ROOT / "scenarios" / "yancheng.toml")
        assert base.extra_yuan_per_year == pytest.approx(
            200 * sc.costs.grid_worker_pay * sc.costs.overhead
        )


def test_planner_report_shows_recommendation_front_counties_and_provenance(tmp_path, toy_budget):
    from sim.experiment.planner_report import write_planner_report

    budget = toy_budget[0]
    res = opt.optimise(
        _toy_plan(tmp_path, budget=budget, trials=6),
        tmp_path / "out",
        workers=0,
        progress=False,
        run_fn=toy_run,
    )
    discover = tmp_path / "discover"
    discover.mkdir()
    (discover / "boxes.json").write_text(
        json.dumps({"boxes": [{"strategy": "x", "levers.data.data_sharing": [0.1, 0.3]}]})
    )
    page = write_planner_report(tmp_path / "out", discover=discover).read_text("utf-8")
    assert page.index("推荐方案") < page.index("帕累托前沿") < page.index("方法说明")
    assert "data:image/png;base64," in page and "各县" in page and "亭湖区" in page
    assert res["provenance"]["model_version"] in page and str(SEED) in page
    assert "levers.data.data_sharing" in page  # the failure box of the discover folder
    assert f"{res['recommendations'][0]['cost_yuan_city']:,.0f}" in page
