"""Benchmark of the teaching page's frame: one model step plus the figures it shows.

``benchmark_step_render()`` builds a :class:`~sim.app.session.Session` (1:100 by
default), warms it up (numba compile or cache load, first full draws), then times
``frames`` frames of what the page does on every step: ``session.step()``, the charts
PNG and the map PNG. It reports wall-clock and CPU (process) time per frame in ms, the
median and the 90th percentile; CPU time is less sensitive to other work on the machine.

``benchmark_browser()`` measures the same frame where the class sees it: it starts
``govsim app`` (1:100) on a free localhost port, opens the page in headless Chromium
(Debian's ``/usr/bin/chromium`` driven by Playwright, as the browser tests do) and, for
each of ``frames`` steps, times in the page itself (``performance.now()``) from the click
on 单步 to the last change the step makes to the page (a DOM change or an image loaded,
once the day label shows the new day and the page has then been quiet for
:data:`QUIET_MS`). That is the server's work, the websocket round trip and the
browser's layout and image decoding together.

Run it with ``python -m sim.app.bench [--frames N] [--scenario FILE] [--ab] [--browser]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

from sim.app.figures import LIVE_FORMAT
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
    fmt: str = LIVE_FORMAT,
) -> dict[str, float]:
    """Time ``frames`` page frames (step + charts + map) and return the statistics (ms).

    ``fmt``: the images' format, the page's (:data:`sim.app.figures.LIVE_FORMAT`) by default.

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
        session.charts_png(lang, fmt=fmt)
        session.maps_png(indicator, lang, fmt)
    draws0 = session.charts.full_draws + sum(r.map.full_draws for r in session.runs)
    step, charts, maps, frame, cpu = [], [], [], [], []
    for _ in range(frames):
        c0 = time.process_time()
        t0 = time.perf_counter()
        session.step()
        t1 = time.perf_counter()
        session.charts_png(lang, fmt=fmt)
        t2 = time.perf_counter()
        session.maps_png(indicator, lang, fmt)
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


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
]  # fmt: skip

# One step as the page shows it, timed in the page: click 单步, wait until the day label
# reads the next day, then until the page has been quiet (no DOM change, no image load)
# for QUIET_MS; the step's time is the last change or image load after the click. A step's
# updates (day, charts, map, table, feed) arrive as separate widget messages, and an image
# whose bytes did not change is not sent again, so "everything changed" cannot be tested.
# The charts and maps are canvases (sim.app.page.LiveImage): each drawn frame changes the
# canvas's data-frame attribute, a DOM change, after the bitmap is on the canvas.
QUIET_MS = 150
_STEP_JS = """
async ([day, quiet]) => {
  // no requestAnimationFrame polling: it would make Chromium draw frames on its own
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const shown = () => document.querySelector('#govsim-day').textContent.replace(/\\D/g, '');
  let last = 0, seen = false;
  const mark = () => { last = performance.now(); if (shown() === String(day)) seen = true; };
  const obs = new MutationObserver(mark);
  obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                              characterData: true});
  const onload = e => { if (e.target.tagName === 'IMG') mark(); };
  document.body.addEventListener('load', onload, true);
  const t0 = performance.now();
  document.querySelector('#govsim-step').click();
  while (!seen || performance.now() - last < quiet) {
    await sleep(25);
    if (performance.now() - t0 > 20000) return -1;
  }
  obs.disconnect();
  document.body.removeEventListener('load', onload, true);
  return last - t0;
}
"""


def _start_app(scenario: str | None, port_timeout: float = 180.0):
    """``govsim app [scenario] --port 0`` as a child process; returns (process, url)."""
    from sim.app.cli import app_command, register

    p = argparse.ArgumentParser()
    register(p.add_subparsers())
    args = p.parse_args(["app", *([scenario] if scenario else []), "--port", "0"])
    cmd, env, url = app_command(args)
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + port_timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"govsim app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            _stop_app(proc)
            raise RuntimeError(f"govsim app did not answer at {url}")
        time.sleep(0.5)


