"""Performance regressions that are not timings: no kernel in object mode, no per-day
population-sized allocation, bounded issue storage, and the exactness of the fast paths.

Timings are measured by ``govsim bench`` (README, "Performance"); CI cannot time reliably
on a shared machine, but it can check the properties the timings rest on.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher
from reference import generate as ref_generate

import sim.kernels
from sim.city.network import edges_to_csr
from sim.issues import FIRST_CLOSED, ISSUE_FIELDS, IssueTable
from sim.kernels.generate import _generate_kernel, screen_thresholds
from sim.kernels.participation import (
    EngagedNeighbours,
    Params,
    _symmetric_kernel,
    engaged_bits,
    participation_step,
)
from sim.model import GovernanceModel
from sim.rng import S_GEN_CATEGORY, S_GENERATE, uniform_py
from sim.scenario.schema import Scenario

PART_DEFAULTS = Params.from_scenario(Scenario.model_validate({"name": "t"})).kwargs()

SMALL, LARGER = 0.001, 0.01  # about 6,700 and 67,000 residents


def _model(scale: float, **fields) -> GovernanceModel:
    return GovernanceModel(Scenario(name="perf", scale=scale, **fields), seed=3)


# --------------------------------------------------------------------------- nopython


def kernel_dispatchers() -> dict[str, CPUDispatcher]:
    """Every numba dispatcher defined in a module of ``sim.kernels``, by qualified name."""
    found = {}
    for info in pkgutil.iter_modules(sim.kernels.__path__):
        module = importlib.import_module(f"sim.kernels.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = obj
    return found


def test_every_kernel_compiles_in_nopython_mode():
    model = _model(SMALL)  # the build and warm-up compile (or load) the daily kernels
    model.run(8)  # past the weekly compaction
    dispatchers = kernel_dispatchers()
    assert len(dispatchers) > 40
    for name, d in dispatchers.items():
        assert d.targetoptions.get("nopython") is True, f"{name} allows object mode"
        assert len(d.nopython_signatures) == len(d.signatures), f"{name} in object mode"
    # the daily kernels did compile (a lazily compiled dispatcher has no signature)
    for name in (
        "generate._generate_kernel",
        "generate._write_kernel",
        "surface._surface_kernel",
        "route._route_kernel",
        "handle._serve_kernel",
        "escalate._escalate_kernel",
        "participation._engaged_bits_kernel",
        "participation._push_changes_kernel",
        "participation._participation_kernel",
        "trust._trust_kernel",
        "activation._activation_kernel",
        "measure._measure_kernel",
    ):
        assert dispatchers[f"sim.kernels.{name}"].signatures, f"{name} never compiled"


# --------------------------------------------------------------------------- allocations


def day_peak_bytes(scale: float, days: int = 7) -> tuple[int, float]:
    """Residents, and the largest rise of traced memory within one day over ``days`` days.

    numpy reports its array allocations to tracemalloc, so an array allocated and freed
    within the day shows in the peak.
    """
    model = _model(scale)
    model.run(2)  # the stage buffers exist after the warm-up; two more days to settle
    tracemalloc.start()
    try:
        worst = 0
        for _ in range(days):  # a week: includes the weekly compaction
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            model.step()
            worst = max(worst, tracemalloc.get_traced_memory()[1] - start)
    finally:
        tracemalloc.stop()
    return model.state.city.n_residents, worst


def test_stepping_allocates_no_population_sized_arrays():
    """Between two city sizes, the per-day peak grows by under 2 bytes per resident.

    One float32 array per resident is 4 bytes per resident (participation and trust
    were such arrays, allocated every day, before their double buffers). What remains
    is the masks and gathers over the issue rows (about 0.02 issues per resident) and
    activation's new uint8 state (1 byte per resident, ``activation_step``).
    """
    n_small, peak_small = day_peak_bytes(SMALL)
    n_large, peak_large = day_peak_bytes(LARGER)
    per_resident = (peak_large - peak_small) / (n_large - n_small)
    assert per_resident < 2.0, f"{per_resident:.2f} bytes per resident allocated in a day"


def test_stage_six_reuses_its_buffers():
    model = _model(SMALL, warmup_days=0)
    res, s = model.state.residents, model.state
    model.run(1)
    buffers = {id(res.participation), id(s.participation_spare)}
    buffers_t = {id(res.trust), id(s.trust_spare)}
    counts = s.neighbours.counts
    for _ in range(3):
        model.run(1)
        assert {id(res.participation), id(s.participation_spare)} == buffers
        assert {id(res.trust), id(s.trust_spare)} == buffers_t
        assert s.neighbours.counts is counts
        assert not np.shares_memory(res.participation, s.participation_spare)


# --------------------------------------------------------------------------- issue storage


def test_issue_storage_is_bounded_and_every_closed_issue_is_flushed():
    model = _model(SMALL, warmup_days=0)
    sunk: list[dict[str, np.ndarray]] = []
    model.issue_sink = sunk.append
    table = model.state.issues
    rows, capacity = [], []
    for week in range(20):
        model.run(7)
        # right after the weekly compaction no closed issue is left in the table
        assert not np.any(table.status >= FIRST_CLOSED), f"week {week}"
        rows.append(table.n)
        capacity.append(table.capacity)
    assert len(sunk) == 20  # one batch a week
    flushed = sum(batch["iid"].shape[0] for batch in sunk)
    assert flushed > 10 * max(rows)  # most issues of the run have left the table
    # nothing lost, nothing twice: flushed and open issues are all the issues ever made
    iids = np.concatenate([*(b["iid"] for b in sunk), table.iid])
    np.testing.assert_array_equal(np.sort(iids), np.arange(table.next_iid))
    for batch in sunk:
        assert set(batch) == set(ISSUE_FIELDS)
        assert np.all(batch["status"] >= FIRST_CLOSED)
    # memory does not grow with days: open issues level off and the table stops growing
    assert max(rows[10:]) < 1.5 * max(rows[:10])
    assert capacity[-1] == capacity[9]


def test_compact_keeps_open_rows_in_order_and_hands_over_the_closed_ones():
    t = IssueTable(16)
    t.reserve(10)
    t.n = 10
    t.cols["iid"][:10] = np.arange(10)
    t.cols["status"][:10] = [0, 4, 1, 5, 2, 6, 3, 7, 4, 4]
    t.cols["t_closed"][:10] = [np.nan, 1.0, np.nan, 2.0, np.nan, 3.0, np.nan, 30.0, 4.0, 5.0]
    got = []
    assert t.compact(24.0, got.append) == 5
    np.testing.assert_array_equal(t.iid, [0, 2, 4, 6, 7])  # 7 closed after hour 24
    np.testing.assert_array_equal(got[0]["iid"], [1, 3, 5, 8, 9])
    assert t.compact(24.0, got.append) == 0
    assert len(got) == 1


def test_daily_compaction_holding_rows_hands_the_sink_the_weekly_chunks():
    """Compacting every day with ``hold`` (but the seventh) gives the sink the chunks that
    compacting every seventh day gives, row for row; the daily table has no closed rows."""
    rng = np.random.default_rng(5)
    weekly, daily = IssueTable(16), IssueTable(16)
    chunks = {"weekly": [], "daily": []}
    for day in range(23):
        new = int(rng.integers(0, 30))
        for t in (weekly, daily):
            t.reserve(new)
            sl = slice(t.n, t.n + new)
            t.cols["iid"][sl] = np.arange(t.next_iid, t.next_iid + new)
            t.cols["status"][sl] = 0
            t.cols["t_closed"][sl] = np.nan
            t.n += new
            t.next_iid += new
        # some open rows close today, old and new alike (the same ones in both tables)
        for t in (weekly, daily):
            opened = np.flatnonzero(t.status < FIRST_CLOSED)
            pick = opened[np.random.default_rng(day).random(opened.size) < 0.3]
            t.cols["status"][pick] = FIRST_CLOSED
            t.cols["t_closed"][pick] = 24.0 * day + 1.0
        end = 24.0 * (day + 1)
        if day % 7 == 6:
            weekly.compact(end, chunks["weekly"].append)
        daily.compact(end, chunks["daily"].append, hold=day % 7 != 6)
        assert not (daily.status >= FIRST_CLOSED).any()
    weekly.compact(np.inf, chunks["weekly"].append)
    daily.compact(np.inf, chunks["daily"].append)
    assert len(chunks["weekly"]) == len(chunks["daily"]) == 4
    for a, b in zip(chunks["weekly"], chunks["daily"], strict=True):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], strict=True)
    np.testing.assert_array_equal(weekly.iid, daily.iid)


# --------------------------------------------------------------------------- fast paths


def test_engaged_bits_are_numpys_little_endian_packbits():
    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 8, 9, 1000, 4099):
        p = rng.random(n).astype(np.float32)
        p[rng.random(n) < 0.2] = 0.5  # exactly at the level
        want = np.packbits(p >= 0.5, bitorder="little")
        np.testing.assert_array_equal(engaged_bits(p, 0.5), want)


def random_network(n: int, seed: int, hub: bool = False):
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, 4 * n), rng.integers(0, n, 4 * n)
    if hub:  # one resident with 300 neighbours: counts no longer fit in a byte
        u = np.concatenate([u, np.zeros(300, np.int64)])
        v = np.concatenate([v, rng.choice(np.arange(1, n), 300, replace=False)])
    return edges_to_csr(n, u, v)


def fresh_counts(p, level, indptr, indices):
    engaged = p >= level
    return np.array([engaged[indices[indptr[i] : indptr[i + 1]]].sum() for i in range(len(p))])


@pytest.mark.parametrize("hub", [False, True])
def test_engaged_neighbours_stay_exact_from_day_to_day(hub):
    """Incremental counts equal a fresh count, day after day, whatever changes."""
    rng = np.random.default_rng(4)
    n = 3000
    indptr, indices = random_network(n, 1, hub)
    memory = EngagedNeighbours()
    p = rng.random(n).astype(np.float32)
    for day in range(12):
        level = 0.5 if day != 7 else 0.3  # a lever moved mid-run
        if day == 5:
            p = rng.random(n).astype(np.float32)  # everything changes at once: recount
        else:
            flip = rng.random(n) < 0.02
            p[flip] = 1.0 - p[flip]
        got = memory.update(p, level, indptr, indices)
        np.testing.assert_array_equal(got, fresh_counts(p, level, indptr, indices))
    assert memory.symmetric is True
    assert memory.counts.dtype == (np.int32 if hub else np.uint8)


def test_engaged_neighbours_recount_on_an_asymmetric_or_new_network():
    rng = np.random.default_rng(6)
    n = 500
    indptr, indices = random_network(n, 2)
    one_way = indices.copy()
    one_way[indptr[7]] = (indices[indptr[7]] + 1) % n  # 7 lists someone who does not list 7
    one_way[indptr[7] : indptr[8]].sort()
    memory = EngagedNeighbours()
    p = rng.random(n).astype(np.float32)
    for _ in range(4):
        p[rng.random(n) < 0.01] = 0.9
        got = memory.update(p, 0.5, indptr, one_way)
        np.testing.assert_array_equal(got, fresh_counts(p, 0.5, indptr, one_way))
    assert memory.symmetric is False
    got = memory.update(p, 0.5, indptr, indices)  # another network: counted afresh
    np.testing.assert_array_equal(got, fresh_counts(p, 0.5, indptr, indices))


def test_the_city_network_is_symmetric_as_stage_six_assumes():
    """Stage 6 tells its EngagedNeighbours the city's network is symmetric (no check)."""
    model = _model(SMALL, warmup_days=0)
    city = model.state.city
    assert model.state.neighbours.known_symmetric is True
    assert _symmetric_kernel(city.nbr_indptr, city.nbr_indices)
    indices = city.nbr_indices.copy()
    indices[city.nbr_indptr[5]] = (indices[city.nbr_indptr[5]] + 1) % city.n_residents
    assert not _symmetric_kernel(city.nbr_indptr, indices)


