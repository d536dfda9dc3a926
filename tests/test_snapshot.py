"""A run forked from a warm-up snapshot equals a run that simulates the warm-up itself.

Issue 14 (the headline at research scale): the warm-up is simulated once per seed under
the reference's levers and every configuration with the same city forks it
(``GovernanceModel.snapshot`` / ``restore``), keeping common random numbers valid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model import GovernanceModel, snapshot_key, warmup_scenario
from sim.scenario import load_scenario

DAYS, WARMUP, SCALE = 12, 15, 0.001


def _scenario(path: str, reference_levers=None, seed: int = 5):
    sc = load_scenario(path)
    upd = {"scale": SCALE, "days": DAYS, "warmup_days": WARMUP, "seed": seed}
    if reference_levers is not None:
        upd["warmup_levers"] = reference_levers
    return sc.model_copy(update=upd)


@pytest.fixture(scope="module")
def pair():
    base = load_scenario("scenarios/yancheng.toml")
    a = _scenario("scenarios/yancheng.toml", base.levers)
    b = _scenario("scenarios/command_centre.toml", base.levers)
    return a, b


def _same(m1: GovernanceModel, m2: GovernanceModel) -> None:
    d1, d2 = m1.metrics.daily_arrays(), m2.metrics.daily_arrays()
    assert d1.keys() == d2.keys()
    for k in d1:
        assert np.array_equal(d1[k], d2[k], equal_nan=True), k
    r1, r2 = m1.state.residents, m2.state.residents
    assert np.array_equal(r1.trust, r2.trust) and np.array_equal(r1.participation, r2.participation)
    assert m1.summary() == pytest.approx(m2.summary(), nan_ok=True, rel=0, abs=0)


def test_a_forked_run_equals_one_that_simulates_its_warm_up(pair):
    a, b = pair
    assert snapshot_key(a) == snapshot_key(b)  # same city, seed and warm-up levers
    snap = GovernanceModel(warmup_scenario(b)).snapshot()
    for sc in (a, b):
        whole = GovernanceModel(sc)
        forked = GovernanceModel.restore(snap, sc)
        assert forked.day == whole.day == WARMUP
        whole.run(DAYS)
        forked.run(DAYS)
        _same(forked, whole)


def test_an_equal_cost_twin_forks_the_baseline_warm_up_and_cuts_from_day_0(pair):
    """The twin's funding (fewer department slots, sim.experiment.twins) is part of its
    configuration: under a shared warm-up it warms up on the reference's slots, so it forks
    the baseline's snapshot, and the fork equals a run that simulates that warm-up."""
    a, _ = pair
    base = load_scenario("scenarios/yancheng.toml")
    twin = _scenario("scenarios/command_centre_equal_cost.toml", base.levers)
    assert twin.handling.department_slots_per_100k < base.handling.department_slots_per_100k
    assert snapshot_key(twin) != snapshot_key(a)  # its own budget during the warm-up ...
    slots = base.handling.department_slots_per_100k
    twin = twin.model_copy(update={"warmup_department_slots_per_100k": slots})
    assert snapshot_key(twin) == snapshot_key(a)  # ... or the reference's: one warm-up
    snap = GovernanceModel(warmup_scenario(a)).snapshot()
    whole = GovernanceModel(twin)
    forked = GovernanceModel.restore(snap, twin)
    assert forked.config.handling == whole.config.handling == twin.handling  # cut on day 0
    whole.run(DAYS)
    forked.run(DAYS)
    _same(forked, whole)


def test_the_configuration_acts_from_day_0_not_during_the_warm_up(pair):
    a, b = pair
    own = b.model_copy(update={"warmup_levers": None})
    m_shared, m_own = GovernanceModel(b), GovernanceModel(own)
    # the command centre's levers are in force after the warm-up in both runs ...
    assert m_shared.config.levers == m_own.config.levers == own.levers
    # ... but the shared warm-up ran under the baseline's: the states differ at day 0
    assert not np.array_equal(m_shared.state.residents.trust, m_own.state.residents.trust)