def _stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's process group (start_new_session)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU time (user + system, s) so far of the server's process tree and of this
    process's Chromium processes, from /proc (Linux; (nan, nan) elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, tuple[int, str, float]] = {}  # pid -> (parent, name, cpu s)
    for d in Path("/proc").glob("[0-9]*"):
        try:
            text = (d / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        f = text[text.rindex(")") + 2 :].split()
        stats[int(d.name)] = (int(f[1]), name, (int(f[11]) + int(f[12])) / tick)
    if not stats:
        return float("nan"), float("nan")

    def under(pid: int, root: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = stats.get(pid, (0, "", 0.0))[0]
        return False

    me = os.getpid()
    server = sum(c for p, (_, _, c) in stats.items() if under(p, server_pid))
    chrome = sum(c for p, (_, n, c) in stats.items() if "chrom" in n.lower() and under(p, me))
    return server, chrome


def _time_steps(
    browser, url: str, frames: int, warmup: int, projector: bool, server_pid: int
) -> tuple[list[float], float, float]:
    """Per-step times (ms) and the CPU ms per step of the server and of Chromium."""
    viewport = {"width": 1280, "height": 720} if projector else {"width": 1600, "height": 1000}
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_selector("#govsim-step")
        if projector:
            page.click("#govsim-projector")
            page.wait_for_selector(".govsim-projector")
        times = []
        for day in range(1, warmup + frames + 1):
            if day == warmup + 1:
                cpu0 = _cpu_seconds(server_pid)
            ms = page.evaluate(_STEP_JS, [day, QUIET_MS])
            if ms < 0:
                raise RuntimeError(f"the page did not show day {day} within 20 s")
            if day > warmup:
                times.append(ms)
        cpu1 = _cpu_seconds(server_pid)
        per = [1e3 * (b - a) / frames for a, b in zip(cpu0, cpu1, strict=True)]
        return times, per[0], per[1]
    finally:
        context.close()


def benchmark_browser(
    scenario: str | None = None,
    frames: int = 40,
    warmup: int = 5,
    projector: bool = False,
    browser=None,
) -> dict[str, float]:
    """Time ``frames`` steps of the page in headless Chromium (ms, measured in the page).

    Keys: ``browser_step_ms`` (median wall time, click to the last change),
    ``browser_step_p90_ms``, ``browser_step_min_ms``; the CPU time a step costs
    ``browser_step_cpu_ms`` = ``browser_step_server_cpu_ms`` (the govsim app process
    tree) + ``browser_step_chromium_cpu_ms`` (every Chromium process), per step, which
    bounds the wall time on an idle machine (on a busy one the wall time includes
    waiting for a core: ``load_average_1min``); ``frames``, ``projector``. Needs
    Playwright and ``/usr/bin/chromium``; ``browser``: a Playwright browser to use
    (default: launch one).
    """
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    proc, url = _start_app(scenario)
    try:
        if browser is not None:
            times, server_cpu, chrome_cpu = _time_steps(
                browser, url, frames, warmup, projector, proc.pid
            )
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    times, server_cpu, chrome_cpu = _time_steps(
                        b, url, frames, warmup, projector, proc.pid
                    )
                finally:
                    b.close()
    finally:
        _stop_app(proc)
    return {
        "browser_step_ms": statistics.median(times),
        "browser_step_p90_ms": _quantile(times, 0.9),
        "browser_step_min_ms": min(times),
        "browser_step_server_cpu_ms": server_cpu,
        "browser_step_chromium_cpu_ms": chrome_cpu,
        "browser_step_cpu_ms": server_cpu + chrome_cpu,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        "frames": frames,
        "projector": projector,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="teaching page: step + render time per frame")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--scenario", help="scenario file (default: the built-in baseline, 1:100)")
    p.add_argument("--ab", action="store_true", help="A/B mode (two models, two maps)")
    p.add_argument(
        "--browser", action="store_true",
        help="also time the step in headless Chromium (govsim app on a free local port)",
    )  # fmt: skip
    p.add_argument("--projector", action="store_true", help="with --browser: 投影模式, 1280×720")
    args = p.parse_args(argv)
    sc = load_scenario(args.scenario) if args.scenario else None
    report = benchmark_step_render(sc, frames=args.frames, ab=args.ab)
    if args.browser:
        report |= benchmark_browser(args.scenario, frames=args.frames, projector=args.projector)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