def test_participation_with_memory_gives_the_same_days():
    rng = np.random.default_rng(8)
    n = 5000
    indptr, indices = random_network(n, 3)
    org = (rng.random(n) < 0.2).astype(np.uint8)
    p = rng.random(n).astype(np.float32)
    q = p.copy()
    memory = EngagedNeighbours()
    out = np.empty(n, np.float32)
    for _ in range(6):
        n_res = (rng.random(n) < 0.05).astype(np.uint8)
        n_fail = (rng.random(n) < 0.05).astype(np.uint8)
        kw = {**PART_DEFAULTS, "publicity": 0.4, "seed": 2, "decay": 0.2}
        p = participation_step(p, indptr, indices, org, n_res, n_fail, **kw)
        got = participation_step(
            q, indptr, indices, org, n_res, n_fail, **kw, out=out, neighbours=memory
        )
        np.testing.assert_array_equal(got, p, strict=True)
        q, out = got, q


@pytest.mark.parametrize("scale_rates", [1e-9, 1.0, 1e3, 1e6])
def test_generate_pre_screen_is_exact(scale_rates):
    """The kernel's 16-bit screen (a superset of u below Σλ plus slack) loses no issue: the
    draws equal the plain-Python rule ``u < 1 − exp(−Σλ)`` for tiny to huge daily rates."""
    rng = np.random.default_rng(int(math.log10(scale_rates) + 20))
    n = 70_000  # more than one block of the kernel
    hardship = rng.random(n).astype(np.float32)
    hardship[:50] = (0.0, 1.0) * 25
    vulnerability = (rng.random(n) < 0.2).astype(np.uint8)
    urban = (rng.random(n) < 0.6).astype(np.uint8)
    grid = np.repeat(np.arange(70, dtype=np.int32), 1000)
    kappa = rng.lognormal(0.0, 0.8, 70)  # dispute hot spots
    g = {
        "rates": np.array([0.3, 1.2, 0.5, 0.2]) * scale_rates / 365.0,
        "h_mean": float(hardship.mean(dtype=np.float64)),
        "k_h": 2.5,
        "v_mult": 1.5,
        "rural_mult": 1.3,
    }
    seed, day = 11, 4
    hits = np.full(n, -1, np.int32)
    rate_args = (
        hardship, vulnerability, urban, grid, kappa, g["rates"], g["h_mean"], g["k_h"],
        g["v_mult"], g["rural_mult"],
    )  # fmt: skip
    counts = _generate_kernel(*rate_args, screen_thresholds(*rate_args), seed, day, hits)
    scratch = np.full(n, 255, np.uint8)  # the category of each resident's issue (255: none)
    for b, c_b in enumerate(counts):
        block = hits[b * 65536 : b * 65536 + c_b]
        assert np.all(np.diff(block) > 0)  # in resident order
        scratch[block // 4] = block % 4
    want = np.full(n, 255, np.uint8)
    for i in range(n):
        lam = ref_generate.daily_rates(
            float(hardship[i]),
            vulnerability[i] != 0,
            urban[i],
            SimpleNamespace(**g),
            float(kappa[grid[i]]),
        )
        total = lam[0] + lam[1] + lam[2] + lam[3]
        if total <= 0.0 or uniform_py(seed, S_GENERATE, day, i) >= 1.0 - math.exp(-total):
            continue
        u = uniform_py(seed, S_GEN_CATEGORY, day, i) * total
        c, acc = 0, lam[0]
        while c < 3 and u >= acc:
            c += 1
            acc += lam[c]
        want[i] = c
    np.testing.assert_array_equal(scratch, want)
    assert counts.sum() == np.count_nonzero(want != 255)
    # the screen keeps every draw below T (a · 2⁻¹⁶ < T ⇒ a ≤ screen) and is the least such
    screen = screen_thresholds(*rate_args)
    for i in range(0, n, 97):
        lam = ref_generate.daily_rates(
            float(hardship[i]), vulnerability[i] != 0, urban[i], SimpleNamespace(**g),
            float(kappa[grid[i]]),
        )  # fmt: skip
        t = (lam[0] + lam[1] + lam[2] + lam[3]) * (1.0 + 1e-12) + 1e-15
        a = int(screen[i])
        assert a * 2.0**-16 < t or a == 0
        assert a == 2**16 - 1 or (a + 1) * 2.0**-16 >= t
