"""One run: scenario + seed → model → metrics → run folder (manifest, daily, summary, figures)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import sim
from sim.issues import CAT_NEED, RESOLVED
from sim.model import GovernanceModel
from sim.scenario import load_scenario, scenario_hash
from sim.scenario.schema import Scenario
from sim.store import peak_rss_mb, provenance, write_run

COUNTY_INDICATOR = "gain_index"


class CountyTally:
    """Per-county sense of gain from closed issues (the run's issue sink)."""

    def __init__(self, n_counties: int, halflife_days: float) -> None:
        self.gain = np.zeros(n_counties)
        self.closed = np.zeros(n_counties)
        self.halflife = halflife_days

    def __call__(self, rows: dict[str, np.ndarray]) -> None:
        demand = rows["category"] <= CAT_NEED
        c = rows["county"][demand].astype(np.int64)
        res = rows["status"][demand] == RESOLVED
        days = (rows["t_closed"][demand] - rows["t_surfaced"][demand]) / 24.0
        q = np.where(res, 0.5 ** (np.nan_to_num(days, nan=0.0) / self.halflife), 0.0)
        self.gain += np.bincount(c, weights=q, minlength=self.gain.shape[0])
        self.closed += np.bincount(c, minlength=self.closed.shape[0])

    def values(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100.0 * self.gain / self.closed


@dataclass
class RunResult:
    """What one run produced, before it is written anywhere."""

    scenario: Scenario
    seed: int
    run_id: str
    daily: dict[str, np.ndarray]
    summary: dict[str, float]
    county_values: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    residents: int = 0


def run_scenario(
    scenario: Scenario, *, seed: int | None = None, days: int | None = None, progress: bool = False
) -> RunResult:
    """Simulate ``scenario`` and return its metrics (Python API of ``govsim run``).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (``sim.scenario.load_scenario``).
    seed, days : int, optional
        Override the scenario's seed and number of days.
    progress : bool
        Show a progress bar on stderr.
    """
    upd = {}
    if seed is not None:
        upd["seed"] = int(seed)
    if days is not None:
        upd["days"] = int(days)
    if upd:
        scenario = Scenario.model_validate({**scenario.model_dump(), **upd})
    t0 = time.perf_counter()
    model = GovernanceModel(scenario)
    t_build = time.perf_counter() - t0
    city = model.state.city
    tally = CountyTally(city.n_counties, scenario.indices.satisfaction_halflife_days)
    model.issue_sink = tally
    t1 = time.perf_counter()
    if progress:
        from tqdm import tqdm

        with tqdm(total=scenario.days, desc=scenario.name, unit="天/day", file=sys.stderr) as bar:
            model.run(scenario.days, progress=lambda _d: bar.update(1))
    else:
        model.run(scenario.days)
    t_run = time.perf_counter() - t1
    model.state.issues.compact(np.inf, tally)
    vals = tally.values()
    county_values = {
        name: float(v) for name, v in zip(city.county_names_zh, vals, strict=True) if np.isfinite(v)
    }
    return RunResult(
        scenario=scenario,
        seed=scenario.seed,
        run_id=scenario_hash(scenario),
        daily=model.metrics.daily_arrays(),
        summary=model.summary(),
        county_values=county_values,
        timings={"build_s": t_build, "run_s": t_run},
        stage_seconds=dict(model.state.stage_seconds),
        residents=city.n_residents,
    )


def default_out_dir(scenario: Scenario, run_id: str) -> Path:
    """``runs/<scenario>-<hash8>``."""
    return Path("runs") / f"{scenario.name}-{run_id[:8]}"


def write_result(result: RunResult, out_dir: Path, *, force: bool = False, figures: bool = True):
    """Write a run folder for ``result`` (atomically; see ``sim.store.write_run``)."""
    from sim.viz.figures import save_run_figures

    manifest = {
        "run_id": result.run_id,
        "model_version": sim.model_version(),
        "scenario_name": result.scenario.name,
        "seed": result.seed,
        "residents": result.residents,
        "scenario": result.scenario.model_dump(mode="json"),
        "timings": {**result.timings, "peak_rss_mb": peak_rss_mb()},
        "stage_seconds": result.stage_seconds,
        "county_indicator": COUNTY_INDICATOR,
        "county_values": result.county_values,
        "provenance": provenance(),
    }
    fig = (
        (lambda d: save_run_figures(d, result.daily, result.county_values, COUNTY_INDICATOR))
        if figures
        else None
    )
    return write_run(
        out_dir, manifest=manifest, daily=result.daily, summary=result.summary, figures=fig,
        force=force,
    )  # fmt: skip


def run_file(
    path: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    out: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
    figures: bool = True,
) -> tuple[RunResult, Path]:
    """Load, run and write one scenario file; returns the result and the run folder."""
    scenario = load_scenario(path, overrides)
    run_id = scenario_hash(scenario)
    out_dir = Path(out) if out is not None else default_out_dir(scenario, run_id)
    if out_dir.exists() and not force:
        # refuse before spending the run's time (write_run checks again at the end)
        from sim.errors import GovsimError

        raise GovsimError(
            f"{out_dir}: run folder already exists; pass --out ANOTHER_DIR, or --force to "
            "replace it"
        )
    result = run_scenario(scenario, progress=progress)
    return result, write_result(result, out_dir, force=force, figures=figures)
