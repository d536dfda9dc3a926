"""One run: scenario + seed → model → metrics → run folder (manifest, daily, summary, figures)."""

from __future__ import annotations

import math
import os
import pickle
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher
from tqdm import tqdm

import sim
from sim.errors import GovsimError
from sim.events import EventLog, ParquetSink
from sim.io import atomic_write_bytes
from sim.issues import CAT_NEED, RESOLVED
from sim.kernels.compile import notice_bar, precompile
from sim.model import GovernanceModel, snapshot_key, warmup_scenario
from sim.scenario import load_scenario, scenario_hash
from sim.scenario.schema import Scenario
from sim.store import EVENTS_FILE, peak_rss_mb, provenance, read_run, write_run

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
    reused: bool = False  # read back from an existing run folder, not simulated now
    events_file: Path | None = None  # the event log's Parquet file, if one was written


def cached_kernels() -> list[Dispatcher]:
    """The numba kernels of the loaded ``sim`` modules that numba caches on disk, each
    once (not those inlined into their callers, which are compiled with them)."""
    seen: set[int] = set()
    out = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "sim" or name.startswith("sim.")):
            continue
        for obj in list(vars(module).values()):
            if not isinstance(obj, Dispatcher) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if not isinstance(getattr(obj, "_cache", None), FunctionCache):
                continue
            if obj.targetoptions.get("inline") == "always":  # compiled into its callers
                continue
            out.append(obj)
    return out


def uncompiled_kernels() -> list[Dispatcher]:
    """The model's cached numba kernels that have no usable entry in the on-disk cache.

    On a fresh machine (or after the model's code changed) they are compiled on first use,
    which takes tens of seconds before the first day; afterwards they load from the cache
    (``NUMBA_CACHE_DIR`` or the ``__pycache__`` folders) in a fraction of a second.
    """
    out = []
    for obj in cached_kernels():
        if obj.signatures:
            continue
        try:
            fresh = bool(obj._cache._cache_file._load_index())
        except Exception:  # an unreadable index is recompiled too
            fresh = False
        if not fresh:
            out.append(obj)
    return out


class CompileNotice:
    """Says so while the model's kernels compile, with a progress bar of kernels.

    Use as a context manager around building the model (its warm-up runs every kernel the
    scenario needs). On entering, the kernels of the manifest are compiled in helper
    processes on every core (:func:`sim.kernels.compile.precompile`), with the notice and
    a bar; a watcher thread then looks at the kernels that still have no usable cache
    entry (:func:`uncompiled_kernels`); as soon as one of them is compiled it prints the
    notice (once) and counts it on the bar. When everything loads from the cache it
    prints nothing, even if some kernels this scenario never calls are not cached.
    """

    def __init__(self, file=sys.stderr, poll_s: float = 0.25) -> None:
        self.file = file
        self.poll_s = poll_s
        self.pending = uncompiled_kernels()
        self.shown = False
        self.precompiled = 0  # signatures compiled by the helper processes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None

    def __enter__(self) -> CompileNotice:
        if not self.pending:
            return self
        # first every kernel of the manifest on every core at once (sim.kernels.compile),
        # then what it does not cover on first use, in this process
        self.precompiled = precompile(
            on_start=self._show, on_done=lambda _label: self._bar.update(1)
        )
        self.pending = uncompiled_kernels()
        if self._bar is not None:
            self._bar.total = self.precompiled + len(self.pending)
            self._bar.refresh()
        if self.pending:
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def _show(self, total: int) -> None:
        self.shown = True
        self._bar = notice_bar(total, self.file)

    def _compiled(self) -> int:
        return sum(1 for d in self.pending if d.signatures)

    def _update(self) -> None:
        n = self._compiled()
        if n and not self.shown:
            self._show(len(self.pending))
        if self._bar is not None:
            self._bar.n = self.precompiled + n
            self._bar.refresh()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._update()

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._update()
        if self._bar is not None:
            if self._bar.n < self._bar.total:  # e.g. kernels of levers this scenario leaves off
                self._bar.set_description("编译内核 kernels（其余按需 rest on first use）")
            self._bar.close()


