"""The event log (sim.events): its daily counts agree with the daily metrics of the same
run, it changes nothing in the run, its memory is bounded, ``govsim run --events``
writes it."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim import events as E
from sim.cli import main
from sim.model import GovernanceModel
from sim.scenario import load_scenario

DAYS = 60
SMALL = ["scale=0.002", f"days={DAYS}"]
# petitions, collective incidents and data misuse made common, so the counts test them
STRESS = [
    "escalation.petition_hazard=0.1", "escalation.grace_days=2",
    "escalation.mobilisation_exponent=0", "escalation.collective_severity=0.3",
    "routing.misuse_risk_per_use=0.05",
]  # fmt: skip
CASES = {
    # every party with digital access takes the platform up, so diversions happen at 1:500
    "online_mediation": (
        "scenarios/online_mediation.toml",
        SMALL + ["online_mediation.uptake_digital=1", "online_mediation.severe_uptake_factor=1"],
    ),
    "early_warning": ("scenarios/early_warning.toml", SMALL),
    "data_lax_stressed": ("scenarios/data_lax.toml", SMALL + STRESS),
}


def _run(path, overrides, events=True):
    model = GovernanceModel(load_scenario(path, overrides), events=events)
    model.run(DAYS)
    return model


@pytest.fixture(scope="module", params=list(CASES))
def logged(request):
    path, overrides = CASES[request.param]
    return request.param, _run(path, overrides)


def test_daily_counts_agree_with_the_metrics(logged):
    name, model = logged
    daily = model.metrics.daily_arrays()
    counts = model.events.counts(DAYS)
    cols = model.events.columns()
    grid_level = cols["issue"] < 0
    onsets = np.bincount(cols["day"][grid_level & (cols["kind"] == E.COLLECTIVE)], minlength=DAYS)
    collective = counts[:, E.COLLECTIVE] - onsets  # from escalating disputes
    expected = {
        "surfaced": counts[:, E.SURFACED],
        "resolved": counts[:, E.RESOLVED_EV],
        "failed": counts[:, E.FAILED_EV],
        "abandoned": counts[:, E.ABANDONED_EV],
        "litigated": counts[:, E.LITIGATION],
        "escalations_litigation": counts[:, E.LITIGATION],
        "escalations_petition": counts[:, E.PETITION] + collective,  # 集体访 is a petition
        "escalations_collective": collective,
        "unrest_incidents": onsets,
        "misuse_incidents": counts[:, E.MISUSE],
    }
    for key, got in expected.items():
        np.testing.assert_array_equal(got, daily[key], err_msg=f"{name}: {key}")
    assert counts[:, E.RESOLVED_EV].sum() > 0 and counts[:, E.ROUTED].sum() > 0
    if name == "data_lax_stressed":  # the stress makes every escalation kind happen
        assert counts[:, E.PETITION].sum() > 0 and collective.sum() > 0
        assert counts[:, E.MISUSE].sum() > 0
    if name == "early_warning":
        assert counts[:, E.WARNING].sum() > 0
    else:  # flags of a warning that is off send no one: not events
        assert counts[:, E.WARNING].sum() == 0
    if name == "online_mediation":
        assert counts[:, E.DIVERTED].sum() > 0
    # issue events carry their issue's grid and county; grid events have no issue
    city = model.state.city
    np.testing.assert_array_equal(city.grid_county[cols["grid"]], cols["county"])
    assert (cols["pool"][grid_level] == -1).all() and (cols["category"][grid_level] == -1).all()
    assert set(np.unique(cols["kind"][grid_level])) <= {E.COLLECTIVE, E.WARNING, E.MISUSE}


def test_events_on_leaves_the_run_bit_identical():
    path, overrides = CASES["data_lax_stressed"]
    on, off = _run(path, overrides, events=True), _run(path, overrides, events=False)
    assert off.events is None and on.events.n_recorded > 0
    a, b = on.metrics.daily_arrays(), off.metrics.daily_arrays()
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_equal(on.summary(), off.summary())


def test_window_keeps_at_most_its_days_and_the_sink_gets_everything():
    path, overrides = CASES["early_warning"]
    full = _run(path, overrides).events
    sunk = []
    log = E.EventLog(window_days=5, sink=sunk.append)
    model = GovernanceModel(load_scenario(path, overrides), events=log)
    for _ in range(DAYS):
        model.step()
        assert log.days_in_memory() <= 5
        days = np.unique(log.columns()["day"])
        assert days.size == 0 or days.min() > model.day - model.metrics.day_offset - 1 - 5
    log.flush()
    whole = full.to_table()
    streamed = E._concat(  # every event reached the sink, in order
        [{k: t.column(k).to_numpy() for k in E.COLUMNS} for t in sunk]
    )
    for k in E.COLUMNS:
        np.testing.assert_array_equal(streamed[k], whole.column(k).to_numpy(), err_msg=k)
    # the page's filter: last days, one county, some kinds
    last = log.select(first_day=DAYS - 2, county=0, kinds=["resolved", E.PETITION])
    assert set(np.unique(last["day"])) <= {DAYS - 2, DAYS - 1}
    assert (last["county"] == 0).all() and set(last["kind"]) <= {E.RESOLVED_EV, E.PETITION}
    assert last["day"].size > 0
    with pytest.raises(ValueError, match="unknown event kind"):
        log.select(kinds=["riot"])


def test_off_by_default_and_labelled():
    assert len(E.KINDS) == len(set(E.KIND_NAMES))
    assert E.KINDS[E.COLLECTIVE][1] == "聚集性事件" and E.KINDS[E.DIVERTED][1] == "诉前分流"
    meta = json.loads(E.schema().metadata[b"govsim.kinds"])
    assert [m["name"] for m in meta] == list(E.KIND_NAMES)
    assert E.EventLog().to_table().num_rows == 0
    with pytest.raises(ValueError, match="window_days"):
        E.EventLog(window_days=0)


def test_govsim_run_events_writes_a_readable_parquet(tmp_path, capsys):
    out = tmp_path / "run"
    path, _ = CASES["data_lax_stressed"]
    sets = [a for s in STRESS for a in ("--set", s)]
    code = main(
        ["run", path, "--scale", "0.002", "--days", "20", "--quiet", "--no-figures",
         "--out", str(out), "--events", *sets]
    )  # fmt: skip
    assert code == 0
    table = pq.read_table(out / "events.parquet")
    assert table.num_rows > 0 and table.column_names == list(E.COLUMNS)
    kinds = json.loads(table.schema.metadata[b"govsim.kinds"])
    assert kinds[E.RESOLVED_EV]["zh"] == "办结"
    daily = pq.read_table(out / "daily.parquet")
    resolved = np.bincount(
        table.column("day").to_numpy()[table.column("kind").to_numpy() == E.RESOLVED_EV],
        minlength=20,
    )
    np.testing.assert_array_equal(resolved, daily.column("resolved").to_numpy())
    assert not list(tmp_path.glob(".run.events-*"))  # the temporary file is gone
    capsys.readouterr()
