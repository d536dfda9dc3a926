"""Benchmark of the teaching page's frame: one model step plus the figures it shows.

``benchmark_step_render()`` builds a :class:`~sim.app.session.Session` (1:100 by
default), warms it up (numba compile or cache load, first full draws), then times
``frames`` frames of what the page does on every step: ``session.step()``, the charts
PNG and the map PNG. It reports wall-clock and CPU (process) time per frame in ms, the
median and the 90th percentile; CPU time is less sensitive to other work on the machine.

Run it with ``python -m sim.app.bench [--frames N] [--scenario FILE] [--ab]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from sim.app.session import Session, default_scenario
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario


def _quantile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def benchmark_step_render(
    scenario: Scenario | None = None,
    frames: int = 60,
    warmup: int = 5,
    indicator: str = "unresolved",
    ab: bool = False,
    lang: str = "zh",
) -> dict[str, float]:
    """Time ``frames`` page frames (step + charts + map) and return the statistics (ms).

    Keys: ``step_ms``, ``charts_ms``, ``map_ms``, ``frame_ms`` (medians of wall time),
    ``frame_p90_ms``, ``frame_cpu_ms`` (median CPU time), ``residents``, ``grids``,
    ``frames``, ``full_draws`` (how many frames redrew the static background).
    """
    sc = scenario if scenario is not None else default_scenario()
    session = Session(sc)
    if ab:
        session.set_ab(True)
    for _ in range(warmup):
        session.step()
        session.charts_png(lang)
        session.maps_png(indicator, lang)
    draws0 = session.charts.full_draws + sum(r.map.full_draws for r in session.runs)
    step, charts, maps, frame, cpu = [], [], [], [], []
    for _ in range(frames):
        c0 = time.process_time()
        t0 = time.perf_counter()
        session.step()
        t1 = time.perf_counter()
        session.charts_png(lang)
        t2 = time.perf_counter()
        session.maps_png(indicator, lang)
        t3 = time.perf_counter()
        cpu.append(1e3 * (time.process_time() - c0))
        step.append(1e3 * (t1 - t0))
        charts.append(1e3 * (t2 - t1))
        maps.append(1e3 * (t3 - t2))
        frame.append(1e3 * (t3 - t0))
    city = session.runs[0].model.state.city
    draws = session.charts.full_draws + sum(r.map.full_draws for r in session.runs) - draws0
    return {
        "step_ms": statistics.median(step),
        "charts_ms": statistics.median(charts),
        "map_ms": statistics.median(maps),
        "frame_ms": statistics.median(frame),
        "frame_p90_ms": _quantile(frame, 0.9),
        "frame_cpu_ms": statistics.median(cpu),
        "residents": city.n_residents,
        "grids": city.n_grids,
        "frames": frames,
        "full_draws": draws,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="teaching page: step + render time per frame")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--scenario", help="scenario file (default: the built-in baseline, 1:100)")
    p.add_argument("--ab", action="store_true", help="A/B mode (two models, two maps)")
    args = p.parse_args(argv)
    sc = load_scenario(args.scenario) if args.scenario else None
    print(json.dumps(benchmark_step_render(sc, frames=args.frames, ab=args.ab), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