def warmed_up_model(scenario: Scenario, snapshot_dir: str | Path | None = None) -> GovernanceModel:
    """The model of ``scenario`` at day 0, its warm-up done.

    Without ``snapshot_dir``, or for a scenario warmed up under its own levers and
    department slots, the model
    simulates its warm-up. Otherwise the warm-up is shared: the snapshot
    ``<snapshot_dir>/<snapshot_key>.snap`` is forked (:meth:`GovernanceModel.restore`),
    after simulating the warm-up and writing the snapshot atomically if it is missing or
    unreadable. Concurrent workers may both write one; they write the same bytes.
    """
    own = scenario.warmup_levers is None and scenario.warmup_department_slots_per_100k is None
    if snapshot_dir is None or own or scenario.warmup_days <= 0:
        return GovernanceModel(scenario)
    path = Path(snapshot_dir) / f"{snapshot_key(scenario)}.snap"
    if path.is_file():
        try:
            return GovernanceModel.restore(path.read_bytes(), scenario)
        except (EOFError, pickle.UnpicklingError, ValueError, AttributeError):
            pass  # unreadable or from another model version: simulate it again
    data = GovernanceModel(warmup_scenario(scenario)).snapshot()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    return GovernanceModel.restore(data, scenario)


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    days: int | None = None,
    progress: bool = False,
    events_file: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
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
    events_file : path, optional
        Record the event log (:mod:`sim.events`) and write it to this Parquet file as
        the run goes (flushed at each weekly compaction, so memory stays bounded).
    snapshot_dir : path, optional
        For a scenario warmed up under other levers (``warmup_levers``, a comparison's
        shared warm-up): fork the run from the warm-up snapshot kept in this folder,
        simulating and keeping it first if it is not there (:func:`warmed_up_model`).
        The numbers are the same either way.
    """
    upd = {}
    if seed is not None:
        upd["seed"] = int(seed)
    if days is not None:
        upd["days"] = int(days)
    if upd:
        scenario = Scenario.model_validate({**scenario.model_dump(), **upd})
    t0 = time.perf_counter()
    if progress:
        with CompileNotice():
            model = warmed_up_model(scenario, snapshot_dir)
    else:
        model = warmed_up_model(scenario, snapshot_dir)
    t_build = time.perf_counter() - t0
    city = model.state.city
    tally = CountyTally(city.n_counties, scenario.indices.satisfaction_halflife_days)
    model.issue_sink = tally
    if events_file is not None:
        model.events = EventLog(sink=ParquetSink(events_file))
    t1 = time.perf_counter()
    if progress:
        with tqdm(total=scenario.days, desc=scenario.name, unit="天/day", file=sys.stderr) as bar:
            model.run(scenario.days, progress=lambda _d: bar.update(1))
    else:
        model.run(scenario.days)
    if model.events is not None:
        model.events.close()
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
        events_file=None if events_file is None else Path(events_file),
    )


def default_out_dir(scenario: Scenario, run_id: str) -> Path:
    """``runs/<scenario>-<hash8>``."""
    return Path("runs") / f"{scenario.name}-{run_id[:8]}"


def write_result(result: RunResult, out_dir: Path, *, force: bool = False, figures: bool = True):
    """Write a run folder for ``result`` (atomically; see ``sim.store.write_run``)."""
    # lazy: matplotlib only when figures are drawn (experiment workers import sim.run)
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
    events = {EVENTS_FILE: result.events_file} if result.events_file is not None else None
    return write_run(
        out_dir, manifest=manifest, daily=result.daily, summary=result.summary, figures=fig,
        force=force, added_files=events,
    )  # fmt: skip


def run_file(
    path: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    out: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
    figures: bool = True,
    events: bool = False,
) -> tuple[RunResult, Path]:
    """Load, run and write one scenario file; returns the result and the run folder.

    Idempotent: when the run folder already holds this run (same run id: scenario, seed
    and model version), its saved result is returned (``result.reused``) without
    simulating again; ``force=True`` recomputes and replaces it. A folder that holds
    another run, or is incomplete, is an error and is left as it is.

    ``events=True`` also writes the event log, ``events.parquet`` (:mod:`sim.events`; the
    kinds' labels are in its Parquet metadata); a saved run without one is an error
    unless ``force``.
    """
    scenario = load_scenario(path, overrides)
    run_id = scenario_hash(scenario)
    out_dir = Path(out) if out is not None else default_out_dir(scenario, run_id)
    if out_dir.exists() and not force:
        # the run id hashes the scenario, its seed and the model's code: the same id
        # means the same result, so show the saved one instead of simulating it again
        saved = read_result(out_dir, run_id)
        if events and not (out_dir / EVENTS_FILE).is_file():
            raise GovsimError(
                f"{out_dir} holds this run without its event log ({EVENTS_FILE}); pass "
                "--force to recompute it with --events, or --out ANOTHER_DIR"
            )
        return saved, out_dir
    if not events:
        result = run_scenario(scenario, progress=progress)
        return result, write_result(result, out_dir, force=force, figures=figures)
    # written beside the run folder as the run goes, linked into it when it is written
    out_dir.absolute().parent.mkdir(parents=True, exist_ok=True)
    tmp_events = out_dir.absolute().parent / f".{out_dir.name}.events-{os.getpid()}.parquet"
    try:
        result = run_scenario(scenario, progress=progress, events_file=tmp_events)
        return result, write_result(result, out_dir, force=force, figures=figures)
    finally:
        tmp_events.unlink(missing_ok=True)


def read_result(out_dir: Path, run_id: str | None = None) -> RunResult:
    """The :class:`RunResult` saved in a run folder (``reused=True``).

    Raises
    ------
    GovsimError
        The folder is not a complete run folder, or it holds another run than ``run_id``
        (another scenario, seed or model version); nothing is changed.
    """
    try:
        saved = read_run(out_dir)
    except GovsimError as exc:
        raise GovsimError(
            f"{exc} Pass --force to replace {out_dir}, or --out ANOTHER_DIR."
        ) from None
    except Exception as exc:  # e.g. a truncated daily.parquet
        raise GovsimError(
            f"{out_dir}: the run folder cannot be read ({type(exc).__name__}: {exc}); "
            "pass --force to recompute it, or --out ANOTHER_DIR"
        ) from None
    manifest = saved["manifest"]
    if run_id is not None and manifest.get("run_id") != run_id:
        raise GovsimError(
            f"{out_dir}: run folder already exists and holds another run "
            f"(run id {str(manifest.get('run_id'))[:8]}, scenario "
            f"{manifest.get('scenario_name')!r}; this one is {run_id[:8]}: another scenario, "
            "seed or model version); pass --out ANOTHER_DIR, or --force to replace it"
        )
    daily = {
        name: saved["daily"].column(name).to_numpy(zero_copy_only=False)
        for name in saved["daily"].column_names
    }
    summary = {k: (math.nan if v is None else v) for k, v in saved["summary"].items()}
    return RunResult(
        scenario=Scenario.model_validate(manifest["scenario"]),
        seed=int(manifest["seed"]),
        run_id=manifest["run_id"],
        daily=daily,
        summary=summary,
        county_values=dict(manifest.get("county_values") or {}),
        timings=dict(manifest.get("timings") or {}),
        stage_seconds=dict(manifest.get("stage_seconds") or {}),
        residents=int(manifest.get("residents") or 0),
        reused=True,
    )


def kernel_signatures(
    files: list[Path], scale: float = 0.01, days: int = 60
) -> dict[tuple[str, str], dict[str, float]]:
    """The cached kernels and argument types that running each scenario file calls
    (tiny: ``scale``, a 3-day warm-up and ``days`` days, past the monthly stages, and a
    snapshot fork of each for 3 days), as ``{(module, name): {repr(signature): compile
    seconds}}``. The seconds are measured when a kernel compiles here (an empty
    ``NUMBA_CACHE_DIR``), else NaN. Only signatures called from Python count: a kernel
    compiled into its caller's machine code needs no entry of its own."""
    from numba.core import event

    from sim.kernels import compile as kc

    seconds: dict[tuple[str, str], float] = {}
    top: set[tuple[str, str, str]] = set()  # compiled here for a call from Python
    here: set[tuple[str, str]] = set()  # compiled here at all (else loaded from the cache)

    class Timer(event.Listener):
        def __init__(self) -> None:
            self.stack: list[tuple[object, float]] = []

        def on_start(self, ev) -> None:
            d = ev.data["dispatcher"]
            self.stack.append((d, time.perf_counter()))
            here.add((d.py_func.__module__, d.py_func.__name__))
            if len(self.stack) == 1:  # called from Python, not compiled into a caller
                top.add((d.py_func.__module__, d.py_func.__name__, repr(tuple(ev.data["args"]))))

        def on_end(self, ev) -> None:
            d, t0 = self.stack.pop()
            if not self.stack:  # a kernel's own compile, callees included
                key = (d.py_func.__module__, d.py_func.__name__)
                seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - t0

    timer = Timer()
    event.register("numba:compile", timer)
    try:
        with kc.off():  # compile here, one kernel after another, to time each
            for f in files:
                sc = load_scenario(f, [f"scale={scale}", "warmup_days=3", "seed=1"])
                model = warmed_up_model(sc)
                fork = GovernanceModel.restore(model.snapshot(), sc)
                model.run(days)
                fork.run(3)
    finally:
        event.unregister("numba:compile", timer)
    out: dict[tuple[str, str], dict[str, float]] = {}
    for obj in cached_kernels():
        key = (obj.py_func.__module__, obj.py_func.__name__)
        for sig in obj.signatures:
            # a signature compiled here only inside a caller's compile is in the
            # caller's machine code (one loaded from the cache has no such signatures)
            if key in here and (*key, repr(tuple(sig))) not in top:
                continue
            out.setdefault(key, {})[repr(tuple(sig))] = seconds.get(key, math.nan)
    return out


def write_kernel_manifest(
    files: list[Path], path: Path | None = None, scale: float = 0.01, days: int = 60
) -> Path:
    """Write the manifest of :mod:`sim.kernels.compile` from :func:`kernel_signatures`
    (seconds split evenly over a kernel's signatures; a kernel that loaded from the cache
    keeps the seconds of the old manifest, or 1)."""
    import json

    import numba

    from sim.kernels import compile as kc

    path = Path(path) if path is not None else kc.MANIFEST
    old = {(e.module, e.name): e.seconds for e in kc.load_manifest(path)}
    entries = []
    for (module, name), sigs in sorted(kernel_signatures(files, scale, days).items()):
        for sig, s in sorted(sigs.items()):
            sec = s / len(sigs) if math.isfinite(s) else old.get((module, name), 1.0)
            entries.append({"module": module, "name": name, "signature": sig,
                            "seconds": round(sec, 2)})  # fmt: skip
    data = {
        "format": kc.MANIFEST_FORMAT,
        "numba": numba.__version__,
        "written_by": "govsim compile --write-manifest",
        "kernels": entries,
    }
    atomic_write_bytes(path, (json.dumps(data, indent=1) + "\n").encode())
    return path
