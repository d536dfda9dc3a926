"""The indices as survey response shares (docs/model.md, "Indices"; issue 13.4).

Smooth: one collective incident in any one county moves the city's 安全感 by less than
one point. Not saturated: at the baseline no index sits at a bound, and a change in what
residents experience moves each of them. The numba kernel matches its twin.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from reference import measure as ref_measure

from sim.kernels.measure import I_GAIN, I_HAPPINESS, I_SECURITY, survey_step
from sim.model import GovernanceModel
from sim.run import run_scenario
from sim.scenario import load_scenario

YANCHENG = Path(__file__).resolve().parents[1] / "scenarios" / "yancheng.toml"


@pytest.fixture(scope="module")
def model():
    """The Yancheng baseline at 1:100 after 60 days."""
    m = GovernanceModel(load_scenario(YANCHENG, ["scale=0.01", "warmup_days=0"]))
    m.run(60)
    return m


def _ask(m, incidents=None, state=None, trust=None, felt=None):
    """Today's shares for a copy of the residents' memory (the model is not changed)."""
    s = m.state
    st = copy.deepcopy(state or s.survey)
    inc = np.zeros(s.city.n_grids, dtype=np.int64) if incidents is None else incidents
    day = survey_step(
        st, m.params.measure, s.issues, s.city,
        s.residents.trust if trust is None else trust,
        s.activation.felt if felt is None else felt, inc, m.day, every=1,
    )  # fmt: skip
    return 100.0 * day.shares


def test_one_incident_in_any_county_moves_security_less_than_a_point(model):
    base = _ask(model)
    city = model.state.city
    moves = []
    for c in range(city.n_counties):
        g = int(np.flatnonzero(city.grid_county == c)[0])
        inc = np.zeros(city.n_grids, dtype=np.int64)
        inc[g] = 1
        moves.append(base[I_SECURITY] - _ask(model, inc)[I_SECURITY])
    moves = np.array(moves)
    assert (moves > 0).all(), moves  # it responds …
    assert moves.max() < 1.0, moves  # … smoothly


def test_no_index_pinned_at_a_bound(model):
    shares = _ask(model)
    assert ((shares > 5.0) & (shares < 95.0)).all(), shares


def test_what_residents_experience_moves_each_index(model):
    s = model.state
    base = _ask(model)
    failed = copy.deepcopy(s.survey)
    failed.unmet += np.float32(1.0)  # every resident had one more need closed unmet
    assert _ask(model, state=failed)[I_GAIN] < base[I_GAIN] - 1.0
    harder = np.minimum(s.activation.felt + np.float32(0.1), np.float32(1.0))
    assert _ask(model, felt=harder)[I_HAPPINESS] < base[I_HAPPINESS] - 1.0
    everywhere = np.ones(s.city.n_grids, dtype=np.int64)  # an incident in every grid
    assert _ask(model, everywhere)[I_SECURITY] < base[I_SECURITY] - 1.0
    trusting = np.minimum(s.residents.trust + np.float32(0.1), np.float32(1.0))
    assert (_ask(model, trust=trusting) > base + 0.5).all()


def test_kernel_matches_twin(model):
    s = model.state
    inc = np.zeros(s.city.n_grids, dtype=np.int64)
    inc[::7] = 1
    got = _ask(model, inc) / 100.0
    st = copy.deepcopy(s.survey)
    want = ref_measure.survey_step(
        st, model.params.measure, s.issues, s.city, s.residents.trust, s.activation.felt, inc,
        model.day,
    )  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_linearised_parts_explain_an_incident(model):
    """The 'why it moved' part for new incidents is close to the incident's real effect."""
    s = model.state
    city = s.city
    inc = np.zeros(city.n_grids, dtype=np.int64)
    inc[int(np.flatnonzero(city.grid_county == 3)[0])] = 1

    def day(incidents):
        return survey_step(
            copy.deepcopy(s.survey), model.params.measure, s.issues, city, s.residents.trust,
            s.activation.felt, incidents, model.day, every=1,
        )  # fmt: skip

    quiet, loud = day(np.zeros_like(inc)), day(inc)
    effect = 100.0 * (loud.shares[I_SECURITY] - quiet.shares[I_SECURITY])
    assert quiet.security_incidents == 0.0
    assert loud.security_incidents == pytest.approx(effect, rel=0.15)


def test_worse_handling_lowers_gain_through_the_real_model():
    """The whole path: departments resolving fewer needs lower 获得感 and 幸福感."""
    sets = ["scale=0.001", "days=90"]
    base = run_scenario(load_scenario(YANCHENG, sets)).summary
    worse = run_scenario(
        load_scenario(YANCHENG, [*sets, "handling.pools.department.resolve_prob.need=0.4"])
    ).summary
    assert worse["gain_index"] < base["gain_index"] - 0.5
    assert worse["happiness_index"] < base["happiness_index"]