def test_a_snapshot_refuses_another_warm_up(pair):
    a, b = pair
    snap = GovernanceModel(warmup_scenario(a)).snapshot()
    other_seed = b.model_copy(update={"seed": 6})
    with pytest.raises(ValueError, match="another warm-up"):
        GovernanceModel.restore(snap, other_seed)
    fine = _scenario("scenarios/fine_grids.toml", a.warmup_levers)
    assert snapshot_key(fine) != snapshot_key(a)  # grid size shapes the city: own warm-up
    with pytest.raises(ValueError, match="another warm-up"):
        GovernanceModel.restore(snap, fine)


def test_only_the_warm_up_model_can_be_snapshotted(pair):
    a, b = pair
    m = GovernanceModel(b)  # already switched to its own levers
    with pytest.raises(ValueError, match="warm-up model itself"):
        m.snapshot()
    w = GovernanceModel(warmup_scenario(b))
    w.run(1)
    with pytest.raises(ValueError, match="before day 0"):
        w.snapshot()


def test_a_compare_with_a_shared_warm_up_forks_one_snapshot_per_city_and_seed(tmp_path):
    """Through the real runner: the records equal runs that simulate their own warm-up
    (under the reference's levers), and the folder keeps one snapshot per (city, seed)."""
    from sim.experiment.api import compare
    from sim.experiment.plan import build_scenario
    from sim.experiment.records import ExperimentFolder
    from sim.experiment.runner import read_runs
    from sim.run import run_scenario

    root = Path(__file__).resolve().parents[1] / "scenarios"
    exp = tmp_path / "shared.toml"
    exp.write_text(
        f"""kind = "compare"
name = "shared"
replications = 2
days = 4
scale = 0.002
shared_warmup = true
set = ["warmup_days=6"]
scenarios = ["{root / "yancheng.toml"}", "{root / "command_centre.toml"}",
             "{root / "fine_grids.toml"}"]
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    compare(exp, out=out, workers=0, progress=False)
    snaps = sorted((out / "warmup").glob("*.snap"))
    assert len(snaps) == 4  # 2 seeds × (the baseline's city, the fine grids' city)
    table = read_runs(out).to_pylist()
    assert {r["status"] for r in table} == {"done"}
    plan = ExperimentFolder(out).read_plan()
    for row in table[::2]:  # one of each replication's pair is enough (and fast)
        group = plan.groups[plan.points[row["point"]]["group"]]
        sc = build_scenario(group["scenario"], {}, row["seed"])
        assert sc.warmup_levers is not None
        alone = run_scenario(sc)  # no snapshot folder: simulates its own warm-up
        for k, v in alone.summary.items():
            if k in row and row[k] is not None:
                assert row[k] == pytest.approx(v, rel=0, abs=0, nan_ok=True), (row["label"], k)


def test_the_headline_cost_counts_runs_and_shared_warm_ups(tmp_path):
    from sim.experiment.headline_cost import headline_cost

    root = Path(__file__).resolve().parents[1] / "scenarios"
    files = [root / "yancheng.toml", root / "command_centre.toml", root / "fine_grids.toml"]
    body = (
        'kind = "compare"\nname = "cost"\nreplications = 2\ndays = 40\nscale = 0.002\n'
        'set = ["warmup_days=20"]\nscenarios = [' + ", ".join(f'"{f}"' for f in files) + "]\n"
    )
    (tmp_path / "shared.toml").write_text(body + "shared_warmup = true\n", encoding="utf-8")
    (tmp_path / "own.toml").write_text(body, encoding="utf-8")
    shared = headline_cost(tmp_path / "shared.toml", sample_days=3, progress=False)
    own = headline_cost(tmp_path / "own.toml", sample_days=3, progress=False)
    assert shared["runs"] == own["runs"] == 6
    assert shared["warmups"] == 4  # 2 seeds × (the baseline's city, the fine grids' city)
    assert own["warmups"] == 6  # every run its own
    # the projection's accounting, from the measurements it reports (not a timing race):
    # without sharing each run builds and warms up its own model; with sharing the two
    # cities warm up once per seed at the reference's pace, write a snapshot, and every
    # run forks it
    for res in (shared, own):
        pts = res["scenarios"]
        d, w = res["days"], res["warmup_days"]
        alone = 2 * sum(p["build_s"] + (d + w) * p["seconds_per_day"] for p in pts)
        assert res["projected_core_s_without_sharing"] == pytest.approx(alone, rel=1e-12)
    assert own["projected_core_s"] == pytest.approx(own["projected_core_s_without_sharing"])
    yan, cc, fine = shared["scenarios"]
    d, w = shared["days"], shared["warmup_days"]
    ref_day = yan["seconds_per_day"]
    warm = 2 * (yan["build_s"] + fine["build_s"] + 2 * w * ref_day + 2 * shared["snapshot_write_s"])
    runs = 2 * sum(d * p["seconds_per_day"] + shared["snapshot_fork_s"] for p in (yan, cc, fine))
    assert shared["projected_core_s"] == pytest.approx(warm + runs, rel=1e-12)
    assert 0 < shared["projected_core_s"]
    assert shared["snapshot_mb"] > 0 and shared["days"] == 40 and shared["warmup_days"] == 20


def test_the_headline_cost_times_whole_steps_of_the_residents_clock(tmp_path):
    """On a clock of k days trust and participation move one day in k: the timed window is
    rounded up to a multiple of k, so it holds as many of those days as the run does."""
    from sim.experiment.headline_cost import headline_cost

    root = Path(__file__).resolve().parents[1] / "scenarios"
    (tmp_path / "clock.toml").write_text(
        'kind = "compare"\nname = "clock"\nreplications = 1\ndays = 20\nscale = 0.002\n'
        'set = ["warmup_days=8", "attitude_days=4"]\n'
        f'scenarios = ["{root / "yancheng.toml"}"]\n',
        encoding="utf-8",
    )
    res = headline_cost(tmp_path / "clock.toml", sample_days=3, progress=False)
    assert (res["sample_days_asked"], res["sample_days"], res["attitude_days"]) == (3, 4, 4)
    assert "clock steps of 4 days" in res["method"]


def test_a_shared_warm_up_is_dispatched_first_once_per_city_and_seed(tmp_path):
    """With a shared warm-up the runner sends one run per (warm-up, seed) first — each
    simulates a warm-up no other run in flight needs — then the runs that fork them, in
    the same order of warm-ups: parallel workers no longer simulate one warm-up twice."""
    from sim.experiment.plan import plan_compare
    from sim.experiment.runner import _tasks
    from sim.experiment.spec import load_experiment
    from sim.model import snapshot_key

    root = Path(__file__).resolve().parents[1] / "scenarios"
    names = ("yancheng", "command_centre", "fine_grids", "social_orgs", "fine_grids_equal_cost")
    (tmp_path / "order.toml").write_text(
        'kind = "compare"\nname = "order"\nreplications = 3\ndays = 4\nscale = 0.002\n'
        'shared_warmup = true\nset = ["warmup_days=6"]\n'
        "scenarios = [" + ", ".join(f'"{root / n}.toml"' for n in names) + "]\n",
        encoding="utf-8",
    )
    exp = load_experiment(tmp_path / "order.toml", expect="compare")
    plan = plan_compare(exp, base_dir=tmp_path, where="order.toml")
    ids = {r["run_id"] for r in plan.unique_runs()}
    tasks = list(_tasks(plan, ids, None, tmp_path))
    assert sorted(t.run_id for t in tasks) == sorted(ids)  # every run, once
    keys = [
        (snapshot_key(load_scenario(root / f"{t.label}.toml").model_copy(update={
            "warmup_levers": load_scenario(root / "yancheng.toml").levers,
            "warmup_department_slots_per_100k": 600.0, "scale": 0.002, "days": 4,
            "warmup_days": 6, "seed": t.seed})), t.seed)
        for t in tasks
    ]  # fmt: skip
    n_warmups = len(set(keys))
    assert n_warmups == 3 * 3  # 3 seeds × (baseline city, 300 per grid, 300 at equal cost)
    assert len(set(keys[:n_warmups])) == n_warmups  # the openers first, all different
    rank = {k: i for i, k in enumerate(keys[:n_warmups])}
    rest = [rank[k] for k in keys[n_warmups:]]
    assert rest == sorted(rest)  # then the forks, in the order their warm-ups were made
    # without a shared warm-up the plan order stands
    plain = list(_tasks(plan, ids, None, None))
    assert [t.run_id for t in plain] == [r["run_id"] for r in plan.unique_runs()]
