"""Docking of the activation rule with Mesa's Epstein civil-violence example.

:func:`run_epstein` re-implements Epstein's Model I world (2002 [1]_: agent rule A, cop
rule C, movement rule M) as Mesa 3.5.1 ships it in
``mesa.examples.advanced.epstein_civil_violence`` [2]_: a
``width × height`` torus, each cell holding a citizen (probability ``citizen_density``), a
cop (``cop_density``) or nobody; in each step every agent, in a fresh random order
(random sequential activation, Mesa's ``shuffle_do``), does

- **citizen**: if in jail (``jail_sentence > 0``), serve one step and do nothing else;
  otherwise look at the cells within vision, count cops ``C`` and active citizens
  ``A`` (herself included), decide with :func:`sim.kernels.activation.is_active`
  (``G − R·P > T`` with ``P = 1 − exp(−k·round(C/A))``, ``G = H·(1 − L)``), then move to a
  random empty cell within vision;
- **cop**: look within vision, arrest a random active citizen (its state becomes
  ARRESTED and its sentence is ``randint(0, J_max)``, both ends included), then move to a
  random empty cell within vision (the list of empty cells is taken before the arrest).

Vision is the Moore (Chebyshev) or von Neumann (Manhattan) ball of radius ``vision``
around the agent, its own cell excluded. Citizens see the others' current state: those
not yet activated this step show last step's state (asynchronous update).

Where Mesa 3.5.1 departs from [1]_, this harness follows Mesa (we dock against Mesa):

- jailed citizens **stay on their cell** (it is not empty to others; they count neither as
  cops nor as actives), whereas [1]_ removes them from the lattice;
- a released citizen keeps the ARRESTED state until its next activation;
- ``round`` in ``P`` (not in [1]_; Mesa's note says it is needed to replicate [1]_);
- Mesa uses ``cop_vision`` for citizens too (``EpsteinAgent.update_neighbors``) and
  ignores ``citizen_vision``; this harness honours both, so dock with equal visions.

Randomness is the counter-based hash of :mod:`sim.rng` (streams
:data:`S_DOCK_SETUP`, :data:`S_DOCK_ORDER`, :data:`S_DOCK_ACT`), not Mesa's ``random``:
the two implementations agree in distribution, not run by run.

References
----------
.. [1] Epstein, J. M. (2002). Modeling civil violence: an agent-based computational
   approach. PNAS 99(suppl 3), 7243–7250. doi:10.1073/pnas.092080199
.. [2] Mesa developers. Mesa 3.5.1, ``mesa/examples/advanced/epstein_civil_violence/``
   (``model.py``, ``agents.py``). https://github.com/projectmesa/mesa
.. [3] Axtell, R., Axelrod, R., Epstein, J. M., & Cohen, M. D. (1996). Aligning
   simulation models: a case study and results. Computational and Mathematical
   Organization Theory 1(2), 123–141. doi:10.1007/BF01299065
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numba import njit
from scipy import stats

from sim.kernels.activation import grievance, is_active
from sim.rng import S_DOCK_ACT, S_DOCK_ORDER, S_DOCK_SETUP, uniform

__all__ = [
    "DockingResult",
    "EpsteinParams",
    "EpsteinRun",
    "dock",
    "neighbourhood_table",
    "run_epstein",
    "run_mesa",
    "summary_statistics",
]


ACTIVE, QUIET, ARRESTED = 1, 2, 3  # Mesa's CitizenState values


@dataclass(frozen=True)
class EpsteinParams:
    """Parameters of Epstein's Model I, named as in Mesa's ``EpsteinScenario``.

    Defaults are Mesa 3.5.1's (with which almost nobody is ever active: do not dock
    there); :meth:`run1` gives Epstein's Run 1 as the issue specifies it.

    Attributes
    ----------
    width, height : int
        Torus size (40 × 40).
    citizen_density, cop_density : float
        Probability that a cell starts with a citizen, with a cop.
    citizen_vision, cop_vision : int
        Vision radius ``v`` (and ``v*`` for cops), in cells.
    legitimacy : float
        ``L``.
    max_jail_term : int
        ``J_max``; sentences are uniform integers in ``[0, J_max]``.
    active_threshold : float
        ``T``.
    arrest_prob_constant : float
        ``k``.
    movement : bool
        Agents move to a random empty cell within vision after acting.
    grid_type : {"Moore", "Von Neumann"}
        Shape of the vision ball (Mesa's ``grid_type``).
    """

    width: int = 40
    height: int = 40
    citizen_density: float = 0.7
    cop_density: float = 0.074
    citizen_vision: int = 7
    cop_vision: int = 7
    legitimacy: float = 0.8
    max_jail_term: int = 1000
    active_threshold: float = 0.1
    arrest_prob_constant: float = 2.3
    movement: bool = True
    grid_type: Literal["Moore", "Von Neumann"] = "Von Neumann"

    @classmethod
    def run1(cls, **changes) -> EpsteinParams:
        """Epstein's Run 1 (Moore vision 1, L = 0.82, cop density 0.04, J_max = 30)."""
        base = cls(
            citizen_vision=1,
            cop_vision=1,
            legitimacy=0.82,
            cop_density=0.04,
            max_jail_term=30,
            grid_type="Moore",
        )
        return replace(base, **changes)

    def validate(self) -> None:
        """Raise ValueError on values the harness cannot run."""
        if self.width < 3 or self.height < 3:
            raise ValueError(f"width and height must be >= 3; got {self.width} × {self.height}")
        if not (0.0 <= self.citizen_density and 0.0 <= self.cop_density):
            raise ValueError("citizen_density and cop_density must be >= 0")
        if self.citizen_density + self.cop_density > 1.0:
            raise ValueError(
                "citizen_density + cop_density must be <= 1; got "
                f"{self.citizen_density + self.cop_density}"
            )
        r_max = (min(self.width, self.height) - 1) // 2
        for name in ("citizen_vision", "cop_vision"):
            v = getattr(self, name)
            if not 1 <= v <= r_max:
                raise ValueError(f"{name} must be in [1, {r_max}] on this torus; got {v}")
        if self.max_jail_term < 0:
            raise ValueError(f"max_jail_term must be >= 0; got {self.max_jail_term}")
        if self.grid_type not in ("Moore", "Von Neumann"):
            raise ValueError(f"grid_type must be 'Moore' or 'Von Neumann'; got {self.grid_type!r}")


@dataclass
class EpsteinRun:
    """Citizen counts by state after each step (index 0 = initial state).

    Attributes
    ----------
    active, quiet, arrested : int64[n_steps + 1]
    n_citizens, n_cops : int
    seconds : float
        Wall time of the run.
    """

    active: np.ndarray
    quiet: np.ndarray
    arrested: np.ndarray
    n_citizens: int
    n_cops: int
    seconds: float = 0.0


def neighbourhood_table(width: int, height: int, radius: int, moore: bool) -> np.ndarray:
    """Cells within ``radius`` of each cell of a torus, the cell itself excluded.

    Parameters
    ----------
    width, height : int
    radius : int
        At most ``(min(width, height) − 1) // 2``, so no cell is reached twice.
    moore : bool
        Chebyshev ball (Moore) if True, Manhattan ball (von Neumann) otherwise — what
        Mesa's ``get_neighborhood(radius)`` returns on ``OrthogonalMooreGrid`` and
        ``OrthogonalVonNeumannGrid``.

    Returns
    -------
    int32[width · height, m]
        Cell ``x · height + y``'s neighbours, one row per cell.
    """
    offs = [
        (dx, dy)
        for dx in range(-radius, radius + 1)
        for dy in range(-radius, radius + 1)
        if (dx, dy) != (0, 0) and (moore or abs(dx) + abs(dy) <= radius)
    ]
    d = np.array(offs, dtype=np.int64)
    x, y = np.divmod(np.arange(width * height, dtype=np.int64), height)
    nx = (x[:, None] + d[None, :, 0]) % width
    ny = (y[:, None] + d[None, :, 1]) % height
    return (nx * height + ny).astype(np.int32)


@njit(cache=True)
def _simulate(
    nbr_cit, nbr_cop, citizen_density, cop_density, legitimacy, max_jail_term, threshold, k,
    movement, seed, n_steps,
):  # fmt: skip
    """Epstein's Model I as in Mesa 3.5.1, random sequential activation (sequential loop)."""
    n_cells = nbr_cit.shape[0]
    occ = np.full(n_cells, -1, dtype=np.int64)
    pos = np.empty(n_cells, dtype=np.int64)
    is_cop = np.zeros(n_cells, dtype=np.bool_)
    n_agents = 0
    for c in range(n_cells):
        u = uniform(seed, S_DOCK_SETUP, 0, c)
        if u < citizen_density:
            cop = False
        elif u < citizen_density + cop_density:
            cop = True
        else:
            continue
        pos[n_agents] = c
        is_cop[n_agents] = cop
        occ[c] = n_agents
        n_agents += 1
    grv = np.zeros(n_agents)
    risk = np.zeros(n_agents)
    state = np.full(n_agents, QUIET, dtype=np.int8)
    jail = np.zeros(n_agents, dtype=np.int64)
    n_citizens = 0
    for a in range(n_agents):
        if not is_cop[a]:
            grv[a] = grievance(uniform(seed, S_DOCK_SETUP, 1, a), legitimacy)
            risk[a] = uniform(seed, S_DOCK_SETUP, 2, a)
            n_citizens += 1
    counts = np.zeros((n_steps + 1, 3), dtype=np.int64)
    counts[0, 1] = n_citizens
    order = np.empty(n_agents, dtype=np.int64)
    m = max(nbr_cit.shape[1], nbr_cop.shape[1])
    empty = np.empty(m, dtype=np.int64)
    cand = np.empty(m, dtype=np.int64)
    for t in range(1, n_steps + 1):
        for j in range(n_agents):
            order[j] = j
        for j in range(n_agents - 1, 0, -1):  # Fisher–Yates
            r = int(uniform(seed, S_DOCK_ORDER, t, j) * (j + 1))
            tmp = order[j]
            order[j] = order[r]
            order[r] = tmp
        for j in range(n_agents):
            a = order[j]
            c0 = pos[a]
            n_empty = 0
            if is_cop[a]:
                n_act = 0
                for q in range(nbr_cop.shape[1]):
                    c = nbr_cop[c0, q]
                    b = occ[c]
                    if b < 0:
                        empty[n_empty] = c
                        n_empty += 1
                    elif not is_cop[b] and state[b] == ACTIVE:
                        cand[n_act] = b
                        n_act += 1
                if n_act > 0:
                    b = cand[int(uniform(seed, S_DOCK_ACT, t, 3 * a + 1) * n_act)]
                    jail[b] = int(uniform(seed, S_DOCK_ACT, t, 3 * a + 2) * (max_jail_term + 1))
                    state[b] = ARRESTED
            else:
                if jail[a] > 0:
                    jail[a] -= 1
                    continue
                cops = 0
                actives = 1  # she counts herself
                for q in range(nbr_cit.shape[1]):
                    c = nbr_cit[c0, q]
                    b = occ[c]
                    if b < 0:
                        empty[n_empty] = c
                        n_empty += 1
                    elif is_cop[b]:
                        cops += 1
                    elif state[b] == ACTIVE:
                        actives += 1
                if is_active(grv[a], risk[a], float(cops), float(actives), k, threshold):
                    state[a] = ACTIVE
                else:
                    state[a] = QUIET
            if movement and n_empty > 0:
                c = empty[int(uniform(seed, S_DOCK_ACT, t, 3 * a) * n_empty)]
                occ[c0] = -1
                occ[c] = a
                pos[a] = c
        for a in range(n_agents):
            if not is_cop[a]:
                counts[t, state[a] - 1] += 1
    return counts, n_citizens, n_agents - n_citizens


def run_epstein(params: EpsteinParams, seed: int, n_steps: int) -> EpsteinRun:
    """Run Epstein's Model I with this package's activation rule (the docking harness).

    Parameters
    ----------
    params : EpsteinParams
    seed : int
        Non-negative; with the same seed the run is identical.
    n_steps : int

    Returns
    -------
    EpsteinRun
        Citizens by state after each step; ``active[0]`` is the initial state (all quiet).

    Notes
    -----
    See the module docstring for the order of actions and the departures (Mesa's) from
    Epstein (2002). The citizen's decision is :func:`sim.kernels.activation.is_active`.
    """
    params.validate()
    if seed < 0 or n_steps < 0:
        raise ValueError(f"seed and n_steps must be >= 0; got {seed}, {n_steps}")
    moore = params.grid_type == "Moore"
    t0 = time.perf_counter()
    counts, n_cit, n_cops = _simulate(
        neighbourhood_table(params.width, params.height, params.citizen_vision, moore),
        neighbourhood_table(params.width, params.height, params.cop_vision, moore),
        float(params.citizen_density), float(params.cop_density), float(params.legitimacy),
        int(params.max_jail_term), float(params.active_threshold),
        float(params.arrest_prob_constant), bool(params.movement), int(seed), int(n_steps),
    )  # fmt: skip
    return EpsteinRun(
        active=counts[:, 0].copy(),
        quiet=counts[:, 1].copy(),
        arrested=counts[:, 2].copy(),
        n_citizens=int(n_cit),
        n_cops=int(n_cops),
        seconds=time.perf_counter() - t0,
    )


def run_mesa(params: EpsteinParams, seed: int, n_steps: int) -> EpsteinRun:
    """Run Mesa's own ``EpsteinCivilViolence`` (the reference) with the same parameters.

    Parameters
    ----------
    params : EpsteinParams
        Passed field by field to Mesa's ``EpsteinScenario`` (``activation_order="Random"``).
    seed : int
        Mesa's ``rng``.
    n_steps : int

    Returns
    -------
    EpsteinRun
        Counts read from the model's ``ACTIVE``, ``QUIET``, ``ARRESTED`` after each step.
    """
    from mesa.examples.advanced.epstein_civil_violence.agents import Citizen, Cop
    from mesa.examples.advanced.epstein_civil_violence.model import (
        EpsteinCivilViolence,
        EpsteinScenario,
    )

    params.validate()
    kw = asdict(params)
    width, height = kw.pop("width"), kw.pop("height")
    t0 = time.perf_counter()
    scenario = EpsteinScenario(rng=seed, activation_order="Random", max_iters=n_steps + 1, **kw)
    model = EpsteinCivilViolence(width=width, height=height, scenario=scenario)
    counts = np.zeros((n_steps + 1, 3), dtype=np.int64)
    counts[0] = (model.ACTIVE, model.QUIET, model.ARRESTED)
    for t in range(1, n_steps + 1):
        model.step()
        counts[t] = (model.ACTIVE, model.QUIET, model.ARRESTED)
    return EpsteinRun(
        active=counts[:, 0].copy(),
        quiet=counts[:, 1].copy(),
        arrested=counts[:, 2].copy(),
        n_citizens=len(model.agents_by_type[Citizen]),
        n_cops=len(model.agents_by_type.get(Cop, [])),
        seconds=time.perf_counter() - t0,
    )


def summary_statistics(run: EpsteinRun, burn_in: int = 0) -> tuple[float, float]:
    """Docking statistics of one run: mean active share and 90th percentile of actives.

    Parameters
    ----------
    run : EpsteinRun
    burn_in : int
        Steps discarded at the start (step 0, the initial state, is always discarded).

    Returns
    -------
    mean_active_share : float
        Mean over steps ``burn_in + 1 .. n_steps`` of active citizens / citizens.
    p90_active : float
        90th percentile (linear interpolation) of the active count over the same steps.
    """
    a = run.active[1 + burn_in :].astype(np.float64)
    return float(a.mean() / run.n_citizens), float(np.percentile(a, 90))


@dataclass
class DockingResult:
    """Per-seed statistics of both implementations and the two-sample tests.

    Attributes
    ----------
    ours, mesa : float64[n_seeds, 2]
        Columns: mean active share, 90th percentile of the active count.
    ks_p, mw_p : float64[2]
        Two-sided Kolmogorov–Smirnov and Mann–Whitney U p-values per statistic.
    rel_diff : float64[2]
        ``|mean(ours) − mean(mesa)| / mean(mesa)`` per statistic.
    seconds_ours : float
        Summed wall time of our runs.
    seconds_mesa : float
        Wall time of Mesa's runs (0 if they were read from a stored reference).
    """

    ours: np.ndarray
    mesa: np.ndarray
    ks_p: np.ndarray
    mw_p: np.ndarray
    rel_diff: np.ndarray
    seconds_ours: float
    seconds_mesa: float


def _mesa_job(args):
    params, seed, n_steps = args
    return run_mesa(params, seed, n_steps)


def mesa_statistics(
    params: EpsteinParams, seeds: list[int], n_steps: int, burn_in: int = 0, n_jobs: int = 1
) -> np.ndarray:
    """:func:`summary_statistics` of :func:`run_mesa` for each seed (float64[n_seeds, 2]);
    ``n_jobs`` processes (1 = in this process)."""
    jobs = [(params, s, n_steps) for s in seeds]
    if n_jobs > 1:
        with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn")) as ex:
            runs = list(ex.map(_mesa_job, jobs))
    else:
        runs = [_mesa_job(j) for j in jobs]
    return np.array([summary_statistics(r, burn_in) for r in runs])


def _reference_key(params: EpsteinParams, n_steps: int, burn_in: int) -> str:
    return json.dumps(
        {"params": asdict(params), "n_steps": n_steps, "burn_in": burn_in},
        sort_keys=True,
    )


def write_mesa_reference(
    path: Path, settings: dict[str, EpsteinParams], seeds: list[int], n_steps: int,
    burn_in: int = 0, n_jobs: int = 1,
) -> dict:  # fmt: skip
    """Run Mesa's model for every setting and seed and store its statistics as JSON.

    The file records the installed Mesa version, the parameters, steps and seeds, so
    :func:`load_mesa_reference` can refuse a file that no longer describes the run asked
    for. Mesa's runs are deterministic given the seed (``Model(rng=seed)``), so a stored
    row equals a fresh run of the same seed exactly; the docking test checks that on a
    few seeds, and docks against the stored rows (Mesa's runs are ~95 % of its time).
    """
    import mesa

    out = {
        "mesa_version": mesa.__version__,
        "command": "python -m sim.validation.docking.epstein --write-reference",
        "seeds": list(seeds),
        "settings": {},
    }
    for name, params in settings.items():
        stats_ = mesa_statistics(params, seeds, n_steps, burn_in, n_jobs)
        out["settings"][name] = {
            "key": _reference_key(params, n_steps, burn_in),
            "rows": stats_.tolist(),
        }
    Path(path).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def load_mesa_reference(
    path: Path, name: str, params: EpsteinParams, seeds: list[int], n_steps: int,
    burn_in: int = 0,
) -> np.ndarray:  # fmt: skip
    """The stored Mesa statistics of setting ``name`` for ``seeds`` (float64[n_seeds, 2]).

    Raises
    ------
    ValueError
        If the file was written by another Mesa version, for other parameters, steps or
        burn-in, or lacks a seed; the message names the file and the command that
        rewrites it.
    """
    import mesa

    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    redo = f"rewrite it with `{data.get('command', 'write_mesa_reference')}`"
    if data.get("mesa_version") != mesa.__version__:
        raise ValueError(
            f"{path}: mesa_version = {data.get('mesa_version')!r}, but Mesa "
            f"{mesa.__version__} is installed; {redo}"
        )
    entry = data.get("settings", {}).get(name)
    if entry is None or entry["key"] != _reference_key(params, n_steps, burn_in):
        raise ValueError(
            f"{path}: settings.{name} does not describe these parameters, {n_steps} steps and "
            f"burn-in {burn_in}; {redo}"
        )
    index = {s: i for i, s in enumerate(data["seeds"])}
    missing = [s for s in seeds if s not in index]
    if missing:
        raise ValueError(f"{path}: seeds {missing} are not stored (it has {data['seeds']}); {redo}")
    rows = np.array(entry["rows"], dtype=np.float64)
    return rows[[index[s] for s in seeds]]


def dock(
    params: EpsteinParams,
    seeds: list[int],
    n_steps: int,
    burn_in: int = 0,
    n_jobs: int = 1,
    mesa: np.ndarray | None = None,
) -> DockingResult:
    """Dock :func:`run_epstein` with :func:`run_mesa` over the same seeds.

    Parameters
    ----------
    params : EpsteinParams
        ``citizen_vision`` must equal ``cop_vision`` (Mesa uses ``cop_vision`` for both).
    seeds : list of int
    n_steps, burn_in : int
        See :func:`summary_statistics`.
    n_jobs : int
        Processes for the Mesa runs (1 = in this process).
    mesa : float64[n_seeds, 2], optional
        Mesa's statistics for ``seeds`` already computed (e.g. :func:`load_mesa_reference`);
        without it Mesa is run here.

    Returns
    -------
    DockingResult
        ``seconds_mesa`` is 0 when ``mesa`` was given.
    """
    if params.citizen_vision != params.cop_vision:
        raise ValueError(
            "Mesa 3.5.1 uses cop_vision for citizens too: dock with citizen_vision == "
            f"cop_vision; got {params.citizen_vision} and {params.cop_vision}"
        )
    ours_runs = [run_epstein(params, s, n_steps) for s in seeds]
    seconds_mesa = 0.0
    if mesa is None:
        t0 = time.perf_counter()
        mesa = mesa_statistics(params, seeds, n_steps, burn_in, n_jobs)
        seconds_mesa = time.perf_counter() - t0
    ours = np.array([summary_statistics(r, burn_in) for r in ours_runs])
    ks_p = np.array([stats.ks_2samp(ours[:, j], mesa[:, j]).pvalue for j in range(2)])
    mw_p = np.array(
        [stats.mannwhitneyu(ours[:, j], mesa[:, j], alternative="two-sided").pvalue for j in (0, 1)]
    )
    rel = np.abs(ours.mean(axis=0) - mesa.mean(axis=0)) / mesa.mean(axis=0)
    return DockingResult(
        ours=ours,
        mesa=mesa,
        ks_p=ks_p,
        mw_p=mw_p,
        rel_diff=rel,
        seconds_ours=sum(r.seconds for r in ours_runs),
        seconds_mesa=seconds_mesa,
    )


# The docking the slow test runs (tests/test_activation.py): Epstein's Run 1 and a lower
# legitimacy (more grievance, more activity), 20 seeds of 200 steps each.
DOCKING_SETTINGS = {
    "run1": EpsteinParams.run1(),
    "legitimacy_0.7": EpsteinParams.run1(legitimacy=0.7),
}
DOCKING_SEEDS = list(range(20))
DOCKING_STEPS = 200
MESA_REFERENCE = Path(__file__).with_name("mesa_reference.json")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="store Mesa's Epstein statistics for the docking test (MESA_REFERENCE)"
    )
    p.add_argument("--write-reference", action="store_true", required=True)
    p.add_argument("--out", type=Path, default=MESA_REFERENCE)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    write_mesa_reference(args.out, DOCKING_SETTINGS, DOCKING_SEEDS, DOCKING_STEPS, n_jobs=args.jobs)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