def test_more_collective_incidents_lower_security_through_the_real_model():
    """The whole path: escalation made common and collective regardless of mobilisation
    (as in tests/test_app.py) makes collective incidents, which lower 安全感 and 幸福感."""
    sets = ["scale=0.002", "days=60"]
    escalating = [
        "escalation.petition_hazard=0.1",
        "escalation.grace_days=2",
        "escalation.mobilisation_exponent=0",
        "escalation.collective_severity=0.3",
    ]
    base = run_scenario(load_scenario(YANCHENG, sets)).summary
    loud = run_scenario(load_scenario(YANCHENG, [*sets, *escalating])).summary
    assert loud["escalations_collective"] > base["escalations_collective"] + 3
    assert loud["security_index"] < base["security_index"] - 0.5
    assert loud["happiness_index"] < base["happiness_index"]


def _day0(*sets: str) -> GovernanceModel:
    return GovernanceModel(load_scenario(YANCHENG, ["scale=0.01", "warmup_days=0", *sets]))


@pytest.fixture(scope="module")
def fine_model():
    """Day 0 of the baseline and of the same city with grids of a third of a block (精网微格
    at equal staff's size), open risks out of the index (their rate is per grid, so the
    two cities' residents would start from different exposures)."""
    no_risks = "indices.open_risk_logit=0"  # open risks are per grid: keep them out of the way
    return _day0(no_risks), _day0(no_risks, "levers.capability.residents_per_grid=333")


@pytest.mark.parametrize("county", [0, 4, 8])
def test_an_incident_is_felt_alike_whatever_the_grids(fine_model, county):
    """Residents remember an incident of the place they live in (its block), not of the
    grid drawn over it: the same incident on the same block, asked of the same residents,
    moves 安全感 by the same amount with grids of 1,000 or of 333 residents (issue 13: the
    grid-level memory made smaller grids look safer, +0.83 points for fine_grids_equal_staff).
    """
    base, fine = (m.state.city for m in fine_model)
    np.testing.assert_array_equal(base.block_start, fine.block_start)  # the same residents
    assert fine.n_grids > 2.5 * base.n_grids
    b = int(np.flatnonzero(base.county[base.block_start[:-1]] == county)[-1])  # a county's last
    trust = fine_model[0].state.residents.trust
    felt = base.hardship.astype(np.float32)
    drops = []
    for m in fine_model:
        c = m.state.city
        mid = (c.block_start[b] + c.block_start[b + 1]) // 2
        inc = np.zeros(c.n_grids, dtype=np.int64)
        inc[int(np.searchsorted(c.grid_start, mid, side="right") - 1)] = 1
        on_block = np.zeros(c.block_start.shape[0] - 1)
        on_block[b] = 1.0

        def ask(grid_inc, block_inc, m=m):
            return survey_step(
                copy.deepcopy(m.state.survey), m.params.measure, m.state.issues,
                m.state.city, trust, felt, grid_inc, m.day, block_inc, every=1,
            ).shares[I_SECURITY]  # fmt: skip

        drops.append(100.0 * (ask(0 * inc, 0 * on_block) - ask(inc, on_block)))
    assert drops[0] > 0.0
    # the same residents with the same exposure: equal up to the order of the sums
    assert drops[1] == pytest.approx(drops[0], rel=1e-6), drops


def test_fine_grid_memory_matches_twin(fine_model):
    """Where grids cut blocks, the kernel (over cells) equals the twin (resident by
    resident, each exposed to her own block's memory)."""
    m = fine_model[1]
    s, city = m.state, m.state.city
    inc = np.zeros(city.n_grids, dtype=np.int64)
    inc[::5] = 1
    felt = city.hardship.astype(np.float32)
    day = survey_step(
        copy.deepcopy(s.survey), m.params.measure, s.issues, city, s.residents.trust, felt,
        inc, m.day, every=1,
    )  # fmt: skip
    got = day.shares
    want = ref_measure.survey_step(
        copy.deepcopy(s.survey), m.params.measure, s.issues, city, s.residents.trust, felt,
        inc, m.day,
    )  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    cells = s.survey.cells
    assert cells.grid.shape[0] > max(city.n_grids, cells.n_blocks)  # grids cut blocks here
    np.testing.assert_allclose(day.by_grid.sum(axis=0), day.by_cell.sum(axis=0), rtol=1e-12)
